//! The columnar registry feed (`format=columns`), compressed once and kept.
//!
//! A first sync of a large registry is the biggest thing a phone downloads, over the weakest
//! links. Brotli at its best quality (11, window 2^24) makes a page of 5,000 facilities in the
//! columnar layout about 45 % smaller than the record layout at brotli 6, but takes seconds of
//! CPU a page, so a page is compressed once and its bytes kept for every phone that asks for it.
//!
//! A page is known by what identifies its content: where it starts (`since`), its cursor, how
//! many records it holds and whether more follow. Every change takes a new sequence number
//! larger than any before, so a facility changed after the page was made leaves the range
//! `(since, cursor]` (the page then holds fewer records, or reaches further) and no record can
//! enter it: equal keys are equal pages. Entries are dropped oldest first beyond
//! [`MAX_ENTRIES`].

use crate::error::ApiError;
use crate::store::{RawPage, SharedStore};
use caremap_model::{ColumnarPage, Cursor, PageLimit};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Pages kept (a page of 5,000 facilities is about 150 KB compressed).
const MAX_ENTRIES: usize = 400;

/// Brotli's best quality and largest standard window: what browsers decode.
const QUALITY: u32 = 11;
const WINDOW_BITS: u32 = 24;

/// What identifies a page's content (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageKey {
    since: Cursor,
    cursor: Cursor,
    records: usize,
    has_more: bool,
}

impl PageKey {
    pub fn of(since: Cursor, page: &RawPage) -> Self {
        PageKey {
            since,
            cursor: page.cursor,
            records: page.items.len(),
            has_more: page.has_more,
        }
    }
}

type Entry = Arc<OnceCell<Arc<[u8]>>>;

/// Compressed columnar pages, each made once (concurrent requests for a page being made wait
/// for it rather than compress it again).
#[derive(Default)]
pub struct FeedCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<PageKey, Entry>,
    order: VecDeque<PageKey>,
}

impl FeedCache {
    fn entry(&self, key: PageKey) -> Entry {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = inner.entries.get(&key) {
            return entry.clone();
        }
        let entry = Entry::default();
        inner.entries.insert(key, entry.clone());
        inner.order.push_back(key);
        while inner.order.len() > MAX_ENTRIES {
            if let Some(old) = inner.order.pop_front() {
                inner.entries.remove(&old);
            }
        }
        entry
    }

    /// How many pages are kept.
    pub fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The page's columnar JSON, brotli-compressed: from the cache, or made now and kept.
    pub async fn brotli(&self, since: Cursor, page: RawPage) -> Result<Arc<[u8]>, ApiError> {
        let key = PageKey::of(since, &page);
        let entry = self.entry(key);
        let bytes = entry
            .get_or_try_init(|| async move {
                let json = columnar_json(page)?;
                tokio::task::spawn_blocking(move || compress(&json))
                    .await
                    .map_err(|err| internal("compressing a page", &err))?
            })
            .await?;
        Ok(bytes.clone())
    }
}

/// Logs what failed; the client gets `internal` without the detail.
fn internal(what: &str, err: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %err, "{what}");
    ApiError::Internal
}

/// The page as columnar JSON.
pub fn columnar_json(page: RawPage) -> Result<Vec<u8>, ApiError> {
    let page = page.parse()?;
    serde_json::to_vec(&ColumnarPage::from_page(page))
        .map_err(|err| internal("encoding a page", &err))
}

fn compress(json: &[u8]) -> Result<Arc<[u8]>, ApiError> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: QUALITY as i32,
        lgwin: WINDOW_BITS as i32,
        size_hint: json.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(json.len() / 8);
    {
        let mut writer = brotli::CompressorWriter::with_params(&mut out, 64 * 1024, &params);
        writer
            .write_all(json)
            .and_then(|()| writer.flush())
            .map_err(|err| internal("compressing a page", &err))?;
    }
    Ok(out.into())
}

/// Compresses the pages a phone's first sync asks for (from the start, [`ColumnarPage::PAGE_LIMIT`]
/// at a time) into the cache, one after another, so the first phone after a start or an import
/// does not wait for them. Runs until the end of the feed; errors only end it early.
pub async fn warm(store: SharedStore, cache: Arc<FeedCache>) {
    let limit = PageLimit::clamped(Some(ColumnarPage::PAGE_LIMIT));
    let mut since = Cursor::START;
    let started = std::time::Instant::now();
    let mut pages = 0u32;
    loop {
        let page = match store.registry_page_raw(since, limit).await {
            Ok(page) => page,
            Err(err) => {
                tracing::warn!(error = %err, "feed warm-up stopped");
                return;
            }
        };
        let (cursor, has_more) = (page.cursor, page.has_more);
        if let Err(err) = cache.brotli(since, page).await {
            tracing::warn!(error = ?err, "feed warm-up stopped");
            return;
        }
        pages += 1;
        if !has_more {
            break;
        }
        since = cursor;
    }
    tracing::info!(
        pages,
        seconds = started.elapsed().as_secs_f64(),
        "registry feed compressed for first syncs"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RawRecord;
    use std::io::Read;

    fn page(cursor: u64, ids: &[&str]) -> RawPage {
        RawPage {
            items: ids
                .iter()
                .map(|id| RawRecord {
                    id: id.parse().expect("uuid"),
                    version: 1,
                    updated_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).expect("time"),
                    deleted: true,
                    facility: None,
                    status: None,
                })
                .collect(),
            cursor: Cursor::from_seq(cursor),
            has_more: false,
        }
    }

    #[tokio::test]
    async fn pages_are_compressed_once_and_decode_to_the_page() {
        let cache = FeedCache::default();
        let ids = ["6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91"];
        let first = cache.brotli(Cursor::START, page(5, &ids)).await.unwrap();
        let again = cache.brotli(Cursor::START, page(5, &ids)).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the kept bytes are sent again");
        assert_eq!(cache.len(), 1);

        let mut json = String::new();
        brotli::Decompressor::new(&first[..], 4096)
            .read_to_string(&mut json)
            .unwrap();
        let columns: ColumnarPage = serde_json::from_str(&json).unwrap();
        let decoded = columns.into_page().unwrap();
        assert_eq!(decoded.cursor, Cursor::from_seq(5));
        assert_eq!(decoded.items[0].id.to_string(), ids[0]);
        assert!(decoded.items[0].deleted);

        // Another content under another key: a longer page from the same start.
        let two = [
            "6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91",
            "0b5ea0a4-1c4f-4b9e-8a43-3d2f6a1b9c7e",
        ];
        let longer = cache.brotli(Cursor::START, page(6, &two)).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &longer));
        assert_eq!(cache.len(), 2);
    }
}
