//! Failure sweeps: the cases `--sweep n-1` and `--sweep n-2` add to a world while it is compiled.
//!
//! N-1 takes down, one at a time, every data center that hosts an egress IP or serves as ingress for
//! at least one user in the baseline, then every egress IP. N-2 adds every pair of data centers hosting
//! egress IPs. Names are stable and readable: `down:LHR`, `down:lhr-1`, `down:LHR+AMS`.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::country_index::CountryIndex;
use crate::error::{Error, InputError, Result};
use crate::ingress;
use crate::users;
use crate::world::{Case, CaseOrigin, Sweep, World};

/// Most cases a run evaluates (`users.csv` numbers cases with 16 bits).
pub const MAX_CASES: usize = 4096;

/// Users per task of the ingress pre-pass (the result does not depend on it).
const CHUNK_USERS: u64 = 8192;

/// Appends the cases of `world.sweep` after the declared ones. The compiler calls it once, before the
/// World is handed out; `threads` (0 = one per core) only sets the speed of the pre-pass over the users.
pub(super) fn add_cases(world: &mut World, threads: usize) -> Result<()> {
    if world.sweep == Sweep::None {
        return Ok(());
    }
    let ingress = ingress_datacenters(world, threads)?;
    let added = sweep_cases(world, &ingress);
    let total = world.cases.len() + added.len();
    if total > MAX_CASES {
        return Err(Error::Input(
            InputError::new(format!(
                "the {} sweep would evaluate {total} cases; at most {MAX_CASES} are supported",
                world.sweep.name(),
            ))
            .with_help(
                "use `--sweep n-1`, or list the failures you care about as `[[failure]]` entries",
            ),
        ));
    }
    world.cases.extend(added);
    Ok(())
}

/// The new cases of a sweep, in order: each egress data center, each egress IP, each data center that
/// is only an ingress (by code), then (N-2) each pair of egress data centers. Names already taken (by a
/// declared failure, or earlier in the sweep) are skipped.
fn sweep_cases(world: &World, ingress: &[bool]) -> Vec<Case> {
    let mut egress_dcs: Vec<usize> = Vec::new();
    for e in &world.egress {
        if !egress_dcs.contains(&(e.datacenter as usize)) {
            egress_dcs.push(e.datacenter as usize);
        }
    }
    let mut list = NewCases {
        world,
        names: world.cases.iter().map(|c| c.name.clone()).collect(),
        added: Vec::new(),
    };
    for &d in &egress_dcs {
        list.datacenters_down(&[d]);
    }
    let dc_codes: HashSet<String> = world
        .datacenters
        .iter()
        .map(|d| d.code.to_ascii_lowercase())
        .collect();
    for (i, e) in world.egress.iter().enumerate() {
        list.push(egress_case_name(&dc_codes, &e.id), &[], Some(i));
    }
    let mut ingress_only: Vec<usize> = (0..world.datacenters.len())
        .filter(|d| ingress[*d] && !egress_dcs.contains(d))
        .collect();
    ingress_only.sort_by(|a, b| world.datacenters[*a].code.cmp(&world.datacenters[*b].code));
    for d in ingress_only {
        list.datacenters_down(&[d]);
    }
    if world.sweep == Sweep::N2 {
        for (i, &a) in egress_dcs.iter().enumerate() {
            for &b in &egress_dcs[i + 1..] {
                list.datacenters_down(&[a, b]);
            }
        }
    }
    list.added
}

/// The name of the sweep case taking egress IP `id` down: `down:<id>`, or `down:egress:<id>` when
/// the id reads like a data center code (`dc_codes`, lower case) so the two never look alike.
pub fn egress_case_name(dc_codes: &HashSet<String>, id: &str) -> String {
    if dc_codes.contains(&id.to_ascii_lowercase()) {
        format!("down:egress:{id}")
    } else {
        format!("down:{id}")
    }
}

/// The cases a sweep adds, with the names in use.
struct NewCases<'w> {
    world: &'w World,
    names: HashSet<String>,
    added: Vec<Case>,
}

impl NewCases<'_> {
    /// `down:LHR`, `down:LHR+AMS`: the data centers `dcs` down.
    fn datacenters_down(&mut self, dcs: &[usize]) {
        let codes: Vec<&str> = dcs
            .iter()
            .map(|&d| self.world.datacenters[d].code.as_str())
            .collect();
        self.push(format!("down:{}", codes.join("+")), dcs, None);
    }

    fn push(&mut self, name: String, dcs: &[usize], egress: Option<usize>) {
        if !self.names.insert(name.clone()) {
            return;
        }
        let mut case = Case {
            name,
            description: String::new(),
            origin: CaseOrigin::Sweep,
            dc_down: vec![false; self.world.datacenters.len()],
            egress_down: vec![false; self.world.egress.len()],
        };
        for &d in dcs {
            case.dc_down[d] = true;
        }
        if let Some(e) = egress {
            case.egress_down[e] = true;
        }
        self.added.push(case);
    }
}

/// Per data center: true when it is the baseline ingress (nothing down) of at least one user.
fn ingress_datacenters(world: &World, threads: usize) -> Result<Vec<bool>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))?;
    let countries = CountryIndex::embedded();
    let chunks = world.users.div_ceil(CHUNK_USERS);
    let n = world.datacenters.len();
    let used = pool.install(|| {
        (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut used = vec![false; n];
                let first = c * CHUNK_USERS;
                for index in first..(first + CHUNK_USERS).min(world.users) {
                    let p = world.population_of(index);
                    let (user, _) = users::generate(
                        world.seed,
                        index,
                        p as u16,
                        &world.populations[p],
                        countries,
                    );
                    let unit = user.location.to_unit_vector();
                    if let Some(d) = ingress::candidates(world, &user, &unit, |_| true).ingress() {
                        used[d.index as usize] = true;
                    }
                }
                used
            })
            .reduce(
                || vec![false; n],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
                    a
                },
            )
    });
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Source;
    use crate::scenario::{compile, Overrides};

    fn world(sweep: Sweep, threads: usize) -> World {
        let text = r#"
name = "t"
seed = 3
[simulation]
users = 2000
requests_per_user = 4
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.10"
[[egress]]
id = "ams-1"
datacenter = "AMS"
ipv4 = "203.0.113.20"
[[egress]]
id = "ams-2"
datacenter = "AMS"
ipv4 = "203.0.113.21"
[[population]]
name = "uk"
share = 1.0
[population.location]
around = ["London"]
spread = { distribution = "normal", sigma_km = 5 }
[[resource]]
name = "app"
ipv4 = "192.0.2.1"
location = "Frankfurt"
"#;
        compile(
            &Source::new("t.toml", text),
            &Overrides {
                sweep: Some(sweep),
                threads,
                ..Overrides::default()
            },
        )
        .unwrap()
        .world
    }

    #[test]
    fn n1_names_each_egress_site_each_ip_and_each_ingress() {
        let w = world(Sweep::N1, 1);
        let names: Vec<&str> = w.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names[..6],
            [
                "baseline",
                "down:LHR",
                "down:AMS",
                "down:lhr-1",
                "down:ams-1",
                "down:ams-2"
            ]
        );
        // London users land on LHR (already listed) and nowhere else: no ingress-only cases.
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(w
            .cases
            .iter()
            .skip(1)
            .all(|c| c.origin == CaseOrigin::Sweep));
    }

    #[test]
    fn n2_adds_pairs_of_egress_sites() {
        let w = world(Sweep::N2, 1);
        assert_eq!(w.cases.last().unwrap().name, "down:LHR+AMS");
        assert_eq!(w.cases.len(), 7);
    }

    #[test]
    fn the_thread_count_does_not_change_the_cases() {
        let names = |w: World| w.cases.into_iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(names(world(Sweep::N2, 1)), names(world(Sweep::N2, 2)));
    }

    #[test]
    fn no_sweep_adds_nothing() {
        assert_eq!(world(Sweep::None, 1).cases.len(), 1);
    }
}
