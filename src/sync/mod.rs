//! The registry sync engine: pulls the changes after the stored cursor, page by page, each page
//! and its cursor written to IndexedDB in one transaction, so an interrupted first sync resumes
//! where it stopped instead of starting over.
//!
//! The engine only decides and stores; where pages come from is a [`RegistrySource`] (the HTTP
//! API in the app, a scripted fake in the tests).

use crate::api::ApiError;
use crate::store::{Store, StoreError, SyncMeta};
use caremap_model::{ApiErrorCode, Cursor, Lang, RegistryPage};
use chrono::{DateTime, Utc};

/// Where registry pages come from.
pub trait RegistrySource {
    /// The page of changes after `since`.
    fn page(
        &self,
        since: Cursor,
    ) -> impl std::future::Future<Output = Result<RegistryPage, ApiError>>;
}

/// The sync server's registry feed. Each page has a deadline (`api`'s read timeout): a
/// stalled page fails as [`ApiError::Timeout`], a passing failure the app retries with backoff.
pub struct HttpRegistry;

impl RegistrySource for HttpRegistry {
    async fn page(&self, since: Cursor) -> Result<RegistryPage, ApiError> {
        crate::api::fetch_registry_page(since).await
    }
}

/// Progress of a pull, reported after every stored page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Pages stored by this pull so far.
    pub pages: u32,
    /// Records (changes) stored by this pull so far.
    pub records: u32,
}

/// What a pull reports as it goes, so the app can show what it stored without reading it back.
#[derive(Debug, Clone, Copy)]
pub enum PullEvent<'a> {
    /// The server disowned our cursor: everything held was forgotten; a full sync follows.
    Reset,
    /// A page was stored whole, with its cursor.
    Page {
        page: &'a RegistryPage,
        progress: Progress,
    },
}

/// Why a pull stopped before the end of the feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Whether retrying later may help: network trouble and server overload may pass; a full
    /// disk or a feed we cannot read will not by waiting.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Api(err) => err.is_transient(),
            SyncError::Store(_) => false,
        }
    }

    /// How long the server asked to wait before the next pull (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            SyncError::Api(err) => err.retry_after(),
            SyncError::Store(_) => None,
        }
    }

    /// One line for a user, in their language.
    pub fn user_message(&self, lang: Lang) -> String {
        match self {
            SyncError::Api(err) => err.user_message(lang),
            SyncError::Store(err) => err.user_message(lang),
        }
    }
}

/// A feed that keeps saying `has_more` past any plausible registry is broken: stop.
const MAX_PAGES_PER_PULL: u32 = 100_000;

/// Pulls every change after the stored cursor into `store`. Each page is stored with its
/// cursor before the next is asked for, then reported to `on_event`; on an error, what was
/// stored stays stored.
pub async fn pull(
    store: &Store,
    source: &impl RegistrySource,
    now: impl Fn() -> DateTime<Utc>,
    mut on_event: impl FnMut(PullEvent<'_>),
) -> Result<SyncMeta, SyncError> {
    let mut meta = store.sync_meta().await?;
    let mut progress = Progress {
        pages: 0,
        records: 0,
    };
    while progress.pages < MAX_PAGES_PER_PULL {
        let page = match source.page(meta.cursor).await {
            Ok(page) => page,
            // The server does not know our cursor (its database was replaced or restored):
            // what we hold may be wrong, so start over from nothing.
            Err(err)
                if err.api_code() == Some(ApiErrorCode::InvalidCursor)
                    && meta.cursor != Cursor::START =>
            {
                store.reset_registry().await?;
                meta = SyncMeta::default();
                on_event(PullEvent::Reset);
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        meta = store.apply_page(&page, now()).await?;
        progress.pages += 1;
        progress.records += u32::try_from(page.items.len()).unwrap_or(u32::MAX);
        on_event(PullEvent::Page {
            page: &page,
            progress,
        });
        if !page.has_more {
            return Ok(meta);
        }
    }
    Err(SyncError::Api(ApiError::EndlessFeed))
}
