//! caremap-server's integration tests, in one binary: they serve the real app on a random port
//! over a fresh database (SQLite always; PostgreSQL when reachable, required when `CI=true`).

mod accounts;
mod concurrency;
mod demo;
mod errors;
mod export;
mod export_fhir;
mod failures;
mod fuzz_corpus;
mod hardening;
mod helpers;
mod import;
mod import_formats;
mod large;
mod precompressed;
mod push_props;
mod pwa;
mod registry;
mod reports;
mod robust;
mod serve;
mod store;
mod tiles;
mod timetables;
mod transfers;
mod web;
