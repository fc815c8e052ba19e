//! Fast, exact point → country lookup over the catalog's country outlines, and nearest-city search.
//!
//! The user generator asks "which country is this point in?" for every synthetic user, so the answer
//! must cost tens of nanoseconds yet agree with an exact point-in-polygon test (`geo::Contains`, first
//! outline in catalog order wins).
//!
//! [`CountryIndex`] overlays a 0.25° longitude/latitude grid on the outlines, treated as planar polygons
//! in degrees (which is what `geo::Contains` does; the outlines are already cut at ±180°, so the
//! antimeridian and the poles need no special case).
//! - A cell that no polygon edge touches lies wholly inside one set of polygons, so it stores its country
//!   (or "none") directly.
//! - A cell touched by edges keeps a reference point, whether each touching polygon contains that point,
//!   and copies of the touching edges. A query point `p` in the cell is inside a polygon iff the
//!   reference point is, flipped once per polygon edge that the segment reference→`p` crosses. That
//!   segment stays in the convex cell, so only the cell's own edges can cross it.
//!
//! The containment state of every reference point and every untouched cell comes from one scan-line
//! sweep per grid row (even-odd rule along a horizontal line through the row), so building the index
//! needs no per-cell point-in-polygon test.
//!
//! Points in no outline (sea, gaps between 1:110m outlines) fall back to the country of the nearest
//! city. Each grid cell remembers, on first use, whether every city that can be nearest to some point of
//! the cell lies in one country; only cells along a country-to-country "nearest city" frontier still
//! search the city R-tree per query.
//!
//! At 1:110m some territories have no outline of their own and sit inside a neighbour's: Singapore
//! inside Malaysia, Hong Kong and Macau inside China, Monaco, Andorra, San Marino, the Vatican,
//! Liechtenstein, Gibraltar. [`CountryIndex::lookup`] therefore first gives a point the country of its
//! nearest city when that city is in a country without an outline and within
//! [`SMALL_TERRITORY_RADIUS_KM`]; grid cells flag where that check can apply, so elsewhere it costs one
//! bit test.

use std::sync::atomic::{AtomicU16, Ordering};

use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::catalog::{Catalog, CountryId};
use crate::geodesy::{LatLon, EARTH_RADIUS_KM};

/// Grid cell size in degrees: cells stay small enough that few edges touch each one (fast queries)
/// while the grid itself stays at about 1 M cells (4 MB).
const CELL_DEG: f64 = 0.25;
const COLS: usize = 1440;
const ROWS: usize = 720;
/// Cell table entries with this bit set index `mixed` (low bits, see `INDEX_BITS`); others hold a
/// country id or `NO_COUNTRY` in the low 16 bits.
const MIXED: u32 = 1 << 31;
/// Cell table flag: a city of a country without an outline is within `SMALL_TERRITORY_RADIUS_KM`.
const NEAR_SMALL_TERRITORY: u32 = 1 << 30;
const INDEX_BITS: u32 = NEAR_SMALL_TERRITORY - 1;
const NO_COUNTRY: u16 = u16::MAX;
const NO_POLYGON: u16 = u16::MAX;
/// Cells are widened by this much (degrees, well under a millimetre) when deciding which edges touch
/// them, so that rounding never hides an edge lying on a cell border.
const CELL_MARGIN: f64 = 1e-9;
/// The sweep line of a row runs this far above the row centre. Outline vertices have 4 decimals, so
/// no vertex (and no horizontal edge) ever lies exactly on a sweep line.
const SWEEP_OFFSET: f64 = 1.234_567e-5;

/// A point whose nearest city is this close and lies in a country without a 1:110m outline (Singapore,
/// Hong Kong, Monaco, …) takes that city's country. Large enough to cover Singapore from its many
/// GeoNames districts; small enough that the rule stays local (a neighbour's own nearer city wins).
pub const SMALL_TERRITORY_RADIUS_KM: f64 = 20.0;

/// Cells flagged `NEAR_SMALL_TERRITORY` are split into `SUB_DIVISIONS`² sub-cells (about 3.5 km),
/// each classified on first use; see `SUB_*` for the states.
const SUB_DIVISIONS: usize = 8;
const SUB_DEG: f64 = CELL_DEG / SUB_DIVISIONS as f64;
const SUB_UNKNOWN: u16 = 0;
/// The rule must be checked per query (the sub-cell straddles a territory's edge).
const SUB_VARIES: u16 = 1;
/// The rule never applies in the sub-cell. Other values are the territory's country id + 3.
const SUB_NEVER: u16 = 2;

/// Fallback cache states per cell; other values are a country id + 2.
const FALLBACK_UNKNOWN: u16 = 0;
const FALLBACK_VARIES: u16 = 1;

/// A polygon edge, oriented (in `CountryIndex::edges`) so that the owning cell's reference point lies
/// strictly to its left.
#[derive(Debug, Clone, Copy)]
struct Edge {
    ax: f64,
    ay: f64,
    bx: f64,
    by: f64,
}

/// A grid cell that polygon edges pass through.
#[derive(Debug)]
struct MixedCell {
    ref_x: f64,
    ref_y: f64,
    groups_start: u32,
    groups_len: u32,
    /// First polygon (in priority order) that contains the whole cell without touching it.
    fallback: u16,
}

/// The edges of one polygon inside one mixed cell.
#[derive(Debug)]
struct Group {
    polygon: u16,
    inside_at_ref: bool,
    edges_start: u32,
    edges_len: u32,
}

/// Exact point-in-country lookup; see the module documentation for how it works.
pub struct CountryIndex {
    /// Row-major grid, row 0 at latitude -90, column 0 at longitude -180.
    cells: Vec<u32>,
    mixed: Vec<MixedCell>,
    groups: Vec<Group>,
    edges: Vec<Edge>,
    /// Country (or `NO_COUNTRY`) of each polygon; polygon ids are in catalog priority order.
    polygon_country: Vec<u16>,
    cities: CityIndex,
    /// Country of each city, by city index.
    city_country: Vec<u16>,
    /// Per country id: whether any outline belongs to it.
    has_outline: Vec<bool>,
    /// Cells flagged `NEAR_SMALL_TERRITORY`, sorted.
    territory_cells: Vec<u32>,
    /// `SUB_DIVISIONS`² lazily filled sub-cell states (`SUB_*`) per entry of `territory_cells`.
    territory_states: Vec<AtomicU16>,
    /// Per-cell memo of the nearest-city fallback (see `FALLBACK_*`), filled lazily: computing it for
    /// every cell up front would cost about a second.
    fallback: Vec<AtomicU16>,
}

impl CountryIndex {
    /// The index over the embedded catalog, built on first use and shared by every caller.
    pub fn embedded() -> &'static CountryIndex {
        static INDEX: std::sync::OnceLock<CountryIndex> = std::sync::OnceLock::new();
        INDEX.get_or_init(|| CountryIndex::new(Catalog::embedded()))
    }

    /// Builds the index from the catalog's outlines and cities (a few tens of milliseconds in release
    /// builds).
    pub fn new(catalog: &Catalog) -> Self {
        let (edges, edge_polygon, polygon_country) = flatten_outlines(catalog);
        let incidences = cell_incidences(&edges);
        let crossings = sweep_crossings(&edges, &edge_polygon);
        let mut index = CountryIndex {
            cells: vec![u32::from(NO_COUNTRY); COLS * ROWS],
            mixed: Vec::new(),
            groups: Vec::new(),
            edges: Vec::new(),
            polygon_country,
            cities: CityIndex::new(catalog),
            city_country: catalog.cities.iter().map(|c| c.country.0).collect(),
            has_outline: countries_with_outline(catalog),
            territory_cells: Vec::new(),
            territory_states: Vec::new(),
            fallback: (0..COLS * ROWS)
                .map(|_| AtomicU16::new(FALLBACK_UNKNOWN))
                .collect(),
        };
        index.classify_cells(&edges, &edge_polygon, &incidences, &crossings);
        index.flag_small_territories(catalog);
        index
    }

    /// The country whose outline contains `p`, or `None` at sea, in gaps between outlines or exactly on
    /// an outline boundary. Agrees with `geo::Contains` over the outlines in catalog order. Invalid
    /// coordinates are normalised first (longitude wrapped, latitude clamped, non-finite values
    /// replaced by 0), so any input is answered without panicking.
    pub fn polygon_country(&self, p: LatLon) -> Option<CountryId> {
        let p = sanitize(p);
        let code = self.polygon_code(cell_of(p), p);
        (code != NO_COUNTRY).then_some(CountryId(code))
    }

    /// The country a user at `p` is in: the country of the nearest city if that city is within
    /// [`SMALL_TERRITORY_RADIUS_KM`] and its country has no outline (Singapore, Hong Kong, …), else
    /// the country whose outline contains `p`, else (at sea or in gaps between outlines) the country of
    /// the nearest city. Invalid coordinates are normalised as in [`CountryIndex::polygon_country`].
    pub fn lookup(&self, p: LatLon) -> CountryId {
        let p = sanitize(p);
        let cell = cell_of(p);
        if self.cells[cell] & NEAR_SMALL_TERRITORY != 0 {
            if let Some(country) = self.small_territory(cell, p) {
                return country;
            }
        }
        let code = self.polygon_code(cell, p);
        if code != NO_COUNTRY {
            return CountryId(code);
        }
        let slot = &self.fallback[cell];
        let mut state = slot.load(Ordering::Relaxed);
        if state == FALLBACK_UNKNOWN {
            // Racing threads compute the same value, so relaxed ordering is enough.
            state = self.classify_fallback(cell);
            slot.store(state, Ordering::Relaxed);
        }
        if state == FALLBACK_VARIES {
            CountryId(self.city_country[self.cities.nearest(p)])
        } else {
            CountryId(state - 2)
        }
    }

    /// The nearest-city index used for the fallback, so callers need not build a second one.
    pub fn city_index(&self) -> &CityIndex {
        &self.cities
    }

    /// The country of the nearest city to `p` (in flagged cell `cell`) if that city is close and its
    /// country has no outline.
    fn small_territory(&self, cell: usize, p: LatLon) -> Option<CountryId> {
        let slot = self.territory_cells.binary_search(&(cell as u32)).ok()?;
        let (x0, y0) = (cell_x0(cell % COLS), cell_y0(cell / COLS));
        let sub_col = (((p.lon - x0) / SUB_DEG) as usize).min(SUB_DIVISIONS - 1);
        let sub_row = (((p.lat - y0) / SUB_DEG) as usize).min(SUB_DIVISIONS - 1);
        let state_slot = &self.territory_states
            [slot * SUB_DIVISIONS * SUB_DIVISIONS + sub_row * SUB_DIVISIONS + sub_col];
        let mut state = state_slot.load(Ordering::Relaxed);
        if state == SUB_UNKNOWN {
            let (sub_x0, sub_y0) = (x0 + sub_col as f64 * SUB_DEG, y0 + sub_row as f64 * SUB_DEG);
            state = self.classify_sub_cell(sub_x0, sub_y0);
            state_slot.store(state, Ordering::Relaxed);
        }
        match state {
            SUB_NEVER => None,
            SUB_VARIES => {
                let city = self.cities.nearest(p);
                let country = self.city_country[city];
                let km = p.distance_km(self.cities.location(city)?);
                (!self.has_outline[usize::from(country)] && km <= SMALL_TERRITORY_RADIUS_KM)
                    .then_some(CountryId(country))
            }
            territory => Some(CountryId(territory - 3)),
        }
    }

    /// `SUB_*` state of the sub-cell with lower-left corner (`x0`, `y0`).
    fn classify_sub_cell(&self, x0: f64, y0: f64) -> u16 {
        let (candidates, farthest) = self.rect_candidates(x0, y0, SUB_DEG);
        let countries = || candidates.iter().map(|&c| self.city_country[c as usize]);
        let Some(territory) = countries().find(|&c| !self.has_outline[usize::from(c)]) else {
            return SUB_NEVER; // no possible nearest city lies in a territory without outline
        };
        // Every possible nearest city is in that one territory, and always close enough.
        let radius_chord = 2.0 * (0.5 * SMALL_TERRITORY_RADIUS_KM / EARTH_RADIUS_KM).sin();
        if countries().all(|c| c == territory) && farthest <= radius_chord {
            territory + 3
        } else {
            SUB_VARIES
        }
    }

    /// Flags with `NEAR_SMALL_TERRITORY` every cell where the small-territory rule can apply.
    fn flag_small_territories(&mut self, catalog: &Catalog) {
        let mut cells = self.cells_near_small_territory_cities(catalog);
        cells.sort_unstable();
        cells.dedup();
        for &cell in &cells {
            self.cells[cell] |= NEAR_SMALL_TERRITORY;
        }
        self.territory_states = (0..cells.len() * SUB_DIVISIONS * SUB_DIVISIONS)
            .map(|_| AtomicU16::new(SUB_UNKNOWN))
            .collect();
        self.territory_cells = cells.into_iter().map(|c| c as u32).collect();
    }

    /// Every cell that meets the latitude/longitude box (wrapped across the antimeridian) around the
    /// `SMALL_TERRITORY_RADIUS_KM` circle of a city whose country has no outline; may repeat cells.
    fn cells_near_small_territory_cities(&self, catalog: &Catalog) -> Vec<usize> {
        let mut cells = Vec::new();
        // Angular radius with 1 % slack: the box only has to cover the circle.
        let radius = 1.01 * SMALL_TERRITORY_RADIUS_KM / EARTH_RADIUS_KM;
        let dlat = radius.to_degrees();
        for city in &catalog.cities {
            if self.has_outline[city.country.index()] {
                continue;
            }
            let LatLon { lat, lon } = city.location;
            // Widest longitude offset of a spherical cap; near a pole the cap spans every longitude.
            let sin_ratio = radius.sin() / lat.to_radians().cos();
            let dlon = if sin_ratio < 1.0 {
                sin_ratio.asin().to_degrees()
            } else {
                180.0
            };
            let (col_lo, col_hi) = (
                ((lon - dlon + 180.0) / CELL_DEG).floor() as i64,
                ((lon + dlon + 180.0) / CELL_DEG).floor() as i64,
            );
            for row in row_of(lat - dlat)..=row_of(lat + dlat) {
                for col in col_lo..=col_hi.min(col_lo + COLS as i64 - 1) {
                    cells.push(row * COLS + col.rem_euclid(COLS as i64) as usize);
                }
            }
        }
        cells
    }

    /// Country code (or `NO_COUNTRY`) at a valid point `p` in grid cell `cell`.
    #[inline]
    fn polygon_code(&self, cell: usize, p: LatLon) -> u16 {
        let entry = self.cells[cell];
        if entry & MIXED == 0 {
            return entry as u16;
        }
        let cell = &self.mixed[(entry & INDEX_BITS) as usize];
        let start = cell.groups_start as usize;
        let mut best = cell.fallback;
        for group in &self.groups[start..start + cell.groups_len as usize] {
            // Groups are in priority order: once past the fallback, nothing can beat it.
            if group.polygon >= best {
                break;
            }
            if self.group_contains(group, cell, p) {
                best = group.polygon;
                break;
            }
        }
        match best {
            NO_POLYGON => NO_COUNTRY,
            polygon => self.polygon_country[usize::from(polygon)],
        }
    }

    /// Whether `p` lies strictly inside the group's polygon: the state at the reference point, flipped
    /// by each crossing of the segment reference→`p` with the group's edges.
    #[inline]
    fn group_contains(&self, group: &Group, cell: &MixedCell, p: LatLon) -> bool {
        let (rx, ry, px, py) = (cell.ref_x, cell.ref_y, p.lon, p.lat);
        let start = group.edges_start as usize;
        let mut inside = group.inside_at_ref;
        for e in &self.edges[start..start + group.edges_len as usize] {
            let side_p = orient(e.ax, e.ay, e.bx, e.by, px, py);
            if side_p > 0.0 {
                continue; // same side of the edge's line as the reference point: no crossing
            }
            if side_p == 0.0 {
                if within_box(e, px, py) {
                    return false; // on the boundary: not contained, as in geo::Contains
                }
                continue;
            }
            // The segment crosses the edge's line; it crosses the edge itself iff the edge's ends lie on
            // opposite sides of the segment's line. Counting a vertex exactly on that line as being on
            // the right keeps the parity right when the segment passes through a vertex.
            let side_a = orient(rx, ry, px, py, e.ax, e.ay) > 0.0;
            let side_b = orient(rx, ry, px, py, e.bx, e.by) > 0.0;
            if side_a != side_b {
                inside = !inside;
            }
        }
        inside
    }

    /// Sweeps every grid row once and fills `cells`, `mixed`, `groups` and `edges`.
    fn classify_cells(
        &mut self,
        all_edges: &[Edge],
        edge_polygon: &[u16],
        incidences: &[u64],
        crossings: &[Crossing],
    ) {
        let mut next_incidence = 0;
        let mut next_crossing = 0;
        let mut cell_edges: Vec<usize> = Vec::new();
        let mut sweep = RowSweep {
            crossings: &[],
            passed: 0,
            active: Vec::new(),
        };
        for row in 0..ROWS {
            let y = sweep_y(row);
            let row_start = next_crossing;
            while next_crossing < crossings.len() && crossings[next_crossing].row as usize == row {
                next_crossing += 1;
            }
            sweep.start_row(&crossings[row_start..next_crossing]);
            for col in 0..COLS {
                let cell = row * COLS + col;
                cell_edges.clear();
                while next_incidence < incidences.len()
                    && (incidences[next_incidence] >> 32) as usize == cell
                {
                    cell_edges.push((incidences[next_incidence] & 0xFFFF_FFFF) as usize);
                    next_incidence += 1;
                }
                let x0 = cell_x0(col);
                if cell_edges.is_empty() {
                    sweep.advance(x0 + 0.5 * CELL_DEG);
                    let first = sweep.active.iter().copied().min();
                    self.cells[cell] = u32::from(
                        first.map_or(NO_COUNTRY, |p| self.polygon_country[usize::from(p)]),
                    );
                    continue;
                }
                let ref_x = reference_x(x0, y, cell_edges.iter().map(|&e| &all_edges[e]));
                sweep.advance(ref_x);
                let edges = cell_edges.iter().map(|&e| (edge_polygon[e], all_edges[e]));
                self.cells[cell] = MIXED | self.mixed.len() as u32;
                self.add_mixed_cell(edges, &sweep.active, (ref_x, y));
            }
        }
    }

    /// Appends a mixed cell: its edges grouped by polygon (as (polygon, edge) in priority order), each
    /// group's state at the reference point from the sweep's `active` polygons.
    fn add_mixed_cell(
        &mut self,
        edges: impl Iterator<Item = (u16, Edge)>,
        active: &[u16],
        (ref_x, ref_y): (f64, f64),
    ) {
        let groups_start = self.groups.len();
        // Incidences are sorted by edge id, and edge ids follow polygon order, so each polygon's edges
        // arrive as one run, in priority order.
        for (polygon, Edge { ax, ay, bx, by }) in edges {
            if self.groups.len() == groups_start
                || self.groups.last().map(|g| g.polygon) != Some(polygon)
            {
                self.groups.push(Group {
                    polygon,
                    inside_at_ref: active.contains(&polygon),
                    edges_start: self.edges.len() as u32,
                    edges_len: 0,
                });
            }
            // The reference point avoids every edge line (see `reference_x`), so this is never zero;
            // orient the edge so that it is positive.
            let edge = if orient(ax, ay, bx, by, ref_x, ref_y) > 0.0 {
                Edge { ax, ay, bx, by }
            } else {
                Edge {
                    ax: bx,
                    ay: by,
                    bx: ax,
                    by: ay,
                }
            };
            self.edges.push(edge);
            if let Some(group) = self.groups.last_mut() {
                group.edges_len += 1;
            }
        }
        let touching = &self.groups[groups_start..];
        let fallback = active
            .iter()
            .copied()
            .filter(|p| !touching.iter().any(|g| g.polygon == *p))
            .min()
            .unwrap_or(NO_POLYGON);
        self.mixed.push(MixedCell {
            ref_x,
            ref_y,
            groups_start: groups_start as u32,
            groups_len: (self.groups.len() - groups_start) as u32,
            fallback,
        });
    }

    /// Fallback state of a cell: the one country of every city that can be the nearest city to some
    /// point of the cell, or `FALLBACK_VARIES`.
    fn classify_fallback(&self, cell: usize) -> u16 {
        let (x0, y0) = (cell_x0(cell % COLS), cell_y0(cell / COLS));
        let (candidates, _) = self.rect_candidates(x0, y0, CELL_DEG);
        let mut countries = candidates.iter().map(|&c| self.city_country[c as usize]);
        match countries.next() {
            Some(first) if countries.all(|c| c == first) => first + 2,
            _ => FALLBACK_VARIES,
        }
    }

    /// The cities that can be the nearest city to some point of the square with lower-left corner
    /// (`x0`, `y0`) and side `size` degrees, and an upper bound on the chord distance from any point of
    /// the square to its nearest city.
    fn rect_candidates(&self, x0: f64, y0: f64, size: f64) -> (Vec<u32>, f64) {
        let centre = LatLon::new(y0 + 0.5 * size, x0 + 0.5 * size).to_unit_vector();
        // On a lat/lon cell the farthest points from the centre are corners; 1 % slack covers rounding.
        let corners = [
            (y0, x0),
            (y0, x0 + size),
            (y0 + size, x0),
            (y0 + size, x0 + size),
        ];
        let half_diagonal = corners
            .iter()
            .map(|&(lat, lon)| chord(centre, LatLon::new(lat, lon).to_unit_vector()))
            .fold(0.0, f64::max)
            * 1.01;
        let Some(nearest) = self.cities.tree.nearest_neighbor(&centre) else {
            return (Vec::new(), f64::INFINITY);
        };
        // For q in the cell, its nearest city is within |q - nearest| <= half_diagonal + d0 of q, so
        // within 2 * half_diagonal + d0 of the centre (triangle inequality on chords).
        let farthest = chord(centre, *nearest.geom()) + half_diagonal;
        let radius = farthest + half_diagonal + 1e-12;
        let candidates = self
            .cities
            .tree
            .locate_within_distance(centre, radius * radius)
            .map(|city| city.data)
            .collect();
        (candidates, farthest)
    }
}

/// Nearest-city search: an R-tree over city positions as unit vectors, where straight-line (chord)
/// distance orders points exactly as great-circle distance does.
pub struct CityIndex {
    tree: RTree<GeomWithData<[f64; 3], u32>>,
    locations: Vec<LatLon>,
}

impl CityIndex {
    /// Builds the tree over all catalog cities.
    pub fn new(catalog: &Catalog) -> Self {
        let points = catalog
            .cities
            .iter()
            .enumerate()
            .map(|(i, city)| GeomWithData::new(city.location.to_unit_vector(), i as u32))
            .collect();
        CityIndex {
            tree: RTree::bulk_load(points),
            locations: catalog.cities.iter().map(|c| c.location).collect(),
        }
    }

    /// Location of city `index`.
    fn location(&self, index: usize) -> Option<LatLon> {
        self.locations.get(index).copied()
    }

    /// Index into `Catalog::cities` of the city nearest to `p` by great-circle distance. Invalid
    /// coordinates are clamped first (a non-finite point becomes 0°, 0°).
    pub fn nearest(&self, p: LatLon) -> usize {
        self.tree
            .nearest_neighbor(&sanitize(p).to_unit_vector())
            .map_or(0, |city| city.data as usize)
    }
}

/// The sweep along one grid row: the polygons the sweep line is inside of, toggled at each crossing.
struct RowSweep<'a> {
    /// The row's crossings, by x.
    crossings: &'a [Crossing],
    /// Crossings passed so far.
    passed: usize,
    /// Polygons the sweep is inside of (even-odd rule).
    active: Vec<u16>,
}

impl<'a> RowSweep<'a> {
    fn start_row(&mut self, crossings: &'a [Crossing]) {
        self.crossings = crossings;
        self.passed = 0;
        self.active.clear();
    }

    /// Moves the sweep to `x`, toggling each polygon whose edge it passes.
    fn advance(&mut self, x: f64) {
        while self.passed < self.crossings.len() && self.crossings[self.passed].x < x {
            let polygon = self.crossings[self.passed].polygon;
            match self.active.iter().position(|&p| p == polygon) {
                Some(i) => {
                    self.active.swap_remove(i);
                }
                None => self.active.push(polygon),
            }
            self.passed += 1;
        }
    }
}

/// One sweep line crossing: row, longitude, polygon.
#[derive(Debug, Clone, Copy)]
struct Crossing {
    row: u32,
    x: f64,
    polygon: u16,
}

/// All polygon edges (zero-length ones dropped), the polygon of each edge, and the country of each
/// polygon. Polygon ids follow catalog order, which is the priority order for overlapping outlines.
fn flatten_outlines(catalog: &Catalog) -> (Vec<Edge>, Vec<u16>, Vec<u16>) {
    let (mut edges, mut edge_polygon, mut polygon_country) = (Vec::new(), Vec::new(), Vec::new());
    for outline in &catalog.outlines {
        let country = outline.country.map_or(NO_COUNTRY, |c| c.0);
        for polygon in &outline.shape {
            let id = polygon_country.len() as u16;
            polygon_country.push(country);
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for line in ring.lines().filter(|l| l.start != l.end) {
                    edges.push(Edge {
                        ax: line.start.x,
                        ay: line.start.y,
                        bx: line.end.x,
                        by: line.end.y,
                    });
                    edge_polygon.push(id);
                }
            }
        }
    }
    (edges, edge_polygon, polygon_country)
}

/// Which country ids own at least one outline.
fn countries_with_outline(catalog: &Catalog) -> Vec<bool> {
    let mut has = vec![false; catalog.countries.len()];
    for id in catalog.outlines.iter().filter_map(|o| o.country) {
        has[id.index()] = true;
    }
    has
}

/// Every (cell, edge) pair where the edge touches the (slightly widened) cell, encoded as
/// `cell << 32 | edge` and sorted, which groups them by cell and, within a cell, by polygon.
fn cell_incidences(edges: &[Edge]) -> Vec<u64> {
    let mut incidences = Vec::with_capacity(edges.len() * 4);
    for (i, e) in edges.iter().enumerate() {
        let (cols, rows) = (
            col_of(e.ax.min(e.bx) - CELL_MARGIN)..=col_of(e.ax.max(e.bx) + CELL_MARGIN),
            row_of(e.ay.min(e.by) - CELL_MARGIN)..=row_of(e.ay.max(e.by) + CELL_MARGIN),
        );
        for row in rows {
            for col in cols.clone() {
                if segment_touches_cell(e, col, row) {
                    incidences.push(((row * COLS + col) as u64) << 32 | i as u64);
                }
            }
        }
    }
    incidences.sort_unstable();
    incidences
}

/// Whether segment `e` meets cell (`col`, `row`) widened by `CELL_MARGIN`: the boxes overlap and the
/// cell's corners are not all strictly on one side of the segment's line (separating-axis test).
fn segment_touches_cell(e: &Edge, col: usize, row: usize) -> bool {
    let (x0, y0) = (cell_x0(col) - CELL_MARGIN, cell_y0(row) - CELL_MARGIN);
    let (x1, y1) = (
        x0 + CELL_DEG + 2.0 * CELL_MARGIN,
        y0 + CELL_DEG + 2.0 * CELL_MARGIN,
    );
    if e.ax.max(e.bx) < x0 || e.ax.min(e.bx) > x1 || e.ay.max(e.by) < y0 || e.ay.min(e.by) > y1 {
        return false;
    }
    let sides =
        [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| orient(e.ax, e.ay, e.bx, e.by, x, y));
    !(sides.iter().all(|&s| s > 0.0) || sides.iter().all(|&s| s < 0.0))
}

/// Where each row's sweep line crosses polygon edges, sorted by row then longitude. An edge crosses the
/// line at `y` iff exactly one end lies above it (the usual half-open rule of the even-odd test).
fn sweep_crossings(edges: &[Edge], edge_polygon: &[u16]) -> Vec<Crossing> {
    let mut crossings = Vec::new();
    for (e, &polygon) in edges.iter().zip(edge_polygon) {
        if e.ay == e.by {
            continue;
        }
        let first = row_of(e.ay.min(e.by)).saturating_sub(1);
        let last = row_of(e.ay.max(e.by));
        for row in first..=last {
            let y = sweep_y(row);
            if (e.ay > y) != (e.by > y) {
                let x = e.ax + (y - e.ay) * (e.bx - e.ax) / (e.by - e.ay);
                crossings.push(Crossing {
                    row: row as u32,
                    x,
                    polygon,
                });
            }
        }
    }
    crossings.sort_unstable_by(|a, b| a.row.cmp(&b.row).then(a.x.total_cmp(&b.x)));
    crossings
}

/// A longitude in the cell [`x0`, `x0 + CELL_DEG`] for the reference point on sweep line `y`, as far as
/// possible from every point where an edge's line meets the sweep line, so that the reference point is
/// on no edge line and its orientation tests are never close calls.
fn reference_x<'a>(x0: f64, y: f64, edges: impl Iterator<Item = &'a Edge>) -> f64 {
    let x1 = x0 + CELL_DEG;
    let mut cuts: Vec<f64> = edges
        .filter(|e| e.ay != e.by)
        .map(|e| e.ax + (y - e.ay) * (e.bx - e.ax) / (e.by - e.ay))
        .filter(|&x| x > x0 && x < x1)
        .collect();
    cuts.push(x0);
    cuts.push(x1);
    cuts.sort_unstable_by(f64::total_cmp);
    let (lo, hi) = cuts
        .windows(2)
        .map(|w| (w[0], w[1]))
        .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
        .unwrap_or((x0, x1));
    0.5 * (lo + hi)
}

/// Twice the signed area of triangle a, b, p: positive when p is left of the line a→b.
#[inline]
fn orient(ax: f64, ay: f64, bx: f64, by: f64, px: f64, py: f64) -> f64 {
    (bx - ax) * (py - ay) - (by - ay) * (px - ax)
}

/// Whether p (known to be on the line through the edge) lies within the edge's extent.
fn within_box(e: &Edge, px: f64, py: f64) -> bool {
    px >= e.ax.min(e.bx) && px <= e.ax.max(e.bx) && py >= e.ay.min(e.by) && py <= e.ay.max(e.by)
}

fn chord(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

fn cell_x0(col: usize) -> f64 {
    -180.0 + col as f64 * CELL_DEG
}

fn cell_y0(row: usize) -> f64 {
    -90.0 + row as f64 * CELL_DEG
}

fn sweep_y(row: usize) -> f64 {
    cell_y0(row) + 0.5 * CELL_DEG + SWEEP_OFFSET
}

/// Column of a longitude, clamped to the grid (so ±180 and slightly outside values are safe).
#[inline]
fn col_of(lon: f64) -> usize {
    (((lon + 180.0) * (1.0 / CELL_DEG)) as usize).min(COLS - 1)
}

/// Row of a latitude, clamped to the grid.
#[inline]
fn row_of(lat: f64) -> usize {
    (((lat + 90.0) * (1.0 / CELL_DEG)) as usize).min(ROWS - 1)
}

#[inline]
fn cell_of(p: LatLon) -> usize {
    row_of(p.lat) * COLS + col_of(p.lon)
}

/// A valid point for any input: non-finite coordinates become 0, latitude is clamped, longitude wrapped.
fn sanitize(p: LatLon) -> LatLon {
    if p.is_valid() {
        return p;
    }
    let lat = if p.lat.is_finite() {
        p.lat.clamp(-90.0, 90.0)
    } else {
        0.0
    };
    let lon = if p.lon.is_finite() {
        (p.lon + 180.0).rem_euclid(360.0) - 180.0
    } else {
        0.0
    };
    LatLon::new(lat, lon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Point};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::sync::OnceLock;
    use std::time::Instant;

    fn catalog() -> &'static Catalog {
        Catalog::embedded()
    }

    fn index() -> &'static CountryIndex {
        static INDEX: OnceLock<CountryIndex> = OnceLock::new();
        INDEX.get_or_init(|| CountryIndex::new(catalog()))
    }

    /// The oracle: first outline (catalog order) whose shape contains the point.
    fn brute_force(p: LatLon) -> Option<CountryId> {
        let point = Point::new(p.lon, p.lat);
        catalog()
            .outlines
            .iter()
            .find(|o| o.shape.contains(&point))
            .and_then(|o| o.country)
    }

    fn iso2(id: Option<CountryId>) -> Option<&'static str> {
        id.map(|id| catalog().country(id).iso2.as_str())
    }

    /// Points within `max_km` of random cities among the `top` most populous.
    fn points_near_cities(seed: u64, n: usize, top: usize, max_km: f64) -> Vec<LatLon> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let cities = &catalog().cities;
        (0..n)
            .map(|_| {
                let city = &cities[rng.random_range(0..top.min(cities.len()))];
                let km = max_km * rng.random::<f64>().sqrt();
                city.location.destination(rng.random_range(0.0..360.0), km)
            })
            .collect()
    }

    #[test]
    fn known_points() {
        let idx = index();
        let at = |lat, lon| iso2(idx.polygon_country(LatLon::new(lat, lon)));
        assert_eq!(at(51.5074, -0.1278), Some("GB"), "London");
        assert_eq!(at(48.8566, 2.3522), Some("FR"), "Paris");
        assert_eq!(at(52.3676, 4.9041), Some("NL"), "Amsterdam");
        assert_eq!(at(38.9072, -77.0369), Some("US"), "Washington DC");
        assert_eq!(at(-33.8688, 151.2093), Some("AU"), "Sydney");
        assert_eq!(at(35.6762, 139.6503), Some("JP"), "Tokyo");
        assert_eq!(at(-23.5505, -46.6333), Some("BR"), "São Paulo");
        assert_eq!(
            at(-29.31, 27.48),
            Some("LS"),
            "Maseru: Lesotho is a hole in South Africa"
        );
        assert_eq!(at(-29.0, 25.0), Some("ZA"));
        assert_eq!(
            at(-17.8, 178.0),
            Some("FJ"),
            "Fiji, west of the antimeridian"
        );
        assert_eq!(
            at(-16.3, -179.95),
            Some("FJ"),
            "Fiji, east of the antimeridian"
        );
        assert_eq!(at(66.0, 179.9), Some("RU"), "Chukotka west of 180");
        assert_eq!(at(66.0, -179.9), Some("RU"), "Chukotka east of 180");
        assert_eq!(at(-89.9, 45.0), Some("AQ"), "near the South Pole");
        assert_eq!(at(89.9, 0.0), None, "North Pole is sea");
        assert_eq!(
            at(44.0, -87.0),
            Some("US"),
            "Lake Michigan is inside the US outline"
        );
        assert_eq!(at(42.0, 50.5), None, "Caspian Sea is in no outline");
        assert_eq!(at(1.0, 33.0), Some("UG"), "Lake Victoria, Ugandan part");
        assert_eq!(at(30.0, -40.0), None, "mid-Atlantic");
    }

    #[test]
    fn near_a_border() {
        let idx = index();
        // The 1:110m Rhine border is coarse; these points sit about 25 km either side of it.
        assert_eq!(
            iso2(idx.polygon_country(LatLon::new(48.58, 7.45))),
            Some("FR"),
            "west of Strasbourg"
        );
        assert_eq!(
            iso2(idx.polygon_country(LatLon::new(48.58, 8.1))),
            Some("DE"),
            "east of Kehl"
        );
        for p in [LatLon::new(48.5734, 7.7521), LatLon::new(48.5694, 7.8155)] {
            assert_eq!(idx.polygon_country(p), brute_force(p), "{p:?}");
        }
    }

    #[test]
    fn sea_falls_back_to_nearest_city_country() {
        let idx = index();
        let mid_atlantic = LatLon::new(30.0, -40.0);
        let nearest = &catalog().cities[idx.city_index().nearest(mid_atlantic)];
        assert_eq!(idx.lookup(mid_atlantic), nearest.country);
        // Just off Dover, in the Channel: nearest city decides (GB side).
        assert_eq!(iso2(Some(idx.lookup(LatLon::new(51.05, 1.35)))), Some("GB"));
        assert_eq!(
            iso2(Some(idx.lookup(LatLon::new(48.8566, 2.3522)))),
            Some("FR")
        );
    }

    #[test]
    fn lookup_matches_its_definition() {
        // Neither the per-cell memos nor the small-territory flags may change the answer.
        let idx = CountryIndex::new(catalog()); // fresh memos
        let mut points = points_near_cities(7, 20_000, 3_000, 80.0);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        points.extend((0..5_000).map(|_| {
            LatLon::new(
                rng.random_range(-90.0..=90.0),
                rng.random_range(-180.0..=180.0),
            )
        }));
        // Dense sampling around the cities of territories without an outline (Singapore, Hong Kong…).
        let small_cities: Vec<LatLon> = catalog()
            .cities
            .iter()
            .filter(|c| !idx.has_outline[c.country.index()])
            .map(|c| c.location)
            .collect();
        points.extend((0..20_000).map(|_| {
            let city = small_cities[rng.random_range(0..small_cities.len())];
            city.destination(rng.random_range(0.0..360.0), rng.random_range(0.0..40.0))
        }));
        for &p in &points {
            let nearest = &catalog().cities[idx.city_index().nearest(p)];
            let small = !idx.has_outline[nearest.country.index()]
                && p.distance_km(nearest.location) <= SMALL_TERRITORY_RADIUS_KM;
            let expected = if small {
                nearest.country
            } else {
                idx.polygon_country(p).unwrap_or(nearest.country)
            };
            assert_eq!(idx.lookup(p), expected, "{p:?}");
        }
    }

    #[test]
    fn concurrent_lookups_agree_with_sequential_ones() {
        // The lazily filled memos are shared between threads; results must not depend on who fills them.
        let points = points_near_cities(5, 20_000, 34_000, 60.0);
        let shared = CountryIndex::new(catalog());
        let per_thread: Vec<Vec<CountryId>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|t| {
                    let (shared, points) = (&shared, &points);
                    // Each thread walks the points from a different offset so they race on memos.
                    scope.spawn(move || {
                        let mut out: Vec<(usize, CountryId)> = (0..points.len())
                            .map(|i| (i + t * 5_000) % points.len())
                            .map(|i| (i, shared.lookup(points[i])))
                            .collect();
                        out.sort_unstable_by_key(|&(i, _)| i);
                        out.into_iter().map(|(_, c)| c).collect()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("worker panicked"))
                .collect()
        });
        let sequential: Vec<CountryId> = points.iter().map(|p| index().lookup(*p)).collect();
        for result in per_thread {
            assert_eq!(result, sequential);
        }
    }

    #[test]
    fn small_territories_inside_other_outlines() {
        let idx = index();
        let at = |lat, lon| iso2(Some(idx.lookup(LatLon::new(lat, lon))));
        let polygon = |lat, lon| iso2(idx.polygon_country(LatLon::new(lat, lon)));
        assert_eq!(
            polygon(1.29, 103.85),
            Some("MY"),
            "1:110m has no Singapore outline"
        );
        assert_eq!(at(1.29, 103.85), Some("SG"), "Singapore");
        assert_eq!(at(1.34, 103.65), Some("SG"), "Tuas, western Singapore");
        assert_eq!(at(1.4655, 103.7578), Some("MY"), "Johor Bahru");
        assert_eq!(at(3.139, 101.6869), Some("MY"), "Kuala Lumpur");
        assert_eq!(at(22.3193, 114.1694), Some("HK"), "Hong Kong");
        assert_eq!(at(22.5455, 114.0683), Some("CN"), "Shenzhen");
        assert_eq!(at(22.1987, 113.5439), Some("MO"), "Macau");
        assert_eq!(at(43.7384, 7.4246), Some("MC"), "Monaco");
        assert_eq!(at(43.7102, 7.262), Some("FR"), "Nice");
        assert_eq!(
            at(-8.52, 179.2),
            Some("TV"),
            "Tuvalu, next to the antimeridian"
        );
    }

    #[test]
    fn invalid_points_do_not_panic() {
        let idx = index();
        for p in [
            LatLon::new(f64::NAN, 0.0),
            LatLon::new(0.0, f64::INFINITY),
            LatLon::new(95.0, 200.0),
            LatLon::new(-1e300, -1e300),
        ] {
            assert_eq!(
                idx.polygon_country(p),
                None,
                "{p:?} normalises to a point at sea"
            );
            let _ = idx.lookup(p);
            let _ = idx.city_index().nearest(p);
        }
        let wrapped = LatLon::new(51.5, 359.87);
        assert_eq!(iso2(idx.polygon_country(wrapped)), Some("GB"));
        assert_eq!(idx.lookup(wrapped), idx.lookup(LatLon::new(51.5, -0.13)));
    }

    #[test]
    fn agrees_with_brute_force_on_random_points() {
        let idx = index();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
        let mut points = points_near_cities(1, 15_000, catalog().cities.len(), 60.0);
        points.extend((0..5_000).map(|_| {
            LatLon::new(
                rng.random_range(-90.0..=90.0),
                rng.random_range(-180.0..=180.0),
            )
        }));
        let mut land = 0;
        for p in &points {
            let expected = brute_force(*p);
            land += usize::from(expected.is_some());
            assert_eq!(idx.polygon_country(*p), expected, "{p:?}");
        }
        assert!(
            land > 10_000,
            "test points should be mostly on land, got {land}"
        );
    }

    #[test]
    fn agrees_with_brute_force_on_degenerate_points() {
        // Outline vertices (on boundaries), grid lines and the ±180 / ±90 edges stress the tie rules.
        let idx = index();
        let mut points: Vec<LatLon> = catalog()
            .outlines
            .iter()
            .flat_map(|o| o.shape.iter())
            .flat_map(|poly| poly.exterior().coords().step_by(3))
            .map(|c| LatLon::new(c.y, c.x))
            .collect();
        for lat in (-359..=359).step_by(7).map(|i| f64::from(i) * 0.25) {
            for lon in (-720..=720).step_by(13).map(|i| f64::from(i) * 0.25) {
                points.push(LatLon::new(lat.clamp(-90.0, 90.0), lon));
            }
            points.push(LatLon::new(lat / 4.0, 180.0));
            points.push(LatLon::new(lat / 4.0, -180.0));
        }
        for lon in (-180..=180).step_by(5) {
            points.push(LatLon::new(-90.0, f64::from(lon)));
            points.push(LatLon::new(90.0, f64::from(lon)));
        }
        for p in points {
            assert_eq!(idx.polygon_country(p), brute_force(p), "{p:?}");
        }
    }

    #[test]
    fn no_vertex_lies_on_a_sweep_line() {
        // `SWEEP_OFFSET` relies on this; if the data ever gains more decimals, pick another offset.
        for outline in &catalog().outlines {
            for polygon in &outline.shape {
                for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                    for c in ring.coords() {
                        assert_ne!(c.y, sweep_y(row_of(c.y)), "{c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn city_index_finds_the_nearest_city() {
        let idx = index();
        let c = catalog();
        let london = c.find_city("London, GB").expect("London");
        assert_eq!(idx.city_index().nearest(c.cities[london].location), london);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for _ in 0..50 {
            let p = LatLon::new(
                rng.random_range(-60.0..70.0),
                rng.random_range(-180.0..180.0),
            );
            let brute = c
                .cities
                .iter()
                .map(|city| p.distance_km(city.location))
                .fold(f64::INFINITY, f64::min);
            let found = p.distance_km(c.cities[idx.city_index().nearest(p)].location);
            assert!((found - brute).abs() < 1e-6, "{p:?}: {found} vs {brute}");
        }
    }

    /// Best (least disturbed) wall time of `runs` runs of `f`, in seconds: the machine is shared, so
    /// the minimum is the most faithful figure.
    fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
        let mut best = f64::INFINITY;
        let mut result = None;
        for _ in 0..runs {
            let t = Instant::now();
            result = Some(f());
            best = best.min(t.elapsed().as_secs_f64());
        }
        (best, result.expect("at least one run"))
    }

    /// Build time and lookup throughput for points within 50 km of the 2,000 largest cities:
    /// `cargo test --release -- --ignored --nocapture throughput`.
    #[test]
    #[ignore = "timing measurement; run explicitly in release mode"]
    fn throughput() {
        let c = catalog();
        let (build, idx) = best_of(5, || CountryIndex::new(c));
        let points = points_near_cities(11, 1_000_000, 2_000, 50.0);
        let lookup_all = || {
            points
                .iter()
                .map(|p| u64::from(idx.lookup(*p).0))
                .sum::<u64>()
        };
        lookup_all(); // fills the fallback memo
        let (secs, checksum) = best_of(10, lookup_all);
        let share = |f: &dyn Fn(&LatLon) -> bool| {
            100.0 * points.iter().filter(|p| f(p)).count() as f64 / points.len() as f64
        };
        let at_sea = share(&|p| idx.polygon_country(*p).is_none());
        let in_mixed = share(&|p| idx.cells[cell_of(*p)] & MIXED != 0);
        let near_small = share(&|p| idx.cells[cell_of(*p)] & NEAR_SMALL_TERRITORY != 0);
        let bytes = idx.cells.len() * 4
            + idx.fallback.len() * 2
            + idx.mixed.len() * std::mem::size_of::<MixedCell>()
            + idx.groups.len() * std::mem::size_of::<Group>()
            + idx.edges.len() * std::mem::size_of::<Edge>()
            + idx.territory_cells.len() * 4
            + idx.territory_states.len() * 2;
        println!(
            "index build {:.1} ms; grid {:.1} MB ({} boundary cells, {} cell edges, {} small-territory cells)",
            build * 1e3,
            bytes as f64 / 1e6,
            idx.mixed.len(),
            idx.edges.len(),
            idx.territory_cells.len(),
        );
        let sub_states = idx
            .territory_states
            .iter()
            .map(|s| s.load(Ordering::Relaxed));
        println!(
            "small-territory sub-cells used: {}, of which decided per query: {}",
            sub_states.clone().filter(|&s| s != SUB_UNKNOWN).count(),
            sub_states.filter(|&s| s == SUB_VARIES).count()
        );
        println!(
            "points: {at_sea:.1}% at sea, {in_mixed:.1}% in boundary cells, {near_small:.2}% near small territories"
        );
        println!(
            "lookup: {:.1} M/s on one core (checksum {checksum})",
            points.len() as f64 / secs / 1e6
        );
    }
}
