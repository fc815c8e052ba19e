//! The RTT CDF chart: one line per population, x cut at the slowest population's 99.5th
//! percentile so that one long tail does not squash every curve into the left edge.

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    draw_note, house_style, ms_label, palette, text_style, ChartSet, Corner, DrawResult, Legend,
    LegendEntry, PxRect, Swatch, Title, INK_MUTED,
};
use super::{Area, Frame};

/// Canvas size of the RTT CDF charts (this one and the failover CDF).
pub(super) const WIDTH: u32 = 1200;
pub(super) const HEIGHT: u32 = 750;
const MARGIN: u32 = 16;
const LINE_WIDTH: u32 = 3;
/// Share of requests kept on the x axis for the slowest line.
const CUT_QUANTILE: f64 = 0.995;
/// Reference levels drawn as dashed lines, labelled at the right end.
const REFERENCES: [(f64, &str); 2] = [(0.5, "median"), (0.95, "p95")];

/// The chart type the CDFs draw on.
pub(super) type CdfContext<'b, DB> =
    ChartContext<'b, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A reference level with its label's anchor in pixels.
pub(super) type Reference = (f64, &'static str, (i32, i32));

/// Where the x axis of an RTT CDF chart ends: a little right of the slowest line's 99.5th
/// percentile, so one long tail does not squash every curve into the left edge.
pub(super) struct XCut {
    /// The slowest line's 99.5th percentile (or its end).
    pub cut: f64,
    /// The slowest RTT of any line.
    pub data_max: f64,
    /// The end of the x axis (at least 1 ms: a degenerate range would leave it without ticks).
    pub hi: f64,
}

impl XCut {
    /// The cut for `lines` (cleaned CDFs).
    pub(super) fn of(lines: &[&Vec<(f64, f64)>]) -> Self {
        let cut = lines
            .iter()
            .filter_map(|c| quantile(c, CUT_QUANTILE).or_else(|| c.last().map(|p| p.0)))
            .fold(f64::NEG_INFINITY, f64::max);
        let data_max = lines
            .iter()
            .filter_map(|c| c.last().map(|p| p.0))
            .fold(f64::NEG_INFINITY, f64::max);
        // A little air right of the cut so the end of the slowest curve is not on the frame.
        let hi = if cut.is_finite() && cut > 0.0 {
            cut * 1.03
        } else if data_max.is_finite() && data_max > 0.0 {
            data_max * 1.03
        } else {
            100.0
        }
        .max(1.0);
        Self { cut, data_max, hi }
    }

    /// Whether some requests are slower than the axis shows.
    pub(super) fn clipped(&self) -> bool {
        self.data_max > self.hi
    }
}

/// Builds a CDF chart over `x` (nothing drawn yet), leaving `extra_bottom` pixels under it.
pub(super) fn build<'b, DB: DrawingBackend>(
    body: &'b DrawingArea<DB, Shift>,
    x: Range<f64>,
    extra_bottom: u32,
) -> Result<CdfContext<'b, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    ChartBuilder::on(body)
        .margin(MARGIN)
        .margin_right(36)
        .margin_bottom(MARGIN + extra_bottom)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(x, 0.0..1.01)
}

/// Where the reference labels go: at the right end `right` of the x axis, just under their dashed
/// line, where the curves have usually flattened out above them; none without data.
pub(super) fn reference_anchors<DB: DrawingBackend>(
    chart: &CdfContext<'_, DB>,
    right: f64,
    has_data: bool,
) -> Vec<Reference> {
    if !has_data {
        return Vec::new();
    }
    REFERENCES
        .iter()
        .map(|&(level, name)| {
            let (x, y) = chart.backend_coord(&(right, level));
            (level, name, (x - 6, y + 4))
        })
        .collect()
}

/// What a legend should not cover: the lines (every few pixels along them) and the reference
/// labels.
pub(super) fn obstacles(lines: &[Vec<(i32, i32)>], references: &[Reference]) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = lines.iter().flat_map(|px| densify(px, 4)).collect();
    for (_, _, (x, y)) in references {
        out.extend((0..60).map(|dx| (x - dx, y + 6)));
    }
    out
}

/// Where a CDF legend goes.
pub(super) enum LegendSpot {
    /// In the plot corner that hides the least.
    Inside(PxRect),
    /// Below the chart, which needs this many pixels more room at the bottom.
    Below(u32),
}

/// The legend of `size` in the emptiest corner of `plot`; below the chart when every corner would
/// hide a line and the legend is small enough.
pub(super) fn legend_spot(
    size: (i32, i32),
    plot: &(Range<i32>, Range<i32>),
    obstacles: &[(i32, i32)],
) -> LegendSpot {
    let corners = [
        Corner::LowerRight,
        Corner::UpperLeft,
        Corner::UpperRight,
        Corner::LowerLeft,
    ];
    let (inside, hits) = Legend::place(size, plot, &corners, obstacles);
    let below_h = u32::try_from(size.1).unwrap_or(u32::MAX).saturating_add(8);
    if hits > 0 && below_h < HEIGHT / 3 {
        LegendSpot::Below(below_h)
    } else {
        LegendSpot::Inside(inside)
    }
}

/// The legend box under `chart` (built with room for it), centred on the plot.
pub(super) fn below<DB: DrawingBackend>(chart: &CdfContext<'_, DB>, size: (i32, i32)) -> PxRect {
    let plot = chart.plotting_area().get_pixel_range();
    let x0 = ((plot.0.start + plot.0.end) / 2 - size.0 / 2).max(MARGIN as i32);
    let y0 = HEIGHT as i32 - MARGIN as i32 - size.1;
    PxRect::new(x0, y0, size.0, size.1)
}

/// The reference levels as thin dashed lines across `x`.
pub(super) fn draw_reference_lines<DB: DrawingBackend>(
    chart: &mut CdfContext<'_, DB>,
    references: &[Reference],
    x: &Range<f64>,
    color: RGBColor,
) -> DrawResult<DB> {
    for &(level, _, _) in references {
        chart.draw_series(std::iter::once(DashedPathElement::new(
            vec![(x.start, level), (x.end, level)],
            6,
            5,
            color.stroke_width(1),
        )))?;
    }
    Ok(())
}

/// The reference labels, on a light box, after the lines, so a curve crossing one cannot hide it.
pub(super) fn draw_reference_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    references: &[Reference],
) -> DrawResult<DB> {
    let ref_style = text_style(16.0, INK_MUTED).pos(Pos::new(HPos::Right, VPos::Top));
    for &(_, name, (x, y)) in references {
        let (w, h) = root.estimate_text_size(name, &ref_style)?;
        let (w, h) = (i32::try_from(w).unwrap_or(0), i32::try_from(h).unwrap_or(0));
        root.draw(&Rectangle::new(
            [(x - w - 3, y - 1), (x + 3, y + h + 1)],
            WHITE.mix(0.8).filled(),
        ))?;
        root.draw_text(name, &ref_style, (x, y))?;
    }
    Ok(())
}

/// The CDF chart with its lines already cleaned and cut to the x range.
pub(super) struct CdfChart {
    frame: Frame,
    x_max: f64,
    lines: Vec<(Vec<(f64, f64)>, RGBColor)>,
    legend: Legend,
    has_data: bool,
}

impl CdfChart {
    /// Cleans the series, finds the x cut and builds the legend.
    pub(super) fn new(set: &ChartSet) -> Self {
        let cleaned: Vec<Vec<(f64, f64)>> = set.cdfs.iter().map(|s| clean(&s.points)).collect();
        let has_data = cleaned.iter().any(|c| !c.is_empty());
        let x = XCut::of(&cleaned.iter().collect::<Vec<_>>());
        let lines = cleaned
            .iter()
            .enumerate()
            .map(|(i, c)| (cut_at(c, x.hi), palette(i)))
            .collect();
        let entries = set
            .cdfs
            .iter()
            .zip(&cleaned)
            .enumerate()
            .map(|(i, (s, _))| LegendEntry {
                swatch: Swatch::Line(palette(i)),
                text: format!("{}: {}", s.name, s.stats.legend()),
            })
            .collect();
        let mut legend = Legend {
            heading: None,
            entries,
        };
        legend.truncate_to_height(520);
        let subtitle = if !has_data {
            String::new()
        } else if x.clipped() {
            format!(
                "x axis cut at {}, the 99.5th percentile of the slowest population; slower requests are off the chart",
                ms_label(x.cut)
            )
        } else {
            "all requests shown".to_string()
        };
        Self {
            frame: Frame {
                stem: "latency_cdf",
                size: (WIDTH, HEIGHT),
                title: Title::new(
                    set.scenario,
                    format!(": request RTT CDF by population ({})", set.case),
                ),
                subtitle,
            },
            x_max: x.hi,
            lines,
            legend,
            has_data,
        }
    }

    /// Each line in pixels, thinned: sub-pixel steps of a dense CDF turn into spikes at the
    /// joins of a thick line, and a vertex every few pixels keeps it smooth and small.
    fn line_pixels<DB: DrawingBackend>(&self, chart: &CdfContext<'_, DB>) -> Vec<Vec<(i32, i32)>> {
        self.lines
            .iter()
            .map(|(line, _)| {
                let px: Vec<(i32, i32)> = line.iter().map(|p| chart.backend_coord(p)).collect();
                thin_out(&px, 3)
            })
            .collect()
    }
}

impl super::Chart for CdfChart {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, body: &Area<DB>) -> DrawResult<DB> {
        let x = 0.0..self.x_max;
        let mut chart = build(body, x.clone(), 0)?;
        let mut legend_rect = None;
        if !self.legend.entries.is_empty() {
            let size = self.legend.size(root)?;
            let references = reference_anchors(&chart, self.x_max, self.has_data);
            let obstacles = obstacles(&self.line_pixels(&chart), &references);
            let plot = chart.plotting_area().get_pixel_range();
            legend_rect = Some(match legend_spot(size, &plot, &obstacles) {
                LegendSpot::Inside(rect) => rect,
                LegendSpot::Below(extra) => {
                    chart = build(body, x.clone(), extra)?;
                    below(&chart, size)
                }
            });
        }
        let x_fmt = |v: &f64| {
            if self.x_max < 10.0 {
                format!("{v:.1}")
            } else {
                format!("{v:.0}")
            }
        };
        house_style(&mut chart.configure_mesh())
            .x_desc("round-trip time (ms)")
            .y_desc("share of requests")
            .x_labels(12)
            .y_labels(11)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y: &f64| format!("{y:.1}"))
            .draw()?;
        let references = reference_anchors(&chart, self.x_max, self.has_data);
        draw_reference_lines(&mut chart, &references, &x, RGBColor(150, 150, 150))?;
        for (px, (_, color)) in self.line_pixels(&chart).into_iter().zip(&self.lines) {
            match px.as_slice() {
                [] => {}
                // A lone point would draw nothing as a line; show it as a dot instead.
                [p] => root.draw(&Circle::new(*p, 4, color.filled()))?,
                _ => root.draw(&PathElement::new(px, color.stroke_width(LINE_WIDTH)))?,
            }
        }
        draw_reference_labels(root, &references)?;
        if !self.has_data {
            draw_note(root, &chart.plotting_area().get_pixel_range(), "no data")?;
        }
        if let Some(rect) = legend_rect {
            self.legend.draw(root, rect)?;
        }
        Ok(())
    }
}

/// Keeps finite points, clamps shares to 0..1, sorts by RTT and makes the shares
/// non-decreasing, so slightly malformed input still draws as a CDF.
pub(super) fn clean(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .map(|&(x, y)| (x, y.clamp(0.0, 1.0)))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut running = 0.0f64;
    for p in &mut out {
        running = running.max(p.1);
        p.1 = running;
    }
    out
}

/// RTT at which the share first reaches `q`, interpolated linearly; `None` if it never does.
pub(super) fn quantile(cdf: &[(f64, f64)], q: f64) -> Option<f64> {
    let i = cdf.iter().position(|p| p.1 >= q)?;
    if i == 0 {
        return cdf.first().map(|p| p.0);
    }
    let (a, b) = (cdf[i - 1], cdf[i]);
    if b.1 > a.1 {
        Some(a.0 + (q - a.1) / (b.1 - a.1) * (b.0 - a.0))
    } else {
        Some(b.0)
    }
}

/// The part of the line with RTT at most `x_max`, ending exactly at `x_max` when it goes on.
pub(super) fn cut_at(cdf: &[(f64, f64)], x_max: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(cdf.len());
    for &p in cdf {
        if p.0 <= x_max {
            out.push(p);
            continue;
        }
        if let Some(&a) = out.last() {
            let a: (f64, f64) = a;
            let t = (x_max - a.0) / (p.0 - a.0);
            out.push((x_max, a.1 + t * (p.1 - a.1)));
        }
        break;
    }
    out
}

/// Drops vertices closer than `min_dist` pixels (Chebyshev) to the last kept one; keeps the
/// last vertex so the curve still ends where the data does.
pub(super) fn thin_out(px: &[(i32, i32)], min_dist: i32) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(px.len());
    for (i, &p) in px.iter().enumerate() {
        let far = out
            .last()
            .is_none_or(|q| (p.0 - q.0).abs().max((p.1 - q.1).abs()) >= min_dist);
        if far || i + 1 == px.len() {
            if i + 1 == px.len() && !far && out.len() > 1 {
                out.pop();
            }
            out.push(p);
        }
    }
    out
}

/// Pixel positions every `step` pixels along the polyline, so the legend placement sees the
/// long straight segments between sparse points too.
pub(super) fn densify(px: &[(i32, i32)], step: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for w in px.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).abs().max((b.1 - a.1).abs());
        let n = (len / step.max(1)).max(1);
        out.extend((0..n).map(|k| (a.0 + (b.0 - a.0) * k / n, a.1 + (b.1 - a.1) * k / n)));
    }
    out.extend(px.last());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let cdf = [(10.0, 0.0), (20.0, 0.5), (30.0, 1.0)];
        assert_eq!(quantile(&cdf, 0.5), Some(20.0));
        assert_eq!(quantile(&cdf, 0.75), Some(25.0));
        assert_eq!(quantile(&cdf, 0.0), Some(10.0));
        assert_eq!(quantile(&[(1.0, 0.5)], 0.9), None);
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn line_cut_ends_at_the_limit() {
        let cdf = [(10.0, 0.0), (20.0, 0.5), (30.0, 1.0)];
        assert_eq!(
            cut_at(&cdf, 25.0),
            vec![(10.0, 0.0), (20.0, 0.5), (25.0, 0.75)]
        );
        assert_eq!(cut_at(&cdf, 5.0), Vec::<(f64, f64)>::new());
    }

    #[test]
    fn cleaning_sorts_clamps_and_drops_junk() {
        let out = clean(&[(3.0, 2.0), (f64::NAN, 0.1), (1.0, 0.4), (2.0, 0.2)]);
        assert_eq!(out, vec![(1.0, 0.4), (2.0, 0.4), (3.0, 1.0)]);
    }
}
