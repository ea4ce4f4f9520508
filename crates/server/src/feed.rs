//! The columnar registry feed (`format=columns`), compressed and kept.
//!
//! A first sync of a large registry is the biggest thing a phone downloads, over the weakest
//! links. Brotli at its best quality (11, window 2^24) makes a page of 5,000 facilities in the
//! columnar layout about 45 % smaller than the record layout at brotli 6, but takes seconds of
//! CPU a page: far too much to spend on a request (anyone could ask for pages from cursors no
//! one else uses). So:
//!
//! - the pages of a first sync (from the start, [`ColumnarPage::PAGE_LIMIT`] at a time, the
//!   chain every new phone walks) are compressed at brotli 11 by one background task
//!   ([`FeedCache::warm`]) when the server starts, and again when a first sync finds the chain
//!   changed (a page from the start that is not kept), at most every [`MIN_WARM_INTERVAL`];
//! - any other page is compressed at brotli 5 (tens of milliseconds, like the on-the-fly
//!   compression of the record layout) when first asked for;
//! - either way the bytes are kept, so a page is compressed once, however many phones ask.
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Pages kept (a page of 5,000 facilities is about 150 KB at brotli 11).
const MAX_ENTRIES: usize = 400;

/// Brotli's best quality and largest standard window (what browsers decode): for the pages of
/// a first sync, made in the background.
const BEST: u32 = 11;
/// A quality that takes milliseconds: for any other page, made on request.
const QUICK: u32 = 5;
const WINDOW_BITS: u32 = 24;

/// The shortest time between two warm-ups. Every load report changes the feed, and a change
/// early in it shifts every later page: without a pause, a registry with busy doctors would
/// keep a core compressing. Meanwhile a changed page goes out as its brotli-5 copy.
const MIN_WARM_INTERVAL: Duration = Duration::from_secs(10 * 60);

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

/// A page's compressed bytes and the quality they were made at.
#[derive(Debug, Clone)]
struct Compressed {
    bytes: Arc<[u8]>,
    quality: u32,
}

/// Compressed columnar pages.
#[derive(Default)]
pub struct FeedCache {
    inner: Mutex<Inner>,
    /// A warm-up is running (one at a time).
    warming: AtomicBool,
    /// When the last warm-up started.
    last_warm: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<PageKey, Compressed>,
    order: VecDeque<PageKey>,
}

impl FeedCache {
    fn get(&self, key: &PageKey) -> Option<Compressed> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.get(key).cloned()
    }

    fn insert(&self, key: PageKey, compressed: Compressed) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.entries.insert(key, compressed).is_none() {
            inner.order.push_back(key);
        }
        while inner.order.len() > MAX_ENTRIES {
            if let Some(old) = inner.order.pop_front() {
                inner.entries.remove(&old);
            }
        }
    }

    /// How many pages are kept.
    pub fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The brotli quality the page `since` → `page` is kept at, if it is kept.
    pub fn quality(&self, since: Cursor, page: &RawPage) -> Option<u32> {
        self.get(&PageKey::of(since, page)).map(|c| c.quality)
    }

    /// The page's columnar JSON, brotli-compressed: as kept, or made now at a quick quality
    /// and kept. A page from the start that was not kept means the first-sync chain changed:
    /// a warm-up of `store`'s chain starts in the background.
    pub async fn brotli(
        self: &Arc<Self>,
        store: &SharedStore,
        since: Cursor,
        page: RawPage,
    ) -> Result<Arc<[u8]>, ApiError> {
        let key = PageKey::of(since, &page);
        if let Some(kept) = self.get(&key) {
            return Ok(kept.bytes);
        }
        if since == Cursor::START {
            self.clone().start_warm(store.clone());
        }
        let compressed = compress_page(page, QUICK).await?;
        self.insert(key, compressed.clone());
        Ok(compressed.bytes)
    }

    /// Starts [`FeedCache::warm`] in the background unless one is running or one started less
    /// than [`MIN_WARM_INTERVAL`] ago.
    pub fn start_warm(self: Arc<Self>, store: SharedStore) {
        if self.warming.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut last = self.last_warm.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < MIN_WARM_INTERVAL) {
                self.warming.store(false, Ordering::Release);
                return;
            }
            *last = Some(Instant::now());
        }
        tokio::spawn(async move {
            self.warm(store).await;
            self.warming.store(false, Ordering::Release);
        });
    }

    /// Compresses the pages a phone's first sync asks for (from the start,
    /// [`ColumnarPage::PAGE_LIMIT`] at a time) at brotli 11, one after another, replacing
    /// quicker copies. Runs to the end of the feed; an error only ends it early.
    pub async fn warm(&self, store: SharedStore) {
        let limit = PageLimit::clamped(Some(ColumnarPage::PAGE_LIMIT));
        let mut since = Cursor::START;
        let started = Instant::now();
        let mut made = 0u32;
        loop {
            let page = match store.registry_page_raw(since, limit).await {
                Ok(page) => page,
                Err(err) => {
                    tracing::warn!(error = %err, "feed warm-up stopped");
                    return;
                }
            };
            let (cursor, has_more) = (page.cursor, page.has_more);
            let key = PageKey::of(since, &page);
            if self.get(&key).is_none_or(|kept| kept.quality < BEST) {
                match compress_page(page, BEST).await {
                    Ok(compressed) => self.insert(key, compressed),
                    Err(err) => {
                        tracing::warn!(error = ?err, "feed warm-up stopped");
                        return;
                    }
                }
                made += 1;
            }
            if !has_more {
                break;
            }
            since = cursor;
        }
        tracing::info!(
            pages = made,
            seconds = started.elapsed().as_secs_f64(),
            "registry feed compressed for first syncs"
        );
    }
}

/// The page as columnar JSON.
pub fn columnar_json(page: RawPage) -> Result<Vec<u8>, ApiError> {
    let page = page.parse()?;
    serde_json::to_vec(&ColumnarPage::from_page(page))
        .map_err(|err| internal("encoding a page", &err))
}

/// Logs what failed; the client gets `internal` without the detail.
fn internal(what: &str, err: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %err, "{what}");
    ApiError::Internal
}

async fn compress_page(page: RawPage, quality: u32) -> Result<Compressed, ApiError> {
    let json = columnar_json(page)?;
    let bytes = tokio::task::spawn_blocking(move || compress(&json, quality))
        .await
        .map_err(|err| internal("compressing a page", &err))??;
    Ok(Compressed { bytes, quality })
}

fn compress(json: &[u8], quality: u32) -> Result<Arc<[u8]>, ApiError> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: quality as i32,
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

    fn decode(bytes: &[u8]) -> caremap_model::RegistryPage {
        let mut json = String::new();
        brotli::Decompressor::new(bytes, 4096)
            .read_to_string(&mut json)
            .expect("brotli");
        let columns: ColumnarPage = serde_json::from_str(&json).expect("columns");
        columns.into_page().expect("page")
    }

    #[tokio::test]
    async fn pages_are_compressed_once_and_decode_to_the_page() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("feed.sqlite").display());
        let store = crate::store::connect(&url).await.expect("store");
        let cache = Arc::new(FeedCache::default());
        let ids = ["6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91"];
        let since = Cursor::from_seq(3);
        let first = cache.brotli(&store, since, page(5, &ids)).await.unwrap();
        let again = cache.brotli(&store, since, page(5, &ids)).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the kept bytes are sent again");
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.quality(since, &page(5, &ids)), Some(QUICK));
        let decoded = decode(&first);
        assert_eq!(decoded.cursor, Cursor::from_seq(5));
        assert_eq!(decoded.items[0].id.to_string(), ids[0]);
        assert!(decoded.items[0].deleted);

        // Another content under another key: a longer page from the same start.
        let two = [ids[0], "0b5ea0a4-1c4f-4b9e-8a43-3d2f6a1b9c7e"];
        let longer = cache.brotli(&store, since, page(6, &two)).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &longer));
        assert_eq!(decode(&longer).items.len(), 2);
        assert_eq!(cache.len(), 2);
    }

    #[tokio::test]
    async fn the_first_sync_chain_is_kept_at_the_best_quality() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("feed.sqlite").display());
        let store = crate::store::connect(&url).await.expect("store");
        crate::demo::seed(store.as_ref(), false)
            .await
            .expect("seed");
        let cache = Arc::new(FeedCache::default());
        let limit = PageLimit::clamped(Some(ColumnarPage::PAGE_LIMIT));
        let first = store.registry_page_raw(Cursor::START, limit).await.unwrap();
        assert_eq!(cache.quality(Cursor::START, &first), None);

        cache.warm(store.clone()).await;
        assert_eq!(cache.quality(Cursor::START, &first), Some(BEST));
        let bytes = cache
            .brotli(&store, Cursor::START, first.clone())
            .await
            .unwrap();
        assert_eq!(decode(&bytes), first.parse().unwrap());
    }
}
