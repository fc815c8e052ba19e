//! The user list: a CSV export of real users, one row per user.
//!
//! Columns are found by header name, in any order: `email` and `ip` are required; `groups`
//! (semicolon-separated group names), `name`, `virtual_network`, `posture_passed` (semicolon-separated
//! check ids), `ipv6_capable` (true/false) and `connections` are optional, and an empty cell means "not
//! given". An unknown column is an error with a suggestion. A malformed row is an error naming its line
//! (and showing it), or, with [`BadRows::Skip`], is skipped and kept in [`UserList::bad_rows`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{Error, InputError, Source};
use crate::suggest;

/// Every column a user list may have.
pub const COLUMNS: [&str; 8] = [
    "email",
    "groups",
    "ip",
    "name",
    "virtual_network",
    "posture_passed",
    "ipv6_capable",
    "connections",
];

/// What to do with a malformed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadRows {
    /// Stop with an error naming every bad row's line (the default).
    #[default]
    Error,
    /// Skip it, count it, and report it.
    Skip,
}

/// One user of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    /// 1-based line in the file.
    pub line: u64,
    /// `identity.email`.
    pub email: String,
    /// `identity.name`, when given.
    pub name: Option<String>,
    /// Identity group names.
    pub groups: Vec<String>,
    /// Public address of the user's device.
    pub ip: IpAddr,
    /// Virtual network the user selected.
    pub virtual_network: Option<String>,
    /// Device posture checks the device passes.
    pub posture_passed: Vec<String>,
    /// Whether the user's client and network support IPv6; `None` draws from the population's share.
    pub ipv6_capable: Option<bool>,
    /// Concurrent connections of this user; `None` uses the population's setting.
    pub connections: Option<f64>,
}

/// A parsed user list.
#[derive(Debug, Clone)]
pub struct UserList {
    /// File it was read from.
    pub path: PathBuf,
    /// Good rows, in file order.
    pub rows: Vec<UserRow>,
    /// Rows skipped as malformed (only with [`BadRows::Skip`]), each naming its line.
    pub bad_rows: Vec<InputError>,
}

/// Reads and checks the user list at `path`.
pub fn read_user_list(path: &Path, bad_rows: BadRows) -> Result<UserList, Error> {
    let text = std::fs::read(path).map_err(|e| {
        Error::Input(
            InputError::new(format!("cannot read user list `{}`: {e}", path.display())).with_help(
                "check the path (a population's `from_csv` is relative to the scenario file)",
            ),
        )
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        let src = Source::new(path, "");
        let mut err = InputError::in_file(&src, "the user list is not UTF-8 text");
        let ok = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let line = bytes[..ok].iter().filter(|b| **b == b'\n').count() + 1;
        err.line_col = Some((line, 1));
        Error::Input(err.with_help("save the CSV as UTF-8"))
    })?;
    parse(Source::new(path, text), bad_rows)
}

fn parse(src: Source, mode: BadRows) -> Result<UserList, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(src.text.as_bytes());
    let columns = columns(&src, &mut reader)?;
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let pos_before = reader.position().clone();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let byte = e.position().map_or(pos_before.byte(), |p| p.byte()) as usize;
                bad.push(InputError::at(
                    &src,
                    src.line_span(byte),
                    format!("malformed CSV: {e}"),
                ));
                // A CSV syntax error leaves the reader unable to continue reliably.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
                continue;
            }
        }
        let pos = record.position().cloned().unwrap_or(pos_before);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let row = Row {
            src: &src,
            record: &record,
            line: pos.line(),
            start: pos.byte() as usize,
        };
        match row.user(&columns, &mut first_line_of) {
            Ok(user) => rows.push(user),
            Err(e) => bad.push(e),
        }
    }
    if mode == BadRows::Error && !bad.is_empty() {
        return Err(bad_rows_error(bad));
    }
    Ok(UserList {
        path: src.path.clone(),
        rows,
        bad_rows: bad,
    })
}

/// Where each column is (found by header name); `width` is the header's number of fields.
struct Columns {
    width: usize,
    email: usize,
    ip: usize,
    groups: Option<usize>,
    name: Option<usize>,
    virtual_network: Option<usize>,
    posture_passed: Option<usize>,
    ipv6_capable: Option<usize>,
    connections: Option<usize>,
}

/// Reads the header row: every column known, none twice, `email` and `ip` present.
fn columns(src: &Source, reader: &mut csv::Reader<&[u8]>) -> Result<Columns, Error> {
    let header_span = 0..src.text.lines().next().map_or(0, str::len);
    let headers = reader.headers().map_err(|e| {
        Error::Input(InputError::at(
            src,
            header_span.clone(),
            format!("cannot read the header row: {e}"),
        ))
    })?;
    if headers.iter().all(str::is_empty) {
        return Err(
            InputError::in_file(src, "the user list is empty: it has no header row")
                .with_help(format!(
                    "the first line names the columns, e.g. `email,groups,ip`; columns: {}",
                    COLUMNS.join(", ")
                ))
                .into(),
        );
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut errors = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let key = h.trim();
        let span = src.field_span(0, key);
        match COLUMNS.iter().find(|c| c.eq_ignore_ascii_case(key)) {
            Some(c) => {
                if index.insert(c, i).is_some() {
                    errors.push(InputError::at(
                        src,
                        span,
                        format!("column `{key}` appears twice"),
                    ));
                }
            }
            None => errors.push(
                InputError::at(
                    src,
                    span,
                    format!("unknown column `{key}` in the user list"),
                )
                .with_help(
                    match suggest::closest(&key.to_ascii_lowercase(), COLUMNS) {
                        Some(s) => format!("did you mean `{s}`? columns: {}", COLUMNS.join(", ")),
                        None => format!("columns: {}", COLUMNS.join(", ")),
                    },
                ),
            ),
        }
    }
    for required in ["email", "ip"] {
        if !index.contains_key(required) {
            errors.push(
                InputError::at(src, header_span.clone(), format!("the user list has no `{required}` column"))
                    .with_help("required columns: email, ip; optional: groups, name, virtual_network, posture_passed, ipv6_capable, connections"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(Error::inputs(errors));
    }
    let col = |name: &str| index.get(name).copied();
    Ok(Columns {
        width: headers.len(),
        email: index["email"],
        ip: index["ip"],
        groups: col("groups"),
        name: col("name"),
        virtual_network: col("virtual_network"),
        posture_passed: col("posture_passed"),
        ipv6_capable: col("ipv6_capable"),
        connections: col("connections"),
    })
}

/// One data row and where it is in the file.
struct Row<'a> {
    src: &'a Source,
    record: &'a csv::StringRecord,
    /// 1-based line.
    line: u64,
    /// Byte offset of the line.
    start: usize,
}

impl Row<'_> {
    /// An error about `value` on this row.
    fn err(&self, what: &str, value: &str) -> InputError {
        InputError::at(
            self.src,
            self.src.field_span(self.start, value),
            format!("line {}: {what}", self.line),
        )
    }

    /// A cell, `None` when the column is absent or the cell empty.
    fn cell(&self, c: Option<usize>) -> Option<&str> {
        c.map(|i| &self.record[i]).filter(|s| !s.is_empty())
    }

    /// A semicolon-separated cell.
    fn list(&self, c: Option<usize>) -> Vec<String> {
        self.cell(c).map_or_else(Vec::new, |s| {
            s.split(';')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    /// The row's user, or the error that makes it a bad row. `first_line_of` finds duplicate emails.
    fn user(
        &self,
        c: &Columns,
        first_line_of: &mut HashMap<String, u64>,
    ) -> Result<UserRow, InputError> {
        let (line, record) = (self.line, self.record);
        if record.len() != c.width {
            return Err(InputError::at(
                self.src,
                self.src.line_span(self.start),
                format!(
                    "line {line}: the row has {} fields but the header has {}",
                    record.len(),
                    c.width
                ),
            )
            .with_help("quote fields that contain commas, e.g. \"Doe, Jane\""));
        }
        let email = &record[c.email];
        if email.is_empty() || !email.contains('@') {
            return Err(self.err(
                &format!("`email` must be an address such as `ada@example.com`, found `{email}`"),
                email,
            ));
        }
        let ip_text = &record[c.ip];
        let ip: IpAddr = ip_text.parse().map_err(|_| {
            self.err(
                &format!("`ip` `{ip_text}` is not an IPv4 or IPv6 address"),
                ip_text,
            )
        })?;
        let ipv6_capable = self.ipv6_capable(c.ipv6_capable)?;
        let connections = self.connections(c.connections)?;
        let key = email.to_ascii_lowercase();
        if let Some(first) = first_line_of.get(&key) {
            return Err(self.err(
                &format!("duplicate email `{email}` (first on line {first})"),
                email,
            ));
        }
        first_line_of.insert(key, line);
        Ok(UserRow {
            line,
            email: email.to_string(),
            name: self.cell(c.name).map(str::to_string),
            groups: self.list(c.groups),
            ip,
            virtual_network: self.cell(c.virtual_network).map(str::to_string),
            posture_passed: self.list(c.posture_passed),
            ipv6_capable,
            connections,
        })
    }

    fn ipv6_capable(&self, c: Option<usize>) -> Result<Option<bool>, InputError> {
        let Some(v) = self.cell(c) else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Some(true)),
            "false" | "no" | "0" => Ok(Some(false)),
            _ => Err(self.err(
                &format!("`ipv6_capable` must be true or false, found `{v}`"),
                v,
            )),
        }
    }

    fn connections(&self, c: Option<usize>) -> Result<Option<f64>, InputError> {
        let Some(v) = self.cell(c) else {
            return Ok(None);
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
            _ => Err(self.err(
                &format!("`connections` must be a positive number, found `{v}`"),
                v,
            )),
        }
    }
}

/// `bad_rows = "error"`: the first bad rows as one error, the last with the way out.
fn bad_rows_error(bad: Vec<InputError>) -> Error {
    let n = bad.len();
    let mut errors: Vec<InputError> = bad.into_iter().take(MAX_SHOWN).collect();
    if let Some(last) = errors.last_mut() {
        let more = if n > MAX_SHOWN {
            format!(" ({} more bad rows not shown)", n - MAX_SHOWN)
        } else {
            String::new()
        };
        last.help = Some(format!(
            "fix the rows, or set `bad_rows = \"skip\"` in the scenario's `[geoip]` table to skip and count them{more}"
        ));
    }
    Error::inputs(errors)
}

/// Bad rows shown in one error report.
const MAX_SHOWN: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, mode: BadRows) -> Result<UserList, Error> {
        parse(Source::new("users.csv", text), mode)
    }

    #[test]
    fn reads_columns_in_any_order() {
        let l = p(
            "ip,email,groups,name,ipv6_capable,connections,virtual_network,posture_passed\n\
             81.2.69.160,ada@example.com,finance; eng,Ada L,yes,8,qa-london,disk;fw\n\
             2a02:ab00::1,bob@example.com,,,,,,\n",
            BadRows::Error,
        )
        .unwrap();
        assert_eq!(l.rows.len(), 2);
        let a = &l.rows[0];
        assert_eq!(
            (a.line, a.email.as_str(), a.name.as_deref()),
            (2, "ada@example.com", Some("Ada L"))
        );
        assert_eq!(a.groups, ["finance", "eng"]);
        assert_eq!(a.posture_passed, ["disk", "fw"]);
        assert_eq!((a.ipv6_capable, a.connections), (Some(true), Some(8.0)));
        assert_eq!(a.virtual_network.as_deref(), Some("qa-london"));
        let b = &l.rows[1];
        assert!(b.groups.is_empty() && b.name.is_none() && b.ipv6_capable.is_none());
        assert_eq!(b.ip, "2a02:ab00::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn unknown_and_missing_columns() {
        let e = p("email,ip,grups\n", BadRows::Error)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown column `grups`") && e.contains("did you mean `groups`"),
            "{e}"
        );
        assert!(e.contains("users.csv:1:10"), "{e}");
        let e = p("email,groups\n", BadRows::Error).unwrap_err().to_string();
        assert!(e.contains("no `ip` column"), "{e}");
        let e = p("", BadRows::Error).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn bad_rows_name_their_lines_or_are_skipped() {
        let text = "email,ip\nada@example.com,81.2.69.1\nbob@example.com,300.1.2.3\n\
                    carol,81.2.69.2\ndan@example.com,81.2.69.3,extra\nada@example.com,81.2.69.4\n";
        let e = p(text, BadRows::Error).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let s = e.to_string();
        assert!(
            s.contains("users.csv:3:17") && s.contains("`300.1.2.3` is not an IPv4"),
            "{s}"
        );
        assert!(s.contains("line 4: `email`"), "{s}");
        assert!(s.contains("line 5: the row has 3 fields"), "{s}");
        assert!(
            s.contains("line 6: duplicate email `ada@example.com` (first on line 2)"),
            "{s}"
        );
        assert!(s.contains("bad_rows = \"skip\""), "{s}");
        let l = p(text, BadRows::Skip).unwrap();
        assert_eq!(l.rows.len(), 1);
        assert_eq!(l.bad_rows.len(), 4);
    }
}
