//! The capacity chart: for each egress IP, its peak concurrent connections to one destination
//! in the baseline (light, hatched) and in the worst case (solid), in the egress colour of the
//! map, against a dashed red segment at that egress IP's per-origin connection limit.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::failover_cdf::shorten;
use super::heatmap::{fit_width_middle, hatch, width_of};
use super::{
    bar_axes, bold_style, count, draw_note, palette, text_style, to_i32, BarAxes, BarContext,
    DrawResult, FailoverSet, Title, BAR_MARGIN, BAR_MARGIN_RIGHT, BAR_X_LABEL_AREA,
    BAR_Y_LABEL_AREA, INK, INK_MUTED, NO_EGRESS_COLOR, TICK_SIZE,
};
use super::{Area, Frame};
use crate::analysis::values::{Conns, Share};

const MIN_WIDTH: u32 = 1200;
/// Width per egress IP beyond what [`MIN_WIDTH`] holds, so limit labels always fit.
const SLOT_MIN_W: u32 = 120;
const HEIGHT: u32 = 750;
/// Strip under the x axis for the key (baseline / worst / limit).
const KEY_H: u32 = 40;
/// Each bar's width and offset from the slot centre, in slots.
const BAR_W: f64 = 0.3;
const BAR_OFFSET: f64 = 0.16;
/// Half-length of the limit segment, in slots: a little wider than the pair.
const LIMIT_HALF: f64 = 0.4;
const LABEL_SIZE: f64 = 15.0;
const LIMIT_SIZE: f64 = 15.0;
/// Limit line and labels of bars over their limit.
const LIMIT_COLOR: RGBColor = RGBColor(200, 16, 32);
/// Neutral colour of the key swatches (the bars themselves use egress colours).
const KEY_COLOR: RGBColor = RGBColor(110, 110, 110);

/// One pair of bars, with values cleaned and texts resolved.
#[derive(Debug, Clone)]
struct Pair {
    id: String,
    color: RGBColor,
    baseline: f64,
    worst: f64,
    limit: Option<f64>,
    /// Case of the worst peak.
    case: String,
    /// Destination of the worst peak.
    resource: String,
    /// `41,200 · 103% of limit`.
    value: String,
    over: bool,
}

/// The capacity chart.
pub(super) struct CapacityChart {
    frame: Frame,
    pairs: Vec<Pair>,
    width: u32,
}

impl CapacityChart {
    /// Cleans the values (non-finite or negative peaks count as 0, a limit that is not
    /// positive as no limit) and resolves colours by the id's position among the sites.
    pub(super) fn new(set: &FailoverSet) -> Self {
        let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
        let pairs: Vec<Pair> = set
            .capacity
            .iter()
            .map(|b| {
                let baseline = clean(b.baseline_peak);
                let worst = clean(b.worst_peak);
                let limit = Some(b.limit).filter(|l| l.is_finite() && *l > 0.0);
                // The connections and utilisation `capacity.csv` holds, in the one human form.
                let count = Conns::of(worst);
                let value = match limit {
                    Some(l) => format!("{count} · {} of limit", Share::of(worst / l)),
                    None => format!("{count} · no limit"),
                };
                Pair {
                    id: b.egress_id.clone(),
                    color: set
                        .sites
                        .iter()
                        .position(|s| s.id == b.egress_id)
                        .map_or(NO_EGRESS_COLOR, palette),
                    baseline,
                    worst,
                    limit,
                    case: b.worst_case.clone(),
                    resource: b.worst_resource.clone(),
                    value,
                    over: limit.is_some_and(|l| worst > l),
                }
            })
            .collect();
        let n = u32::try_from(pairs.len()).unwrap_or(u32::MAX / SLOT_MIN_W);
        let width =
            MIN_WIDTH.max(BAR_MARGIN + BAR_MARGIN_RIGHT + BAR_Y_LABEL_AREA + n * SLOT_MIN_W);
        let over = pairs.iter().filter(|p| p.over).count();
        let mut subtitle = format!(
            "scenario {} · peak accepted connections from one egress IP to one origin",
            shorten(set.scenario, 60)
        );
        if over > 0 {
            subtitle.push_str(&format!(
                " · {over} egress IP{} over the limit",
                if over == 1 { "" } else { "s" }
            ));
        }
        Self {
            frame: Frame {
                stem: "capacity",
                size: (width, HEIGHT),
                title: Title::new(
                    "",
                    "Connections per egress IP and destination against the per-origin limit"
                        .to_string(),
                ),
                subtitle,
            },
            pairs,
            width,
        }
    }
}

/// How the worst-bar labels are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LabelMode {
    /// Two horizontal lines (what, value) above the pair.
    Horizontal,
    /// One rotated line going up from the bar.
    Vertical,
}

/// Pixel box `(x0, y0, x1, y1)`.
type PxBox = (i32, i32, i32, i32);

/// The layout every pair shares: slot width, label mode and texts, and the y range.
struct Layout {
    /// Pixels per egress IP.
    slot: i32,
    mode: LabelMode,
    /// `(case → destination, value)` of each pair's worst bar, already fitted.
    labels: Vec<(String, String)>,
    y_max: f64,
}

fn what_style() -> TextStyle<'static> {
    text_style(LABEL_SIZE, INK)
}

fn value_style() -> TextStyle<'static> {
    bold_style(LABEL_SIZE, INK)
}

impl CapacityChart {
    /// Horizontal labels when they fit the slot (shortening the names a little if needed), else one
    /// vertical line per bar; the y range leaves room above the tallest bar or limit for them.
    fn layout(&self, body_h: u32) -> Layout {
        let n = self.pairs.len().max(1);
        let plot_w = i32::try_from(self.width - BAR_MARGIN - BAR_MARGIN_RIGHT - BAR_Y_LABEL_AREA)
            .unwrap_or(i32::MAX);
        let slot = plot_w / i32::try_from(n).unwrap_or(i32::MAX);
        let (what_style, value_style) = (what_style(), value_style());
        // Horizontal when every label fits its slot, or when slots are wide enough that
        // shortening the case and destination with an ellipsis still leaves them readable.
        let fits = |p: &Pair| {
            width_of(&p.value, &value_style) <= slot - 8
                && (slot >= 170
                    || width_of(&format!("{} → {}", p.case, p.resource), &what_style) <= slot - 8)
        };
        let mode = if self.pairs.iter().all(fits) {
            LabelMode::Horizontal
        } else {
            LabelMode::Vertical
        };
        const VERTICAL_MAX_W: i32 = 250;
        let max_w = match mode {
            LabelMode::Horizontal => slot - 8,
            LabelMode::Vertical => VERTICAL_MAX_W,
        };
        let labels: Vec<(String, String)> = self
            .pairs
            .iter()
            .map(|p| (fit_what(p, &what_style, max_w), p.value.clone()))
            .collect();
        let limit_label_h = 24;
        let headroom = match mode {
            LabelMode::Horizontal => 2 * 20 + limit_label_h + 18,
            LabelMode::Vertical => {
                labels
                    .iter()
                    .map(|(w, v)| width_of(w, &what_style).max(width_of(v, &value_style)))
                    .max()
                    .unwrap_or(0)
                    + limit_label_h
                    + 18
            }
        };
        let plot_h = i32::try_from(body_h).unwrap_or(0)
            - i32::try_from(2 * BAR_MARGIN + BAR_X_LABEL_AREA + KEY_H).unwrap_or(0);
        let free = (1.0 - f64::from(headroom) / f64::from(plot_h.max(1))).max(0.2);
        let top = self
            .pairs
            .iter()
            .map(|p| p.worst.max(p.baseline).max(p.limit.unwrap_or(0.0)))
            .fold(0.0f64, f64::max);
        let y_max = if top > 0.0 {
            (top * 1.1).max(top / free)
        } else {
            1.0
        };
        Layout {
            slot,
            mode,
            labels,
            y_max,
        }
    }
}

impl super::Chart for CapacityChart {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, body: &Area<DB>) -> DrawResult<DB> {
        let layout = self.layout(body.dim_in_pixel().1);
        let chart = bar_axes(
            body,
            &BarAxes {
                slots: self.pairs.len(),
                y_max: layout.y_max,
                y_desc: "accepted connections per origin",
                x_label_area: BAR_X_LABEL_AREA,
                extra_bottom: KEY_H,
                round_ticks: true,
            },
        )?;
        for (i, p) in self.pairs.iter().enumerate() {
            draw_pair(root, &chart, &layout, i, p)?;
        }
        let plot = chart.plotting_area().get_pixel_range();
        if self.pairs.is_empty() {
            draw_note(root, &plot, "no dedicated egress IPs")?;
        } else {
            let y = to_i32(HEIGHT) - to_i32(BAR_MARGIN) - KEY_H as i32 / 2 + 4;
            self.draw_key(root, (plot.0.start + plot.0.end) / 2, y)?;
        }
        Ok(())
    }
}

/// Pair `i`: its two bars, its limit, the worst bar's label and the egress id under the axis.
fn draw_pair<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarContext<'_, DB>,
    layout: &Layout,
    i: usize,
    p: &Pair,
) -> DrawResult<DB> {
    let x = i as f64;
    let px = |v: (f64, f64)| chart.backend_coord(&v);
    // Baseline bar: lightened egress colour, hatched, outlined.
    let (bx0, by0) = px((x - BAR_OFFSET - BAR_W / 2.0, p.baseline));
    let (bx1, by1) = px((x - BAR_OFFSET + BAR_W / 2.0, 0.0));
    root.draw(&Rectangle::new(
        [(bx0, by0), (bx1, by1)],
        lighten(p.color, 0.6).filled(),
    ))?;
    hatch(root, (bx0, by0, bx1, by1), 7, p.color)?;
    root.draw(&Rectangle::new(
        [(bx0, by0), (bx1, by1)],
        p.color.stroke_width(1),
    ))?;
    // Worst bar: solid.
    let (wx0, wy0) = px((x + BAR_OFFSET - BAR_W / 2.0, p.worst));
    let (wx1, wy1) = px((x + BAR_OFFSET + BAR_W / 2.0, 0.0));
    root.draw(&Rectangle::new([(wx0, wy0), (wx1, wy1)], p.color.filled()))?;

    let (cx, base) = px((x, 0.0));
    // What the worst label must not cover: the limit line and its label.
    let keep_out = match p.limit {
        Some(limit) => {
            let bars = [(bx0, by0, bx1, by1), (wx0, wy0, wx1, wy1)];
            draw_limit(root, chart, layout.slot, x, limit, &bars)?
        }
        None => Vec::new(),
    };
    let (what, value) = &layout.labels[i];
    let worst_bar = (wx0, wy0, wx1, wy1);
    draw_worst_label(
        root,
        layout,
        (what, value),
        p.over,
        cx,
        worst_bar,
        &keep_out,
    )?;
    let tick_style = bold_style(TICK_SIZE, INK).pos(Pos::new(HPos::Center, VPos::Top));
    let id = fit_width_middle(&p.id, &tick_style, layout.slot - 6);
    root.draw_text(&id, &tick_style, (cx, base + 10))
}

/// The limit: a dashed red segment over pair `x`, labelled just above (or below) one of its ends
/// where it hides no bar top. Returns the boxes the worst label must avoid.
fn draw_limit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarContext<'_, DB>,
    slot: i32,
    x: f64,
    limit: f64,
    bars: &[PxBox; 2],
) -> Result<Vec<PxBox>, DrawingAreaErrorKind<DB::ErrorType>> {
    let limit_style = bold_style(LIMIT_SIZE, LIMIT_COLOR).pos(Pos::new(HPos::Left, VPos::Bottom));
    let (cx, _) = chart.backend_coord(&(x, 0.0));
    let (lx0, ly) = chart.backend_coord(&(x - LIMIT_HALF, limit));
    let (lx1, _) = chart.backend_coord(&(x + LIMIT_HALF, limit));
    // White under the dashes so they read on top of a bar too.
    root.draw(&PathElement::new(
        vec![(lx0, ly), (lx1, ly)],
        WHITE.stroke_width(5),
    ))?;
    root.draw(&DashedPathElement::new(
        vec![(lx0, ly), (lx1, ly)],
        9,
        5,
        LIMIT_COLOR.stroke_width(3),
    ))?;
    let text = format!("limit {}", count(limit.round() as u64));
    let (tw, th) = root.estimate_text_size(&text, &limit_style)?;
    let (tw, th) = (to_i32(tw), to_i32(th));
    // Above the line at its left or right end, else below it: the first spot
    // that hides no bar top (text over a bar's body is fine, its top is the data).
    let right = lx1.min(cx + slot / 2 - 4);
    let left = lx0.min(right - tw);
    let candidates = [
        (left - 3, ly - 4 - th, left + tw + 3, ly - 3),
        (right - tw - 3, ly - 4 - th, right + 3, ly - 3),
        (left - 3, ly + 4, left + tw + 3, ly + 5 + th),
        (right - tw - 3, ly + 4, right + 3, ly + 5 + th),
    ];
    let hides_top = |b: &PxBox| {
        bars.iter()
            .any(|r| r.0 < b.2 && b.0 < r.2 && r.1 >= b.1 - 3 && r.1 <= b.3 + 3 && r.1 < r.3)
    };
    let label_box = candidates
        .iter()
        .copied()
        .find(|b| !hides_top(b))
        .unwrap_or(candidates[0]);
    root.draw(&Rectangle::new(
        [(label_box.0, label_box.1), (label_box.2, label_box.3)],
        WHITE.mix(0.85).filled(),
    ))?;
    root.draw_text(&text, &limit_style, (label_box.0 + 3, label_box.3 - 2))?;
    Ok(vec![(lx0, ly - 5, lx1, ly + 5), label_box])
}

/// The worst bar's `case → destination` and value, above the bar, lifted over anything in
/// `keep_out`.
fn draw_worst_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    layout: &Layout,
    (what, value): (&str, &str),
    over: bool,
    cx: i32,
    worst_bar: PxBox,
    keep_out: &[PxBox],
) -> DrawResult<DB> {
    let (what_style, value_style) = (what_style(), value_style());
    let slot = layout.slot;
    let wcx = (worst_bar.0 + worst_bar.2) / 2;
    let value_color = if over { LIMIT_COLOR } else { INK };
    // The label's box for a given bottom edge; lifted above anything it would cover.
    let (label_w, label_h, label_cx) = match layout.mode {
        LabelMode::Horizontal => {
            let w = width_of(what, &what_style).max(width_of(value, &value_style));
            let left = cx - slot / 2 + w / 2 + 4;
            let right = cx + slot / 2 - w / 2 - 4;
            let lcx = if left <= right {
                wcx.clamp(left, right)
            } else {
                cx
            };
            (w, 40, lcx)
        }
        LabelMode::Vertical => (
            44,
            width_of(what, &what_style).max(width_of(value, &value_style)),
            wcx,
        ),
    };
    let mut bottom = worst_bar.1 - 6;
    for _ in 0..4 {
        let r = (
            label_cx - label_w / 2,
            bottom - label_h,
            label_cx + label_w / 2,
            bottom,
        );
        match keep_out.iter().find(|k| overlaps(r, **k)) {
            Some(k) => bottom = bottom.min(k.1 - 6),
            None => break,
        }
    }
    match layout.mode {
        LabelMode::Horizontal => {
            let style =
                bold_style(LABEL_SIZE, value_color).pos(Pos::new(HPos::Center, VPos::Bottom));
            root.draw_text(value, &style, (label_cx, bottom))?;
            let style = what_style.pos(Pos::new(HPos::Center, VPos::Bottom));
            root.draw_text(what, &style, (label_cx, bottom - 20))
        }
        LabelMode::Vertical => {
            // Two rotated lines side by side, reading upwards from the bar.
            let rotated = |style: TextStyle<'static>| {
                style
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Left, VPos::Center))
            };
            root.draw_text(
                what,
                &rotated(text_style(LABEL_SIZE, INK)),
                (label_cx - 10, bottom),
            )?;
            root.draw_text(
                value,
                &rotated(bold_style(LABEL_SIZE, value_color)),
                (label_cx + 10, bottom),
            )
        }
    }
}

impl CapacityChart {
    /// The key under the x axis: hatched = baseline, solid = worst case, red dashes = limit.
    fn draw_key<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        cx: i32,
        y: i32,
    ) -> DrawResult<DB> {
        let style = text_style(16.0, INK_MUTED).pos(Pos::new(HPos::Left, VPos::Center));
        let items = [
            "baseline peak",
            "worst peak over all cases (labelled case → destination)",
            "per-origin connection limit",
        ];
        let sw = 30;
        let gap = 28;
        let total: i32 = items
            .iter()
            .map(|t| sw + 8 + width_of(t, &style))
            .sum::<i32>()
            + gap * 2;
        let mut x = cx - total / 2;
        for (k, text) in items.iter().enumerate() {
            let r = (x, y - 9, x + sw, y + 9);
            match k {
                0 => {
                    root.draw(&Rectangle::new(
                        [(r.0, r.1), (r.2, r.3)],
                        lighten(KEY_COLOR, 0.6).filled(),
                    ))?;
                    hatch(root, r, 7, KEY_COLOR)?;
                    root.draw(&Rectangle::new(
                        [(r.0, r.1), (r.2, r.3)],
                        KEY_COLOR.stroke_width(1),
                    ))?;
                }
                1 => root.draw(&Rectangle::new(
                    [(r.0, r.1), (r.2, r.3)],
                    KEY_COLOR.filled(),
                ))?,
                _ => root.draw(&DashedPathElement::new(
                    vec![(r.0, y), (r.2, y)],
                    9,
                    5,
                    LIMIT_COLOR.stroke_width(3),
                ))?,
            }
            root.draw_text(text, &style, (x + sw + 8, y))?;
            x += sw + 8 + width_of(text, &style) + gap;
        }
        Ok(())
    }
}

/// `case → destination`, each part shortened in the middle as needed to fit `max_w` pixels;
/// the shorter part keeps its full length when it fits in half the room.
fn fit_what(p: &Pair, style: &TextStyle, max_w: i32) -> String {
    let full = format!("{} → {}", p.case, p.resource);
    if width_of(&full, style) <= max_w {
        return full;
    }
    let room = max_w - width_of(" → ", style);
    let (cw, rw) = (width_of(&p.case, style), width_of(&p.resource, style));
    let (case_room, res_room) = if cw <= room / 2 {
        (cw, room - cw)
    } else if rw <= room / 2 {
        (room - rw, rw)
    } else {
        (room / 2, room - room / 2)
    };
    format!(
        "{} → {}",
        fit_width_middle(&p.case, style, case_room),
        fit_width_middle(&p.resource, style, res_room)
    )
}

/// Whether two pixel boxes `(x0, y0, x1, y1)` overlap.
fn overlaps(a: PxBox, b: PxBox) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// `c` moved towards white by `amount` (0..1).
fn lighten(c: RGBColor, amount: f64) -> RGBColor {
    let f = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * amount).round() as u8;
    RGBColor(f(c.0), f(c.1), f(c.2))
}

#[cfg(test)]
mod tests {
    use super::super::failover_fixtures::{render, svg_text, Fixture};
    use super::*;

    const TITLE: &str = "Connections per egress IP and destination against the per-origin limit";

    #[test]
    fn typical_input_renders_limits_and_labels() {
        let f = Fixture::typical();
        let svg = svg_text(&render(&CapacityChart::new(&f.set())));
        assert!(svg.contains(TITLE));
        assert!(svg.contains("limit 40,000"));
        assert!(svg.contains("down:LHR → bank-api"));
        assert!(svg.contains("% of limit"));
        assert!(svg.contains("accepted connections per origin"));
    }

    #[test]
    fn empty_input_says_so() {
        let f = Fixture::empty();
        let svg = svg_text(&render(&CapacityChart::new(&f.set())));
        assert!(svg.contains(TITLE));
        assert!(svg.contains("no dedicated egress IPs"));
    }

    #[test]
    fn bar_far_over_the_limit_stays_on_the_chart() {
        let f = Fixture::extreme();
        let chart = CapacityChart::new(&f.set());
        assert!(chart
            .pairs
            .iter()
            .any(|p| p.over && p.worst >= 5.0 * p.limit.unwrap_or(0.0)));
        assert!(chart.frame.size.0 >= MIN_WIDTH);
        let svg = svg_text(&render(&chart));
        assert!(svg.contains(TITLE));
        assert!(svg.contains("500.0% of limit"));
        assert!(svg.contains("over the limit"));
    }

    #[test]
    fn odd_values_are_cleaned() {
        let f = Fixture::typical();
        let mut bars = f.capacity.clone();
        bars[0].worst_peak = f64::NAN;
        bars[0].limit = 0.0;
        bars[1].baseline_peak = -5.0;
        let mut set = f.set();
        set.capacity = &bars;
        let chart = CapacityChart::new(&set);
        assert_eq!(chart.pairs[0].worst, 0.0);
        assert_eq!(chart.pairs[0].limit, None);
        assert_eq!(chart.pairs[1].baseline, 0.0);
        let svg = svg_text(&render(&chart));
        assert!(svg.contains("no limit"));
    }

    #[test]
    fn lightened_colours() {
        assert_eq!(lighten(RGBColor(0, 0, 0), 0.5), RGBColor(128, 128, 128));
    }
}
