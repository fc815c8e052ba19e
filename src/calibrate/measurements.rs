//! The measurements file: one measured round trip per row, `from,to,rtt_ms`.
//!
//! Places are written as for `egress-sim latency` (a data center code, a city, or `"lat,lon"` in
//! quotes), one pair per line. Lines starting with `#` are comments (for the source and licence of the numbers), blank
//! lines are skipped, and columns other than the three are kept out of the fit (for notes). Every bad
//! row is reported with its line and column, up to `MAX_SHOWN`.

use std::collections::HashMap;
use std::path::Path;

use crate::catalog::{Catalog, DataCenter};
use crate::error::{Error, InputError, Source};
use crate::place::{self, Place};
use crate::suggest;

/// The columns a measurements file must have.
pub const COLUMNS: [&str; 3] = ["from", "to", "rtt_ms"];
/// Bad rows shown in one error report.
const MAX_SHOWN: usize = 20;

/// One measured pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// 1-based line in the file.
    pub line: u64,
    /// Where the measurement started, as written.
    pub from_text: String,
    /// Where it went, as written.
    pub to_text: String,
    /// `from`, resolved.
    pub from: Place,
    /// `to`, resolved.
    pub to: Place,
    /// Measured round-trip time, ms.
    pub rtt_ms: f64,
    /// Great-circle distance between the two places, km.
    pub distance_km: f64,
}

/// Reads the measurements at `path`, resolving places against `datacenters` and the catalog.
pub fn read(
    path: &Path,
    datacenters: &[DataCenter],
    catalog: &Catalog,
) -> Result<Vec<Measurement>, Error> {
    let text = std::fs::read(path).map_err(|e| {
        Error::Input(
            InputError::new(format!(
                "cannot read measurements `{}`: {e}",
                path.display()
            ))
            .with_help("give a CSV file with the columns from,to,rtt_ms"),
        )
    })?;
    let text = String::from_utf8(text).map_err(|_| {
        Error::Input(
            InputError::new(format!("`{}` is not UTF-8 text", path.display()))
                .with_help("save the measurements as a UTF-8 CSV file"),
        )
    })?;
    // Spreadsheets often save a byte-order mark, which would otherwise glue itself to `from`.
    let text = match text.strip_prefix('\u{feff}') {
        Some(t) => t.to_string(),
        None => text,
    };
    parse(&Source::new(path, text), datacenters, catalog)
}

/// Parses measurements from a source already in memory.
pub fn parse(
    src: &Source,
    datacenters: &[DataCenter],
    catalog: &Catalog,
) -> Result<Vec<Measurement>, Error> {
    let mut lines = data_lines(&src.text);
    let Some((_, header_start, header_text)) = lines.next() else {
        return Err(InputError::in_file(
            src,
            "the measurements file is empty: it has no header row",
        )
        .with_help("the first line names the columns: from,to,rtt_ms")
        .into());
    };
    let columns = header(src, header_start, header_text)?;
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut places: HashMap<String, Result<Place, place::PlaceError>> = HashMap::new();
    for (line, start, text) in lines {
        let record = match split(text) {
            Ok(r) => r,
            Err(e) => {
                bad.push(InputError::at(
                    src,
                    src.line_span(start),
                    format!("line {line}: malformed CSV: {e}"),
                ));
                continue;
            }
        };
        let row = Row { src, line, start };
        let mut resolve = |text: &str| {
            places
                .entry(text.to_string())
                .or_insert_with(|| place::resolve(text, datacenters, catalog))
                .clone()
        };
        match row.measurement(&record, columns, &mut resolve) {
            Ok(m) => rows.push(m),
            Err(mut e) => bad.append(&mut e),
        }
    }
    if !bad.is_empty() {
        return Err(too_many(bad));
    }
    if rows.is_empty() {
        return Err(
            InputError::in_file(src, "the measurements file has no rows")
                .with_help("add one line per measured pair, e.g. `London,Paris,9.8`")
                .into(),
        );
    }
    Ok(rows)
}

/// The lines that hold data: 1-based line number, byte offset and text, without blank lines and
/// `#` comments. One record per line (a measurement never needs a line break inside a field), which
/// keeps every error's line and column exact.
fn data_lines(text: &str) -> impl Iterator<Item = (u64, usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n')
        .enumerate()
        .map(move |(i, raw)| {
            let start = offset;
            offset += raw.len();
            (i as u64 + 1, start, raw.trim_end_matches(['\n', '\r']))
        })
        .filter(|(_, _, t)| {
            let t = t.trim();
            !t.is_empty() && !t.starts_with('#')
        })
}

/// The fields of one CSV line (quotes honoured, whitespace around fields trimmed).
fn split(line: &str) -> Result<csv::StringRecord, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record)?;
    Ok(record)
}

/// Column indexes of `from`, `to` and `rtt_ms`.
type Columns = [usize; 3];

fn header(src: &Source, start: usize, text: &str) -> Result<Columns, Error> {
    let span = src.line_span(start);
    let headers = split(text)
        .map_err(|e| InputError::at(src, span.clone(), format!("cannot read the header: {e}")))?;
    let mut columns = [usize::MAX; 3];
    let mut errors = Vec::new();
    for (c, name) in COLUMNS.iter().enumerate() {
        match headers.iter().position(|h| h.eq_ignore_ascii_case(name)) {
            Some(i) => columns[c] = i,
            None => errors.push(
                InputError::at(src, span.clone(), format!("the header has no `{name}` column"))
                    .with_help(match suggest::closest(name, headers.iter()) {
                        Some(close) => format!("did you mean `{name}` for `{close}`?"),
                        None => format!(
                            "the header is `{}`; it must name from, to and rtt_ms (other columns are ignored)",
                            headers.iter().collect::<Vec<_>>().join(",")
                        ),
                    }),
            ),
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(too_many(errors))
    }
}

/// One data row being checked.
struct Row<'a> {
    src: &'a Source,
    line: u64,
    start: usize,
}

impl Row<'_> {
    fn error(&self, value: &str, what: String, help: Option<String>) -> InputError {
        InputError::at(
            self.src,
            self.src.field_span(self.start, value),
            format!("line {}: {what}", self.line),
        )
        .with_optional_help(help)
    }

    fn measurement(
        &self,
        record: &csv::StringRecord,
        [c_from, c_to, c_rtt]: Columns,
        resolve: &mut impl FnMut(&str) -> Result<Place, place::PlaceError>,
    ) -> Result<Measurement, Vec<InputError>> {
        let field = |c: usize| record.get(c).unwrap_or("");
        let mut errors = Vec::new();
        let mut place = |name: &str, text: &str| match resolve(text) {
            Ok(p) => Some(p),
            Err(e) => {
                let shown = if text.is_empty() { "" } else { text };
                errors.push(self.error(shown, format!("`{name}`: {}", e.message), e.help));
                None
            }
        };
        let from = place("from", field(c_from));
        let to = place("to", field(c_to));
        let rtt_text = field(c_rtt);
        let rtt = match rtt_text.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Some(x),
            Ok(x) => {
                errors.push(self.error(
                    rtt_text,
                    format!("`rtt_ms` must be a positive number of milliseconds, found {x}"),
                    None,
                ));
                None
            }
            Err(_) => {
                errors.push(self.error(
                    rtt_text,
                    format!("`rtt_ms` must be a number of milliseconds, found `{rtt_text}`"),
                    Some("write the round-trip time without a unit, e.g. `12.5`".into()),
                ));
                None
            }
        };
        match (from, to, rtt) {
            (Some(from), Some(to), Some(rtt_ms)) => Ok(Measurement {
                line: self.line,
                from_text: field(c_from).to_string(),
                to_text: field(c_to).to_string(),
                distance_km: from.location.distance_km(to.location),
                from,
                to,
                rtt_ms,
            }),
            _ => Err(errors),
        }
    }
}

fn too_many(mut errors: Vec<InputError>) -> Error {
    let n = errors.len();
    if n > MAX_SHOWN {
        errors.truncate(MAX_SHOWN);
        errors.push(InputError::new(format!(
            "… and {} more bad rows",
            n - MAX_SHOWN
        )));
    }
    Error::inputs(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<Measurement>, Error> {
        let c = Catalog::embedded();
        parse(&Source::new("m.csv", text), &c.datacenters, c)
    }

    #[test]
    fn reads_places_of_every_kind_with_comments_and_extra_columns() {
        let m = p("# credit line\n\nfrom,to,rtt_ms,note\nLondon,Paris,9.5,a\nLHR,\"48.85,2.35\",10,\n# mid\n\"51.5,-0.12\",FRA,15.25,x\n").unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].line, m[1].line, m[2].line), (4, 5, 7));
        assert!(
            (m[0].distance_km - 344.0).abs() < 5.0,
            "{}",
            m[0].distance_km
        );
        assert_eq!(m[1].from_text, "LHR");
        assert_eq!(m[2].rtt_ms, 15.25);
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let m = p("rtt_ms,to,from\n20,Paris,London\n").unwrap();
        assert_eq!((m[0].from_text.as_str(), m[0].rtt_ms), ("London", 20.0));
    }

    #[test]
    fn bad_rows_are_located_with_suggestions() {
        let e = p("from,to,rtt_ms\nLondon,Pariss,9\nLondn,Paris,abc\nLondon,Paris,-3\n")
            .unwrap_err()
            .to_string();
        for want in [
            "m.csv:2:8",
            "did you mean `Paris",
            "m.csv:3:1",
            "m.csv:3:13",
            "found `abc`",
            "m.csv:4:14",
            "positive",
            "4 errors found",
        ] {
            assert!(e.contains(want), "missing `{want}` in\n{e}");
        }
    }

    #[test]
    fn header_problems_are_explained() {
        let e = p("# c\nfrom,to,rtt\nLondon,Paris,9\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.csv:2:1") && e.contains("no `rtt_ms` column"),
            "{e}"
        );
        assert!(e.contains("`from,to,rtt`"), "{e}");
        let e = p("# only a comment\n").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = p("from,to,rtt_ms\n").unwrap_err().to_string();
        assert!(e.contains("no rows"), "{e}");
        let e = p("from,to,rtt_ms\nLondon,Paris\n").unwrap_err().to_string();
        assert!(e.contains("m.csv:2:") && e.contains("rtt_ms"), "{e}");
    }
}
