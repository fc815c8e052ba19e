//! The CSV tables: each is the list of typed rows in [`Results::tables`], written with serde, so the
//! header is the row struct's field names. `users.csv` streams while the simulation runs.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Destination, Output};
use crate::analysis::tables::{header, UserRecord};
use crate::analysis::Results;
use crate::error::{Error, Result};

/// One CSV table of a run.
#[derive(Clone, Copy)]
pub struct CsvTable {
    /// File name.
    pub file: &'static str,
    /// Writes the table to the path; `Ok(false)` when the run has no such table.
    write: fn(&Results, &Path) -> Result<bool>,
}

/// A table whose rows are the field `$rows` of [`crate::analysis::tables::Tables`].
macro_rules! table {
    ($file:literal, $rows:ident) => {
        CsvTable {
            file: $file,
            write: |r, p| write_rows(p, &r.tables.$rows),
        }
    };
}

/// Every CSV table of a run, in the order they are written.
pub const TABLES: [CsvTable; 10] = [
    table!("summary.csv", summary),
    table!("egress_load.csv", egress_load),
    table!("populations.csv", populations),
    table!("latency_histogram.csv", latency_histogram),
    table!("capacity.csv", capacity),
    table!("policies.csv", policies),
    table!("resources.csv", resources),
    table!("failover.csv", failover),
    table!("redundancy.csv", redundancy),
    // Only runs with populations read from user lists have it.
    CsvTable {
        file: "geoip.csv",
        write: |r, p| match &r.tables.geoip {
            Some(rows) => write_rows(p, rows),
            None => Ok(false),
        },
    },
];

impl Output<Results<'_>> for CsvTable {
    fn write(&self, r: &Results, to: &mut Destination) -> Result<()> {
        let path = to.dir.join(self.file);
        if (self.write)(r, &path)? {
            to.files.push(path);
        }
        Ok(())
    }
}

/// A CSV file being written: the header of `T`, then rows.
pub(crate) struct CsvFile<T> {
    path: PathBuf,
    w: csv::Writer<BufWriter<File>>,
    rows: std::marker::PhantomData<fn(T)>,
}

impl<T: Serialize + Default> CsvFile<T> {
    /// Creates the file and writes the header (also when no row follows).
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let f = File::create(path)
            .map_err(|e| Error::io(format!("cannot create `{}`", path.display()), e))?;
        let mut t = Self {
            w: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(BufWriter::new(f)),
            path: path.to_path_buf(),
            rows: std::marker::PhantomData,
        };
        let h = header::<T>();
        let fields = h.split(',');
        t.w.write_record(fields).map_err(|e| t.error(e))?;
        Ok(t)
    }

    /// Appends one row.
    pub(crate) fn row(&mut self, row: &T) -> Result<()> {
        self.w.serialize(row).map_err(|e| self.error(e))
    }

    fn error(&self, e: csv::Error) -> Error {
        Error::io(
            format!("cannot write `{}`", self.path.display()),
            std::io::Error::other(e),
        )
    }

    /// Flushes and closes the file.
    pub(crate) fn finish(mut self) -> Result<PathBuf> {
        self.w
            .flush()
            .map_err(|e| Error::io(format!("cannot write `{}`", self.path.display()), e))?;
        Ok(self.path)
    }
}

/// Writes `rows` (with their header) to `path`.
pub(crate) fn write_rows<T: Serialize + Default>(path: &Path, rows: &[T]) -> Result<bool> {
    let mut f = CsvFile::<T>::create(path)?;
    for r in rows {
        f.row(r)?;
    }
    f.finish()?;
    Ok(true)
}

/// `users.csv`, streamed while the simulation runs: the engine hands over rows batch by batch in user
/// order, analysis names them ([`UserRecord`]), and this writes them.
pub struct UsersCsv<'w> {
    file: CsvFile<UserRecord<'w>>,
}

impl<'w> UsersCsv<'w> {
    /// File name.
    pub const FILE: &'static str = "users.csv";

    /// Creates `users.csv` in `dir` and writes its header.
    pub fn create(dir: &Path) -> Result<Self> {
        Ok(Self {
            file: CsvFile::create(&dir.join(Self::FILE))?,
        })
    }

    /// Appends rows.
    pub fn write(&mut self, rows: impl IntoIterator<Item = UserRecord<'w>>) -> Result<()> {
        for r in rows {
            self.file.row(&r)?;
        }
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<PathBuf> {
        self.file.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tables::{
        CapacityRow, EgressLoadRow, FailoverRow, GeoipRow, HistogramRow, PolicyRow, PopulationRow,
        RedundancyRow, ResourceRow, SummaryRow,
    };

    /// The headers the tables had before rows were typed (and that README.md documents).
    #[test]
    fn headers_are_the_documented_columns() {
        let outcomes = [
            "dedicated",
            "fallback",
            "default",
            "dropped",
            "private_network",
        ];
        assert_eq!(
            header::<SummaryRow>(),
            format!(
                "case,users,requests,rtt_mean_ms,rtt_p50_ms,rtt_p90_ms,rtt_p95_ms,rtt_p99_ms,\
                 apparent_country_mismatch_share,apparent_continent_mismatch_share,\
                 apparent_distance_mean_km,{},blocked_share,geography_violation_share,\
                 users_egress_changed,requests_rerouted_share,rtt_p95_change_ms,description",
                outcomes.map(|o| format!("{o}_share")).join(",")
            )
        );
        assert_eq!(
            header::<PolicyRow>(),
            format!(
                "case,policy,precedence,enabled,action,users,requests,request_share,{},\
                 blocked_requests,geography_violations,rtt_p50_ms,rtt_p95_ms",
                outcomes.map(|o| format!("{o}_requests")).join(",")
            )
        );
        assert_eq!(
            header::<EgressLoadRow>(),
            "case,egress,datacenter,city,country,ipv4,users,requests,request_share,rtt_mean_ms,\
             rtt_p50_ms,rtt_p95_ms,rtt_p99_ms,blocked_requests,connections_v4,connections_v6,\
             connection_limit,peak_origin_utilization"
        );
        assert_eq!(
            header::<PopulationRow>(),
            "case,population,egress,users,requests,rtt_mean_ms,rtt_p50_ms,rtt_p90_ms,rtt_p95_ms,\
             rtt_p99_ms,apparent_country_mismatch_share,apparent_distance_mean_km"
        );
        assert_eq!(
            header::<HistogramRow>(),
            "case,population,rtt_lower_ms,rtt_upper_ms,requests"
        );
        assert_eq!(
            header::<CapacityRow>(),
            "case,egress,resource,origin,origin_resources,requests,connections_v4,connections_v6,\
             refused_connections_v4,origin_connections_v4,connection_limit,utilization,headroom,\
             ips_needed,worst_case,worst_connections_v4,worst_utilization"
        );
        assert_eq!(
            header::<ResourceRow>(),
            "case,resource,egress,requests,allowed_requests,blocked_requests,\
             private_network_requests,rtt_p50_ms,rtt_p95_ms"
        );
        assert_eq!(
            header::<FailoverRow>(),
            "case,population,users,users_ingress_moved,users_egress_changed,requests,\
             requests_rerouted,rerouted_share,dropped_requests,fallback_requests,default_requests,\
             blocked_requests,geography_violations,rtt_p50_before_ms,rtt_p50_after_ms,\
             rtt_p95_before_ms,rtt_p95_after_ms,rtt_p95_change_ms"
        );
        assert_eq!(
            header::<RedundancyRow>(),
            "severity,finding,entity_kind,entity,case,impact_share,detail,recommendation"
        );
        assert_eq!(header::<GeoipRow>(), "population,user_list,outcome,users");
        assert_eq!(
            header::<UserRecord>(),
            "case,user,population,lat,lon,country,ingress,egress,rtt_mean_ms"
        );
    }

    #[test]
    fn a_row_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let row = PolicyRow {
            case: "down:LHR".into(),
            policy: "finance, \"EU\"".into(),
            precedence: Some(10),
            enabled: Some(true),
            request_share: crate::analysis::values::Share::of(0.25),
            rtt_p95_ms: crate::analysis::values::Ms::of(41.5),
            ..PolicyRow::default()
        };
        let unmatched = PolicyRow {
            policy: "unmatched".into(),
            ..PolicyRow::default()
        };
        let path = dir.path().join("policies.csv");
        write_rows(&path, &[row.clone(), unmatched.clone()]).unwrap();
        let back: Vec<PolicyRow> = ::csv::Reader::from_path(&path)
            .unwrap()
            .deserialize()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(back, [row, unmatched]);
    }

    #[test]
    fn an_empty_table_still_has_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("failover.csv");
        write_rows::<FailoverRow>(&path, &[]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{}\n", header::<FailoverRow>()));
    }
}
