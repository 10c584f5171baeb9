//! Go's `time.Time` (UTC only) and `time.Duration`: their `String` forms,
//! `Format` layouts, and the RFC 3339 forms Prometheus's APIs print.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::civil::{Civil, civil_from_days, days_from_civil, days_in_month};

/// Go's `time.RFC3339` layout.
pub const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

/// Go's `time.RFC3339Nano` layout (trailing zeros of the fraction dropped).
pub const RFC3339_NANO: &str = "2006-01-02T15:04:05.999999999Z07:00";

/// go-openapi's `strfmt.DateTime` layout (`strfmt.MarshalFormat`): RFC 3339
/// with exactly three fraction digits, as Alertmanager's API v2 takes times.
pub const RFC3339_MILLIS: &str = "2006-01-02T15:04:05.000Z07:00";

/// Go's zero `time.Time` in RFC 3339, as JSON shows it.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// An instant, as seconds and nanoseconds since the Unix epoch, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoTime {
    /// Whole seconds since the epoch.
    pub secs: i64,
    /// Nanoseconds into the second, below 10^9.
    pub nanos: u32,
}

const NANOS: i64 = 1_000_000_000;

impl GoTime {
    /// Go's zero `time.Time`, January 1 of year 1, 00:00:00 UTC.
    pub const ZERO: GoTime = GoTime {
        secs: -62_135_596_800,
        nanos: 0,
    };

    /// Go's `time.Unix(sec, nsec)`, normalising the nanoseconds.
    pub fn unix(secs: i64, nanos: i64) -> GoTime {
        let secs = secs.saturating_add(nanos.div_euclid(NANOS));
        GoTime {
            secs,
            nanos: nanos.rem_euclid(NANOS) as u32,
        }
    }

    /// Go's `time.UnixMilli(ms)`.
    pub fn unix_milli(ms: i64) -> GoTime {
        GoTime::unix(ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000)
    }

    /// A system time, before the epoch too.
    pub fn from_system(t: SystemTime) -> GoTime {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => GoTime::unix(d.as_secs() as i64, i64::from(d.subsec_nanos())),
            Err(e) => {
                let d = e.duration();
                GoTime::unix(-(d.as_secs() as i64), -i64::from(d.subsec_nanos()))
            }
        }
    }

    /// Nanoseconds since the epoch (wrapping like Go's int64 arithmetic).
    pub fn unix_nano(&self) -> i64 {
        self.secs
            .wrapping_mul(NANOS)
            .wrapping_add(self.nanos as i64)
    }

    /// Go's `t.UnixMilli()`: milliseconds since the epoch, rounded down.
    pub fn as_unix_milli(&self) -> i64 {
        self.secs
            .saturating_mul(1000)
            .saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// `t.Add(d)`.
    pub fn add(&self, d: i64) -> GoTime {
        GoTime::unix(
            self.secs.saturating_add(d / NANOS),
            self.nanos as i64 + d % NANOS,
        )
    }

    /// `t.Sub(u)`, saturating as Go does.
    pub fn sub(&self, u: &GoTime) -> i64 {
        let s = (self.secs as i128 - u.secs as i128) * NANOS as i128 + self.nanos as i128
            - u.nanos as i128;
        s.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// The calendar date and time of day.
    pub fn civil(&self) -> Civil {
        Civil::of_seconds(self.secs)
    }

    /// Year, month (1-12), day (1-31).
    pub fn date(&self) -> (i64, u32, u32) {
        civil_from_days(self.secs.div_euclid(86_400))
    }

    /// Hour, minute, second.
    pub fn clock(&self) -> (u32, u32, u32) {
        let s = self.secs.rem_euclid(86_400) as u32;
        (s / 3600, s / 60 % 60, s % 60)
    }

    /// Day of the week, 0 = Sunday.
    pub fn weekday(&self) -> usize {
        self.civil().weekday as usize
    }

    /// Day of the year, 1-366.
    pub fn year_day(&self) -> u32 {
        self.civil().yday
    }

    /// Go's `Time.String()`: `2006-01-02 15:04:05.999999999 +0000 UTC`.
    pub fn go_string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Go's `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        format_layout(self, layout)
    }
}

/// Go's `time.Unix(secs, 0).UTC().Format(time.RFC3339)`.
pub fn rfc3339(secs: i64) -> String {
    GoTime::unix(secs, 0).format(RFC3339)
}

/// Milliseconds since the epoch in Go's `time.RFC3339Nano`, UTC.
pub fn rfc3339_millis(ms: i64) -> String {
    GoTime::unix_milli(ms).format(RFC3339_NANO)
}

/// A wall-clock time in Go's `time.RFC3339Nano`, UTC; `None` is Go's zero time.
pub fn rfc3339_nano(t: Option<SystemTime>) -> String {
    match t {
        Some(t) => GoTime::from_system(t).format(RFC3339_NANO),
        None => ZERO_TIME.to_string(),
    }
}

/// Go's `time.Parse(time.RFC3339, s)` (`RFC3339Nano` parses alike):
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as Prometheus's API reads
/// `time=` parameters and promtool reads `start_timestamp`.
///
/// This is Go's `parseRFC3339` with its range checks: a four-digit year,
/// days within the month, hours below 24, a zone offset below 24:00; any
/// number of fraction digits, those past the ninth ignored. Go's general
/// layout parser, which `time.Parse` falls back on, is not reproduced: its
/// extra leniencies (a one-digit hour, a comma before the fraction, a zone
/// hour of 24) are not accepted.
pub fn parse_rfc3339(s: &str) -> Option<GoTime> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>, lo: i64, hi: i64| -> Option<i64> {
        let part = &b[r];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = part.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0'));
        (lo..=hi).contains(&v).then_some(v)
    };
    if !(b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':') {
        return None;
    }
    let year = num(0..4, 0, 9999)?;
    let month = num(5..7, 1, 12)? as u32;
    let day = num(8..10, 1, i64::from(days_in_month(year, month)))? as u32;
    let hour = num(11..13, 0, 23)?;
    let min = num(14..16, 0, 59)?;
    let sec = num(17..19, 0, 59)?;
    let mut rest = &b[19..];
    let mut nanos: u32 = 0;
    if rest.len() >= 2 && rest[0] == b'.' && rest[1].is_ascii_digit() {
        let n = 1 + rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        // Digits past the ninth are ignored, as Go does.
        let digits = &rest[1..n.min(10)];
        nanos = digits
            .iter()
            .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
        for _ in digits.len()..9 {
            nanos *= 10;
        }
        rest = &rest[n..];
    }
    let offset = if rest == b"Z" {
        0
    } else {
        if rest.len() != 6 || rest[3] != b':' || !(rest[0] == b'+' || rest[0] == b'-') {
            return None;
        }
        let two = |i: usize, hi: u8| -> Option<i64> {
            let (a, c) = (rest[i], rest[i + 1]);
            if !a.is_ascii_digit() || !c.is_ascii_digit() {
                return None;
            }
            let v = (a - b'0') * 10 + (c - b'0');
            (v <= hi).then_some(i64::from(v))
        };
        let off = (two(1, 23)? * 60 + two(4, 59)?) * 60;
        if rest[0] == b'-' { -off } else { off }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(GoTime { secs, nanos })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// One element of a layout.
#[derive(Debug, PartialEq)]
enum Chunk {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    /// Numeric zone; `z` = prints `Z` for UTC; the text is the layout form.
    Zone {
        z: bool,
        colons: bool,
        seconds: bool,
        minutes: bool,
    },
    /// Fractional seconds: digits, and whether trailing zeros are trimmed.
    Frac {
        sep: char,
        digits: usize,
        trim: bool,
    },
}

/// Finds the next layout element: (literal prefix length, chunk, chunk length).
fn next_chunk(layout: &str) -> Option<(usize, Chunk, usize)> {
    let b = layout.as_bytes();
    let has = |i: usize, s: &str| layout[i..].starts_with(s);
    let lower_after = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..b.len() {
        if !layout.is_char_boundary(i) {
            continue;
        }
        let found = match b[i] {
            b'J' if has(i, "January") => Some((Chunk::LongMonth, 7)),
            b'J' if has(i, "Jan") && !lower_after(i + 3) => Some((Chunk::Month, 3)),
            b'M' if has(i, "Monday") => Some((Chunk::LongWeekDay, 6)),
            b'M' if has(i, "Mon") && !lower_after(i + 3) => Some((Chunk::WeekDay, 3)),
            b'M' if has(i, "MST") => Some((Chunk::Tz, 3)),
            b'0' if has(i, "002") => Some((Chunk::ZeroYearDay, 3)),
            b'0' if b.len() > i + 1 && (b'1'..=b'6').contains(&b[i + 1]) => Some((
                match b[i + 1] {
                    b'1' => Chunk::ZeroMonth,
                    b'2' => Chunk::ZeroDay,
                    b'3' => Chunk::ZeroHour12,
                    b'4' => Chunk::ZeroMinute,
                    b'5' => Chunk::ZeroSecond,
                    _ => Chunk::Year,
                },
                2,
            )),
            b'1' if has(i, "15") => Some((Chunk::Hour, 2)),
            b'1' => Some((Chunk::NumMonth, 1)),
            b'2' if has(i, "2006") => Some((Chunk::LongYear, 4)),
            b'2' => Some((Chunk::Day, 1)),
            b'_' if has(i, "_2006") => {
                // A literal underscore, then the year.
                return Some((i + 1, Chunk::LongYear, 4));
            }
            b'_' if has(i, "__2") => Some((Chunk::UnderYearDay, 3)),
            b'_' if has(i, "_2") => Some((Chunk::UnderDay, 2)),
            b'3' => Some((Chunk::Hour12, 1)),
            b'4' => Some((Chunk::Minute, 1)),
            b'5' => Some((Chunk::Second, 1)),
            b'P' if has(i, "PM") => Some((Chunk::PM, 2)),
            b'p' if has(i, "pm") => Some((Chunk::Pm, 2)),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, true),
                    ("07:00:00", true, true, true),
                    ("0700", false, false, true),
                    ("07:00", true, false, true),
                    ("07", false, false, false),
                ];
                forms.iter().find(|f| has(i + 1, f.0)).map(|f| {
                    (
                        Chunk::Zone {
                            z,
                            colons: f.1,
                            seconds: f.2,
                            minutes: f.3,
                        },
                        1 + f.0.len(),
                    )
                })
            }
            b'.' | b',' if b.len() > i + 1 && matches!(b[i + 1], b'0' | b'9') => {
                let d = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == d {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else {
                    Some((
                        Chunk::Frac {
                            sep: b[i] as char,
                            digits: j - i - 1,
                            trim: d == b'9',
                        },
                        j - i,
                    ))
                }
            }
            _ => None,
        };
        if let Some((c, len)) = found {
            return Some((i, c, len));
        }
    }
    None
}

fn format_layout(t: &GoTime, layout: &str) -> String {
    let mut out = String::new();
    let mut rest = layout;
    let c = t.civil();
    let (year, month, day) = (c.year, c.month, c.day);
    let (hour, min, sec) = (c.hour, c.minute, c.second);
    let (weekday, yday) = (c.weekday as usize, c.yday);
    while let Some((prefix, chunk, len)) = next_chunk(rest) {
        out.push_str(&rest[..prefix]);
        rest = &rest[prefix + len..];
        match chunk {
            Chunk::LongMonth => out.push_str(MONTHS[month as usize - 1]),
            Chunk::Month => out.push_str(&MONTHS[month as usize - 1][..3]),
            Chunk::NumMonth => out.push_str(&month.to_string()),
            Chunk::ZeroMonth => out.push_str(&format!("{month:02}")),
            Chunk::LongWeekDay => out.push_str(DAYS[weekday]),
            Chunk::WeekDay => out.push_str(&DAYS[weekday][..3]),
            Chunk::Day => out.push_str(&day.to_string()),
            Chunk::UnderDay => out.push_str(&format!("{day:>2}")),
            Chunk::ZeroDay => out.push_str(&format!("{day:02}")),
            Chunk::UnderYearDay => out.push_str(&format!("{:>3}", yday)),
            Chunk::ZeroYearDay => out.push_str(&format!("{:03}", yday)),
            Chunk::Hour => out.push_str(&format!("{hour:02}")),
            Chunk::Hour12 => {
                out.push_str(&(if hour % 12 == 0 { 12 } else { hour % 12 }).to_string())
            }
            Chunk::ZeroHour12 => out.push_str(&format!(
                "{:02}",
                if hour % 12 == 0 { 12 } else { hour % 12 }
            )),
            Chunk::Minute => out.push_str(&min.to_string()),
            Chunk::ZeroMinute => out.push_str(&format!("{min:02}")),
            Chunk::Second => out.push_str(&sec.to_string()),
            Chunk::ZeroSecond => out.push_str(&format!("{sec:02}")),
            Chunk::LongYear => {
                if year < 0 {
                    out.push_str(&format!("-{:04}", -year));
                } else {
                    out.push_str(&format!("{year:04}"));
                }
            }
            Chunk::Year => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            Chunk::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
            Chunk::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
            Chunk::Tz => out.push_str("UTC"),
            Chunk::Zone {
                z,
                colons,
                seconds,
                minutes,
            } => {
                if z {
                    out.push('Z');
                } else {
                    out.push_str("+00");
                    if minutes {
                        out.push_str(if colons { ":00" } else { "00" });
                    }
                    if seconds {
                        out.push_str(if colons { ":00" } else { "00" });
                    }
                }
            }
            Chunk::Frac { sep, digits, trim } => {
                let all = format!("{:09}", t.nanos);
                let mut frac = all[..digits.min(9)].to_string();
                if trim {
                    while frac.ends_with('0') {
                        frac.pop();
                    }
                    if !frac.is_empty() {
                        out.push(sep);
                        out.push_str(&frac);
                    }
                } else {
                    out.push(sep);
                    out.push_str(&frac);
                    for _ in 9..digits {
                        out.push('0');
                    }
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut out = String::new();
    if u < NANOS as u64 {
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, int) = frac(u, prec);
        out.push_str(&int.to_string());
        out.push_str(&frac);
        out.push_str(unit);
    } else {
        let (frac, secs) = frac(u, 9);
        u = secs;
        let mut s = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            s = format!("{}m{s}", u % 60);
            u /= 60;
            if u > 0 {
                s = format!("{u}h{s}");
            }
        }
        out.push_str(&s);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Splits `v / 10^prec` into its fraction (".5", trailing zeros dropped,
/// empty when whole) and integer part.
fn frac(v: u64, prec: u32) -> (String, u64) {
    let p = 10u64.pow(prec);
    let f = v % p;
    if f == 0 {
        return (String::new(), v / p);
    }
    let mut digits = format!("{f:0width$}", width = prec as usize);
    while digits.ends_with('0') {
        digits.pop();
    }
    (format!(".{digits}"), v / p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn time_strings() {
        assert_eq!(
            GoTime::unix(0, 0).go_string(),
            "1970-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            GoTime::unix(-1, 0).go_string(),
            "1969-12-31 23:59:59 +0000 UTC"
        );
        assert_eq!(
            GoTime::unix(1435065584, 128_000_000).go_string(),
            "2015-06-23 13:19:44.128 +0000 UTC"
        );
        let t = GoTime::unix(1353755652, 0);
        assert_eq!(
            t.format("Mon Jan 2 15:04:05 2006"),
            "Sat Nov 24 11:14:12 2012"
        );
        assert_eq!(
            t.format("2006-01-02T15:04:05Z07:00"),
            "2012-11-24T11:14:12Z"
        );
        assert_eq!(
            t.format("3:04PM _2 002 .000 -0700"),
            "11:14AM 24 329 .000 +0000"
        );
        assert_eq!(t.format("January Monday 06"), "November Saturday 12");
    }

    #[test]
    fn rfc3339_forms() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(3000), "1970-01-01T00:50:00Z");
        // Go writes years before 1 with a minus sign and four digits.
        assert_eq!(rfc3339(-62_198_755_200), "-0001-01-01T00:00:00Z");
        assert_eq!(rfc3339_nano(None), ZERO_TIME);
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_millis(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(rfc3339_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_millis(-62_135_596_800_000), ZERO_TIME);
        let t = UNIX_EPOCH + Duration::new(951_782_400, 5_000);
        assert_eq!(rfc3339_nano(Some(t)), "2000-02-29T00:00:00.000005Z");
        let t = UNIX_EPOCH - Duration::new(1, 500_000_000);
        assert_eq!(rfc3339_nano(Some(t)), "1969-12-31T23:59:58.5Z");
    }

    #[test]
    fn millisecond_layout() {
        // go-openapi's strfmt.DateTime, as the notifier sends startsAt/endsAt.
        let f = |ms: i64| GoTime::unix_milli(ms).format(RFC3339_MILLIS);
        assert_eq!(f(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(f(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(f(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(f(-1), "1969-12-31T23:59:59.999Z");
        // Go's zero time is 62135596800 s before the epoch.
        assert_eq!(f(-62_135_596_800_000), "0001-01-01T00:00:00.000Z");
        assert_eq!(
            GoTime::ZERO.format(RFC3339_MILLIS),
            "0001-01-01T00:00:00.000Z"
        );
        assert_eq!(GoTime::ZERO.format(RFC3339), ZERO_TIME);
        // Years before 1 get a minus sign and four digits.
        assert_eq!(
            GoTime::unix(-62_198_755_200, 0).format(RFC3339_MILLIS),
            "-0001-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn rfc3339_nano_of_system_times() {
        assert_eq!(rfc3339_nano(Some(UNIX_EPOCH)), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(1_709_200_800, 500_000_000);
        assert_eq!(rfc3339_nano(Some(t)), "2024-02-29T10:00:00.5Z");
        let t = UNIX_EPOCH + Duration::new(1_435_781_451, 781_000_123);
        assert_eq!(rfc3339_nano(Some(t)), "2015-07-01T20:10:51.781000123Z");
    }

    #[test]
    fn parses_rfc3339() {
        let ms = |s: &str| parse_rfc3339(s).map(|t| t.as_unix_milli());
        assert_eq!(ms("2015-07-01T20:10:51.781Z"), Some(1435781451781));
        assert_eq!(ms("2015-07-01T20:10:51Z"), Some(1435781451000));
        assert_eq!(ms("2015-07-01T22:10:51.7819999+02:00"), Some(1435781451781));
        assert_eq!(ms("1970-01-01T00:00:00-00:30"), Some(1_800_000));
        assert_eq!(ms("1969-12-31T23:59:59.5Z"), Some(-500));
        assert_eq!(ms("2024-02-29T00:00:00Z"), Some(1709164800000));
        assert_eq!(ms("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(ms("2024-01-01T00:00:00Z"), Some(1_704_067_200_000));
        assert_eq!(ms("2024-01-01T01:00:00.25+01:00"), Some(1_704_067_200_250));
        assert_eq!(ms("0001-01-01T00:00:00Z"), Some(-62_135_596_800_000));
        assert_eq!(
            parse_rfc3339("2015-07-01T20:10:51.123456789Z"),
            Some(GoTime::unix(1435781451, 123_456_789))
        );
        // Past nine digits the fraction is cut, not refused (Go's parseNanoseconds).
        assert_eq!(
            parse_rfc3339("2015-07-01T20:10:51.1234567899999Z"),
            Some(GoTime::unix(1435781451, 123_456_789))
        );
        // A dot with no digit is not a fraction.
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2015-07-01 20:10:51Z",
            "2015-07-01T20:10:51",
            "2015-07-01T24:00:00Z",
            "2015-07-01T20:60:00Z",
            "2015-07-01T20:10:60Z",
            "2015-13-01T20:10:51Z",
            "2015-07-01T20:10:51+2:00",
            "2015-07-01T20:10:51+24:00",
            "2015-07-01T20:10:51+02:60",
            "2015-07-01T20:10:51.Z",
            "2015-07-01T20:10:51Zx",
            "+015-07-01T20:10:51Z",
            "yesterday",
            "",
            "abc",
            "1e400",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn unix_milli_rounds_down() {
        assert_eq!(GoTime::unix(-1, 500_000_000).as_unix_milli(), -500);
        assert_eq!(GoTime::unix(-1, 999_999).as_unix_milli(), -1000);
        assert_eq!(GoTime::unix(1, 999_999).as_unix_milli(), 1000);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(1_800 * NANOS), "30m0s");
        assert_eq!(duration_string(3_600 * NANOS), "1h0m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(7), "7ns");
        assert_eq!(duration_string(-90 * NANOS), "-1m30s");
        assert_eq!(duration_string(i64::MAX), "2562047h47m16.854775807s");
        assert_eq!(duration_string(i64::MIN), "-2562047h47m16.854775808s");
        // Whole milliseconds, as promtool prints evaluation times.
        let ms = |ms: i64| duration_string(ms * 1_000_000);
        assert_eq!(ms(500), "500ms");
        assert_eq!(ms(1500), "1.5s");
        assert_eq!(ms(60_000), "1m0s");
        assert_eq!(ms(86_400_000 + 61_050), "24h1m1.05s");
    }
}
