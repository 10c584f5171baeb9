//! No template text makes parsing or execution panic, overflow the stack,
//! or run unbounded: random token soups, random text, and hostile templates
//! against the limits.

mod common;

use common::{answering, labels, render, render_with, sample};
use template::{MAX_OUTPUT, QueryFn, Template};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/*",
    "*/}}",
    " ",
    " ",
    " ",
    "\n",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "$",
    "$x",
    "$labels",
    "$value",
    ":=",
    "=",
    ",",
    "|",
    "(",
    ")",
    ".",
    ".Labels",
    ".Value",
    ".job",
    ".ExternalURL",
    ".Foo",
    "\"t\"",
    "\"%d %s %v %.2f %x %q\"",
    "`raw`",
    "'c'",
    "'\\n'",
    "1",
    "-1",
    "0",
    "1.5e3",
    "0x1F",
    "1i",
    "99999999999999999999",
    "nil",
    "true",
    "false",
    "printf",
    "print",
    "println",
    "index",
    "slice",
    "len",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "and",
    "or",
    "not",
    "call",
    "html",
    "js",
    "urlquery",
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "match",
    "title",
    "toUpper",
    "toLower",
    "stripPort",
    "stripDomain",
    "graphLink",
    "tableLink",
    "safeHtml",
    "externalURL",
    "pathPrefix",
    "parseDuration",
    "now",
    "toTime",
    "toDuration",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "sortByLabel",
    ".Format",
    ".String",
    ".Add",
    ".UnixMilli",
    "\"(\"",
    "\"a+\"",
    "\"1h\"",
    "\"x:1\"",
    "é",
    "\u{a0}",
    "\"",
    "`",
    "'",
    "#",
    "{",
    "}",
    "-",
    "\\",
    "%",
    "text",
];

fn soup(rng: &mut Rng, len: usize) -> String {
    (0..len).map(|_| TOKENS[rng.below(TOKENS.len())]).collect()
}

/// Builds a template that is more often valid: actions of a few tokens.
fn actions(rng: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for _ in 0..n {
        s.push_str("{{ ");
        let k = 1 + rng.below(4);
        for _ in 0..k {
            s.push_str(TOKENS[8 + rng.below(TOKENS.len() - 8)]);
            s.push(' ');
        }
        s.push_str("}}");
        if rng.below(3) == 0 {
            s.push_str("txt");
        }
    }
    s
}

fn exercise(text: &str) {
    let q = answering(vec![sample(
        &[("__name__", "up"), ("instance", "a:1")],
        1.0,
    )]);
    let q: &dyn QueryFn = &q;
    let l = labels(&[("instance", "host:9100"), ("job", "node")]);
    let _ = render_with(text, &l, 0.5, Some(q));
    let _ = template::expand_alert_template_at(
        "A",
        text,
        &template::Data {
            labels: &l,
            external_labels: &l,
            external_url: "http://x/y",
            value: f64::NAN,
            query: None,
        },
        0,
    );
}

#[test]
fn random_token_soups_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..6_000 {
        let len = 1 + rng.below(40);
        let text = if i % 2 == 0 {
            soup(&mut rng, len)
        } else {
            actions(&mut rng, 1 + len / 8)
        };
        exercise(&text);
    }
}

#[test]
fn random_characters_never_panic() {
    let mut rng = Rng(42);
    let alphabet: Vec<char> = "{}-/*$.|():=,\"`'\\ \n\tabcxyz019_é€\u{a0}\u{0}%#[]<>+"
        .chars()
        .collect();
    for _ in 0..4_000 {
        let len = rng.below(30);
        let text: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        exercise(&text);
        exercise(&format!("{{{{{text}}}}}"));
        exercise(&format!("{{{{ printf \"{text}\" 1 \"x\" 2.5 }}}}"));
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let depth = 5_000;
    let ifs = format!(
        "{}x{}",
        "{{ if true }}".repeat(depth),
        "{{ end }}".repeat(depth)
    );
    let e = Template::parse("t", &ifs).unwrap_err();
    assert!(
        e.to_string().contains("max expression depth exceeded"),
        "{e}"
    );
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(depth), ")".repeat(depth));
    let e = Template::parse("t", &parens).unwrap_err();
    assert!(
        e.to_string().contains("max expression depth exceeded"),
        "{e}"
    );
    let elses = format!(
        "{{{{ if false }}}}{}{{{{ end }}}}",
        "{{ else if false }}".repeat(depth)
    );
    assert!(Template::parse("t", &elses).is_err());
    // The deepest accepted nesting parses and runs in a 1 MiB stack (even
    // unoptimised), and recursing through templates stops at the nesting
    // limit.
    let n = template::MAX_PARSE_DEPTH - 1;
    let with = format!("{}x{}", "{{ with . }}".repeat(n), "{{ end }}".repeat(n));
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n));
    let recursive = format!(
        "{{{{ define \"r\" }}}}{}{{{{ template \"r\" . }}}}{}{{{{ end }}}}{{{{ template \"r\" . }}}}",
        "{{ with . }}".repeat(n),
        "{{ end }}".repeat(n)
    );
    let results = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || [with, parens, recursive].map(|t| render(&t).map_err(|e| e.to_string())))
        .map(|h| h.join());
    let Ok(Ok([with, parens, recursive])) = results else {
        panic!("deep templates did not run");
    };
    assert_eq!(with, Ok("x".into()));
    assert_eq!(parens, Ok("1".into()));
    let e = recursive.err().unwrap_or_default();
    assert!(e.contains("exceeded maximum nesting depth (150)"), "{e}");
}

#[test]
fn recursion_and_loops_are_bounded() {
    let e = render("{{ define \"a\" }}{{ template \"a\" . }}{{ end }}{{ template \"a\" . }}")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("exceeded maximum template depth (100)"),
        "{e}"
    );
    let e = render("{{ range 1000000000 }}{{ end }}").unwrap_err();
    assert!(e.to_string().contains("steps"), "{e}");
    let e = render("{{ range 1000000 }}0123456789{{ end }}").unwrap_err();
    assert!(
        e.to_string()
            .ends_with(&format!("template output exceeds {MAX_OUTPUT} bytes")),
        "{e}"
    );
    let e = render("{{ $x := 0 }}{{ range 100 }}{{ $x = printf \"%1000000d\" 1 }}{{ end }}")
        .unwrap_err();
    assert!(e.to_string().contains("more than"), "{e}");
    let fan = "{{ define \"f\" }}{{ range 10 }}{{ template \"g\" }}{{ end }}{{ end }}\
               {{ define \"g\" }}{{ range 10 }}{{ template \"h\" }}{{ end }}{{ end }}\
               {{ define \"h\" }}{{ range 10000 }}x{{ end }}{{ end }}{{ template \"f\" }}";
    assert!(render(fan).is_err());
    let re = "{{ range 2000 }}{{ reReplaceAll \"(a+)+b\" \"x\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaac\" }}{{ end }}";
    assert!(render(re).is_ok());
}

#[test]
fn parsed_templates_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<template::TemplateError>();
}

#[test]
fn error_contexts_stay_short() {
    let big = "x".repeat(2 * MAX_OUTPUT);
    let e = render(&big).unwrap_err().to_string();
    assert!(e.len() < 2_000, "{}", e.len());
    assert!(
        e.ends_with(&format!("...>: template output exceeds {MAX_OUTPUT} bytes")),
        "{}",
        &e[e.len() - 80..]
    );
}
