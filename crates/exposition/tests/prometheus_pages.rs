//! Every valid page of Prometheus's textparse test data parses without error.

mod common;

use exposition::{Format, Mode};

/// Pages Prometheus scrapes that OpenMetrics 1.0 itself refuses, and the refusal.
const STRICT_REFUSES: &[(&str, &str)] = &[(
    // client_golang writes a _sum for histograms with negative buckets; the
    // OpenMetrics suite (bad_histograms_3) forbids it.
    "alltypes.5mfs.om.txt",
    "histogram with negative buckets cannot have a sum",
)];

#[test]
fn every_textparse_page_parses() {
    let dir = common::conformance_dir().join("prometheus/model/textparse/testdata");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("read textparse testdata") {
        let path = entry.expect("testdata entry").path();
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let format = if name.ends_with(".om.txt") {
            Format::OpenMetrics
        } else if name.ends_with(".prom.txt") {
            Format::PrometheusText
        } else {
            continue;
        };
        let body = std::fs::read(&path).expect("read page");
        let samples = common::parse_all(&body, format, Mode::Scrape)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(samples > 0, "{name}: no samples");
        if format == Format::OpenMetrics {
            let strict = common::parse_all(&body, format, Mode::Strict);
            match STRICT_REFUSES.iter().find(|(n, _)| *n == name) {
                Some((_, why)) => {
                    let e = strict.expect_err("listed as refused in strict mode");
                    assert!(e.message.contains(why), "{name}: {e}");
                }
                None => {
                    strict.unwrap_or_else(|e| panic!("{name} (strict): {e}"));
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 4, "expected the four textparse pages");
}
