//! Relabelling behaviour, case by case: the scenarios Prometheus's own tests
//! check (inputs and expected outputs), plus edge cases of expansion, empty
//! values, labelmap ordering and UTF-8.

use model::{Labels, PromRegex};
use relabel::{Action, NameValidationScheme, RelabelConfig, process};

/// A rule under construction; unset fields keep Prometheus's defaults.
struct R(RelabelConfig);

fn rule(action: Action) -> R {
    R(RelabelConfig::new(action))
}

impl R {
    fn src(mut self, names: &[&str]) -> Self {
        self.0.source_labels = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }
    fn regex(mut self, re: &str) -> Self {
        self.0.regex = Some(PromRegex::new(re).expect("test regex compiles"));
        self
    }
    fn target(mut self, t: &str) -> Self {
        self.0.target_label = t.to_string();
        self
    }
    fn repl(mut self, r: &str) -> Self {
        self.0.replacement = r.to_string();
        self
    }
    fn sep(mut self, s: &str) -> Self {
        self.0.separator = s.to_string();
        self
    }
    fn modulus(mut self, m: u64) -> Self {
        self.0.modulus = m;
        self
    }
    fn legacy(mut self) -> Self {
        self.0.name_validation_scheme = Some(NameValidationScheme::Legacy);
        self
    }
}

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

struct Case {
    name: &'static str,
    input: Labels,
    rules: Vec<R>,
    /// None: the rules drop the set.
    want: Option<Labels>,
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let mut rules: Vec<RelabelConfig> = c.rules.into_iter().map(|r| r.0).collect();
        for r in &mut rules {
            r.validate(NameValidationScheme::Utf8)
                .unwrap_or_else(|e| panic!("{}: rule must be valid: {e}", c.name));
        }
        let got = process(&c.input, &rules);
        assert_eq!(got, c.want, "case {:?}", c.name);
    }
}

#[test]
fn replace() {
    use Action::Replace;
    let abc = || ls(&[("a", "foo"), ("b", "bar"), ("c", "baz")]);
    run(vec![
        Case {
            name: "braced group references",
            input: abc(),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("f(.*)")
                    .target("d")
                    .repl("ch${1}-ch${1}"),
            ],
            want: Some(ls(&[
                ("a", "foo"),
                ("b", "bar"),
                ("c", "baz"),
                ("d", "choo-choo"),
            ])),
        },
        Case {
            name: "two source labels, chained rules see earlier results",
            input: abc(),
            rules: vec![
                rule(Replace)
                    .src(&["a", "b"])
                    .regex("f(.*);(.*)r")
                    .target("a")
                    .repl("b${1}${2}m"),
                rule(Replace)
                    .src(&["c", "a"])
                    .regex("(b).*b(.*)ba(.*)")
                    .target("d")
                    .repl("$1$2$2$3"),
            ],
            want: Some(ls(&[
                ("a", "boobam"),
                ("b", "bar"),
                ("c", "baz"),
                ("d", "boooom"),
            ])),
        },
        Case {
            name: "group inside an anchored regex",
            input: ls(&[("a", "abc")]),
            rules: vec![rule(Replace).src(&["a"]).regex(".*(b).*").target("d")],
            want: Some(ls(&[("a", "abc"), ("d", "b")])),
        },
        Case {
            name: "no match leaves labels unchanged",
            input: ls(&[("a", "boo")]),
            rules: vec![rule(Replace).src(&["a"]).regex("f").target("b").repl("bar")],
            want: Some(ls(&[("a", "boo")])),
        },
        Case {
            name: "empty result deletes the (templated) target",
            input: ls(&[("a", "foo"), ("f", "baz")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("(f).*")
                    .target("$1")
                    .repl("$2"),
            ],
            want: Some(ls(&[("a", "foo")])),
        },
        Case {
            name: "templated target and replacement",
            input: ls(&[("a", "some-name-value")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("some-([^-]+)-([^,]+)")
                    .target("${1}")
                    .repl("${2}"),
            ],
            want: Some(ls(&[("a", "some-name-value"), ("name", "value")])),
        },
        Case {
            name: "missing group in replacement deletes the target (absent here)",
            input: ls(&[("a", "some-name-value")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("some-([^-]+)-([^,]+)")
                    .target("${1}")
                    .repl("${3}"),
            ],
            want: Some(ls(&[("a", "some-name-value")])),
        },
        Case {
            name: "target expanding to empty is skipped",
            input: ls(&[("a", "some-name-0")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("some-([^-]+)-([^,]+)")
                    .target("${3}")
                    .repl("${1}"),
                rule(Replace)
                    .src(&["a"])
                    .regex("some-([^-]+)(-[^,]+)")
                    .target("${3}")
                    .repl("${1}"),
            ],
            want: Some(ls(&[("a", "some-name-0")])),
        },
        Case {
            name: "service discovery tags",
            input: ls(&[("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar")]),
            rules: vec![
                rule(Replace)
                    .src(&["__meta_sd_tags"])
                    .regex("(?:.+,|^)path:(/[^,]+).*")
                    .target("__metrics_path__")
                    .repl("${1}"),
                rule(Replace)
                    .src(&["__meta_sd_tags"])
                    .regex("(?:.+,|^)job:([^,]+).*")
                    .target("job")
                    .repl("${1}"),
                rule(Replace)
                    .src(&["__meta_sd_tags"])
                    .regex("(?:.+,|^)label:([^=]+)=([^,]+).*")
                    .target("${1}")
                    .repl("${2}"),
            ],
            want: Some(ls(&[
                ("__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"),
                ("__metrics_path__", "/secret"),
                ("job", "some-job"),
                ("foo", "bar"),
            ])),
        },
        Case {
            name: "dot matches newline",
            input: ls(&[("a", "line1\nline2"), ("b", "bar")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("line1.*line2")
                    .target("d")
                    .repl("match${1}"),
            ],
            want: Some(ls(&[("a", "line1\nline2"), ("b", "bar"), ("d", "match")])),
        },
        Case {
            name: "UTF-8 source and target names",
            input: ls(&[("utf-8.label", "line1\nline2")]),
            rules: vec![
                rule(Replace)
                    .src(&["utf-8.label"])
                    .regex("line1.*line2")
                    .target("d")
                    .repl("match${1}"),
                rule(Replace)
                    .src(&["utf-8.label"])
                    .regex("line1.*line2")
                    .target("utf-8.other${1}")
                    .repl("m"),
            ],
            want: Some(ls(&[
                ("utf-8.label", "line1\nline2"),
                ("d", "match"),
                ("utf-8.other", "m"),
            ])),
        },
        Case {
            name: "numbered and named groups, braced and bare",
            input: ls(&[("a", "line1\nline2")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("(line1).*(?<second>line2)")
                    .target("label1_${1}")
                    .repl("val_${second}"),
                rule(Replace)
                    .src(&["a"])
                    .regex("(line1).*(?P<second>line2)")
                    .target("label2_$1")
                    .repl("val_$second"),
            ],
            want: Some(ls(&[
                ("a", "line1\nline2"),
                ("label1_line1", "val_line2"),
                ("label2_line1", "val_line2"),
            ])),
        },
        Case {
            name: "type and unit metadata labels",
            input: ls(&[("__name__", "http_requests_total")]),
            rules: vec![
                rule(Replace)
                    .src(&["__name__"])
                    .regex(".*_total$")
                    .target("__type__")
                    .repl("counter"),
            ],
            want: Some(ls(&[
                ("__name__", "http_requests_total"),
                ("__type__", "counter"),
            ])),
        },
    ]);
}

#[test]
fn replace_defaults_and_empty_values() {
    use Action::Replace;
    run(vec![
        Case {
            name: "static label without source labels",
            input: ls(&[("job", "x")]),
            rules: vec![rule(Replace).target("cluster").repl("spoke-1")],
            want: Some(ls(&[("cluster", "spoke-1"), ("job", "x")])),
        },
        Case {
            name: "default replacement copies the source value",
            input: ls(&[("a", "v")]),
            rules: vec![rule(Replace).src(&["a"]).target("b")],
            want: Some(ls(&[("a", "v"), ("b", "v")])),
        },
        Case {
            name: "absent source copies empty, deleting the target",
            input: ls(&[("b", "old")]),
            rules: vec![rule(Replace).src(&["missing"]).target("b")],
            want: Some(ls(&[])),
        },
        Case {
            name: "empty replacement deletes",
            input: ls(&[("a", "v"), ("b", "old")]),
            rules: vec![rule(Replace).target("b").repl("")],
            want: Some(ls(&[("a", "v")])),
        },
        Case {
            name: "separator joins absent values too",
            input: ls(&[("a", "x"), ("c", "z")]),
            rules: vec![rule(Replace).src(&["a", "b", "c"]).sep("|").target("j")],
            want: Some(ls(&[("a", "x"), ("c", "z"), ("j", "x||z")])),
        },
        Case {
            name: "$$ is a literal dollar and $1x names a missing group",
            input: ls(&[("a", "v")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("(v)")
                    .target("d")
                    .repl("$$1-$1x-${1}x"),
            ],
            want: Some(ls(&[("a", "v"), ("d", "$1--vx")])),
        },
        Case {
            name: "${0} is the whole match",
            input: ls(&[("a", "abc")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("a(b)c")
                    .target("d")
                    .repl("<${0}>"),
            ],
            want: Some(ls(&[("a", "abc"), ("d", "<abc>")])),
        },
        Case {
            name: "templated target invalid under legacy is skipped at run time",
            input: ls(&[("a", "x-y")]),
            rules: vec![
                rule(Replace)
                    .src(&["a"])
                    .regex("(.*)")
                    .target("${1}")
                    .repl("v")
                    .legacy(),
            ],
            want: Some(ls(&[("a", "x-y")])),
        },
        Case {
            name: "empty regex matches only the empty string",
            input: ls(&[("a", "v")]),
            rules: vec![
                rule(Replace).src(&["a"]).regex("").target("b").repl("no"),
                rule(Replace).src(&["zz"]).regex("").target("c").repl("yes"),
            ],
            want: Some(ls(&[("a", "v"), ("c", "yes")])),
        },
    ]);
}

#[test]
fn keep_and_drop() {
    use Action::{Drop, Keep, Replace};
    run(vec![
        Case {
            name: "drop on match stops the chain",
            input: ls(&[("a", "foo")]),
            rules: vec![
                rule(Drop).src(&["a"]).regex(".*o.*"),
                rule(Replace)
                    .src(&["a"])
                    .regex("f(.*)")
                    .target("d")
                    .repl("ch$1-ch$1"),
            ],
            want: None,
        },
        Case {
            name: "drop without match keeps",
            input: ls(&[("a", "foo")]),
            rules: vec![rule(Drop).src(&["a"]).regex("no-match")],
            want: Some(ls(&[("a", "foo")])),
        },
        Case {
            name: "regex is anchored: f|o does not match foo",
            input: ls(&[("a", "foo")]),
            rules: vec![rule(Drop).src(&["a"]).regex("f|o")],
            want: Some(ls(&[("a", "foo")])),
        },
        Case {
            name: "keep without match drops",
            input: ls(&[("a", "foo")]),
            rules: vec![rule(Keep).src(&["a"]).regex("no-match")],
            want: None,
        },
        Case {
            name: "keep with match keeps",
            input: ls(&[("a", "foo")]),
            rules: vec![rule(Keep).src(&["a"]).regex("f.*")],
            want: Some(ls(&[("a", "foo")])),
        },
        Case {
            name: "drop with the default regex drops everything",
            input: ls(&[("a", "foo")]),
            rules: vec![rule(Drop)],
            want: None,
        },
        Case {
            name: "keep on an absent label matches the empty string",
            input: ls(&[("a", "foo")]),
            rules: vec![rule(Keep).src(&["b"]).regex("")],
            want: Some(ls(&[("a", "foo")])),
        },
        Case {
            name: "issue 12283: labeldrop then replace then keep",
            input: ls(&[
                ("__meta_kubernetes_pod_container_port_name", "foo"),
                ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
            ]),
            rules: vec![
                rule(Action::LabelDrop).regex("^__meta_kubernetes_pod_container_port_name$"),
                rule(Replace)
                    .src(&["__meta_kubernetes_pod_annotation_XXX_metrics_port"])
                    .regex("(.+)")
                    .repl("metrics")
                    .target("__meta_kubernetes_pod_container_port_name"),
                rule(Keep)
                    .src(&["__meta_kubernetes_pod_container_port_name"])
                    .regex("^metrics$"),
            ],
            want: Some(ls(&[
                ("__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"),
                ("__meta_kubernetes_pod_container_port_name", "metrics"),
            ])),
        },
    ]);
}

#[test]
fn keepequal_and_dropequal() {
    use Action::{DropEqual, KeepEqual};
    let ports = || {
        ls(&[
            ("__tmp_port", "1234"),
            ("__port1", "1234"),
            ("__port2", "5678"),
        ])
    };
    run(vec![
        Case {
            name: "keepequal equal",
            input: ports(),
            rules: vec![rule(KeepEqual).src(&["__tmp_port"]).target("__port1")],
            want: Some(ports()),
        },
        Case {
            name: "dropequal equal",
            input: ports(),
            rules: vec![rule(DropEqual).src(&["__tmp_port"]).target("__port1")],
            want: None,
        },
        Case {
            name: "dropequal differ",
            input: ports(),
            rules: vec![rule(DropEqual).src(&["__tmp_port"]).target("__port2")],
            want: Some(ports()),
        },
        Case {
            name: "keepequal differ",
            input: ports(),
            rules: vec![rule(KeepEqual).src(&["__tmp_port"]).target("__port2")],
            want: None,
        },
        Case {
            name: "absent target equals absent source",
            input: ports(),
            rules: vec![rule(KeepEqual).src(&["nope"]).target("also_nope")],
            want: Some(ports()),
        },
    ]);
}

#[test]
fn hashmod_values_match_prometheus() {
    use Action::HashMod;
    run(vec![
        Case {
            name: "baz mod 1000",
            input: ls(&[("a", "foo"), ("b", "bar"), ("c", "baz")]),
            rules: vec![rule(HashMod).src(&["c"]).target("d").modulus(1000)],
            want: Some(ls(&[
                ("a", "foo"),
                ("b", "bar"),
                ("c", "baz"),
                ("d", "976"),
            ])),
        },
        Case {
            name: "value with a newline",
            input: ls(&[("a", "foo\nbar")]),
            rules: vec![rule(HashMod).src(&["a"]).target("b").modulus(1000)],
            want: Some(ls(&[("a", "foo\nbar"), ("b", "734")])),
        },
    ]);
}

#[test]
fn labelmap() {
    use Action::{LabelMap, Replace};
    run(vec![
        Case {
            name: "prefix copies",
            input: ls(&[("a", "foo"), ("b1", "bar"), ("b2", "baz")]),
            rules: vec![rule(LabelMap).regex("(b.*)").repl("bar_${1}")],
            want: Some(ls(&[
                ("a", "foo"),
                ("b1", "bar"),
                ("b2", "baz"),
                ("bar_b1", "bar"),
                ("bar_b2", "baz"),
            ])),
        },
        Case {
            name: "meta labels",
            input: ls(&[
                ("a", "foo"),
                ("__meta_my_bar", "aaa"),
                ("__meta_my_baz", "bbb"),
                ("__meta_other", "ccc"),
            ]),
            rules: vec![rule(LabelMap).regex("__meta_(my.*)").repl("${1}")],
            want: Some(ls(&[
                ("a", "foo"),
                ("__meta_my_bar", "aaa"),
                ("__meta_my_baz", "bbb"),
                ("__meta_other", "ccc"),
                ("my_bar", "aaa"),
                ("my_baz", "bbb"),
            ])),
        },
        Case {
            name: "copies are not mapped again",
            input: ls(&[("x", "1")]),
            rules: vec![rule(LabelMap).regex("(x+)").repl("${1}x")],
            want: Some(ls(&[("x", "1"), ("xx", "1")])),
        },
        Case {
            name: "collision: untouched labels in name order, then rule-set labels in set order",
            // a_x was rewritten by a rule, so Prometheus enumerates it after b_x: its value wins.
            input: ls(&[("a_x", "base-a"), ("b_x", "base-b")]),
            rules: vec![
                rule(Replace).target("a_x").repl("new-a"),
                rule(LabelMap).regex("[ab]_(x)").repl("$1"),
            ],
            want: Some(ls(&[("a_x", "new-a"), ("b_x", "base-b"), ("x", "new-a")])),
        },
        Case {
            name: "collision among untouched labels: the last name wins",
            input: ls(&[("a_x", "base-a"), ("b_x", "base-b")]),
            rules: vec![rule(LabelMap).regex("[ab]_(x)").repl("$1")],
            want: Some(ls(&[("a_x", "base-a"), ("b_x", "base-b"), ("x", "base-b")])),
        },
    ]);
}

#[test]
fn labeldrop_labelkeep_and_case() {
    use Action::{LabelDrop, LabelKeep, Lowercase, Uppercase};
    let b = || ls(&[("a", "foo"), ("b1", "bar"), ("b2", "baz")]);
    run(vec![
        Case {
            name: "labelkeep",
            input: b(),
            rules: vec![rule(LabelKeep).regex("(b.*)")],
            want: Some(ls(&[("b1", "bar"), ("b2", "baz")])),
        },
        Case {
            name: "labeldrop",
            input: b(),
            rules: vec![rule(LabelDrop).regex("(b.*)")],
            want: Some(ls(&[("a", "foo")])),
        },
        Case {
            name: "labeldrop is anchored",
            input: b(),
            rules: vec![rule(LabelDrop).regex("b")],
            want: Some(b()),
        },
        Case {
            name: "upper and lower",
            input: ls(&[("foo", "bAr123Foo")]),
            rules: vec![
                rule(Uppercase).src(&["foo"]).target("foo_uppercase"),
                rule(Lowercase).src(&["foo"]).target("foo_lowercase"),
            ],
            want: Some(ls(&[
                ("foo", "bAr123Foo"),
                ("foo_lowercase", "bar123foo"),
                ("foo_uppercase", "BAR123FOO"),
            ])),
        },
        Case {
            name: "case mapping is Go's: one character to one",
            input: ls(&[("s", "Straße İ ΟΔΟΣ")]),
            rules: vec![
                rule(Uppercase).src(&["s"]).target("up"),
                rule(Lowercase).src(&["s"]).target("low"),
            ],
            want: Some(ls(&[
                ("s", "Straße İ ΟΔΟΣ"),
                ("up", "STRAßE İ ΟΔΟΣ"),
                ("low", "straße i οδοσ"),
            ])),
        },
        Case {
            name: "lowercase of an absent label deletes the target",
            input: ls(&[("t", "x")]),
            rules: vec![rule(Lowercase).src(&["nope"]).target("t")],
            want: Some(ls(&[])),
        },
    ]);
}

#[test]
fn process_builder_edits_in_place() {
    let mut rules = vec![rule(Action::Replace).target("cluster").repl("c1").0];
    rules[0]
        .validate(NameValidationScheme::Utf8)
        .expect("valid");
    let mut lb = model::LabelsBuilder::new(ls(&[("job", "j")]));
    assert!(relabel::process_builder(&mut lb, &rules));
    assert_eq!(lb.build(), ls(&[("cluster", "c1"), ("job", "j")]));

    let drop = vec![RelabelConfig::new(Action::Drop)];
    let mut lb = model::LabelsBuilder::new(ls(&[("job", "j")]));
    assert!(!relabel::process_builder(&mut lb, &drop));
}
