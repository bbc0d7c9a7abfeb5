//! Durations in the settings file (`lock_timeout`, `connect_timeout`,
//! Vault's timeouts): seconds, or strings such as `"30s"` and `"1m30s"`.

use std::time::Duration;

/// A duration: an integer number of seconds, or a string of one or more
/// `<number><unit>` parts with units `ms`, `s`, `m`, `h` (`"30s"`,
/// `"5m"`, `"1m30s"`), or a bare number of seconds as a string.
pub(crate) fn parse_duration(value: &toml::Value) -> Result<Duration, String> {
    const HINT: &str =
        "use seconds (30) or a string such as \"30s\", \"5m\", \"1h\", \"1m30s\", \"500ms\"";
    let text = match value {
        toml::Value::Integer(secs) => {
            return u64::try_from(*secs)
                .map(Duration::from_secs)
                .map_err(|_| format!("must not be negative; {HINT}"));
        }
        toml::Value::String(text) => text.trim(),
        _ => return Err(format!("must be an integer or a string; {HINT}")),
    };
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let invalid = || format!("invalid duration `{text}`; {HINT}");
    if text.is_empty() {
        return Err(invalid());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => number
                .checked_mul(60)
                .map(Duration::from_secs)
                .ok_or_else(invalid)?,
            "h" => number
                .checked_mul(3600)
                .map(Duration::from_secs)
                .ok_or_else(invalid)?,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total = total.checked_add(part).ok_or_else(invalid)?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration(v: toml::Value) -> Result<Duration, String> {
        parse_duration(&v)
    }

    #[test]
    fn durations() {
        let s = |t: &str| duration(toml::Value::String(t.to_owned()));
        assert_eq!(
            duration(toml::Value::Integer(30)),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(s("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(s("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(s("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(s("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(s("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(s("45"), Ok(Duration::from_secs(45)));
        for bad in ["", "5x", "m", "5 m", "-5s", "1.5s"] {
            assert!(s(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            duration(toml::Value::Integer(-1))
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            duration(toml::Value::Float(1.5))
                .unwrap_err()
                .contains("integer or a string")
        );
    }
}
