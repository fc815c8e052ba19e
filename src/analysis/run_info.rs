//! Run metadata shown in the headline: when the report was made and by which version of the tool.

use crate::civil_date::civil_from_days;
use std::time::{SystemTime, UNIX_EPOCH};

/// When and by what a report was made. The only part of `report.html` that differs between two
/// runs of the same scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// Run date, `YYYY-MM-DD HH:MM UTC`.
    pub date: String,
    /// Tool version (`CARGO_PKG_VERSION`).
    pub version: String,
}

impl RunInfo {
    /// Metadata of a run happening now, from the system clock.
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            date: utc_minute(secs),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// `YYYY-MM-DD HH:MM UTC` for `secs` seconds after the Unix epoch.
pub(crate) fn utc_minute(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_minute(1_735_689_599), "2024-12-31 23:59 UTC");
        assert_eq!(utc_minute(1_709_210_096), "2024-02-29 12:34 UTC");
    }
}
