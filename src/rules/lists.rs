//! `rules import --lists FILE`: Gateway lists, which rule expressions reference by id (`net.src.ip in
//! $<uuid>`), resolved into the literal sets a scenario policy holds.
//!
//! The file is the API's list listing (`GET /accounts/{account_id}/gateway/lists`, the envelope or a
//! bare array): each list has an `id`, a `name`, a `type` (`IP`, `DOMAIN`, `EMAIL`, `SERIAL`, `URL`,
//! ...) and `items` with a `value` each. A reference `$<id>` becomes `{v1 v2 ...}`: addresses and
//! CIDR ranges of an `IP` list as written, every other type as quoted strings. The scenario keeps the
//! inlined set, so `rules export` writes it back inline (Gateway accepts both forms).

use std::collections::HashMap;

use serde::Deserialize;

use super::json;
use crate::error::{InputError, Result, Source};
use crate::policy::expr::{self, Value};

/// A list as the API lists it; unknown fields (`created_at`, `description`, ...) are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
struct ApiList {
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    items: Option<Vec<ApiItem>>,
    /// Number of items, which the listing gives even where it leaves `items` out.
    count: Option<u64>,
}

/// One item of a list.
#[derive(Debug, Clone, Default, Deserialize)]
struct ApiItem {
    value: Option<String>,
}

/// A list ready to be inlined.
#[derive(Debug, Clone, PartialEq)]
struct List {
    name: String,
    kind: String,
    /// The items as set members (`10.0.0.0/8`, `"a@example.com"`); `None` when the file holds none.
    members: Option<Vec<String>>,
    /// The listing's `count`, for the message when `items` is missing.
    count: Option<u64>,
}

/// The lists of an account by id, or none at all (no `--lists` given).
#[derive(Debug, Clone, Default)]
pub(super) struct Lists {
    by_id: HashMap<String, List>,
    /// The file name, for messages; `None` without `--lists`.
    file: Option<String>,
}

/// An expression with its list references replaced, and what was replaced.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Resolved {
    /// The expression text to parse.
    pub(super) text: String,
    /// `` `Office IPs` (IP, 3 items) `` for each list used, in order of first use.
    pub(super) used: Vec<String>,
}

impl Lists {
    /// Reads a list listing; `name` is the file name shown in messages.
    pub(super) fn read(src: &Source, name: &str) -> Result<Self> {
        let raw: Vec<ApiList> = json::read_listing(src, &json::LISTS)?;
        let mut by_id = HashMap::new();
        for (i, l) in raw.into_iter().enumerate() {
            let Some(id) = l.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
                return Err(InputError::in_file(
                    src,
                    format!("list #{} of `{name}` has no `id`", i + 1),
                )
                .with_help("rule expressions refer to lists by id (`$<id>`); give the API's listing as it returns it")
                .into());
            };
            let id = id.to_string();
            let list = list(&l, &id).map_err(|why| InputError::in_file(src, why))?;
            if by_id.insert(id.clone(), list).is_some() {
                return Err(InputError::in_file(
                    src,
                    format!("list id `{id}` appears twice in `{name}`"),
                )
                .into());
            }
        }
        Ok(Self {
            by_id,
            file: Some(name.to_string()),
        })
    }

    /// Replaces every list reference of `text` with the list's items. Every reference that cannot be
    /// resolved (unknown id, no lists file, a list without items) is one reason in the error.
    pub(super) fn resolve(&self, text: &str) -> std::result::Result<Resolved, Vec<String>> {
        let refs = expr::list_references(text);
        let mut out = String::with_capacity(text.len());
        let mut used = Vec::new();
        let mut problems = Vec::new();
        let mut last = 0;
        for (span, id) in refs {
            out.push_str(&text[last..span.start]);
            last = span.end;
            match self.members(id) {
                Ok((list, members)) => {
                    out.push('{');
                    out.push_str(&members.join(" "));
                    out.push('}');
                    let shown = format!(
                        "`{}` ({}, {})",
                        list.name,
                        list.kind,
                        super::import::count(members.len(), "item")
                    );
                    if !used.contains(&shown) {
                        used.push(shown);
                    }
                }
                Err(why) => problems.push(why),
            }
        }
        out.push_str(&text[last..]);
        if problems.is_empty() {
            Ok(Resolved { text: out, used })
        } else {
            Err(problems)
        }
    }

    /// The list `id` and its members, or why it cannot be inlined.
    fn members(&self, id: &str) -> std::result::Result<(&List, &[String]), String> {
        let Some(file) = &self.file else {
            return Err(format!(
                "uses list `${id}`: give the account's lists with `--lists FILE` (the API's `GET /accounts/{{account_id}}/gateway/lists` response) to resolve it"
            ));
        };
        let Some(list) = self.by_id.get(id) else {
            return Err(format!("uses list `${id}`, which is not in `{file}`"));
        };
        match &list.members {
            Some(m) if !m.is_empty() => Ok((list, m)),
            Some(_) => Err(format!(
                "uses list `{}` (`${id}`), which has no items, and a set needs at least one",
                list.name
            )),
            None => Err(format!(
                "uses list `{}` (`${id}`), whose items are not in `{file}`{}: add them from `GET /accounts/{{account_id}}/gateway/lists/{id}/items`",
                list.name,
                list.count
                    .map_or(String::new(), |n| format!(" (the listing counts {n})"))
            )),
        }
    }
}

/// A list's members as set literals, or why an item cannot be one.
fn list(l: &ApiList, id: &str) -> std::result::Result<List, String> {
    let name = l
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(id)
        .to_string();
    let kind = l
        .kind
        .as_deref()
        .map(|k| k.trim().to_ascii_uppercase())
        .unwrap_or_default();
    let members = match &l.items {
        None => None,
        Some(items) => Some(
            items
                .iter()
                .filter_map(|it| it.value.as_deref().map(str::trim))
                .filter(|v| !v.is_empty())
                .map(|v| member(&kind, v))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|v| format!("list `{name}` (`{id}`, type IP) has an item `{v}` that is not an IP address or CIDR range"))?,
        ),
    };
    Ok(List {
        name,
        kind: if kind.is_empty() {
            "no type".into()
        } else {
            kind
        },
        members,
        count: l.count,
    })
}

/// One item as a set literal: an `IP` list's addresses and ranges bare (only the characters of
/// addresses, so an item cannot change the expression around it), everything else a quoted string.
fn member(kind: &str, value: &str) -> std::result::Result<String, String> {
    if kind != "IP" {
        return Ok(Value::Str(value.to_string()).to_string());
    }
    let address_like = value
        .chars()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '/'));
    if address_like
        && value
            .split('/')
            .next()
            .is_some_and(|a| a.parse::<std::net::IpAddr>().is_ok())
    {
        Ok(value.to_string())
    } else {
        Err(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = r#"{"success": true, "errors": [], "result": [
        {"id": "a1", "name": "Office IPs", "type": "IP", "count": 2,
         "items": [{"value": "192.0.2.0/24", "created_at": "x"}, {"value": "2001:db8::/32"}]},
        {"id": "b2", "name": "Admins", "type": "EMAIL", "items": [{"value": "a\"b@example.com"}]},
        {"id": "c3", "name": "Summary only", "type": "DOMAIN", "count": 40},
        {"id": "d4", "name": "Empty", "type": "DOMAIN", "items": []}
    ]}"#;

    fn lists() -> Lists {
        Lists::read(&Source::new("lists.json", LISTING), "lists.json").unwrap()
    }

    #[test]
    fn references_become_sets_of_the_lists_items() {
        let r = lists()
            .resolve("net.src.ip in $a1 and identity.email in $b2 or net.src.ip in $a1")
            .unwrap();
        assert_eq!(
            r.text,
            r#"net.src.ip in {192.0.2.0/24 2001:db8::/32} and identity.email in {"a\"b@example.com"} or net.src.ip in {192.0.2.0/24 2001:db8::/32}"#
        );
        assert_eq!(
            r.used,
            vec!["`Office IPs` (IP, 2 items)", "`Admins` (EMAIL, 1 item)"]
        );
        assert!(expr::parse(&r.text).is_ok(), "{}", r.text);
        // Text without references is unchanged.
        assert_eq!(
            lists().resolve("net.dst.port == 443").unwrap().text,
            "net.dst.port == 443"
        );
    }

    #[test]
    fn every_unresolvable_reference_is_a_reason() {
        let e = lists()
            .resolve("net.src.ip in $zz or any(net.fqdn.domains[*] in $c3) or net.fqdn.host in $d4")
            .unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(
            e[0].contains("list `$zz`, which is not in `lists.json`"),
            "{e:?}"
        );
        assert!(
            e[1].contains("whose items are not in `lists.json` (the listing counts 40)"),
            "{e:?}"
        );
        assert!(e[1].contains("/gateway/lists/c3/items"), "{e:?}");
        assert!(e[2].contains("has no items"), "{e:?}");
        let e = Lists::default().resolve("net.src.ip in $a1").unwrap_err();
        assert!(e[0].contains("`--lists FILE`"), "{e:?}");
    }

    #[test]
    fn bad_files_are_input_errors() {
        for bad in [
            r#"{"result": [{"name": "no id", "type": "IP", "items": []}]}"#,
            r#"[{"id": "a", "type": "IP", "items": [{"value": "10.0.0.0/8} or true"}]}]"#,
            r#"[{"id": "a", "items": []}, {"id": "a", "items": []}]"#,
            r#"{"result": 3}"#,
            "[",
        ] {
            let e = Lists::read(&Source::new("l.json", bad), "l.json").unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
        let e = Lists::read(&Source::new("l.json", "{\"result\": 3}"), "l.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a Gateway lists listing"), "{e}");
    }
}
