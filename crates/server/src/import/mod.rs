//! Importing registry files: GeoJSON from OpenStreetMap exports and healthsites.io
//! ([`geojson`], [`healthsites`]), the Overpass API's own JSON and OSM XML ([`overpass`],
//! [`osm_xml`]), and the health office's template as CSV or Excel ([`csv`], [`xlsx`]).
//!
//! The format is told by the file's content ([`detect`]); the extension is only a hint, and
//! `--format` overrides both. JSON, OSM XML and CSV are read **streaming** (one feature, element
//! or line at a time, never the whole document as a tree), so memory grows with the facilities
//! kept, not with the file: a 50 MB export of a whole province's amenities imports in bounded
//! memory. An `.xlsx` workbook is read whole (calamine), as Excel files are small.
//!
//! Every parser collects **every** problem with where it is (CSV: the line; XLSX: the sheet and
//! row; GeoJSON: the feature's number and OSM id; Overpass JSON: the element's number and id; OSM
//! XML: the line and id) and which column or tag, with the message in Chinese and English from the
//! model's validation. If anything is invalid nothing is imported, unless the caller asked to skip
//! invalid entries. A file that cannot be read at all (not UTF-8, truncated JSON, missing columns)
//! is one [`FileError`]. The import is written with the store's atomic batch upsert: all or
//! nothing, and an unchanged facility stays untouched. [`report`] groups what was skipped by
//! reason, for the report printed at the end of every import.

pub mod csv;
pub mod geojson;
pub mod healthsites;
mod json;
pub mod osm_xml;
pub mod overpass;
pub mod report;
pub mod xlsx;

use crate::store::{Store, StoreError, UpsertOutcome};
use caremap_model::{Facility, FacilityId, FacilityKind, Lang, ValidationError};
use std::fmt;
use std::path::Path;

/// The CSV template, as `caremap-server template` prints it.
pub const CSV_TEMPLATE: &str = include_str!("../../import/registry-template.csv");

/// The formats an import file may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Any of the JSON shapes: a GeoJSON FeatureCollection (OSM exports, healthsites.io), an
    /// Overpass API answer (`elements`), or a healthsites.io API list; told apart by content.
    #[value(alias = "json")]
    Geojson,
    /// The Overpass API's `[out:json]` answer (read like `geojson`: by content).
    Overpass,
    /// OpenStreetMap XML (`.osm`, Overpass `[out:xml]`, JOSM).
    Osm,
    Csv,
    /// The CSV template filled in with Excel (`.xlsx`).
    Xlsx,
}

impl Format {
    /// The format a file name's extension says (`.geojson`, `.json`, `.osm`, `.csv`, `.xlsx`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "geojson" | "json" => Some(Format::Geojson),
            "osm" | "xml" => Some(Format::Osm),
            "csv" => Some(Format::Csv),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// Tells a file's format from its first bytes; the extension decides only what content cannot
/// (a CSV file has no signature: it is CSV when the extension says so or its first line has a
/// comma).
pub fn detect(head: &[u8], path: &Path) -> Result<Format, FileError> {
    let hinted = Format::from_path(path);
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    if head.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(FileError::OldExcel);
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(FileError::NotUtf8);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = text.iter().copied().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(FileError::Empty),
        Some(b'{' | b'[') => Ok(Format::Geojson),
        Some(b'<') => Ok(Format::Osm),
        Some(_) => {
            let first_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
            if hinted == Some(Format::Csv) || first_line.contains(&b',') {
                Ok(Format::Csv)
            } else {
                Err(FileError::UnknownFormat)
            }
        }
    }
}

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A CSV line, as an editor numbers it (the header is line 1).
    Line(u64),
    /// A GeoJSON feature: its number (1-based, in file order) and OSM id if it has one.
    Feature {
        number: usize,
        osm_id: Option<String>,
    },
    /// An OSM element: in Overpass JSON its number (1-based) in `elements`; in OSM XML the line
    /// its tag starts on. With its id, e.g. `osm:node/123`.
    Element {
        number: usize,
        line: Option<u64>,
        osm_id: Option<String>,
    },
    /// A row of an Excel sheet, as Excel numbers it (the header is row 1).
    Row { sheet: String, row: u32 },
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
            (
                Location::Element {
                    number,
                    line,
                    osm_id,
                },
                lang,
            ) => {
                let at = match (line, lang) {
                    (Some(line), Lang::Zh) => format!("第 {line} 行"),
                    (Some(line), Lang::En) => format!("line {line}"),
                    (None, Lang::Zh) => {
                        format!("第 {number} 个元素 elements[{}]", number.saturating_sub(1))
                    }
                    (None, Lang::En) => {
                        format!("element {number} elements[{}]", number.saturating_sub(1))
                    }
                };
                match (osm_id, lang) {
                    (Some(id), Lang::Zh) => format!("{at}（{id}）"),
                    (Some(id), Lang::En) => format!("{at} ({id})"),
                    (None, _) => at,
                }
            }
            (Location::Row { sheet, row }, Lang::Zh) => format!("工作表“{sheet}”第 {row} 行"),
            (Location::Row { sheet, row }, Lang::En) => format!("sheet “{sheet}” row {row}"),
        }
    }

    /// The order of places in a file, for sorting problems found out of order.
    fn order(&self) -> (u64, u64) {
        match self {
            Location::Line(n) => (*n, 0),
            Location::Feature { number, .. } => (*number as u64, 0),
            Location::Element { number, line, .. } => (line.unwrap_or(0), *number as u64),
            Location::Row { row, .. } => (u64::from(*row), 0),
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
    /// An OSM way or relation without a position: no `center`, `bounds`, `geometry` or nodes
    /// with coordinates in the file.
    NoPosition,
    /// The CSV reader could not read the line (e.g. an unclosed quote).
    Unreadable {
        detail: String,
    },
    /// A caremap id (GeoJSON `caremap:id`, CSV `id`) that none of the entry's external ids gives
    /// (an entry copied from another, its ids changed; or not an id at all).
    ForeignId {
        id: String,
    },
    /// A declared state (`caremap:operational`) other than open, reduced or closed.
    UnknownState {
        value: String,
    },
    /// A date not written `YYYY-MM-DD`.
    NotADate {
        value: String,
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
                "缺少编号（OpenStreetMap 的 @id、id 或 osm_type/osm_id，healthsites 的 uuid，或 \
                 caremap:external_ids）"
                    .to_owned()
            }
            (Problem::MissingOsmId, Lang::En) => {
                "no id (OpenStreetMap @id, id or osm_type/osm_id, a healthsites uuid, or \
                 caremap:external_ids)"
                    .to_owned()
            }
            (Problem::NoPosition, Lang::Zh) => {
                "没有位置：Overpass 查询请用 out center（或 out geom）".to_owned()
            }
            (Problem::NoPosition, Lang::En) => {
                "no position: query Overpass with `out center` (or `out geom`)".to_owned()
            }
            (Problem::Unreadable { detail }, Lang::Zh) => format!("无法读取该行：{detail}"),
            (Problem::Unreadable { detail }, Lang::En) => {
                format!("the line cannot be read: {detail}")
            }
            (Problem::ForeignId { id }, Lang::Zh) => format!(
                "caremap 编号 {id} 与本条的外部编号不符（是否从别的条目复制而来？删除 caremap \
                 编号即作为新机构导入）"
            ),
            (Problem::ForeignId { id }, Lang::En) => format!(
                "caremap id {id} is not the id of any of the entry's external ids (copied from \
                 another entry? remove the caremap id to import it as a new facility)"
            ),
            (Problem::UnknownState { value }, Lang::Zh) => {
                format!("未知的开放状态“{value}”（应为 open、reduced 或 closed）")
            }
            (Problem::UnknownState { value }, Lang::En) => {
                format!("unknown state “{value}” (expected open, reduced or closed)")
            }
            (Problem::NotADate { value }, Lang::Zh) => {
                format!("“{value}”不是日期（应为 YYYY-MM-DD）")
            }
            (Problem::NotADate { value }, Lang::En) => {
                format!("“{value}” is not a date (expected YYYY-MM-DD)")
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
    /// An OSM element without tags: a node of a way, or a way of a relation.
    NoTags,
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
            SkipReason::NoTags => lang.pick(
                "没有标签（线或关系的组成部分）",
                "no tags (part of a way or relation)",
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
    /// The external id the facility id is derived from (`osm:node/1`, `registry:A-1`).
    pub external_id: String,
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
    /// OSM elements without tags (the nodes of ways): counted, not listed.
    pub untagged: usize,
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
                    self.issues.push(Issue {
                        location: entry.location.clone(),
                        column: "id".to_owned(),
                        problem: Problem::Duplicate {
                            external_id: entry.external_id.clone(),
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

    /// Puts problems and skipped entries in file order (elements resolved at the end of the
    /// file, such as OSM ways whose nodes come later, are found out of order).
    pub(crate) fn sort(&mut self) {
        self.issues.sort_by_key(|i| i.location.order());
        self.skipped.sort_by_key(|s| s.location.order());
        self.invalid_entries.sort_by_key(Location::order);
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
    #[error("the file is not valid JSON (line {line}, column {column}): {detail}")]
    NotJson {
        line: usize,
        column: usize,
        detail: String,
    },
    #[error("the file ends too early (line {line}, column {column}): was the download cut off?")]
    Truncated { line: usize, column: usize },
    #[error(
        "the file is neither a GeoJSON FeatureCollection (`features`) nor an Overpass API answer \
         (`elements`) nor a healthsites.io list"
    )]
    NotFeatureCollection,
    #[error("the file is not OSM XML (line {line}): {detail}")]
    NotOsmXml { line: u64, detail: String },
    #[error("the Excel file cannot be read: {0}")]
    Xlsx(String),
    #[error("this is an old Excel file (.xls): save it as .xlsx or as “CSV UTF-8”")]
    OldExcel,
    #[error("the file is empty")]
    Empty,
    #[error("missing columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("unknown columns: {}", .0.join(", "))]
    UnknownColumns(Vec<String>),
    #[error("the CSV file cannot be read: {0}")]
    Csv(String),
    #[error(
        "cannot tell the format from the content or the file name; use --format geojson|overpass|osm|csv|xlsx"
    )]
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
            (
                FileError::NotJson {
                    line,
                    column,
                    detail,
                },
                Lang::Zh,
            ) => format!("文件不是有效的 JSON（第 {line} 行第 {column} 列）：{detail}"),
            (FileError::Truncated { line, column }, lang) => {
                let at = match (column, lang) {
                    (0, Lang::Zh) => format!("第 {line} 行"),
                    (0, Lang::En) => format!("line {line}"),
                    (c, Lang::Zh) => format!("第 {line} 行第 {c} 列"),
                    (c, Lang::En) => format!("line {line}, column {c}"),
                };
                match lang {
                    Lang::Zh => format!("文件不完整，在{at}意外结束：是否下载未完成？"),
                    Lang::En => {
                        format!("The file ends too early ({at}): was the download cut off?")
                    }
                }
            }
            (FileError::NotFeatureCollection, Lang::Zh) => {
                "文件既不是 GeoJSON FeatureCollection（features），也不是 Overpass API 的结果\
                 （elements）或 healthsites.io 列表"
                    .to_owned()
            }
            (FileError::NotOsmXml { line, detail }, Lang::Zh) => {
                format!("文件不是有效的 OSM XML（第 {line} 行）：{detail}")
            }
            (FileError::Xlsx(detail), Lang::Zh) => format!("无法读取 Excel 文件：{detail}"),
            (FileError::OldExcel, Lang::Zh) => {
                "这是旧版 Excel 文件（.xls）：请另存为 .xlsx 或“CSV UTF-8”".to_owned()
            }
            (FileError::Empty, Lang::Zh) => "文件是空的".to_owned(),
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
                "无法从内容或文件名判断格式，请使用 --format geojson|overpass|osm|csv|xlsx"
                    .to_owned()
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
    /// OSM elements without tags (the nodes of ways), left out.
    pub untagged: usize,
}

/// Parses a file's bytes in the given format.
pub fn parse(bytes: &[u8], format: Format) -> Result<Parsed, FileError> {
    parse_reader(bytes, format)
}

/// Parses a stream in the given format (streaming for all but XLSX).
fn parse_reader<R: std::io::BufRead>(reader: R, format: Format) -> Result<Parsed, FileError> {
    let mut parsed = match format {
        Format::Geojson | Format::Overpass => json::parse(reader)?,
        Format::Osm => osm_xml::parse(reader)?,
        Format::Csv => csv::parse_reader(reader)?,
        Format::Xlsx => {
            let mut bytes = Vec::new();
            let mut reader = reader;
            std::io::Read::read_to_end(&mut reader, &mut bytes)?;
            xlsx::parse(&bytes)?
        }
    };
    parsed.reject_duplicates();
    parsed.sort();
    Ok(parsed)
}

/// Reads and parses a file; the format comes from its content (the extension as a hint) unless
/// given.
pub fn parse_file(path: &Path, format: Option<Format>) -> Result<Parsed, FileError> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let format = match format {
        Some(format) => format,
        None => detect(reader.fill_buf()?, path)?,
    };
    parse_reader(reader, format)
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
        untagged: parsed.untagged,
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
