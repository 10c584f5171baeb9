//! Byte sizes written as Prometheus writes them (`15MB`, `1GiB`, `0`): base-2 multiples,
//! `KB` and `KiB` both meaning 1024, a unit required on every number.

/// Parses a size the way Prometheus's `body_size_limit` does; `None` when it does not parse.
pub fn parse_base2_bytes(s: &str) -> Option<i64> {
    // Prometheus tries the `KiB` table first, then the `KB` one; a string mixing both fails.
    parse_with(s, "iB").or_else(|| parse_with(s, "B"))
}

fn unit_multiplier(unit: &str, suffix: &str) -> Option<f64> {
    if unit == "B" {
        return Some(1.0);
    }
    let prefix = unit.strip_suffix(suffix)?;
    let power = ["K", "M", "G", "T", "P", "E"]
        .iter()
        .position(|p| *p == prefix)?;
    Some(1024f64.powi(power as i32 + 1))
}

fn parse_with(orig: &str, suffix: &str) -> Option<i64> {
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return None;
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut value: f64 = if int_len > 0 {
            s[..int_len].parse::<u64>().ok()? as f64
        } else {
            0.0
        };
        s = &s[int_len..];
        let mut frac_len = 0;
        if let Some(rest) = s.strip_prefix('.') {
            frac_len = rest.bytes().take_while(|c| c.is_ascii_digit()).count();
            if frac_len > 0 {
                let frac: f64 = format!("0.{}", &rest[..frac_len]).parse().ok()?;
                value += frac;
            }
            s = &rest[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return None;
        }
        let unit_len = s
            .bytes()
            .take_while(|c| !(*c == b'.' || c.is_ascii_digit()))
            .count();
        let mult = unit_multiplier(&s[..unit_len], suffix)?;
        s = &s[unit_len..];
        total += value * mult;
    }
    if neg {
        total = -total;
    }
    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&total) {
        return None;
    }
    Some(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prometheus_sizes() {
        assert_eq!(parse_base2_bytes("15MB"), Some(15 * 1024 * 1024));
        assert_eq!(parse_base2_bytes("10MiB"), Some(10 * 1024 * 1024));
        assert_eq!(parse_base2_bytes("1KB"), Some(1024));
        assert_eq!(parse_base2_bytes("512B"), Some(512));
        assert_eq!(parse_base2_bytes("1.5KB"), Some(1536));
        assert_eq!(
            parse_base2_bytes("1GB512MB"),
            Some(1024 * 1024 * 1024 + 512 * 1024 * 1024)
        );
        assert_eq!(parse_base2_bytes("0"), Some(0));
        // A unit is required, `kB` (SI) is refused, and nonsense is refused.
        assert_eq!(parse_base2_bytes("100"), None);
        assert_eq!(parse_base2_bytes("1kB"), None);
        assert_eq!(parse_base2_bytes("MB"), None);
        assert_eq!(parse_base2_bytes(""), None);
        assert_eq!(parse_base2_bytes("1KiB1KB"), None);
    }
}
