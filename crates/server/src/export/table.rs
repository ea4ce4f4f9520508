//! The registry as one table, for the CSV and the workbook: the import template's columns
//! first (same names, same order, same value syntax, so the registry part can be imported
//! again), then the status columns.

use super::{stock_items, Entry, Snapshot};
use crate::import::csv::COLUMNS as TEMPLATE_COLUMNS;
use caremap_model::{Lang, Operational, StockItem};
use chrono::SecondsFormat;

/// One value of the table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
}

impl Cell {
    fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }

    fn count(value: Option<u32>) -> Cell {
        value.map_or(Cell::Empty, |n| Cell::Number(f64::from(n)))
    }

    fn optional(value: Option<&str>) -> Cell {
        value.map_or(Cell::Empty, Cell::text)
    }

    /// The value as a CSV field.
    pub fn to_field(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// The columns after the template's: who the facility is in caremap, and its latest status.
pub const STATUS_COLUMNS: &[&str] = &[
    "id",
    "external_ids",
    "version",
    "updated_at",
    "operational",
    "operational_reason",
    "reopens_on",
    "status",
    "status_as_of",
    "status_freshness",
    "crowding",
    "wait_minutes",
    "outpatients_today",
    "fever_patients_today",
    "doctors_on_duty",
];

/// The header of a stock column, e.g. `stock_antigen_kits`.
pub fn stock_column(item: StockItem) -> String {
    format!("stock_{}", item.as_str())
}

/// The header row: template columns, status columns, one stock column per item.
pub fn headers() -> Vec<String> {
    TEMPLATE_COLUMNS
        .iter()
        .chain(STATUS_COLUMNS)
        .map(|c| (*c).to_owned())
        .chain(stock_items().iter().map(|i| stock_column(*i)))
        .collect()
}

/// One facility's row, in the order of `headers`.
pub fn row(headers: &[String], entry: &Entry, snapshot: &Snapshot) -> Vec<Cell> {
    headers.iter().map(|h| value(h, entry, snapshot)).collect()
}

/// The import template's `code` of a facility: the code of its `registry:` id (what a CSV
/// import gave it), else its first external id whole, else its caremap id.
pub fn code(entry: &Entry) -> String {
    let ids = &entry.facility.external_ids;
    ids.iter()
        .find_map(|id| id.as_str().strip_prefix("registry:"))
        .map(str::to_owned)
        .or_else(|| ids.iter().next().map(|id| id.as_str().to_owned()))
        .unwrap_or_else(|| entry.id.to_string())
}

/// The value of column `column` for one facility (empty for a column this table does not know,
/// which a unit test rules out for the template's).
fn value(column: &str, entry: &Entry, snapshot: &Snapshot) -> Cell {
    let f = &entry.facility;
    let status = entry.status.as_ref();
    if let Some(item) = column.strip_prefix("stock_") {
        return stock_items()
            .iter()
            .find(|i| i.as_str() == item)
            .and_then(|i| status.and_then(|s| s.stock.get(i)))
            .map_or(Cell::Empty, |level| Cell::text(level.as_str()));
    }
    match column {
        "code" => Cell::Text(code(entry)),
        "kind" => Cell::text(f.kind.as_str()),
        "name_zh" => Cell::text(f.name.zh.as_str()),
        "name_en" => Cell::optional(f.name.en.as_ref().map(|n| n.as_str())),
        "lat" => Cell::Number(f.location.lat()),
        "lon" => Cell::Number(f.location.lon()),
        "address" => Cell::optional(f.address.as_ref().map(|a| a.as_str())),
        "township" => Cell::optional(f.area.township.as_ref().map(|a| a.as_str())),
        "village" => Cell::optional(f.area.village.as_ref().map(|a| a.as_str())),
        "phone" => Cell::optional(f.phone.as_ref().map(|p| p.as_str())),
        "opening_hours" => Cell::optional(f.opening_hours.as_ref().map(|h| h.as_str())),
        "services" => Cell::text(
            f.services
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        ),
        "doctors" => Cell::count(f.capacity.doctors),
        "beds" => Cell::count(f.capacity.beds),
        "daily_capacity" => Cell::count(f.capacity.daily_capacity),
        // As the template writes it.
        "mobile" => Cell::text(if f.mobile { "是" } else { "否" }),
        "id" => Cell::Text(entry.id.to_string()),
        "external_ids" => Cell::text(
            f.external_ids
                .iter()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        ),
        "version" => Cell::Number(entry.version as f64),
        "updated_at" => Cell::Text(entry.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        "operational" => Cell::text(operational_state(&f.operational)),
        "operational_reason" => Cell::optional(match &f.operational {
            Operational::Open => None,
            Operational::Reduced { reason } | Operational::Closed { reason, .. } => {
                reason.as_ref().map(|r| r.as_str())
            }
        }),
        "reopens_on" => match &f.operational {
            Operational::Closed {
                reopens_on: Some(day),
                ..
            } => Cell::Text(day.to_string()),
            _ => Cell::Empty,
        },
        "status" => Cell::optional(status.map(|s| s.status.as_str())),
        "status_as_of" => Cell::optional(
            status
                .map(|s| s.as_of.to_rfc3339_opts(SecondsFormat::Secs, true))
                .as_deref(),
        ),
        "status_freshness" => Cell::optional(entry.freshness(snapshot).map(|f| f.as_str())),
        "crowding" => Cell::optional(status.and_then(|s| s.crowding).map(|c| c.as_str())),
        "wait_minutes" => Cell::count(status.and_then(|s| s.wait_minutes)),
        "outpatients_today" => Cell::count(status.and_then(|s| s.outpatients_today)),
        "fever_patients_today" => Cell::count(status.and_then(|s| s.fever_patients_today)),
        "doctors_on_duty" => Cell::count(status.and_then(|s| s.doctors_on_duty)),
        _ => Cell::Empty,
    }
}

/// What a column holds, in Chinese and English (the workbook's column sheet).
pub fn label(column: &str) -> (String, String) {
    if let Some(item) = stock_items()
        .iter()
        .find(|i| column.strip_prefix("stock_") == Some(i.as_str()))
    {
        return (
            format!(
                "库存：{}（充足 ample / 紧张 low / 缺货 out）",
                item.label(Lang::Zh)
            ),
            format!("Stock: {} (ample / low / out)", item.label(Lang::En)),
        );
    }
    let (zh, en) = match column {
        "code" => ("编号（导入模板的 code）", "Code (the import template's)"),
        "kind" => ("机构类型", "Kind of facility"),
        "name_zh" => ("中文名称", "Chinese name"),
        "name_en" => ("英文名称", "English name"),
        "lat" => ("纬度（WGS-84）", "Latitude (WGS-84)"),
        "lon" => ("经度（WGS-84）", "Longitude (WGS-84)"),
        "address" => ("地址", "Address"),
        "township" => ("乡镇/街道", "Township"),
        "village" => ("村/社区", "Village"),
        "phone" => ("电话", "Phone"),
        "opening_hours" => (
            "开放时间（OpenStreetMap 格式）",
            "Opening hours (OpenStreetMap syntax)",
        ),
        "services" => ("服务（以 ; 分隔）", "Services (separated by ;)"),
        "doctors" => ("医生人数", "Doctors"),
        "beds" => ("床位数", "Beds"),
        "daily_capacity" => ("日接诊能力", "Outpatients a day"),
        "mobile" => ("流动接种点（是/否）", "Mobile (yes/no)"),
        "id" => ("caremap 编号", "caremap id"),
        "external_ids" => ("外部编号", "External ids"),
        "version" => ("版本", "Version"),
        "updated_at" => ("最后修改时间（UTC）", "Last changed (UTC)"),
        "operational" => (
            "开放状态（open/reduced/closed）",
            "Declared state (open/reduced/closed)",
        ),
        "operational_reason" => ("停诊或部分开放原因", "Reason of reduced service or closure"),
        "reopens_on" => ("预计恢复日期", "Expected reopening"),
        "status" => ("最新填报：开诊状态", "Latest report: status"),
        "status_as_of" => ("最新填报时间（UTC）", "Latest report: as of (UTC)"),
        "status_freshness" => (
            "数据新旧（fresh/ageing/stale）",
            "Freshness (fresh/ageing/stale)",
        ),
        "crowding" => (
            "拥挤程度（low/medium/high/closed）",
            "Crowding (low/medium/high/closed)",
        ),
        "wait_minutes" => ("候诊时间（分钟）", "Wait (minutes)"),
        "outpatients_today" => ("今日门诊人数", "Outpatients today"),
        "fever_patients_today" => ("今日发热患者", "Fever patients today"),
        "doctors_on_duty" => ("在岗医生", "Doctors on duty"),
        _ => ("", ""),
    };
    (zh.to_owned(), en.to_owned())
}

/// `open`, `reduced` or `closed`: the wire name of the declared state.
pub fn operational_state(operational: &Operational) -> &'static str {
    match operational {
        Operational::Open => "open",
        Operational::Reduced { .. } => "reduced",
        Operational::Closed { .. } => "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template column this table does not fill would be exported empty: a renamed column in
    /// the import template must be renamed here too.
    #[test]
    fn every_template_column_has_a_value() {
        let known = [
            "code",
            "kind",
            "name_zh",
            "name_en",
            "lat",
            "lon",
            "address",
            "township",
            "village",
            "phone",
            "opening_hours",
            "services",
            "doctors",
            "beds",
            "daily_capacity",
            "mobile",
        ];
        for column in TEMPLATE_COLUMNS {
            assert!(
                known.contains(column),
                "template column {column} not exported"
            );
        }
        let headers = headers();
        assert_eq!(&headers[..TEMPLATE_COLUMNS.len()], TEMPLATE_COLUMNS);
        for header in &headers {
            let (zh, en) = label(header);
            assert!(!zh.is_empty() && !en.is_empty(), "{header} has no label");
        }
        assert!(headers.contains(&"stock_antigen_kits".to_owned()));
    }
}
