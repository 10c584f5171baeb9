//! The proleptic Gregorian calendar of Unix seconds, in UTC, as Go's `time`
//! package computes it (PromQL's calendar functions, every time format).

/// A UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// The year; before year 1 it is 0, then negative.
    pub year: i64,
    /// 1-12.
    pub month: u32,
    /// 1-31.
    pub day: u32,
    /// 0-23.
    pub hour: u32,
    /// 0-59.
    pub minute: u32,
    /// 0-59.
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    /// 1-based day of the year.
    pub yday: u32,
}

impl Civil {
    /// The UTC calendar time `secs` seconds after the epoch.
    pub fn of_seconds(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let jan1 = days_from_civil(year, 1, 1);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
            yday: (days - jan1 + 1) as u32,
        }
    }
}

/// Whether `y` is a Gregorian leap year.
pub fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// The number of days of month `m` (1-12) of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm, in 128-bit arithmetic so extreme years cannot overflow).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = i128::from(y) - i128::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i128::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i128::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    i64::try_from(days).unwrap_or(if days < 0 { i64::MIN } else { i64::MAX })
}

/// The proleptic Gregorian (year, month, day) `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    let year = i64::try_from(year).unwrap_or(if year < 0 { i64::MIN } else { i64::MAX });
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        // 2006-01-02T22:04:05Z, a Monday (functions.test's reference time).
        let c = Civil::of_seconds(1_136_239_445);
        assert_eq!((c.year, c.month, c.day), (2006, 1, 2));
        assert_eq!((c.hour, c.minute, c.second), (22, 4, 5));
        assert_eq!(c.weekday, 1);
        assert_eq!(c.yday, 2);
        // 2016-02-29 23:59:59 and the next second.
        let c = Civil::of_seconds(1_456_790_399);
        assert_eq!((c.month, c.day), (2, 29));
        let c = Civil::of_seconds(1_456_790_400);
        assert_eq!((c.month, c.day), (3, 1));
        // 2016-12-31 is day 366.
        assert_eq!(Civil::of_seconds(1_483_191_420).yday, 366);
        let c = Civil::of_seconds(-1);
        assert_eq!((c.year, c.month, c.day, c.hour), (1969, 12, 31, 23));
        assert_eq!(c.weekday, 3);
        assert_eq!(days_in_month(2016, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2017, 2), 28);
    }

    #[test]
    fn extreme_seconds_do_not_panic() {
        let _ = Civil::of_seconds(i64::MIN);
        let _ = Civil::of_seconds(i64::MAX);
        let _ = civil_from_days(i64::MIN);
        let _ = civil_from_days(i64::MAX);
        let _ = days_from_civil(i64::MIN, 1, 1);
        let _ = days_from_civil(i64::MAX, 12, 31);
    }

    #[test]
    fn round_trip_days() {
        for d in [-800_000i64, -1, 0, 59, 60, 365, 11_016, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2000-02-29, a leap day of a year divisible by 400.
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
