//! The failover heatmap: one row per failure case, one column per population, each cell
//! coloured by how much the population's p95 RTT grew in that case and labelled with the
//! change and with any dropped, blocked or off-geography share.
//!
//! The canvas grows with the data (rows and columns), so its layout is worked out up front
//! from text widths; everything is drawn in pixels, there is no plotters chart.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    bold_style, count, draw_note, longest_prefix_fitting, text_style, DrawResult, FailoverSet,
    HeatCell, Title, HEADER_HEIGHT, INK, INK_MUTED,
};
use super::{Area, Frame};
use crate::analysis::human::{ms_change, ms_change_shows};
use crate::analysis::values::{Ms, Share};

const MARGIN: i32 = 20;
const MIN_WIDTH: i32 = 1000;
const MIN_HEIGHT: i32 = 600;
/// Band above the grid holding the population names.
const COL_HEADER_H: i32 = 40;
/// Row height with the change alone; each extra text line adds [`EXTRA_LINE_H`].
const BASE_ROW_H: i32 = 32;
const EXTRA_LINE_H: i32 = 17;
const MIN_COL_W: i32 = 124;
const MAX_COL_W: i32 = 190;
const MIN_LABEL_W: i32 = 110;
const MAX_LABEL_W: i32 = 330;
/// Gap between the grid and the colour legend, and the legend's width.
const LEGEND_GAP: i32 = 36;
const LEGEND_W: i32 = 250;
const SCALE_BAR_H: i32 = 240;
const SCALE_BAR_W: i32 = 26;
/// Room under the grid for the "more cases" note.
const FOOTER_H: i32 = 44;

const VALUE_SIZE: f64 = 17.0;
const DETAIL_SIZE: f64 = 14.0;
const LABEL_SIZE: f64 = 16.0;

/// ColorBrewer YlOrBr (9 classes): sequential, light to dark, safe for colour-blind readers.
/// The first stop is lightened towards white so "no change" reads as nearly empty.
const SCALE: [RGBColor; 9] = [
    RGBColor(255, 255, 240),
    RGBColor(255, 247, 188),
    RGBColor(254, 227, 145),
    RGBColor(254, 196, 79),
    RGBColor(254, 153, 41),
    RGBColor(236, 112, 20),
    RGBColor(204, 76, 2),
    RGBColor(153, 52, 4),
    RGBColor(102, 37, 6),
];
/// Cells where the p95 got faster: light blue, clearly outside the warm scale.
const DECREASE_COLOR: RGBColor = RGBColor(214, 232, 248);
/// Cells where nothing was delivered: light grey, hatched.
const NA_COLOR: RGBColor = RGBColor(238, 238, 238);
const NA_HATCH: RGBColor = RGBColor(200, 200, 200);
/// Border and text of cells that lost requests. Dark crimson: distinct from the warm scale
/// by its darkness and thickness, not by hue alone.
const DROP_COLOR: RGBColor = RGBColor(175, 0, 42);

/// What a cell says, line by line, and how it is drawn.
#[derive(Debug, Clone, PartialEq)]
struct CellView {
    fill: RGBColor,
    hatched: bool,
    dropped: bool,
    /// `(text, bold, is_drop_line)`.
    lines: Vec<(String, bool, bool)>,
}

/// The heatmap with texts, colours and layout resolved.
pub(super) struct HeatmapChart {
    frame: Frame,
    rows: Vec<String>,
    cols: Vec<String>,
    /// Row-major, `rows.len() * cols.len()`.
    cells: Vec<CellView>,
    row_h: Vec<i32>,
    label_w: i32,
    col_w: i32,
    /// Left edge of the label column (the block is centred on wide canvases).
    x0: i32,
    scale_max: f64,
    /// What the note under the grid says about the cases not drawn.
    footer: Option<String>,
    width: i32,
    height: i32,
    note: Option<String>,
}

impl HeatmapChart {
    /// Resolves cell texts and colours, and sizes the canvas to fit the rows and columns.
    pub(super) fn new(set: &FailoverSet) -> Self {
        let n_rows = set.heat_cases.len();
        let n_cols = set.heat_populations.len();
        let note = if n_rows == 0 && set.heat_unchanged > 0 {
            Some(format!(
                "none of the {} failure cases changes anything: no p95 change, nothing lost, refused or off-geography",
                set.heat_unchanged
            ))
        } else if n_rows == 0 {
            Some("no failure cases (add [[failure]] entries or run with --sweep n-1)".to_string())
        } else if n_cols == 0 {
            Some("no populations".to_string())
        } else {
            None
        };
        let (n_rows, n_cols) = if note.is_some() {
            (0, 0)
        } else {
            (n_rows, n_cols)
        };

        let raw: Vec<Option<HeatCell>> = (0..n_rows * n_cols)
            .map(|i| set.heat.get(i).copied())
            .collect();
        let scale_max = scale_max(raw.iter().filter_map(|c| c.and_then(|c| c.p95_change_ms)));
        let cells: Vec<CellView> = raw.iter().map(|c| cell_view(*c, scale_max)).collect();

        // Column width: the widest cell text or name, within bounds; names are shortened to fit.
        let label_style = text_style(LABEL_SIZE, INK);
        let (pops, cases) = (&set.heat_populations[..n_cols], &set.heat_cases[..n_rows]);
        let col_w = (cell_text_width(&cells).max(widest(pops, &label_style)) + 20)
            .clamp(MIN_COL_W, MAX_COL_W);
        let label_w = (widest(cases, &label_style) + 18).clamp(MIN_LABEL_W, MAX_LABEL_W);
        let row_h = row_heights(&cells, n_cols);
        let grid_w = col_w * i32::try_from(n_cols).unwrap_or(0);
        let block_w = label_w + grid_w + LEGEND_GAP + LEGEND_W;
        let width = (block_w + 2 * MARGIN).max(MIN_WIDTH);
        let grid_h: i32 = row_h.iter().sum();
        let legend_h = if note.is_some() { 0 } else { SCALE_BAR_H + 200 };
        let height =
            (HEADER_HEIGHT as i32 + COL_HEADER_H + grid_h.max(legend_h) + FOOTER_H + MARGIN)
                .max(MIN_HEIGHT);
        let rows = fitted(cases, &label_style, label_w - 14);
        let cols = fitted(pops, &label_style, col_w - 10);
        let x0 = (width - block_w) / 2;

        let subtitle = format!(
            "scenario {} · change of each population's p95 RTT against the baseline, per failure case",
            super::failover_cdf::shorten(set.scenario, 60)
        );
        Self {
            frame: Frame {
                stem: "failover_heatmap",
                size: (
                    u32::try_from(width).unwrap_or(MIN_WIDTH as u32),
                    u32::try_from(height).unwrap_or(MIN_HEIGHT as u32),
                ),
                title: Title::new(
                    "",
                    "p95 RTT change by failure case and population".to_string(),
                ),
                subtitle,
            },
            rows,
            cols,
            cells,
            row_h,
            label_w,
            col_w,
            x0,
            scale_max,
            footer: footer(set.heat_hidden, set.heat_unchanged),
            width,
            height,
            note,
        }
    }

    /// Left edge of the grid.
    fn grid_x(&self) -> i32 {
        self.x0 + self.label_w
    }

    /// Top edge of the grid.
    fn grid_y() -> i32 {
        HEADER_HEIGHT as i32 + COL_HEADER_H
    }

    fn draw_grid<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let gx = self.grid_x();
        let gy = Self::grid_y();
        let n_cols = self.cols.len();

        let head = text_style(LABEL_SIZE, INK).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (c, name) in self.cols.iter().enumerate() {
            let cx = gx + self.col_w * to_i32(c) + self.col_w / 2;
            root.draw_text(name, &head, (cx, gy - 10))?;
        }
        let corner = bold_style(LABEL_SIZE, INK_MUTED).pos(Pos::new(HPos::Right, VPos::Bottom));
        root.draw_text("case \\ population", &corner, (gx - 10, gy - 10))?;

        let label = text_style(LABEL_SIZE, INK).pos(Pos::new(HPos::Right, VPos::Center));
        let mut y = gy;
        for (r, name) in self.rows.iter().enumerate() {
            let h = self.row_h[r];
            root.draw_text(name, &label, (gx - 10, y + h / 2))?;
            for c in 0..n_cols {
                let x = gx + self.col_w * to_i32(c);
                self.draw_cell(root, &self.cells[r * n_cols + c], x, y, h)?;
            }
            y += h;
        }

        if let Some(text) = &self.footer {
            let style = text_style(16.0, INK_MUTED).pos(Pos::new(HPos::Left, VPos::Top));
            root.draw_text(text, &style, (gx, y + 14))?;
        }
        Ok(())
    }

    fn draw_cell<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        cell: &CellView,
        x: i32,
        y: i32,
        h: i32,
    ) -> DrawResult<DB> {
        // One white pixel between cells keeps the grid readable without lines.
        let (x0, y0, x1, y1) = (x + 1, y + 1, x + self.col_w - 1, y + h - 1);
        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], cell.fill.filled()))?;
        if cell.hatched {
            hatch(root, (x0, y0, x1, y1), 8, NA_HATCH)?;
        }
        if cell.dropped {
            for k in 0..3 {
                root.draw(&Rectangle::new(
                    [(x0 + k, y0 + k), (x1 - k, y1 - k)],
                    DROP_COLOR.stroke_width(1),
                ))?;
            }
        }
        let dark = luminance(cell.fill) < 0.45;
        let ink = if dark { WHITE } else { INK };
        let n = to_i32(cell.lines.len());
        let block = VALUE_SIZE as i32 + (n - 1) * EXTRA_LINE_H;
        let mut ty = y + (h - block) / 2 + VALUE_SIZE as i32 / 2 + 1;
        let cx = x + self.col_w / 2;
        for (i, (text, bold, drop_line)) in cell.lines.iter().enumerate() {
            let (size, step) = if i == 0 {
                (VALUE_SIZE, VALUE_SIZE as i32 / 2 + 2 + EXTRA_LINE_H / 2)
            } else {
                (DETAIL_SIZE, EXTRA_LINE_H)
            };
            let color = if *drop_line && !dark {
                DROP_COLOR
            } else if cell.hatched && i == 0 {
                INK_MUTED
            } else {
                ink
            };
            let style = if *bold {
                bold_style(size, color)
            } else {
                text_style(size, color)
            }
            .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw_text(text, &style, (cx, ty))?;
            ty += step;
        }
        Ok(())
    }

    /// The colour scale bar and the swatches for decrease, n/a and dropped cells.
    fn draw_legend<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let lx = self.grid_x() + self.col_w * to_i32(self.cols.len()) + LEGEND_GAP;
        let top = Self::grid_y() - COL_HEADER_H + 8;
        let heading = bold_style(LABEL_SIZE, INK).pos(Pos::new(HPos::Left, VPos::Top));
        root.draw_text("p95 RTT change (ms)", &heading, (lx, top))?;
        let sub = text_style(14.0, INK_MUTED).pos(Pos::new(HPos::Left, VPos::Top));
        root.draw_text("square-root scale", &sub, (lx, top + 22))?;

        // Bar: top = scale_max (dark), bottom = 0 (near white), drawn as 1 px strips.
        let bar_top = top + 46;
        let bar_bottom = bar_top + SCALE_BAR_H;
        for py in bar_top..bar_bottom {
            let t = f64::from(bar_bottom - py) / f64::from(SCALE_BAR_H);
            let color = scale_color(t);
            root.draw(&Rectangle::new(
                [(lx, py), (lx + SCALE_BAR_W, py + 1)],
                color.filled(),
            ))?;
        }
        root.draw(&Rectangle::new(
            [(lx, bar_top), (lx + SCALE_BAR_W, bar_bottom)],
            RGBColor(150, 150, 150).stroke_width(1),
        ))?;
        let tick = text_style(15.0, INK).pos(Pos::new(HPos::Left, VPos::Center));
        for v in scale_ticks(self.scale_max, SCALE_BAR_H) {
            let t = (v / self.scale_max).sqrt();
            let py = bar_bottom - (t * f64::from(SCALE_BAR_H)).round() as i32;
            root.draw(&PathElement::new(
                vec![(lx + SCALE_BAR_W, py), (lx + SCALE_BAR_W + 5, py)],
                INK.stroke_width(1),
            ))?;
            let text = if v == 0.0 {
                "0 ms (no change)".to_string()
            } else if v >= 1.0 {
                format!("+{} ms", count(v.round() as u64))
            } else {
                format!("+{v} ms")
            };
            root.draw_text(&text, &tick, (lx + SCALE_BAR_W + 9, py))?;
        }

        // Swatches.
        let mut y = bar_bottom + 26;
        let sw = (SCALE_BAR_W, 22);
        let text = text_style(15.0, INK).pos(Pos::new(HPos::Left, VPos::Center));
        let items: [(&str, u8); 3] = [
            ("faster than baseline", 0),
            ("n/a: nothing delivered", 1),
            ("requests dropped", 2),
        ];
        for (label, kind) in items {
            let r = (lx, y, lx + sw.0, y + sw.1);
            match kind {
                0 => root.draw(&Rectangle::new(
                    [(r.0, r.1), (r.2, r.3)],
                    DECREASE_COLOR.filled(),
                ))?,
                1 => {
                    root.draw(&Rectangle::new([(r.0, r.1), (r.2, r.3)], NA_COLOR.filled()))?;
                    hatch(root, r, 6, NA_HATCH)?;
                }
                _ => {
                    root.draw(&Rectangle::new([(r.0, r.1), (r.2, r.3)], SCALE[1].filled()))?;
                    for k in 0..3 {
                        root.draw(&Rectangle::new(
                            [(r.0 + k, r.1 + k), (r.2 - k, r.3 - k)],
                            DROP_COLOR.stroke_width(1),
                        ))?;
                    }
                }
            }
            root.draw_text(label, &text, (lx + sw.0 + 10, y + sw.1 / 2))?;
            y += sw.1 + 12;
        }
        let small = text_style(14.0, INK_MUTED).pos(Pos::new(HPos::Left, VPos::Top));
        root.draw_text("blocked: refused by allowlists", &small, (lx, y + 2))?;
        root.draw_text("off-geo: broke a geography rule", &small, (lx, y + 22))?;
        Ok(())
    }
}

impl super::Chart for HeatmapChart {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, _: &Area<DB>) -> DrawResult<DB> {
        if let Some(note) = &self.note {
            let area = (
                MARGIN..self.width - MARGIN,
                HEADER_HEIGHT as i32..self.height - MARGIN,
            );
            return draw_note(root, &area, note);
        }
        self.draw_grid(root)?;
        self.draw_legend(root)
    }
}

/// The note under the grid: cases beyond the rows shown, and cases left out because they change
/// nothing.
fn footer(hidden: usize, unchanged: usize) -> Option<String> {
    let more = (hidden > 0).then(|| format!("{hidden} more case{} not shown", plural(hidden)));
    let left_out = (unchanged > 0).then(|| {
        format!(
            "{unchanged} case{} that change{} nothing left out",
            plural(unchanged),
            if unchanged == 1 { "s" } else { "" }
        )
    });
    let parts: Vec<String> = more.into_iter().chain(left_out).collect();
    (!parts.is_empty()).then(|| format!("{}; see failover.csv", parts.join(", and ")))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The widest text of any cell (the first line bold and larger, the others by their weight).
fn cell_text_width(cells: &[CellView]) -> i32 {
    let value_style = bold_style(VALUE_SIZE, INK);
    let detail_style = text_style(DETAIL_SIZE, INK);
    let detail_bold = bold_style(DETAIL_SIZE, INK);
    let mut text_w = 0;
    for c in cells {
        for (i, (t, bold, _)) in c.lines.iter().enumerate() {
            let style = if i == 0 {
                &value_style
            } else if *bold {
                &detail_bold
            } else {
                &detail_style
            };
            text_w = text_w.max(width_of(t, style));
        }
    }
    text_w
}

/// The widest of `names`.
fn widest(names: &[String], style: &TextStyle) -> i32 {
    names.iter().map(|n| width_of(n, style)).max().unwrap_or(0)
}

/// `names`, each shortened in the middle to fit `max_w` pixels.
fn fitted(names: &[String], style: &TextStyle, max_w: i32) -> Vec<String> {
    names
        .iter()
        .map(|n| fit_width_middle(n, style, max_w))
        .collect()
}

/// Each row's height: room for its tallest cell.
fn row_heights(cells: &[CellView], n_cols: usize) -> Vec<i32> {
    cells
        .chunks(n_cols.max(1))
        .map(|row| {
            let extra = row
                .iter()
                .map(|c| c.lines.len().saturating_sub(1))
                .max()
                .unwrap_or(0);
            BASE_ROW_H + EXTRA_LINE_H * i32::try_from(extra).unwrap_or(0)
        })
        .collect()
}

/// Texts and colours of one cell; `None` (no cell supplied) reads as nothing delivered.
fn cell_view(cell: Option<HeatCell>, scale_max: f64) -> CellView {
    let cell = cell.unwrap_or(HeatCell {
        p95_change_ms: None,
        dropped_share: 0.0,
        blocked_share: 0.0,
        violation_share: 0.0,
    });
    // The value `failover.csv` holds, in the one human form.
    let change = Ms(cell.p95_change_ms.filter(|v| v.is_finite())).rounded();
    let (fill, hatched, value) = match change {
        None => (NA_COLOR, true, "n/a".to_string()),
        Some(v) if v < 0.0 && ms_change_shows(Some(v)) => {
            (DECREASE_COLOR, false, ms_change(Some(v)))
        }
        Some(v) => {
            let t = (v.max(0.0) / scale_max).sqrt();
            (scale_color(t), false, ms_change(Some(v)))
        }
    };
    let mut lines = vec![(value, true, false)];
    let dropped = positive(cell.dropped_share);
    if dropped {
        lines.push((format!("{} dropped", share(cell.dropped_share)), true, true));
    }
    if positive(cell.blocked_share) {
        lines.push((
            format!("{} blocked", share(cell.blocked_share)),
            false,
            false,
        ));
    }
    if positive(cell.violation_share) {
        lines.push((
            format!("{} off-geo", share(cell.violation_share)),
            false,
            false,
        ));
    }
    CellView {
        fill,
        hatched,
        dropped,
        lines,
    }
}

fn positive(share: f64) -> bool {
    share.is_finite() && share > 0.0
}

/// A share 0..1 as a percentage, in the one human form (`<0.1%` for tiny non-zero shares).
fn share(x: f64) -> String {
    Share::of(x.clamp(0.0, 1.0)).to_string()
}

/// Top of the colour scale: the largest increase rounded up to 1-2-5 steps, at least 10 ms so
/// that a fraction of a millisecond stays nearly white.
fn scale_max(changes: impl Iterator<Item = f64>) -> f64 {
    let max = changes
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(10.0);
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|&v| v >= max * 0.999)
        .unwrap_or(max)
}

/// Colour at `t` in 0..1 along [`SCALE`], interpolated between its stops.
fn scale_color(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        1.0
    };
    let pos = t * (SCALE.len() - 1) as f64;
    let i = (pos.floor() as usize).min(SCALE.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (SCALE[i], SCALE[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Tick values of the scale bar: 0, the top, and 1-2-5 steps in between that stay at least
/// 22 px apart on the square-root scale.
fn scale_ticks(max: f64, bar_h: i32) -> Vec<f64> {
    let px = |v: f64| (v / max).sqrt() * f64::from(bar_h);
    let mut ticks = vec![max];
    let mut e = max.log10().floor() as i32;
    'outer: loop {
        for m in [5.0, 2.0, 1.0] {
            let v = m * 10f64.powi(e);
            if v >= max * 0.999 {
                continue;
            }
            if px(v) < 22.0 {
                break 'outer;
            }
            if ticks.last().is_some_and(|&last| px(last) - px(v) >= 22.0) {
                ticks.push(v);
            }
        }
        e -= 1;
        if e < -3 {
            break;
        }
    }
    ticks.push(0.0);
    ticks.reverse();
    ticks
}

/// Relative luminance (sRGB approximation) of `c`, 0..1.
fn luminance(c: RGBColor) -> f64 {
    (0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2)) / 255.0
}

/// Diagonal hatching (`/`) every `step` pixels inside the rectangle `(x0, y0, x1, y1)`.
pub(super) fn hatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    step: i32,
    color: RGBColor,
) -> DrawResult<DB> {
    let (w, h) = (x1 - x0, y1 - y0);
    if w <= 0 || h <= 0 {
        return Ok(());
    }
    // Lines x + y = x0 + y0 + k, clipped to the rectangle.
    let mut k = step;
    while k < w + h {
        let (ax, ay) = (x0 + k.min(w), y0 + (k - w).max(0));
        let (bx, by) = (x0 + (k - h).max(0), y0 + k.min(h));
        root.draw(&PathElement::new(
            vec![(ax, ay), (bx, by)],
            color.stroke_width(1),
        ))?;
        k += step;
    }
    Ok(())
}

/// Pixel width of `text` in `style`, as plotters will measure it when drawing.
pub(super) fn width_of(text: &str, style: &TextStyle) -> i32 {
    match style.font.box_size(text) {
        Ok((w, _)) => to_i32(w as usize),
        // Only if the font is missing, which `ensure_fonts` rules out: a generous guess.
        Err(_) => (text.chars().count() as f64 * style.font.get_size() * 0.62) as i32,
    }
}

/// `text`, shortened in the middle (`down:LHR+…+AMS-12`) until it is at most `max_w` pixels
/// wide: case, population and egress names often share a long prefix and differ at the end.
pub(super) fn fit_width_middle(text: &str, style: &TextStyle, max_w: i32) -> String {
    if width_of(text, style) <= max_w {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let candidate = |k: usize| {
        let tail = k / 2;
        let head: String = chars[..k - tail].iter().collect();
        let tail: String = chars[chars.len() - tail..].iter().collect();
        format!("{}…{}", head.trim_end(), tail.trim_start())
    };
    let kept = longest_prefix_fitting(chars.len(), |k| {
        Ok::<_, ()>(width_of(&candidate(k), style) <= max_w)
    })
    .ok()
    .flatten()
    .unwrap_or(0);
    candidate(kept)
}

fn to_i32(v: usize) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::failover_fixtures::{render, svg_text, Fixture};
    use super::*;

    #[test]
    fn typical_input_renders_values_and_marks() {
        let f = Fixture::typical();
        let chart = HeatmapChart::new(&f.set());
        let svg = svg_text(&render(&chart));
        assert!(svg.contains("p95 RTT change by failure case and population"));
        assert!(svg.contains("scenario eu-offices"));
        assert!(svg.contains("+62.0 ms"));
        assert!(svg.contains("±0.0 ms"));
        assert!(svg.contains("3.1% dropped"));
        assert!(svg.contains("2.0% blocked"));
        assert!(svg.contains("5.0% off-geo"));
        assert!(svg.contains("n/a"));
        assert!(svg.contains("1 more case not shown; see failover.csv"));
        assert_eq!(footer(0, 0), None);
        assert_eq!(
            footer(2, 1).unwrap(),
            "2 more cases not shown, and 1 case that changes nothing left out; see failover.csv"
        );
    }

    #[test]
    fn no_rows_says_how_to_get_some() {
        let f = Fixture::empty();
        let chart = HeatmapChart::new(&f.set());
        assert_eq!(chart.frame.size, (MIN_WIDTH as u32, MIN_HEIGHT as u32));
        let svg = svg_text(&render(&chart));
        assert!(svg.contains("no failure cases (add [[failure]] entries or run with --sweep n-1)"));
    }

    #[test]
    fn extreme_input_grows_the_canvas_and_shortens_names() {
        let f = Fixture::extreme();
        let set = f.set();
        let chart = HeatmapChart::new(&set);
        let (w, h) = chart.frame.size;
        assert!(h > 40 * BASE_ROW_H as u32, "{h}");
        assert!(w >= 10 * MIN_COL_W as u32, "{w}");
        assert!(chart.cols.iter().all(|c| c.contains('…')));
        assert!(chart.rows.iter().all(|c| c.contains('…')));
        // Shortened in the middle, so the distinguishing ends survive.
        assert!(chart.rows[17].ends_with("-17"), "{}", chart.rows[17]);
        let svg = svg_text(&render(&chart));
        assert!(svg.contains("p95 RTT change by failure case and population"));
        // A short grid still gets room for its legend.
        let small = Fixture::typical();
        assert!(HeatmapChart::new(&small.set()).frame.size.1 >= MIN_HEIGHT as u32);
    }

    #[test]
    fn colours_and_ticks() {
        assert_eq!(scale_max([3.0].into_iter()), 10.0);
        assert_eq!(scale_max([62.0, 12.0].into_iter()), 100.0);
        assert_eq!(scale_max([150.0].into_iter()), 200.0);
        assert_eq!(scale_color(0.0), SCALE[0]);
        assert_eq!(scale_color(1.0), SCALE[8]);
        let ticks = scale_ticks(200.0, SCALE_BAR_H);
        assert_eq!(ticks.first(), Some(&0.0));
        assert_eq!(ticks.last(), Some(&200.0));
        assert!(ticks.windows(2).all(|w| w[0] < w[1]), "{ticks:?}");
        assert_eq!(share(0.031), "3.1%");
        assert_eq!(share(0.0001), "<0.1%");
        let v = cell_view(None, 10.0);
        assert!(v.hatched && v.lines[0].0 == "n/a");
        let v = cell_view(
            Some(HeatCell {
                p95_change_ms: Some(-4.0),
                dropped_share: 0.5,
                blocked_share: f64::NAN,
                violation_share: 0.0,
            }),
            10.0,
        );
        assert_eq!(v.fill, DECREASE_COLOR);
        assert!(v.dropped);
        assert_eq!(v.lines.len(), 2);
    }
}
