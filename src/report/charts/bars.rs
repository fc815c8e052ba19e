//! The egress load chart: one vertical bar of requests per egress IP, coloured like the map and
//! labelled with its request count, share and users.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    bar_axes, bold_style, count, draw_note, palette, text_style, to_i32, BarAxes, BarContext,
    ChartSet, DrawResult, Title, BAR_MARGIN, BAR_MARGIN_RIGHT, BAR_X_LABEL_AREA, BAR_Y_LABEL_AREA,
    INK, INK_MUTED, NO_EGRESS_COLOR, TICK_SIZE,
};
use super::{Area, Frame};
use crate::analysis::values::Share;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 750;
const PLOT_W: i32 = (WIDTH - BAR_MARGIN - BAR_MARGIN_RIGHT - BAR_Y_LABEL_AREA) as i32;
const VALUE_SIZE: f64 = 18.0;
const USERS_SIZE: f64 = 16.0;
/// Bar width as a share of the slot each egress IP gets.
const BAR_FILL: f64 = 0.62;

#[derive(Debug, Clone)]
struct Bar {
    id: String,
    requests: u64,
    value: String,
    users: String,
    color: RGBColor,
}

impl Bar {
    /// One-line label for bars too narrow for the two-line horizontal one.
    fn vertical(&self) -> String {
        format!("{} · {}", self.value, self.users)
    }
}

/// The load chart, with labels and colours resolved.
pub(super) struct BarChart {
    frame: Frame,
    bars: Vec<Bar>,
}

impl BarChart {
    /// Resolves colours (by position of the id among the map's sites) and label texts.
    pub(super) fn new(set: &ChartSet) -> Self {
        let bars: Vec<Bar> = set
            .load
            .iter()
            .map(|b| Bar {
                id: b.egress_id.clone(),
                requests: b.requests,
                // The share `egress_load.csv` holds, in the one human form.
                value: format!("{} ({})", count(b.requests), Share::of(b.share)),
                users: format!("{} users", count(b.users)),
                color: set
                    .sites
                    .iter()
                    .position(|s| s.id == b.egress_id)
                    .map_or(NO_EGRESS_COLOR, palette),
            })
            .collect();
        let total_requests: u64 = set
            .load
            .iter()
            .map(|b| b.requests)
            .fold(0, u64::saturating_add);
        let total_users: u64 = set
            .load
            .iter()
            .map(|b| b.users)
            .fold(0, u64::saturating_add);
        let subtitle = if bars.is_empty() {
            String::new()
        } else {
            format!(
                "{} requests from {} users · labels: requests (share of all requests), users",
                count(total_requests),
                count(total_users)
            )
        };
        Self {
            frame: Frame {
                stem: "egress_load",
                size: (WIDTH, HEIGHT),
                title: Title::new(
                    set.scenario,
                    format!(": requests per egress IP ({})", set.case),
                ),
                subtitle,
            },
            bars,
        }
    }
}

/// Where the texts go: vertical when the egress IPs are too many for horizontal ones.
struct Layout {
    vertical_ticks: bool,
    vertical_values: bool,
    x_label_area: u32,
    y_max: f64,
}

fn tick_style() -> TextStyle<'static> {
    text_style(TICK_SIZE, INK)
}

fn value_style() -> TextStyle<'static> {
    bold_style(VALUE_SIZE, INK)
}

fn users_style() -> TextStyle<'static> {
    text_style(USERS_SIZE, INK_MUTED)
}

impl BarChart {
    /// Crowded charts (many egress IPs) turn their texts vertical instead of overlapping, and the
    /// y range leaves room above the tallest bar for its label.
    fn layout<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body_h: u32,
    ) -> Result<Layout, DrawingAreaErrorKind<DB::ErrorType>> {
        let slot = PLOT_W / i32::try_from(self.bars.len().max(1)).unwrap_or(i32::MAX);
        let (mut tick_w, mut value_w, mut vertical_w) = (0, 0, 0);
        for b in &self.bars {
            tick_w = tick_w.max(root.estimate_text_size(&b.id, &tick_style())?.0);
            value_w = value_w.max(root.estimate_text_size(&b.value, &value_style())?.0);
            value_w = value_w.max(root.estimate_text_size(&b.users, &users_style())?.0);
            vertical_w = vertical_w.max(root.estimate_text_size(&b.vertical(), &value_style())?.0);
        }
        let (tick_w, value_w, vertical_w) = (to_i32(tick_w), to_i32(value_w), to_i32(vertical_w));
        let vertical_ticks = tick_w > slot - 8;
        let vertical_values = value_w > slot - 4;
        let x_label_area = if vertical_ticks {
            BAR_X_LABEL_AREA.max(to_u32(tick_w + 50).min(220))
        } else {
            BAR_X_LABEL_AREA
        };
        let plot_h = to_i32(body_h) - to_i32(2 * BAR_MARGIN + x_label_area);
        let headroom = if vertical_values { vertical_w + 16 } else { 58 };
        let free = (1.0 - f64::from(headroom) / f64::from(plot_h.max(1))).max(0.2);
        let max_req = self.bars.iter().map(|b| b.requests).max().unwrap_or(0);
        Ok(Layout {
            vertical_ticks,
            vertical_values,
            x_label_area,
            y_max: if max_req == 0 {
                1.0
            } else {
                max_req as f64 / free
            },
        })
    }

    /// Each bar's value (and users) above it and its egress id under the axis.
    fn draw_labels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &BarContext<'_, DB>,
        layout: &Layout,
    ) -> DrawResult<DB> {
        let rotated = |style: TextStyle<'static>, h: HPos| {
            style
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(h, VPos::Center))
        };
        for (i, b) in self.bars.iter().enumerate() {
            let x = i as f64;
            let (cx, top) = chart.backend_coord(&(x, b.requests as f64));
            let (_, base) = chart.backend_coord(&(x, 0.0));
            if layout.vertical_values {
                root.draw_text(
                    &b.vertical(),
                    &rotated(value_style(), HPos::Left),
                    (cx, top - 8),
                )?;
            } else {
                let style = value_style().pos(Pos::new(HPos::Center, VPos::Bottom));
                root.draw_text(&b.value, &style, (cx, top - 28))?;
                let style = users_style().pos(Pos::new(HPos::Center, VPos::Bottom));
                root.draw_text(&b.users, &style, (cx, top - 6))?;
            }
            let style = if layout.vertical_ticks {
                rotated(tick_style(), HPos::Right)
            } else {
                tick_style().pos(Pos::new(HPos::Center, VPos::Top))
            };
            root.draw_text(&b.id, &style, (cx, base + 10))?;
        }
        Ok(())
    }
}

impl super::Chart for BarChart {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, body: &Area<DB>) -> DrawResult<DB> {
        let layout = self.layout(root, body.dim_in_pixel().1)?;
        let mut chart = bar_axes(
            body,
            &BarAxes {
                slots: self.bars.len(),
                y_max: layout.y_max,
                y_desc: "requests",
                x_label_area: layout.x_label_area,
                extra_bottom: 0,
                round_ticks: false,
            },
        )?;
        let half = BAR_FILL / 2.0;
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new(
                [(x - half, 0.0), (x + half, b.requests as f64)],
                b.color.filled(),
            )
        }))?;
        self.draw_labels(root, &chart, &layout)?;
        if self.bars.is_empty() {
            let plot = chart.plotting_area().get_pixel_range();
            draw_note(root, &plot, "no data")?;
        }
        Ok(())
    }
}

fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}
