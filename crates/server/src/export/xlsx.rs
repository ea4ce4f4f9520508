//! The registry as an Excel workbook: a sheet `机构 facilities` with the table of
//! [`super::table`], numbers as numbers, the header row bold and frozen, with an autofilter.
//! Written in rust_xlsxwriter's constant-memory mode (rows go to a temporary file as they are
//! written), so a registry of 100,000 facilities does not hold every cell in memory twice. A
//! second sheet, `列说明 columns`, says what each column holds, in Chinese and English (the
//! header row keeps the import template's names, so the table can be imported again).

use super::table::{headers, label, row, Cell};
use super::{ExportError, Snapshot};
use rust_xlsxwriter::{Format, Workbook};

/// The name of the sheet.
pub const SHEET: &str = "机构 facilities";
/// The name of the sheet that says what each column holds, in Chinese and English.
pub const COLUMNS_SHEET: &str = "列说明 columns";

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
    let columns = workbook.add_worksheet();
    columns.set_name(COLUMNS_SHEET)?;
    for (col, header) in ["column", "中文", "English"].iter().enumerate() {
        columns.write_string_with_format(0, column(col), *header, &bold)?;
    }
    for (r, header) in headers.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        let (zh, en) = label(header);
        columns.write_string(r, 0, header)?;
        columns.write_string(r, 1, zh)?;
        columns.write_string(r, 2, en)?;
    }
    columns.set_column_width(1, 40)?;
    columns.set_column_width(2, 40)?;
    Ok(workbook.save_to_buffer()?)
}

fn column(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}
