//! The egress load chart: one vertical bar of requests per egress IP, coloured like the map and
//! labelled with its request count, share and users.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    bold_style, draw_header, draw_note, percent_label, count, palette, text_style, ChartSet,
    DrawResult, Title, AXIS_DESC_SIZE, GRID, INK, INK_MUTED, NO_EGRESS_COLOR, TICK_SIZE,
};

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 750;
const MARGIN: u32 = 16;
const MARGIN_RIGHT: u32 = 30;
const Y_LABEL_AREA: u32 = 104;
const X_LABEL_AREA: u32 = 60;
const PLOT_W: i32 = (WIDTH - MARGIN - MARGIN_RIGHT - Y_LABEL_AREA) as i32;
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
    title: Title,
    subtitle: String,
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
                value: format!("{} ({})", count(b.requests), percent_label(b.share)),
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
            title: Title::new(
                set.scenario,
                format!(": requests per egress IP ({})", set.case),
            ),
            subtitle,
            bars,
        }
    }
}

impl super::Chart for BarChart {
    const STEM: &'static str = "egress_load";
    const SIZE: (u32, u32) = (WIDTH, HEIGHT);

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = draw_header(root, &self.title, &self.subtitle)?;
        let n = self.bars.len().max(1);
        let slot = PLOT_W / i32::try_from(n).unwrap_or(i32::MAX);

        // Crowded charts (many egress IPs) turn their texts vertical instead of overlapping.
        let tick_style = text_style(TICK_SIZE, INK);
        let value_style = bold_style(VALUE_SIZE, INK);
        let users_style = text_style(USERS_SIZE, INK_MUTED);
        let mut tick_w = 0;
        let mut value_w = 0;
        let mut vertical_w = 0;
        for b in &self.bars {
            tick_w = tick_w.max(root.estimate_text_size(&b.id, &tick_style)?.0);
            value_w = value_w.max(root.estimate_text_size(&b.value, &value_style)?.0);
            value_w = value_w.max(root.estimate_text_size(&b.users, &users_style)?.0);
            vertical_w = vertical_w.max(root.estimate_text_size(&b.vertical(), &value_style)?.0);
        }
        let (tick_w, value_w, vertical_w) = (to_i32(tick_w), to_i32(value_w), to_i32(vertical_w));
        let vertical_ticks = tick_w > slot - 8;
        let vertical_values = value_w > slot - 4;
        let x_label_area = if vertical_ticks {
            X_LABEL_AREA.max(to_u32(tick_w + 50).min(220))
        } else {
            X_LABEL_AREA
        };

        // Leave room above the tallest bar for its label.
        let (_, body_h) = body.dim_in_pixel();
        let plot_h = to_i32(body_h) - to_i32(2 * MARGIN + x_label_area);
        let headroom = if vertical_values { vertical_w + 16 } else { 58 };
        let free = (1.0 - f64::from(headroom) / f64::from(plot_h.max(1))).max(0.2);
        let max_req = self.bars.iter().map(|b| b.requests).max().unwrap_or(0);
        let y_max = if max_req == 0 {
            1.0
        } else {
            max_req as f64 / free
        };

        let n_f = n as f64;
        let mut chart = ChartBuilder::on(&body)
            .margin(MARGIN)
            .margin_right(MARGIN_RIGHT)
            .x_label_area_size(x_label_area)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(-0.5..n_f - 0.5, 0.0..y_max)?;
        let y_fmt = |y: &f64| fmt_axis_count(*y, y_max);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(8)
            .y_label_formatter(&y_fmt)
            .x_desc("egress IP")
            .y_desc("requests")
            .label_style(text_style(TICK_SIZE, INK))
            .axis_desc_style(text_style(AXIS_DESC_SIZE, INK))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(RGBColor(120, 120, 120).stroke_width(1))
            .draw()?;

        let half = BAR_FILL / 2.0;
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new(
                [(x - half, 0.0), (x + half, b.requests as f64)],
                b.color.filled(),
            )
        }))?;

        for (i, b) in self.bars.iter().enumerate() {
            let x = i as f64;
            let (cx, top) = chart.backend_coord(&(x, b.requests as f64));
            let (_, base) = chart.backend_coord(&(x, 0.0));
            if vertical_values {
                let text = b.vertical();
                let style = value_style
                    .clone()
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Left, VPos::Center));
                root.draw_text(&text, &style, (cx, top - 8))?;
            } else {
                let style = value_style.pos(Pos::new(HPos::Center, VPos::Bottom));
                root.draw_text(&b.value, &style, (cx, top - 28))?;
                let style = users_style.pos(Pos::new(HPos::Center, VPos::Bottom));
                root.draw_text(&b.users, &style, (cx, top - 6))?;
            }
            if vertical_ticks {
                let style = tick_style
                    .clone()
                    .transform(FontTransform::Rotate270)
                    .pos(Pos::new(HPos::Right, VPos::Center));
                root.draw_text(&b.id, &style, (cx, base + 10))?;
            } else {
                let style = tick_style.pos(Pos::new(HPos::Center, VPos::Top));
                root.draw_text(&b.id, &style, (cx, base + 10))?;
            }
        }

        if self.bars.is_empty() {
            let plot = chart.plotting_area().get_pixel_range();
            draw_note(root, &plot, "no data")?;
        }
        Ok(())
    }
}

/// Tick label for a request count: thousands separators, or millions once the axis reaches
/// ten million so the labels stay short.
fn fmt_axis_count(y: f64, y_max: f64) -> String {
    if y == 0.0 {
        "0".to_string()
    } else if y_max >= 1e7 {
        format!("{:.0}M", y / 1e6)
    } else if y_max >= 1e6 {
        format!("{:.1}M", y / 1e6)
    } else if y >= 0.0 && y.fract().abs() < 1e-9 {
        count(y as u64)
    } else {
        format!("{y:.1}")
    }
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn to_u32(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_counts_stay_short() {
        assert_eq!(fmt_axis_count(250_000.0, 400_000.0), "250,000");
        assert_eq!(fmt_axis_count(1_500_000.0, 2_000_000.0), "1.5M");
        assert_eq!(fmt_axis_count(20_000_000.0, 30_000_000.0), "20M");
        assert_eq!(fmt_axis_count(0.5, 1.0), "0.5");
        assert_eq!(fmt_axis_count(0.0, 2_000_000.0), "0");
    }
}
