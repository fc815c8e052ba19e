//! The plan charts: `plan_curve` (the objective against the number of proposed sites, with the
//! robust variant and the no-failure line when the plan was judged by failures) and `plan_map`
//! (the user map of the final plan world, proposed sites marked as new).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    baseline_set, draw_note, house_style, map, palette, text_style, write_both, Area, ChartError,
    Corner, DrawResult, Frame, Legend, LegendEntry, Swatch, Title, INK,
};
use crate::analysis::plan::{CurveLine, PlanResults};
use crate::analysis::Results;
use crate::report::Destination;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 700;
const MARGIN: u32 = 16;
const LINE_WIDTH: u32 = 3;

/// The objective against the number of proposed sites.
pub(super) struct CurveChart {
    frame: Frame,
    lines: Vec<CurveLine>,
    unit: &'static str,
    y_desc: String,
    legend: Legend,
}

impl CurveChart {
    pub(super) fn new(scenario: &str, p: &PlanResults) -> Self {
        let lines: Vec<CurveLine> = p
            .curve_lines()
            .into_iter()
            .map(|mut l| {
                l.points.retain(|(_, v)| v.is_finite());
                l
            })
            .collect();
        let legend = Legend {
            heading: None,
            entries: lines
                .iter()
                .enumerate()
                .map(|(i, l)| LegendEntry {
                    swatch: Swatch::Line(palette(i)),
                    text: l.name.clone(),
                })
                .collect(),
        };
        let unit = p.setup.objective.single().map_or("", |m| m.unit());
        let subtitle = format!(
            "{} · {} candidates · {} plans evaluated",
            if p.setup.from_scratch {
                "from scratch".to_string()
            } else {
                format!("{} kept egress IPs", p.kept.len())
            },
            p.setup.candidates,
            p.evaluations
        );
        Self {
            frame: Frame {
                stem: "plan_curve",
                size: (WIDTH, HEIGHT),
                title: Title::new(
                    scenario,
                    format!(": {} against proposed sites", p.setup.objective.label()),
                ),
                subtitle,
            },
            lines,
            unit,
            y_desc: p.setup.objective.label(),
            legend,
        }
    }

    /// The y range: every point with a little air, never degenerate.
    fn y_range(&self) -> Option<(f64, f64)> {
        let vals = self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() {
            return None;
        }
        let pad = ((hi - lo) * 0.12).max(hi.abs() * 0.01).max(1e-6);
        Some(((lo - pad).max(0.0), hi + pad))
    }

    fn y_label(&self, v: f64) -> String {
        match self.unit {
            "ms" => format!("{v:.0} ms"),
            "share" => format!("{:.1}%", v * 100.0),
            _ => format!("{v:.1}"),
        }
    }
}

impl super::Chart for CurveChart {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, body: &Area<DB>) -> DrawResult<DB> {
        let k_max = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.0))
            .max()
            .unwrap_or(0)
            .max(1);
        let Some((y0, y1)) = self.y_range() else {
            let area: &DrawingArea<DB, Shift> = body;
            let (w, h) = area.dim_in_pixel();
            let (w, h) = (i32::try_from(w).unwrap_or(0), i32::try_from(h).unwrap_or(0));
            return draw_note(area, &(0..w, 0..h), "no finite objective to draw");
        };
        let x = -0.3..(k_max as f64 + 0.3);
        let mut chart = ChartBuilder::on(body)
            .margin(MARGIN)
            .margin_right(36)
            .x_label_area_size(56)
            .y_label_area_size(90)
            .build_cartesian_2d(x, y0..y1)?;
        let y_fmt = |v: &f64| self.y_label(*v);
        let x_fmt = |v: &f64| {
            let r = v.round();
            if (v - r).abs() < 1e-9 && r >= 0.0 {
                format!("{r:.0}")
            } else {
                String::new()
            }
        };
        house_style(&mut chart.configure_mesh())
            .x_desc("proposed sites")
            .y_desc(self.y_desc.as_str())
            .x_labels(k_max + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .draw()?;
        let label_style = text_style(16.0, INK).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, l) in self.lines.iter().enumerate() {
            let color = palette(i);
            let pts: Vec<(f64, f64)> = l.points.iter().map(|&(k, v)| (k as f64, v)).collect();
            if i == 0 {
                chart.draw_series(LineSeries::new(pts.clone(), color.stroke_width(LINE_WIDTH)))?;
            } else {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    pts.clone(),
                    8,
                    6,
                    color.stroke_width(LINE_WIDTH),
                )))?;
            }
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))?;
            if i == 0 {
                for (&(k, v), label) in l.points.iter().zip(&l.labels) {
                    let (px, py) = chart.backend_coord(&(k as f64, v));
                    root.draw_text(label, &label_style, (px, py - 10))?;
                }
            }
        }
        let plot = chart.plotting_area().get_pixel_range();
        let size = self.legend.size(root)?;
        let obstacles: Vec<(i32, i32)> = self
            .lines
            .iter()
            .flat_map(|l| {
                l.points
                    .iter()
                    .map(|&(k, v)| chart.backend_coord(&(k as f64, v)))
            })
            .collect();
        let corners = [
            Corner::UpperRight,
            Corner::LowerLeft,
            Corner::UpperLeft,
            Corner::LowerRight,
        ];
        let (rect, _) = Legend::place(size, &plot, &corners, &obstacles);
        self.legend.draw(root, rect)
    }
}

/// The plan's map: the final plan world's users by egress IP, proposed sites marked.
fn plan_map<'a>(
    r: &'a Results,
    p: &PlanResults,
    points: &'a [super::MapPoint],
) -> map::MapChart<'a> {
    let proposed: Vec<String> = p.chosen.iter().map(|c| c.id.clone()).collect();
    map::MapChart::new(&baseline_set(r, points)).for_plan(&r.world.name, &proposed)
}

/// Writes `plan_curve` and `plan_map` (PNG and SVG) when `r` comes from a plan.
pub(super) fn write(r: &Results, to: &mut Destination) -> Result<(), ChartError> {
    let Some(p) = &r.plan else {
        return Ok(());
    };
    write_both(to, &CurveChart::new(&r.world.name, p))?;
    write_both(to, &plan_map(r, p, &r.charts.points))
}

/// The report's plan charts as SVG text (curve, map), when `r` comes from a plan.
pub(super) fn svgs(r: &Results) -> Result<Option<(String, String)>, ChartError> {
    let Some(p) = &r.plan else {
        return Ok(None);
    };
    let curve = super::svg_string(&CurveChart::new(&r.world.name, p))?;
    let map = super::svg_string(&plan_map(r, p, &r.charts.report_points))?;
    Ok(Some((curve, map)))
}
