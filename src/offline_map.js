// The saved map tiles' store, used by src/offline_map.rs through wasm-bindgen (a snippet Trunk
// copies into the build; a file of our origin, so the CSP's script-src 'self' allows it).
//
// Tiles go into their own Cache Storage cache, which the service worker's tile route reads
// before anything else (tools/sw/build-sw.mjs): they are never expired there, only deleted with
// the "delete" button. Each tile is fetched with CORS where the tile server allows it (its size
// is then known, and Chromium counts it at its size); otherwise as an opaque response, which
// Chromium counts at a padded size: what the save costs is measured from the storage estimate.

/** Storage used and available to this origin, in bytes; null without the Storage API. */
export async function storageEstimate() {
  if (!navigator.storage || !navigator.storage.estimate) return null;
  const { usage, quota } = await navigator.storage.estimate();
  return { usage: usage ?? 0, quota: quota ?? 0 };
}

async function fetchTile(url, signal) {
  try {
    const response = await fetch(url, { mode: 'cors', credentials: 'omit', signal });
    if (response.ok) return response;
  } catch (err) {
    if (signal.aborted) throw err;
  }
  // No CORS from this tile server: an opaque response, as an <img> tile gets.
  const response = await fetch(url, { mode: 'no-cors', credentials: 'omit', signal });
  if (response.type === 'opaque' || response.ok) return response;
  throw new Error(`HTTP ${response.status}`);
}

/**
 * Fetches every URL of `urls` into the cache `cacheName`, `concurrency` at a time. Calls
 * `onProgress(done, failed)` as tiles arrive; stops when `signal` aborts. Resolves to
 * `{ saved, failed, bytes, aborted, quota }`: `bytes` is what storage grew by (or, without the
 * Storage API, the sizes read), `quota` true when the browser refused for lack of space.
 */
export async function saveTiles(cacheName, urls, concurrency, onProgress, signal) {
  const cache = await caches.open(cacheName);
  const before = await storageEstimate();
  let next = 0;
  let saved = 0;
  let failed = 0;
  let read = 0;
  let quota = false;
  const worker = async () => {
    while (next < urls.length && !signal.aborted && !quota) {
      const url = urls[next++];
      try {
        const response = await fetchTile(url, signal);
        if (response.type !== 'opaque') {
          const blob = await response.clone().blob();
          read += blob.size;
        }
        await cache.put(url, response);
        saved++;
      } catch (err) {
        if (err && err.name === 'QuotaExceededError') quota = true;
        else if (!signal.aborted) failed++;
      }
      onProgress(saved, failed);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const after = await storageEstimate();
  const grown = before && after ? Math.max(0, after.usage - before.usage) : 0;
  return { saved, failed, bytes: Math.max(grown, read), aborted: signal.aborted, quota };
}

/** Deletes the saved tiles. */
export async function deleteTiles(cacheName) {
  await caches.delete(cacheName);
}
