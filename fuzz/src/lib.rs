//! What each fuzz target checks, one function per parser of outside input. The libFuzzer
//! targets (`fuzz_targets/*.rs`, `cargo xtask fuzz`) call these, and the server's test suite
//! replays the committed corpora through them (`crates/server/tests/api/fuzz_corpus.rs`, which
//! includes this file), so every crash once found stays a regression test of `cargo xtask test`.
//!
//! Each function takes any bytes and panics only on a bug: a parser that panics, or a value
//! that does not survive the round trip the server and the phones rely on.

use caremap_model::{ColumnarPage, Cursor, EnrollmentCode, Lang, OpeningHours, PushRequest};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// A target's check: any bytes in, a panic on a bug.
pub type Check = fn(&[u8]);

/// Every target: its name (the folder of its corpus) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("push_body", push_body),
    ("columnar_page", columnar_page),
    ("opening_hours", opening_hours),
    ("enrollment_code", enrollment_code),
    ("cursor", cursor),
    ("accept_language", accept_language),
    ("import_geojson", import_geojson),
    ("import_csv", import_csv),
    ("inline_scripts", inline_scripts),
];

/// The body of `POST /api/v1/push` as the server reads it: JSON into `PushRequest`, then every
/// mutation checked as the writer takes it (`store::push::prepare`), at an ordinary "now" and at
/// the clock's extremes.
pub fn push_body(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<PushRequest>(data) else {
        return;
    };
    let nows = [
        Utc.with_ymd_and_hms(2026, 12, 3, 18, 0, 0).single(),
        Some(DateTime::<Utc>::MIN_UTC),
        Some(DateTime::<Utc>::MAX_UTC),
        Some(DateTime::<Utc>::UNIX_EPOCH),
    ];
    for mutation in &request.mutations {
        for now in nows.into_iter().flatten() {
            let _ = caremap_server::store::push::prepare(mutation, now);
        }
    }
    let _ = serde_json::to_vec(&request);
}

/// The columnar registry page (`?format=columns`) as a phone decodes it: JSON into
/// `ColumnarPage`, then `into_page`, which checks that the columns agree. A page that decodes
/// encodes back to columns that decode to the same page.
pub fn columnar_page(data: &[u8]) {
    let Ok(columns) = serde_json::from_slice::<ColumnarPage>(data) else {
        return;
    };
    let Ok(page) = columns.into_page() else {
        return;
    };
    let again = ColumnarPage::from_page(page.clone()).into_page();
    assert_eq!(again.ok().as_ref(), Some(&page), "columns round trip");
}

/// Opening hours in OSM syntax (imports, the registry, the phone's "open now"): parsed, then
/// evaluated at moments taken from the input. The first 8 bytes choose a time anywhere in
/// chrono's range; chrono's extremes and an ordinary day are always tried too.
pub fn opening_hours(data: &[u8]) {
    let (moment, text) = match data.split_first_chunk::<8>() {
        Some((head, rest)) => (i64::from_le_bytes(*head), rest),
        None => (0, data),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(hours) = OpeningHours::parse(text) else {
        return;
    };
    let first = DateTime::<Utc>::MIN_UTC.timestamp();
    let span = DateTime::<Utc>::MAX_UTC.timestamp() - first;
    let moments = [
        DateTime::from_timestamp(first + moment.rem_euclid(span), 0).map(|t| t.naive_utc()),
        Some(NaiveDateTime::MIN),
        Some(NaiveDateTime::MAX),
        Utc.with_ymd_and_hms(2026, 12, 3, 9, 30, 0)
            .single()
            .map(|t| t.naive_utc()),
    ];
    for local in moments.into_iter().flatten() {
        let _ = hours.is_open_at(local);
        let _ = hours.next_change(local);
    }
    assert_eq!(
        OpeningHours::parse(hours.as_str()).ok(),
        Some(hours.clone())
    );
}

/// Enrollment codes as typed on a phone (`POST /api/v1/enroll`): a code that parses parses
/// again from its display form to the same code.
pub fn enrollment_code(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = EnrollmentCode::parse(text) {
        assert_eq!(
            EnrollmentCode::parse(&code.display()).ok(),
            Some(code.clone())
        );
        assert_eq!(code.as_str().len(), EnrollmentCode::LEN);
    }
}

/// Registry cursors (`?since=`): a cursor that parses prints back to itself.
pub fn cursor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cursor) = text.parse::<Cursor>() {
        assert_eq!(cursor.to_string().parse::<Cursor>().ok(), Some(cursor));
    }
}

/// `Accept-Language`, as the model reads the text and as the server reads the header.
pub fn accept_language(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Lang::from_accept_language(text);
    }
    if let Ok(value) = axum::http::HeaderValue::from_bytes(data) {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::ACCEPT_LANGUAGE, value);
        let _ = caremap_server::error::request_lang(&headers);
    }
}

/// The GeoJSON importer (`caremap-server import FILE.geojson`).
pub fn import_geojson(data: &[u8]) {
    let _ = caremap_server::import::geojson::parse(data);
}

/// The CSV importer (`caremap-server import FILE.csv`, the template's columns).
pub fn import_csv(data: &[u8]) {
    let _ = caremap_server::import::csv::parse(data);
}

/// The inline-script scan of `index.html` behind the Content-Security-Policy's hashes: every
/// script found is a piece of the document.
pub fn inline_scripts(data: &[u8]) {
    let Ok(html) = std::str::from_utf8(data) else {
        return;
    };
    for script in caremap_server::security::inline_scripts(html) {
        assert!(html.contains(script));
    }
    let _ = caremap_server::security::script_hashes(html);
}
