//! The names a scenario's populations refer to (identity groups, posture checks, virtual networks),
//! turned into indexes in first-use order, declared groups first.

use super::compile::Ctx;
use super::raw::RawGroup;
use crate::geoip::Resolver;
use crate::world::Group;

/// Groups, posture checks and virtual networks, each indexed by position.
#[derive(Debug, Default)]
pub(super) struct Registry {
    pub(super) groups: Vec<Group>,
    pub(super) posture_checks: Vec<String>,
    pub(super) vnets: Vec<String>,
}

impl Registry {
    /// Starts from the `[[group]]` tables (errors for empty and duplicate names).
    pub(super) fn with_declared_groups(cx: &mut Ctx, raw: &[RawGroup]) -> Self {
        let mut groups: Vec<Group> = Vec::new();
        for g in raw {
            let name = g.name.get_ref().trim().to_string();
            if name.is_empty() {
                cx.err(g.name.span(), "group `name` must not be empty");
                continue;
            }
            if groups.iter().any(|x| x.name == name) {
                cx.err(g.name.span(), format!("duplicate group `{name}`"));
                continue;
            }
            groups.push(Group {
                id: g.id.clone().unwrap_or_else(|| format!("group-{name}")),
                email: g
                    .email
                    .clone()
                    .unwrap_or_else(|| format!("{name}@groups.example.com")),
                name,
            });
        }
        Self {
            groups,
            ..Self::default()
        }
    }

    /// Index of group `name`, added with the default id and email when not declared.
    pub(super) fn group(&mut self, name: &str) -> usize {
        match self.groups.iter().position(|g| g.name == name) {
            Some(i) => i,
            None => {
                self.groups.push(Group {
                    name: name.to_string(),
                    id: format!("group-{name}"),
                    email: format!("{name}@groups.example.com"),
                });
                self.groups.len() - 1
            }
        }
    }

    pub(super) fn posture(&mut self, name: &str) -> usize {
        intern(&mut self.posture_checks, name)
    }

    pub(super) fn vnet(&mut self, name: &str) -> usize {
        intern(&mut self.vnets, name)
    }
}

fn intern(list: &mut Vec<String>, name: &str) -> usize {
    match list.iter().position(|x| x == name) {
        Some(i) => i,
        None => {
            list.push(name.to_string());
            list.len() - 1
        }
    }
}

/// A user list names groups, posture checks and virtual networks the same way a population does.
impl Resolver for Registry {
    fn group(&mut self, name: &str) -> Option<u16> {
        let i = Registry::group(self, name);
        (i < 256).then_some(i as u16)
    }
    fn posture(&mut self, id: &str) -> Option<u8> {
        let i = Registry::posture(self, id);
        (i < 256).then_some(i as u8)
    }
    fn vnet(&mut self, id: &str) -> u16 {
        Registry::vnet(self, id) as u16
    }
}
