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
//! The record layout (`format=records`, the default) is kept the same way, compressed at
//! brotli 5 on first request (what the compression layer would spend on every request).
//!
//! **Arbitrary pages cannot push the first-sync pages out.** The cache has two parts: the
//! *chain* (pages at the layout's canonical limit, [`ColumnarPage::PAGE_LIMIT`] for columns and
//! the default 500 for records, from the start or from a cursor that a chain page gave), at
//! most [`MAX_CHAIN`] pages, and everything else, at most [`MAX_OTHER`]. A request with a
//! `since`/`limit` pair of its own lands in the second part and can only evict its kind; the
//! chain's cursors are only ever made by the server, from its own pages.
//!
//! A page is known by what identifies its content: where it starts (`since`), its cursor, how
//! many records it holds and whether more follow. Every change takes a new sequence number
//! larger than any before, so a facility changed after the page was made leaves the range
//! `(since, cursor]` (the page then holds fewer records, or reaches further) and no record can
//! enter it: equal keys are equal pages (cursors name the database, so two databases' pages
//! never share a key either). Entries are dropped oldest first within their part.

use crate::error::ApiError;
use crate::store::{RawPage, SharedStore};
use caremap_model::{ColumnarPage, Cursor, PageLimit};
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// First-sync pages kept (a page of 5,000 facilities is about 150 KB at brotli 11; 400 pages
/// are a registry of 200,000 in records of 500, or several versions of its columnar chain).
pub const MAX_CHAIN: usize = 600;
/// Other pages kept.
pub const MAX_OTHER: usize = 200;

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

/// The layouts of a registry page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `format=records`: [`caremap_model::RegistryPage`].
    Records,
    /// `format=columns`: [`ColumnarPage`].
    Columns,
}

impl Layout {
    /// The limit a first sync in this layout pages with.
    pub fn canonical_limit(self) -> PageLimit {
        match self {
            Layout::Records => PageLimit::DEFAULT,
            Layout::Columns => PageLimit::clamped(Some(ColumnarPage::PAGE_LIMIT)),
        }
    }
}

/// What identifies a page's content (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageKey {
    layout: Layout,
    since: Cursor,
    cursor: Cursor,
    records: usize,
    has_more: bool,
}

impl PageKey {
    pub fn of(layout: Layout, since: Cursor, page: &RawPage) -> Self {
        PageKey {
            layout,
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
    chain: Part,
    other: Part,
    /// The cursors chain pages gave (where the next first-sync page starts).
    chain_cursors: HashSet<(Layout, Cursor)>,
}

/// Pages kept, dropped oldest first beyond a capacity.
#[derive(Default)]
struct Part {
    entries: HashMap<PageKey, Compressed>,
    order: VecDeque<PageKey>,
}

impl Part {
    fn insert(&mut self, key: PageKey, compressed: Compressed, capacity: usize) {
        if self.entries.insert(key, compressed).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }
}

impl FeedCache {
    fn get(&self, key: &PageKey) -> Option<Compressed> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .chain
            .entries
            .get(key)
            .or_else(|| inner.other.entries.get(key))
            .cloned()
    }

    /// Whether a request of `limit` from `since` walks a first sync's chain.
    fn in_chain(&self, layout: Layout, since: Cursor, limit: PageLimit) -> bool {
        if limit != layout.canonical_limit() {
            return false;
        }
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        since == Cursor::START || inner.chain_cursors.contains(&(layout, since))
    }

    fn insert(&self, key: PageKey, compressed: Compressed, chain: bool) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if chain {
            if key.has_more {
                if inner.chain_cursors.len() >= 4 * MAX_CHAIN {
                    inner.chain_cursors.clear();
                }
                inner.chain_cursors.insert((key.layout, key.cursor));
            }
            inner.other.entries.remove(&key);
            inner.chain.insert(key, compressed, MAX_CHAIN);
        } else {
            inner.other.insert(key, compressed, MAX_OTHER);
        }
    }

    /// How many pages are kept.
    pub fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.chain.entries.len() + inner.other.entries.len()
    }

    /// How many first-sync pages are kept.
    pub fn chain_len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.chain.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The brotli quality the columnar page `since` → `page` is kept at, if it is kept.
    pub fn quality(&self, since: Cursor, page: &RawPage) -> Option<u32> {
        self.get(&PageKey::of(Layout::Columns, since, page))
            .map(|c| c.quality)
    }

    /// The columnar page of a request from `since` with `limit`, brotli-compressed: as kept,
    /// or made now at a quick quality and kept. A page from the start that was not kept means
    /// the first-sync chain changed: a warm-up of `store`'s chain starts in the background.
    pub async fn brotli(
        self: &Arc<Self>,
        store: &SharedStore,
        since: Cursor,
        limit: PageLimit,
        page: RawPage,
    ) -> Result<Arc<[u8]>, ApiError> {
        let key = PageKey::of(Layout::Columns, since, &page);
        if let Some(kept) = self.get(&key) {
            return Ok(kept.bytes);
        }
        if since == Cursor::START {
            self.clone().start_warm(store.clone());
        }
        let chain = self.in_chain(Layout::Columns, since, limit);
        let compressed = compress_page(Layout::Columns, page, QUICK).await?;
        self.insert(key, compressed.clone(), chain);
        Ok(compressed.bytes)
    }

    /// The record-layout page of a request from `since` with `limit`, brotli-compressed: as
    /// kept, or made now (brotli 5) and kept.
    pub async fn records_brotli(
        &self,
        since: Cursor,
        limit: PageLimit,
        page: RawPage,
    ) -> Result<Arc<[u8]>, ApiError> {
        let key = PageKey::of(Layout::Records, since, &page);
        if let Some(kept) = self.get(&key) {
            return Ok(kept.bytes);
        }
        let chain = self.in_chain(Layout::Records, since, limit);
        let compressed = compress_page(Layout::Records, page, QUICK).await?;
        self.insert(key, compressed.clone(), chain);
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
            let key = PageKey::of(Layout::Columns, since, &page);
            if self.get(&key).is_none_or(|kept| kept.quality < BEST) {
                match compress_page(Layout::Columns, page, BEST).await {
                    Ok(compressed) => self.insert(key, compressed, true),
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

async fn compress_page(
    layout: Layout,
    page: RawPage,
    quality: u32,
) -> Result<Compressed, ApiError> {
    let json = match layout {
        Layout::Columns => columnar_json(page)?,
        Layout::Records => {
            serde_json::to_vec(&page).map_err(|err| internal("encoding a page", &err))?
        }
    };
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
        let limit = PageLimit::clamped(Some(ColumnarPage::PAGE_LIMIT));
        let first = cache
            .brotli(&store, since, limit, page(5, &ids))
            .await
            .unwrap();
        let again = cache
            .brotli(&store, since, limit, page(5, &ids))
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the kept bytes are sent again");
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.quality(since, &page(5, &ids)), Some(QUICK));
        let decoded = decode(&first);
        assert_eq!(decoded.cursor, Cursor::from_seq(5));
        assert_eq!(decoded.items[0].id.to_string(), ids[0]);
        assert!(decoded.items[0].deleted);

        // Another content under another key: a longer page from the same start.
        let two = [ids[0], "0b5ea0a4-1c4f-4b9e-8a43-3d2f6a1b9c7e"];
        let longer = cache
            .brotli(&store, since, limit, page(6, &two))
            .await
            .unwrap();
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
            .brotli(&store, Cursor::START, limit, first.clone())
            .await
            .unwrap();
        assert_eq!(decode(&bytes), first.parse().unwrap());
    }

    #[tokio::test]
    async fn arbitrary_pages_cannot_evict_the_first_sync_chain() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("feed.sqlite").display());
        let store = crate::store::connect(&url).await.expect("store");
        crate::demo::seed(store.as_ref(), false)
            .await
            .expect("seed");
        let cache = Arc::new(FeedCache::default());
        // A first sync in records of the default 500: the chain.
        let limit = Layout::Records.canonical_limit();
        let mut since = Cursor::START;
        let mut chain = Vec::new();
        loop {
            let page = store.registry_page_raw(since, limit).await.unwrap();
            let bytes = cache
                .records_brotli(since, limit, page.clone())
                .await
                .unwrap();
            chain.push((since, page.clone(), bytes));
            if !page.has_more {
                break;
            }
            since = page.cursor;
        }
        assert_eq!(cache.chain_len(), chain.len());
        // A flood of pages of odd since/limit pairs, many more than the cache holds.
        let mut odd = 0;
        'flood: for seq in 1..400u64 {
            for n in [3u32, 7, 11] {
                let (since, limit) = (Cursor::from_seq(seq), PageLimit::clamped(Some(n)));
                let page = store.registry_page_raw(since, limit).await.unwrap();
                cache.records_brotli(since, limit, page).await.unwrap();
                odd += 1;
                if odd > 2 * MAX_OTHER {
                    break 'flood;
                }
            }
        }
        assert_eq!(cache.len(), chain.len() + MAX_OTHER);
        for (since, page, bytes) in chain {
            let again = cache.records_brotli(since, limit, page).await.unwrap();
            assert!(
                Arc::ptr_eq(&bytes, &again),
                "the first-sync page is still kept"
            );
        }
    }
}
