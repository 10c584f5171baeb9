//! Which format a page is in, how strictly to read it, and content negotiation.

/// The `Accept` header Prometheus sends when scraping: OpenMetrics first, then text 0.0.4.
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The `Content-Type` of a page written in the Prometheus text format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `Content-Type` of an OpenMetrics 1.0 page.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Prometheus text format 0.0.4 (with Prometheus 3's quoted UTF-8 names).
    #[default]
    PrometheusText,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// Picks the parser for a scrape response's `Content-Type`, as Prometheus does:
    /// `application/openmetrics-text` is OpenMetrics; anything else, or none, falls
    /// back to the Prometheus text format.
    pub fn from_content_type(content_type: Option<&str>) -> Format {
        let Some(ct) = content_type else {
            return Format::PrometheusText;
        };
        let media = ct.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        }
    }
}

/// How strictly a page is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Exactly what Prometheus's own scraper accepts (syntax only, no family rules).
    #[default]
    Scrape,
    /// OpenMetrics 1.0 as specified: also family grouping, metadata placement, value
    /// ranges, histogram and summary structure, exemplar placement and size. For the
    /// Prometheus text format this is the same as `Scrape`.
    Strict,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_decides_format() {
        assert_eq!(Format::from_content_type(None), Format::PrometheusText);
        assert_eq!(
            Format::from_content_type(Some(
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            )),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_content_type(Some("Application/OpenMetrics-Text")),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_content_type(Some("text/plain; version=0.0.4")),
            Format::PrometheusText
        );
        assert_eq!(
            Format::from_content_type(Some("application/json")),
            Format::PrometheusText
        );
        assert_eq!(Format::from_content_type(Some("")), Format::PrometheusText);
    }

    #[test]
    fn accept_header_prefers_openmetrics() {
        let parts: Vec<&str> = SCRAPE_ACCEPT_HEADER.split(',').collect();
        assert!(parts[0].starts_with("application/openmetrics-text;version=1.0.0"));
        assert!(parts[1].starts_with("application/openmetrics-text;version=0.0.1"));
        assert!(parts[2].starts_with("text/plain;version=0.0.4"));
        assert!(parts[3].starts_with("*/*"));
    }
}
