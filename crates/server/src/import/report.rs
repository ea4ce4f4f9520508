//! The report printed at the end of every import: what was skipped, grouped by reason, with a
//! count and the first few places of each; entries left out by `--skip-invalid` grouped by their
//! first problem (column and kind of problem). Each line in Chinese, then English, as the CLI
//! prints everything.

use super::{Issue, Location, Problem, SkipReason, Skipped};
use caremap_model::Lang;
use std::collections::HashMap;

/// How many places of a group are named.
pub const FIRST_PLACES: usize = 3;

/// Skipped entries of one reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The reason, in Chinese and English.
    pub zh: String,
    pub en: String,
    pub count: usize,
    /// The first [`FIRST_PLACES`] places, in file order.
    pub first: Vec<Location>,
    /// For `--skip-invalid`: the entries grouped again by their first problem.
    pub problems: Vec<Group>,
}

/// A short name for a kind of problem, in Chinese and English.
pub fn problem_kind(problem: &Problem) -> (&'static str, &'static str) {
    match problem {
        Problem::Invalid(err) => match err.code() {
            "required" => ("缺失", "missing"),
            "out_of_range" => ("超出范围", "out of range"),
            "unknown_value" => ("未知取值", "unknown value"),
            "invalid_phone" => ("电话号码无效", "invalid phone number"),
            "invalid_opening_hours" => ("营业时间无效", "invalid opening hours"),
            "too_long" => ("过长", "too long"),
            "invalid_external_id" => ("编号无效", "invalid id"),
            _ => ("无效", "invalid"),
        },
        Problem::NotANumber { .. } => ("不是数字", "not a number"),
        Problem::NotABoolean { .. } => ("不是 是/否", "not yes/no"),
        Problem::Duplicate { .. } => ("编号重复", "duplicate id"),
        Problem::MissingGeometry => ("缺少位置", "no location"),
        Problem::UnsupportedGeometry { .. } => ("几何类型不支持", "unsupported geometry"),
        Problem::MissingOsmId => ("缺少编号", "no id"),
        Problem::NoPosition => ("没有位置", "no position"),
        Problem::Unreadable { .. } => ("无法读取", "unreadable"),
        Problem::ForeignId { .. } => ("caremap 编号不符", "caremap id does not match"),
        Problem::UnknownState { .. } => ("未知开放状态", "unknown state"),
        Problem::NotADate { .. } => ("不是日期", "not a date"),
    }
}

fn group(zh: String, en: String, places: Vec<&Location>) -> Group {
    Group {
        zh,
        en,
        count: places.len(),
        first: places.into_iter().take(FIRST_PLACES).cloned().collect(),
        problems: Vec::new(),
    }
}

/// Groups what was skipped by reason (in the order of [`SkipReason`]), with `untagged` OSM
/// elements as a count of their own; `issues` are the problems of the invalid entries.
pub fn groups(skipped: &[Skipped], issues: &[Issue], untagged: usize) -> Vec<Group> {
    let reasons = [
        SkipReason::NotAHealthFacility,
        SkipReason::KindUnknown,
        SkipReason::Invalid,
    ];
    let mut out = Vec::new();
    for reason in reasons {
        let places: Vec<&Location> = skipped
            .iter()
            .filter(|s| s.reason == reason)
            .map(|s| &s.location)
            .collect();
        if places.is_empty() {
            continue;
        }
        let mut g = group(
            reason.message(Lang::Zh).to_owned(),
            reason.message(Lang::En).to_owned(),
            places.clone(),
        );
        if reason == SkipReason::Invalid {
            let mut first_issue: HashMap<&Location, &Issue> = HashMap::new();
            for issue in issues {
                first_issue.entry(&issue.location).or_insert(issue);
            }
            // Problem groups in order of first appearance.
            let mut keys: Vec<(String, String)> = Vec::new();
            let mut members: HashMap<(String, String), Vec<&Location>> = HashMap::new();
            for place in places.iter().copied() {
                let Some(issue) = first_issue.get(place) else {
                    continue;
                };
                let (zh, en) = problem_kind(&issue.problem);
                let key = (
                    format!("{}：{zh}", issue.column),
                    format!("{}: {en}", issue.column),
                );
                if !members.contains_key(&key) {
                    keys.push(key.clone());
                }
                members.entry(key).or_default().push(place);
            }
            g.problems = keys
                .into_iter()
                .map(|key| {
                    let places = members.remove(&key).unwrap_or_default();
                    group(key.0, key.1, places)
                })
                .collect();
        }
        out.push(g);
    }
    if untagged > 0 {
        out.push(Group {
            zh: SkipReason::NoTags.message(Lang::Zh).to_owned(),
            en: SkipReason::NoTags.message(Lang::En).to_owned(),
            count: untagged,
            first: Vec::new(),
            problems: Vec::new(),
        });
    }
    out
}

fn places(group: &Group, lang: Lang) -> String {
    if group.first.is_empty() {
        return String::new();
    }
    let list: Vec<String> = group.first.iter().map(|l| l.describe(lang)).collect();
    let more = if group.count > group.first.len() {
        lang.pick("；……", "; …")
    } else {
        ""
    };
    match lang {
        Lang::Zh => format!("：{}{more}", list.join("；")),
        Lang::En => format!(": {}{more}", list.join("; ")),
    }
}

/// The report's lines, each in both languages (`中文 / English`); empty when nothing was skipped.
pub fn lines(groups: &[Group]) -> Vec<String> {
    let total: usize = groups.iter().map(|g| g.count).sum();
    if total == 0 {
        return Vec::new();
    }
    let mut out = vec![format!(
        "跳过 {total} 项，按原因 / skipped {total}, by reason:"
    )];
    for g in groups {
        out.push(format!(
            "  {}：{} 项 / {}: {}",
            g.zh, g.count, g.en, g.count
        ));
        if !g.first.is_empty() {
            out.push(format!("    例如{}", places(g, Lang::Zh)));
            out.push(format!("    e.g.{}", places(g, Lang::En)));
        }
        for p in &g.problems {
            out.push(format!(
                "    {}：{} 项 / {}: {}",
                p.zh, p.count, p.en, p.count
            ));
            out.push(format!("      例如{}", places(p, Lang::Zh)));
            out.push(format!("      e.g.{}", places(p, Lang::En)));
        }
    }
    out
}

/// This process's peak resident memory in bytes (Linux `VmHWM`), for the import's last line.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}
