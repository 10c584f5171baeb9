//! Go `text/template` semantics, feature by feature: text and trimming,
//! variables and scopes, fields, control structures, templates, literals,
//! builtins, printing, and Go's parse and execution errors.

mod common;

use common::{answering, err, labels, ok, render, render_with, sample};
use template::{Data, QueryFn, TemplateError};

fn check(cases: &[(&str, &str)]) {
    for (text, want) in cases {
        assert_eq!(ok(text), *want, "{text:?}");
    }
}

fn check_err(cases: &[(&str, &str)]) {
    for (text, want) in cases {
        match render(text) {
            Ok(s) => panic!("{text:?} rendered {s:?}, expected {want:?}"),
            Err(e) => assert_eq!(e.to_string(), *want, "{text:?}"),
        }
    }
}

#[test]
fn text_trim_and_comments() {
    check(&[
        ("a  {{- 1 -}}  b", "a1b"),
        ("a\n\t {{- \"x\" }} b", "ax b"),
        ("{{/* a comment */}}x", "x"),
        ("a {{- /* c */ -}} b", "ab"),
        ("{{-3}}", "-3"),
        ("{{ 3 -}}\n\n  x", "3x"),
        ("no actions at all", "no actions at all"),
        ("", ""),
    ]);
}

#[test]
fn variables_and_scopes() {
    check(&[
        ("{{ $x := 1 }}{{ $x }}", "1"),
        (
            "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
            "2",
        ),
        (
            "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
            "21",
        ),
        ("{{ with $x := 5 }}{{ $x }}{{ . }}{{ end }}", "55"),
        ("{{ $x := .Labels }}{{ $x.job }}", "node"),
        ("{{ $.Labels.job }}", "node"),
        (
            "{{ $x := 0 }}{{ range $i, $v := .Labels }}{{ $x = $i }}{{ end }}{{ $x }}",
            "severity",
        ),
    ]);
}

#[test]
fn fields_and_maps() {
    check(&[
        ("{{ .Labels.instance }}", "host:9100"),
        ("{{ .Labels.missing }}", ""),
        ("{{ .ExternalLabels.cluster }}", "eu1"),
        ("{{ .ExternalURL }}", "http://testhost:9090/path/prefix"),
        ("{{ .Value }}", "1.5"),
        ("{{ index .Labels \"job\" }}", "node"),
        ("{{ index .Labels \"nope\" }}", ""),
        ("{{ len .Labels }}", "3"),
        (
            "{{ .Labels }}",
            "map[instance:host:9100 job:node severity:critical]",
        ),
        ("{{ (args 1 \"a\").arg1 }}", "a"),
        ("{{ (args 1).arg7 }}", "<no value>"),
        ("{{ args 1 \"a\" }}", "map[arg0:1 arg1:a]"),
    ]);
}

#[test]
fn conditionals() {
    check(&[
        (
            "{{ if eq .Labels.severity \"critical\" }}A{{ else if eq .Labels.severity \"warning\" }}B{{ else }}C{{ end }}",
            "A",
        ),
        (
            "{{ if eq .Labels.job \"x\" }}A{{ else if eq .Labels.job \"node\" }}B{{ else }}C{{ end }}",
            "B",
        ),
        ("{{ if .Labels.missing }}x{{ else }}y{{ end }}", "y"),
        ("{{ if 0 }}a{{ else }}b{{ end }}", "b"),
        ("{{ if 0.0 }}a{{ else }}b{{ end }}", "b"),
        ("{{ if \"\" }}a{{ else }}b{{ end }}", "b"),
        ("{{ if .Labels }}a{{ else }}b{{ end }}", "a"),
        ("{{ if . }}a{{ end }}", "a"),
        ("{{ with .Labels.job }}{{ . }}{{ end }}", "node"),
        (
            "{{ with .Labels.missing }}{{ . }}{{ else }}none{{ end }}",
            "none",
        ),
        (
            "{{ with .Labels.missing }}a{{ else with .Labels.job }}{{ . }}{{ end }}",
            "node",
        ),
        (
            "{{ with $labels := .Labels }}{{ $labels.job }}{{ end }}",
            "node",
        ),
    ]);
}

#[test]
fn ranges() {
    check(&[
        (
            "{{ range $k, $v := .Labels }}{{ $k }}={{ $v }};{{ end }}",
            "instance=host:9100;job=node;severity=critical;",
        ),
        (
            "{{ range .Labels }}{{ . }},{{ end }}",
            "host:9100,node,critical,",
        ),
        (
            "{{ range .ExternalLabels }}{{ . }}{{ else }}empty{{ end }}",
            "eu1",
        ),
        ("{{ range (args) }}x{{ else }}empty{{ end }}", "empty"),
        (
            "{{ range $k, $v := args \"b\" \"a\" }}{{ $k }}{{ $v }}{{ end }}",
            "arg0barg1a",
        ),
        (
            "{{ range $k, $v := .Labels }}{{ if eq $k \"job\" }}{{ break }}{{ end }}{{ $v }};{{ end }}",
            "host:9100;",
        ),
        (
            "{{ range $k, $v := .Labels }}{{ if eq $k \"job\" }}{{ continue }}{{ end }}{{ $v }};{{ end }}",
            "host:9100;critical;",
        ),
        ("{{ range 3 }}{{ . }}{{ end }}", "012"),
        ("{{ range $i := 2 }}{{ $i }}{{ end }}", "01"),
        ("{{ range 0 }}x{{ else }}none{{ end }}", "none"),
        (
            "{{ range $v := .Labels }}{{ $v }}{{ end }}",
            "host:9100nodecritical",
        ),
        (
            "{{ $i := 9 }}{{ $v := 0 }}{{ range $i, $v = .ExternalLabels }}{{ end }}{{ $i }}{{ $v }}",
            "clustereu1",
        ),
    ]);
}

#[test]
fn ranges_over_query_results() {
    let q = answering(vec![
        sample(&[("__name__", "up"), ("job", "b")], 1.0),
        sample(&[("__name__", "up"), ("job", "a")], 0.0),
    ]);
    let q: &dyn QueryFn = &q;
    let r = |t: &str| render_with(t, &labels(&[]), 0.0, Some(q)).map_err(|e| e.to_string());
    assert_eq!(
        r(
            "{{ range $i, $s := query \"up\" }}{{ $i }}:{{ $s.Labels.job }}={{ $s.Value }} {{ end }}"
        ),
        Ok("0:b=1 1:a=0 ".into())
    );
    assert_eq!(r("{{ len (query \"up\") }}"), Ok("2".into()));
    assert_eq!(
        r("{{ (index (query \"up\") 1).Labels.job }}"),
        Ok("a".into())
    );
    assert_eq!(
        r("{{ range slice (query \"up\") 1 }}{{ .Labels.job }}{{ end }}"),
        Ok("a".into())
    );
    assert_eq!(
        r("{{ query \"up\" | first }}"),
        Ok("{map[__name__:up job:b] 1}".into())
    );
    assert_eq!(
        r("{{ printf \"%v\" (query \"up\" | first) }}"),
        Ok("&{map[__name__:up job:b] 1}".into())
    );
    assert_eq!(
        r("{{ with query \"up\" }}{{ . | first | value }}{{ end }}"),
        Ok("1".into())
    );
    assert_eq!(
        r("{{ range query \"up\" | sortByLabel \"job\" }}{{ label \"job\" . }}{{ end }}"),
        Ok("ab".into())
    );
    assert_eq!(
        r("{{ index (query \"up\") 2 }}"),
        Err("template: test:1:3: executing \"test\" at <index (query \"up\") 2>: error calling index: reflect: slice index out of range".into())
    );
}

#[test]
fn query_errors_and_missing_query() {
    let failing =
        |_q: &str| -> Result<Vec<template::QuerySample>, String> { Err("parse error: bad".into()) };
    let failing: &dyn QueryFn = &failing;
    let e = render_with("{{ query \"(\" }}", &labels(&[]), 0.0, Some(failing)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "template: test:1:3: executing \"test\" at <query \"(\">: error calling query: parse error: bad"
    );
    let e = render("{{ query \"up\" }}").unwrap_err();
    assert!(e.to_string().contains("error calling query:"), "{e}");
}

#[test]
fn templates_and_blocks() {
    check(&[
        (
            "{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" .Labels.job }}",
            "[node]",
        ),
        (
            "{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" }}",
            "[<no value>]",
        ),
        ("{{ block \"b\" .Value }}<{{ . }}>{{ end }}", "<1.5>"),
        (
            "{{ define \"t\" }}{{ $ }}{{ end }}{{ $x := 1 }}{{ template \"t\" 2 }}",
            "2",
        ),
        ("{{ define \"test\" }}defined{{ end }}", "defined"),
        ("  {{ define \"test\" }}defined{{ end }}  ", "defined"),
    ]);
    let e = render("{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("exceeded maximum template depth (100)"),
        "{e}"
    );
}

#[test]
fn literals() {
    check(&[
        ("{{ \"a\\tb\\u00e9\\x41\\101\" }}", "a\tbéAA"),
        ("{{ `raw\\n` }}", "raw\\n"),
        ("{{ 0x1F }}", "31"),
        ("{{ 1e3 }}", "1000"),
        ("{{ 1.5e3 }}", "1500"),
        ("{{ 'a' }}", "97"),
        ("{{ '\\n' }}", "10"),
        ("{{ true }} {{ false }}", "true false"),
        ("{{ -2 }}", "-2"),
        ("{{ +2 }}", "2"),
        ("{{ 1_000 }}", "1000"),
        ("{{ 0b101 }} {{ 0o17 }} {{ 017 }}", "5 15 15"),
        ("{{ 1e100 }}", "1e+100"),
        ("{{ 1.0 }}", "1"),
        ("{{ .5 }}", "0.5"),
        ("{{ 0x1p4 }}", "16"),
        ("{{ 1i }}", "(0+1i)"),
        ("{{ 1+2i }}", "(1+2i)"),
    ]);
    check_err(&[
        (
            "{{ nil }}",
            "template: test:1:3: executing \"test\" at <nil>: nil is not a command",
        ),
        (
            "{{ 9223372036854775808 }}",
            "template: test:1:3: executing \"test\" at <9223372036854775808>: 9223372036854775808 overflows int",
        ),
    ]);
}

#[test]
fn comparisons_and_logic() {
    check(&[
        ("{{ eq 1 1 }}", "true"),
        ("{{ eq .Labels.job \"a\" \"node\" }}", "true"),
        ("{{ eq .Labels.job \"a\" \"b\" }}", "false"),
        ("{{ ne 1 2 }}", "true"),
        (
            "{{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge .Value 1.5 }}",
            "true true true true",
        ),
        ("{{ eq .Labels.missing \"\" }}", "true"),
        ("{{ eq .Value 1.5 }}", "true"),
        ("{{ eq (index \"a\" 0) 97 }}", "true"),
        ("{{ lt -1 (index \"a\" 0) }}", "true"),
        ("{{ eq (args).x nil }}", "true"),
        (
            "{{ and 1 0 }} {{ and 1 2 }} {{ or 0 \"\" }}. {{ or 0 3 }} {{ not 0 }} {{ not .Labels }}",
            "0 2 . 3 true false",
        ),
        ("{{ and false (index 1 1) }}", "false"),
        ("{{ or true (index 1 1) }}", "true"),
        ("{{ 5 | and 1 }}", "5"),
        (
            "{{ if and .Labels.job (eq .Labels.severity \"critical\") }}both{{ end }}",
            "both",
        ),
    ]);
    check_err(&[
        (
            "{{ gt .Value 1 }}",
            "template: test:1:3: executing \"test\" at <gt .Value 1>: error calling gt: incompatible types for comparison: float64 and int",
        ),
        (
            "{{ eq .Labels \"x\" }}",
            "template: test:1:3: executing \"test\" at <eq .Labels \"x\">: error calling eq: incompatible types for comparison: map[string]string and string",
        ),
        (
            "{{ lt true false }}",
            "template: test:1:3: executing \"test\" at <lt true false>: error calling lt: invalid type for comparison",
        ),
        (
            "{{ eq 1 }}",
            "template: test:1:3: executing \"test\" at <eq 1>: error calling eq: missing argument for comparison",
        ),
        (
            "{{ eq .Labels .Labels }}",
            "template: test:1:3: executing \"test\" at <eq .Labels .Labels>: error calling eq: non-comparable type map[instance:host:9100 job:node severity:critical]: map[string]string",
        ),
    ]);
}

#[test]
fn len_index_slice() {
    check(&[
        ("{{ len \"héllo\" }}", "6"),
        ("{{ index \"abc\" 1 }}", "98"),
        ("{{ slice \"abcdef\" 1 3 }}", "bc"),
        ("{{ slice \"abc\" 2 }}", "c"),
        ("{{ slice \"abc\" }}", "abc"),
        (
            "{{ index .Labels }}",
            "map[instance:host:9100 job:node severity:critical]",
        ),
    ]);
    check_err(&[
        (
            "{{ index .Labels 1 }}",
            "template: test:1:3: executing \"test\" at <index .Labels 1>: error calling index: value has type int; should be string",
        ),
        (
            "{{ len 3 }}",
            "template: test:1:3: executing \"test\" at <len 3>: error calling len: len of type int",
        ),
        (
            "{{ slice \"abc\" 2 1 }}",
            "template: test:1:3: executing \"test\" at <slice \"abc\" 2 1>: error calling slice: invalid slice index: 2 > 1",
        ),
        (
            "{{ index \"abc\" 5 }}",
            "template: test:1:3: executing \"test\" at <index \"abc\" 5>: error calling index: index out of range: 5",
        ),
        (
            "{{ index 1 1 }}",
            "template: test:1:3: executing \"test\" at <index 1 1>: error calling index: can't index item of type int",
        ),
    ]);
}

#[test]
fn printing_and_escaping() {
    check(&[
        ("{{ print 1 2 \"a\" \"b\" 3 }}", "1 2ab3"),
        ("{{ print \"a\" 1 2 }}", "a1 2"),
        ("{{ println 1 \"a\" }}", "1 a\n"),
        ("{{ printf \"%d-%s\" 3 \"x\" }}", "3-x"),
        ("{{ .Labels.job | printf \"%s!\" }}", "node!"),
        ("{{ \"x\" | printf \"%s-%s\" \"y\" }}", "y-x"),
        ("{{ 1.5 | printf \"%.2f\" }}", "1.50"),
        (
            "{{ html \"<a href='x'>&\\\"\" }}",
            "&lt;a href=&#39;x&#39;&gt;&amp;&#34;",
        ),
        ("{{ js \"it's <b>=\" }}", "it\\'s \\u003Cb\\u003E\\u003D"),
        ("{{ urlquery \"a b&c\" }}", "a+b%26c"),
        ("{{ \"a b\" | urlquery }}", "a+b"),
        ("{{ html 1 \"x\" 2 }}", "1x2"),
        ("{{ urlQueryEscape \"x=1 y\" }}", "x%3D1+y"),
        ("{{ safeHtml \"<b>\" }}", "<b>"),
        ("{{ .Labels.job | }}", "node"),
        (
            "{{ . }}",
            "{map[instance:host:9100 job:node severity:critical] map[cluster:eu1] http://testhost:9090/path/prefix 1.5}",
        ),
    ]);
}

#[test]
fn value_printing_like_go() {
    let r = |v: f64| render_with("{{ .Value }}", &labels(&[]), v, None).unwrap_or_default();
    assert_eq!(r(1234567.0), "1.234567e+06");
    assert_eq!(r(123456.0), "123456");
    assert_eq!(r(0.1), "0.1");
    assert_eq!(r(100.0), "100");
    assert_eq!(r(1e21), "1e+21");
    assert_eq!(r(0.00001), "1e-05");
    assert_eq!(r(f64::NAN), "NaN");
    assert_eq!(r(f64::INFINITY), "+Inf");
    assert_eq!(r(f64::NEG_INFINITY), "-Inf");
    assert_eq!(r(-0.0), "-0");
    assert_eq!(r(0.30000000000000004), "0.30000000000000004");
}

#[test]
fn parse_errors() {
    check_err(&[
        (
            "{{ foo }}",
            "template: test:1: function \"foo\" not defined",
        ),
        ("{{ if true }}", "template: test:1: unexpected EOF"),
        ("{{ end }}", "template: test:1: unexpected {{end}}"),
        ("{{ else }}", "template: test:1: unexpected {{else}}"),
        ("{{ $y }}", "template: test:1: undefined variable \"$y\""),
        (
            "{{ range $a, $b, $c := . }}{{ end }}",
            "template: test:1: too many declarations in range",
        ),
        (
            "{{ $x, $y := 1 }}",
            "template: test:1: too many declarations in command",
        ),
        (
            "{{ 1 | 2 }}",
            "template: test:1: non executable command in pipeline stage 2",
        ),
        ("{{ ( }}", "template: test:1: unclosed left paren"),
        (
            "{{ \"abc }}",
            "template: test:1: unterminated quoted string",
        ),
        (
            "{{ if }}{{ end }}",
            "template: test:1: missing value for if",
        ),
        (
            "{{ true.x }}",
            "template: test:1: unexpected . after term \"true\"",
        ),
        (
            "{{ break }}",
            "template: test:1: {{break}} outside {{range}}",
        ),
        (
            "{{ range . }}{{ continue 1 }}{{ end }}",
            "template: test:1: unexpected \"1\" in {{continue}}",
        ),
        (
            "{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
            "template: test:1: template: multiple definition of template \"a\"",
        ),
        (
            "line1\nline2 {{ foo }}",
            "template: test:2: function \"foo\" not defined",
        ),
        (
            "{{ if true }}\n{{ else }}\n{{ else }}{{ end }}",
            "template: test:3: expected end; found {{else}}",
        ),
        ("{{ 3k }}", "template: test:1: bad number syntax: \"3k\""),
        ("{{ \"\\q\" }}", "template: test:1: invalid syntax"),
        (
            "{{ 1\n\n",
            "template: test:3: unclosed action started at test:1",
        ),
        (
            "{{ define \"x\" }}{{ if }}",
            "template: test:1: missing value for if",
        ),
        (
            "{{ template }}",
            "template: test:1: unexpected \"}}\" in template clause",
        ),
        (
            "{{ with 1 }}{{ else if 2 }}{{ end }}",
            "template: test:1: unexpected <if> in input",
        ),
    ]);
    let e = render("a\n{{ foo }}").unwrap_err();
    assert!(
        matches!(
            e,
            TemplateError::Parse {
                line: 2,
                col: 3,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn exec_errors_name_the_node_and_position() {
    check_err(&[
        (
            "{{ .Value | toUpper }}",
            "template: test:1:12: executing \"test\" at <toUpper>: wrong type for value; expected string; got float64",
        ),
        (
            "{{ toUpper .Value }}",
            "template: test:1:11: executing \"test\" at <.Value>: wrong type for value; expected string; got float64",
        ),
        (
            "{{ toUpper 1 }}",
            "template: test:1:11: executing \"test\" at <1>: expected string; found 1",
        ),
        (
            "{{ humanize }}",
            "template: test:1:3: executing \"test\" at <humanize>: wrong number of args for humanize: want 1 got 0",
        ),
        (
            "{{ .Labels.job 1 }}",
            "template: test:1:10: executing \"test\" at <.Labels.job>: job is not a method but has arguments",
        ),
        (
            "{{ template \"x\" }}",
            "template: test:1:12: executing \"test\" at <{{template \"x\"}}>: template \"x\" not defined",
        ),
        (
            "{{define \"d\"}}{{ .Foo }}{{end}}{{template \"d\" .Labels}}{{template \"d\" .}}",
            "template: test:1:17: executing \"d\" at <.Foo>: can't evaluate field Foo in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }",
        ),
        (
            "x\n  {{ 1 2 }}",
            "template: test:2:5: executing \"test\" at <1>: can't give argument to non-function 1",
        ),
        (
            "{{ safeHtml \"x\" | toUpper }}",
            "template: test:1:18: executing \"test\" at <toUpper>: wrong type for value; expected string; got template.HTML",
        ),
        (
            "{{ range \"abc\" }}{{ end }}",
            "template: test:1:9: executing \"test\" at <\"abc\">: range can't iterate over abc",
        ),
        (
            "{{ $x := 1 }}{{ $x.y }}",
            "template: test:1:18: executing \"test\" at <$x.y>: can't evaluate field y in type int",
        ),
        (
            "{{ call .Labels }}",
            "template: test:1:3: executing \"test\" at <call .Labels>: error calling call: non-function .Labels of type map[string]string",
        ),
        (
            "{{ reReplaceAll \"(\" \"\" \"\" }}",
            "template: test:1:3: executing \"test\" at <reReplaceAll \"(\" \"\" \"\">: error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`",
        ),
    ]);
}

#[test]
fn alert_expansion() {
    let l = labels(&[("instance", "host:9100"), ("job", "node")]);
    let ext = labels(&[("cluster", "eu1")]);
    let data = Data {
        labels: &l,
        external_labels: &ext,
        external_url: "http://prom:9090/p",
        value: 0.25,
        query: None,
    };
    let out = template::expand_alert_template_at(
        "HighLoad",
        "{{ $value }} {{ $labels.job }} {{ $externalLabels.cluster }} {{ $externalURL }} {{ .Labels.instance }}",
        &data,
        common::NOW_MS,
    );
    assert_eq!(out, Ok("0.25 node eu1 http://prom:9090/p host:9100".into()));
    let e =
        template::expand_alert_template_at("X", "{{ $value | toUpper }}", &data, 0).unwrap_err();
    let col = template::ALERT_TEMPLATE_PREFIX.len() + 12;
    let want = format!(
        "error executing template __alert_X: template: __alert_X:1:{col}: executing \"__alert_X\" at <toUpper>: wrong type for value; expected string; got float64"
    );
    assert_eq!(e.to_string(), want);
    assert_eq!(
        e.annotation(),
        format!("<error expanding template: {want}>")
    );
    assert_eq!(
        template::expand_for_alert("X", "{{ foo }}", &data, 0),
        "<error expanding template: error parsing template __alert_X: template: __alert_X:1: function \"foo\" not defined>"
    );
    let parsed =
        template::parse_alert_template("X", "{{ $labels.job }}").map(|t| t.name().to_string());
    assert_eq!(parsed, Ok("__alert_X".into()));
}

#[test]
fn error_wrapping() {
    assert_eq!(
        err("{{ foo }}"),
        "error parsing template test: template: test:1: function \"foo\" not defined"
    );
}
