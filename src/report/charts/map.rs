//! The user map: country outlines, one dot per sampled user coloured by its egress IP, and the
//! egress data centers as labelled triangles.
//!
//! The projection is equirectangular with a standard parallel at the middle of the view: the
//! chart keeps plain degrees on both axes (readable ticks, no projection maths in the drawing)
//! and only the degree-to-pixel ratio of the x axis is stretched by `1 / cos(parallel)`, which
//! keeps mid-latitude countries from looking squashed.

use std::cell::RefCell;
use std::rc::Rc;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    count, draw_note, draw_triangle, palette, text_style, ChartSet, Corner, DrawResult, Legend,
    LegendEntry, PxRect, Swatch, Title, AXIS_DESC_SIZE, GRID, INK, NO_EGRESS_COLOR, TICK_SIZE,
};
use super::{Area, Frame};

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 800;
const MARGIN: u32 = 16;
const MARGIN_RIGHT: u32 = 30;
const X_LABEL_AREA: u32 = 56;
const Y_LABEL_AREA: u32 = 80;
/// Gap between the plot and a legend placed beside it (room for the last x tick label).
const SIDE_GAP: u32 = 36;

const OCEAN: RGBColor = RGBColor(234, 242, 250);
const OCEAN_GRID: RGBColor = RGBColor(208, 222, 236);
const LAND: RGBColor = RGBColor(221, 221, 221);
const BORDER: RGBColor = RGBColor(160, 160, 160);
/// Dots are translucent so dense metros read as denser, and overlapping colours stay visible.
const DOT_ALPHA: f64 = 0.5;
const DOT_RADIUS: i32 = 2;
const SITE_RADIUS: i32 = 13;
const LABEL_SIZE: f64 = 18.0;
/// Ingress data centers: small dark-grey dots, faint so the users stay in front.
const INGRESS_COLOR: RGBColor = RGBColor(70, 70, 70);
const INGRESS_RADIUS: i32 = 3;
const INGRESS_ALPHA: f64 = 0.55;

/// A ring or polyline of `(lon, lat)` vertices.
type Ring = Vec<(f64, f64)>;
/// `(min_lon, max_lon, min_lat, max_lat)`.
type BBox = (f64, f64, f64, f64);
/// The chart type the map draws on.
type MapContext<'b, DB> = ChartContext<'b, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
/// The laid-out map: the chart, its view, and where the legend goes.
type Laid<'b, DB> = (MapContext<'b, DB>, View, Option<PxRect>);

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

/// Outlines clipped and simplified for one view.
struct Clipped {
    view: View,
    fills: Vec<Ring>,
    borders: Vec<Ring>,
}

/// The map: users, sites and legend prepared; the view is fitted while drawing because it
/// depends on whether the legend needs a panel of its own.
pub(super) struct MapChart<'a> {
    frame: Frame,
    outlines: &'a [geo::MultiPolygon<f64>],
    bbox: Option<BBox>,
    /// `(lon, lat, colour)` of every user with valid coordinates, in input order (the
    /// caller's deterministic sample) so no colour group systematically hides another.
    dots: Vec<(f64, f64, RGBColor)>,
    sites: Vec<SiteMark>,
    /// `(lon, lat)` of ingress data centers drawn as faint markers (empty for the map files).
    ingress: Vec<(f64, f64)>,
    legend: Legend,
    /// The PNG and the SVG use the same view; clip once.
    clipped: RefCell<Option<Rc<Clipped>>>,
}

impl<'a> MapChart<'a> {
    /// Prepares everything that does not depend on the backend or the layout.
    pub(super) fn new(set: &ChartSet<'a>) -> Self {
        let (dots, counts, no_egress) = dots(set);
        let sites: Vec<SiteMark> = set
            .sites
            .iter()
            .enumerate()
            .filter(|(_, s)| valid(s.lon, s.lat))
            .map(|(i, s)| SiteMark {
                lon: s.lon,
                lat: s.lat,
                color: palette(i),
                label: format!("{} ({})", s.id, s.datacenter),
            })
            .collect();
        let bbox = bounds(
            &dots
                .iter()
                .map(|&(lon, lat, _)| (lon, lat))
                .chain(sites.iter().map(|s| (s.lon, s.lat)))
                .collect::<Vec<_>>(),
        );

        let legend = legend(set, &counts, no_egress);
        let parallel = standard_parallel(bbox);
        let hemisphere = if parallel < 0.0 { 'S' } else { 'N' };
        let subtitle = format!(
            "{} sampled users · triangles mark egress data centers · equirectangular projection, true to scale at {:.0}°{}",
            count(set.points.len() as u64),
            parallel.abs(),
            hemisphere
        );
        Self {
            frame: Frame {
                stem: "map",
                size: (WIDTH, HEIGHT),
                title: Title::new(set.scenario, format!(": users by egress IP ({})", set.case)),
                subtitle,
            },
            outlines: set.outlines,
            bbox,
            dots,
            sites,
            ingress: Vec::new(),
            legend,
            clipped: RefCell::new(None),
        }
    }

    /// Adds faint markers for the ingress data centers at `(lon, lat)`, with a legend entry
    /// (the HTML report's map uses this; the map files do not).
    pub(super) fn with_ingress(mut self, ingress: &[(f64, f64)]) -> Self {
        self.ingress = ingress
            .iter()
            .copied()
            .filter(|(lon, lat)| lon.is_finite() && lat.is_finite())
            .collect();
        if !self.ingress.is_empty() {
            self.legend.entries.push(LegendEntry {
                swatch: Swatch::Dot(INGRESS_COLOR),
                text: format!("ingress data centers: {}", self.ingress.len()),
            });
        }
        self
    }

    /// The plan's map (`plan_map`): the same users and sites, titled for the plan, with the
    /// sites whose egress id is in `proposed` marked as new in their labels and the legend.
    pub(super) fn for_plan(mut self, scenario: &str, proposed: &[String]) -> Self {
        let is_new = |text: &str| {
            proposed
                .iter()
                .any(|id| text.starts_with(&format!("{id} (")))
        };
        for s in &mut self.sites {
            if is_new(&s.label) {
                s.label.push_str(" new");
            }
        }
        for e in &mut self.legend.entries {
            if is_new(&e.text) {
                e.text = format!("new: {}", e.text);
            }
        }
        self.frame.stem = "plan_map";
        self.frame.title = Title::new(
            scenario,
            format!(": kept and proposed egress sites ({} new)", proposed.len()),
        );
        self
    }

    /// Builds the chart (nothing is drawn yet) with `right` pixels of right margin and the
    /// view fitted to the resulting plot area.
    fn build<'b, DB: DrawingBackend>(
        &self,
        body: &'b DrawingArea<DB, Shift>,
        right: u32,
    ) -> Result<(MapContext<'b, DB>, View), DrawingAreaErrorKind<DB::ErrorType>> {
        let (w, h) = body.dim_in_pixel();
        let plot_w = f64::from(w) - f64::from(MARGIN + right + Y_LABEL_AREA);
        let plot_h = f64::from(h) - f64::from(2 * MARGIN + X_LABEL_AREA);
        let view = fit_view(self.bbox, plot_w, plot_h);
        // When the world's edges capped the view, shrink the plot instead of distorting the
        // map, and centre it in the space it had.
        let k = view.parallel.to_radians().cos();
        let x_scale = (view.lon1 - view.lon0) * k / plot_w.max(1.0);
        let y_scale = (view.lat1 - view.lat0) / plot_h.max(1.0);
        let (mut extra_w, mut extra_h) = (0.0, 0.0);
        if x_scale > y_scale {
            extra_h = plot_h - (view.lat1 - view.lat0) / x_scale;
        } else if y_scale > x_scale {
            extra_w = plot_w - (view.lon1 - view.lon0) * k / y_scale;
        }
        let half = |extra: f64| (extra.max(0.0) / 2.0).round() as u32;
        let (pad_w, pad_h) = (half(extra_w), half(extra_h));
        let chart = ChartBuilder::on(body)
            .margin_top(MARGIN + pad_h)
            .margin_bottom(MARGIN + pad_h)
            .margin_left(MARGIN + pad_w)
            .margin_right(right + pad_w)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(view.lon0..view.lon1, view.lat0..view.lat1)?;
        Ok((chart, view))
    }

    /// Outlines clipped to `view`, from the cache when the previous backend used the same one.
    fn clipped(&self, view: &View, plot_w: u32) -> Rc<Clipped> {
        let mut cache = self.clipped.borrow_mut();
        match cache.as_ref() {
            Some(c) if c.view == *view => Rc::clone(c),
            _ => {
                // Vertices closer than about half a pixel add file size and time, not detail.
                let tolerance = 0.5 * (view.lon1 - view.lon0) / f64::from(plot_w.max(1));
                let (fills, borders) = clip_outlines(self.outlines, view, tolerance);
                let c = Rc::new(Clipped {
                    view: *view,
                    fills,
                    borders,
                });
                *cache = Some(Rc::clone(&c));
                c
            }
        }
    }

    /// Best in-plot legend position and whether it would still hide an egress site.
    fn place_legend_inside<DB: DrawingBackend>(
        &self,
        chart: &MapContext<'_, DB>,
        size: (i32, i32),
    ) -> (PxRect, bool) {
        let plot = chart.plotting_area().get_pixel_range();
        let site_px: Vec<(i32, i32)> = self
            .sites
            .iter()
            .map(|s| chart.backend_coord(&(s.lon, s.lat)))
            .collect();
        let mut obstacles: Vec<(i32, i32)> = self
            .dots
            .iter()
            .map(|&(lon, lat, _)| chart.backend_coord(&(lon, lat)))
            .collect();
        // A hidden site hurts more than hidden dots: weigh each like a small crowd.
        for &p in &site_px {
            obstacles.extend(std::iter::repeat_n(p, 500));
        }
        let corners = [
            Corner::UpperLeft,
            Corner::UpperRight,
            Corner::LowerLeft,
            Corner::LowerRight,
        ];
        let (rect, _) = Legend::place(size, &plot, &corners, &obstacles);
        let grown = PxRect {
            x0: rect.x0 - SITE_RADIUS,
            y0: rect.y0 - SITE_RADIUS,
            x1: rect.x1 + SITE_RADIUS,
            y1: rect.y1 + SITE_RADIUS,
        };
        let hides_site = site_px.iter().any(|&p| grown.contains(p));
        (rect, hides_site)
    }
}

impl MapChart<'_> {
    /// The chart with the legend inside the map where a corner is free of sites; otherwise in a
    /// panel to the right, at the cost of a narrower map.
    fn layout<'b, DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &'b DrawingArea<DB, Shift>,
    ) -> Result<Laid<'b, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
        let (chart, view) = self.build(body, MARGIN_RIGHT)?;
        if self.legend.entries.is_empty() {
            return Ok((chart, view, None));
        }
        let size = self.legend.size(root)?;
        let (inside, hides_site) = self.place_legend_inside(&chart, size);
        let panel_w = u32::try_from(size.0).unwrap_or(u32::MAX);
        if !(hides_site && panel_w < WIDTH / 3) {
            return Ok((chart, view, Some(inside)));
        }
        let (chart, view) = self.build(body, panel_w + SIDE_GAP + MARGIN)?;
        let plot = chart.plotting_area().get_pixel_range();
        let x0 = plot.0.end + i32::try_from(SIDE_GAP).unwrap_or(0);
        // Level with the map, unless that would push a tall legend off the canvas.
        let y0 = plot.1.start.min(HEIGHT as i32 - MARGIN as i32 - size.1);
        Ok((chart, view, Some(PxRect::new(x0, y0, size.0, size.1))))
    }

    /// Ocean, grid, land, borders, the users and the ingress data centers.
    fn draw_map<DB: DrawingBackend>(
        &self,
        chart: &mut MapContext<'_, DB>,
        view: &View,
    ) -> DrawResult<DB> {
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
        let clipped = self.clipped(view, chart.plotting_area().dim_in_pixel().0);
        chart.draw_series(
            clipped
                .fills
                .iter()
                .map(|ring| Polygon::new(ring.clone(), LAND.filled())),
        )?;
        chart.draw_series(
            clipped
                .borders
                .iter()
                .map(|line| PathElement::new(line.clone(), BORDER.stroke_width(1))),
        )?;
        chart.draw_series(
            self.dots
                .iter()
                .filter(|&&(lon, lat, _)| view.contains((lon, lat)))
                .map(|&(lon, lat, c)| {
                    Circle::new((lon, lat), DOT_RADIUS, c.mix(DOT_ALPHA).filled())
                }),
        )?;
        chart.draw_series(
            self.ingress
                .iter()
                .filter(|&&p| view.contains(p))
                .map(|&p| {
                    Circle::new(p, INGRESS_RADIUS, INGRESS_COLOR.mix(INGRESS_ALPHA).filled())
                }),
        )?;
        Ok(())
    }

    /// The egress sites as triangles with labels placed clear of each other and of the legend.
    fn draw_sites<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &MapContext<'_, DB>,
        legend_rect: Option<PxRect>,
    ) -> DrawResult<DB> {
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
        for (s, &p) in self.sites.iter().zip(&site_px) {
            draw_triangle(root, p, SITE_RADIUS, s.color)?;
        }
        let label_style = super::bold_style(LABEL_SIZE, INK);
        let mut taken: Vec<PxRect> = site_px
            .iter()
            .map(|&(x, y)| {
                PxRect::new(
                    x - SITE_RADIUS,
                    y - SITE_RADIUS,
                    2 * SITE_RADIUS,
                    2 * SITE_RADIUS,
                )
            })
            .collect();
        taken.extend(legend_rect);
        for (s, &p) in self.sites.iter().zip(&site_px) {
            let (w, h) = root.estimate_text_size(&s.label, &label_style)?;
            let w = i32::try_from(w).unwrap_or(i32::MAX / 2) + 8;
            let h = i32::try_from(h).unwrap_or(i32::MAX / 2) + 6;
            let rect = place_label(p, (w, h), &taken, &plot_rect);
            root.draw(&Rectangle::new(
                [(rect.x0, rect.y0), (rect.x1, rect.y1)],
                WHITE.mix(0.85).filled(),
            ))?;
            let style = label_style.pos(Pos::new(HPos::Center, VPos::Center));
            let centre = ((rect.x0 + rect.x1) / 2, (rect.y0 + rect.y1) / 2);
            root.draw_text(&s.label, &style, centre)?;
            taken.push(rect);
        }
        Ok(())
    }
}

impl super::Chart for MapChart<'_> {
    fn frame(&self) -> &Frame {
        &self.frame
    }

    fn draw_body<DB: DrawingBackend>(&self, root: &Area<DB>, body: &Area<DB>) -> DrawResult<DB> {
        let (mut chart, view, legend_rect) = self.layout(root, body)?;
        self.draw_map(&mut chart, &view)?;
        if self.dots.is_empty() && self.sites.is_empty() {
            let plot = chart.plotting_area().get_pixel_range();
            draw_note(root, &plot, "no users or egress IPs to show")?;
        }
        self.draw_sites(root, &chart, legend_rect)?;
        if let Some(rect) = legend_rect {
            self.legend.draw(root, rect)?;
        }
        Ok(())
    }
}

/// Whether a point is a real place on the map.
fn valid(lon: f64, lat: f64) -> bool {
    lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && lat.abs() <= 90.0
}

/// The users with valid coordinates as `(lon, lat, colour)` in input order, the sampled users per
/// egress site, and those on no site.
fn dots(set: &ChartSet) -> (Vec<(f64, f64, RGBColor)>, Vec<u64>, u64) {
    let site_color = |egress: u16| {
        let i = usize::from(egress);
        (egress != super::NO_EGRESS && i < set.sites.len()).then(|| palette(i))
    };
    let mut counts = vec![0u64; set.sites.len()];
    let mut no_egress = 0u64;
    let mut dots = Vec::with_capacity(set.points.len());
    for p in set.points {
        let color = site_color(p.egress);
        match color {
            Some(_) => counts[usize::from(p.egress)] += 1,
            None => no_egress += 1,
        }
        let (lon, lat) = (f64::from(p.lon), f64::from(p.lat));
        if valid(lon, lat) {
            dots.push((lon, lat, color.unwrap_or(NO_EGRESS_COLOR)));
        }
    }
    (dots, counts, no_egress)
}

/// The legend: each egress site with its users in the sample, then those on no site; cut to the
/// plot's height.
fn legend(set: &ChartSet, counts: &[u64], no_egress: u64) -> Legend {
    let mut entries: Vec<LegendEntry> = set
        .sites
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (s, &n))| LegendEntry {
            swatch: Swatch::Triangle(palette(i)),
            text: format!("{} ({}, {}): {}", s.id, s.datacenter, s.city, count(n)),
        })
        .collect();
    if no_egress > 0 {
        entries.push(LegendEntry {
            swatch: Swatch::Dot(NO_EGRESS_COLOR),
            text: format!("default egress or dropped: {}", count(no_egress)),
        });
    }
    let mut legend = Legend {
        heading: Some("Egress IP: users in sample".to_string()),
        entries,
    };
    let plot_h = HEIGHT - super::HEADER_HEIGHT - 2 * MARGIN - X_LABEL_AREA;
    legend.truncate_to_height(i32::try_from(plot_h).unwrap_or(0) - 24);
    legend
}

/// Latitude at which the map is true to scale: the middle of the data, capped at 60° where
/// the horizontal stretch would get extreme; the equator for an empty map.
fn standard_parallel(bbox: Option<BBox>) -> f64 {
    bbox.map_or(0.0, |(_, _, lat0, lat1)| {
        ((lat0 + lat1) / 2.0).clamp(-60.0, 60.0)
    })
}

/// Fits the view to the bounding box with 10% padding, a minimum span, the plot's aspect ratio
/// at the standard parallel, and the world's edges; the whole world (without Antarctica) when
/// there is nothing to show.
fn fit_view(bbox: Option<BBox>, plot_w: f64, plot_h: f64) -> View {
    const MIN_LON_SPAN: f64 = 20.0;
    const MIN_LAT_SPAN: f64 = 10.0;
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
    let parallel = standard_parallel(bbox);
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
) -> (Vec<Ring>, Vec<Ring>) {
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
        let inside =
            bb.0 >= view.lon0 && bb.1 <= view.lon1 && bb.2 >= view.lat0 && bb.3 <= view.lat1;
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
fn bounds(ring: &[(f64, f64)]) -> Option<BBox> {
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
fn clip_polyline(line: &[(f64, f64)], v: &View) -> Vec<Ring> {
    let mut out: Vec<Ring> = Vec::new();
    let mut open = false;
    for pair in line.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            open = false;
            continue;
        }
        match clip_segment(a, b, v) {
            Some(seg) => {
                match out.last_mut() {
                    Some(current) if open && seg.keeps_start => current.push(seg.end),
                    _ => out.push(vec![seg.start, seg.end]),
                }
                open = seg.keeps_end;
            }
            None => open = false,
        }
    }
    out
}

/// The visible part of a segment.
struct Visible {
    start: (f64, f64),
    end: (f64, f64),
    /// The segment's own start is visible (the polyline continues through it).
    keeps_start: bool,
    /// The segment's own end is visible.
    keeps_end: bool,
}

/// Liang–Barsky: the visible part of segment `a`–`b`, `None` if it is entirely outside.
fn clip_segment(a: (f64, f64), b: (f64, f64), v: &View) -> Option<Visible> {
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
    Some(Visible {
        start: (a.0 + t0 * dx, a.1 + t0 * dy),
        end: (a.0 + t1 * dx, a.1 + t1 * dy),
        keeps_start: t0 == 0.0,
        keeps_end: t1 == 1.0,
    })
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
        let v = fit_view(None, 1000.0, 500.0);
        assert_eq!((v.lon0, v.lon1), (-180.0, 180.0));
    }

    #[test]
    fn single_point_gets_minimum_span_and_stays_in_world() {
        let v = fit_view(bounds(&[(179.0, 89.0)]), 1000.0, 500.0);
        assert!(v.lon1 - v.lon0 >= 20.0 - 1e-9);
        assert!(v.lon1 <= 180.0 && v.lat1 <= 90.0 && v.lon0 >= -180.0 && v.lat0 >= -90.0);
        assert!(v.contains((179.0, 89.0)));
    }

    #[test]
    fn view_keeps_aspect_at_the_standard_parallel() {
        let v = fit_view(bounds(&[(-77.0, 39.0), (5.0, 52.0)]), 1200.0, 600.0);
        let k = v.parallel.to_radians().cos();
        let x_scale = (v.lon1 - v.lon0) * k / 1200.0;
        let y_scale = (v.lat1 - v.lat0) / 600.0;
        assert!((x_scale - y_scale).abs() < 1e-9, "{x_scale} vs {y_scale}");
        assert!(v.contains((-77.0, 39.0)) && v.contains((5.0, 52.0)));
    }

    #[test]
    fn ring_clipped_to_window() {
        let ring = [
            (-10.0, -10.0),
            (10.0, -10.0),
            (10.0, 10.0),
            (-10.0, 10.0),
            (-10.0, -10.0),
        ];
        let out = clip_ring(&ring, &view(0.0, 20.0, 0.0, 20.0));
        assert!(out
            .iter()
            .all(|&(x, y)| (0.0..=10.0).contains(&x) && (0.0..=10.0).contains(&y)));
        assert!(out.len() >= 4);
        assert!(clip_ring(&ring, &view(50.0, 60.0, 0.0, 10.0)).is_empty());
    }

    #[test]
    fn polyline_split_where_it_leaves_the_window() {
        let line = [
            (1.0, 1.0),
            (5.0, 1.0),
            (15.0, 1.0),
            (15.0, 5.0),
            (5.0, 5.0),
            (1.0, 5.0),
        ];
        let parts = clip_polyline(&line, &view(0.0, 10.0, 0.0, 10.0));
        assert_eq!(
            parts,
            vec![
                vec![(1.0, 1.0), (5.0, 1.0), (10.0, 1.0)],
                vec![(10.0, 5.0), (5.0, 5.0), (1.0, 5.0)]
            ]
        );
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
