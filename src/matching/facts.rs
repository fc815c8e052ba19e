//! Builds the [`Facts`] a policy tests for one (user, destination, IP version).
//!
//! Destination facts are borrowed from the compiled world; user facts come from the generated user,
//! with the two strings (email, name: synthetic, or a listed user's real ones) written into buffers this builder owns and reuses, so building
//! facts never allocates after the first user.

use std::net::IpAddr;

use crate::catalog::Catalog;
use crate::policy::expr::{BitSet256, Facts};
use crate::users::User;
use crate::world::World;

/// Per-destination facts, precomputed once.
#[derive(Debug, Clone)]
struct DestinationFacts<'w> {
    domains: Vec<&'w str>,
    country: &'w str,
    continent: &'w str,
}

/// Reusable builder of [`Facts`].
#[derive(Debug)]
pub struct FactsBuilder<'w> {
    world: &'w World,
    destinations: Vec<DestinationFacts<'w>>,
    email: String,
    name: String,
    user: Option<User>,
}

impl<'w> FactsBuilder<'w> {
    /// Prepares destination facts for `world`.
    pub fn new(world: &'w World) -> Self {
        let catalog = Catalog::embedded();
        let destinations = world
            .resources
            .iter()
            .map(|r| {
                let c = catalog.country(r.country);
                DestinationFacts {
                    domains: r.domains.iter().map(String::as_str).collect(),
                    country: c.iso2.as_str(),
                    continent: c.continent.code(),
                }
            })
            .collect();
        Self {
            world,
            destinations,
            email: String::new(),
            name: String::new(),
            user: None,
        }
    }

    /// Sets the user whose facts follow (formats email and name once per user).
    pub fn set_user(&mut self, user: &User) {
        let pop = &self.world.populations[user.population as usize];
        pop.write_identity(user.index, &mut self.email, &mut self.name);
        self.user = Some(*user);
    }

    /// Facts for the current user sending to resource `r` over IPv6 (`ipv6`) or IPv4. Without a
    /// current user (see [`set_user`](Self::set_user)) only destination facts are filled in.
    pub fn facts(&self, r: usize, ipv6: bool) -> Facts<'_> {
        let res = &self.world.resources[r];
        let d = &self.destinations[r];
        let dst_ip = match (ipv6, res.ipv4, res.ipv6) {
            (true, _, Some(v6)) => IpAddr::V6(v6),
            (_, Some(v4), _) => IpAddr::V4(v4),
            (_, None, Some(v6)) => IpAddr::V6(v6),
            (_, None, None) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        };
        let mut f = Facts {
            dst_ip,
            dst_port: res.port,
            dst_country: d.country,
            dst_continent: d.continent,
            protocol: &res.protocol,
            host: &res.host,
            domains: &d.domains,
            app_ids: &res.app_ids,
            ..Facts::default()
        };
        if let Some(u) = &self.user {
            let catalog = Catalog::embedded();
            let c = catalog.country(u.country);
            f.src_ip = u.src_ip;
            f.src_internal_ip = u.src_internal_ip;
            f.src_port = u.src_port;
            f.src_country = &c.iso2;
            f.src_continent = c.continent.code();
            f.vnet = u.vnet;
            f.email = &self.email;
            f.name = &self.name;
            f.groups = BitSet256(u.groups);
            f.posture_passed = BitSet256(u.posture);
        }
        f
    }
}
