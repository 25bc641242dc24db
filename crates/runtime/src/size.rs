//! Sizes on the command line: `4GiB`, `512MiB`, `2G`, `64M`, or bytes.

/// A size flag that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid size {input:?}: expected a number with a unit, such as 512MiB or 4GiB")]
pub struct SizeError {
    pub input: String,
}

/// Parses `4GiB`, `4G`, `512MiB`, `512M`, `64KiB` or a plain number of bytes (binary units).
pub fn parse_size(input: &str) -> Result<usize, SizeError> {
    let err = || SizeError { input: input.into() };
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| err())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err()),
    };
    let bytes = n * mult;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(err());
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_size("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5g").unwrap(), 3 << 29);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }
}
