//! The OpenMetrics accept/refuse suite, in strict mode and in Prometheus scrape mode.

mod common;

use std::collections::BTreeMap;

use exposition::{Format, Mode};

/// Suite cases where Prometheus's scraper (our `Mode::Scrape`) accepts what the
/// OpenMetrics specification refuses: Prometheus checks syntax only, never the
/// family rules. Every entry is a case the suite marks shouldParse=false.
const SCRAPE_ACCEPTS_INVALID: &[(&str, &str)] = &[
    (
        "bad_clashing_names_0",
        "family names and clashes are not checked",
    ),
    (
        "bad_clashing_names_1",
        "family names and clashes are not checked",
    ),
    (
        "bad_clashing_names_2",
        "family names and clashes are not checked",
    ),
    (
        "bad_counter_values_0",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_1",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_10",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_11",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_12",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_13",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_14",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_15",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_16",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_17",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_18",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_19",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_2",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_3",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_4",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_5",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_6",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_7",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_8",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_counter_values_9",
        "value ranges (NaN, negative) are not checked",
    ),
    (
        "bad_exemplar_complex_chars",
        "exemplar length is checked by storage, not the parser",
    ),
    (
        "bad_exemplars_6",
        "exemplar length is checked by storage, not the parser",
    ),
    (
        "bad_exemplars_on_unallowed_metric_types_0",
        "exemplar placement is not checked",
    ),
    (
        "bad_exemplars_on_unallowed_metric_types_1",
        "exemplar placement is not checked",
    ),
    (
        "bad_exemplars_on_unallowed_metric_types_2",
        "exemplar placement is not checked",
    ),
    (
        "bad_exemplars_on_unallowed_samples_0",
        "exemplar placement is not checked",
    ),
    (
        "bad_exemplars_on_unallowed_samples_1",
        "exemplar placement is not checked",
    ),
    (
        "bad_exemplars_on_unallowed_samples_2",
        "exemplar placement is not checked",
    ),
    (
        "bad_exemplars_on_unallowed_samples_3",
        "exemplar placement is not checked",
    ),
    (
        "bad_grouping_or_ordering_0",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_10",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_2",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_3",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_4",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_5",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_6",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_7",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_8",
        "grouping and timestamp order are not checked",
    ),
    (
        "bad_grouping_or_ordering_9",
        "grouping and timestamp order are not checked",
    ),
    ("bad_histograms_0", "histogram structure is not checked"),
    ("bad_histograms_1", "histogram structure is not checked"),
    ("bad_histograms_10", "histogram structure is not checked"),
    ("bad_histograms_11", "histogram structure is not checked"),
    ("bad_histograms_12", "histogram structure is not checked"),
    ("bad_histograms_13", "histogram structure is not checked"),
    ("bad_histograms_14", "histogram structure is not checked"),
    ("bad_histograms_2", "histogram structure is not checked"),
    ("bad_histograms_3", "histogram structure is not checked"),
    ("bad_histograms_6", "histogram structure is not checked"),
    ("bad_histograms_7", "histogram structure is not checked"),
    ("bad_histograms_8", "histogram structure is not checked"),
    ("bad_histograms_9", "histogram structure is not checked"),
    (
        "bad_info_and_stateset_values_0",
        "info/stateset values are not checked",
    ),
    (
        "bad_info_and_stateset_values_1",
        "info/stateset values are not checked",
    ),
    (
        "bad_metadata_in_wrong_place_0",
        "metadata placement is not checked",
    ),
    (
        "bad_metadata_in_wrong_place_1",
        "metadata placement is not checked",
    ),
    (
        "bad_metadata_in_wrong_place_2",
        "metadata placement is not checked",
    ),
    (
        "bad_missing_or_extra_commas_2",
        "Prometheus accepts a trailing comma in a label set",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_0",
        "labels required by the type are not checked",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_1",
        "labels required by the type are not checked",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_2",
        "labels required by the type are not checked",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_3",
        "labels required by the type are not checked",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_4",
        "labels required by the type are not checked",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_5",
        "labels required by the type are not checked",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_6",
        "labels required by the type are not checked",
    ),
    (
        "bad_missing_or_invalid_labels_for_a_type_7",
        "labels required by the type are not checked",
    ),
    (
        "bad_repeated_metadata_0",
        "repeated metadata is not checked",
    ),
    (
        "bad_repeated_metadata_1",
        "repeated metadata is not checked",
    ),
    (
        "bad_repeated_metadata_3",
        "repeated metadata is not checked",
    ),
    (
        "bad_stateset_info_values_0",
        "info/stateset values are not checked",
    ),
    (
        "bad_stateset_info_values_1",
        "info/stateset values are not checked",
    ),
    (
        "bad_stateset_info_values_2",
        "info/stateset values are not checked",
    ),
    (
        "bad_stateset_info_values_3",
        "info/stateset values are not checked",
    ),
    ("bad_unit_6", "units on info/stateset are not checked"),
    ("bad_unit_7", "units on info/stateset are not checked"),
];

/// Reads every case: name => (page, shouldParse).
fn suite() -> BTreeMap<String, (Vec<u8>, bool)> {
    let root = common::conformance_dir().join("openmetrics/tests/testdata/parsers");
    let mut cases = BTreeMap::new();
    for dir in std::fs::read_dir(&root).expect("read the suite folder") {
        let dir = dir.expect("suite entry").path();
        let name = dir
            .file_name()
            .expect("case name")
            .to_string_lossy()
            .into_owned();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("test.json")).expect("read test.json"))
                .expect("test.json is JSON");
        let should = json["shouldParse"]
            .as_bool()
            .expect("shouldParse is a bool");
        let page = std::fs::read(dir.join("metrics")).expect("read metrics");
        cases.insert(name, (page, should));
    }
    assert!(
        cases.len() > 200,
        "suite looks incomplete: {} cases",
        cases.len()
    );
    cases
}

#[test]
fn strict_mode_matches_every_verdict() {
    let mut wrong = Vec::new();
    for (name, (page, should)) in suite() {
        let got = common::parse_all(&page, Format::OpenMetrics, Mode::Strict);
        if got.is_ok() != should {
            wrong.push(format!(
                "{name}: expected shouldParse={should}, got {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn scrape_mode_differs_exactly_on_the_listed_cases() {
    let mut differs = Vec::new();
    for (name, (page, should)) in suite() {
        let got = common::parse_all(&page, Format::OpenMetrics, Mode::Scrape);
        if got.is_ok() != should {
            assert!(!should, "{name}: scrape mode refuses a valid page: {got:?}");
            differs.push(name);
        }
    }
    let listed: Vec<String> = SCRAPE_ACCEPTS_INVALID
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(differs, listed);
}
