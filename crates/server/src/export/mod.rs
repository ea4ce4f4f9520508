//! Exports of the registry for the health office: each facility with its latest status and
//! stock, in five formats, by the command line (`caremap-server export`) and by
//! `GET /api/v1/export/{format}` (admin accounts only, see [`crate::routes::export`]).
//!
//! - [`csv`]: UTF-8 with a byte-order mark (so Excel shows Chinese), the import template's
//!   columns first, then the status columns;
//! - [`xlsx`]: the same table as an Excel workbook;
//! - [`geojson`]: a FeatureCollection with OpenStreetMap-style tags that our own GeoJSON import
//!   reads back;
//! - [`fhir`]: a FHIR R4 `Bundle` of `Location` and `HealthcareService` resources;
//! - [`edxl`]: an OASIS EDXL-HAVE 1.0 `HospitalStatus` document.
//!
//! Every format is written from one [`Snapshot`], taken from the store's read API, so the five
//! say the same thing. The mappings, and what each format cannot carry, are in the server's
//! README ("Exports").

pub mod csv;
pub mod edxl;
pub mod fhir;
pub mod geojson;
pub mod hours;
pub mod table;
pub mod xlsx;

use crate::store::{SharedStore, Store, StoreError};
use anyhow::Context as _;
use caremap_model::{
    Facility, FacilityId, FacilityStatus, Freshness, FreshnessThresholds, StockItem,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::process::ExitCode;

/// The formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Geojson,
    Fhir,
    Edxl,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::Csv,
        ExportFormat::Xlsx,
        ExportFormat::Geojson,
        ExportFormat::Fhir,
        ExportFormat::Edxl,
    ];

    /// The name in URLs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Geojson => "geojson",
            ExportFormat::Fhir => "fhir",
            ExportFormat::Edxl => "edxl",
        }
    }

    /// The format named `name` (as in [`ExportFormat::as_str`], any case).
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        let name = name.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Geojson => "application/geo+json",
            ExportFormat::Fhir => "application/fhir+json; fhirVersion=4.0",
            ExportFormat::Edxl => "application/xml; charset=utf-8",
        }
    }

    /// The file name an export made on `date` gets, e.g. `caremap-registry-2026-12-03.csv`.
    pub fn file_name(self, date: NaiveDate) -> String {
        let (stem, ext) = match self {
            ExportFormat::Csv => ("registry", "csv"),
            ExportFormat::Xlsx => ("registry", "xlsx"),
            ExportFormat::Geojson => ("registry", "geojson"),
            ExportFormat::Fhir => ("fhir-bundle", "json"),
            ExportFormat::Edxl => ("edxl-have", "xml"),
        };
        format!("caremap-{stem}-{}.{ext}", date.format("%Y-%m-%d"))
    }

    /// Whether the export is text (the command line may print it) or binary (xlsx).
    pub fn is_text(self) -> bool {
        self != ExportFormat::Xlsx
    }
}

/// One live facility as exported: the registry's record and its latest status.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: FacilityId,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub facility: Facility,
    /// The newest report's status; `None` before any report.
    pub status: Option<FacilityStatus>,
}

impl Entry {
    /// The freshness of the status at the snapshot's time.
    pub fn freshness(&self, snapshot: &Snapshot) -> Option<Freshness> {
        self.status
            .as_ref()
            .map(|s| s.freshness(snapshot.taken_at, snapshot.freshness))
    }

    /// When anything exported about the facility last changed: its record or its status.
    pub fn last_update(&self) -> DateTime<Utc> {
        self.status
            .as_ref()
            .map_or(self.updated_at, |s| s.as_of.max(self.updated_at))
    }
}

/// The registry at one moment: every live facility, in change order.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    pub freshness: FreshnessThresholds,
    pub entries: Vec<Entry>,
}

impl Snapshot {
    /// Every live facility of the store with its latest status.
    pub async fn take(
        store: &dyn Store,
        freshness: FreshnessThresholds,
    ) -> Result<Snapshot, StoreError> {
        let taken_at = Utc::now();
        let entries = store
            .list()
            .await?
            .into_iter()
            .filter(|r| !r.deleted)
            .filter_map(|r| {
                Some(Entry {
                    id: r.id,
                    version: r.version,
                    updated_at: r.updated_at,
                    facility: r.facility?,
                    status: r.status,
                })
            })
            .collect();
        Ok(Snapshot {
            taken_at,
            freshness,
            entries,
        })
    }
}

/// Why an export could not be written (a bug or a full disk: the input is valid by type).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Writes `snapshot` in `format`.
pub fn render(format: ExportFormat, snapshot: &Snapshot) -> Result<Vec<u8>, ExportError> {
    match format {
        ExportFormat::Csv => csv::write(snapshot),
        ExportFormat::Xlsx => xlsx::write(snapshot),
        ExportFormat::Geojson => geojson::write(snapshot),
        ExportFormat::Fhir => fhir::write(snapshot),
        ExportFormat::Edxl => edxl::write(snapshot),
    }
}

/// `caremap-server export`: the arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// csv (UTF-8 with BOM), xlsx, geojson, fhir (FHIR R4 Bundle) or edxl (EDXL-HAVE 1.0).
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The file to write; standard output when absent (xlsx only when it is not a terminal).
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// A status turns "ageing" after this many minutes (the status_freshness column).
    #[arg(long, env = "CAREMAP_FRESH_AGEING_MINUTES", default_value_t = FreshnessThresholds::default().ageing_after_minutes)]
    pub fresh_ageing_minutes: u32,
    /// A status turns "stale" after this many minutes.
    #[arg(long, env = "CAREMAP_FRESH_STALE_MINUTES", default_value_t = FreshnessThresholds::default().stale_after_minutes)]
    pub fresh_stale_minutes: u32,
}

/// Runs `caremap-server export`: writes the export to `--out` or standard output, and a line
/// for the operator on standard error.
pub async fn run_cli(store: SharedStore, args: ExportArgs) -> anyhow::Result<ExitCode> {
    use std::io::{IsTerminal as _, Write as _};
    let freshness = FreshnessThresholds::new(args.fresh_ageing_minutes, args.fresh_stale_minutes)
        .map_err(anyhow::Error::msg)?;
    if args.out.is_none() && !args.format.is_text() && std::io::stdout().is_terminal() {
        eprintln!(
            "xlsx 是二进制文件，请用 --out FILE 指定文件 / xlsx is binary: give --out FILE \
             (or redirect standard output)"
        );
        return Ok(ExitCode::FAILURE);
    }
    let snapshot = Snapshot::take(store.as_ref(), freshness).await?;
    let count = snapshot.entries.len();
    let format = args.format;
    let bytes = tokio::task::spawn_blocking(move || render(format, &snapshot)).await??;
    match &args.out {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            stdout.flush()?;
        }
    }
    eprintln!(
        "导出完成 / exported {count} facilities as {} ({} bytes){}",
        format.as_str(),
        bytes.len(),
        args.out
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// The stock items in their column order (the model's order).
pub(crate) fn stock_items() -> &'static [StockItem] {
    StockItem::ALL
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_file_names() {
        for format in ExportFormat::ALL {
            assert_eq!(ExportFormat::from_name(format.as_str()), Some(format));
        }
        assert_eq!(ExportFormat::from_name(" CSV "), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::from_name("pdf"), None);
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default();
        assert_eq!(
            ExportFormat::Csv.file_name(day),
            "caremap-registry-2026-12-03.csv"
        );
        assert_eq!(
            ExportFormat::Edxl.file_name(day),
            "caremap-edxl-have-2026-12-03.xml"
        );
    }
}
