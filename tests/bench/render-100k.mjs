// Measures the time to render a large registry as clustered markers in headless Chromium: the
// app is visited once online until its registry is synced into IndexedDB, then the page is
// reloaded several times; each time, the time from navigation start until the map's single
// markers plus its cluster icons' counts add up to every facility of the registry (the whole
// province is in view after a reload, so every facility is counted, as tests/e2e/helpers.ts
// `mapTally` counts them). Usage:
//   node tests/bench/render-100k.mjs http://127.0.0.1:PORT [runs]
// The server should hold the registry to measure (`cargo xtask bench` gives it 100,000 synthetic
// facilities: `caremap-server demo --size 100000`). RENDER_CPU_SLOWDOWN=4 throttles the CPU for
// the reloads (1 by default). Prints figures (the median is the one to read); asserts nothing.
// DESIGN.md: with a registry of 100,000 facilities the map stays smooth (clustered).
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const runs = Number(process.argv[3] ?? 3);
const origin = new URL(base).origin;
const syncTimeoutMs = Number(process.env.RENDER_SYNC_TIMEOUT_MS ?? 15 * 60_000);
const renderTimeoutMs = Number(process.env.RENDER_TIMEOUT_MS ?? 120_000);
const slowdown = Number(process.env.RENDER_CPU_SLOWDOWN ?? 1);

const health = await fetch(`${origin}/api/v1/health`).then((r) => r.json()).catch(() => null);
const expected = Number(health?.facilities);
if (!Number.isFinite(expected) || expected <= 0) {
  console.log(`the server at ${origin} did not say how many facilities it holds (GET /api/v1/health): nothing to measure`);
  process.exit(1);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ locale: 'zh-CN' });
const page = await context.newPage();
// Each document notes (in milliseconds since its navigation start) when the map first showed a
// marker or cluster icon, and when its markers and clusters' counts first added up to `expected`;
// also when it first said it holds `expected` facilities (the registry read from IndexedDB).
await page.addInitScript((total) => {
  const tally = () => {
    const map = document.getElementById('map');
    if (!map) return null;
    let sum = 0;
    let icons = 0;
    for (const icon of map.querySelectorAll('.leaflet-marker-icon')) {
      if (icon.classList.contains('marker-cluster')) {
        sum += Number((icon.textContent ?? '').trim()) || 0;
        icons += 1;
      } else if (icon.classList.contains('marker')) {
        sum += 1;
        icons += 1;
      }
    }
    return { sum, icons };
  };
  window.__render = { countAt: null, firstIconAt: null, completeAt: null, icons: 0, clusters: 0 };
  const watch = () => {
    const r = window.__render;
    if (r.completeAt !== null) return;
    const now = performance.now();
    // The app has read the registry from IndexedDB when it says how many facilities it holds.
    if (r.countAt === null &&
        document.querySelector('[data-testid=facility-count]')?.textContent?.trim() === String(total)) {
      r.countAt = now;
    }
    const t = tally();
    if (!t || t.icons === 0) return;
    if (r.firstIconAt === null) r.firstIconAt = now;
    if (t.sum === total) {
      r.completeAt = now;
      r.icons = t.icons;
      r.clusters = document.querySelectorAll('#map .leaflet-marker-icon.marker-cluster').length;
    }
  };
  new MutationObserver(watch).observe(document, { subtree: true, childList: true, characterData: true });
}, expected);
const syncState = () => page.evaluate(
  () => document.querySelector('[data-testid=sync-status]')?.getAttribute('data-state') ?? null,
);

// The first visit: the whole registry into IndexedDB.
const onlineStarted = Date.now();
await page.goto(base + '/');
try {
  await page.waitForFunction(
    () => document.querySelector('[data-testid=sync-status]')?.getAttribute('data-state') === 'synced',
    null,
    { timeout: syncTimeoutMs, polling: 250 },
  );
  console.log(`first visit: ${expected} facilities synced into IndexedDB after ${((Date.now() - onlineStarted) / 1000).toFixed(1)} s`);
} catch {
  console.log(`first visit: not synced within ${syncTimeoutMs / 1000} s (state ${await syncState()}); measuring anyway`);
}
const stored = await page.locator('[data-testid=facility-count]').first().textContent({ timeout: 60_000 })
  .then((t) => t.trim()).catch(() => '?');
console.log(`facilities on the phone: ${stored} (server: ${expected})`);

if (slowdown > 1) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: slowdown });
}
const times = [];
for (let run = 1; run <= runs; run += 1) {
  try {
    await page.reload({ waitUntil: 'commit', timeout: renderTimeoutMs });
    await page.waitForFunction(() => window.__render?.completeAt != null, null,
      { timeout: renderTimeoutMs, polling: 100 });
    const r = await page.evaluate(() => window.__render);
    times.push(r.completeAt);
    console.log(`  run ${run}: all ${expected} facilities on the map ${r.completeAt.toFixed(0)} ms after navigation start ` +
      `(facility count shown at ${r.countAt?.toFixed(0) ?? '?'} ms, first icon at ${r.firstIconAt.toFixed(0)} ms; ` +
      `${r.icons} icons drawn, ${r.clusters} of them clusters; ` +
      `sync state ${await syncState()})`);
  } catch (err) {
    const r = await page.evaluate(() => window.__render).catch(() => null);
    console.log(`  run ${run}: the map's counts did not add up to ${expected} within ${renderTimeoutMs / 1000} s ` +
      `(${err.message.split('\n')[0]}; first icon at ${r?.firstIconAt?.toFixed(0) ?? 'never'} ms)`);
  }
}
await browser.close();

const cpu = slowdown > 1 ? `${slowdown}× CPU slowdown` : 'no CPU throttling';
if (times.length === 0) {
  console.log(`time to render ${expected} clustered markers (registry in IndexedDB, ${cpu}): no successful run`);
} else {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`time to render ${expected} clustered markers, navigation to cluster counts adding up ` +
    `(registry in IndexedDB, ${cpu}): median ${median.toFixed(0)} ms of ${times.length} runs ` +
    `(min ${sorted[0].toFixed(0)}, max ${sorted[sorted.length - 1].toFixed(0)})`);
}
