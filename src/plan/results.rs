//! The search's findings as [`PlanResults`]: sites by name, plan worlds' figures with their cases
//! named as `run --sweep n-1` names them.

use std::collections::HashSet;

use super::eval::{Down, Judged, Model};
use super::plan_file::NewIp;
use super::search::{Found, Move, SearchOptions};
use super::settings::Settings;
use crate::analysis::plan::{Action, Evaluation, Marginal, PlanResults, Setup, SiteRef, Step};
use crate::catalog::Catalog;
use crate::scenario::egress_case_name;
use crate::world::{DcId, World};

/// What the results are made from.
pub(crate) struct Inputs<'a> {
    pub(crate) world: &'a World,
    pub(crate) model: &'a Model<'a>,
    pub(crate) settings: &'a Settings,
    pub(crate) search: &'a SearchOptions,
    pub(crate) ips: &'a [NewIp],
    pub(crate) found: &'a Found,
    pub(crate) plan_toml: String,
}

fn site(world: &World, dc: DcId, id: &str, ipv4: String, proposed: bool) -> SiteRef {
    let d = &world.datacenters[dc as usize];
    SiteRef {
        id: id.to_string(),
        datacenter: d.code.clone(),
        city: d.city.clone(),
        country: Catalog::embedded().country(d.country).iso2.clone(),
        lat: d.location.lat,
        lon: d.location.lon,
        proposed,
        ipv4,
    }
}

impl Inputs<'_> {
    fn candidate(&self, c: u16) -> SiteRef {
        let ip = &self.ips[c as usize];
        site(
            self.world,
            self.settings.candidates[c as usize],
            &ip.id,
            ip.ipv4.to_string(),
            true,
        )
    }

    fn evaluation(&self, j: &Judged) -> Evaluation {
        let w = self.model.p.world;
        let codes: HashSet<String> = w
            .datacenters
            .iter()
            .map(|d| d.code.to_ascii_lowercase())
            .collect();
        let name = |d: Down| match d {
            Down::None => "baseline".to_string(),
            Down::Dc(dc) => format!("down:{}", w.datacenters[dc as usize].code),
            Down::Kept(e) => egress_case_name(&codes, &w.egress[e as usize].id),
            Down::Cand(c) => egress_case_name(&codes, &self.ips[c as usize].id),
        };
        let (value, worst) = self.search.value(j);
        Evaluation {
            baseline: j.cases[0].1,
            cases: j.cases[1..].iter().map(|(d, f)| (name(*d), *f)).collect(),
            value,
            worst,
        }
    }

    /// The plan's results.
    pub(crate) fn build(self) -> PlanResults {
        let (w, f, s) = (self.model.p.world, self.found, self.settings);
        let kept = (0..self.model.kept)
            .map(|e| {
                let eg = &w.egress[e];
                site(w, eg.datacenter, &eg.id, eg.ipv4.to_string(), false)
            })
            .collect();
        let steps = f
            .steps
            .iter()
            .map(|t| {
                let (action, inn, out) = match t.moved {
                    Move::Add(c) => (Action::Add, c, None),
                    Move::Swap { out, inn } => (Action::Swap, inn, Some(out)),
                };
                Step {
                    k: t.chosen.len(),
                    action,
                    site: self.candidate(inn),
                    replaces: out.map(|c| self.candidate(c)),
                    before: t.before,
                    after: self.evaluation(&t.after),
                }
            })
            .collect();
        let stopped_early = f.stopped_after.filter(|&k| k < s.add).map(|k| {
            format!(
                "stopped after {k} site{}: no candidate improves {}",
                if k == 1 { "" } else { "s" },
                s.objective.label()
            )
        });
        let chosen_set: HashSet<u16> = f.state.chosen.iter().copied().collect();
        let marginals = f
            .margins
            .iter()
            .enumerate()
            .map(|(c, m)| Marginal {
                site: self.candidate(c as u16),
                chosen: chosen_set.contains(&(c as u16)),
                if_added: m.if_added,
                if_removed: m.if_removed,
                best_swap: m
                    .best_swap
                    .map(|(i, v)| (self.ips[i as usize].id.clone(), v)),
            })
            .collect();
        PlanResults {
            setup: Setup {
                add: s.add,
                from_scratch: s.from_scratch,
                objective: s.objective.clone(),
                robust: s.robust,
                allowlists: s.allowlists,
                exhaustive: s.exhaustive,
                candidates: s.candidates.len(),
                candidates_label: s.candidates_label.clone(),
                users: w.users,
                requests_per_user: w.requests_per_user,
            },
            kept,
            start: self.evaluation(&f.start),
            steps,
            stopped_early,
            chosen: f.state.chosen.iter().map(|&c| self.candidate(c)).collect(),
            fin: self.evaluation(&f.judged),
            marginals,
            evaluations: f.evaluations,
            plan_toml: self.plan_toml,
        }
    }
}
