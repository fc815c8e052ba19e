//! Numbers for people: the one place that decides how counts, milliseconds, shares and distances
//! are rounded and written in the terminal, the report, the charts and the findings' text.
//!
//! CSV files never use these: they keep fixed decimals ([`super::values`]).

/// Shown for an absent value in the report.
pub const MISSING: &str = "–";

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    grouped(n, ',')
}

/// `1234567` → `1 234 567` with narrow no-break spaces (the report's typography).
pub fn count_thin(n: u64) -> String {
    grouped(n, '\u{202f}')
}

fn grouped(n: u64, separator: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// `12.3 ms`, or [`MISSING`].
pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| MISSING.into(), |x| format!("{x:.1} ms"))
}

/// `+12.3 ms`, or [`MISSING`].
pub fn ms_change(v: Option<f64>) -> String {
    v.map_or_else(|| MISSING.into(), |x| format!("{x:+.1} ms"))
}

/// A terminal column: `12.3`, or `-`.
pub fn ms_column(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.1}"))
}

/// A chart label: one decimal below 10 ms, where the decimal still matters, else whole.
pub fn ms_label(ms: f64) -> String {
    if ms.abs() < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A whole number of milliseconds in prose (`120 ms`), or `n/a`.
pub fn ms_whole(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{x:.0} ms"))
}

/// A share 0..1 as a percentage with one decimal; a non-zero share that would print as `0.0%`
/// is `<0.1%`; absent is [`MISSING`].
pub fn percent(v: Option<f64>) -> String {
    match v {
        None => MISSING.into(),
        Some(x) if x > 0.0 && x < 0.0005 => "<0.1%".into(),
        Some(x) => format!("{:.1}%", x * 100.0),
    }
}

/// A share 0..1 as a percentage with one decimal for charts; non-finite is `n/a`.
pub fn percent_label(share: f64) -> String {
    if share.is_finite() {
        format!("{:.1}%", share * 100.0)
    } else {
        "n/a".to_string()
    }
}

/// `1235 km`, or [`MISSING`].
pub fn km(v: Option<f64>) -> String {
    v.map_or_else(|| MISSING.into(), |x| format!("{x:.0} km"))
}

/// A compared number (`egress-sim compare`): shares in percent (differences in percentage
/// points), finding counts whole, everything else with one decimal; `signed` for differences.
pub fn compared(metric: &str, v: Option<f64>, signed: bool) -> String {
    let Some(x) = v else { return MISSING.into() };
    if metric.ends_with("_share") || metric == "highest_utilization" {
        if signed {
            format!("{:+.1} pp", x * 100.0)
        } else {
            format!("{:.1}%", x * 100.0)
        }
    } else if metric == "high_severity_findings" {
        if signed {
            format!("{x:+.0}")
        } else {
            format!("{x:.0}")
        }
    } else if signed {
        format!("{x:+.1}")
    } else {
        format!("{x:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count_thin(1_234_567), "1\u{202f}234\u{202f}567");
    }

    #[test]
    fn milliseconds_and_shares() {
        assert_eq!(ms(Some(12.345)), "12.3 ms");
        assert_eq!(ms(None), "–");
        assert_eq!(ms_change(Some(3.0)), "+3.0 ms");
        assert_eq!(ms_column(None), "-");
        assert_eq!(ms_label(4.25), "4.2 ms");
        assert_eq!(ms_label(123.4), "123 ms");
        assert_eq!(ms_whole(Some(119.6)), "120 ms");
        assert_eq!(percent(Some(0.123456)), "12.3%");
        assert_eq!(percent(Some(0.000001)), "<0.1%");
        assert_eq!(percent(Some(0.0)), "0.0%");
        assert_eq!(percent_label(0.4123), "41.2%");
        assert_eq!(percent_label(f64::NAN), "n/a");
        assert_eq!(compared("dedicated_share", Some(0.25), false), "25.0%");
        assert_eq!(compared("dedicated_share", Some(-0.05), true), "-5.0 pp");
        assert_eq!(compared("high_severity_findings", Some(2.0), true), "+2");
        assert_eq!(compared("rtt_p95_ms", None, false), "–");
    }
}
