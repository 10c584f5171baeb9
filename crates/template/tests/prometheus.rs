//! Prometheus's documented template behaviour: the scenarios of its
//! template tests (template/template_test.go), outputs and error texts as
//! Prometheus produces them. Scenarios that fed Go slices as `.` call the
//! functions on literals instead.

mod common;

use common::{answering, err, labels, ok, render_with, sample};
use template::QueryFn;

fn query_render(text: &str, samples: Vec<template::QuerySample>) -> Result<String, String> {
    let q = answering(samples);
    let q: &dyn QueryFn = &q;
    render_with(text, &labels(&[]), 0.0, Some(q)).map_err(|e| e.expanded().to_string())
}

#[test]
fn plain_and_constants() {
    assert_eq!(ok("plain text"), "plain text");
    assert_eq!(ok("{{ 1 }}"), "1");
    assert_eq!(ok("{{ \"<b>\" }}"), "<b>");
}

#[test]
fn unrecognized_non_ascii_space() {
    assert_eq!(
        err("{{\u{a0}}}"),
        "error parsing template test: template: test:1: unrecognized character in action: U+00A0"
    );
}

#[test]
fn args_and_define() {
    assert_eq!(
        ok("{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}"),
        "1 2"
    );
}

#[test]
fn queries() {
    let m = |inst: &str, v: f64| sample(&[("__name__", "metric"), ("instance", inst)], v);
    assert_eq!(
        query_render(
            "{{ query \"1.5\" | first | value }}",
            vec![sample(&[], 1.5)]
        ),
        Ok("1.5".into())
    );
    assert_eq!(
        query_render(
            "{{ query \"metric{instance='a'}\" | first | value }}",
            vec![m("a", 11.0)]
        ),
        Ok("11".into())
    );
    assert_eq!(
        query_render(
            "{{ query \"metric{instance='a'}\" | first | label \"instance\" }}",
            vec![m("a", 11.0)]
        ),
        Ok("a".into())
    );
    assert_eq!(
        query_render(
            "{{ query \"metric{__value__='a'}\" | first | strvalue }}",
            vec![sample(&[("__name__", "metric"), ("__value__", "a")], 11.0)]
        ),
        Ok("a".into())
    );
    assert_eq!(
        query_render(
            "{{ query \"metric{instance='a'}\" | first | label \"foo\" }}",
            vec![m("a", 11.0)]
        ),
        Ok("".into())
    );
    assert_eq!(
        query_render(
            "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}",
            vec![m("a", 11.0)]
        ),
        Ok("".into())
    );
    assert_eq!(
        query_render(
            "{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: {{end}}",
            vec![m("b", 21.0), m("a", 11.0)]
        ),
        Ok("a:11: b:21: ".into())
    );
    assert_eq!(
        query_render("{{ query \"missing\" | first }}", vec![]),
        Err("error executing template test: template: test:1:21: executing \"test\" at <first>: error calling first: first() called on vector with no elements".into())
    );
    assert_eq!(
        query_render("{{ (query \"missing\").banana }}", vec![]),
        Err("error executing template test: template: test:1:10: executing \"test\" at <\"missing\">: can't evaluate field banana in type template.queryResult".into())
    );
}

#[test]
fn host_functions() {
    let cases = [
        ("{{ \"foo.example.com\" | stripPort }}", "foo.example.com"),
        (
            "{{ \"foo.example.com:12345\" | stripPort }}",
            "foo.example.com",
        ),
        ("{{ \"192.0.2.1\" | stripPort }}", "192.0.2.1"),
        ("{{ \"192.0.2.1:12345\" | stripPort }}", "192.0.2.1"),
        ("{{ \"2001:0DB8::1\" | stripPort }}", "2001:0DB8::1"),
        ("{{ \"[2001:0DB8::1]:12345\" | stripPort }}", "2001:0DB8::1"),
        (
            "{{ \"[2001:0DB8::1]::12345\" | stripPort }}",
            "[2001:0DB8::1]::12345",
        ),
        ("{{ \"foo.example.com\" | stripDomain }}", "foo"),
        ("{{ \"foo.example.com:12345\" | stripDomain }}", "foo:12345"),
        ("{{ \"192.0.2.1\" | stripDomain }}", "192.0.2.1"),
        ("{{ \"192.0.2.1:12345\" | stripDomain }}", "192.0.2.1:12345"),
        ("{{ \"2001:0DB8::1\" | stripDomain }}", "2001:0DB8::1"),
        (
            "{{ \"[2001:0DB8::1]:12345\" | stripDomain }}",
            "[2001:0DB8::1]:12345",
        ),
        (
            "{{ \"[2001:0DB8::1]::12345\" | stripDomain }}",
            "[2001:0DB8::1]::12345",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(ok(text), want, "{text}");
    }
}

#[test]
fn missing_field_of_data() {
    assert_eq!(
        err("{{ .Foo }}"),
        "error executing template test: template: test:1:3: executing \"test\" at <.Foo>: can't evaluate field Foo in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }"
    );
}

#[test]
fn unparsable() {
    assert_eq!(
        err("{{"),
        "error parsing template test: template: test:1: unclosed action"
    );
}

#[test]
fn regex_functions() {
    assert_eq!(ok("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}"), "xa");
    assert_eq!(
        ok("{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}"),
        "true false"
    );
}

#[test]
fn humanize_family() {
    assert_eq!(
        ok("{{ humanize 0.0 }}:{{ humanize 1.0 }}:{{ humanize 1234567.0 }}:{{ humanize .12 }}"),
        "0:1:1.235M:120m"
    );
    assert_eq!(
        ok(
            "{{ humanize \"0.0\" }}:{{ humanize \"1.0\" }}:{{ humanize \"1234567.0\" }}:{{ humanize \".12\" }}"
        ),
        "0:1:1.235M:120m"
    );
    assert_eq!(
        err("{{ humanize \"one\" }}"),
        "error executing template test: template: test:1:3: executing \"test\" at <humanize \"one\">: error calling humanize: strconv.ParseFloat: parsing \"one\": invalid syntax"
    );
    assert_eq!(
        ok(
            "{{ humanize 0 }}:{{ humanize -1 }}:{{ humanize 1 }}:{{ humanize 1234567 }}:{{ humanize 9223372036854775807 }}"
        ),
        "0:-1:1:1.235M:9.223E"
    );
    assert_eq!(
        ok(
            "{{ humanize1024 0.0 }}:{{ humanize1024 1.0 }}:{{ humanize1024 1048576.0 }}:{{ humanize1024 .12 }}"
        ),
        "0:1:1Mi:0.12"
    );
    assert_eq!(
        ok(
            "{{ humanize1024 0 }}:{{ humanize1024 -1 }}:{{ humanize1024 1 }}:{{ humanize1024 1234567 }}:{{ humanize1024 9223372036854775807 }}"
        ),
        "0:-1:1:1.177Mi:8Ei"
    );
    assert_eq!(
        err("{{ humanize1024 \"one\" }}"),
        "error executing template test: template: test:1:3: executing \"test\" at <humanize1024 \"one\">: error calling humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax"
    );
}

#[test]
fn humanize_duration() {
    let floats = [
        0.0,
        1.0,
        60.0,
        3600.0,
        86400.0,
        86400.0 + 3600.0,
        -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
        899.99,
    ];
    let text: String = floats
        .iter()
        .map(|f| format!("{{{{ humanizeDuration {f:?} }}}}:"))
        .collect();
    assert_eq!(
        ok(&text),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"
    );
    assert_eq!(
        ok(
            "{{ humanizeDuration \"0\" }}:{{ humanizeDuration \"1\" }}:{{ humanizeDuration \"60\" }}:{{ humanizeDuration \"3600\" }}:{{ humanizeDuration \"86400\" }}"
        ),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s"
    );
    let sub = [".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"];
    let text: String = sub
        .iter()
        .map(|f| format!("{{{{ humanizeDuration {f} }}}}:"))
        .collect();
    assert_eq!(ok(&text), "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:");
    let text: String = sub
        .iter()
        .map(|f| format!("{{{{ humanizeDuration \"{f}\" }}}}:"))
        .collect();
    assert_eq!(ok(&text), "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:");
    assert_eq!(
        ok(
            "{{ humanizeDuration 0 }}:{{ humanizeDuration -1 }}:{{ humanizeDuration 1 }}:{{ humanizeDuration 1234567 }}"
        ),
        "0s:-1s:1s:14d 6h 56m 7s"
    );
    assert_eq!(
        err("{{ humanizeDuration \"one\" }}"),
        "error executing template test: template: test:1:3: executing \"test\" at <humanizeDuration \"one\">: error calling humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax"
    );
}

#[test]
fn humanize_inf_nan() {
    let row = |v: &str| {
        format!(
            "{{{{ humanize {v} }}}}:{{{{ humanize1024 {v} }}}}:{{{{ humanizeDuration {v} }}}}:{{{{humanizeTimestamp {v}}}}}:"
        )
    };
    let text: String = ["\"+Inf\"", "\"-Inf\"", "\"NaN\""]
        .iter()
        .map(|v| row(v))
        .collect();
    assert_eq!(
        ok(&text),
        "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:"
    );
}

#[test]
fn humanize_percentage() {
    assert_eq!(
        ok(
            "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}"
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        ok(
            "{{ humanizePercentage 0 }}:{{ humanizePercentage -1 }}:{{ humanizePercentage 1 }}:{{ humanizePercentage 1234567 }}:{{ humanizePercentage 9223372036854775807 }}"
        ),
        "0%:-100%:100%:1.235e+08%:9.223e+20%"
    );
    assert_eq!(
        ok(
            r#"{{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}:{{ "0.1234567" | humanizePercentage }}:{{ "1.23456" | humanizePercentage }}"#
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        err(r#"{{ "one" | humanizePercentage }}"#),
        "error executing template test: template: test:1:11: executing \"test\" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax"
    );
}

#[test]
fn humanize_timestamp() {
    assert_eq!(
        ok(
            "{{ humanizeTimestamp 0 }}:{{ humanizeTimestamp -1 }}:{{ humanizeTimestamp 1 }}:{{ humanizeTimestamp 1234567 }}:{{ humanizeTimestamp 9223372036 }}"
        ),
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC"
    );
    assert_eq!(
        err("{{ humanizeTimestamp -9223372036854775808 }}"),
        "error executing template test: template: test:1:3: executing \"test\" at <humanizeTimestamp -9223372036854775808>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64"
    );
    assert_eq!(
        ok("{{ 1435065584.128 | humanizeTimestamp }}"),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(
        ok(r#"{{ "1435065584.128" | humanizeTimestamp }}"#),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
}

#[test]
fn times_and_durations() {
    assert_eq!(
        ok(r#"{{ (1435065584.128 | toTime).Format "2006" }}"#),
        "2015"
    );
    assert_eq!(
        ok(r#"{{ ("1435065584.128" | toTime).Format "2006" }}"#),
        "2015"
    );
    assert_eq!(ok("{{ (1800 | toDuration).String }}"), "30m0s");
    assert_eq!(ok(r#"{{ ("1800" | toDuration).String }}"#), "30m0s");
    assert_eq!(ok("{{ now }}"), "1.353755652e+09");
    assert_eq!(
        ok(r#"{{ (now | toTime).Format "Mon Jan 2 15:04:05 2006" }}"#),
        "Sat Nov 24 11:14:12 2012"
    );
    assert_eq!(
        ok(r#"{{ ("-30m" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}"#),
        "1353753852000"
    );
}

#[test]
fn text_functions() {
    assert_eq!(ok("{{ \"aa bb CC\" | title }}"), "Aa Bb CC");
    assert_eq!(ok("{{ \"aa bb CC\" | toUpper }}"), "AA BB CC");
    assert_eq!(ok("{{ \"aA bB CC\" | toLower }}"), "aa bb cc");
    assert_eq!(ok("{{ graphLink \"up\" }}"), "/graph?g0.expr=up&g0.tab=0");
    assert_eq!(ok("{{ tableLink \"up\" }}"), "/graph?g0.expr=up&g0.tab=1");
    assert_eq!(ok("{{ pathPrefix }}"), "/path/prefix");
    assert_eq!(ok("{{ externalURL }}"), "http://testhost:9090/path/prefix");
    assert_eq!(
        ok("{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}"),
        "3720.01"
    );
    assert_eq!(
        ok("{{ printf \"%0.2f\" (parseDuration \"-1h2m10ms\") }}"),
        "-3720.01"
    );
}

/// The examples of Prometheus's template documentation (template_examples).
#[test]
fn documented_examples() {
    let asked = std::cell::RefCell::new(Vec::new());
    let q = |q: &str| {
        asked.borrow_mut().push(q.to_string());
        Ok(match q {
            "up" => vec![
                sample(&[("__name__", "up"), ("instance", "a:9100")], 1.0),
                sample(&[("__name__", "up"), ("instance", "b:9100")], 0.0),
            ],
            "some_metric{instance='someinstance'}" => vec![sample(&[], 1234.0)],
            q if q.starts_with("node_memory_MemTotal") => vec![sample(&[], 1073741824.0)],
            q if q.starts_with("node_network_receive_bytes") => vec![
                sample(&[("device", "eth1"), ("instance", "h:9100")], 1.0),
                sample(&[("device", "eth0"), ("instance", "h:9100")], 1.0),
            ],
            q if q.starts_with("rate(") => vec![sample(&[], 2048.0)],
            _ => vec![],
        })
    };
    let q: &dyn QueryFn = &q;
    let l = labels(&[("instance", "h:9100")]);
    let r = |t: &str| render_with(t, &l, 0.0, Some(q)).map_err(|e| e.to_string());
    assert_eq!(
        r("{{ range query \"up\" }}\n  {{ .Labels.instance }} {{ .Value }}\n{{ end }}"),
        Ok("\n  a:9100 1\n\n  b:9100 0\n".into())
    );
    assert_eq!(
        r(
            "{{ with query \"some_metric{instance='someinstance'}\" }}\n  {{ . | first | value | humanize }}\n{{ end }}"
        ),
        Ok("\n  1.234k\n".into())
    );
    assert_eq!(
        r("{{ with query \"nothing\" }}{{ . | first | value | humanize }}{{ end }}"),
        Ok("".into())
    );
    assert_eq!(
        r(
            "{{ with printf \"node_memory_MemTotal{job='node',instance='%s'}\" .Labels.instance | query }}{{ . | first | value | humanize1024}}B{{ end }}"
        ),
        Ok("1GiB".into())
    );
    assert_eq!(
        r(
            "{{ range printf \"node_network_receive_bytes{job='node',instance='%s',device!='lo'}\" .Labels.instance | query | sortByLabel \"device\"}}{{ .Labels.device }}: {{ with printf \"rate(node_network_receive_bytes{job='node',instance='%s',device='%s'}[5m])\" .Labels.instance .Labels.device | query }}{{ . | first | value | humanize }}B/s{{end}}; {{ end }}"
        ),
        Ok("eth0: 2.048kB/s; eth1: 2.048kB/s; ".into())
    );
    assert!(
        asked.borrow().contains(
            &"rate(node_network_receive_bytes{job='node',instance='h:9100',device='eth0'}[5m])"
                .to_string()
        )
    );
}
