//! The failover CDF chart: the RTT CDF of the baseline (thick, dark) overlaid with the CDFs of
//! the most harmful failure cases, so the shift each failure causes is visible at a glance.
//!
//! The x axis is logarithmic when RTTs span more than a factor of [`LOG_SPREAD`] (a failover to
//! another continent would otherwise squash the baseline into the left edge), linear otherwise,
//! and cut at the slowest line's 99.5th percentile as in the population CDF chart.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::cdf::{
    below, build, clean, cut_at, draw_reference_labels, draw_reference_lines, legend_spot,
    obstacles, quantile, reference_anchors, thin_out, CdfContext, LegendSpot, XCut, HEIGHT, WIDTH,
};
use super::{
    count, draw_legend_box, draw_panel, house_style, ms_label, text_style, Corner, DrawResult,
    FailoverSet, Legend, LegendEntry, PxRect, Swatch, Title, GRID, INK, INK_MUTED, LEGEND_PAD,
    LEGEND_ROW, LEGEND_SIZE, LEGEND_SWATCH_W, TICK_SIZE,
};
use super::{Area, Frame};
use crate::analysis::charts::CdfStats;

/// Ratio of the x range (slowest cut over fastest 1st percentile) from which the x axis is
/// logarithmic.
const LOG_SPREAD: f64 = 20.0;
/// Longest legend text, in characters, before it is shortened with an ellipsis.
const MAX_LEGEND_CHARS: usize = 72;
/// Longest case name in the legend; longer ones lose their middle, so the stats stay visible.
const MAX_NAME_CHARS: usize = 30;

/// The baseline line: thick and nearly black, so it reads as the reference.
const BASELINE_LOOK: Look = Look {
    color: RGBColor(25, 25, 25),
    width: 5,
    dash: None,
};

/// Case lines: Okabe-Ito colours (safe for the common colour-vision deficiencies), each with its
/// own dash pattern so they stay apart in greyscale print too.
const CASE_LOOKS: [Look; 5] = [
    Look {
        color: RGBColor(213, 94, 0),
        width: 3,
        dash: None,
    },
    Look {
        color: RGBColor(0, 114, 178),
        width: 3,
        dash: Some((14, 6)),
    },
    Look {
        color: RGBColor(0, 158, 115),
        width: 3,
        dash: Some((5, 5)),
    },
    Look {
        color: RGBColor(230, 159, 0),
        width: 3,
        dash: Some((22, 6)),
    },
    Look {
        color: RGBColor(204, 121, 167),
        width: 3,
        dash: Some((9, 9)),
    },
];

/// How one line is stroked.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Look {
    color: RGBColor,
    width: u32,
    /// `(dash, gap)` in pixels; `None` for a solid line.
    dash: Option<(u32, u32)>,
}

/// Maps RTT (ms) to the chart's x coordinate: the RTT itself, or its base-10 logarithm.
#[derive(Debug, Clone, Copy, PartialEq)]
struct XScale {
    log: bool,
    /// Smallest RTT shown (ms); 0 on a linear axis.
    lo: f64,
    /// Largest RTT shown (ms).
    hi: f64,
}

impl XScale {
    /// Logarithmic up to `hi` when the lines span more than [`LOG_SPREAD`] (from the fastest
    /// line's 1st percentile, ignoring zero RTTs a log axis cannot show), else linear from 0.
    fn fit(lines: &[&Vec<(f64, f64)>], hi: f64) -> Self {
        let fast = lines
            .iter()
            .filter_map(|c| {
                let positive: Vec<(f64, f64)> = c.iter().copied().filter(|p| p.0 > 0.0).collect();
                quantile(&positive, 0.01)
            })
            .fold(f64::INFINITY, f64::min);
        if fast.is_finite() && fast > 0.0 && hi / fast >= LOG_SPREAD {
            XScale {
                log: true,
                lo: nice_floor(fast * 0.9).max(0.1),
                hi,
            }
        } else {
            XScale {
                log: false,
                lo: 0.0,
                hi,
            }
        }
    }

    fn coord(&self, ms: f64) -> f64 {
        if self.log {
            ms.max(self.lo).log10()
        } else {
            ms
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.coord(self.lo)..self.coord(self.hi)
    }

    /// Tick values (ms) of a log axis: 1-2-5 steps, thinned to 1-3 or powers of ten when that
    /// would give too many labels.
    fn log_ticks(&self) -> Vec<f64> {
        let (lo, hi) = (self.lo, self.hi);
        let first = lo.log10().floor() as i32;
        let last = hi.log10().ceil() as i32;
        let mut chosen = Vec::new();
        for mantissas in [&[1.0, 2.0, 5.0][..], &[1.0, 3.0][..], &[1.0][..]] {
            chosen = (first..=last)
                .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
                .filter(|&v| v >= lo * 0.999 && v <= hi * 1.001)
                .collect();
            if chosen.len() <= 12 {
                break;
            }
        }
        chosen
    }
}

/// One line, cleaned and cut to the x range, in milliseconds and shares.
struct Line {
    points: Vec<(f64, f64)>,
    look: Look,
}

/// The failover CDF chart with its lines already cleaned and cut to the x range.
pub(super) struct FailoverCdfChart {
    frame: Frame,
    scale: XScale,
    /// Baseline first, then the cases in the given order.
    lines: Vec<Line>,
    /// Legend rows, in the order of `lines`.
    legend: Vec<(Look, String)>,
    has_cases: bool,
    has_data: bool,
}

impl FailoverCdfChart {
    /// Cleans the series, picks the x scale and builds the legend texts.
    pub(super) fn new(set: &FailoverSet) -> Self {
        let base = clean(&set.baseline_cdf.points);
        let cases: Vec<Vec<(f64, f64)>> = set.case_cdfs.iter().map(|s| clean(&s.points)).collect();
        let all: Vec<&Vec<(f64, f64)>> = std::iter::once(&base).chain(&cases).collect();
        let has_data = all.iter().any(|c| !c.is_empty());

        let x = XCut::of(&all);
        let hi = x.hi;
        let scale = XScale::fit(&all, hi);

        let mut lines = vec![Line {
            points: cut_at(&base, hi),
            look: BASELINE_LOOK,
        }];
        let mut legend = vec![(
            BASELINE_LOOK,
            shorten(
                &format!(
                    "{}: {}",
                    set.baseline_cdf.name,
                    stats(&set.baseline_cdf.stats, &base)
                ),
                MAX_LEGEND_CHARS,
            ),
        )];
        for (i, (series, c)) in set.case_cdfs.iter().zip(&cases).enumerate() {
            let look = CASE_LOOKS[i % CASE_LOOKS.len()];
            lines.push(Line {
                points: cut_at(c, hi),
                look,
            });
            legend.push((
                look,
                shorten(
                    &format!(
                        "{}: {}",
                        shorten_middle(&series.name, MAX_NAME_CHARS),
                        stats(&series.stats, c)
                    ),
                    MAX_LEGEND_CHARS,
                ),
            ));
        }

        let mut subtitle = format!("scenario {}", shorten(set.scenario, 60));
        if cases.is_empty() {
            subtitle.push_str(" · no failure cases in this run");
        } else {
            subtitle.push_str(&format!(
                " · the {} most harmful failure case{}",
                cases.len(),
                if cases.len() == 1 { "" } else { "s" }
            ));
        }
        if has_data && x.clipped() {
            subtitle.push_str(&format!(
                " · x axis cut at {} (99.5th percentile of the slowest line)",
                ms_label(x.cut)
            ));
        }
        Self {
            frame: Frame {
                stem: "failover_cdf",
                size: (WIDTH, HEIGHT),
                title: Title::new(
                    "",
                    "RTT distribution: baseline vs worst failure cases".to_string(),
                ),
                subtitle,
            },
            scale,
            lines,
            legend,
            has_cases: !cases.is_empty(),
            has_data,
        }
    }

    /// Each line in pixels, thinned to a vertex every few pixels (see the population CDF).
    fn line_pixels<DB: DrawingBackend>(&self, chart: &CdfContext<'_, DB>) -> Vec<Vec<(i32, i32)>> {
        self.lines
            .iter()
            .map(|line| {
                let px: Vec<(i32, i32)> = line
                    .points
                    .iter()
                    .map(|&(x, y)| chart.backend_coord(&(self.scale.coord(x), y)))
                    .collect();
                thin_out(&px, 3)
            })
            .collect()
    }

    /// The legend box size (same rows as [`Legend`], so its sizing and placement apply).
    fn legend_box<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>> {
        Legend {
            heading: None,
            entries: self
                .legend
                .iter()
                .map(|(look, text)| LegendEntry {
                    swatch: Swatch::Line(look.color),
                    text: text.clone(),
                })
                .collect(),
        }
        .size(root)
    }

    /// Draws the legend box with each row's real stroke (width and dashes).
    fn draw_legend<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        rect: PxRect,
    ) -> DrawResult<DB> {
        draw_legend_box(root, rect)?;
        let left = rect.x0 + LEGEND_PAD;
        let mut y = rect.y0 + LEGEND_PAD + LEGEND_ROW / 2 - 3;
        let style = text_style(LEGEND_SIZE, INK).pos(Pos::new(HPos::Left, VPos::Center));
        for (look, text) in &self.legend {
            stroke(
                root,
                vec![(left, y), (left + LEGEND_SWATCH_W - 4, y)],
                *look,
            )?;
            root.draw_text(text, &style, (left + LEGEND_SWATCH_W + 4, y))?;
            y += LEGEND_ROW;
        }
        Ok(())
    }
}

impl super::Chart for FailoverCdfChart {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, body: &Area<DB>) -> DrawResult<DB> {
        let range = self.scale.range();
        // Legend in the emptiest corner; below the chart when every corner would hide a line.
        let size = self.legend_box(root)?;
        let mut chart = build(body, range.clone(), 0)?;
        let references = reference_anchors(&chart, range.end, self.has_data);
        let mut obstacles = obstacles(&self.line_pixels(&chart), &references);
        let plot = chart.plotting_area().get_pixel_range();
        let legend_rect = match legend_spot(size, &plot, &obstacles) {
            LegendSpot::Inside(rect) => rect,
            LegendSpot::Below(extra) => {
                chart = build(body, range.clone(), extra)?;
                // The lines moved with the smaller plot: recompute what the note must avoid.
                obstacles = super::cdf::obstacles(&self.line_pixels(&chart), &[]);
                below(&chart, size)
            }
        };
        self.draw_axes(root, &mut chart)?;
        let references = reference_anchors(&chart, range.end, self.has_data);
        draw_reference_lines(&mut chart, &references, &range, RGBColor(160, 160, 160))?;
        // Cases first, baseline last: the reference line stays on top where they coincide.
        let pixels = self.line_pixels(&chart);
        for (px, line) in pixels.iter().zip(&self.lines).skip(1) {
            draw_line(root, px, line.look)?;
        }
        if let (Some(px), Some(line)) = (pixels.first(), self.lines.first()) {
            draw_line(root, px, line.look)?;
        }
        draw_reference_labels(root, &references)?;
        self.draw_legend(root, legend_rect)?;
        if !self.has_cases || !self.has_data {
            let note = if self.has_data {
                "no failure cases"
            } else {
                "no data"
            };
            let plot = chart.plotting_area().get_pixel_range();
            // Keep the note off the lines and the legend: the legend box counts as obstacle.
            for x in (legend_rect.x0..=legend_rect.x1).step_by(4) {
                for y in (legend_rect.y0..=legend_rect.y1).step_by(4) {
                    obstacles.push((x, y));
                }
            }
            draw_note_avoiding(root, &plot, note, &obstacles)?;
        }
        Ok(())
    }
}

impl FailoverCdfChart {
    /// Axes and grid; a log x axis gets its own ticks.
    fn draw_axes<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &mut CdfContext<'_, DB>,
    ) -> DrawResult<DB> {
        let x_fmt = |x: &f64| {
            if self.scale.hi < 10.0 {
                format!("{x:.1}")
            } else {
                count(x.max(0.0).round() as u64)
            }
        };
        let x_desc = if self.scale.log {
            "round-trip time (ms, log scale)"
        } else {
            "round-trip time (ms)"
        };
        house_style(&mut chart.configure_mesh())
            .x_desc(x_desc)
            .y_desc("share of requests (%)")
            .x_labels(if self.scale.log { 0 } else { 12 })
            .y_labels(11)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y: &f64| format!("{:.0}", y * 100.0))
            .draw()?;
        if self.scale.log {
            self.draw_log_ticks(root, chart)?;
        }
        Ok(())
    }
}

impl FailoverCdfChart {
    /// Grid lines, tick marks and labels of a log x axis (plotters' own log ticks are sparse).
    fn draw_log_ticks<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &CdfContext<'_, DB>,
    ) -> DrawResult<DB> {
        let plot = chart.plotting_area().get_pixel_range();
        let style = text_style(TICK_SIZE, INK).pos(Pos::new(HPos::Center, VPos::Top));
        for ms in self.scale.log_ticks() {
            let (x, _) = chart.backend_coord(&(self.scale.coord(ms), 0.0));
            root.draw(&PathElement::new(
                vec![(x, plot.1.start), (x, plot.1.end)],
                GRID.stroke_width(1),
            ))?;
            root.draw(&PathElement::new(
                vec![(x, plot.1.end), (x, plot.1.end + 5)],
                RGBColor(120, 120, 120).stroke_width(1),
            ))?;
            root.draw_text(&fmt_tick(ms), &style, (x, plot.1.end + 9))?;
        }
        Ok(())
    }
}

/// Strokes `px` with `look`; a lone point becomes a dot.
fn draw_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    px: &[(i32, i32)],
    look: Look,
) -> DrawResult<DB> {
    match px {
        [] => Ok(()),
        [p] => root.draw(&Circle::new(*p, look.width + 1, look.color.filled())),
        _ => stroke(root, px.to_vec(), look),
    }
}

/// Strokes a pixel polyline solid or dashed.
fn stroke<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    px: Vec<(i32, i32)>,
    look: Look,
) -> DrawResult<DB> {
    let style = look.color.stroke_width(look.width);
    match look.dash {
        None => root.draw(&PathElement::new(px, style)),
        Some((dash, gap)) => root.draw(&DashedPathElement::new(px, dash, gap, style)),
    }
}

/// A note on a white box in the plot corner that covers the fewest `obstacles`.
fn draw_note_avoiding<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &(std::ops::Range<i32>, std::ops::Range<i32>),
    note: &str,
    obstacles: &[(i32, i32)],
) -> DrawResult<DB> {
    let style = text_style(22.0, INK_MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    let (w, h) = root.estimate_text_size(note, &style)?;
    let (w, h) = (
        i32::try_from(w).unwrap_or(0) + 28,
        i32::try_from(h).unwrap_or(0) + 20,
    );
    let corners = [
        Corner::UpperLeft,
        Corner::LowerRight,
        Corner::UpperRight,
        Corner::LowerLeft,
    ];
    // Inset from the corner a little more than a legend, so the note reads as a message.
    let inner = (
        plot.0.start + 40..plot.0.end - 40,
        plot.1.start + 30..plot.1.end - 30,
    );
    let (rect, _) = Legend::place((w, h), &inner, &corners, obstacles);
    draw_panel(root, rect, 0.9, RGBColor(200, 200, 200))?;
    root.draw_text(
        note,
        &style,
        ((rect.x0 + rect.x1) / 2, (rect.y0 + rect.y1) / 2),
    )
}

/// Legend statistics of one line: median and p95, and the p95 change against the baseline, as
/// the tables have them; a line that reaches neither says so.
fn stats(stats: &CdfStats, cdf: &[(f64, f64)]) -> String {
    if cdf.is_empty() {
        "no requests delivered".to_string()
    } else {
        stats.legend()
    }
}

/// `text` cut to at most `max` characters, ending in an ellipsis when cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", kept.trim_end())
    }
}

/// `text` cut to at most `max` characters by dropping its middle: `down:LHR+CDG…name-3`.
fn shorten_middle(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1);
    let tail = keep / 2;
    let head: String = chars[..keep - tail].iter().collect();
    let tail: String = chars[chars.len() - tail..].iter().collect();
    format!("{head}…{tail}")
}

/// Tick label of a log axis: `0.5`, `2`, `1,000`.
fn fmt_tick(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.1}")
    } else {
        count(ms.round() as u64)
    }
}

/// The largest 1-2-5 step value at or below `v` (for the left end of a log axis).
fn nice_floor(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    let m = v / p;
    let nice = if m >= 5.0 {
        5.0
    } else if m >= 2.0 {
        2.0
    } else {
        1.0
    };
    nice * p
}

#[cfg(test)]
mod tests {
    use super::super::failover_fixtures::{render, svg_text, Fixture};
    use super::super::CdfSeries;
    use super::*;
    use crate::analysis::charts::CdfStats;

    #[test]
    fn typical_input_renders_with_title_and_legend() {
        let f = Fixture::typical();
        let svg = svg_text(&render(&FailoverCdfChart::new(&f.set())));
        assert!(svg.contains("RTT distribution: baseline vs worst failure cases"));
        assert!(svg.contains("scenario eu-offices"));
        assert!(svg.contains("down:LHR: median"));
        assert!(svg.contains("share of requests (%)"));
    }

    #[test]
    fn no_cases_says_so() {
        let f = Fixture::typical();
        let mut set = f.set();
        set.case_cdfs = &[];
        let svg = svg_text(&render(&FailoverCdfChart::new(&set)));
        assert!(svg.contains("RTT distribution: baseline vs worst failure cases"));
        assert!(svg.contains("no failure cases"));
    }

    #[test]
    fn empty_and_junk_input_renders() {
        let empty = CdfSeries {
            stats: CdfStats::default(),
            name: "baseline".into(),
            points: vec![],
        };
        let junk = vec![
            CdfSeries {
                stats: CdfStats::default(),
                name: "nan".into(),
                points: vec![(f64::NAN, 0.5), (f64::INFINITY, 1.0)],
            },
            CdfSeries {
                stats: CdfStats::default(),
                name: "one point".into(),
                points: vec![(0.0, 1.0)],
            },
        ];
        let f = Fixture::typical();
        let mut set = f.set();
        set.case_cdfs = &[];
        set.baseline_cdf = &empty;
        let svg = svg_text(&render(&FailoverCdfChart::new(&set)));
        assert!(svg.contains("no data"));
        set.case_cdfs = &junk;
        let svg = svg_text(&render(&FailoverCdfChart::new(&set)));
        assert!(svg.contains("one point"));
    }

    #[test]
    fn wide_spread_switches_to_a_log_axis() {
        let f = Fixture::typical();
        let chart = FailoverCdfChart::new(&f.set());
        assert!(chart.scale.log, "{:?}", chart.scale);
        let ticks = chart.scale.log_ticks();
        assert!(ticks.len() >= 3 && ticks.len() <= 12, "{ticks:?}");
        let narrow = CdfSeries {
            stats: CdfStats::default(),
            name: "baseline".into(),
            points: (0..=10)
                .map(|i| (50.0 + f64::from(i), f64::from(i) / 10.0))
                .collect(),
        };
        let mut set = f.set();
        set.baseline_cdf = &narrow;
        set.case_cdfs = &[];
        assert!(!FailoverCdfChart::new(&set).scale.log);
    }

    #[test]
    fn formats() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(shorten_middle("abcdefgh", 5), "ab…gh");
        assert_eq!(nice_floor(3.7), 2.0);
        assert_eq!(nice_floor(0.8), 0.5);
        assert_eq!(fmt_tick(2000.0), "2,000");
    }
}
