//! Durations on the command line: `90s`, `30m`, `2h`, `7d`, `1h30m` (humantime's syntax), or a
//! bare number of seconds.

use std::time::Duration;

/// A duration flag that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid duration {input:?}: expected a number with a unit, such as 90s, 30m, 2h or 7d ({reason})")]
pub struct DurationError {
    pub input: String,
    pub reason: String,
}

/// Parses `90s`, `30m`, `2h`, `7d`, `1h30m` or a bare number of seconds.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let s = input.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| DurationError { input: input.into(), reason: e.to_string() })
}

/// A duration flag: parsed by [`parse_duration`], shown as `7days`, `1h 30m` in `--help` defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// As a `chrono` duration (saturating; flags never come near the limit).
    pub fn chrono(self) -> chrono::Duration {
        chrono::Duration::from_std(self.0).unwrap_or(chrono::Duration::MAX)
    }
}

impl std::str::FromStr for HumanDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(HumanDuration)
    }
}

impl std::fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl From<chrono::Duration> for HumanDuration {
    fn from(d: chrono::Duration) -> Self {
        HumanDuration(d.to_std().unwrap_or_default())
    }
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
        assert_eq!("2h".parse::<HumanDuration>().unwrap().chrono(), chrono::Duration::hours(2));
        let shown = HumanDuration::from(chrono::Duration::days(7)).to_string();
        assert_eq!(shown.parse::<HumanDuration>().unwrap().chrono(), chrono::Duration::days(7), "{shown}");
    }
}
