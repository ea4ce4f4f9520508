// Measures a first visit to the map page in headless Chromium against a running server:
// every response's bytes on the wire (compressed body + headers), grouped by type, and the time
// until the markers are on the map. Usage: node tests/bench/first-load.mjs http://127.0.0.1:PORT
// Prints figures; asserts nothing (budgets are in DESIGN.md).
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ locale: 'zh-CN' });
const page = await context.newPage();
const rows = [];
page.on('requestfinished', async (request) => {
  const url = new URL(request.url());
  if (url.origin !== new URL(base).origin) return; // map tiles are not part of the app
  const sizes = await request.sizes();
  const response = await request.response();
  rows.push({
    path: url.pathname + url.search,
    bytes: sizes.responseBodySize + sizes.responseHeadersSize,
    encoding: response?.headers()['content-encoding'] ?? 'identity',
  });
});
const started = Date.now();
await page.goto(base + '/');
await page.waitForSelector('#map .leaflet-marker-icon', { timeout: 60_000 });
const toMarkers = Date.now() - started;
await page.waitForLoadState('networkidle');
await browser.close();

rows.sort((a, b) => b.bytes - a.bytes);
let total = 0;
let app = 0;
for (const row of rows) {
  total += row.bytes;
  if (!row.path.startsWith('/api/')) app += row.bytes;
  console.log(`  ${String(row.bytes).padStart(9)} B  ${row.encoding.padEnd(8)} ${row.path}`);
}
console.log(`first-load transfer, app shell and assets: ${(app / 1024).toFixed(1)} KB (budget 400 KB)`);
console.log(`first-load transfer, including registry data: ${(total / 1024).toFixed(1)} KB`);
console.log(`first visit to markers on the map (no CPU throttling): ${toMarkers} ms`);
