//! The asserted `format`s: `date-time` and `date` (RFC 3339), `uuid` (RFC 4122 text form) and
//! `email` (RFC 5321 mailbox). Parsers return the stored value so the writer never re-parses.

/// Microseconds since the Unix epoch of an RFC 3339 `date-time`. Fractions beyond microseconds are
/// truncated; a leap second (`:60`) counts as the last microsecond of its minute.
pub fn parse_date_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let days = parse_date_bytes(&b[..10])?;
    if !matches!(b[10], b'T' | b't') {
        return None;
    }
    let hour = two(b, 11)?;
    let minute = two(b, 14)?;
    let second = two(b, 17)?;
    if b[13] != b':' || b[16] != b':' || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(d @ b'0'..=b'9') = b.get(i) {
            if i - start < 6 {
                micros = micros * 10 + i64::from(d - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..6 {
            micros *= 10;
        }
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = two(b, i + 1)?;
            let om = two(b, i + 4)?;
            if b.get(i + 3) != Some(&b':') || oh > 23 || om > 59 {
                return None;
            }
            i += 6;
            let m = i64::from(oh) * 60 + i64::from(om);
            if sign == b'-' { -m } else { m }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }
    let local_minutes = i64::from(hour) * 60 + i64::from(minute);
    if second == 60 {
        // A leap second exists only at 23:59:60 UTC.
        if (local_minutes - offset_minutes).rem_euclid(24 * 60) != 23 * 60 + 59 {
            return None;
        }
    }
    let secs = days * 86_400 + local_minutes * 60 - offset_minutes * 60 + i64::from(second.min(59));
    let micros = if second == 60 { 999_999 } else { micros };
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

/// Days since the Unix epoch of an RFC 3339 `full-date` (`YYYY-MM-DD`).
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 {
        return None;
    }
    i32::try_from(parse_date_bytes(b)?).ok()
}

fn parse_date_bytes(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i64::from(two(b, 0)?) * 100 + i64::from(two(b, 2)?);
    let month = two(b, 5)?;
    let day = two(b, 8)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, i64::from(month), i64::from(day)))
}

fn two(b: &[u8], i: usize) -> Option<u32> {
    match (b.get(i), b.get(i + 1)) {
        (Some(a @ b'0'..=b'9'), Some(c @ b'0'..=b'9')) => Some(u32::from(a - b'0') * 10 + u32::from(c - b'0')),
        _ => None,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Howard Hinnant's days-from-civil algorithm.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// An RFC 5321 mailbox: dot-atom or quoted local part, then a host name or an address literal.
pub fn is_email(s: &str) -> bool {
    let Some(at) = local_part_end(s) else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || domain.is_empty() {
        return false;
    }
    let local_ok = if local.starts_with('"') {
        local.len() >= 2 && local.ends_with('"') && quoted_ok(&local[1..local.len() - 1])
    } else {
        local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
    };
    local_ok && domain_ok(domain)
}

/// Index of the `@` that separates local part and domain (a quoted local part may contain `@`).
fn local_part_end(s: &str) -> Option<usize> {
    if s.starts_with('"') {
        let mut escaped = false;
        for (i, c) in s.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return (s[i + 1..].starts_with('@')).then_some(i + 1),
                _ => {}
            }
        }
        None
    } else {
        s.find('@')
    }
}

fn quoted_ok(inner: &str) -> bool {
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' || (c.is_ascii_control() && c != '\t') {
            return false;
        }
    }
    !escaped
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn domain_ok(d: &str) -> bool {
    if let Some(lit) = d.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return match lit.strip_prefix("IPv6:") {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => lit.parse::<std::net::Ipv4Addr>().is_ok(),
        };
    }
    d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_to_micros() {
        assert_eq!(parse_date_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date_time("2024-03-10T23:59:59.999+02:00"), Some(1_710_107_999_999_000));
        assert_eq!(parse_date_time("1970-01-01t00:00:01.1234567z"), Some(1_123_456));
        assert_eq!(parse_date_time("1998-12-31T15:59:60.123-08:00"), Some(915_148_799_999_999));
        assert_eq!(parse_date_time("1998-12-31T22:59:60Z"), None);
        assert_eq!(parse_date_time("2021-02-29T00:00:00Z"), None);
        assert_eq!(parse_date_time("2020-02-29T00:00:00Z"), Some(1_582_934_400_000_000));
        assert_eq!(parse_date_time("2020-01-01 00:00:00Z"), None);
        assert_eq!(parse_date_time("2020-01-01T00:00:00"), None);
        assert_eq!(parse_date_time("2020-01-01T00:00:00+24:00"), None);
    }

    #[test]
    fn dates_uuids_emails() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2024-13-01"), None);
        assert!(is_uuid("2eb8aa08-AA98-11ea-b4aa-73b441d16380"));
        assert!(!is_uuid("2eb8aa08-aa98-11ea-b4aa-73b441d1638"));
        assert!(is_email("\"joe@bloggs\"@example.com"));
        assert!(is_email("joe.bloggs@[IPv6:::1]"));
        assert!(!is_email("joe.bloggs@[127.0.0.300]"));
        assert!(!is_email("te..st@example.com"));
        assert!(!is_email("joe.bloggs@invalid=domain.com"));
    }
}
