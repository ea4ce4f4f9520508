//! The registry as an Excel workbook (one sheet, 机构 / facilities): the table of
//! [`super::table`], numbers as numbers, the header row bold and frozen, with an autofilter.
//! Written in rust_xlsxwriter's constant-memory mode (rows go to a temporary file as they are
//! written), so a registry of 100,000 facilities does not hold every cell in memory twice.

use super::table::{headers, row, Cell};
use super::{ExportError, Snapshot};
use rust_xlsxwriter::{Format, Workbook};

/// The name of the sheet.
pub const SHEET: &str = "机构 facilities";

pub fn write(snapshot: &Snapshot) -> Result<Vec<u8>, ExportError> {
    let headers = headers();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(SHEET)?;
    let bold = Format::new().set_bold();
    for (col, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, column(col), header, &bold)?;
    }
    for (r, entry) in snapshot.entries.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (col, cell) in row(&headers, entry, snapshot).iter().enumerate() {
            match cell {
                Cell::Empty => {}
                Cell::Text(text) => {
                    sheet.write_string(r, column(col), text)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, column(col), *n)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_row = u32::try_from(snapshot.entries.len()).unwrap_or(u32::MAX);
    let last_col = column(headers.len().saturating_sub(1));
    sheet.autofilter(0, 0, last_row, last_col)?;
    Ok(workbook.save_to_buffer()?)
}

fn column(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}
