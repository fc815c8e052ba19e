//! The search: greedy additions (k = 1..K, the best candidate each time, stopping early when none
//! improves), then local search (Teitz–Bart: each pass evaluates every swap of a proposed site for a
//! candidate and makes the best improving one), or every set of K candidates (`--exhaustive`).
//! Candidates are evaluated in parallel; the best is the lowest objective, ties going to the earlier
//! candidate (and the earlier proposed site), so results do not depend on the thread count.

use rayon::prelude::*;

use super::eval::{Judged, Model, State};
use crate::analysis::plan::{Objective, Robust};

/// How to search.
#[derive(Debug, Clone)]
pub(crate) struct SearchOptions {
    /// Sites to add.
    pub(crate) add: usize,
    /// What is minimised.
    pub(crate) objective: Objective,
    /// How failures judge a plan.
    pub(crate) robust: Robust,
    /// Evaluate every set of `add` candidates.
    pub(crate) exhaustive: bool,
    /// Add `add` sites even when a step does not improve (`--from-scratch`: a plan without
    /// dedicated IPs is no plan, only the reference it starts from).
    pub(crate) always_add: bool,
}

/// One step the search took.
#[derive(Debug, Clone)]
pub(crate) enum Move {
    /// Candidate added.
    Add(u16),
    /// Proposed site swapped out for a candidate.
    Swap { out: u16, inn: u16 },
}

/// A step and the plan world after it.
#[derive(Debug, Clone)]
pub(crate) struct Taken {
    pub(crate) moved: Move,
    pub(crate) before: f64,
    pub(crate) after: Judged,
    pub(crate) chosen: Vec<u16>,
}

/// One candidate's marginal value against the final plan.
#[derive(Debug, Clone)]
pub(crate) struct Margin {
    pub(crate) if_added: Option<f64>,
    pub(crate) if_removed: Option<f64>,
    pub(crate) best_swap: Option<(u16, f64)>,
}

/// What the search found.
pub(crate) struct Found {
    pub(crate) start: Judged,
    pub(crate) steps: Vec<Taken>,
    pub(crate) stopped_after: Option<usize>,
    pub(crate) state: State,
    pub(crate) judged: Judged,
    pub(crate) evaluations: u64,
    pub(crate) margins: Vec<Margin>,
}

/// Each candidate's best swap into a plan: the chosen candidate it replaces and the value.
type BestSwaps = Vec<Option<(u16, f64)>>;

/// Evaluations the search made that the marginal values can reuse: the plan they were made
/// against (in `plan.toml` order, which fixes the order of its failure cases) and, per
/// candidate, its value.
#[derive(Default)]
struct Reusable {
    /// Each candidate added to this set (a greedy step that found no improvement).
    adds: Option<(Vec<u16>, Vec<Option<f64>>)>,
    /// Each swap into this set (the local search's last pass): the best per candidate.
    swaps: Option<(Vec<u16>, BestSwaps)>,
}

impl SearchOptions {
    /// The value minimised for a judged plan world, and the failure case that decided it.
    pub(crate) fn value(&self, j: &Judged) -> (f64, Option<usize>) {
        let base = self.objective.of(&j.cases[0].1);
        let fails: Vec<f64> = j.cases[1..]
            .iter()
            .map(|(_, f)| self.objective.of(f))
            .collect();
        self.robust.judge(base, &fails)
    }
}

/// Evaluates `st` plus each of `cands` in parallel, in order.
fn evaluate_adds(
    m: &Model,
    st: &State,
    cands: &[u16],
    o: &SearchOptions,
) -> Vec<(u16, f64, Judged)> {
    m.pool.install(|| {
        cands
            .par_iter()
            .map_init(
                || m.scratch(),
                |s, &c| {
                    let j = m.eval_add(st, c, s);
                    (c, o.value(&j).0, j)
                },
            )
            .collect()
    })
}

/// The lowest value (the first on ties).
fn best<T>(items: impl IntoIterator<Item = (f64, T)>) -> Option<(f64, T)> {
    let mut out: Option<(f64, T)> = None;
    for (v, t) in items {
        if out.as_ref().is_none_or(|(b, _)| v < *b) {
            out = Some((v, t));
        }
    }
    out
}

fn outside(m: &Model, st: &State) -> Vec<u16> {
    (0..m.cands.len() as u16)
        .filter(|&c| !st.set[c as usize])
        .collect()
}

/// Runs the search.
pub(crate) fn search(m: &Model, o: &SearchOptions) -> Found {
    let mut st = m.empty_state();
    let start = m.judge(&st);
    let mut found = Found {
        start: start.clone(),
        steps: Vec::new(),
        stopped_after: None,
        judged: start,
        state: m.empty_state(),
        evaluations: 1,
        margins: Vec::new(),
    };
    let mut reuse = Reusable::default();
    if o.exhaustive {
        exhaustive(m, o, &mut st, &mut found);
    } else {
        greedy(m, o, &mut st, &mut found, &mut reuse);
        local_search(m, o, &mut st, &mut found, &mut reuse);
    }
    found.judged = m.judge(&st);
    found.margins = margins(m, o, &st, &reuse);
    found.state = st;
    found
}

fn greedy(m: &Model, o: &SearchOptions, st: &mut State, found: &mut Found, reuse: &mut Reusable) {
    let mut cur = o.value(&found.start).0;
    for k in 1..=o.add {
        let evals = evaluate_adds(m, st, &outside(m, st), o);
        found.evaluations += evals.len() as u64;
        let mut values = vec![None; m.cands.len()];
        for (c, v, _) in &evals {
            values[*c as usize] = Some(*v);
        }
        reuse.adds = Some((st.chosen.clone(), values));
        let Some((v, (c, j))) = best(evals.into_iter().map(|(c, v, j)| (v, (c, j)))) else {
            found.stopped_after = Some(k - 1);
            return;
        };
        if v >= cur && !o.always_add {
            found.stopped_after = Some(k - 1);
            return;
        }
        m.apply(st, c);
        found.steps.push(Taken {
            moved: Move::Add(c),
            before: cur,
            after: j,
            chosen: st.chosen.clone(),
        });
        cur = v;
    }
}

/// Passes at most (a safeguard: each pass strictly improves, so it ends long before).
const MAX_PASSES: usize = 1000;

fn local_search(
    m: &Model,
    o: &SearchOptions,
    st: &mut State,
    found: &mut Found,
    reuse: &mut Reusable,
) {
    let mut cur = o.value(&m.judge(st)).0;
    for _ in 0..MAX_PASSES {
        let mut options = Vec::new();
        let mut per_cand: BestSwaps = vec![None; m.cands.len()];
        for &out in &st.chosen.clone() {
            let mut without = st.clone();
            m.remove(&mut without, out);
            let cands: Vec<u16> = outside(m, &without)
                .into_iter()
                .filter(|&c| c != out)
                .collect();
            let evals = evaluate_adds(m, &without, &cands, o);
            found.evaluations += evals.len() as u64;
            for (c, v, _) in &evals {
                let b = &mut per_cand[*c as usize];
                if b.is_none_or(|(_, x)| *v < x) {
                    *b = Some((out, *v));
                }
            }
            options.extend(evals.into_iter().map(|(c, v, _)| (v, (out, c))));
        }
        reuse.swaps = Some((st.chosen.clone(), per_cand));
        match best(options) {
            Some((v, (out, inn))) if v < cur => {
                m.swap(st, out, inn);
                let after = m.judge(st);
                found.steps.push(Taken {
                    moved: Move::Swap { out, inn },
                    before: cur,
                    after,
                    chosen: st.chosen.clone(),
                });
                cur = v;
            }
            _ => return,
        }
    }
}

/// Every set of `add` candidates, in lexicographic order: the states of the first `add - 1` are
/// built, and the last candidate is evaluated incrementally.
fn exhaustive(m: &Model, o: &SearchOptions, st: &mut State, found: &mut Found) {
    let n = m.cands.len() as u16;
    let mut best_set: Option<(f64, Vec<u16>)> = None;
    let mut prefix: Vec<u16> = Vec::new();
    visit(m, o, st, &mut prefix, n, found, &mut best_set);
    let Some((_, set)) = best_set else {
        return;
    };
    let mut cur = o.value(&found.start).0;
    for &c in &set {
        m.apply(st, c);
        let after = m.judge(st);
        let v = o.value(&after).0;
        found.steps.push(Taken {
            moved: Move::Add(c),
            before: cur,
            after,
            chosen: st.chosen.clone(),
        });
        cur = v;
    }
}

fn visit(
    m: &Model,
    o: &SearchOptions,
    st: &State,
    prefix: &mut Vec<u16>,
    n: u16,
    found: &mut Found,
    best_set: &mut Option<(f64, Vec<u16>)>,
) {
    let from = prefix.last().map_or(0, |&c| c + 1);
    if prefix.len() + 1 == o.add {
        let cands: Vec<u16> = (from..n).collect();
        let evals = evaluate_adds(m, st, &cands, o);
        found.evaluations += evals.len() as u64;
        for (c, v, _) in evals {
            if best_set.as_ref().is_none_or(|(b, _)| v < *b) {
                let mut set = prefix.clone();
                set.push(c);
                *best_set = Some((v, set));
            }
        }
        return;
    }
    for c in from..n {
        let mut next = st.clone();
        m.apply(&mut next, c);
        prefix.push(c);
        visit(m, o, &next, prefix, n, found, best_set);
        prefix.pop();
    }
}

/// Every candidate's marginal value against the final plan `st`, reusing the search's own
/// evaluations of the same sets where it made them.
fn margins(m: &Model, o: &SearchOptions, st: &State, reuse: &Reusable) -> Vec<Margin> {
    let key = st.chosen.clone();
    let n = m.cands.len();
    let mut out: Vec<Margin> = (0..n)
        .map(|_| Margin {
            if_added: None,
            if_removed: None,
            best_swap: None,
        })
        .collect();
    let room = m.kept + st.chosen.len() < crate::scenario::MAX_EGRESS;
    match &reuse.adds {
        _ if !room => {}
        Some((set, values)) if *set == key => {
            for (c, v) in values.iter().enumerate() {
                out[c].if_added = *v;
            }
        }
        _ => {
            for (c, v, _) in evaluate_adds(m, st, &outside(m, st), o) {
                out[c as usize].if_added = Some(v);
            }
        }
    }
    let swaps = reuse.swaps.as_ref().filter(|(set, _)| *set == key);
    if let Some((_, best_swaps)) = swaps {
        for (c, b) in best_swaps.iter().enumerate() {
            out[c].best_swap = *b;
        }
    }
    for &i in &st.chosen {
        let mut without = st.clone();
        m.remove(&mut without, i);
        out[i as usize].if_removed = Some(o.value(&m.judge(&without)).0);
        if swaps.is_some() {
            continue;
        }
        let cands: Vec<u16> = outside(m, &without)
            .into_iter()
            .filter(|&c| c != i)
            .collect();
        for (c, v, _) in evaluate_adds(m, &without, &cands, o) {
            let b = &mut out[c as usize].best_swap;
            if b.is_none_or(|(_, x)| v < x) {
                *b = Some((i, v));
            }
        }
    }
    out
}
