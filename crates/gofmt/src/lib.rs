//! Go's strconv, quoting and time formatting, as Prometheus's outputs spell
//! numbers, strings and times. Prometheus prints through Go's `strconv`,
//! `fmt` and `time`; whatever must match its bytes goes through here.
//!
//! - [`strconv`]: `FormatFloat` for every format and precision, `ParseFloat`,
//!   `ParseInt`/`ParseUint` with base 0 — the base of the number helpers;
//! - [`float`]: `%g`, `%.Ng`, `%f` and Prometheus's `FormatOpenMetricsFloat`,
//!   on top of `FormatFloat`;
//! - [`quote`](mod@quote): `strconv.Quote` (of strings and of bytes), `QuoteRune`,
//!   `CanBackquote`, `Unquote`, `UnquoteChar`, and `unicode.IsPrint`;
//! - [`civil`]: the proleptic Gregorian calendar of Unix seconds (UTC);
//! - [`time`]: `time.Time` in UTC ([`GoTime`]) with `Format` layouts, the
//!   RFC 3339 forms Prometheus's APIs print and parse, and `Duration.String`;
//! - [`url`](mod@url): `url.QueryEscape`, as scrape and graph URLs escape.

#![warn(missing_docs)]

pub mod civil;
pub mod float;
pub mod quote;
pub mod strconv;
pub mod time;
pub mod url;

pub use civil::{Civil, civil_from_days, days_from_civil, days_in_month, is_leap};
pub use float::{go_f, go_g, go_g_prec, openmetrics_float};
pub use quote::{
    SyntaxError, Unquoted, can_backquote, is_print, quote, quote_bytes, quote_rune, quote_with,
    unquote, unquote_char,
};
pub use strconv::{format_float, parse_float, parse_int_base0, parse_uint_base0};
pub use time::{
    GoTime, RFC3339, RFC3339_MILLIS, RFC3339_NANO, ZERO_TIME, duration_string, parse_rfc3339,
    rfc3339, rfc3339_millis, rfc3339_nano,
};
pub use url::query_escape;
