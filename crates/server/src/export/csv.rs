//! The registry as CSV: UTF-8 with a byte-order mark, which Excel needs to show Chinese (without
//! it, Excel reads a CSV file in the machine's legacy code page). Columns: see [`super::table`].
//! Our import strips the mark, so the template columns read back as they are.

use super::table::{headers, row, Cell};
use super::{ExportError, Snapshot};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn write(snapshot: &Snapshot) -> Result<Vec<u8>, ExportError> {
    let headers = headers();
    let mut out = BOM.to_vec();
    {
        let mut writer = ::csv::WriterBuilder::new().from_writer(&mut out);
        writer.write_record(&headers)?;
        for entry in &snapshot.entries {
            writer.write_record(row(&headers, entry, snapshot).iter().map(Cell::to_field))?;
        }
        writer.flush()?;
    }
    Ok(out)
}
