//! The command-line commands as library functions: each takes plain options, does its job through the
//! library, and returns the text to print. `main.rs` only parses arguments and calls these.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::catalog::Catalog;
use crate::engine::{self, SimOptions};
use crate::error::{Error, InputError, Result};
use crate::latency::{access_preset, LatencyModel, PathSpec, ACCESS_PRESETS};
use crate::nearest::Neighbor;
use crate::place;
use crate::report::{self, output::OutputDir, tables::UserWriter, terminal};
use crate::scenario::{self, Overrides};

/// Options of `egress-sim run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Output folder (default `output/<scenario-name>`).
    pub out: Option<PathBuf>,
    /// Replace a non-empty folder egress-sim did not create.
    pub force: bool,
    /// Setting overrides.
    pub overrides: Overrides,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Stream `users.csv`.
    pub per_user: bool,
    /// No progress bar and no summary.
    pub quiet: bool,
}

/// Runs a scenario end to end and returns the summary to print.
pub fn run(opts: &RunOptions) -> Result<String> {
    let t0 = Instant::now();
    let loaded = scenario::load(&opts.scenario, &opts.overrides)?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    let mut world = loaded.world;
    engine::sweep::expand(&mut world, opts.threads)?;
    let target = opts
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&world.name));
    let out = OutputDir::create(&target, opts.force)?;
    let mut timings = terminal::Timings {
        load: t0.elapsed(),
        ..Default::default()
    };

    let bar = (!opts.quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(world.users);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} simulating {bar:40} {human_pos}/{human_len} users ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let progress = |done: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let t1 = Instant::now();
    let mut users_csv = if opts.per_user {
        Some(UserWriter::create(out.path(), &world)?)
    } else {
        None
    };
    let mut sink = |rows: &[engine::UserRow]| match users_csv.as_mut() {
        Some(w) => w.write(rows),
        None => Ok(()),
    };
    let sim = SimOptions {
        threads: opts.threads,
        per_user: opts.per_user,
    };
    let metrics = engine::simulate(&world, &sim, &progress, &mut sink)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    timings.simulate = t1.elapsed();
    let t2 = Instant::now();
    if let Some(w) = users_csv {
        w.finish()?;
    }
    report::write_all(out.path(), &world, &metrics)?;
    crate::geoip::write_table(out.path(), &world)?;
    let final_dir = out.commit()?;
    timings.output = t2.elapsed();
    Ok(if opts.quiet {
        String::new()
    } else {
        terminal::summary(&world, &metrics, &timings, &final_dir.display().to_string())
    })
}

/// Validates a scenario without simulating; returns a one-paragraph description.
pub fn check(path: &Path) -> Result<String> {
    check_with(path, &Overrides::default())
}

/// [`check`] with setting overrides (`--geoip`).
pub fn check_with(path: &Path, overrides: &Overrides) -> Result<String> {
    let mut loaded = scenario::load(path, overrides)?;
    engine::sweep::expand(&mut loaded.world, 0)?;
    let w = &loaded.world;
    let mut s = String::new();
    for warn in &loaded.warnings {
        s.push_str(warn);
        s.push('\n');
    }
    let mut dcs: Vec<&str> = w
        .egress
        .iter()
        .map(|e| w.datacenters[e.datacenter as usize].code.as_str())
        .collect();
    dcs.dedup();
    s.push_str(&format!(
        "{}: OK\n  scenario `{}`: {} egress IPs ({}), {} populations ({} users × {} requests), {} resources, {} case{}\n",
        path.display(),
        w.name,
        w.egress.len(),
        dcs.join(", "),
        w.populations.len(),
        w.users,
        w.requests_per_user,
        w.resources.len(),
        w.cases.len(),
        if w.cases.len() == 1 { "" } else { "s" }
    ));
    for p in &w.populations {
        s.push_str(&format!(
            "  population `{}`: {} users, {}, access {}\n",
            p.name, p.users, p.placement.description, p.access_name
        ));
    }
    Ok(s)
}

/// Options of `egress-sim latency`.
#[derive(Debug, Clone, Default)]
pub struct LatencyOptions {
    /// Where the user is.
    pub from: String,
    /// Where the destination is.
    pub to: String,
    /// Egress data center to route through (dedicated IPv4 egress to a non-proxied destination).
    pub via: Option<String>,
    /// Access preset for the with-access figure.
    pub access: String,
    /// Take latency constants from this scenario.
    pub scenario: Option<PathBuf>,
    /// Print JSON.
    pub json: bool,
}

/// Explains the model's RTT between two places.
pub fn latency(opts: &LatencyOptions) -> Result<String> {
    let catalog = Catalog::embedded();
    let (model, dcs) = match &opts.scenario {
        Some(p) => {
            let l = scenario::load(p, &Overrides::default())?;
            (l.world.latency, l.world.datacenters)
        }
        None => (LatencyModel::default(), catalog.datacenters.clone()),
    };
    let resolve = |what: &str, text: &str| {
        place::resolve(text, &dcs, catalog).map_err(|e| {
            Error::Input(
                InputError::new(format!("{what}: {}", e.message)).with_optional_help(e.help),
            )
        })
    };
    let from = resolve("FROM", &opts.from)?;
    let to = resolve("TO", &opts.to)?;
    let access = access_preset(&opts.access).ok_or_else(|| {
        let names: Vec<&str> = ACCESS_PRESETS.iter().map(|p| p.0).collect();
        Error::Input(
            InputError::new(format!("unknown access preset `{}`", opts.access))
                .with_help(format!("presets: {}", names.join(", "))),
        )
    })?;
    let index =
        crate::nearest::NearestIndex::new(&dcs.iter().map(|d| d.location).collect::<Vec<_>>());
    let mut near = [Neighbor {
        index: 0,
        distance_km: 0.0,
    }; 1];
    if index.nearest(from.location, |_| true, &mut near) == 0 {
        return Err(Error::Internal("no data centers".into()));
    }
    let ingress = &dcs[near[0].index as usize];
    let via = match &opts.via {
        None => None,
        Some(v) => {
            let p = resolve("--via", v)?;
            match p.kind {
                place::PlaceKind::DataCenter(i) => Some(&dcs[i]),
                _ => {
                    return Err(
                        InputError::new(format!("--via: `{v}` is not a data center code"))
                            .with_optional_help(place::suggest_datacenter(v, &dcs))
                            .into(),
                    )
                }
            }
        }
    };
    let ingress_label = format!("{} ({})", ingress.code, ingress.city);
    let via_label = via.map(|d| format!("{} ({})", d.code, d.city));
    let spec = |access_ms| PathSpec {
        user: from.location,
        ingress: (&ingress_label, ingress.location),
        egress: via
            .filter(|d| d.code != ingress.code)
            .zip(via_label.as_deref())
            .map(|(d, l)| (l, d.location)),
        destination: (&to.label, to.location),
        access_ms,
        processing_ms: 0.0,
    };
    let with = model.breakdown(&spec(Some(access.median_ms)));
    let without = model.breakdown(&spec(None));
    if opts.json {
        let v = serde_json::json!({
            "from": {"place": from.label, "lat": from.location.lat, "lon": from.location.lon},
            "to": {"place": to.label, "lat": to.location.lat, "lon": to.location.lon},
            "ingress": ingress.code,
            "via": via.map(|d| d.code.clone()),
            "access": {"preset": opts.access.to_ascii_lowercase(), "median_ms": access.median_ms},
            "parts": with.parts,
            "rtt_ms": without.total_ms(),
            "rtt_with_access_ms": with.total_ms(),
            "model": {
                "fiber_km_per_ms": model.fiber_km_per_ms,
                "internet_fixed_ms": model.internet_fixed_ms,
                "internet_inflation": model.internet_inflation,
                "backbone_fixed_ms": model.backbone_fixed_ms,
                "backbone_inflation": model.backbone_inflation,
                "jitter_mean_ms": model.jitter_mean_ms,
                "jitter_median_ms": model.jitter_median_ms(),
            },
        });
        return Ok(format!("{v}\n"));
    }
    let mut s = format!("round trip {} → {}\n", from.label, to.label);
    s.push_str(&format!("  {:<48} {:>10} {:>10}\n", "part", "km", "ms"));
    for p in &with.parts {
        let km = if p.distance_km > 0.0 || p.name.contains('→') {
            format!("{:.0}", p.distance_km)
        } else {
            String::new()
        };
        s.push_str(&format!("  {:<48} {:>10} {:>10.2}\n", p.name, km, p.rtt_ms));
    }
    s.push_str(&format!(
        "  {:<48} {:>10} {:>10.2}\n  {:<48} {:>10} {:>10.2}\n",
        "total without last-mile access",
        "",
        without.total_ms(),
        format!("total with {} access", opts.access.to_ascii_lowercase()),
        "",
        with.total_ms()
    ));
    s.push_str(&format!("model: {}\n", model.describe()));
    Ok(s)
}
