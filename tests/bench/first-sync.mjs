// Measures the first sync of a large registry in headless Chromium, as a phone does it on its first
// visit: a fresh browser context opens the app against a running server and pulls the whole
// registry into IndexedDB. Prints the bytes on the wire of every /api/v1/registry response
// (compressed bodies and headers, as Chromium received them) and the time from navigation until
// the app says the sync is complete. Usage:
//   node tests/bench/first-sync.mjs http://127.0.0.1:PORT
// The server should hold the registry to measure (`cargo xtask bench` gives it 100,000 synthetic
// facilities: `caremap-server demo --size 100000`). Prints figures; asserts nothing (budgets are
// in DESIGN.md: first sync of 100,000 facilities ≤ 3 MB compressed).
//
// The app's contract: `[data-testid=sync-status]` has `data-state` = loading | syncing | synced |
// offline | error; `[data-testid=facility-count]` holds the number of facilities on the phone.
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const origin = new URL(base).origin;
const timeoutMs = Number(process.env.FIRST_SYNC_TIMEOUT_MS ?? 15 * 60_000);

// What the server holds, to compare with what the phone ends up with.
const health = await fetch(`${origin}/api/v1/health`).then((r) => r.json()).catch(() => null);
const expected = health?.facilities;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ locale: 'zh-CN' });
const page = await context.newPage();

// Every registry response that came over the network: from the page, or from a service worker
// (a page request the service worker answered is skipped, so nothing is counted twice).
const pages = [];
const pending = [];
let started = 0;
context.on('requestfinished', (request) => {
  const url = new URL(request.url());
  if (url.origin !== origin || url.pathname !== '/api/v1/registry') return;
  pending.push((async () => {
    const response = await request.response();
    if (!response || response.fromServiceWorker()) return;
    const sizes = await request.sizes();
    const body = await response.body().catch(() => null);
    pages.push({
      at: Date.now() - started,
      status: response.status(),
      wire: sizes.responseBodySize + sizes.responseHeadersSize,
      body: sizes.responseBodySize,
      decoded: body?.length ?? 0,
      encoding: response.headers()['content-encoding'] ?? 'identity',
      limit: url.searchParams.get('limit') ?? '(default)',
    });
  })());
});
const failed = [];
context.on('requestfailed', (request) => {
  if (new URL(request.url()).pathname === '/api/v1/registry') failed.push(request.failure()?.errorText);
});

// The sync bar's states as they change, with their times.
const states = [];
await page.exposeFunction('__benchSyncState', (state) => states.push({ state, at: Date.now() - started }));
await page.addInitScript(() => {
  let last = null;
  const watch = () => {
    const bar = document.querySelector('[data-testid=sync-status]');
    const state = bar?.getAttribute('data-state') ?? null;
    if (state !== last) {
      last = state;
      window.__benchSyncState(state);
    }
  };
  new MutationObserver(watch).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
});

started = Date.now();
await page.goto(base + '/');
// Done when the bar says `synced` after it said `syncing`: a `synced` before any pull (nothing
// stored yet, nothing asked yet) is not the end of the first sync.
let outcome = 'synced';
let toSynced = null;
for (;;) {
  const last = states[states.length - 1];
  if (last?.state === 'synced' && states.some((s) => s.state === 'syncing')) {
    toSynced = last.at;
    break;
  }
  if (Date.now() - started > timeoutMs) {
    outcome = `not synced within ${timeoutMs / 1000} s (state ${last?.state ?? 'none'})`;
    break;
  }
  await page.waitForTimeout(50);
}
const count = await page.locator('[data-testid=facility-count]').first().textContent({ timeout: 120_000 })
  .then((t) => t.trim())
  .catch(() => '(no [data-testid=facility-count] on the page)');
const finalState = await page.locator('[data-testid=sync-status]').first().getAttribute('data-state', { timeout: 120_000 })
  .catch(() => '(no [data-testid=sync-status] on the page)');
// What IndexedDB holds (the PWA's database `caremap`: object stores `facilities` and `meta`), and
// when the sync engine marked the pull complete: the phone's clock when the last page came, just
// before that page was written.
const stored = await page.evaluate(async () => {
  const request = indexedDB.open('caremap');
  const db = await new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const read = (store, op) => new Promise((resolve, reject) => {
    const r = op(db.transaction(store, 'readonly').objectStore(store));
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const facilities = await read('facilities', (s) => s.count());
  const meta = await read('meta', (s) => s.get('registry_sync')).catch(() => null);
  db.close();
  const complete = meta?.last_complete ? Date.parse(meta.last_complete) : NaN;
  return { facilities, completeAfter: complete - performance.timeOrigin };
}).catch((err) => ({ error: err.message.split('\n')[0] }));
await Promise.all(pending);
await browser.close();

const sum = (key) => pages.reduce((total, p) => total + p[key], 0);
const encodings = [...new Set(pages.map((p) => p.encoding))].join(', ') || 'none';
const limits = [...new Set(pages.map((p) => p.limit))].join(', ') || 'none';
const mb = (bytes) => (bytes / 1e6).toFixed(2);
console.log(`server registry: ${expected ?? '?'} facilities (GET /api/v1/health)`);
console.log(`registry responses: ${pages.length} (limit ${limits}; content-encoding ${encodings}; ` +
  `${pages.filter((p) => p.status !== 200).length} not 200; ${failed.length} failed)`);
console.log(`first sync on the wire: ${mb(sum('wire'))} MB (bodies ${mb(sum('body'))} MB, ` +
  `JSON ${mb(sum('decoded'))} MB) (budget for 100,000 facilities: 3 MB compressed)`);
if (pages.length > 0) {
  console.log(`registry responses from ${pages[0].at} ms to ${Math.max(...pages.map((p) => p.at))} ms after navigation`);
}
console.log(`sync states: ${states.map((s) => `${s.state ?? '(none)'} @${s.at} ms`).join(' → ') || '(no [data-testid=sync-status] seen)'}`);
console.log(`first sync, navigation to data-state="synced": ${toSynced !== null ? `${(toSynced / 1000).toFixed(1)} s` : outcome}`);
console.log(`facilities on the phone: ${count} shown; ${stored.error ? `IndexedDB not readable (${stored.error})` : `${stored.facilities} in IndexedDB`}; final sync state: ${finalState}`);
if (Number.isFinite(stored.completeAfter)) {
  console.log(`first sync into IndexedDB: last page received and marked complete ${(stored.completeAfter / 1000).toFixed(1)} s after navigation ` +
    `(then written; "synced" also waits for the page to show what it got)`);
}
