//! Numbers for people: the one place that decides how counts, milliseconds, shares and distances
//! are rounded and written in the terminal, the report, the charts and the findings' text.
//!
//! CSV files never use these: they keep fixed decimals ([`super::values`]).

/// Shown for an absent value in the report.
pub const MISSING: &str = "–";

/// `1234567` → `1,234,567`: the one thousands separator of the terminal, the report, the charts
/// and the findings' text.
pub fn count(n: u64) -> String {
    let separator = ',';
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

/// `12.3 ms` (`1,234.5 ms`), or [`MISSING`].
pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| MISSING.into(), |x| format!("{} ms", decimal(x, 1)))
}

/// `x` with `places` decimals and thousands separators: `-1,234.5`.
pub fn decimal(x: f64, places: usize) -> String {
    let text = format!("{:.places$}", x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::with_capacity(text.len() + 4);
    if x.is_sign_negative() && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.push('-');
    }
    match whole.parse::<u64>() {
        Ok(n) => out.push_str(&count(n)),
        // Not a plain number (inf, NaN): as Rust prints it.
        Err(_) => out.push_str(whole),
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// `+12.3 ms`, `-3.0 ms`, `±0.0 ms` for a change that rounds to nothing, or [`MISSING`].
pub fn ms_change(v: Option<f64>) -> String {
    v.map_or_else(|| MISSING.into(), |x| format!("{} ms", signed(x)))
}

/// Whether a change in milliseconds shows as something other than `±0.0` once rounded for
/// people (the rule that decides which failure cases "change nothing").
pub fn ms_change_shows(v: Option<f64>) -> bool {
    v.is_some_and(|x| !rounds_to_zero(x))
}

fn rounds_to_zero(x: f64) -> bool {
    format!("{:.1}", x.abs()) == "0.0"
}

/// `+12.3`, `-3.0` or `±0.0` (`+1,234.5`).
fn signed(x: f64) -> String {
    if rounds_to_zero(x) {
        "±0.0".into()
    } else if x > 0.0 {
        format!("+{}", decimal(x, 1))
    } else {
        decimal(x, 1)
    }
}

/// A terminal column: `12.3` (`1,234.5`), or `-`.
pub fn ms_column(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| decimal(x, 1))
}

/// A terminal column for a change: `+12.3`, `±0.0`, or `-`.
pub fn ms_change_column(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), signed)
}

/// A chart label: one decimal below 10 ms, where the decimal still matters, else whole.
pub fn ms_label(ms: f64) -> String {
    if ms.abs() < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// A share 0..1 as a percentage with one decimal; a non-zero share that would print as `0.0%`
/// is `<0.1%`; absent is [`MISSING`].
pub fn percent(v: Option<f64>) -> String {
    match v {
        None => MISSING.into(),
        Some(x) if x > 0.0 && x < 0.0005 => "<0.1%".into(),
        Some(x) => format!("{}%", decimal(x * 100.0, 1)),
    }
}

/// `1,235 km`, or [`MISSING`].
pub fn km(v: Option<f64>) -> String {
    v.map_or_else(|| MISSING.into(), |x| format!("{} km", decimal(x, 0)))
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
    }

    #[test]
    fn milliseconds_and_shares() {
        assert_eq!(ms(Some(12.345)), "12.3 ms");
        assert_eq!(ms(None), "–");
        assert_eq!(ms(Some(1234.56)), "1,234.6 ms");
        assert_eq!(ms_change(Some(-1234.0)), "-1,234.0 ms");
        assert_eq!(decimal(-0.01, 1), "0.0");
        assert_eq!(decimal(-12.25, 2), "-12.25");
        assert_eq!(decimal(1_000_000.0, 0), "1,000,000");
        assert_eq!(ms_change(Some(3.0)), "+3.0 ms");
        assert_eq!(ms_change(Some(-3.04)), "-3.0 ms");
        assert_eq!(ms_change(Some(0.049)), "±0.0 ms");
        assert_eq!(ms_change(Some(-0.01)), "±0.0 ms");
        assert!(!ms_change_shows(Some(0.049)) && ms_change_shows(Some(0.051)));
        assert!(!ms_change_shows(None));
        assert_eq!(ms_change_column(Some(41.04)), "+41.0");
        assert_eq!(ms_change_column(None), "-");
        assert_eq!(ms_column(None), "-");
        assert_eq!(ms_label(4.25), "4.2 ms");
        assert_eq!(ms_label(123.4), "123 ms");
        assert_eq!(percent(Some(0.123456)), "12.3%");
        assert_eq!(percent(Some(0.000001)), "<0.1%");
        assert_eq!(percent(Some(0.0)), "0.0%");
        assert_eq!(compared("dedicated_share", Some(0.25), false), "25.0%");
        assert_eq!(compared("dedicated_share", Some(-0.05), true), "-5.0 pp");
        assert_eq!(compared("high_severity_findings", Some(2.0), true), "+2");
        assert_eq!(compared("rtt_p95_ms", None, false), "–");
    }
}
