// Measures a repeat visit with no network in headless Chromium with 4× CPU slowdown: the app is
// visited once online (until its registry is synced and, when there is one, its service worker
// controls the page), then the context goes offline, the CPU is throttled, and the page is
// reloaded several times; each time, the time from navigation start to the first marker on the
// map. Usage:
//   node tests/bench/offline-repeat.mjs http://127.0.0.1:PORT [runs]
// Prints figures (the median is the one to read); asserts nothing. Budget (DESIGN.md): ≤ 1.0 s.
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const runs = Number(process.argv[3] ?? 5);
const syncTimeoutMs = Number(process.env.OFFLINE_REPEAT_SYNC_TIMEOUT_MS ?? 15 * 60_000);
const markerTimeoutMs = Number(process.env.OFFLINE_REPEAT_MARKER_TIMEOUT_MS ?? 30_000);
const marker = '#map .leaflet-marker-icon';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ locale: 'zh-CN' });
const page = await context.newPage();
// Each document notes when its first marker appeared (milliseconds since its navigation start).
await page.addInitScript((selector) => {
  const seen = () => {
    if (window.__firstMarkerAt === undefined && document.querySelector(selector)) {
      window.__firstMarkerAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { subtree: true, childList: true });
}, marker);
const syncState = () => page.evaluate(
  () => document.querySelector('[data-testid=sync-status]')?.getAttribute('data-state') ?? null,
);

// The online visit: the registry synced into IndexedDB, the service worker in control.
const onlineStarted = Date.now();
await page.goto(base + '/');
try {
  await page.waitForFunction(
    () => document.querySelector('[data-testid=sync-status]')?.getAttribute('data-state') === 'synced',
    null,
    { timeout: syncTimeoutMs, polling: 100 },
  );
  console.log(`online visit: synced after ${((Date.now() - onlineStarted) / 1000).toFixed(1)} s`);
} catch {
  console.log(`online visit: not synced within ${syncTimeoutMs / 1000} s (state ${await syncState()}); measuring anyway`);
}

const controlled = () => page.evaluate(() => Boolean(navigator.serviceWorker?.controller));
const waitForController = (ms) => page
  .waitForFunction(() => Boolean(navigator.serviceWorker?.controller), null, { timeout: ms })
  .then(() => true, () => false);
let serviceWorker = await waitForController(15_000);
if (!serviceWorker) {
  // Registered but not yet in control (no clients.claim()): the next navigation is controlled.
  const registered = await page.evaluate(async () => {
    const registrations = await navigator.serviceWorker?.getRegistrations?.() ?? [];
    return registrations.length > 0;
  });
  if (registered) {
    await page.reload();
    serviceWorker = await waitForController(15_000);
  }
  console.log(registered
    ? `a service worker is registered; ${serviceWorker ? 'it controls the page after a reload' : 'it does not control the page'}`
    : 'no service worker registered within 15 s: the offline reloads below will likely fail; measuring anyway');
} else {
  console.log('service worker controls the page');
}
await page.waitForSelector(marker, { timeout: Math.max(markerTimeoutMs, 60_000) }).catch(() => {
  console.log(`no ${marker} on the page online`);
});

// Offline, 4× slower CPU: repeat visits.
await context.setOffline(true);
const cdp = await context.newCDPSession(page);
await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
const times = [];
for (let run = 1; run <= runs; run += 1) {
  const started = Date.now();
  try {
    await page.reload({ waitUntil: 'commit', timeout: markerTimeoutMs });
    await page.waitForSelector(marker, { timeout: markerTimeoutMs });
    // In the page: from its navigation start (the reload) to the marker's insertion.
    const inPage = await page.evaluate(() => window.__firstMarkerAt ?? performance.now());
    const wall = Date.now() - started;
    const state = await syncState();
    times.push(inPage);
    console.log(`  run ${run}: first marker ${inPage.toFixed(0)} ms after navigation start ` +
      `(${wall} ms from the reload call; sync state ${state})`);
  } catch (err) {
    console.log(`  run ${run}: no marker offline (${err.message.split('\n')[0]})`);
  }
  if (!(await controlled().catch(() => false)) && serviceWorker) {
    console.log('  (the service worker no longer controls the page)');
  }
}
await browser.close();

if (times.length === 0) {
  console.log('repeat visit with no network to markers on the map (4× CPU slowdown): no successful run');
} else {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`repeat visit with no network to markers on the map (4× CPU slowdown): median ${median.toFixed(0)} ms ` +
    `of ${times.length} runs (min ${sorted[0].toFixed(0)}, max ${sorted[sorted.length - 1].toFixed(0)}; budget 1000 ms)`);
}
