//! The user map: country outlines, one dot per sampled user coloured by its egress IP, and the
//! egress data centers as labelled triangles.
//!
//! The projection is equirectangular with a standard parallel at the middle of the view: the
//! chart keeps plain degrees on both axes (readable ticks, no projection maths in the drawing)
//! and only the degree-to-pixel ratio of the x axis is stretched by `1 / cos(parallel)`, which
//! keeps mid-latitude countries from looking squashed.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    draw_header, draw_note, draw_triangle, group_thousands, palette, text_style, ChartSet,
    Corner, DrawResult, Legend, LegendEntry, PxRect, Swatch, AXIS_DESC_SIZE, GRID, INK,
    NO_EGRESS_COLOR, TICK_SIZE,
};

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 800;
const MARGIN: u32 = 16;
const MARGIN_RIGHT: u32 = 30;
const X_LABEL_AREA: u32 = 56;
const Y_LABEL_AREA: u32 = 80;
/// Plot area size implied by the layout constants above; the view is fitted to it before the
/// chart exists so that both backends (and the clipping) share one view.
const PLOT_W: f64 = (WIDTH - MARGIN - MARGIN_RIGHT - Y_LABEL_AREA) as f64;
const PLOT_H: f64 = (HEIGHT - super::HEADER_HEIGHT - 2 * MARGIN - X_LABEL_AREA) as f64;

const OCEAN: RGBColor = RGBColor(234, 242, 250);
const OCEAN_GRID: RGBColor = RGBColor(208, 222, 236);
const LAND: RGBColor = RGBColor(221, 221, 221);
const BORDER: RGBColor = RGBColor(160, 160, 160);
/// Dots are translucent so dense metros read as denser, and overlapping colours stay visible.
const DOT_ALPHA: f64 = 0.5;
const DOT_RADIUS: i32 = 2;
const SITE_RADIUS: i32 = 13;
const LABEL_SIZE: f64 = 18.0;

/// The rectangle of lon/lat degrees shown, plus the standard parallel used to fit it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct View {
    lon0: f64,
    lon1: f64,
    lat0: f64,
    lat1: f64,
    parallel: f64,
}

impl View {
    fn contains(&self, (lon, lat): (f64, f64)) -> bool {
        lon >= self.lon0 && lon <= self.lon1 && lat >= self.lat0 && lat <= self.lat1
    }
}

/// An egress site ready to draw.
#[derive(Debug, Clone)]
struct SiteMark {
    lon: f64,
    lat: f64,
    color: RGBColor,
    label: String,
}

/// The map, with outlines already clipped and simplified to the view.
pub(super) struct MapChart {
    title: String,
    subtitle: String,
    view: View,
    fills: Vec<Vec<(f64, f64)>>,
    borders: Vec<Vec<(f64, f64)>>,
    /// `(lon, lat, colour)` of the users inside the view.
    dots: Vec<(f64, f64, RGBColor)>,
    sites: Vec<SiteMark>,
    legend: Legend,
}

impl MapChart {
    /// Prepares everything that does not depend on the backend: view, clipped outlines, dots.
    pub(super) fn new(set: &ChartSet) -> Self {
        let valid = |lon: f64, lat: f64| {
            lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && lat.abs() <= 90.0
        };
        let site_ok: Vec<bool> = set.sites.iter().map(|s| valid(s.lon, s.lat)).collect();
        let user_coords = set
            .points
            .iter()
            .map(|p| (f64::from(p.lon), f64::from(p.lat)))
            .filter(|&(lon, lat)| valid(lon, lat));
        let site_coords = set
            .sites
            .iter()
            .zip(&site_ok)
            .filter(|(_, &ok)| ok)
            .map(|(s, _)| (s.lon, s.lat));
        let view = fit_view(user_coords.chain(site_coords), PLOT_W, PLOT_H);

        // Vertices closer than about half a pixel add file size and time, not detail.
        let tolerance = 0.5 * (view.lon1 - view.lon0) / PLOT_W;
        let (fills, borders) = clip_outlines(set.outlines, &view, tolerance);

        let site_color = |egress: u16| {
            let i = usize::from(egress);
            (egress != super::NO_EGRESS && i < set.sites.len()).then(|| palette(i))
        };
        let mut counts = vec![0u64; set.sites.len()];
        let mut no_egress = 0u64;
        // Input order (the caller's deterministic sample) rather than grouped by colour, so
        // no group systematically hides another where they overlap.
        let mut dots = Vec::with_capacity(set.points.len());
        for p in set.points {
            let color = site_color(p.egress);
            match color {
                Some(_) => counts[usize::from(p.egress)] += 1,
                None => no_egress += 1,
            }
            let (lon, lat) = (f64::from(p.lon), f64::from(p.lat));
            if valid(lon, lat) && view.contains((lon, lat)) {
                dots.push((lon, lat, color.unwrap_or(NO_EGRESS_COLOR)));
            }
        }

        let sites = set
            .sites
            .iter()
            .enumerate()
            .filter(|&(i, _)| site_ok[i])
            .map(|(i, s)| SiteMark {
                lon: s.lon,
                lat: s.lat,
                color: palette(i),
                label: format!("{} ({})", s.id, s.datacenter),
            })
            .collect();

        let mut entries: Vec<LegendEntry> = set
            .sites
            .iter()
            .zip(&counts)
            .enumerate()
            .map(|(i, (s, &n))| LegendEntry {
                swatch: Swatch::Triangle(palette(i)),
                text: format!("{} ({}, {}): {}", s.id, s.datacenter, s.city, group_thousands(n)),
            })
            .collect();
        if no_egress > 0 {
            entries.push(LegendEntry {
                swatch: Swatch::Dot(NO_EGRESS_COLOR),
                text: format!("default egress or dropped: {}", group_thousands(no_egress)),
            });
        }
        let mut legend = Legend {
            heading: Some("Egress IP: users in sample".to_string()),
            entries,
        };
        legend.truncate_to_height(PLOT_H as i32 - 24);

        let hemisphere = if view.parallel < 0.0 { 'S' } else { 'N' };
        let subtitle = format!(
            "{} sampled users · triangles mark egress data centers · equirectangular projection, true to scale at {:.0}°{}",
            group_thousands(set.points.len() as u64),
            view.parallel.abs(),
            hemisphere
        );
        Self {
            title: format!("{}: users by egress IP ({})", set.scenario, set.case),
            subtitle,
            view,
            fills,
            borders,
            dots,
            sites,
            legend,
        }
    }
}

impl super::Chart for MapChart {
    const STEM: &'static str = "map";
    const SIZE: (u32, u32) = (WIDTH, HEIGHT);

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let body = draw_header(root, &self.title, &self.subtitle)?;
        let v = self.view;
        let mut chart = ChartBuilder::on(&body)
            .margin(MARGIN)
            .margin_right(MARGIN_RIGHT)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(v.lon0..v.lon1, v.lat0..v.lat1)?;
        chart.plotting_area().fill(&OCEAN)?;
        let deg = |x: &f64| format!("{x:.0}°");
        chart
            .configure_mesh()
            .x_desc("longitude (°)")
            .y_desc("latitude (°)")
            .x_labels(14)
            .y_labels(9)
            .x_label_formatter(&deg)
            .y_label_formatter(&deg)
            .label_style(text_style(TICK_SIZE, INK))
            .axis_desc_style(text_style(AXIS_DESC_SIZE, INK))
            .bold_line_style(OCEAN_GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(GRID.stroke_width(1))
            .draw()?;

        chart.draw_series(
            self.fills
                .iter()
                .map(|ring| Polygon::new(ring.clone(), LAND.filled())),
        )?;
        chart.draw_series(
            self.borders
                .iter()
                .map(|line| PathElement::new(line.clone(), BORDER.stroke_width(1))),
        )?;
        chart.draw_series(self.dots.iter().map(|&(lon, lat, c)| {
            Circle::new((lon, lat), DOT_RADIUS, c.mix(DOT_ALPHA).filled())
        }))?;

        let plot = chart.plotting_area().get_pixel_range();
        let plot_rect = PxRect {
            x0: plot.0.start,
            y0: plot.1.start,
            x1: plot.0.end,
            y1: plot.1.end,
        };
        let site_px: Vec<(i32, i32)> = self
            .sites
            .iter()
            .map(|s| chart.backend_coord(&(s.lon, s.lat)))
            .collect();

        if self.dots.is_empty() && self.sites.is_empty() {
            draw_note(root, &plot, "no users or egress IPs to show")?;
        }

        // Legend first (in layout, not in paint order) so site labels can steer around it.
        let legend_rect = if self.legend.entries.is_empty() {
            None
        } else {
            let size = self.legend.size(root)?;
            let mut obstacles: Vec<(i32, i32)> = self
                .dots
                .iter()
                .map(|&(lon, lat, _)| chart.backend_coord(&(lon, lat)))
                .collect();
            // A hidden site hurts more than hidden dots: weigh each like a small crowd.
            for &p in &site_px {
                obstacles.extend(std::iter::repeat(p).take(200));
            }
            let corners = [
                Corner::UpperLeft,
                Corner::UpperRight,
                Corner::LowerLeft,
                Corner::LowerRight,
            ];
            Some(Legend::place(size, &plot, &corners, &obstacles))
        };

        for (s, &p) in self.sites.iter().zip(&site_px) {
            draw_triangle(root, p, SITE_RADIUS, s.color)?;
        }

        let label_style = super::bold_style(LABEL_SIZE, INK);
        let mut taken: Vec<PxRect> = site_px
            .iter()
            .map(|&(x, y)| PxRect::new(x - SITE_RADIUS, y - SITE_RADIUS, 2 * SITE_RADIUS, 2 * SITE_RADIUS))
            .collect();
        taken.extend(legend_rect);
        for (s, &p) in self.sites.iter().zip(&site_px) {
            let (w, h) = root.estimate_text_size(&s.label, &label_style)?;
            let (w, h) = (w as i32 + 8, h as i32 + 6);
            let rect = place_label(p, (w, h), &taken, &plot_rect);
            root.draw(&Rectangle::new(
                [(rect.x0, rect.y0), (rect.x1, rect.y1)],
                WHITE.mix(0.85).filled(),
            ))?;
            let style = label_style.pos(Pos::new(HPos::Center, VPos::Center));
            root.draw_text(&s.label, &style, ((rect.x0 + rect.x1) / 2, (rect.y0 + rect.y1) / 2))?;
            taken.push(rect);
        }

        if let Some(rect) = legend_rect {
            self.legend.draw(root, rect)?;
        }
        Ok(())
    }
}

/// Fits the view to the points with 10% padding, a minimum span, the plot's aspect ratio at the
/// middle latitude, and the world's edges; the whole world (without Antarctica) when empty.
fn fit_view(coords: impl Iterator<Item = (f64, f64)>, plot_w: f64, plot_h: f64) -> View {
    const MIN_LON_SPAN: f64 = 20.0;
    const MIN_LAT_SPAN: f64 = 10.0;
    let mut bbox: Option<(f64, f64, f64, f64)> = None;
    for (lon, lat) in coords {
        bbox = Some(match bbox {
            None => (lon, lon, lat, lat),
            Some((a, b, c, d)) => (a.min(lon), b.max(lon), c.min(lat), d.max(lat)),
        });
    }
    let Some((min_lon, max_lon, min_lat, max_lat)) = bbox else {
        return View {
            lon0: -180.0,
            lon1: 180.0,
            lat0: -60.0,
            lat1: 85.0,
            parallel: 0.0,
        };
    };
    let centre_lon = (min_lon + max_lon) / 2.0;
    let centre_lat = (min_lat + max_lat) / 2.0;
    let mut lon_span = ((max_lon - min_lon) * 1.2).max(MIN_LON_SPAN);
    let mut lat_span = ((max_lat - min_lat) * 1.2).max(MIN_LAT_SPAN);
    // Poleward of 60° the stretch would get extreme; cap it there.
    let parallel = centre_lat.clamp(-60.0, 60.0);
    let k = parallel.to_radians().cos();
    let (w, h) = (plot_w.max(1.0), plot_h.max(1.0));
    // Degrees of latitude per pixel must equal k × degrees of longitude per pixel.
    if lon_span * k / w < lat_span / h {
        lon_span = lat_span / h * w / k;
    } else {
        lat_span = lon_span * k / w * h;
    }
    let (lon0, lon1) = clamp_window(centre_lon, lon_span, -180.0, 180.0);
    let (lat0, lat1) = clamp_window(centre_lat, lat_span, -90.0, 90.0);
    View {
        lon0,
        lon1,
        lat0,
        lat1,
        parallel,
    }
}

/// A window of `span` centred on `centre`, slid (not shrunk) to stay inside `lo..hi` unless it
/// is wider than that range.
fn clamp_window(centre: f64, span: f64, lo: f64, hi: f64) -> (f64, f64) {
    let span = span.min(hi - lo);
    let mut a = centre - span / 2.0;
    let mut b = centre + span / 2.0;
    if a < lo {
        b += lo - a;
        a = lo;
    }
    if b > hi {
        a -= b - hi;
        b = hi;
    }
    (a.max(lo), b)
}

/// Clips every ring to the view: polygons for the land fill (Sutherland–Hodgman, which is exact
/// for a rectangular window) and open polylines for the borders, so the view's edge never gets
/// a fake border line. Holes are not cut out of the fill: in country data they are other
/// countries (Lesotho in South Africa), which are land anyway; their borders are still drawn.
fn clip_outlines(
    outlines: &[geo::MultiPolygon<f64>],
    view: &View,
    tolerance: f64,
) -> (Vec<Vec<(f64, f64)>>, Vec<Vec<(f64, f64)>>) {
    let mut fills = Vec::new();
    let mut borders = Vec::new();
    for polygon in outlines.iter().flat_map(|mp| mp.0.iter()) {
        let exterior: Vec<(f64, f64)> = polygon.exterior().0.iter().map(|c| (c.x, c.y)).collect();
        let Some(bb) = bounds(&exterior) else {
            continue;
        };
        if bb.1 < view.lon0 || bb.0 > view.lon1 || bb.3 < view.lat0 || bb.2 > view.lat1 {
            continue;
        }
        let inside = bb.0 >= view.lon0 && bb.1 <= view.lon1 && bb.2 >= view.lat0 && bb.3 <= view.lat1;
        let fill = if inside {
            exterior.clone()
        } else {
            clip_ring(&exterior, view)
        };
        let fill = simplify(&fill, tolerance);
        if fill.len() >= 3 {
            fills.push(fill);
        }
        let rings = std::iter::once(exterior).chain(
            polygon
                .interiors()
                .iter()
                .map(|r| r.0.iter().map(|c| (c.x, c.y)).collect()),
        );
        for ring in rings {
            for line in clip_polyline(&ring, view) {
                let line = simplify(&line, tolerance);
                if line.len() >= 2 {
                    borders.push(line);
                }
            }
        }
    }
    (fills, borders)
}

/// `(min_lon, max_lon, min_lat, max_lat)` of the finite vertices, `None` if there are none.
fn bounds(ring: &[(f64, f64)]) -> Option<(f64, f64, f64, f64)> {
    ring.iter()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .fold(None, |acc, &(x, y)| {
            Some(match acc {
                None => (x, x, y, y),
                Some((a, b, c, d)) => (a.min(x), b.max(x), c.min(y), d.max(y)),
            })
        })
}

/// Sutherland–Hodgman clipping of a closed ring against the view rectangle.
fn clip_ring(ring: &[(f64, f64)], v: &View) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = ring
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    for edge in 0..4 {
        let input = std::mem::take(&mut out);
        let Some(&last) = input.last() else {
            break;
        };
        let inside = |p: (f64, f64)| match edge {
            0 => p.0 >= v.lon0,
            1 => p.0 <= v.lon1,
            2 => p.1 >= v.lat0,
            _ => p.1 <= v.lat1,
        };
        // Only called for points on opposite sides of the edge, so the divisor is never zero.
        let cut = |a: (f64, f64), b: (f64, f64)| match edge {
            0 | 1 => {
                let x = if edge == 0 { v.lon0 } else { v.lon1 };
                (x, a.1 + (x - a.0) / (b.0 - a.0) * (b.1 - a.1))
            }
            _ => {
                let y = if edge == 2 { v.lat0 } else { v.lat1 };
                (a.0 + (y - a.1) / (b.1 - a.1) * (b.0 - a.0), y)
            }
        };
        let mut prev = last;
        for &cur in &input {
            match (inside(prev), inside(cur)) {
                (true, true) => out.push(cur),
                (false, true) => {
                    out.push(cut(prev, cur));
                    out.push(cur);
                }
                (true, false) => out.push(cut(prev, cur)),
                (false, false) => {}
            }
            prev = cur;
        }
    }
    out
}

/// Liang–Barsky clipping of each segment of `line`, joined back into the visible polylines.
fn clip_polyline(line: &[(f64, f64)], v: &View) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for pair in line.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            open = false;
            continue;
        }
        match clip_segment(a, b, v) {
            Some((s, e, starts_inside, ends_inside)) => {
                match out.last_mut() {
                    Some(current) if open && starts_inside => current.push(e),
                    _ => out.push(vec![s, e]),
                }
                open = ends_inside;
            }
            None => open = false,
        }
    }
    out
}

/// Returns the visible part of segment `a`–`b` and whether it keeps the original start and end.
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    v: &View,
) -> Option<((f64, f64), (f64, f64), bool, bool)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - v.lon0),
        (dx, v.lon1 - a.0),
        (-dy, a.1 - v.lat0),
        (dy, v.lat1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                if t > t1 {
                    return None;
                }
                t0 = t0.max(t);
            } else {
                if t < t0 {
                    return None;
                }
                t1 = t1.min(t);
            }
        }
    }
    Some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
        t0 == 0.0,
        t1 == 1.0,
    ))
}

/// Drops vertices within `tol` degrees (on both axes) of the last kept one; keeps the ends.
fn simplify(line: &[(f64, f64)], tol: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(line.len());
    for (i, &p) in line.iter().enumerate() {
        let keep = match out.last() {
            None => true,
            Some(&q) => i + 1 == line.len() || (p.0 - q.0).abs() > tol || (p.1 - q.1).abs() > tol,
        };
        if keep {
            out.push(p);
        }
    }
    out
}

/// Picks the first label position around the marker at `p` that stays inside the plot and
/// overlaps nothing already placed; if every candidate collides, the least overlapping one.
fn place_label(p: (i32, i32), (w, h): (i32, i32), taken: &[PxRect], plot: &PxRect) -> PxRect {
    let (x, y) = p;
    let gap = SITE_RADIUS + 4;
    let candidates = [
        PxRect::new(x + gap, y - h / 2, w, h),
        PxRect::new(x - gap - w, y - h / 2, w, h),
        PxRect::new(x - w / 2, y - gap - h, w, h),
        PxRect::new(x - w / 2, y + gap, w, h),
        PxRect::new(x + gap, y - gap - h / 2, w, h),
        PxRect::new(x + gap, y + gap - h / 2, w, h),
        PxRect::new(x - gap - w, y - gap - h / 2, w, h),
        PxRect::new(x - gap - w, y + gap - h / 2, w, h),
        PxRect::new(x - w / 2, y - 2 * gap - h, w, h),
        PxRect::new(x - w / 2, y + 2 * gap, w, h),
    ];
    let cost = |r: &PxRect| {
        let overlap: i64 = taken.iter().map(|t| t.overlap_area(r)).sum();
        let outside = if r.inside(plot) { 0 } else { 1_000_000 };
        overlap + outside
    };
    let mut best = candidates[0];
    let mut best_cost = i64::MAX;
    for c in candidates {
        let k = cost(&c);
        if k == 0 {
            return c;
        }
        if k < best_cost {
            best = c;
            best_cost = k;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(lon0: f64, lon1: f64, lat0: f64, lat1: f64) -> View {
        View {
            lon0,
            lon1,
            lat0,
            lat1,
            parallel: 0.0,
        }
    }

    #[test]
    fn empty_view_is_the_world() {
        let v = fit_view(std::iter::empty(), 1000.0, 500.0);
        assert_eq!((v.lon0, v.lon1), (-180.0, 180.0));
    }

    #[test]
    fn single_point_gets_minimum_span_and_stays_in_world() {
        let v = fit_view(std::iter::once((179.0, 89.0)), 1000.0, 500.0);
        assert!(v.lon1 - v.lon0 >= 20.0 - 1e-9);
        assert!(v.lon1 <= 180.0 && v.lat1 <= 90.0 && v.lon0 >= -180.0 && v.lat0 >= -90.0);
        assert!(v.contains((179.0, 89.0)));
    }

    #[test]
    fn view_keeps_aspect_at_the_standard_parallel() {
        let v = fit_view([(-77.0, 39.0), (5.0, 52.0)].into_iter(), 1200.0, 600.0);
        let k = v.parallel.to_radians().cos();
        let x_scale = (v.lon1 - v.lon0) * k / 1200.0;
        let y_scale = (v.lat1 - v.lat0) / 600.0;
        assert!((x_scale - y_scale).abs() < 1e-9, "{x_scale} vs {y_scale}");
        assert!(v.contains((-77.0, 39.0)) && v.contains((5.0, 52.0)));
    }

    #[test]
    fn ring_clipped_to_window() {
        let ring = [(-10.0, -10.0), (10.0, -10.0), (10.0, 10.0), (-10.0, 10.0), (-10.0, -10.0)];
        let out = clip_ring(&ring, &view(0.0, 20.0, 0.0, 20.0));
        assert!(out.iter().all(|&(x, y)| (0.0..=10.0).contains(&x) && (0.0..=10.0).contains(&y)));
        assert!(out.len() >= 4);
        assert!(clip_ring(&ring, &view(50.0, 60.0, 0.0, 10.0)).is_empty());
    }

    #[test]
    fn polyline_split_where_it_leaves_the_window() {
        let line = [(1.0, 1.0), (5.0, 1.0), (15.0, 1.0), (15.0, 5.0), (5.0, 5.0), (1.0, 5.0)];
        let parts = clip_polyline(&line, &view(0.0, 10.0, 0.0, 10.0));
        assert_eq!(parts, vec![vec![(1.0, 1.0), (5.0, 1.0), (10.0, 1.0)], vec![(10.0, 5.0), (5.0, 5.0), (1.0, 5.0)]]);
    }

    #[test]
    fn label_avoids_taken_space() {
        let plot = PxRect::new(0, 0, 1000, 1000);
        let taken = [PxRect::new(517, 480, 100, 40)];
        let r = place_label((500, 500), (100, 24), &taken, &plot);
        assert!(taken.iter().all(|t| t.overlap_area(&r) == 0));
        assert!(r.inside(&plot));
    }
}
