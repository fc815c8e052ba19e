//! Failure sweeps: the cases `--sweep n-1` and `--sweep n-2` add to a world.
//!
//! N-1 takes down, one at a time, every data center that hosts an egress IP or serves as ingress for
//! at least one user in the baseline, then every egress IP. N-2 adds every pair of data centers hosting
//! egress IPs. Names are stable and readable: `down:LHR`, `down:lhr-1`, `down:LHR+AMS`.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::world::{Case, CaseOrigin, Sweep, World};

use super::{route, Prepared, CHUNK_USERS};

/// Most cases a run evaluates (`users.csv` numbers cases with 16 bits).
pub const MAX_CASES: usize = 4096;

/// Adds the world's sweep cases (after the declared ones). Idempotent: a world is swept once.
pub fn expand(world: &mut World, threads: usize) -> Result<()> {
    if world.sweep == Sweep::None || world.cases.iter().any(|c| c.origin == CaseOrigin::Sweep) {
        return Ok(());
    }
    let ingress = ingress_datacenters(world, threads)?;
    let n_dc = world.datacenters.len();
    let n_eg = world.egress.len();
    let mut egress_dcs: Vec<usize> = Vec::new();
    for e in &world.egress {
        if !egress_dcs.contains(&(e.datacenter as usize)) {
            egress_dcs.push(e.datacenter as usize);
        }
    }
    let mut names: HashSet<String> = world.cases.iter().map(|c| c.name.clone()).collect();
    let mut added: Vec<Case> = Vec::new();
    let mut push = |name: String, dcs: &[usize], egress: Option<usize>, added: &mut Vec<Case>| {
        if !names.insert(name.clone()) {
            return;
        }
        let mut case = Case {
            name,
            description: String::new(),
            origin: CaseOrigin::Sweep,
            dc_down: vec![false; n_dc],
            egress_down: vec![false; n_eg],
        };
        for &d in dcs {
            case.dc_down[d] = true;
        }
        if let Some(e) = egress {
            case.egress_down[e] = true;
        }
        added.push(case);
    };
    for &d in &egress_dcs {
        push(
            format!("down:{}", world.datacenters[d].code),
            &[d],
            None,
            &mut added,
        );
    }
    let dc_codes: HashSet<String> = world
        .datacenters
        .iter()
        .map(|d| d.code.to_ascii_lowercase())
        .collect();
    for (i, e) in world.egress.iter().enumerate() {
        // An egress id that reads like a data center code gets a prefix so the two never look alike.
        let name = if dc_codes.contains(&e.id.to_ascii_lowercase()) {
            format!("down:egress:{}", e.id)
        } else {
            format!("down:{}", e.id)
        };
        push(name, &[], Some(i), &mut added);
    }
    let mut ingress_only: Vec<usize> = (0..n_dc)
        .filter(|d| ingress[*d] && !egress_dcs.contains(d))
        .collect();
    ingress_only.sort_by(|a, b| world.datacenters[*a].code.cmp(&world.datacenters[*b].code));
    for d in ingress_only {
        push(
            format!("down:{}", world.datacenters[d].code),
            &[d],
            None,
            &mut added,
        );
    }
    if world.sweep == Sweep::N2 {
        for (i, &a) in egress_dcs.iter().enumerate() {
            for &b in &egress_dcs[i + 1..] {
                push(
                    format!(
                        "down:{}+{}",
                        world.datacenters[a].code, world.datacenters[b].code
                    ),
                    &[a, b],
                    None,
                    &mut added,
                );
            }
        }
    }
    if world.cases.len() + added.len() > MAX_CASES {
        return Err(Error::Input(
            crate::error::InputError::new(format!(
                "the {} sweep would evaluate {} cases; at most {MAX_CASES} are supported",
                world.sweep.name(),
                world.cases.len() + added.len()
            ))
            .with_help(
                "use `--sweep n-1`, or list the failures you care about as `[[failure]]` entries",
            ),
        ));
    }
    world.cases.extend(added);
    Ok(())
}

/// Per data center: true when it is the baseline ingress of at least one user.
fn ingress_datacenters(world: &World, threads: usize) -> Result<Vec<bool>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))?;
    let p = Prepared::new(world);
    let chunks = world.users.div_ceil(CHUNK_USERS);
    let n = world.datacenters.len();
    let used = pool.install(|| {
        (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut used = vec![false; n];
                let first = c * CHUNK_USERS;
                for index in first..(first + CHUNK_USERS).min(world.users) {
                    let (user, _) = p.user(index);
                    let geo = route::UserGeo::new(&p, &user);
                    if let Some(d) = route::user_case(&p, &user, &geo, 0).ingress {
                        used[d as usize] = true;
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

    fn world(sweep: Sweep) -> World {
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
        let src = Source::new("t.toml", text);
        let mut w = compile(
            &src,
            &Overrides {
                sweep: Some(sweep),
                ..Overrides::default()
            },
        )
        .unwrap()
        .world;
        expand(&mut w, 1).unwrap();
        w
    }

    #[test]
    fn n1_names_each_egress_site_each_ip_and_each_ingress() {
        let w = world(Sweep::N1);
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
        let w = world(Sweep::N2);
        assert_eq!(w.cases.last().unwrap().name, "down:LHR+AMS");
        assert_eq!(w.cases.len(), 7);
    }

    #[test]
    fn expanding_twice_adds_nothing() {
        let mut w = world(Sweep::N1);
        let n = w.cases.len();
        expand(&mut w, 2).unwrap();
        assert_eq!(w.cases.len(), n);
    }
}
