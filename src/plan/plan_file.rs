//! `plan.toml`: the scenario's own text with the planned `[[egress]]` entries appended after the
//! scenario's (comments and layout kept, as `rules import` does), every destination allowlist
//! extended with them (`--allowlists add`), and with `--from-scratch` the scenario's egress IPs
//! removed.

use std::net::Ipv4Addr;
use std::path::{Component, Path, PathBuf};

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use crate::world::Ipv6Prefix;

/// A planned egress IP.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewIp {
    /// Egress id (`plan-fra-1`).
    pub(crate) id: String,
    /// Data center code.
    pub(crate) datacenter: String,
    /// City and country, for the comment.
    pub(crate) place: String,
    /// Dedicated IPv4 address.
    pub(crate) ipv4: Ipv4Addr,
    /// Dedicated IPv6 range.
    pub(crate) ipv6: Ipv6Prefix,
}

/// How the scenario text becomes a plan world's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edit<'a> {
    /// The planned IPs, in order.
    pub(crate) ips: &'a [NewIp],
    /// Add the planned IPs to every allowlist.
    pub(crate) allowlist_add: bool,
    /// Remove the scenario's own egress IPs (and their ids from allowlists).
    pub(crate) from_scratch: bool,
    /// Remove the `[[failure]]` tables (the planner's evaluation world needs none).
    pub(crate) drop_failures: bool,
    /// The comment heading the planned entries.
    pub(crate) heading: &'a str,
}

/// The scenario text with `edit` applied. `Err` only when the text is not TOML (the scenario has
/// compiled before, so that never happens for a scenario file).
pub(crate) fn render(text: &str, edit: &Edit) -> Result<String, toml_edit::TomlError> {
    let mut doc: DocumentMut = text.parse()?;
    if edit.drop_failures {
        doc.remove("failure");
    }
    let old = if edit.from_scratch {
        doc.remove("egress")
    } else {
        None
    };
    let removed: Vec<String> = old
        .as_ref()
        .and_then(Item::as_array_of_tables)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("id").and_then(Item::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let old_first = old
        .as_ref()
        .and_then(Item::as_array_of_tables)
        .and_then(|a| a.get(0));
    let mut tables: Vec<Table> = edit.ips.iter().map(egress_table).collect();
    if let Some(first) = tables.first_mut() {
        let kept_heading = old_first
            .and_then(|t| t.decor().prefix())
            .and_then(|p| p.as_str())
            .unwrap_or("\n")
            .to_string();
        first
            .decor_mut()
            .set_prefix(format!("{kept_heading}{}\n", edit.heading));
        if let Some(pos) = old_first.and_then(Table::position) {
            first.set_position(pos);
        }
    }
    match doc.get_mut("egress").and_then(Item::as_array_of_tables_mut) {
        Some(array) => tables.into_iter().for_each(|t| array.push(t)),
        None => {
            let mut array = ArrayOfTables::new();
            tables.into_iter().for_each(|t| array.push(t));
            doc.insert("egress", Item::ArrayOfTables(array));
        }
    }
    if let Some(resources) = doc
        .get_mut("resource")
        .and_then(Item::as_array_of_tables_mut)
    {
        for r in resources.iter_mut() {
            if let Some(list) = r.get_mut("allowlist").and_then(Item::as_array_mut) {
                list.retain(|v| v.as_str().is_none_or(|id| !removed.iter().any(|x| x == id)));
                if edit.allowlist_add {
                    for ip in edit.ips {
                        list.push(ip.id.as_str());
                    }
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// The plan text with every relative file path it names (`geoip`, `[latency] include`,
/// `[[population]] from_csv`), written relative to the scenario's folder `from`, rewritten relative
/// to the folder `to` where `plan.toml` goes, so that `egress-sim run <to>/plan.toml` reads the same
/// files.
pub(crate) fn rebase_paths(
    text: &str,
    from: &Path,
    to: &Path,
) -> Result<String, toml_edit::TomlError> {
    let mut doc: DocumentMut = text.parse()?;
    let fix = |v: &mut Value| {
        let Some(s) = v.as_str() else { return };
        if Path::new(s).is_absolute() {
            return;
        }
        let moved = rebased(from, to, Path::new(s));
        let decor = v.decor().clone();
        *v = Value::from(moved);
        *v.decor_mut() = decor;
    };
    match doc.get_mut("geoip") {
        Some(Item::Value(v)) if v.is_str() => fix(v),
        Some(Item::Value(Value::InlineTable(t))) => {
            if let Some(v) = t.get_mut("database") {
                fix(v);
            }
        }
        Some(Item::Table(t)) => {
            if let Some(v) = t.get_mut("database").and_then(Item::as_value_mut) {
                fix(v);
            }
        }
        _ => {}
    }
    if let Some(v) = doc
        .get_mut("latency")
        .and_then(Item::as_table_like_mut)
        .and_then(|t| t.get_mut("include"))
        .and_then(Item::as_value_mut)
    {
        fix(v);
    }
    if let Some(pops) = doc
        .get_mut("population")
        .and_then(Item::as_array_of_tables_mut)
    {
        for p in pops.iter_mut() {
            if let Some(v) = p.get_mut("from_csv").and_then(Item::as_value_mut) {
                fix(v);
            }
        }
    }
    Ok(doc.to_string())
}

/// `path` (relative to folder `from`) relative to folder `to`; absolute when they share no root.
fn rebased(from: &Path, to: &Path, path: &Path) -> String {
    let abs = |p: &Path| normalize(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let file = abs(&from.join(path));
    let base = abs(to);
    let f: Vec<Component> = file.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = f.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return file.to_string_lossy().into_owned();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &f[common..] {
        out.push(c.as_os_str());
    }
    out.to_string_lossy().replace('\\', "/")
}

/// Removes `.` and resolves `..` lexically.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

fn egress_table(ip: &NewIp) -> Table {
    let mut t = Table::new();
    t.insert("id", Item::Value(Value::from(ip.id.as_str())));
    let mut dc = Value::from(ip.datacenter.as_str());
    dc.decor_mut().set_suffix(format!("  # {}", ip.place));
    t.insert("datacenter", Item::Value(dc));
    t.insert("ipv4", Item::Value(Value::from(ip.ipv4.to_string())));
    t.insert("ipv6", Item::Value(Value::from(ip.ipv6.to_string())));
    t.decor_mut().set_prefix("\n");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = r#"# A scenario.
name = "s"

# Our egress IPs.
[[egress]]
id = "lhr-1"   # London
datacenter = "LHR"
ipv4 = "203.0.113.1"

[[egress]]
id = "iad-1"
datacenter = "IAD"
ipv4 = "203.0.113.2"

[[resource]]
name = "bank"
ipv4 = "198.51.100.1"
location = "FRA"
allowlist = ["lhr-1", "iad-1"]  # registered with the bank

[[resource]]
name = "open"
ipv4 = "198.51.100.2"
location = "IAD"

[[failure]]
name = "x"
datacenters = ["LHR"]
"#;

    fn ip(id: &str, dc: &str, n: u8) -> NewIp {
        NewIp {
            id: id.into(),
            datacenter: dc.into(),
            place: "Somewhere, XX".into(),
            ipv4: Ipv4Addr::new(198, 19, 0, n),
            ipv6: format!("2001:db8:e00{n}::/48").parse().unwrap(),
        }
    }

    fn edit<'a>(ips: &'a [NewIp], add: bool, scratch: bool) -> Edit<'a> {
        Edit {
            ips,
            allowlist_add: add,
            from_scratch: scratch,
            drop_failures: false,
            heading: "# Planned.",
        }
    }

    #[test]
    fn planned_ips_follow_the_scenarios_and_join_allowlists() {
        let ips = [ip("plan-fra-1", "FRA", 1), ip("plan-bom-1", "BOM", 2)];
        let out = render(SCENARIO, &edit(&ips, true, false)).unwrap();
        // Comments kept, new entries right after the last scenario egress, in order.
        assert!(out.starts_with("# A scenario.\n"), "{out}");
        assert!(out.contains("id = \"lhr-1\"   # London"), "{out}");
        let iad = out.find("iad-1\"\ndatacenter").unwrap();
        let fra = out.find("id = \"plan-fra-1\"").unwrap();
        let bom = out.find("id = \"plan-bom-1\"").unwrap();
        let res = out.find("[[resource]]").unwrap();
        assert!(iad < fra && fra < bom && bom < res, "{out}");
        assert!(out.contains("# Planned.\n[[egress]]"), "{out}");
        assert!(
            out.contains("datacenter = \"FRA\"  # Somewhere, XX"),
            "{out}"
        );
        assert!(
            out.contains(r#"allowlist = ["lhr-1", "iad-1", "plan-fra-1", "plan-bom-1"]  # registered with the bank"#),
            "{out}"
        );
        assert!(out.contains("[[failure]]"));
        let keep = render(SCENARIO, &edit(&ips, false, false)).unwrap();
        assert!(keep.contains(r#"allowlist = ["lhr-1", "iad-1"]"#), "{keep}");
    }

    #[test]
    fn relative_paths_follow_the_plan_file() {
        let text = "geoip = \"db/city.mmdb\"  # the database\n[latency]\ninclude = \"lat.toml\"\n[[population]]\nname = \"a\"\nfrom_csv = \"lists/users.csv\"\n[[population]]\nname = \"b\"\nfrom_csv = \"/abs/users.csv\"\n";
        let out = rebase_paths(text, Path::new("scenarios"), Path::new("output/x-plan")).unwrap();
        assert!(
            out.contains("geoip = \"../../scenarios/db/city.mmdb\"  # the database"),
            "{out}"
        );
        assert!(
            out.contains("include = \"../../scenarios/lat.toml\""),
            "{out}"
        );
        assert!(
            out.contains("from_csv = \"../../scenarios/lists/users.csv\""),
            "{out}"
        );
        assert!(out.contains("from_csv = \"/abs/users.csv\""), "{out}");
        let same = rebase_paths(text, Path::new("a/./b/../c"), Path::new("a/c")).unwrap();
        assert!(same.contains("include = \"lat.toml\""), "{same}");
    }

    #[test]
    fn from_scratch_replaces_the_scenarios_ips() {
        let ips = [ip("plan-fra-1", "FRA", 1)];
        let mut e = edit(&ips, true, true);
        e.drop_failures = true;
        let out = render(SCENARIO, &e).unwrap();
        assert!(
            !out.contains("lhr-1\"\n") && !out.contains("203.0.113.1"),
            "{out}"
        );
        assert!(
            out.contains("# Our egress IPs.\n# Planned.\n[[egress]]\nid = \"plan-fra-1\""),
            "{out}"
        );
        assert!(out.contains(r#"allowlist = ["plan-fra-1"]"#), "{out}");
        assert!(!out.contains("[[failure]]"), "{out}");
        assert!(out.find("plan-fra-1").unwrap() < out.find("[[resource]]").unwrap());
    }
}
