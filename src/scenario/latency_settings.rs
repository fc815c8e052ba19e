//! `[latency]`: the latency model's constants, from the scenario's own keys over those of the file it
//! includes (`include = "latency.toml"`, as `egress-sim calibrate -o` writes) over the defaults.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::compile::Ctx;
use super::raw::{RawLatency, RawLatencyFile};
use super::toml_error;
use crate::error::{Error, Source};
use crate::latency::LatencyModel;

/// Compiles the `[latency]` table; errors go to `cx`, and a bad value leaves its default in place.
pub(super) fn latency_model(cx: &mut Ctx, raw: Option<&RawLatency>) -> LatencyModel {
    let mut m = LatencyModel::default();
    let Some(l) = raw else { return m };
    if let Some(inc) = &l.include {
        if let Some((source, included)) = read_include(cx, inc) {
            let mut icx = Ctx {
                src: &source,
                errors: Vec::new(),
                warnings: Vec::new(),
            };
            if let Some(nested) = &included.latency.include {
                icx.err_help(
                    nested.span(),
                    "an included `[latency]` table cannot include another file",
                    Some("copy that file's keys here instead".into()),
                );
            }
            apply(&mut icx, &included.latency, &mut m);
            cx.errors.append(&mut icx.errors);
            cx.warnings.append(&mut icx.warnings);
        }
    }
    apply(cx, l, &mut m);
    m
}

/// Reads and parses the included file; a located error (at `include`) when it cannot be read.
fn read_include(cx: &mut Ctx, inc: &Spanned<String>) -> Option<(Source, RawLatencyFile)> {
    let path = include_path(&cx.src.path, inc.get_ref());
    let source = match Source::read(&path) {
        Ok(s) => s,
        Err(e) => {
            let message = match e {
                Error::Input(i) => i.message,
                other => other.to_string(),
            };
            cx.err_help(
                inc.span(),
                message,
                Some("the path is relative to the scenario file; `egress-sim calibrate -o FILE` writes one".into()),
            );
            return None;
        }
    };
    match toml::from_str::<RawLatencyFile>(&source.text) {
        Ok(raw) => Some((source, raw)),
        Err(e) => {
            cx.errors.push(toml_error::convert(&source, &e));
            None
        }
    }
}

/// `include` resolves against the scenario's folder, as a user reading the file would expect.
fn include_path(scenario: &Path, include: &str) -> PathBuf {
    let p = Path::new(include);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    scenario
        .parent()
        .map_or_else(|| p.to_path_buf(), |dir| dir.join(p))
}

/// Sets every key the table gives on `m`, checking each value.
fn apply(cx: &mut Ctx, l: &RawLatency, m: &mut LatencyModel) {
    m.fiber_km_per_ms = cx.positive(&l.fiber_km_per_ms, "fiber_km_per_ms", m.fiber_km_per_ms);
    if let Some(s) = &l.fiber_km_per_ms {
        if *s.get_ref() > 300.0 {
            cx.err(
                s.span(),
                "`fiber_km_per_ms` cannot exceed the speed of light (299.8 km/ms)",
            );
        }
    }
    m.internet_inflation = inflation(
        cx,
        &l.internet_inflation,
        "internet_inflation",
        m.internet_inflation,
    );
    m.backbone_inflation = inflation(
        cx,
        &l.backbone_inflation,
        "backbone_inflation",
        m.backbone_inflation,
    );
    if let Some(s) = &l.segment_overhead_ms {
        let both = cx.non_negative(
            &l.segment_overhead_ms,
            "segment_overhead_ms",
            m.internet_fixed_ms,
        );
        if l.internet_fixed_ms.is_some() || l.backbone_fixed_ms.is_some() {
            cx.err_help(
                s.span(),
                "`segment_overhead_ms` sets both `internet_fixed_ms` and `backbone_fixed_ms`, which this table also gives",
                Some("keep `internet_fixed_ms` and `backbone_fixed_ms` and remove `segment_overhead_ms`".into()),
            );
        }
        m.internet_fixed_ms = both;
        m.backbone_fixed_ms = both;
    }
    m.internet_fixed_ms = cx.non_negative(
        &l.internet_fixed_ms,
        "internet_fixed_ms",
        m.internet_fixed_ms,
    );
    m.backbone_fixed_ms = cx.non_negative(
        &l.backbone_fixed_ms,
        "backbone_fixed_ms",
        m.backbone_fixed_ms,
    );
    m.jitter_mean_ms = cx.non_negative(&l.jitter_mean_ms, "jitter_mean_ms", m.jitter_mean_ms);
}

/// An inflation factor: at least 1, since no path is shorter than the great circle.
fn inflation(cx: &mut Ctx, v: &Option<Spanned<f64>>, key: &str, current: f64) -> f64 {
    let x = cx.positive(v, key, current);
    match v {
        Some(s) if x < 1.0 => {
            cx.err(
                s.span(),
                format!("`{key}` must be at least 1 (a path cannot be shorter than the great circle), found {x}"),
            );
            current
        }
        _ => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{compile, Overrides};

    const REST: &str = r#"
[[egress]]
id = "lhr-1"
datacenter = "LHR"
ipv4 = "203.0.113.10"
[[population]]
name = "uk"
users = 10
[population.location]
around = ["London"]
[[resource]]
name = "app"
ipv4 = "198.51.100.1"
location = "London"
"#;

    fn load(dir: &Path, latency: &str) -> Result<LatencyModel, Error> {
        let path = dir.join("s.toml");
        let text = format!("{latency}\n{REST}");
        compile(&Source::new(&path, text), &Overrides::default()).map(|l| l.world.latency)
    }

    fn message(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn defaults_without_a_table_and_keys_override_them() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path(), "").unwrap(), LatencyModel::default());
        let m = load(
            dir.path(),
            "[latency]\ninternet_fixed_ms = 2.5\nbackbone_inflation = 1.3\njitter_mean_ms = 0",
        )
        .unwrap();
        assert_eq!(m.internet_fixed_ms, 2.5);
        assert_eq!(m.backbone_inflation, 1.3);
        assert_eq!(m.jitter_mean_ms, 0.0);
        assert_eq!(
            m.backbone_fixed_ms,
            LatencyModel::default().backbone_fixed_ms
        );
    }

    #[test]
    fn old_segment_overhead_sets_both_fixed_costs() {
        let dir = tempfile::tempdir().unwrap();
        let m = load(
            dir.path(),
            "[latency]\nsegment_overhead_ms = 0.5\ninternet_inflation = 1.6",
        )
        .unwrap();
        assert_eq!((m.internet_fixed_ms, m.backbone_fixed_ms), (0.5, 0.5));
        let e = message(
            load(
                dir.path(),
                "[latency]\nsegment_overhead_ms = 0.5\nbackbone_fixed_ms = 1",
            )
            .unwrap_err(),
        );
        assert!(
            e.contains("s.toml:2:") && e.contains("remove `segment_overhead_ms`"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let e = message(
            load(
                dir.path(),
                "[latency]\ninternet_fixed_ms = -1\nbackbone_inflation = 0.9\nfiber_km_per_ms = 400",
            )
            .unwrap_err(),
        );
        for want in [
            "s.toml:2:",
            "s.toml:3:",
            "s.toml:4:",
            "at least 1",
            "speed of light",
            "3 errors",
        ] {
            assert!(e.contains(want), "missing `{want}` in\n{e}");
        }
    }

    #[test]
    fn include_sets_defaults_that_own_keys_override() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("fit.toml"),
            "# written by calibrate\n[latency]\ninternet_fixed_ms = 6.5\ninternet_inflation = 1.4\njitter_mean_ms = 0.3\n",
        )
        .unwrap();
        let m = load(
            dir.path(),
            "[latency]\ninclude = \"fit.toml\"\njitter_mean_ms = 2",
        )
        .unwrap();
        assert_eq!((m.internet_fixed_ms, m.internet_inflation), (6.5, 1.4));
        assert_eq!(m.jitter_mean_ms, 2.0, "the scenario's own key wins");
    }

    #[test]
    fn include_errors_point_into_the_right_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = message(load(dir.path(), "[latency]\ninclude = \"missing.toml\"").unwrap_err());
        assert!(e.contains("s.toml:2:") && e.contains("missing.toml"), "{e}");
        std::fs::write(
            dir.path().join("bad.toml"),
            "[latency]\ninternet_inflation = 0.5\n",
        )
        .unwrap();
        let e = message(load(dir.path(), "[latency]\ninclude = \"bad.toml\"").unwrap_err());
        assert!(e.contains("bad.toml:2:") && e.contains("at least 1"), "{e}");
        std::fs::write(
            dir.path().join("typo.toml"),
            "[latency]\ninternet_fixd_ms = 1\n",
        )
        .unwrap();
        let e = message(load(dir.path(), "[latency]\ninclude = \"typo.toml\"").unwrap_err());
        assert!(
            e.contains("typo.toml:2:") && e.contains("internet_fixed_ms"),
            "{e}"
        );
        std::fs::write(
            dir.path().join("nest.toml"),
            "[latency]\ninclude = \"x.toml\"\n",
        )
        .unwrap();
        let e = message(load(dir.path(), "[latency]\ninclude = \"nest.toml\"").unwrap_err());
        assert!(
            e.contains("nest.toml:2:") && e.contains("cannot include"),
            "{e}"
        );
    }
}
