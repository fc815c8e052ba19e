//! Chart rendering: the user map, the RTT CDF and the per-egress load bars.
//!
//! Every chart is drawn by one function that is generic over plotters' [`DrawingBackend`] and
//! is called twice, once for PNG (quick looks) and once for SVG (documents), so the two files
//! can never disagree. Text uses the DejaVu Sans font bundled in `assets/fonts/`, compiled into
//! the binary, so rendering never depends on the fonts (or fontconfig) of the machine.
//!
//! Layout: `map.rs`, `cdf.rs` and `bars.rs` hold one chart each; this file holds the public
//! types, the PNG/SVG plumbing and what the charts share (fonts, palette, header, legend);
//! `text.rs` fixes glyph placement in PNG text.
//!
//! This module only draws what it is given: the caller decides which users to sample, how to
//! aggregate the CDFs and how to count load. Inputs are untrusted in the sense that empty or
//! odd values (no users, NaN coordinates, an egress index that points nowhere) produce a chart
//! with a note or a skipped item, never a panic.

mod bars;
mod capacity;
mod cdf;
mod failover_cdf;
#[cfg(test)]
mod failover_fixtures;
mod heatmap;
mod map;
mod plan;
mod text;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontDesc, FontFamily};

use super::{Destination, Output};
pub use crate::analysis::charts::{
    CapacityBar, CdfSeries, EgressSite, HeatCell, LoadBar, MapPoint, NO_EGRESS,
};
use crate::analysis::human::{count, ms_label};
use crate::analysis::Results;
use crate::catalog::Catalog;
use crate::error::{Error, Result};

/// Everything needed to draw the charts of one case of one scenario.
#[derive(Debug, Clone, Copy)]
pub struct ChartSet<'a> {
    /// Scenario name, used in titles.
    pub scenario: &'a str,
    /// Case name, for example `baseline` or a failure name, used in titles.
    pub case: &'a str,
    /// Country outlines in lon/lat degrees (-180..180), drawn as the map background.
    pub outlines: &'a [geo::MultiPolygon<f64>],
    /// Egress IPs; [`MapPoint::egress`] indexes into this slice and it fixes each egress colour.
    pub sites: &'a [EgressSite],
    /// A deterministic sample of users (up to about 20,000).
    pub points: &'a [MapPoint],
    /// RTT CDF lines.
    pub cdfs: &'a [CdfSeries],
    /// Load per egress IP, in the order the bars are drawn.
    pub load: &'a [LoadBar],
}

/// Everything needed to draw the failover and capacity charts.
#[derive(Debug, Clone, Copy)]
pub struct FailoverSet<'a> {
    /// Scenario name, used in titles.
    pub scenario: &'a str,
    /// Egress IPs, fixing each egress colour (same order as the map).
    pub sites: &'a [EgressSite],
    /// RTT CDF of all requests in the baseline.
    pub baseline_cdf: &'a CdfSeries,
    /// RTT CDFs of the most harmful cases (at most five), each named after its case.
    pub case_cdfs: &'a [CdfSeries],
    /// Heatmap rows: failure case names, most harmful first (already limited to what fits).
    pub heat_cases: &'a [String],
    /// Heatmap columns: population names.
    pub heat_populations: &'a [String],
    /// Heatmap cells, row-major (`case * populations + population`).
    pub heat: &'a [HeatCell],
    /// Failure cases that change something but are not shown in the heatmap (0 when all are
    /// shown).
    pub heat_hidden: usize,
    /// Failure cases left out of the heatmap because they change nothing.
    pub heat_unchanged: usize,
    /// One bar pair per egress IP.
    pub capacity: &'a [CapacityBar],
}

/// Why a chart could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The output folder could not be created.
    #[error("cannot create chart folder `{path}`: {source}")]
    CreateDir {
        /// Folder that could not be created.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Drawing or encoding a chart failed (plotters or PNG encoder error).
    #[error("cannot draw chart `{path}`: {message}")]
    Draw {
        /// File that was being drawn.
        path: PathBuf,
        /// The plotters error, as text: its type differs per backend.
        message: String,
    },
    /// Writing a finished chart file failed.
    #[error("cannot write chart `{path}`: {source}")]
    Write {
        /// File that could not be written.
        path: PathBuf,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bundled font could not be parsed (a build problem, not a user error).
    #[error("the bundled chart font could not be loaded")]
    Font,
}

// ---------------------------------------------------------------------------------------------
// Backend plumbing

/// Result of drawing on backend `DB`.
type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A drawing area covering part of a canvas.
type Area<DB> = DrawingArea<DB, Shift>;

/// What every chart has around its drawing.
struct Frame {
    /// File name without extension.
    stem: &'static str,
    /// Canvas size in pixels (SVG user units are the same pixels).
    size: (u32, u32),
    title: Title,
    subtitle: String,
}

/// A chart whose inputs are already prepared, drawable on any backend.
trait Chart {
    /// File stem, canvas size, title and subtitle.
    fn frame(&self) -> &Frame;
    /// Draws everything under the header into `body`; `root` covers the full canvas.
    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, body: &Area<DB>) -> DrawResult<DB>;
}

/// Draws a whole chart on `root`: a white canvas, the header, the body.
fn draw_chart<C: Chart, DB: DrawingBackend>(
    chart: &C,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let frame = chart.frame();
    let body = draw_header(root, &frame.title, &frame.subtitle)?;
    chart.draw_body(root, &body)
}

/// Draws `chart` as `<stem>.png` and `<stem>.svg` into `to`'s folder.
fn write_both<C: Chart>(to: &mut Destination, chart: &C) -> Result<(), ChartError> {
    ensure_fonts()?;
    let png = to.file(&format!("{}.png", chart.frame().stem));
    {
        let backend = BitMapBackend::new(&png, chart.frame().size);
        let root = text::CrispText::new(backend, FONT_DEJAVU, FONT_DEJAVU_BOLD)
            .ok_or(ChartError::Font)?
            .into_drawing_area();
        draw_chart(chart, &root)
            .and_then(|()| root.present())
            .map_err(|e| draw_error(&png, e))?;
    }
    let svg = to.file(&format!("{}.svg", chart.frame().stem));
    // Rendered into memory and written by us: the file-backed SVG backend drops write errors.
    let text = svg_string(chart)?;
    std::fs::write(&svg, text).map_err(|source| ChartError::Write {
        path: svg.clone(),
        source,
    })
}

/// `chart` as SVG text.
fn svg_string<C: Chart>(chart: &C) -> Result<String, ChartError> {
    ensure_fonts()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, chart.frame().size).into_drawing_area();
        draw_chart(chart, &root)
            .and_then(|()| root.present())
            .map_err(|e| draw_error(Path::new(&format!("{}.svg", chart.frame().stem)), e))?;
    }
    Ok(text)
}

fn draw_error<E: std::error::Error + Send + Sync>(
    path: &Path,
    e: DrawingAreaErrorKind<E>,
) -> ChartError {
    ChartError::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Fonts and styles

static FONT_DEJAVU: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static FONT_DEJAVU_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled font as plotters' "sans-serif" exactly once per process; plotters'
/// font table is global, so registering per call would only add lock traffic.
fn ensure_fonts() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, FONT_DEJAVU).is_ok()
            && register_font("sans-serif", FontStyle::Bold, FONT_DEJAVU_BOLD).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// Near-black for text: softer than pure black on white, still high contrast.
const INK: RGBColor = RGBColor(33, 33, 33);
/// Secondary text (subtitles, notes).
const INK_MUTED: RGBColor = RGBColor(90, 90, 90);
/// Grid lines.
const GRID: RGBColor = RGBColor(225, 225, 225);
/// Users without a dedicated egress IP, and bars that match no site.
const NO_EGRESS_COLOR: RGBColor = RGBColor(150, 150, 150);

/// Qualitative palette (Tableau/D3 category 10 without its grey, which is reserved for
/// [`NO_EGRESS`], plus two extra hues) so up to 12 egress IPs get distinct colours.
const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(231, 186, 82),
    RGBColor(99, 121, 57),
];

/// Colour of the `index`-th series or egress IP; cycles past the palette size.
fn palette(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Regular text style of `size` px (plotters' size, the font's full line height).
fn text_style(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// Bold text style of `size` px.
fn bold_style(size: f64, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        font: FontDesc::new(FontFamily::SansSerif, size, FontStyle::Bold),
        color: color.to_backend_color(),
        pos: Pos::default(),
    }
}

/// Font sizes shared by all charts so they look like one family.
const TITLE_SIZE: f64 = 30.0;
const SUBTITLE_SIZE: f64 = 18.0;
const AXIS_DESC_SIZE: f64 = 20.0;
const TICK_SIZE: f64 = 18.0;
const LEGEND_SIZE: f64 = 18.0;
/// Height of the title band: title line, subtitle line and breathing room.
const HEADER_HEIGHT: u32 = 78;

// ---------------------------------------------------------------------------------------------
// Layout helpers shared by the charts

/// A chart title: the scenario name, then the fixed rest (which names the case and must stay
/// readable, so only the scenario part is ever shortened).
struct Title {
    scenario: String,
    rest: String,
}

impl Title {
    fn new(scenario: &str, rest: String) -> Self {
        Self {
            scenario: scenario.to_string(),
            rest,
        }
    }
}

/// Draws the title (bold, centred) and an optional subtitle into the top band of `root` and
/// returns the area below it.
fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &Title,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (header, body) = root.split_vertically(HEADER_HEIGHT);
    let (w, _) = header.dim_in_pixel();
    let max_w = w.saturating_sub(40);
    let (text, size) = fit_title(&header, title, max_w)?;
    let centre = i32::try_from(w / 2).unwrap_or(0);
    let style = bold_style(size, INK).pos(Pos::new(HPos::Center, VPos::Top));
    header.draw_text(&text, &style, (centre, 14))?;
    if !subtitle.is_empty() {
        let (sub, size) = fit_text(
            &header,
            subtitle,
            Fit {
                max_size: SUBTITLE_SIZE,
                min_size: 14.0,
                max_w,
                bold: false,
            },
        )?;
        let style = text_style(size, INK_MUTED).pos(Pos::new(HPos::Center, VPos::Top));
        header.draw_text(&sub, &style, (centre, 52))?;
    }
    Ok(body)
}

/// Shrinks the title down to 20 px, then shortens the scenario name with an ellipsis.
fn fit_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &Title,
    max_w: u32,
) -> Result<(String, f64), DrawingAreaErrorKind<DB::ErrorType>> {
    const MIN_SIZE: f64 = 20.0;
    let full = format!("{}{}", title.scenario, title.rest);
    let fit = Fit {
        max_size: TITLE_SIZE,
        min_size: MIN_SIZE,
        max_w,
        bold: true,
    };
    if let Some(size) = largest_size_fitting(area, &full, fit)? {
        return Ok((full, size));
    }
    let style = bold_style(MIN_SIZE, INK);
    match shortened(area, &title.scenario, &title.rest, &style, max_w)? {
        Some(text) => Ok((text, MIN_SIZE)),
        // Not even the fixed part fits: shorten the whole line instead.
        None => fit_text(
            area,
            &title.rest,
            Fit {
                max_size: MIN_SIZE,
                ..fit
            },
        ),
    }
}

/// The longest prefix of `text`, then `…` and `suffix`, that fits `max_w` pixels in `style`;
/// `None` when not even `…suffix` fits.
fn shortened<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    suffix: &str,
    style: &TextStyle,
    max_w: u32,
) -> Result<Option<String>, DrawingAreaErrorKind<DB::ErrorType>> {
    let chars: Vec<char> = text.chars().collect();
    let candidate = |k: usize| format!("{}…{suffix}", chars[..k].iter().collect::<String>());
    let kept = longest_prefix_fitting(chars.len(), |k| {
        Ok(area.estimate_text_size(&candidate(k), style)?.0 <= max_w)
    })?;
    Ok(kept.map(candidate))
}

/// Regular or bold text of `size` px.
fn weighted_style(size: f64, bold: bool) -> TextStyle<'static> {
    if bold {
        bold_style(size, INK)
    } else {
        text_style(size, INK)
    }
}

/// Shrinks `text` from `max_size` down to `min_size` px until it fits `max_w` pixels, then
/// shortens it with an ellipsis, so long scenario names never run off the canvas.
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    fit: Fit,
) -> Result<(String, f64), DrawingAreaErrorKind<DB::ErrorType>> {
    if let Some(size) = largest_size_fitting(area, text, fit)? {
        return Ok((text.to_string(), size));
    }
    let style = weighted_style(fit.min_size, fit.bold);
    let text = shortened(area, text, "", &style, fit.max_w)?.unwrap_or_else(|| "…".into());
    Ok((text, fit.min_size))
}

/// How a line of text may be fitted: the sizes to try, the room it has, its weight.
#[derive(Debug, Clone, Copy)]
struct Fit {
    max_size: f64,
    min_size: f64,
    max_w: u32,
    bold: bool,
}

/// The largest size from `max_size` down to `min_size` (2 px steps) at which `text` fits.
fn largest_size_fitting<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    fit: Fit,
) -> Result<Option<f64>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (min_size, max_w) = (fit.min_size, fit.max_w);
    let mut size = fit.max_size;
    loop {
        if area
            .estimate_text_size(text, &weighted_style(size, fit.bold))?
            .0
            <= max_w
        {
            return Ok(Some(size));
        }
        if size <= min_size {
            return Ok(None);
        }
        size = (size - 2.0).max(min_size);
    }
}

/// The largest `k` in `0..n` for which `fits(k)` holds, by bisection (widths grow with `k`,
/// and measuring a long title once per character would cost seconds); `None` if none fits.
fn longest_prefix_fitting<E>(
    n: usize,
    mut fits: impl FnMut(usize) -> Result<bool, E>,
) -> Result<Option<usize>, E> {
    if !fits(0)? {
        return Ok(None);
    }
    // Invariant: fits(lo) holds; every k >= hi (up to n) has not been shown to fit.
    let (mut lo, mut hi) = (0, n);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(Some(lo))
}

/// The translucent white box with a grey border that legends sit in.
fn draw_legend_box<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rect: PxRect,
) -> DrawResult<DB> {
    draw_panel(root, rect, 0.92, RGBColor(170, 170, 170))
}

/// A white box of `opacity` with a thin `border`.
fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rect: PxRect,
    opacity: f64,
    border: RGBColor,
) -> DrawResult<DB> {
    let corners = [(rect.x0, rect.y0), (rect.x1, rect.y1)];
    root.draw(&Rectangle::new(corners, WHITE.mix(opacity).filled()))?;
    root.draw(&Rectangle::new(corners, border.stroke_width(1)))
}

/// Writes a centred "no data" style note, on a white box so it stays legible over a map.
fn draw_note<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (xs, ys): &(std::ops::Range<i32>, std::ops::Range<i32>),
    note: &str,
) -> DrawResult<DB> {
    let style = text_style(22.0, INK_MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    let (w, h) = root.estimate_text_size(note, &style)?;
    let (w, h) = (
        i32::try_from(w / 2).unwrap_or(0) + 14,
        i32::try_from(h / 2).unwrap_or(0) + 10,
    );
    let (cx, cy) = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
    root.draw(&Rectangle::new(
        [(cx - w, cy - h), (cx + w, cy + h)],
        WHITE.mix(0.9).filled(),
    ))?;
    root.draw_text(note, &style, (cx, cy))
}

/// Axis-aligned pixel rectangle, used for legend and label placement.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PxRect {
    x0: i32,
    y0: i32,
    x1: i32,
    y1: i32,
}

impl PxRect {
    fn new(x0: i32, y0: i32, w: i32, h: i32) -> Self {
        Self {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        }
    }
    fn contains(&self, (x, y): (i32, i32)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }
    fn overlap_area(&self, o: &PxRect) -> i64 {
        let w = i64::from((self.x1.min(o.x1) - self.x0.max(o.x0)).max(0));
        let h = i64::from((self.y1.min(o.y1) - self.y0.max(o.y0)).max(0));
        w * h
    }
    fn inside(&self, o: &PxRect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
}

/// What a legend row shows to the left of its text.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    /// A short thick line (CDF series).
    Line(RGBColor),
    /// A filled dot (users without a site).
    Dot(RGBColor),
    /// A black-outlined triangle, like the egress site markers on the map.
    Triangle(RGBColor),
}

/// One row of a legend box.
#[derive(Debug, Clone)]
struct LegendEntry {
    swatch: Swatch,
    text: String,
}

/// A legend box: optional bold heading and rows, drawn on a white box with a thin border.
#[derive(Debug, Clone)]
struct Legend {
    heading: Option<String>,
    entries: Vec<LegendEntry>,
}

const LEGEND_PAD: i32 = 12;
const LEGEND_ROW: i32 = 26;
const LEGEND_SWATCH_W: i32 = 34;

/// Corners tried for a legend, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corner {
    UpperLeft,
    UpperRight,
    LowerRight,
    LowerLeft,
}

impl Legend {
    /// Drops rows beyond what fits in `max_h` pixels, replacing them with a "+ N more" row.
    fn truncate_to_height(&mut self, max_h: i32) {
        let heading_rows = i32::from(self.heading.is_some());
        let max_rows = usize::try_from((max_h - 2 * LEGEND_PAD) / LEGEND_ROW - heading_rows)
            .unwrap_or(0)
            .max(1);
        if self.entries.len() > max_rows {
            let hidden = self.entries.len() - (max_rows - 1);
            self.entries.truncate(max_rows - 1);
            self.entries.push(LegendEntry {
                swatch: Swatch::Dot(RGBColor(255, 255, 255)),
                text: format!("+ {hidden} more"),
            });
        }
    }

    /// Pixel size of the box.
    fn size<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>> {
        let mut w = 0u32;
        if let Some(h) = &self.heading {
            w = w.max(root.estimate_text_size(h, &bold_style(LEGEND_SIZE, INK))?.0);
        }
        for e in &self.entries {
            let tw = root
                .estimate_text_size(&e.text, &text_style(LEGEND_SIZE, INK))?
                .0;
            w = w.max(tw + LEGEND_SWATCH_W.unsigned_abs() + 8);
        }
        let rows = self.entries.len() + usize::from(self.heading.is_some());
        let rows = i32::try_from(rows).unwrap_or(i32::MAX / LEGEND_ROW);
        let w = i32::try_from(w).unwrap_or(i32::MAX / 2);
        Ok((w + 2 * LEGEND_PAD, rows * LEGEND_ROW + 2 * LEGEND_PAD - 6))
    }

    /// Picks the corner of `plot` where the box covers the fewest `obstacles` (pixel points),
    /// preferring earlier corners on ties, so the legend hides as little data as possible.
    /// Returns the box and how many obstacles it still covers.
    fn place(
        size: (i32, i32),
        plot: &(std::ops::Range<i32>, std::ops::Range<i32>),
        corners: &[Corner],
        obstacles: &[(i32, i32)],
    ) -> (PxRect, usize) {
        const INSET: i32 = 12;
        let (w, h) = size;
        let rect_at = |c: Corner| {
            let x = match c {
                Corner::UpperLeft | Corner::LowerLeft => plot.0.start + INSET,
                Corner::UpperRight | Corner::LowerRight => plot.0.end - INSET - w,
            };
            let y = match c {
                Corner::UpperLeft | Corner::UpperRight => plot.1.start + INSET,
                Corner::LowerLeft | Corner::LowerRight => plot.1.end - INSET - h,
            };
            PxRect::new(x, y, w, h)
        };
        let mut best = rect_at(corners.first().copied().unwrap_or(Corner::UpperLeft));
        let mut best_hits = usize::MAX;
        // Data just outside the box still looks cramped: count a small clearance too.
        const CLEARANCE: i32 = 6;
        for &c in corners {
            let r = rect_at(c);
            let grown = PxRect {
                x0: r.x0 - CLEARANCE,
                y0: r.y0 - CLEARANCE,
                x1: r.x1 + CLEARANCE,
                y1: r.y1 + CLEARANCE,
            };
            let hits = obstacles.iter().filter(|&&p| grown.contains(p)).count();
            if hits < best_hits {
                best = r;
                best_hits = hits;
            }
        }
        (best, best_hits)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        rect: PxRect,
    ) -> DrawResult<DB> {
        draw_legend_box(root, rect)?;
        let mut y = rect.y0 + LEGEND_PAD + LEGEND_ROW / 2 - 3;
        let left = rect.x0 + LEGEND_PAD;
        if let Some(h) = &self.heading {
            let style = bold_style(LEGEND_SIZE, INK).pos(Pos::new(HPos::Left, VPos::Center));
            root.draw_text(h, &style, (left, y))?;
            y += LEGEND_ROW;
        }
        let style = text_style(LEGEND_SIZE, INK).pos(Pos::new(HPos::Left, VPos::Center));
        for e in &self.entries {
            let cx = left + LEGEND_SWATCH_W / 2 - 2;
            match e.swatch {
                Swatch::Line(c) => root.draw(&PathElement::new(
                    vec![(left, y), (left + LEGEND_SWATCH_W - 6, y)],
                    c.stroke_width(4),
                ))?,
                Swatch::Dot(c) => root.draw(&Circle::new((cx, y), 6, c.filled()))?,
                Swatch::Triangle(c) => draw_triangle(root, (cx, y), 9, c)?,
            }
            root.draw_text(&e.text, &style, (left + LEGEND_SWATCH_W + 4, y))?;
            y += LEGEND_ROW;
        }
        Ok(())
    }
}

/// Draws an upward triangle of "radius" `r` centred at `c`, filled with `fill` and outlined in
/// black so it stands out on both land and a cloud of same-coloured dots.
fn draw_triangle<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    r: i32,
    fill: RGBColor,
) -> DrawResult<DB> {
    let half = r * 7 / 8;
    let apex = (x, y - r);
    let ring = vec![
        apex,
        (x + half + 1, y + r * 2 / 3),
        (x - half - 1, y + r * 2 / 3),
        apex,
    ];
    // White halo first: the marker then stands out even on dots of its own colour.
    root.draw(&PathElement::new(ring.clone(), WHITE.stroke_width(6)))?;
    root.draw(&Polygon::new(ring.clone(), fill.filled()))?;
    root.draw(&PathElement::new(ring, BLACK.stroke_width(2)))
}

/// The look every chart's axes share: tick and axis-description fonts, a light grid, grey axes.
fn house_style<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.label_style(text_style(TICK_SIZE, INK))
        .axis_desc_style(text_style(AXIS_DESC_SIZE, INK))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(120, 120, 120).stroke_width(1))
}

// ---------------------------------------------------------------------------------------------
// Bar charts (egress load, capacity): one slot per egress IP, counts on y

/// Margin around a bar chart.
const BAR_MARGIN: u32 = 16;
/// Right margin of a bar chart.
const BAR_MARGIN_RIGHT: u32 = 30;
/// Room for the y tick labels of a bar chart.
const BAR_Y_LABEL_AREA: u32 = 104;
/// Default room for the x labels (egress ids) of a bar chart.
const BAR_X_LABEL_AREA: u32 = 60;

/// The chart type bar charts draw on.
type BarContext<'b, DB> = ChartContext<'b, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// How a bar chart's axes look.
struct BarAxes<'a> {
    /// Egress IPs (slots on x; at least one is drawn).
    slots: usize,
    /// Top of the y axis.
    y_max: f64,
    /// What y counts.
    y_desc: &'a str,
    /// Room under the plot for the egress ids.
    x_label_area: u32,
    /// Extra room under the x labels (for a key).
    extra_bottom: u32,
    /// Whether fractional ticks of a tall axis print rounded (counts that cannot be fractional).
    round_ticks: bool,
}

/// Draws the axes and grid of a bar chart and returns the chart to draw bars on.
fn bar_axes<'b, DB: DrawingBackend>(
    body: &'b DrawingArea<DB, Shift>,
    a: &BarAxes,
) -> Result<BarContext<'b, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let n = a.slots.max(1) as f64;
    let mut chart = ChartBuilder::on(body)
        .margin(BAR_MARGIN)
        .margin_right(BAR_MARGIN_RIGHT)
        .margin_bottom(BAR_MARGIN + a.extra_bottom)
        .x_label_area_size(a.x_label_area)
        .y_label_area_size(BAR_Y_LABEL_AREA)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..a.y_max)?;
    let y_fmt = |y: &f64| axis_count(*y, a.y_max, a.round_ticks);
    house_style(&mut chart.configure_mesh())
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&y_fmt)
        .x_desc("egress IP")
        .y_desc(a.y_desc)
        .draw()?;
    Ok(chart)
}

/// Tick label for a count: thousands separators, or millions on big axes so labels stay short;
/// fractional ticks print rounded on axes of ten and more when `round` (else with one decimal).
fn axis_count(y: f64, y_max: f64, round: bool) -> String {
    if y == 0.0 {
        "0".to_string()
    } else if y_max >= 1e7 {
        format!("{:.0}M", y / 1e6)
    } else if y_max >= 1e6 {
        format!("{:.1}M", y / 1e6)
    } else if y >= 0.0 && y.fract().abs() < 1e-9 {
        count(y as u64)
    } else if round && y_max >= 10.0 {
        count(y.max(0.0).round() as u64)
    } else {
        format!("{y:.1}")
    }
}

/// Pixels as `i32` (saturating).
fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------------------------------------
// The charts of a run

/// One chart of a run, written as PNG and SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFile {
    /// `map`: users by egress IP.
    Map,
    /// `latency_cdf`: RTT CDF per population.
    LatencyCdf,
    /// `egress_load`: requests per egress IP.
    EgressLoad,
    /// `failover_cdf`: the baseline against the worst cases.
    FailoverCdf,
    /// `failover_heatmap`: case × population.
    Heatmap,
    /// `capacity`: peak connections against the limit.
    Capacity,
}

/// Every chart of a run, in the order they are written.
pub const CHARTS: [ChartFile; 6] = [
    ChartFile::Map,
    ChartFile::LatencyCdf,
    ChartFile::EgressLoad,
    ChartFile::FailoverCdf,
    ChartFile::Heatmap,
    ChartFile::Capacity,
];

/// Country outlines for the maps, from the embedded catalog (converted once per process).
fn outlines() -> &'static [geo::MultiPolygon<f64>] {
    static OUTLINES: OnceLock<Vec<geo::MultiPolygon<f64>>> = OnceLock::new();
    OUTLINES.get_or_init(|| {
        Catalog::embedded()
            .outlines
            .iter()
            .map(|o| o.shape.clone())
            .collect()
    })
}

/// The baseline charts' inputs, with `points` on the map.
fn baseline_set<'a>(r: &'a Results, points: &'a [MapPoint]) -> ChartSet<'a> {
    ChartSet {
        scenario: &r.world.name,
        case: &r.world.cases[0].name,
        outlines: outlines(),
        sites: &r.charts.sites,
        points,
        cdfs: &r.charts.population_cdfs,
        load: &r.charts.load,
    }
}

/// The failover and capacity charts' inputs.
fn failover_set<'a>(r: &'a Results) -> FailoverSet<'a> {
    let c = &r.charts;
    FailoverSet {
        scenario: &r.world.name,
        sites: &c.sites,
        baseline_cdf: &c.baseline_cdf,
        case_cdfs: &c.case_cdfs,
        heat_cases: &c.heat_cases,
        heat_populations: &c.heat_populations,
        heat: &c.heat,
        heat_hidden: c.heat_hidden,
        heat_unchanged: c.heat_unchanged,
        capacity: &c.capacity,
    }
}

impl ChartFile {
    fn draw(self, r: &Results, to: &mut Destination) -> Result<(), ChartError> {
        let base = || baseline_set(r, &r.charts.points);
        match self {
            ChartFile::Map => write_both(to, &map::MapChart::new(&base())),
            ChartFile::LatencyCdf => write_both(to, &cdf::CdfChart::new(&base())),
            ChartFile::EgressLoad => write_both(to, &bars::BarChart::new(&base())),
            ChartFile::FailoverCdf => {
                write_both(to, &failover_cdf::FailoverCdfChart::new(&failover_set(r)))
            }
            ChartFile::Heatmap => write_both(to, &heatmap::HeatmapChart::new(&failover_set(r))),
            ChartFile::Capacity => write_both(to, &capacity::CapacityChart::new(&failover_set(r))),
        }
    }
}

impl Output<Results<'_>> for ChartFile {
    fn write(&self, r: &Results, to: &mut Destination) -> Result<()> {
        self.draw(r, to).map_err(|e| Error::Internal(e.to_string()))
    }
}

/// SVG text of every chart in the report.
#[derive(Debug, Clone)]
pub struct ReportSvgs {
    /// User map (the report's thinner sample, with the ingress data centers).
    pub map: String,
    /// RTT CDF per population.
    pub latency_cdf: String,
    /// Requests per egress IP.
    pub egress_load: String,
    /// RTT CDF of the baseline against the worst cases.
    pub failover_cdf: String,
    /// Case × population heatmap.
    pub heatmap: String,
    /// Peak connections against the limit.
    pub capacity: String,
}

/// The report's charts: the same drawings as the chart files, except that the map draws a thinner
/// sample (to keep the page light) and marks the ingress data centers.
pub fn report_svgs(r: &Results) -> Result<ReportSvgs> {
    fn svg<C: Chart>(chart: &C) -> Result<String> {
        svg_string(chart).map_err(|e| Error::Internal(e.to_string()))
    }
    let base = baseline_set(r, &r.charts.report_points);
    let fail = failover_set(r);
    Ok(ReportSvgs {
        map: svg(&map::MapChart::new(&base).with_ingress(&r.charts.report_ingress))?,
        latency_cdf: svg(&cdf::CdfChart::new(&base))?,
        egress_load: svg(&bars::BarChart::new(&base))?,
        failover_cdf: svg(&failover_cdf::FailoverCdfChart::new(&fail))?,
        heatmap: svg(&heatmap::HeatmapChart::new(&fail))?,
        capacity: svg(&capacity::CapacityChart::new(&fail))?,
    })
}

/// `plan_curve` and `plan_map` (PNG and SVG), written when the run is a plan's final world.
#[derive(Debug, Clone, Copy)]
pub struct PlanCharts;

impl Output<Results<'_>> for PlanCharts {
    fn write(&self, r: &Results, to: &mut Destination) -> Result<()> {
        plan::write(r, to).map_err(|e| Error::Internal(e.to_string()))
    }
}

/// The report's plan charts as SVG text (`plan_curve`, then `plan_map` with the report's thinner
/// sample), when the run is a plan's final world.
pub fn plan_svgs(r: &Results) -> Result<Option<(String, String)>> {
    plan::svgs(r).map_err(|e| Error::Internal(e.to_string()))
}

/// CSS colour (`#rrggbb`) of the `index`-th egress IP, the colour every chart gives it.
pub fn egress_css_color(index: usize) -> String {
    let RGBColor(r, g, b) = palette(index);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Creates `dir` and draws the three baseline charts of `set` into it (tests).
#[cfg(test)]
fn write_charts(dir: &Path, set: &ChartSet) -> Result<Vec<PathBuf>, ChartError> {
    write_for_test(dir, Some(set), None)
}

/// Creates `dir` and draws the failover and capacity charts of `set` into it (tests).
#[cfg(test)]
fn write_failover_charts(dir: &Path, set: &FailoverSet) -> Result<Vec<PathBuf>, ChartError> {
    write_for_test(dir, None, Some(set))
}

#[cfg(test)]
fn write_for_test(
    dir: &Path,
    baseline: Option<&ChartSet>,
    failover: Option<&FailoverSet>,
) -> Result<Vec<PathBuf>, ChartError> {
    std::fs::create_dir_all(dir).map_err(|source| ChartError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut to = Destination::new(dir);
    if let Some(set) = baseline {
        write_both(&mut to, &map::MapChart::new(set))?;
        write_both(&mut to, &cdf::CdfChart::new(set))?;
        write_both(&mut to, &bars::BarChart::new(set))?;
    }
    if let Some(set) = failover {
        write_both(&mut to, &failover_cdf::FailoverCdfChart::new(set))?;
        write_both(&mut to, &heatmap::HeatmapChart::new(set))?;
        write_both(&mut to, &capacity::CapacityChart::new(set))?;
    }
    Ok(to.files().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::charts::CdfStats;

    fn site(id: &str, dc: &str, city: &str, lat: f64, lon: f64) -> EgressSite {
        EgressSite {
            id: id.into(),
            datacenter: dc.into(),
            city: city.into(),
            lat,
            lon,
        }
    }

    fn square(lon: f64, lat: f64, d: f64) -> geo::MultiPolygon<f64> {
        let ring = geo::LineString::from(vec![
            (lon, lat),
            (lon + d, lat),
            (lon + d, lat + d),
            (lon, lat + d),
            (lon, lat),
        ]);
        geo::MultiPolygon(vec![geo::Polygon::new(ring, vec![])])
    }

    fn read(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap_or_default()
    }

    #[test]
    fn writes_six_non_empty_files_with_titles_in_svg() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sites = vec![
            site("ams-1", "AMS", "Amsterdam", 52.31, 4.76),
            site("lhr-1", "LHR", "London", 51.47, -0.45),
        ];
        let points: Vec<MapPoint> = (0..500u16)
            .map(|i| MapPoint {
                lat: 45.0 + f32::from(i % 20) * 0.5,
                lon: -5.0 + f32::from(i % 37) * 0.4,
                egress: match i % 3 {
                    0 => 0,
                    1 => 1,
                    _ => NO_EGRESS,
                },
            })
            .collect();
        let cdfs = vec![CdfSeries {
            stats: CdfStats::default(),
            name: "office".into(),
            points: (0..=100)
                .map(|i| (10.0 + f64::from(i), f64::from(i) / 100.0))
                .collect(),
        }];
        let load = vec![
            LoadBar {
                egress_id: "ams-1".into(),
                requests: 1200,
                users: 30,
                share: 0.6,
            },
            LoadBar {
                egress_id: "lhr-1".into(),
                requests: 800,
                users: 20,
                share: 0.4,
            },
        ];
        let outlines = vec![square(-10.0, 40.0, 15.0)];
        let set = ChartSet {
            scenario: "three-sites & more",
            case: "baseline",
            outlines: &outlines,
            sites: &sites,
            points: &points,
            cdfs: &cdfs,
            load: &load,
        };
        let paths = write_charts(dir.path(), &set).expect("charts written");
        let names: Vec<_> = paths
            .iter()
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect();
        assert_eq!(
            names,
            [
                "map.png",
                "map.svg",
                "latency_cdf.png",
                "latency_cdf.svg",
                "egress_load.png",
                "egress_load.svg"
            ]
        );
        for p in &paths {
            let bytes = read(p);
            assert!(bytes.len() > 1000, "{} is too small", p.display());
            if p.extension().is_some_and(|e| e == "png") {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", p.display());
            }
        }
        let svg = |name: &str| String::from_utf8(read(&dir.path().join(name))).unwrap_or_default();
        // Titles are escaped XML text in the SVG.
        assert!(svg("map.svg").contains("three-sites &amp; more: users by egress IP (baseline)"));
        assert!(svg("latency_cdf.svg")
            .contains("three-sites &amp; more: request RTT CDF by population (baseline)"));
        assert!(svg("egress_load.svg")
            .contains("three-sites &amp; more: requests per egress IP (baseline)"));
        assert!(svg("map.svg").contains("ams-1 (AMS)"));
        assert!(svg("map.svg").contains("longitude (°)"));
    }

    #[test]
    fn empty_inputs_still_produce_charts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let set = ChartSet {
            scenario: "empty",
            case: "baseline",
            outlines: &[],
            sites: &[],
            points: &[],
            cdfs: &[],
            load: &[],
        };
        let paths = write_charts(dir.path(), &set).expect("charts written");
        assert_eq!(paths.len(), 6);
        for p in &paths {
            assert!(!read(p).is_empty(), "{} is empty", p.display());
        }
        let cdf = String::from_utf8(read(&dir.path().join("latency_cdf.svg"))).unwrap_or_default();
        assert!(cdf.contains("no data"));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sites = vec![site("x", "XXX", "Nowhere", f64::NAN, 500.0)];
        let points = vec![
            MapPoint {
                lat: f32::NAN,
                lon: 3.0,
                egress: 0,
            },
            MapPoint {
                lat: 10.0,
                lon: 10.0,
                egress: 42, // no such site
            },
            MapPoint {
                lat: 10.0,
                lon: 10.0,
                egress: 0,
            },
        ];
        let cdfs = vec![
            CdfSeries {
                stats: CdfStats::default(),
                name: "empty".into(),
                points: vec![],
            },
            CdfSeries {
                stats: CdfStats::default(),
                name: "one point".into(),
                points: vec![(5.0, 1.0)],
            },
            CdfSeries {
                stats: CdfStats::default(),
                name: "junk".into(),
                points: vec![(f64::NAN, 0.5), (f64::INFINITY, 1.0), (3.0, 7.0)],
            },
        ];
        let load = vec![LoadBar {
            egress_id: "zero".into(),
            requests: 0,
            users: 0,
            share: f64::NAN,
        }];
        let long_name = "a very long scenario name ".repeat(20);
        let set = ChartSet {
            scenario: &long_name,
            case: "all-down",
            outlines: &[square(170.0, -20.0, 20.0)],
            sites: &sites,
            points: &points,
            cdfs: &cdfs,
            load: &load,
        };
        let paths = write_charts(dir.path(), &set).expect("charts written");
        assert_eq!(paths.len(), 6);
    }

    #[test]
    fn many_sites_and_bars_fit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sites: Vec<_> = (0..30)
            .map(|i| {
                let i = f64::from(i);
                site(
                    &format!("site-{i}"),
                    "DC",
                    "City",
                    -40.0 + i * 3.0,
                    -170.0 + i * 11.0,
                )
            })
            .collect();
        let load: Vec<_> = sites
            .iter()
            .enumerate()
            .map(|(i, s)| LoadBar {
                egress_id: s.id.clone(),
                requests: 1_000_000 * (i as u64 + 1),
                users: 10 * (i as u64 + 1),
                share: 1.0 / 30.0,
            })
            .collect();
        let set = ChartSet {
            scenario: "wide",
            case: "baseline",
            outlines: &[],
            sites: &sites,
            points: &[],
            cdfs: &[],
            load: &load,
        };
        assert_eq!(
            write_charts(dir.path(), &set).map(|p| p.len()).ok(),
            Some(6)
        );
    }

    #[test]
    fn unwritable_folder_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").expect("write");
        let set = ChartSet {
            scenario: "s",
            case: "c",
            outlines: &[],
            sites: &[],
            points: &[],
            cdfs: &[],
            load: &[],
        };
        let err = write_charts(&file.join("sub"), &set).expect_err("must fail");
        assert!(err.to_string().contains("a-file"), "{err}");
    }

    #[test]
    fn axis_counts_stay_short() {
        assert_eq!(axis_count(250_000.0, 400_000.0, false), "250,000");
        assert_eq!(axis_count(1_500_000.0, 2_000_000.0, false), "1.5M");
        assert_eq!(axis_count(20_000_000.0, 30_000_000.0, false), "20M");
        assert_eq!(axis_count(0.5, 1.0, false), "0.5");
        assert_eq!(axis_count(0.0, 2_000_000.0, false), "0");
        assert_eq!(axis_count(2.5, 12.0, false), "2.5");
        assert_eq!(axis_count(2.5, 12.0, true), "3");
        assert_eq!(axis_count(40_000.0, 50_000.0, true), "40,000");
    }

    #[test]
    fn bisection_finds_the_longest_fitting_prefix() {
        let fits = |limit: usize| move |k: usize| Ok::<_, ()>(k <= limit);
        assert_eq!(longest_prefix_fitting(10, fits(4)), Ok(Some(4)));
        assert_eq!(longest_prefix_fitting(10, fits(0)), Ok(Some(0)));
        assert_eq!(longest_prefix_fitting(10, fits(20)), Ok(Some(9)));
        assert_eq!(longest_prefix_fitting(0, fits(3)), Ok(Some(0)));
        assert_eq!(longest_prefix_fitting(10, |_| Ok::<_, ()>(false)), Ok(None));
    }
}
