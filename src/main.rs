//! The `egress-sim` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use egress_sim::commands::{self, Format, Printed, RunDisplay};
use egress_sim::compare::CompareOptions;
use egress_sim::error::Result;
use egress_sim::explain::{ExplainOptions, PathQuery};
use egress_sim::latency::Network;
use egress_sim::pipeline::RunSpec;
use egress_sim::scenario::Overrides;
use egress_sim::world::{BalancingMode, Sweep};

fn parse_balancing(s: &str) -> Result<BalancingMode, String> {
    BalancingMode::parse(s)
        .ok_or_else(|| format!("unknown balancing mode `{s}`; use `nearest` or `fastest`"))
}

fn parse_sweep(s: &str) -> Result<Sweep, String> {
    Sweep::parse(s).ok_or_else(|| format!("unknown sweep `{s}`; use `none`, `n-1` or `n-2`"))
}

/// A place typed on the command line (`LHR`, `London`, `lat,lon`). It may start with `-` as a `lat,lon`
/// with a negative latitude (`-33.87,151.21`), so its argument accepts hyphen values; anything else that
/// starts with `-` is a mistyped option and is refused here.
fn parse_place(s: &str) -> Result<String, String> {
    if s.starts_with('-') && matches!(egress_sim::place::parse_coordinates(s), Ok(None)) {
        return Err(format!(
            "`{s}` is neither an option of this command nor a place; a place starting with `-` is a \
             `lat,lon` with a negative latitude, e.g. `-33.87,151.21`"
        ));
    }
    Ok(s.to_string())
}

/// `--format`: text for people, or one JSON object for scripts.
#[derive(Args, Clone, Copy, Debug)]
struct FormatArg {
    /// Output format: `text` for people, `json` for scripts (one object on standard output; its
    /// fields are documented in README.md, "JSON output").
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    format: FormatName,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FormatName {
    Text,
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f.format {
            FormatName::Text => Format::Text,
            FormatName::Json => Format::Json,
        }
    }
}

#[derive(Parser)]
#[command(
    name = "egress-sim",
    version,
    about = "Simulate geo-aware dedicated egress IP selection (Cloudflare Zero Trust Gateway semantics)",
    long_about = "Simulate geo-aware dedicated egress IP selection with Cloudflare Zero Trust Gateway semantics.\n\n\
A scenario file (TOML) defines dedicated egress IPs, user populations and destinations. `run` simulates every \
user's requests and writes CSV tables and charts with latency, load, apparent geolocation and connection capacity.",
    after_help = "Examples:\n  egress-sim run scenarios/three-sites.toml\n  egress-sim check scenarios/three-sites.toml\n  egress-sim latency London LHR\n  egress-sim calibrate data/measurements/azure-inter-region-p50.csv --network backbone\n  egress-sim explain scenarios/finance-and-qa.toml --user 5\n  egress-sim rules export scenarios/finance-and-qa.toml\n  egress-sim geoip lookup GeoLite2-City.mmdb 81.2.69.160\n  egress-sim compare scenarios/three-sites.toml scenarios/three-sites-plus-frankfurt.toml\n  egress-sim completions bash > ~/.local/share/bash-completion/completions/egress-sim"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario and write tables and charts.
    #[command(
        after_help = "Examples:\n  egress-sim run scenarios/three-sites.toml\n  egress-sim run scenarios/three-sites.toml --users 1000000 --out /tmp/big --per-user-cases baseline\n  egress-sim run scenarios/three-sites.toml --seed 7 --threads 1 --quiet\n  egress-sim run scenarios/three-sites.toml --format json > summary.json\n  egress-sim run scenarios/finance-and-qa.toml --sweep n-2\n\n\
Outputs (in output/<scenario-name>/ unless --out): report.html, summary.csv, egress_load.csv,\n\
populations.csv, latency_histogram.csv, capacity.csv, policies.csv, resources.csv, failover.csv,\n\
redundancy.csv, geoip.csv (user lists), users.csv (with --per-user), and map, latency_cdf,\n\
egress_load, failover_cdf, failover_heatmap, capacity as .png and .svg. README.md explains every column.\n\n\
The summary printed at the end fits 100 columns: the baseline, the failure cases\n\
that change something (most harmful first; the others are only counted) and the\n\
findings that need attention (every finding is in redundancy.csv)."
    )]
    Run(RunArgs),
    /// Validate a scenario without simulating.
    #[command(
        after_help = "Examples:\n  egress-sim check scenarios/three-sites.toml\n  egress-sim check scenarios/three-sites.toml --format json\n\nExit code 0 when valid, 2 with located error messages when not (with --format json, the errors are\nalso in the object on standard output)."
    )]
    Check(CheckArgs),
    /// Print the latency model's round-trip time between two places, part by part.
    #[command(
        after_help = "FROM and TO are data center codes (LHR), city names (London, \"Portland, US\") or lat,lon\n\
(a negative latitude needs no quoting: -33.87,151.21).\n\n\
Examples:\n  egress-sim latency London LHR\n  egress-sim latency Amsterdam \"New York\" --via IAD\n  egress-sim latency 48.85,2.35 Frankfurt --access fiber --format json\n  egress-sim latency -33.87,151.21 London"
    )]
    Latency(LatencyArgs),
    /// Fit the latency model to measured round trips (CSV: from,to,rtt_ms) and write a [latency] table.
    #[command(after_help = CALIBRATE_HELP)]
    Calibrate(CalibrateArgs),
    /// Show how one user's traffic is decided: attributes, ingress, each policy, path and RTT.
    #[command(
        after_help = "Examples:\n  egress-sim explain scenarios/finance-and-qa.toml --user 0\n  egress-sim explain scenarios/finance-and-qa.toml --user 4123 --resource bank-api\n\n\
Users are numbered from 0 in population order; pass the same --users/--seed as the run to see the same user."
    )]
    Explain(ExplainArgs),
    /// Compare two runs side by side: output folders, or scenario files (run first).
    #[command(
        after_help = "Examples:\n  egress-sim compare scenarios/three-sites.toml scenarios/three-sites-plus-frankfurt.toml\n  egress-sim compare output/three-sites output/three-sites-plus-frankfurt --out /tmp/cmp\n\n\
Writes comparison.csv (section, entity, metric, a, b, difference = B − A) and comparison.html.\n\
Scenario files are run with the same --users/--seed/--sweep into <out>.runs/a and <out>.runs/b."
    )]
    Compare(CompareArgs),
    /// Choose where to reserve the next K dedicated egress IPs (greedy + swaps, judged by the engine).
    #[command(after_help = PLAN_HELP)]
    Plan(PlanArgs),
    /// Import or export Gateway egress rules (the API's JSON shape).
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Look addresses up in a MaxMind-format GeoIP database, or see how much of a user list it places.
    Geoip {
        #[command(subcommand)]
        command: GeoipCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a folder.
    #[command(
        after_help = "Examples:\n  egress-sim man | man -l -\n  egress-sim man --out ~/.local/share/man/man1"
    )]
    Man {
        /// Write egress-sim.1, egress-sim-run.1, ... into this folder instead of printing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

const COMPLETIONS_HELP: &str =
    "Examples (see README.md, \"Shell completions and manual pages\"):\n  \
egress-sim completions bash > ~/.local/share/bash-completion/completions/egress-sim\n  \
egress-sim completions zsh > ~/.zfunc/_egress-sim      # with fpath+=(~/.zfunc) before compinit\n  \
egress-sim completions fish > ~/.config/fish/completions/egress-sim.fish";

/// The completion script for `shell`.
fn completions(shell: clap_complete::Shell) -> Printed {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "egress-sim", &mut script);
    Printed::from(String::from_utf8_lossy(&script).into_owned())
}

/// The manual page as roff, or (with `out`) one page per command written into `out`.
fn man(out: Option<PathBuf>) -> Result<Printed> {
    let io = |e| egress_sim::error::Error::io("cannot write the manual pages", e);
    let Some(dir) = out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .map_err(io)?;
        return Ok(Printed::from(String::from_utf8_lossy(&page).into_owned()));
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    clap_mangen::generate_to(Cli::command(), &dir).map_err(io)?;
    Ok(Printed::from(format!(
        "wrote the manual pages (egress-sim.1 and one per command) to {}\n",
        dir.display()
    )))
}

/// Options that change how the scenario compiles, shared by `run`, `check` and `explain`.
#[derive(Args, Clone)]
struct WorldArgs {
    /// GeoIP database (.mmdb) for populations read from user lists (overrides the scenario's `geoip`).
    #[arg(long, value_name = "PATH")]
    geoip: Option<PathBuf>,
    /// How unmatched traffic picks its dedicated location: `nearest` (the closest one, Cloudflare's
    /// documented behaviour) or `fastest` (per destination, the lowest modelled round trip).
    /// Overrides `[balancing] mode`.
    #[arg(long, value_name = "MODE", value_parser = parse_balancing)]
    balancing: Option<BalancingMode>,
}

impl WorldArgs {
    /// The scenario overrides these options make.
    fn overrides(self) -> Overrides {
        Overrides {
            geoip: self.geoip,
            balancing: self.balancing,
            ..Overrides::default()
        }
    }
}

#[derive(Args, Clone)]
struct RunArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    world: WorldArgs,
    /// Output folder [default: output/<scenario-name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the output folder even if egress-sim did not create it.
    #[arg(long)]
    force: bool,
    /// Total users (overrides the scenario; populations keep their proportions).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    users: Option<u64>,
    /// Requests per user (overrides the scenario).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    requests_per_user: Option<u32>,
    /// Random seed (overrides the scenario).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Worker threads [default: one per core]. Results are identical for any value.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Also write users.csv with one row per user and case (its estimated size is printed first,
    /// with a warning above 1 GB).
    #[arg(long)]
    per_user: bool,
    /// Cases users.csv covers, comma-separated (`baseline,down:LHR`) [default: every case].
    /// Implies --per-user.
    #[arg(long, value_name = "CASES", value_delimiter = ',')]
    per_user_cases: Vec<String>,
    /// Add failure cases: `n-1` (every data center hosting an egress IP or serving users, and every
    /// egress IP, one at a time) or `n-2` (also every pair of egress data centers). Overrides
    /// `[simulation] sweep`.
    #[arg(long, value_name = "SWEEP", value_parser = parse_sweep)]
    sweep: Option<Sweep>,
    /// Print nothing but errors and warnings.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    format: FormatArg,
}

const PLAN_HELP: &str = "Examples:\n  egress-sim plan scenarios/three-continents.toml --add 2\n  egress-sim plan scenarios/three-sites.toml --add 3 --candidates EU,continent:NA --objective p95-rtt --robust n-1\n  egress-sim plan scenarios/three-continents.toml --from-scratch 2 --candidates LHR,MAN,CDG,FRA,IAD,ORD,BOM --exhaustive\n  egress-sim plan scenarios/finance-and-qa.toml --add 1 --objective p95-rtt=1,refused=500 --allowlists keep\n\n\
Candidates: data center codes (LHR), ISO country codes (GB), continents (EU, NA, ...), Cloudflare\n\
regions (WEU, ENAM, ...); prefix an ambiguous token (country:NA, continent:NA, region:WEU, dc:LHR).\n\
Objectives: mean-rtt, p95-rtt (default), refused, violations, peak-utilization, country-mismatch, or a\n\
weighted sum (p95-rtt=1,refused=500). A scenario's [plan] table can hold add, from_scratch,\n\
candidates, objective, robust and allowlists; options given here override it.\n\n\
Outputs (in output/<scenario-name>-plan/ unless --out): plan.csv, candidates.csv, plan.toml (the\n\
scenario with the new [[egress]] entries, ready for `egress-sim run`), plan_curve and plan_map as\n\
.png and .svg, and every output of `egress-sim run plan.toml`.";

#[derive(Args)]
struct PlanArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    /// Keep the scenario's egress IPs and add K new ones (one per chosen data center).
    #[arg(
        long,
        value_name = "K",
        allow_negative_numbers = true,
        conflicts_with = "from_scratch"
    )]
    add: Option<i64>,
    /// Choose K sites with none of the scenario's egress IPs kept.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    from_scratch: Option<i64>,
    /// Candidate data centers, comma-separated: codes, countries, continents, regions [default: all].
    #[arg(long, value_name = "LIST")]
    candidates: Option<String>,
    /// What to minimise: mean-rtt, p95-rtt, refused, violations, peak-utilization,
    /// country-mismatch, or weights (`p95-rtt=1,refused=500`) [default: p95-rtt].
    #[arg(long, value_name = "OBJECTIVE")]
    objective: Option<String>,
    /// Judge each plan by its worst (`n-1`) or mean (`n-1:mean`) single failure [default: none].
    #[arg(long, value_name = "MODE")]
    robust: Option<String>,
    /// Evaluate every set of K candidates (at most 30 candidates and K <= 3).
    #[arg(long)]
    exhaustive: bool,
    /// `add`: new IPs join every destination allowlist; `keep`: allowlists unchanged [default: add].
    #[arg(long, value_name = "MODE")]
    allowlists: Option<String>,
    /// Output folder [default: output/<scenario-name>-plan].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the output folder even if egress-sim did not create it.
    #[arg(long)]
    force: bool,
    /// Total users (overrides the scenario; populations keep their proportions).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    users: Option<u64>,
    /// Random seed (overrides the scenario).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Worker threads [default: one per core]. Results are identical for any value.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Print nothing but errors and warnings.
    #[arg(long, short)]
    quiet: bool,
}

impl From<PlanArgs> for egress_sim::plan::PlanOptions {
    fn from(a: PlanArgs) -> Self {
        egress_sim::plan::PlanOptions {
            scenario: a.scenario,
            add: a.add,
            from_scratch: a.from_scratch,
            candidates: a.candidates,
            objective: a.objective,
            robust: a.robust,
            allowlists: a.allowlists,
            exhaustive: a.exhaustive,
            out: a.out,
            force: a.force,
            users: a.users,
            seed: a.seed,
            threads: threads(a.threads),
            quiet: a.quiet,
        }
    }
}

#[derive(Args)]
struct CheckArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    world: WorldArgs,
    #[command(flatten)]
    format: FormatArg,
}

#[derive(Args)]
struct LatencyArgs {
    /// Where the user is.
    #[arg(allow_hyphen_values = true, value_parser = parse_place)]
    from: String,
    /// Where the destination is.
    #[arg(allow_hyphen_values = true, value_parser = parse_place)]
    to: String,
    /// Egress data center to cross the backbone to (dedicated IPv4 egress to a non-proxied destination).
    #[arg(long, value_name = "DC", allow_hyphen_values = true, value_parser = parse_place)]
    via: Option<String>,
    /// Last-mile access preset for the with-access total: office, fiber, cable, dsl, mobile.
    #[arg(long, default_value = "cable")]
    access: String,
    /// Use the latency settings of this scenario.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
    /// The same as `--format json` (kept for scripts written before `--format`).
    #[arg(long, hide = true)]
    json: bool,
}

#[derive(Args)]
struct ExplainArgs {
    /// Scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    world: WorldArgs,
    /// User index (0-based).
    #[arg(long, value_name = "N")]
    user: u64,
    /// Only this destination.
    #[arg(long, value_name = "NAME")]
    resource: Option<String>,
    /// Case to explain [default: baseline]: a `[[failure]]` name or a sweep case (`down:LHR`).
    #[arg(long, value_name = "NAME")]
    case: Option<String>,
    /// Sweep that defines the case, as passed to `run --sweep`.
    #[arg(long, value_name = "SWEEP", value_parser = parse_sweep)]
    sweep: Option<Sweep>,
    /// Total users, as passed to `run --users`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    users: Option<u64>,
    /// Random seed, as passed to `run --seed`.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    #[command(flatten)]
    format: FormatArg,
}

#[derive(Args)]
struct CompareArgs {
    /// First run (A): an output folder or a scenario file.
    a: PathBuf,
    /// Second run (B): an output folder or a scenario file.
    b: PathBuf,
    /// Output folder [default: output/compare-<a>-vs-<b>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the output folder even if egress-sim did not create it.
    #[arg(long)]
    force: bool,
    /// Total users for scenario files.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    users: Option<u64>,
    /// Random seed for scenario files.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Failure sweep for scenario files (none, n-1, n-2).
    #[arg(long, value_name = "SWEEP", value_parser = parse_sweep)]
    sweep: Option<Sweep>,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Print nothing but errors and warnings.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    format: FormatArg,
}

#[derive(Subcommand)]
enum GeoipCommand {
    /// Print what the database says for each address: network, country, continent, city, coordinates,
    /// accuracy radius, or why the address cannot be placed.
    #[command(
        after_help = "Private and special-purpose addresses (RFC 1918, CGNAT, loopback, link-local, documentation\n\
ranges, ...) are reported without a lookup. Exit code 2 for an unreadable or non-MaxMind database or\n\
an invalid address.\n\nExamples:\n  egress-sim geoip lookup scenarios/from-user-list/synthetic-city.mmdb 81.2.69.160 2a02:ab00::1\n  egress-sim geoip lookup GeoLite2-City.mmdb 8.8.8.8"
    )]
    Lookup {
        /// GeoIP database (.mmdb): GeoIP2/GeoLite2 City or Country, or the same layout (DB-IP lite).
        db: PathBuf,
        /// Addresses (IPv4 or IPv6).
        #[arg(required = true, value_name = "IP")]
        ips: Vec<String>,
    },
    /// Count how many users of a list the database places, by country and by reason.
    #[command(
        after_help = "USERS.csv has the columns of a population's `from_csv` list (email, ip, and optional groups, name,\n\
virtual_network, posture_passed, ipv6_capable, connections). Malformed rows are counted and listed\n\
with their line numbers.\n\nExamples:\n  egress-sim geoip stats scenarios/from-user-list/synthetic-city.mmdb scenarios/from-user-list/users.csv"
    )]
    Stats {
        /// GeoIP database (.mmdb).
        db: PathBuf,
        /// User list (CSV).
        users: PathBuf,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Turn a Gateway rule listing (API JSON) into the scenario's `[[policy]]` tables.
    #[command(
        after_help = "Reads `{\"result\": [...]}` (as the API returns it) or a bare array of rules. Keeps rules with\n\
action \"egress\", preserves precedence and enabled state, maps addresses to the scenario's egress ids, and\n\
reports every address it cannot map and every expression it cannot parse. Prints the new scenario, or\n\
writes it with -o. With --lists (the API's list listing, items included), list references ($<id>) in\n\
the expressions are replaced by the lists' items; a rule using an unknown list is left out and reported.\n\nExit code 0 when at least one egress rule was imported (rules left out are reported on standard\n\
error, with a summary) or the listing has no egress rules; 2 when a file cannot be read or understood,\n\
or no egress rule could be imported.\n\nExamples:\n  egress-sim rules import rules.json --scenario scenarios/finance-and-qa.toml -o imported.toml\n  egress-sim rules import rules.json --lists lists.json --scenario scenarios/finance-and-qa.toml"
    )]
    Import {
        /// Rule listing (JSON).
        rules: PathBuf,
        /// Scenario whose egress IPs the rules refer to.
        #[arg(long, value_name = "FILE")]
        scenario: PathBuf,
        /// Write the new scenario here instead of standard output.
        #[arg(short, long, value_name = "OUT.toml")]
        out: Option<PathBuf>,
        /// The account's Gateway lists (the API's list listing, items included), to resolve the
        /// `$<id>` list references of the rules' expressions.
        #[arg(long, value_name = "FILE")]
        lists: Option<PathBuf>,
    },
    /// Write the scenario's policies as a Gateway rule listing (API JSON).
    #[command(
        after_help = "Examples:\n  egress-sim rules export scenarios/finance-and-qa.toml > rules.json"
    )]
    Export {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Write the JSON here instead of standard output.
        #[arg(short, long, value_name = "OUT.json")]
        out: Option<PathBuf>,
    },
}

impl From<&RunArgs> for RunSpec {
    fn from(a: &RunArgs) -> Self {
        let a = a.clone();
        RunSpec {
            scenario: a.scenario,
            out: a.out,
            force: a.force,
            overrides: Overrides {
                users: a.users,
                requests_per_user: a.requests_per_user,
                seed: a.seed,
                sweep: a.sweep,
                ..a.world.overrides()
            },
            threads: threads(a.threads),
            per_user: a.per_user || !a.per_user_cases.is_empty(),
            per_user_cases: a.per_user_cases,
        }
    }
}

impl From<LatencyArgs> for PathQuery {
    fn from(a: LatencyArgs) -> Self {
        PathQuery {
            from: a.from,
            to: a.to,
            via: a.via,
            access: a.access,
            scenario: a.scenario,
        }
    }
}

impl From<ExplainArgs> for ExplainOptions {
    fn from(a: ExplainArgs) -> Self {
        ExplainOptions {
            scenario: a.scenario,
            user: a.user,
            resource: a.resource,
            case: a.case,
            overrides: Overrides {
                users: a.users,
                seed: a.seed,
                sweep: a.sweep,
                ..a.world.overrides()
            },
            format: a.format.into(),
        }
    }
}

impl From<CompareArgs> for CompareOptions {
    fn from(a: CompareArgs) -> Self {
        CompareOptions {
            a: a.a,
            b: a.b,
            out: a.out,
            force: a.force,
            overrides: Overrides {
                users: a.users,
                seed: a.seed,
                sweep: a.sweep,
                ..Overrides::default()
            },
            threads: threads(a.threads),
            quiet: a.quiet,
            format: a.format.into(),
        }
    }
}

/// `--threads N`, or 0 (one per core).
fn threads(n: Option<u16>) -> usize {
    n.map_or(0, usize::from)
}

impl RulesCommand {
    fn run(self) -> Result<Printed> {
        match self {
            RulesCommand::Import {
                rules,
                scenario,
                out,
                lists,
            } => egress_sim::rules::import(&egress_sim::rules::ImportOptions {
                rules,
                scenario,
                out,
                lists,
            }),
            RulesCommand::Export { scenario, out } => {
                egress_sim::rules::export(&egress_sim::rules::ExportOptions { scenario, out })
            }
        }
    }
}

impl GeoipCommand {
    fn run(self) -> Result<Printed> {
        match self {
            GeoipCommand::Lookup { db, ips } => egress_sim::geoip::lookup_command(&db, &ips),
            GeoipCommand::Stats { db, users } => egress_sim::geoip::stats_command(&db, &users),
        }
        .map(Printed::from)
    }
}

const CALIBRATE_HELP: &str = "MEASUREMENTS.csv has a header naming from, to and rtt_ms (other columns are ignored; lines starting\n\
with # are comments). Places are written as for `latency`: data center codes, city names, or \"lat,lon\".\n\
rtt_ms is a measured median round-trip time.\n\n\
A pair's median RTT is modelled as fixed + 2 × km × inflation / fiber speed + the jitter's median (+ access\n\
with --access), so pairs at several distances fix two constants of the network they crossed: its fixed\n\
cost and its inflation. Fiber speed, jitter, access and the other network are held. The fit is robust\n\
(IRLS, Huber weights on relative residuals); pairs beyond 3 robust scales are flagged as outliers. The\n\
k-fold held-out error is the honest figure. Exit code 2 for unreadable or bad input (nothing is written).\n\n\
Examples:\n  egress-sim calibrate data/measurements/azure-inter-region-p50.csv --network backbone\n  egress-sim calibrate pings.csv -o latency.toml --per-pair\n  egress-sim calibrate pings.csv --scenario scenarios/three-sites.toml --access cable --folds 10";

fn parse_network(s: &str) -> Result<Network, String> {
    match s.to_ascii_lowercase().as_str() {
        "internet" => Ok(Network::Internet),
        "backbone" => Ok(Network::Backbone),
        _ => Err(format!(
            "unknown network `{s}`; use `internet` or `backbone`"
        )),
    }
}

#[derive(clap::Args)]
struct CalibrateArgs {
    /// Measured round trips (CSV: from,to,rtt_ms).
    measurements: PathBuf,
    /// Start from this scenario's [latency] settings (and its data centers) instead of the defaults.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Write the fitted [latency] table to this file.
    #[arg(short, long, value_name = "latency.toml")]
    out: Option<PathBuf>,
    /// Print every pair: measured, before, after, residual, weight, outlier.
    #[arg(long)]
    per_pair: bool,
    /// Folds of the cross-validation (row i is held out in fold i mod K).
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=1000))]
    folds: u16,
    /// Network the pings crossed: internet (host to host over the public internet) or backbone
    /// (data center to data center over a private backbone).
    #[arg(long, value_name = "NETWORK", default_value = "internet", value_parser = parse_network)]
    network: Network,
    /// Last-mile access the pings include (taken from users' devices): office, fiber, cable, dsl, mobile.
    #[arg(long, value_name = "PRESET")]
    access: Option<String>,
}

impl CalibrateArgs {
    fn run(self) -> Result<Printed> {
        egress_sim::calibrate::calibrate(&egress_sim::calibrate::CalibrateOptions {
            measurements: self.measurements,
            scenario: self.scenario,
            out: self.out,
            per_pair: self.per_pair,
            folds: usize::from(self.folds),
            network: self.network,
            access: self.access,
        })
        .map(Printed::from)
    }
}

/// Writes `text` to standard output or error. A reader that went away (`| head`) is not an error:
/// the rest of the output is dropped quietly. Any other failure to write is returned.
fn emit(text: &str, to_stdout: bool) -> std::io::Result<()> {
    use std::io::{ErrorKind, Write};
    let result = if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    } else {
        let mut err = std::io::stderr().lock();
        err.write_all(text.as_bytes()).and_then(|()| err.flush())
    };
    match result {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A line on standard error (a message, a warning, an error); failures to show it are ignored,
/// since there is nowhere left to report them.
fn note(text: &str) {
    let _ = emit(&format!("{text}\n"), false);
}

fn main() -> ExitCode {
    if let Err(e) = egress_sim::interrupt::install(note) {
        note(&format!(
            "warning: cannot watch for Ctrl-C ({e}); an interrupted run may leave a hidden `.NAME.tmp-PID` folder"
        ));
    }
    let result = match Cli::parse().command {
        Command::Run(a) => commands::run(
            &RunSpec::from(&a),
            &RunDisplay {
                quiet: a.quiet,
                format: a.format.into(),
                show: note,
            },
        ),
        Command::Check(a) => {
            egress_sim::check::check(&a.scenario, &a.world.overrides(), a.format.into())
                .map(Printed::from)
        }
        Command::Latency(a) => {
            let format = if a.json {
                Format::Json
            } else {
                a.format.into()
            };
            commands::latency(&a.into(), format).map(Printed::from)
        }
        Command::Explain(a) => egress_sim::explain::explain(&a.into()).map(Printed::from),
        Command::Compare(a) => egress_sim::compare::compare(&a.into()),
        Command::Plan(a) => egress_sim::plan::plan(&a.into()),
        Command::Calibrate(a) => a.run(),
        Command::Rules { command } => command.run(),
        Command::Geoip { command } => command.run(),
        Command::Completions { shell } => Ok(completions(shell)),
        Command::Man { out } => man(out),
    };
    match result {
        Ok(printed) => {
            for w in &printed.warnings {
                note(w);
            }
            match emit(&printed.text, true) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    note(&format!("error: cannot write to standard output: {e}"));
                    ExitCode::from(egress_sim::error::EXIT_INTERNAL as u8)
                }
            }
        }
        Err(e) => {
            if let egress_sim::error::Error::WithOutput { text, .. } = &e {
                let _ = emit(text, true);
            }
            note(&e.to_string());
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
