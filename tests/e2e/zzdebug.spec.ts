import { test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { liveFacilities, startServer } from './helpers';
import { pmtilesArchive, tileOf, vectorTile } from './pmtiles-fixture';

test('debug pmtiles', async ({ page }) => {
  const [west, south, east, north] = [120.9, 29.8, 121.5, 30.3];
  const tiles: [number, number, number][] = [];
  for (let z = 0; z <= 14; z++) {
    const [x0, y0] = tileOf(north, west, z);
    const [x1, y1] = tileOf(south, east, z);
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) tiles.push([z, x, y]);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-pmtiles-'));
  const file = path.join(dir, 'county.pmtiles');
  fs.writeFileSync(file, pmtilesArchive(tiles, vectorTile(), [west, south, east, north]));
  const server = await startServer([['demo']], undefined, () => ['--pmtiles', file]);
  page.on('console', (m) => console.log('CONSOLE', m.type(), m.text()));
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
  page.on('response', (r) => console.log('RESP', r.status(), r.url(), JSON.stringify(r.request().headers()['range'] ?? '')));
  page.on('requestfailed', (r) => console.log('FAILED', r.url(), r.failure()?.errorText));
  const [known] = await liveFacilities(page.request, server.baseURL);
  const { lat, lon } = known.facility!.location;
  console.log('CONFIG', await (await fetch(`${server.baseURL}/api/v1/config`)).text());
  await page.goto(`${server.baseURL}/?near=${lat.toFixed(5)},${lon.toFixed(5)}`);
  await page.waitForTimeout(8000);
  console.log('PL', await page.evaluate(() => typeof (window as any).protomapsL));
  console.log('CANVAS', await page.evaluate(() => [...document.querySelectorAll('#map canvas')].map(c => `${(c as HTMLCanvasElement).width}x${(c as HTMLCanvasElement).height} ${c.className}`).join(';')));
  console.log('PANES', await page.evaluate(() => document.querySelector('.leaflet-tile-pane')?.innerHTML.slice(0, 1500)));
  console.log('COLOURS', await page.evaluate(() => [...document.querySelectorAll<HTMLCanvasElement>('#map canvas')].map((canvas) => {
    const ctx = canvas.getContext('2d')!;
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Map<string, number>();
    for (let i = 0; i < data.length; i += 4 * 97) { const k = `${data[i]},${data[i+1]},${data[i+2]},${data[i+3]}`; colours.set(k, (colours.get(k) ?? 0) + 1); }
    return JSON.stringify([...colours]);
  }).join('\n')));
  console.log('ZOOM', await page.evaluate(() => document.querySelector('#map')?.getAttribute('data-zoom')));
  await page.screenshot({ path: '/tmp/pmtiles.png' });
  await server.stop();
});
