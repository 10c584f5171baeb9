//! The parser never panics: random bytes, and truncations and mutations of valid pages.

use exposition::{Entry, Format, Mode, Parser};
use proptest::prelude::*;

const TEXT_PAGE: &str = "# HELP a Help \\\\ text\n# TYPE a histogram\na_bucket{le=\"1\",x=\"y\\\"z\"} 1 1000\na_bucket{le=\"+Inf\"} 2\na_sum 3\na_count 2\n# a comment\n{\"u.tf\",\"l.n\"=\"v\"} NaN\n";
const OM_PAGE: &str = "# TYPE a counter\n# UNIT a \n# HELP a h\na_total{x=\"1\"} 1 1.5 # {id=\"z\"} 0.5 2\na_created 17e8\n# TYPE h histogram\nh_bucket{le=\"1.0\"} 0\nh_bucket{le=\"+Inf\"} 3 # {a=\"b\"} 1\nh_count 3\nh_sum 2\n# TYPE s stateset\ns{s=\"a\"} 1\n# EOF\n";

/// Runs every format and mode over `body`; errors are fine, panics are not.
fn run_all(body: &[u8]) {
    for format in [Format::PrometheusText, Format::OpenMetrics] {
        for mode in [Mode::Scrape, Mode::Strict] {
            let mut p = Parser::new(body, format, mode);
            let mut n = 0;
            while let Some(e) = p.next() {
                if let Ok(Entry::Sample(s)) = e {
                    let _ = s.to_labels();
                }
                n += 1;
                assert!(n <= body.len() + 2, "parser does not advance");
            }
        }
    }
}

/// A valid page with one byte replaced, inserted or removed.
fn mutated(page: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let len = page.len();
    (0..len, any::<u8>(), 0..3u8).prop_map(move |(at, byte, op)| {
        let mut b = page.as_bytes().to_vec();
        match op {
            0 => b[at] = byte,
            1 => b.insert(at, byte),
            _ => {
                b.remove(at);
            }
        }
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        run_all(&body);
    }

    #[test]
    fn random_text_from_the_alphabet(body in "[a-z_{}=\",# \\n\\t\\\\.0-9+-]{0,128}") {
        run_all(body.as_bytes());
    }

    #[test]
    fn truncated_pages(cut in 0..OM_PAGE.len()) {
        run_all(&OM_PAGE.as_bytes()[..cut]);
        run_all(&TEXT_PAGE.as_bytes()[..cut.min(TEXT_PAGE.len())]);
    }

    #[test]
    fn mutated_openmetrics(body in mutated(OM_PAGE)) {
        run_all(&body);
    }

    #[test]
    fn mutated_text(body in mutated(TEXT_PAGE)) {
        run_all(&body);
    }
}

#[test]
fn the_seed_pages_are_valid() {
    for (page, format) in [
        (TEXT_PAGE, Format::PrometheusText),
        (OM_PAGE, Format::OpenMetrics),
    ] {
        for mode in [Mode::Scrape, Mode::Strict] {
            let mut p = Parser::new(page.as_bytes(), format, mode);
            while let Some(e) = p.next() {
                e.unwrap_or_else(|e| panic!("{format:?} {mode:?}: {e}"));
            }
        }
    }
}
