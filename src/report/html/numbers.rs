//! Readable forms of CSV values: the report shows these, and keeps the CSV string in `data-value`.

use super::markup::td_num;

/// Shown form of a CSV millisecond value (`12.345` → `12.3 ms`); empty stays a dash.
pub(super) fn ms_shown(csv: &str) -> String {
    csv.parse::<f64>()
        .map_or_else(|_| "–".into(), |x| format!("{x:.1} ms"))
}

/// Shown form of a signed CSV millisecond change (`+12.3 ms`).
pub(super) fn change_shown(csv: &str) -> String {
    csv.parse::<f64>()
        .map_or_else(|_| "–".into(), |x| format!("{x:+.1} ms"))
}

/// Shown form of a CSV share 0..1 (`0.123456` → `12.3%`, tiny non-zero shares → `<0.1%`).
pub(super) fn share_shown(csv: &str) -> String {
    match csv.parse::<f64>() {
        Err(_) => "–".into(),
        Ok(x) if x > 0.0 && x < 0.0005 => "<0.1%".into(),
        Ok(x) => format!("{:.1}%", x * 100.0),
    }
}

/// An integer with thin thousands separators (`12345` → `12 345`).
pub(super) fn count_shown(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// Number cell for a CSV millisecond value.
pub(super) fn td_ms(csv: &str) -> String {
    td_num(&ms_shown(csv), csv)
}

/// Number cell for a CSV millisecond change.
pub(super) fn td_change(csv: &str) -> String {
    td_num(&change_shown(csv), csv)
}

/// Number cell for a CSV share.
pub(super) fn td_share(csv: &str) -> String {
    td_num(&share_shown(csv), csv)
}

/// Number cell for a count.
pub(super) fn td_count(n: u64) -> String {
    td_num(&count_shown(n), &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_forms() {
        assert_eq!(ms_shown("12.345"), "12.3 ms");
        assert_eq!(ms_shown(""), "–");
        assert_eq!(change_shown("3.000"), "+3.0 ms");
        assert_eq!(share_shown("0.123456"), "12.3%");
        assert_eq!(share_shown("0.000001"), "<0.1%");
        assert_eq!(share_shown("0.000000"), "0.0%");
        assert_eq!(count_shown(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(count_shown(999), "999");
    }
}
