#!/usr/bin/env python3
"""Derive egress-sim's embedded catalogs (data/*) from the raw reference data.

Usage (from the repository root):
    python3 tools/derive_data.py [--shared DIR] [--out DIR]

Reads DIR (default ../shared/data): cloudflare-colos.json, geonames-cities15000.csv,
geonames-countries.csv, naturalearth-countries-110m.geojson, cloudflare-colos.LICENSE.
Writes data/datacenters.csv, cities.csv, countries.csv, country_outlines.geojson and
LICENSE-cloudflare-colos.txt. Standard library only; output is deterministic, so re-running on the
same inputs gives byte-identical files. Fails loudly (non-zero exit) on any inconsistency rather than
writing a catalog with holes.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from pathlib import Path

CONTINENTS = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"}

# Letters that Unicode does not decompose (so NFKD leaves them alone) but that people type without the
# stroke or ligature. Must stay in step with `search_key` in src/suggest.rs.
EXTRA_FOLDS = {
    "ı": "i", "ł": "l", "đ": "d", "ð": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "ə": "e",
    "ħ": "h", "þ": "th",
    "’": "'", "‘": "'", "ʻ": "'", "ʼ": "'", "–": "-", "—": "-",
}

# Natural Earth outlines whose iso_a3 is "-99" or has no ISO 3166 entry. Northern Cyprus and Somaliland
# have no ISO code of their own; GeoNames files their towns under CY and SO, so the outlines follow suit
# and a point there resolves to the same country as its nearest city would.
OUTLINE_NAME_TO_ISO2 = {
    "Kosovo": "XK",
    "N. Cyprus": "CY",
    "Somaliland": "SO",
    "France": "FR",
    "Norway": "NO",
}

# The colo list writes "Albuquerque, NM", "Adelaide, SA", "Toronto, ON": drop the state/province code.
REGION_SUFFIX = re.compile(r",\s*[A-Z]{2,3}$")


def search_key(text: str) -> str:
    """Lower-case, accent-folded key used for case- and accent-insensitive name matching."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return "".join(EXTRA_FOLDS.get(ch, ch) for ch in stripped)


def coord(value: float) -> str:
    """Shortest text for a coordinate rounded to 4 decimals (about 11 m), without a trailing '.0'."""
    text = repr(round(float(value), 4))
    return text[:-2] if text.endswith(".0") else text


def fail(message: str) -> None:
    sys.exit(f"derive_data: error: {message}")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def load_countries(shared: Path) -> list[dict[str, str]]:
    with (shared / "geonames-countries.csv").open(encoding="utf-8", newline="") as src:
        rows = list(csv.DictReader(src))
    for row in rows:
        if row["continent"] not in CONTINENTS:
            fail(f"country {row['iso']}: unknown continent {row['continent']!r}")
        if not re.fullmatch(r"[A-Z]{2}", row["iso"]) or not re.fullmatch(r"[A-Z]{3}", row["iso3"]):
            fail(f"country {row['name']!r}: bad ISO codes {row['iso']!r}/{row['iso3']!r}")
    return sorted(rows, key=lambda r: r["iso"])


def derive_countries(rows: list[dict[str, str]], out: Path) -> None:
    write_csv(
        out / "countries.csv",
        ["iso2", "iso3", "name", "continent"],
        [[r["iso"], r["iso3"], r["name"].strip(), r["continent"]] for r in rows],
    )


def derive_datacenters(shared: Path, continent_of: dict[str, str], out: Path) -> int:
    with (shared / "cloudflare-colos.json").open(encoding="utf-8") as src:
        colos = json.load(src)
    rows = []
    for key, colo in colos.items():
        code = colo["iata"]
        if code != key or not re.fullmatch(r"[A-Z]{3}", code):
            fail(f"colo {key}: bad IATA code {code!r}")
        country = colo["cca2"]
        if country not in continent_of:
            fail(f"colo {code}: country {country!r} is not in geonames-countries.csv")
        city = REGION_SUFFIX.sub("", colo["city"]).strip()
        rows.append([code, city, country, continent_of[country], colo["cf_lb_region"],
                     coord(colo["lat"]), coord(colo["lon"])])
    rows.sort(key=lambda r: r[0])
    write_csv(out / "datacenters.csv",
              ["code", "city", "country", "continent", "region", "lat", "lon"], rows)
    return len(rows)


def derive_cities(shared: Path, continent_of: dict[str, str], out: Path) -> int:
    with (shared / "geonames-cities15000.csv").open(encoding="utf-8", newline="") as src:
        source = list(csv.DictReader(src))
    rows = []
    for city in source:
        if city["country"] not in continent_of:
            fail(f"city {city['name']!r}: country {city['country']!r} is unknown")
        name = city["name"].strip()
        rows.append((-int(city["population"]), name, [
            name, search_key(name), city["country"], city["admin1"],
            coord(city["latitude"]), coord(city["longitude"]), city["population"],
        ]))
    # Most populous first: "first match wins" in the Rust lookups then prefers the big city.
    rows.sort(key=lambda r: (r[0], r[1], r[2][2]))
    write_csv(out / "cities.csv",
              ["name", "ascii_name", "country", "admin1", "lat", "lon", "population"],
              [r[2] for r in rows])
    return len(rows)


def round_ring(ring: list[list[float]]) -> list[list[float]]:
    """Rounds a ring to 4 decimals and drops consecutive duplicate vertices (zero-length edges)."""
    result: list[list[float]] = []
    for lon, lat in ring:
        point = [round(lon, 4), round(lat, 4)]
        if not result or result[-1] != point:
            result.append(point)
    return result


def derive_outlines(shared: Path, countries: list[dict[str, str]], out: Path) -> list[str]:
    with (shared / "naturalearth-countries-110m.geojson").open(encoding="utf-8") as src:
        source = json.load(src)
    iso2_of_iso3 = {r["iso3"]: r["iso"] for r in countries}
    iso2_of_name = {r["name"].strip(): r["iso"] for r in countries}
    features, unmapped = [], []
    for feature in source["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        name = props["name"]
        iso2 = (iso2_of_iso3.get(props["iso_a3"]) or OUTLINE_NAME_TO_ISO2.get(name)
                or iso2_of_name.get(name))
        if iso2 is None:
            unmapped.append(name)
        if geometry["type"] == "Polygon":
            source_polygons = [geometry["coordinates"]]
        elif geometry["type"] == "MultiPolygon":
            source_polygons = geometry["coordinates"]
        else:
            fail(f"outline {name!r}: unsupported geometry {geometry['type']!r}")
        polygons = []
        for polygon in source_polygons:
            # A ring needs 3 distinct vertices plus the closing one; the source has a few collapsed
            # slivers (a North Korean "island" that is one repeated point) that carry no area.
            exterior = round_ring(polygon[0])
            if len(exterior) < 4:
                continue
            holes = [h for h in (round_ring(ring) for ring in polygon[1:]) if len(h) >= 4]
            polygons.append([exterior, *holes])
        if not polygons:
            fail(f"outline {name!r}: no polygon with an area")
        # Always MultiPolygon, so readers handle one geometry type.
        features.append({"type": "Feature", "properties": {"iso2": iso2},
                         "geometry": {"type": "MultiPolygon", "coordinates": polygons}})
    collection = {"type": "FeatureCollection", "features": features}
    with (out / "country_outlines.geojson").open("w", encoding="utf-8") as dst:
        json.dump(collection, dst, separators=(",", ":"))
        dst.write("\n")
    return unmapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"),
                        help="folder with the raw reference data (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data",
                        help="output folder (default: data/ next to tools/)")
    args = parser.parse_args()
    if not args.shared.is_dir():
        fail(f"{args.shared} is not a directory (run from the repository root or pass --shared)")
    args.out.mkdir(parents=True, exist_ok=True)

    countries = load_countries(args.shared)
    continent_of = {r["iso"]: r["continent"] for r in countries}
    derive_countries(countries, args.out)
    n_dc = derive_datacenters(args.shared, continent_of, args.out)
    n_cities = derive_cities(args.shared, continent_of, args.out)
    unmapped = derive_outlines(args.shared, countries, args.out)
    licence = (args.shared / "cloudflare-colos.LICENSE").read_text(encoding="utf-8")
    (args.out / "LICENSE-cloudflare-colos.txt").write_text(licence, encoding="utf-8")

    print(f"derive_data: {len(countries)} countries, {n_dc} data centers, {n_cities} cities -> {args.out}")
    if unmapped:
        print(f"derive_data: outlines without an ISO country (iso2 null): {', '.join(unmapped)}")


if __name__ == "__main__":
    main()
