//! Prometheus text 0.0.4 and OpenMetrics 1.0 exposition: streaming zero-copy parsing and writing.
//!
//! Parsing a scraped page:
//!
//! ```
//! use exposition::{Entry, Format, Mode, Parser};
//!
//! let format = Format::from_content_type(Some("text/plain; version=0.0.4"));
//! let mut p = Parser::new(b"# TYPE up gauge\nup{job=\"a\"} 1\n", format, Mode::Scrape);
//! while let Some(entry) = p.next() {
//!     match entry.expect("valid page") {
//!         Entry::Sample(s) => assert_eq!(s.to_labels().to_string(), r#"up{job="a"}"#),
//!         Entry::Type { name, metric_type } => assert_eq!((name.as_ref(), metric_type.as_str()), ("up", "gauge")),
//!         _ => {}
//!     }
//! }
//! ```
//!
//! - [`format`]: [`Format`], [`Mode`], the scrape `Accept` header, content negotiation.
//! - [`parser`]: [`Parser`], yielding [`Entry`] values that borrow the page.
//! - [`entry`]: [`Entry`], [`SampleRef`] (with [`SampleRef::fill_builder`] for
//!   `model::Labels`), [`ExemplarRef`].
//! - [`writer`]: the text format 0.0.4 writer (for `/federate` and `/metrics`).
//! - [`float`]: Go-compatible float parsing and formatting.
//! - [`ParseError`]: line, column and reason of a refused page.

pub mod entry;
mod error;
pub mod float;
pub mod format;
pub mod parser;
mod strict;
mod unescape;
pub mod writer;

pub use entry::{Entry, ExemplarRef, LabelPair, SampleRef};
pub use error::ParseError;
pub use float::{format_go_float, parse_go_float, write_go_float};
pub use format::{Format, Mode, OPENMETRICS_CONTENT_TYPE, SCRAPE_ACCEPT_HEADER, TEXT_CONTENT_TYPE};
pub use parser::Parser;
pub use writer::{write_family_header, write_sample, write_series};
