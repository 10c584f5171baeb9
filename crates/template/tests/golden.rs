//! Golden outputs for `printf` (Go's fmt verbs, flags, width, precision and
//! error forms) and the humanize functions, as Go and Prometheus document
//! and produce them.

mod common;

use common::ok;

/// (format, args as template literals, Go's output)
const PRINTF: &[(&str, &str, &str)] = &[
    // Integers.
    ("%d", "42", "42"),
    ("%5d|", "42", "   42|"),
    ("%-5d|", "42", "42   |"),
    ("%05d", "42", "00042"),
    ("%05d", "-42", "-0042"),
    ("%+d", "42", "+42"),
    ("% d", "42", " 42"),
    ("%x", "255", "ff"),
    ("%X", "255", "FF"),
    ("%#x", "255", "0xff"),
    ("%#X", "255", "0XFF"),
    ("%x", "-255", "-ff"),
    ("%o", "8", "10"),
    ("%#o", "8", "010"),
    ("%O", "8", "0o10"),
    ("%b", "5", "101"),
    ("%#b", "5", "0b101"),
    ("%c", "65", "A"),
    ("%3c|%-3c|", "65 66", "  A|B  |"),
    ("%q", "65", "'A'"),
    ("%U", "0x1F600", "U+1F600"),
    ("%#U", "'x'", "U+0078 'x'"),
    ("%.3d", "7", "007"),
    ("%08.3d", "42", "     042"),
    ("%.0d|", "0", "|"),
    ("%5.0d|", "0", "     |"),
    ("%v", "-7", "-7"),
    // Floats.
    ("%f", "3.14159", "3.141590"),
    ("%.2f", "3.14159", "3.14"),
    ("%0.2f", "3.14159", "3.14"),
    ("%8.3f|", "3.14159", "   3.142|"),
    ("%-8.2f|", "3.14159", "3.14    |"),
    ("%08.3f", "-3.14159", "-003.142"),
    ("%+.1f", "2.0", "+2.0"),
    ("% .2f", "1.0", " 1.00"),
    ("%.0f", "0.5", "0"),
    ("%.0f", "1.5", "2"),
    ("%.0f", "2.5", "2"),
    ("%.2f", "1.005", "1.00"),
    ("%.1f", "0.05", "0.1"),
    ("%.0f", "42.0", "42"),
    ("%e", "123456.789", "1.234568e+05"),
    ("%E", "123456.789", "1.234568E+05"),
    ("%.3e", "1234.5678", "1.235e+03"),
    ("%10.3e|", "1234.5678", " 1.235e+03|"),
    ("%+.2e", "1.0", "+1.00e+00"),
    ("%e", "0.0", "0.000000e+00"),
    ("%g", "123456.789", "123456.789"),
    ("%g", "0.0000001", "1e-07"),
    ("%G", "0.0000001", "1E-07"),
    ("%.3g", "123456.789", "1.23e+05"),
    ("%g", "100000.0", "100000"),
    ("%g", "1000000.0", "1e+06"),
    ("%g", "0.0", "0"),
    ("%.4g", "1.0", "1"),
    ("%.4g", "0.000123456", "0.0001235"),
    ("%.4g", "12345.0", "1.234e+04"),
    ("%#.4g", "1.0", "1.000"),
    ("%#g", "1.0", "1.00000"),
    ("%#.0f", "1.0", "1."),
    ("%v", "1e6", "1e+06"),
    ("%v", "0.000012", "1.2e-05"),
    ("%x", "1.0", "0x1p+00"),
    ("%b", "1.0", "4503599627370496p-52"),
    ("%6.2f%%", "99.5", " 99.50%"),
    // Strings.
    ("%s", "\"hi\"", "hi"),
    ("%5s|", "\"hi\"", "   hi|"),
    ("%-5s|", "\"hi\"", "hi   |"),
    ("%05s", "\"ab\"", "000ab"),
    ("%.1s", "\"héllo\"", "h"),
    ("%.2s", "\"héllo\"", "hé"),
    ("%q", "\"a\\\"b\"", "\"a\\\"b\""),
    ("%#q", "\"ab\"", "`ab`"),
    ("%q", "\"é\\n\"", "\"é\\n\""),
    ("%+q", "\"é\"", "\"\\u00e9\""),
    ("%x", "\"hi\"", "6869"),
    ("% x", "\"hi\"", "68 69"),
    ("%#x", "\"hi\"", "0x6869"),
    ("%X", "\"hi\"", "6869"),
    ("%v", "\"x\"", "x"),
    // Booleans and types.
    ("%t", "true", "true"),
    ("%v", "false", "false"),
    ("%T", "1", "int"),
    ("%T", "1.5", "float64"),
    ("%T", "\"x\"", "string"),
    ("%T", ".Labels", "map[string]string"),
    ("%T", "nil", "<nil>"),
    ("%v", "nil", "<nil>"),
    (
        "%v",
        ".Labels",
        "map[instance:host:9100 job:node severity:critical]",
    ),
    ("%s", ".Labels.job", "node"),
    ("%%", "", "%"),
    ("%5.1f%%|%s", "99.44 \"x\"", " 99.4%|x"),
    // Argument indexes and star width/precision.
    ("%[2]d %[1]d", "1 2", "2 1"),
    ("%[1]d %[1]x", "255", "255 ff"),
    ("%[3]d", "1", "%!d(BADINDEX)"),
    ("%*d|", "5 42", "   42|"),
    ("%-*d|", "5 42", "42   |"),
    ("%*d|", "-5 42", "42   |"),
    ("%.*f", "2 3.14159", "3.14"),
    ("%*d", "\"x\" 1", "%!(BADWIDTH)1"),
    // Go's error forms.
    ("%d", "\"x\"", "%!d(string=x)"),
    ("%s", "1", "%!s(int=1)"),
    ("%f", "1", "%!f(int=1)"),
    ("%d", "1.5", "%!d(float64=1.5)"),
    ("%d", "true", "%!d(bool=true)"),
    ("%d", "nil", "%!d(<nil>)"),
    ("%d", "", "%!d(MISSING)"),
    ("%d %d", "1", "1 %!d(MISSING)"),
    ("%d", "1 2", "1%!(EXTRA int=2)"),
    ("hi", "1 \"x\"", "hi%!(EXTRA int=1, string=x)"),
    ("hi", "nil", "hi%!(EXTRA <nil>)"),
    ("%", "", "%!(NOVERB)"),
    ("%z", "1", "%!z(int=1)"),
    ("%!", "", "%!!(MISSING)"),
    ("%d%", "1", "1%!(NOVERB)"),
];

#[test]
fn printf_matches_go() {
    for (format, args, want) in PRINTF {
        let text = format!("{{{{ printf {} {args} }}}}", template_quote(format));
        assert_eq!(ok(&text), *want, "printf {format:?} {args}");
    }
}

/// A Go string literal (raw when possible).
fn template_quote(s: &str) -> String {
    if s.contains('`') {
        format!("{s:?}")
    } else {
        format!("`{s}`")
    }
}

#[test]
fn printf_edge_cases() {
    // Printf of a duration and a time (Stringers) and a sample's pointer.
    assert_eq!(
        ok("{{ printf \"%s|%v\" (90 | toDuration) (0 | toTime) }}"),
        "1m30s|1970-01-01 00:00:00 +0000 UTC"
    );
    assert_eq!(
        ok("{{ printf \"%d\" (1.5 | toDuration).Nanoseconds }}"),
        "1500000000"
    );
    // Complex numbers.
    assert_eq!(
        ok("{{ printf \"%v %.1f\" 1+2i 1.5i }}"),
        "(1+2i) (0.0+1.5i)"
    );
    // Wide widths are honoured (up to Go's limit).
    assert_eq!(ok("{{ len (printf \"%1000d\" 1) }}"), "1000");
    assert_eq!(
        ok("{{ printf \"%100000000d\" 1 }}"),
        "%!(NOVERB)%!(EXTRA int=1)"
    );
    // A 10 MB width is Go-legal; the output limit stops it.
    let e = common::render("{{ printf \"%10000000d\" 1 }}").unwrap_err();
    assert!(
        e.to_string()
            .ends_with("template output exceeds 1048576 bytes"),
        "{e}"
    );
}

/// (template, Prometheus's output)
const HUMANIZE: &[(&str, &str)] = &[
    ("{{ humanize 1e3 }}", "1k"),
    ("{{ humanize 999.99 }}", "1000"),
    ("{{ humanize 1500 }}", "1.5k"),
    ("{{ humanize 1e9 }}", "1G"),
    ("{{ humanize 1.5e-3 }}", "1.5m"),
    ("{{ humanize 1e-6 }}", "1u"),
    ("{{ humanize 2.5e-9 }}", "2.5n"),
    ("{{ humanize -1234 }}", "-1.234k"),
    ("{{ humanize 1e27 }}", "1000Y"),
    ("{{ humanize 1e30 }}", "1e+06Y"),
    ("{{ humanize 0.5 }}", "500m"),
    ("{{ humanize 123.456 }}", "123.5"),
    ("{{ humanize \"12500\" }}", "12.5k"),
    ("{{ humanize1024 1024 }}", "1ki"),
    ("{{ humanize1024 1536 }}", "1.5ki"),
    ("{{ humanize1024 1073741824 }}", "1Gi"),
    ("{{ humanize1024 0.5 }}", "0.5"),
    ("{{ humanize1024 -2048 }}", "-2ki"),
    ("{{ humanize1024 1023 }}", "1023"),
    ("{{ humanizeDuration 0.5 }}", "500ms"),
    ("{{ humanizeDuration 1.5 }}", "1.5s"),
    ("{{ humanizeDuration 61 }}", "1m 1s"),
    ("{{ humanizeDuration 3661 }}", "1h 1m 1s"),
    ("{{ humanizeDuration 90061 }}", "1d 1h 1m 1s"),
    ("{{ humanizeDuration 0.000001 }}", "1us"),
    ("{{ humanizeDuration -0.5 }}", "-500ms"),
    ("{{ humanizeDuration 59.9999 }}", "60s"),
    ("{{ humanizeDuration 1e-10 }}", "100ps"),
    ("{{ humanizeDuration \"43200\" }}", "12h 0m 0s"),
    (
        "{{ humanizeDuration (90 | toDuration | printf \"%v\" | len) }}",
        "5s",
    ),
    ("{{ humanizePercentage 0.5 }}", "50%"),
    ("{{ humanizePercentage 1 }}", "100%"),
    ("{{ humanizePercentage 0.001234 }}", "0.1234%"),
    ("{{ humanizePercentage 0.00001 }}", "0.001%"),
    (
        "{{ humanizeTimestamp 1700000000 }}",
        "2023-11-14 22:13:20 +0000 UTC",
    ),
    (
        "{{ humanizeTimestamp 1700000000.5 }}",
        "2023-11-14 22:13:20.5 +0000 UTC",
    ),
    (
        "{{ humanizeTimestamp 0.0015 }}",
        "1970-01-01 00:00:00.001 +0000 UTC",
    ),
    ("{{ printf \"%.2f\" 1.005 }}", "1.00"),
];

#[test]
fn humanize_matches_prometheus() {
    for (text, want) in HUMANIZE {
        assert_eq!(ok(text), *want, "{text}");
    }
}
