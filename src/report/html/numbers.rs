//! Number cells: the readable value (the one human rounding rule of [`crate::analysis::human`]) with
//! the exact CSV string in `data-value`.

use super::markup::td_num;
use crate::analysis::human::{count, ms_change};
use crate::analysis::values::{Conns, Ms, Share};

/// Number cell for milliseconds.
pub(super) fn td_ms(v: Ms) -> String {
    td_num(&v.to_string(), &v.csv())
}

/// Number cell for a change in milliseconds (`+12.3 ms`).
pub(super) fn td_change(v: Ms) -> String {
    td_num(&ms_change(v.rounded()), &v.csv())
}

/// Number cell for a share (`12.3%`).
pub(super) fn td_share(v: Share) -> String {
    td_num(&v.to_string(), &v.csv())
}

/// Number cell for a count.
pub(super) fn td_count(n: u64) -> String {
    td_num(&count(n), &n.to_string())
}

/// Number cell for connections: whole connections shown, one decimal in `data-value`.
pub(super) fn td_conns(v: Conns) -> String {
    td_num(&count(v.0.unwrap_or(0.0).max(0.0).round() as u64), &v.csv())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_show_the_human_form_and_carry_the_csv_text() {
        assert_eq!(
            td_ms(Ms::of(12.345)),
            "<td class=\"num\" data-value=\"12.345\">12.3 ms</td>"
        );
        assert_eq!(td_ms(Ms(None)), "<td class=\"num\" data-value=\"\">–</td>");
        assert!(td_change(Ms::of(3.0)).contains(">+3.0 ms<"));
        assert!(td_share(Share::of(0.000001)).contains(">&lt;0.1%<"));
        assert!(td_count(1234567).contains(">1,234,567<"));
        assert!(td_conns(Conns::of(41_200.46)).contains("data-value=\"41200.5\""));
    }
}
