//! `egress-sim calibrate`: fit the latency model's constants to measured round trips.
//!
//! # What a pair measurement can identify
//! A ping between two places crosses one kind of network once. Its median is, in the model,
//! `fixed + 2 × distance × inflation / fiber speed + jitter median (+ last-mile access)`, so a set of
//! pairs at different distances identifies exactly two constants of that network: its fixed cost and its
//! inflation (`--network internet`, the default, or `backbone` for data-center-to-data-center
//! measurements over a private backbone). Everything else is held, and the output says so:
//! - `fiber_km_per_ms`: only inflation ÷ speed shows in a round trip; the speed is physics.
//! - `jitter_mean_ms`: a median carries only the jitter's median (ln 2 × mean), which is added to every
//!   prediction rather than fitted, since it cannot be told apart from the fixed cost.
//! - last-mile access: a constant too; without `--access` the pings are taken to be host to host (servers
//!   in data centers, probes on wired uplinks); with `--access PRESET` that preset's median is added.
//! - the other network's constants: these pings never cross it.
//!
//! The fit is robust (see [`fit`]); pairs far off the line are flagged as outliers. The error of the
//! fitted model on the pairs it was fitted to is optimistic, so k-fold cross-validated (held-out) error
//! is printed too. `-o FILE` writes a complete `[latency]` table that a scenario pastes or includes
//! (`[latency] include = "FILE"`).

pub mod fit;
pub mod measurements;

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::atomic_file::write_atomic;
use crate::catalog::Catalog;
use crate::error::{Error, InputError, Result};
use crate::latency::{access_preset, LatencyModel, Network, SegmentCost, ACCESS_PRESETS};
use crate::scenario::{self, Overrides};
use fit::{Errors, Fit, Held, Line, Sample};
use measurements::Measurement;

/// Options of `egress-sim calibrate`.
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    /// The measurements CSV (`from,to,rtt_ms`).
    pub measurements: PathBuf,
    /// Start from (and keep the held constants of) this scenario's `[latency]` instead of the defaults.
    pub scenario: Option<PathBuf>,
    /// Write the fitted `[latency]` table here.
    pub out: Option<PathBuf>,
    /// Print every pair.
    pub per_pair: bool,
    /// Folds of the cross-validation.
    pub folds: usize,
    /// Which network the measured pairs crossed.
    pub network: Network,
    /// Last-mile access preset the pings include (measured from users' devices).
    pub access: Option<String>,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        Self {
            measurements: PathBuf::new(),
            scenario: None,
            out: None,
            per_pair: false,
            folds: 5,
            network: Network::Internet,
            access: None,
        }
    }
}

/// A finished calibration: the model before and after, and how well each predicts the pairs.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// The network whose constants were fitted.
    pub network: Network,
    /// Where the starting model came from (`defaults` or the scenario's path).
    pub before_from: String,
    /// The model before.
    pub before: LatencyModel,
    /// The model after: `before` with the fitted network's constants replaced.
    pub after: LatencyModel,
    /// What every prediction adds without fitting it.
    pub held: Held,
    /// Access preset and its median, when the pings include last-mile access.
    pub access: Option<(String, f64)>,
    /// The pairs, in file order.
    pub measurements: Vec<Measurement>,
    /// The robust fit (outliers, weights, residuals).
    pub fit: Fit,
    /// Absolute errors of `before`, `after`, and held-out `after`, ms, in file order.
    pub errors: [Vec<f64>; 3],
    /// Cross-validation folds.
    pub folds: usize,
}

/// Runs `calibrate` and returns what to print; writes the table when asked.
pub fn calibrate(opts: &CalibrateOptions) -> Result<String> {
    let catalog = Catalog::embedded();
    let (before, datacenters, before_from) = match &opts.scenario {
        Some(p) => {
            let l = scenario::load(p, &Overrides::default())?;
            (
                l.world.latency,
                l.world.datacenters,
                p.display().to_string(),
            )
        }
        None => (
            LatencyModel::default(),
            catalog.datacenters.clone(),
            "defaults".to_string(),
        ),
    };
    let access = access_option(opts)?;
    let measurements = measurements::read(&opts.measurements, &datacenters, catalog)?;
    let c = run(before, before_from, access, measurements, opts)?;
    let mut text = render(&c, &opts.measurements.display().to_string(), opts.per_pair);
    if let Some(out) = &opts.out {
        write_atomic(
            out,
            &latency_toml(&c, &opts.measurements.display().to_string()),
        )?;
        let name = out.file_name().map_or_else(
            || out.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let _ = writeln!(
            text,
            "\nwrote {}: paste its [latency] table into a scenario, or keep it beside the scenario and write\n  [latency]\n  include = \"{name}\"",
            out.display()
        );
    }
    Ok(text)
}

fn access_option(opts: &CalibrateOptions) -> Result<Option<(String, f64)>> {
    let Some(name) = &opts.access else {
        return Ok(None);
    };
    if opts.network == Network::Backbone {
        return Err(InputError::new("--access applies to internet pings taken from users' devices, not to backbone measurements")
            .with_help("drop --access, or use --network internet")
            .into());
    }
    match access_preset(name) {
        Some(p) => Ok(Some((name.to_ascii_lowercase(), p.median_ms))),
        None => {
            let names: Vec<&str> = ACCESS_PRESETS.iter().map(|p| p.0).collect();
            Err(InputError::new(format!("unknown access preset `{name}`"))
                .with_help(format!("presets: {}", names.join(", ")))
                .into())
        }
    }
}

/// Fits `measurements` starting from `before`; the library entry point behind the command.
pub fn run(
    before: LatencyModel,
    before_from: String,
    access: Option<(String, f64)>,
    measurements: Vec<Measurement>,
    opts: &CalibrateOptions,
) -> Result<Calibration> {
    let network = opts.network;
    let held = Held {
        offset_ms: before.jitter_median_ms() + access.as_ref().map_or(0.0, |a| a.1),
        min_ms_per_km: 2.0 / before.fiber_km_per_ms,
    };
    let samples: Vec<Sample> = measurements
        .iter()
        .map(|m| Sample {
            distance_km: m.distance_km,
            rtt_ms: m.rtt_ms,
        })
        .collect();
    let unfit = |e: fit::Unidentifiable| {
        Error::Input(
            InputError::new(format!("{}: {}", opts.measurements.display(), e.0))
                .with_help("see `egress-sim calibrate --help` for what the fit needs"),
        )
    };
    let start = line_of(&before, network);
    let fitted = fit::fit(&samples, start, &held).map_err(unfit)?;
    let after = model_with(&before, network, rounded(fitted.line, &before));
    let cv = fit::cross_validate(&samples, start, &held, opts.folds).map_err(unfit)?;
    Ok(Calibration {
        network,
        before_from,
        errors: [
            fit::abs_errors(&samples, start, &held),
            fit::abs_errors(&samples, line_of(&after, network), &held),
            cv,
        ],
        before,
        after,
        held,
        access,
        measurements,
        fit: fitted,
        folds: opts.folds,
    })
}

/// The fitted line of `network` in `model`.
fn line_of(model: &LatencyModel, network: Network) -> Line {
    Line {
        fixed_ms: model.segment_cost(network).fixed_ms,
        ms_per_km: model.ms_per_km(network),
    }
}

/// The written constants: fixed cost to 0.01 ms, inflation to 0.001, so the table reads cleanly and
/// every figure printed is the figure of the table written.
fn rounded(line: Line, model: &LatencyModel) -> SegmentCost {
    let inflation = line.ms_per_km * model.fiber_km_per_ms / 2.0;
    SegmentCost {
        fixed_ms: (line.fixed_ms * 100.0).round() / 100.0,
        inflation: ((inflation * 1000.0).round() / 1000.0).max(1.0),
    }
}

fn model_with(model: &LatencyModel, network: Network, cost: SegmentCost) -> LatencyModel {
    let mut m = *model;
    m.set_segment_cost(network, cost);
    m
}

/// The text `calibrate` prints.
pub fn render(c: &Calibration, source: &str, per_pair: bool) -> String {
    let n = c.network.name();
    let other = match c.network {
        Network::Internet => Network::Backbone,
        Network::Backbone => Network::Internet,
    };
    let mut s = format!(
        "calibrating {n} segments on {} measurements from {source}\n",
        c.measurements.len()
    );
    let access = match &c.access {
        Some((name, ms)) => format!(" + {ms} ms {name} access"),
        None => String::new(),
    };
    let _ = writeln!(
        s,
        "  a pair's median RTT = fixed + 2 × km × inflation / {} km/ms + {:.2} ms jitter median{access}",
        c.before.fiber_km_per_ms,
        c.before.jitter_median_ms()
    );
    let access_held = match &c.access {
        Some((name, ms)) => format!("{name} access, median {ms} ms (--access)"),
        None => "no last-mile access: host-to-host pings (--access PRESET adds one)".into(),
    };
    let _ = writeln!(
        s,
        "  fitted: {n}_fixed_ms, {n}_inflation\n  \
         held:   fiber_km_per_ms = {} (only inflation ÷ speed shows in a round trip)\n          \
         jitter_mean_ms = {} (a median shows only its median)\n          \
         {access_held}\n          \
         {}_fixed_ms, {}_inflation (these pings do not cross the {})\n",
        c.before.fiber_km_per_ms,
        c.before.jitter_mean_ms,
        other.name(),
        other.name(),
        other.name(),
    );
    let before_label = format!("before ({})", c.before_from);
    let w = before_label.chars().count().max(34);
    let _ = writeln!(
        s,
        "  {:<w$} {:>9} {:>10} {:>16} {:>13}",
        "", "fixed ms", "inflation", "median |err| ms", "p90 |err| ms"
    );
    let row = |label: String, m: Option<&LatencyModel>, errors: &[f64]| {
        let e = Errors::of(errors);
        let (fixed, inflation) = m.map_or((String::new(), String::new()), |m| {
            let cost = m.segment_cost(c.network);
            (
                format!("{:.2}", cost.fixed_ms),
                format!("{:.3}", cost.inflation),
            )
        });
        format!(
            "  {label:<w$} {fixed:>9} {inflation:>10} {:>16.2} {:>13.2}\n",
            e.median_ms, e.p90_ms
        )
    };
    s.push_str(&row(before_label.clone(), Some(&c.before), &c.errors[0]));
    s.push_str(&row(
        "after (fit, on the pairs it saw)".into(),
        Some(&c.after),
        &c.errors[1],
    ));
    s.push_str(&row(
        format!("after, held out ({}-fold)", c.folds),
        None,
        &c.errors[2],
    ));
    let outliers = c.fit.outliers.iter().filter(|&&o| o).count();
    let _ = writeln!(
        s,
        "\n  held-out error is the honest figure.\n  robust scale of the relative residuals {:.1}%; {} outlier{} beyond {} × that, down-weighted in the fit{}",
        100.0 * c.fit.scale,
        outliers,
        if outliers == 1 { "" } else { "s" },
        fit::OUTLIER_K,
        if outliers > 0 && !per_pair { ":" } else { "" }
    );
    if per_pair {
        s.push_str(&pairs_table(c, true));
    } else if outliers > 0 {
        s.push_str(&pairs_table(c, false));
    }
    s
}

/// Every pair (or only the outliers): measured, before, after, relative residual, weight.
fn pairs_table(c: &Calibration, all: bool) -> String {
    let mut s = format!(
        "\n  {:>5}  {:<24} {:<24} {:>7} {:>9} {:>8} {:>8} {:>7} {:>6}\n",
        "line", "from", "to", "km", "measured", "before", "after", "resid", "weight"
    );
    let before = line_of(&c.before, c.network);
    let after = line_of(&c.after, c.network);
    for (i, m) in c.measurements.iter().enumerate() {
        if !all && !c.fit.outliers[i] {
            continue;
        }
        let _ = writeln!(
            s,
            "  {:>5}  {:<24} {:<24} {:>7.0} {:>9.1} {:>8.1} {:>8.1} {:>+6.0}% {:>6.2}{}",
            m.line,
            clip(&m.from_text),
            clip(&m.to_text),
            m.distance_km,
            m.rtt_ms,
            before.predict(&c.held, m.distance_km),
            after.predict(&c.held, m.distance_km),
            100.0 * c.fit.residuals[i],
            c.fit.weights[i],
            if c.fit.outliers[i] { "  outlier" } else { "" }
        );
    }
    s
}

fn clip(text: &str) -> String {
    if text.chars().count() <= 24 {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(23).collect();
        t.push('…');
        t
    }
}

/// The `[latency]` table `-o` writes: every constant, so pasting it reproduces the fitted model exactly.
pub fn latency_toml(c: &Calibration, source: &str) -> String {
    let m = &c.after;
    let e = Errors::of(&c.errors[2]);
    format!(
        "# Written by `egress-sim calibrate` from {source}: {} measurements of {} segments.\n\
         # Fitted: {n}_fixed_ms, {n}_inflation. Held-out ({}-fold) absolute error: median {:.2} ms, p90 {:.2} ms.\n\
         # The other constants are those it started from ({}). Paste this table into a scenario, or keep\n\
         # this file beside the scenario and write `[latency]` then `include = \"<this file>\"`.\n\
         [latency]\n\
         fiber_km_per_ms = {:?}\n\
         internet_fixed_ms = {:?}\n\
         internet_inflation = {:?}\n\
         backbone_fixed_ms = {:?}\n\
         backbone_inflation = {:?}\n\
         jitter_mean_ms = {:?}\n",
        c.measurements.len(),
        c.network.name(),
        c.folds,
        e.median_ms,
        e.p90_ms,
        c.before_from,
        m.fiber_km_per_ms,
        m.internet_fixed_ms,
        m.internet_inflation,
        m.backbone_fixed_ms,
        m.backbone_inflation,
        m.jitter_mean_ms,
        n = c.network.name(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(network: Network) -> Calibration {
        let catalog = Catalog::embedded();
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("data/measurements/azure-inter-region-p50.csv");
        let m = measurements::read(&path, &catalog.datacenters, catalog).unwrap();
        let opts = CalibrateOptions {
            measurements: path,
            network,
            ..CalibrateOptions::default()
        };
        run(LatencyModel::default(), "defaults".into(), None, m, &opts).unwrap()
    }

    #[test]
    fn defaults_are_the_fit_of_the_shipped_measurements() {
        // The documented provenance of the default constants: refitting the shipped table gives them
        // back (to their rounding), for both networks.
        let d = LatencyModel::default();
        for network in [Network::Backbone, Network::Internet] {
            let c = shipped(network);
            let fitted = c.after.segment_cost(network);
            let default = d.segment_cost(network);
            assert!(
                (fitted.fixed_ms - default.fixed_ms).abs() <= 0.1,
                "{fitted:?}"
            );
            assert!(
                (fitted.inflation - default.inflation).abs() <= 0.005,
                "{fitted:?}"
            );
            assert_eq!(c.measurements.len(), 57);
        }
    }

    #[test]
    fn report_and_table_say_what_was_fitted_and_held() {
        let c = shipped(Network::Backbone);
        let text = render(&c, "m.csv", true);
        for want in [
            "calibrating backbone segments on 57 measurements from m.csv",
            "fitted: backbone_fixed_ms, backbone_inflation",
            "internet_fixed_ms, internet_inflation (these pings do not cross the internet)",
            "before (defaults)",
            "held out (5-fold)",
            "outlier",
        ] {
            assert!(text.contains(want), "missing `{want}` in\n{text}");
        }
        // --per-pair prints a row per pair after the table's header.
        let rows = text
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("line  from"))
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .count();
        assert_eq!(rows, 57, "{text}");
        let toml = latency_toml(&c, "m.csv");
        let parsed: toml::Value = toml::from_str(&toml).unwrap();
        let l = &parsed["latency"];
        assert_eq!(
            l["backbone_fixed_ms"].as_float(),
            Some(c.after.backbone_fixed_ms)
        );
        assert_eq!(
            l["backbone_inflation"].as_float(),
            Some(c.after.backbone_inflation)
        );
        assert_eq!(l["jitter_mean_ms"].as_float(), Some(1.0));
    }

    #[test]
    fn access_applies_only_to_internet_pings() {
        let opts = CalibrateOptions {
            access: Some("cable".into()),
            network: Network::Backbone,
            ..CalibrateOptions::default()
        };
        assert_eq!(access_option(&opts).unwrap_err().exit_code(), 2);
        let opts = CalibrateOptions {
            access: Some("Cable".into()),
            ..CalibrateOptions::default()
        };
        assert_eq!(access_option(&opts).unwrap(), Some(("cable".into(), 13.0)));
        let opts = CalibrateOptions {
            access: Some("pigeon".into()),
            ..CalibrateOptions::default()
        };
        assert!(access_option(&opts)
            .unwrap_err()
            .to_string()
            .contains("presets"));
    }
}
