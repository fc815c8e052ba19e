//! What `users.csv` (`--per-user`) will cover and how large it will be, known before the simulation
//! starts: one row per user and selected case, so a sweep of 124 cases over a million users is
//! 124 million rows (about 9 GB). The selection is applied to the engine's per-user rows as they
//! are written; the engine itself always produces every case.

use crate::analysis::human::count;
use crate::error::{InputError, Result};
use crate::suggest;
use crate::world::World;

/// Above this estimated size (10⁹ bytes) a run with `--per-user` warns before it starts.
pub const LARGE_BYTES: u64 = 1_000_000_000;

/// The cases `users.csv` covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSelection {
    /// Per case of the world: written or not.
    pub selected: Vec<bool>,
}

impl CaseSelection {
    /// Every case of `world`.
    pub fn all(world: &World) -> Self {
        Self {
            selected: vec![true; world.cases.len()],
        }
    }

    /// The cases named in `names` (every case when empty); an unknown name is an input error with
    /// the closest case name.
    pub fn named(world: &World, names: &[String]) -> Result<Self> {
        if names.is_empty() {
            return Ok(Self::all(world));
        }
        let mut selected = vec![false; world.cases.len()];
        for name in names {
            let name = name.trim();
            match world.cases.iter().position(|c| c.name == name) {
                Some(i) => selected[i] = true,
                None => return Err(unknown_case(world, name).into()),
            }
        }
        Ok(Self { selected })
    }

    /// Whether case `c` is written.
    pub fn includes(&self, case: u16) -> bool {
        self.selected[case as usize]
    }

    /// Number of cases written.
    pub fn len(&self) -> usize {
        self.selected.iter().filter(|s| **s).count()
    }

    /// True when no case is written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Estimated size of `users.csv` in bytes: per row, the case, population and egress names, the
    /// user's index, and fixed-width numbers (coordinates with five decimals, an RTT with three).
    pub fn estimate_bytes(&self, world: &World) -> u64 {
        // lat (9) + lon (10) + country (2) + ingress (3) + rtt (7) + 8 commas + newline.
        const FIXED: f64 = 40.0;
        let egress_label = if world.egress.is_empty() {
            7.0
        } else {
            world.egress.iter().map(|e| e.id.len() as f64).sum::<f64>() / world.egress.len() as f64
        };
        let per_case_rows: f64 = world
            .populations
            .iter()
            .map(|p| p.users as f64 * (p.name.len() as f64 + FIXED + egress_label))
            .sum::<f64>()
            + index_digits(world.users) as f64;
        let by_case: f64 = world
            .cases
            .iter()
            .zip(&self.selected)
            .filter(|(_, s)| **s)
            .map(|(c, _)| per_case_rows + world.users as f64 * c.name.len() as f64)
            .sum();
        const HEADER: u64 = 64;
        by_case.round() as u64 + HEADER
    }

    /// A line for the terminal: rows and estimated size; with a warning and what to do above
    /// [`LARGE_BYTES`].
    pub fn describe(&self, world: &World) -> (String, bool) {
        let bytes = self.estimate_bytes(world);
        let rows = world.users * self.len() as u64;
        let text = format!(
            "users.csv: {} users × {} case{} = {} rows, about {}",
            count(world.users),
            self.len(),
            if self.len() == 1 { "" } else { "s" },
            count(rows),
            bytes_label(bytes)
        );
        if bytes <= LARGE_BYTES {
            return (text, false);
        }
        let baseline = Self::named(world, &[world.cases[0].name.clone()])
            .map(|b| b.estimate_bytes(world))
            .unwrap_or(0);
        (
            format!(
                "warning: {text} (more than {}). Press Ctrl-C to stop, and pass `--per-user-cases {}` for the baseline alone (about {}), or fewer `--users`",
                bytes_label(LARGE_BYTES),
                world.cases[0].name,
                bytes_label(baseline)
            ),
            true,
        )
    }
}

/// Total decimal digits of the indexes 0..n (the `user` column).
fn index_digits(n: u64) -> u64 {
    let (mut total, mut low, mut digits) = (0u64, 0u64, 1u64);
    while low < n {
        let high = if digits == 1 { 10 } else { low * 10 }.min(n);
        total += (high - low) * digits;
        low = high;
        digits += 1;
    }
    total
}

/// Bytes for people, in decimal units (`8.8 GB`).
fn bytes_label(b: u64) -> String {
    let x = b as f64;
    match b {
        0..1_000_000 => format!("{:.0} kB", (x / 1e3).max(1.0)),
        1_000_000..1_000_000_000 => format!("{:.0} MB", x / 1e6),
        _ => format!("{:.1} GB", x / 1e9),
    }
}

fn unknown_case(world: &World, name: &str) -> InputError {
    let names = world.cases.iter().map(|c| c.name.as_str());
    let help = match suggest::closest(name, names.clone()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            let shown: Vec<&str> = names.clone().take(8).collect();
            let more = world.cases.len().saturating_sub(shown.len());
            format!(
                "cases of this run: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more (see `summary.csv`)")
                } else {
                    String::new()
                }
            )
        }
    };
    InputError::new(format!("unknown case `{name}` in `--per-user-cases`")).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_digits_count_every_digit() {
        let direct = |n: u64| (0..n).map(|i| i.to_string().len() as u64).sum::<u64>();
        for n in [0, 1, 9, 10, 11, 99, 100, 101, 12_345] {
            assert_eq!(index_digits(n), direct(n), "{n}");
        }
    }

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(bytes_label(512), "1 kB");
        assert_eq!(bytes_label(23_400_000), "23 MB");
        assert_eq!(bytes_label(8_800_000_000), "8.8 GB");
    }
}
