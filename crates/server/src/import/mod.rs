//! Importing registry files: GeoJSON from OpenStreetMap exports ([`geojson`]) and the health
//! office's CSV template ([`csv`]).
//!
//! Both parse the whole file first and collect **every** problem with where it is (CSV: the file's
//! line number; GeoJSON: the feature's number and OSM id) and which column or tag, with the
//! message in Chinese and English from the model's validation. If anything is invalid nothing is
//! imported, unless the caller asked to skip invalid entries. A file that cannot be read at all
//! (not UTF-8, not JSON, missing columns) is one [`FileError`]. The import is written with the
//! store's atomic batch upsert: all or nothing, and an unchanged facility stays untouched.

pub mod csv;
pub mod geojson;

use crate::store::{Store, StoreError, UpsertOutcome};
use caremap_model::{Facility, FacilityId, FacilityKind, Lang, ValidationError};
use std::fmt;
use std::path::Path;

/// The CSV template, as `caremap-server template` prints it.
pub const CSV_TEMPLATE: &str = include_str!("../../import/registry-template.csv");

/// The formats an import file may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Geojson,
    Csv,
}

impl Format {
    /// The format a file name's extension says (`.geojson`, `.json`, `.csv`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "geojson" | "json" => Some(Format::Geojson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A CSV line, as an editor numbers it (the header is line 1).
    Line(u64),
    /// A GeoJSON feature: its number (1-based, in file order) and OSM id if it has one.
    Feature {
        number: usize,
        osm_id: Option<String>,
    },
}

impl Location {
    pub fn describe(&self, lang: Lang) -> String {
        match (self, lang) {
            (Location::Line(n), Lang::Zh) => format!("第 {n} 行"),
            (Location::Line(n), Lang::En) => format!("line {n}"),
            // Both the count people use and the index `jq '.features[i]'` uses.
            (Location::Feature { number, osm_id }, Lang::Zh) => match osm_id {
                Some(id) => format!("第 {number} 个要素 features[{}]（{id}）", number - 1),
                None => format!("第 {number} 个要素 features[{}]", number - 1),
            },
            (Location::Feature { number, osm_id }, Lang::En) => match osm_id {
                Some(id) => format!("feature {number} features[{}] ({id})", number - 1),
                None => format!("feature {number} features[{}]", number - 1),
            },
        }
    }
}

/// What is wrong with one value of an entry.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    Invalid(ValidationError),
    NotANumber {
        value: String,
    },
    NotABoolean {
        value: String,
    },
    /// The same external id (CSV code, OSM id) appeared earlier in the file.
    Duplicate {
        external_id: String,
        first: Location,
    },
    MissingGeometry,
    UnsupportedGeometry {
        kind: String,
    },
    /// A GeoJSON feature without an OSM id cannot be matched on a later import.
    MissingOsmId,
    /// The CSV reader could not read the line (e.g. an unclosed quote).
    Unreadable {
        detail: String,
    },
}

impl Problem {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Problem::Invalid(err), lang) => err.message(lang),
            (Problem::NotANumber { value }, Lang::Zh) => format!("“{value}”不是数字"),
            (Problem::NotANumber { value }, Lang::En) => format!("“{value}” is not a number"),
            (Problem::NotABoolean { value }, Lang::Zh) => {
                format!("“{value}”应为 是/否（yes/no）")
            }
            (Problem::NotABoolean { value }, Lang::En) => {
                format!("“{value}” should be yes or no")
            }
            (Problem::Duplicate { external_id, first }, Lang::Zh) => format!(
                "编号 {external_id} 重复：{}已使用",
                first.describe(Lang::Zh)
            ),
            (Problem::Duplicate { external_id, first }, Lang::En) => format!(
                "duplicate id {external_id}: already used on {}",
                first.describe(Lang::En)
            ),
            (Problem::MissingGeometry, Lang::Zh) => "缺少位置（geometry）".to_owned(),
            (Problem::MissingGeometry, Lang::En) => "no location (geometry)".to_owned(),
            (Problem::UnsupportedGeometry { kind }, Lang::Zh) => {
                format!("不支持的几何类型 {kind}（应为 Point 或 Polygon）")
            }
            (Problem::UnsupportedGeometry { kind }, Lang::En) => {
                format!("unsupported geometry {kind} (expected Point or Polygon)")
            }
            (Problem::MissingOsmId, Lang::Zh) => {
                "缺少 OpenStreetMap 编号（@id、id 或 osm_type/osm_id）".to_owned()
            }
            (Problem::MissingOsmId, Lang::En) => {
                "no OpenStreetMap id (@id, id or osm_type/osm_id)".to_owned()
            }
            (Problem::Unreadable { detail }, Lang::Zh) => format!("无法读取该行：{detail}"),
            (Problem::Unreadable { detail }, Lang::En) => {
                format!("the line cannot be read: {detail}")
            }
        }
    }
}

impl From<ValidationError> for Problem {
    fn from(err: ValidationError) -> Self {
        Problem::Invalid(err)
    }
}

/// One problem, where it is, and in which column or tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub location: Location,
    /// CSV column or GeoJSON property, as written in the file.
    pub column: String,
    pub problem: Problem,
}

impl Issue {
    pub fn message(&self, lang: Lang) -> String {
        format!(
            "{} · {}: {}",
            self.location.describe(lang),
            self.column,
            self.problem.message(lang)
        )
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.message(Lang::Zh), self.message(Lang::En))
    }
}

/// Why an entry that is not an error was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A GeoJSON feature that is not a health facility (a pharmacy, a shop, a road ...).
    NotAHealthFacility,
    /// A health facility whose kind the tags do not tell; add a `caremap:kind` property.
    KindUnknown,
    /// Left out by `--skip-invalid`.
    Invalid,
}

impl SkipReason {
    pub fn message(&self, lang: Lang) -> &'static str {
        match self {
            SkipReason::NotAHealthFacility => lang.pick("不是医疗机构", "not a health facility"),
            SkipReason::KindUnknown => lang.pick(
                "无法判断机构类型（可添加 caremap:kind 属性）",
                "kind unknown (add a caremap:kind property)",
            ),
            SkipReason::Invalid => lang.pick("数据无效，已跳过", "invalid, skipped"),
        }
    }
}

/// An entry left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub location: Location,
    pub reason: SkipReason,
}

/// A valid facility read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub location: Location,
    pub id: FacilityId,
    pub facility: Facility,
}

/// Everything read from a file: valid entries, problems, and entries that were skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    pub issues: Vec<Issue>,
    pub skipped: Vec<Skipped>,
    /// Locations of entries with at least one issue.
    pub invalid_entries: Vec<Location>,
}

impl Parsed {
    /// Records an entry: valid if it had no issues, else counted invalid with its issues.
    pub(crate) fn push(&mut self, location: Location, result: Result<Entry, Vec<Issue>>) {
        match result {
            Ok(entry) => self.entries.push(entry),
            Err(issues) => {
                self.invalid_entries.push(location);
                self.issues.extend(issues);
            }
        }
    }

    /// Turns a second use of the same facility id into an issue on the later entry.
    pub(crate) fn reject_duplicates(&mut self) {
        let mut first_seen: std::collections::HashMap<FacilityId, Location> =
            std::collections::HashMap::new();
        let mut kept = Vec::with_capacity(self.entries.len());
        for entry in std::mem::take(&mut self.entries) {
            match first_seen.get(&entry.id) {
                Some(first) => {
                    let external_id = entry
                        .facility
                        .external_ids
                        .iter()
                        .next()
                        .map(|id| id.as_str().to_owned())
                        .unwrap_or_default();
                    self.issues.push(Issue {
                        location: entry.location.clone(),
                        column: "id".to_owned(),
                        problem: Problem::Duplicate {
                            external_id,
                            first: first.clone(),
                        },
                    });
                    self.invalid_entries.push(entry.location);
                }
                None => {
                    first_seen.insert(entry.id, entry.location.clone());
                    kept.push(entry);
                }
            }
        }
        self.entries = kept;
    }
}

/// A file that cannot be read as a registry file at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error("the file is not a GeoJSON FeatureCollection")]
    NotFeatureCollection,
    #[error("missing columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("unknown columns: {}", .0.join(", "))]
    UnknownColumns(Vec<String>),
    #[error("the CSV file cannot be read: {0}")]
    Csv(String),
    #[error("cannot tell the format from the file name; use --format geojson|csv")]
    UnknownFormat,
}

impl FileError {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (FileError::Io(err), Lang::Zh) => format!("无法读取文件：{err}"),
            (FileError::NotUtf8, Lang::Zh) => {
                "文件不是 UTF-8 编码：请另存为“CSV UTF-8”或 UTF-8 文本".to_owned()
            }
            (FileError::NotUtf8, Lang::En) => {
                "The file is not UTF-8 text: save it as “CSV UTF-8” or UTF-8 text".to_owned()
            }
            (FileError::NotJson(detail), Lang::Zh) => format!("文件不是有效的 JSON：{detail}"),
            (FileError::NotFeatureCollection, Lang::Zh) => {
                "文件不是 GeoJSON FeatureCollection".to_owned()
            }
            (FileError::MissingColumns(cols), Lang::Zh) => format!(
                "缺少列：{}（请使用 caremap-server template 输出的模板）",
                cols.join("、")
            ),
            (FileError::MissingColumns(cols), Lang::En) => format!(
                "Missing columns: {} (use the template from `caremap-server template`)",
                cols.join(", ")
            ),
            (FileError::UnknownColumns(cols), Lang::Zh) => format!(
                "未知的列：{}（请使用 caremap-server template 输出的模板）",
                cols.join("、")
            ),
            (FileError::UnknownColumns(cols), Lang::En) => format!(
                "Unknown columns: {} (use the template from `caremap-server template`)",
                cols.join(", ")
            ),
            (FileError::Csv(detail), Lang::Zh) => format!("无法读取 CSV 文件：{detail}"),
            (FileError::UnknownFormat, Lang::Zh) => {
                "无法从文件名判断格式，请使用 --format geojson|csv".to_owned()
            }
            (other, Lang::En) => {
                let text = other.to_string();
                let mut chars = text.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        }
    }
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    /// Some entries are invalid; every problem is listed.
    #[error("{} problems in the file", .issues.len())]
    Invalid { issues: Vec<Issue>, parsed: Parsed },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<Skipped>,
    /// The problems of the entries `--skip-invalid` left out.
    pub skipped_issues: Vec<Issue>,
}

/// Parses a file's bytes in the given format.
pub fn parse(bytes: &[u8], format: Format) -> Result<Parsed, FileError> {
    let mut parsed = match format {
        Format::Geojson => geojson::parse(bytes)?,
        Format::Csv => csv::parse(bytes)?,
    };
    parsed.reject_duplicates();
    Ok(parsed)
}

/// Reads and parses a file; the format comes from the extension unless given.
pub fn parse_file(path: &Path, format: Option<Format>) -> Result<Parsed, FileError> {
    let format = format
        .or_else(|| Format::from_path(path))
        .ok_or(FileError::UnknownFormat)?;
    let bytes = std::fs::read(path)?;
    parse(&bytes, format)
}

/// Writes what was parsed: nothing if anything is invalid (unless `skip_invalid`), else every
/// valid entry in one atomic batch.
pub async fn apply(
    store: &dyn Store,
    parsed: Parsed,
    skip_invalid: bool,
) -> Result<ImportSummary, ImportError> {
    if !parsed.issues.is_empty() && !skip_invalid {
        return Err(ImportError::Invalid {
            issues: parsed.issues.clone(),
            parsed,
        });
    }
    let batch: Vec<(FacilityId, Facility)> = parsed
        .entries
        .into_iter()
        .map(|e| (e.id, e.facility))
        .collect();
    let mut summary = ImportSummary {
        skipped: parsed.skipped,
        skipped_issues: parsed.issues,
        ..ImportSummary::default()
    };
    summary
        .skipped
        .extend(parsed.invalid_entries.into_iter().map(|location| Skipped {
            location,
            reason: SkipReason::Invalid,
        }));
    if batch.is_empty() {
        return Ok(summary);
    }
    for outcome in store.upsert_batch(&batch).await? {
        match outcome {
            UpsertOutcome::Added => summary.added += 1,
            UpsertOutcome::Updated => summary.updated += 1,
            UpsertOutcome::Unchanged => summary.unchanged += 1,
        }
    }
    Ok(summary)
}

/// Parses a facility kind from its wire name or its label in either language.
pub(crate) fn parse_kind(raw: &str) -> Result<FacilityKind, ValidationError> {
    raw.parse::<FacilityKind>().or_else(|err| {
        let raw = raw.trim();
        FacilityKind::ALL
            .iter()
            .copied()
            .find(|k| {
                Lang::ALL
                    .iter()
                    .any(|lang| k.label(*lang).eq_ignore_ascii_case(raw))
            })
            .ok_or(err)
    })
}
