//! The planned IP of each candidate data center: an id (`plan-fra-1`), an IPv4 address from the
//! RFC 2544 benchmarking block and an IPv6 /48 from the documentation prefix, none of them used by
//! the scenario. Each candidate's address is fixed before the search (it keys the rendezvous hash
//! that splits a location's users between its IPs), so a plan world never depends on the order in
//! which the search met its sites.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::plan_file::NewIp;
use crate::catalog::Catalog;
use crate::world::{DcId, Ipv6Prefix, World};

/// First planned IPv4 address: the upper half of 198.18.0.0/15 (RFC 2544), where no scenario of
/// ours puts egress IPs.
const FIRST_V4: u32 = u32::from_be_bytes([198, 19, 0, 1]);
/// Planned IPv6 ranges are `2001:db8:<FIRST_V6 + i>::/48` (RFC 3849 documentation prefix).
const FIRST_V6: u16 = 0xe000;

/// The planned IPs of `candidates` (data centers of `world`), in order. Ids, addresses and ranges
/// avoid `world`'s egress IPs and destinations, and `taken_ids` (ids the scenario file uses, also
/// for IPs `--from-scratch` drops).
pub(crate) fn planned_ips(world: &World, candidates: &[DcId], taken_ids: &[String]) -> Vec<NewIp> {
    let catalog = Catalog::embedded();
    let mut ids: HashSet<String> = taken_ids.iter().map(|s| s.to_ascii_lowercase()).collect();
    ids.extend(world.egress.iter().map(|e| e.id.to_ascii_lowercase()));
    let mut v4s: HashSet<Ipv4Addr> = world.egress.iter().map(|e| e.ipv4).collect();
    v4s.extend(world.resources.iter().filter_map(|r| r.ipv4));
    let v6s: HashSet<Ipv6Prefix> = world.egress.iter().filter_map(|e| e.ipv6).collect();
    let mut next_v4 = FIRST_V4;
    let mut next_v6 = FIRST_V6;
    candidates
        .iter()
        .map(|&dc| {
            let d = &world.datacenters[dc as usize];
            let mut n = 1;
            let id = loop {
                let id = format!("plan-{}-{n}", d.code.to_ascii_lowercase());
                if ids.insert(id.clone()) {
                    break id;
                }
                n += 1;
            };
            while v4s.contains(&Ipv4Addr::from(next_v4)) {
                next_v4 += 1;
            }
            let ipv4 = Ipv4Addr::from(next_v4);
            next_v4 += 1;
            let ipv6 = loop {
                let p = Ipv6Prefix {
                    addr: Ipv6Addr::new(0x2001, 0xdb8, next_v6, 0, 0, 0, 0, 0),
                    len: 48,
                };
                next_v6 = next_v6.wrapping_add(1);
                if !v6s.contains(&p) {
                    break p;
                }
            };
            NewIp {
                id,
                datacenter: d.code.clone(),
                place: format!("{}, {}", d.city, catalog.country(d.country).iso2),
                ipv4,
                ipv6,
            }
        })
        .collect()
}
