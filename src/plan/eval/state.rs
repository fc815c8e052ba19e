//! A plan being evaluated: which candidates it holds, where each user's unmatched traffic goes,
//! and the accumulators of its baseline and (robust) single failures. Evaluating one more
//! candidate touches only the users whose options include the candidate's location (and, for the
//! candidate's own failure, the users entering there).

use rayon::prelude::*;

use super::acc::{figures, Acc};
use super::model::{Down, Model, Pick, SetView, NO_PICK};
use crate::analysis::plan::Figures;
use crate::geodesy::unit_vector_distance_km;

/// Users per task when a change is applied in parallel.
const TASK_USERS: usize = 2048;

/// A set of planned IPs and the accumulators of its plan world.
#[derive(Debug, Clone)]
pub(crate) struct State {
    /// Per candidate: in the plan.
    pub(crate) set: Vec<bool>,
    /// The plan's candidates, in the order of `plan.toml`.
    pub(crate) chosen: Vec<u16>,
    /// Per user: its baseline pick.
    pick: Vec<Pick>,
    /// Per user: distance to the pick's site, km (infinite without one).
    pick_km: Vec<f64>,
    /// The baseline, then (robust) the single failures of the plan world in sweep order.
    cases: Vec<(Down, Acc)>,
}

/// The figures of one plan world in each of its cases: the baseline first, then (robust) the
/// single failures in the order `run --sweep n-1` adds them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judged {
    pub(crate) cases: Vec<(Down, Figures)>,
}

/// Per-task scratch for evaluating candidates.
pub(crate) struct Scratch {
    d0: Acc,
    captured: Acc,
    near: Acc,
    corr: Vec<Acc>,
}

impl Model<'_> {
    fn fresh(&self) -> Acc {
        Acc::new(self.picks(), self.p.world.resources.len())
    }

    /// Scratch for [`Model::eval_add`].
    pub(crate) fn scratch(&self) -> Scratch {
        Scratch {
            d0: self.fresh(),
            captured: self.fresh(),
            near: self.fresh(),
            corr: Vec::new(),
        }
    }

    /// Sums `f` over `items` in parallel (integer accumulators: the order does not matter).
    fn sum_over<T: Sync>(&self, items: &[T], f: impl Fn(&mut Acc, &T) + Sync) -> Acc {
        self.pool.install(|| {
            items
                .par_chunks(TASK_USERS)
                .map(|ch| {
                    let mut acc = self.fresh();
                    for x in ch {
                        f(&mut acc, x);
                    }
                    acc
                })
                .reduce(
                    || self.fresh(),
                    |mut a, b| {
                        a.merge(&b);
                        a
                    },
                )
        })
    }

    fn km_to(&self, u: usize, pick: Pick) -> f64 {
        if pick == NO_PICK {
            return f64::INFINITY;
        }
        let unit = self.users.users[u].unit;
        unit_vector_distance_km(unit, self.sites[self.site_of(pick)].unit)
    }

    /// Adds `U(to) - U(from)` for user `u` with its connection to Cloudflare in case `down`.
    fn add_move(&self, acc: &mut Acc, u: usize, down: Down, from: Pick, to: Pick) {
        let geo = self.geo(u);
        let (uc, case) = self.user_case(u, down);
        self.add_unmatched(acc, u, (&geo, &uc, case), from, -1);
        self.add_unmatched(acc, u, (&geo, &uc, case), to, 1);
    }

    /// The plan with no candidate: the kept egress IPs only.
    pub(crate) fn empty_state(&self) -> State {
        let n = self.users.users.len();
        let set = vec![false; self.cands.len()];
        let view = SetView {
            base: &set,
            add: None,
            remove: None,
        };
        let pick: Vec<Pick> = self.pool.install(|| {
            (0..n)
                .into_par_iter()
                .map(|u| self.choose(u, &view, Down::None))
                .collect()
        });
        let pick_km = (0..n).map(|u| self.km_to(u, pick[u])).collect();
        let users: Vec<u32> = (0..n as u32).collect();
        let mut acc = self.sum_over(&users, |acc, &u| {
            let u = u as usize;
            let geo = self.geo(u);
            let uc = self.users.users[u].uc;
            self.add_unmatched(acc, u, (&geo, &uc, 0), pick[u], 1);
        });
        acc.merge(&self.users.base);
        let mut st = State {
            set,
            chosen: Vec::new(),
            pick,
            pick_km,
            cases: vec![(Down::None, acc)],
        };
        self.refresh_cases(&mut st);
        st
    }

    /// The baseline pick of user `u` (a watcher of candidate `c`'s site, `c` at `km_c`) with `c`
    /// added to the plan.
    #[inline]
    fn pick_add(&self, st: &State, u: usize, km_c: f64, c: u16) -> Pick {
        let site = &self.sites[self.cands[c as usize].site];
        if self.p.world.balancing.tie_tolerance_km == 0.0 && site.kept.is_empty() {
            // Without a tie tolerance a location of its own wins exactly when it is nearer.
            if km_c > st.pick_km[u] {
                return st.pick[u];
            }
            if km_c < st.pick_km[u] {
                return (self.kept + c as usize) as Pick;
            }
        }
        let view = SetView {
            base: &st.set,
            add: Some(c),
            remove: None,
        };
        self.choose(u, &view, Down::None)
    }

    /// Moves users to their new picks and updates the baseline accumulator.
    fn move_users(&self, st: &mut State, changes: &[(u32, Pick, Pick)]) {
        let delta = self.sum_over(changes, |acc, &(u, old, new)| {
            self.add_move(acc, u as usize, Down::None, old, new)
        });
        st.cases[0].1.merge(&delta);
        for &(u, _, new) in changes {
            st.pick[u as usize] = new;
            st.pick_km[u as usize] = self.km_to(u as usize, new);
        }
    }

    /// Adds candidate `c` to the plan (last in `plan.toml` order).
    pub(crate) fn apply(&self, st: &mut State, c: u16) {
        let watch = &self.users.watch[self.cands[c as usize].site];
        let changes: Vec<(u32, Pick, Pick)> = self.pool.install(|| {
            watch
                .par_iter()
                .filter_map(|&(u, oi)| {
                    let u = u as usize;
                    let new = self.pick_add(st, u, self.users.option_km(oi), c);
                    (new != st.pick[u]).then_some((u as u32, st.pick[u], new))
                })
                .collect()
        });
        self.move_users(st, &changes);
        st.set[c as usize] = true;
        st.chosen.push(c);
        self.refresh_cases(st);
    }

    /// Removes candidate `c` from the plan; returns its position in `plan.toml` order.
    pub(crate) fn remove(&self, st: &mut State, c: u16) -> usize {
        let pick_c = (self.kept + c as usize) as Pick;
        let tol = self.p.world.balancing.tie_tolerance_km;
        let watch = &self.users.watch[self.cands[c as usize].site];
        let changes: Vec<(u32, Pick, Pick)> = {
            let view = SetView {
                base: &st.set,
                add: None,
                remove: Some(c),
            };
            self.pool.install(|| {
                watch
                    .par_iter()
                    .filter_map(|&(u, _)| {
                        let u = u as usize;
                        // Without a tie tolerance, losing a location moves only its own users.
                        if tol == 0.0 && st.pick[u] != pick_c {
                            return None;
                        }
                        let new = self.choose(u, &view, Down::None);
                        (new != st.pick[u]).then_some((u as u32, st.pick[u], new))
                    })
                    .collect()
            })
        };
        self.move_users(st, &changes);
        st.set[c as usize] = false;
        let at = st
            .chosen
            .iter()
            .position(|&x| x == c)
            .unwrap_or(st.chosen.len());
        st.chosen.retain(|&x| x != c);
        self.refresh_cases(st);
        at
    }

    /// Swaps candidate `out` for `inn`, which takes `out`'s place in `plan.toml` order.
    pub(crate) fn swap(&self, st: &mut State, out: u16, inn: u16) {
        let at = self.remove(st, out);
        self.apply(st, inn);
        let last = st.chosen.pop().unwrap_or(inn);
        st.chosen.insert(at.min(st.chosen.len()), last);
        self.refresh_cases(st);
    }

    /// The single failures of the plan world with `chosen`, in the order of the N-1 sweep: each
    /// data center hosting an IP (kept ones first), then each IP.
    pub(crate) fn failure_cases(&self, chosen: &[u16]) -> Vec<Down> {
        if !self.robust {
            return Vec::new();
        }
        let mut out: Vec<Down> = Vec::new();
        let dcs = (0..self.kept)
            .map(|e| self.p.world.egress[e].datacenter)
            .chain(chosen.iter().map(|&c| self.cands[c as usize].dc));
        for d in dcs {
            if !out.contains(&Down::Dc(d)) {
                out.push(Down::Dc(d));
            }
        }
        out.extend((0..self.kept).map(|e| Down::Kept(e as u16)));
        out.extend(chosen.iter().map(|&c| Down::Cand(c)));
        out
    }

    /// Recomputes the failure cases' accumulators from the baseline's: each case differs from the
    /// baseline only for the users entering at the data center it takes down and the users of the
    /// IPs it takes down.
    fn refresh_cases(&self, st: &mut State) {
        st.cases.truncate(1);
        let downs = self.failure_cases(&st.chosen);
        if downs.is_empty() {
            return;
        }
        let mut by_pick: Vec<Vec<u32>> = vec![Vec::new(); self.picks()];
        for (u, &p) in st.pick.iter().enumerate() {
            if p != NO_PICK {
                by_pick[p as usize].push(u as u32);
            }
        }
        let accs: Vec<Acc> = downs
            .iter()
            .map(|&down| {
                let mut users: Vec<u32> = match down {
                    Down::Dc(d) => {
                        let mut v = self.users.near.get(d as usize).cloned().unwrap_or_default();
                        for (p, list) in by_pick.iter().enumerate() {
                            if self.dc_of(p as Pick) == d {
                                v.extend_from_slice(list);
                            }
                        }
                        v
                    }
                    Down::Kept(e) => by_pick[e as usize].clone(),
                    Down::Cand(c) => by_pick[self.kept + c as usize].clone(),
                    Down::None => Vec::new(),
                };
                users.sort_unstable();
                users.dedup();
                let view = SetView {
                    base: &st.set,
                    add: None,
                    remove: None,
                };
                let mut acc = self.sum_over(&users, |acc, &u| {
                    let u = u as usize;
                    let base = st.pick[u];
                    let now = self.pick_in(u, base, &view, down);
                    let geo = self.geo(u);
                    let uc0 = self.users.users[u].uc;
                    let (uc, case) = self.user_case(u, down);
                    self.add_unmatched(acc, u, (&geo, &uc0, 0), base, -1);
                    self.add_unmatched(acc, u, (&geo, &uc, case), now, 1);
                });
                acc.merge(&st.cases[0].1);
                if let Some(b) = self.users.base_delta.get(&down) {
                    acc.merge(b);
                }
                acc
            })
            .collect();
        st.cases.extend(downs.into_iter().zip(accs));
    }

    /// The figures of the plan world of `st`.
    pub(crate) fn judge(&self, st: &State) -> Judged {
        Judged {
            cases: st
                .cases
                .iter()
                .map(|(d, acc)| (*d, figures(&[acc], &self.limits)))
                .collect(),
        }
    }

    /// The figures of the plan world of `st` with candidate `c` added (not applied).
    pub(crate) fn eval_add(&self, st: &State, c: u16, s: &mut Scratch) -> Judged {
        let n_cases = st.cases.len();
        s.d0.clear();
        s.captured.clear();
        s.near.clear();
        s.corr.resize_with(n_cases, || self.fresh());
        s.corr.iter_mut().for_each(Acc::clear);
        let pick_c = (self.kept + c as usize) as Pick;
        let old_view = SetView {
            base: &st.set,
            add: None,
            remove: None,
        };
        let new_view = SetView {
            base: &st.set,
            add: Some(c),
            remove: None,
        };
        let mut relevant: Vec<usize> = Vec::new();
        for &(u, oi) in &self.users.watch[self.cands[c as usize].site] {
            let u = u as usize;
            let old = st.pick[u];
            let new = self.pick_add(st, u, self.users.option_km(oi), c);
            let changed = new != old;
            if changed {
                self.add_move(&mut s.d0, u, Down::None, old, new);
                if new == pick_c {
                    self.add_move(&mut s.captured, u, Down::None, new, old);
                }
            }
            if n_cases == 1 {
                continue;
            }
            self.relevant_cases(st, u, [old, new], &mut relevant);
            for &j in &relevant {
                let down = st.cases[j].0;
                let old_d = self.pick_in(u, old, &old_view, down);
                let new_d = self.pick_in(u, new, &new_view, down);
                let (uc, _) = self.user_case(u, down);
                if uc == self.users.users[u].uc && old_d == old && new_d == new {
                    continue;
                }
                // This case's difference replaces the baseline's, which every case shares.
                self.add_move(&mut s.corr[j], u, down, old_d, new_d);
                if changed {
                    self.add_move(&mut s.corr[j], u, Down::None, new, old);
                }
            }
        }
        self.judge_added(st, c, s)
    }

    /// The cases of `st` in which user `u` may route otherwise than in the baseline, with its
    /// picks `picks` (before and after): those taking down one of its ingress candidates or one of
    /// the picks.
    fn relevant_cases(&self, st: &State, u: usize, picks: [Pick; 2], out: &mut Vec<usize>) {
        out.clear();
        let mut push = |d: Down| {
            if let Some(j) = st.cases.iter().position(|(x, _)| *x == d) {
                if !out.contains(&j) {
                    out.push(j);
                }
            }
        };
        for dc in self.users.alt_dcs(u) {
            push(Down::Dc(dc));
        }
        for p in picks {
            if p == NO_PICK {
                continue;
            }
            push(Down::Dc(self.dc_of(p)));
            let i = p as usize;
            push(if i < self.kept {
                Down::Kept(p)
            } else {
                Down::Cand((i - self.kept) as u16)
            });
        }
    }

    /// Assembles the figures of `st` plus `c` from the differences in `s`, with the two new
    /// failure cases of `c` (its data center, unless it already hosts kept IPs, and its IP).
    fn judge_added(&self, st: &State, c: u16, s: &mut Scratch) -> Judged {
        let mut chosen = st.chosen.clone();
        chosen.push(c);
        let base = &st.cases[0].1;
        let dc = self.cands[c as usize].dc;
        let new_dc = self.robust && !st.cases.iter().any(|(d, _)| *d == Down::Dc(dc));
        if new_dc {
            // Users entering at the candidate's data center move when it fails: the plan world
            // without the candidate, with their ingress elsewhere.
            let pick_c = (self.kept + c as usize) as Pick;
            for &u in self
                .users
                .near
                .get(dc as usize)
                .map_or(&[][..], |v| v.as_slice())
            {
                let u = u as usize;
                let km_c = self.km_to(u, pick_c);
                let mut p = self.pick_add(st, u, km_c, c);
                if p == pick_c {
                    p = st.pick[u];
                }
                let geo = self.geo(u);
                let uc0 = self.users.users[u].uc;
                let (uc, case) = self.user_case(u, Down::Dc(dc));
                self.add_unmatched(&mut s.near, u, (&geo, &uc0, 0), p, -1);
                self.add_unmatched(&mut s.near, u, (&geo, &uc, case), p, 1);
            }
        }
        let cases = std::iter::once(Down::None).chain(self.failure_cases(&chosen));
        let empty = self.fresh();
        let dc_delta = self.users.base_delta.get(&Down::Dc(dc)).unwrap_or(&empty);
        Judged {
            cases: cases
                .map(|down| {
                    let f = match st.cases.iter().position(|(x, _)| *x == down) {
                        Some(j) => figures(&[&st.cases[j].1, &s.d0, &s.corr[j]], &self.limits),
                        None if down == Down::Cand(c) => {
                            figures(&[base, &s.d0, &s.captured], &self.limits)
                        }
                        None => {
                            figures(&[base, &s.d0, &s.captured, dc_delta, &s.near], &self.limits)
                        }
                    };
                    (down, f)
                })
                .collect(),
        }
    }
}
