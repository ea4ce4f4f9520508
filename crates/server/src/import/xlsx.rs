//! The CSV template filled in with Excel and saved as `.xlsx` (read with calamine).
//!
//! The first sheet is read: its first non-empty row is the header, with the template's columns
//! ([`super::csv::COLUMNS`]), and every following row a facility, exactly as in the CSV. Numbers
//! are read as Excel shows them (`30.0405`, a code `1001` rather than `1001.0`), TRUE/FALSE as
//! yes/no; a cell with an Excel error (`#N/A`) is a problem of its row. Problems are placed by
//! sheet and row as Excel numbers them, e.g. `sheet “Sheet1” row 5`. The workbook is read whole:
//! a sheet of 100,000 rows is a few MB.

use super::csv::{check_headers, parse_row, Row};
use super::{FileError, Issue, Location, Parsed, Problem};
use calamine::{Data, Reader as _};

/// A cell as the text the CSV would have.
fn text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(true) => "yes".to_owned(),
        Data::Bool(false) => "no".to_owned(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(e) => return Err(e.to_string()),
    })
}

/// Parses an `.xlsx` workbook's first sheet.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    let mut workbook =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(std::io::Cursor::new(bytes))
            .map_err(|e| FileError::Xlsx(e.to_string()))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| FileError::Xlsx("the workbook has no sheet".to_owned()))?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| FileError::Xlsx(e.to_string()))?;
    // Excel's row numbers: the range may start below row 1.
    let first_row = range.start().map_or(0, |(row, _)| row) + 1;
    let mut rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| (first_row + i as u32, cells))
        .filter(|(_, cells)| cells.iter().any(|c| !matches!(c, Data::Empty)));
    let Some((_, header)) = rows.next() else {
        return Err(FileError::Empty);
    };
    let headers: Vec<String> = header
        .iter()
        .map(|c| text(c).unwrap_or_default().to_ascii_lowercase())
        .collect();
    check_headers(&headers)?;

    let mut parsed = Parsed::default();
    for (row, cells) in rows {
        let location = Location::Row {
            sheet: sheet.clone(),
            row,
        };
        let mut values = Vec::with_capacity(cells.len());
        let mut unreadable = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            match text(cell) {
                Ok(v) => values.push(v),
                Err(detail) => {
                    values.push(String::new());
                    unreadable.push(Issue {
                        location: location.clone(),
                        column: headers.get(i).cloned().unwrap_or_default(),
                        problem: Problem::Unreadable { detail },
                    });
                }
            }
        }
        let row = Row {
            headers: &headers,
            record: values.as_slice(),
        };
        let result = parse_row(&row, location.clone()).and_then(|entry| {
            if unreadable.is_empty() {
                Ok(entry)
            } else {
                Err(Vec::new())
            }
        });
        let result = result.map_err(|mut issues| {
            issues.extend(unreadable);
            issues
        });
        parsed.push(location, result);
    }
    Ok(parsed)
}
