//! Durations on the command line: `90s`, `30m`, `2h`, `7d`, or combinations such as `1h30m`.

use std::time::Duration;

/// A duration flag that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid duration {input:?}: expected a number with a unit, such as 90s, 30m, 2h or 7d")]
pub struct DurationError {
    pub input: String,
}

/// Parses `90s`, `30m`, `2h`, `7d`, `1h30m` or a bare number of seconds.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = || DurationError { input: input.into() };
    let s = input.trim();
    if s.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: u64 = digits.parse().map_err(|_| err())?;
        digits.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(err()),
        };
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(err)?;
    }
    if !digits.is_empty() {
        return Err(err());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        for (s, secs) in [("90s", 90), ("30m", 1800), ("2h", 7200), ("7d", 604_800), ("1h30m", 5400), ("45", 45)] {
            assert_eq!(parse_duration(s).unwrap().as_secs(), secs, "{s}");
        }
        for bad in ["", "h", "5x", "10m5"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
