// The base map: a tile provider preset in GCJ-02 (Amap) draws every marker where its GCJ-02
// position falls on the tiles, and a tap there is read back as WGS-84; "save this area's map"
// draws the area with the network cut; our own PMTiles file is drawn from our own server.
//
// No network: Amap's tile hosts are answered by Playwright's routing, the custom tile server is
// a small HTTP server of this file (port CAREMAP_E2E_TILE_PORT, default 18305), and the PMTiles
// file is written by pmtiles-fixture.ts from a few vector tiles made there.
import { test, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlledByServiceWorker, liveFacilities, startServer, watchPage, type FacilityRecord } from './helpers';
import { pmtilesArchive, tileOf, vectorTile } from './pmtiles-fixture';

const repoRoot = path.resolve(__dirname, '../..');
const tilePng = fs.readFileSync(path.join(repoRoot, 'public/icon-192.png'));
const tilePort = Number(process.env.CAREMAP_E2E_TILE_PORT ?? 18305);

// ---- WGS-84 → GCJ-02, written here from the published algorithm (not the app's code) ----

const A = 6378245.0;
const EE = 0.00669342162296594323;

function transformLat(x: number, y: number): number {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function transformLon(x: number, y: number): number {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

/** GCJ-02 (lat, lon) of a WGS-84 point in mainland China. */
function gcj02(lat: number, lon: number): [number, number] {
  let dLat = transformLat(lon - 105, lat - 35);
  let dLon = transformLon(lon - 105, lat - 35);
  const radLat = (lat / 180) * Math.PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lat + dLat, lon + dLon];
}

/** Web-Mercator world pixel of (lat, lon) at zoom z (256 px tiles). */
function worldPixel(lat: number, lon: number, z: number): [number, number] {
  const size = 256 * 2 ** z;
  const phi = (lat * Math.PI) / 180;
  return [
    ((lon + 180) / 360) * size,
    ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * size,
  ];
}

type TileOnScreen = { z: number; x: number; y: number; left: number; top: number; scale: number };

/**
 * A loaded tile of the map once every tile shows the same zoom (no zoom animation under way),
 * with its place on the screen: what maps tile coordinates to screen pixels.
 */
async function settledTile(
  page: Page,
  parse: (src: string) => [number, number, number] | null,
  /** The zoom to wait for; any, if not given. */
  zoom?: number,
) {
  let tile: TileOnScreen | null = null;
  await expect
    .poll(async () => {
      const tiles = await page.locator('#map img.leaflet-tile-loaded').evaluateAll((imgs) =>
        imgs.map((img) => {
          const r = img.getBoundingClientRect();
          return { src: (img as HTMLImageElement).src, left: r.left, top: r.top, width: r.width };
        }),
      );
      const parsed = tiles
        .map((t) => ({ t, zxy: parse(t.src) }))
        .filter((p): p is { t: (typeof tiles)[number]; zxy: [number, number, number] } => !!p.zxy);
      const zooms = new Set(parsed.map((p) => p.zxy[0]));
      if (parsed.length === 0 || zooms.size !== 1) return null;
      if (zoom !== undefined && !zooms.has(zoom)) return null;
      const [{ t, zxy }] = parsed;
      tile = { z: zxy[0], x: zxy[1], y: zxy[2], left: t.left, top: t.top, scale: t.width / 256 };
      return tile.z;
    })
    .not.toBeNull();
  return tile as unknown as TileOnScreen;
}

/** Where (lat, lon), in the tiles' datum, is on the screen. */
function screenPixel(tile: TileOnScreen, lat: number, lon: number): [number, number] {
  const [wx, wy] = worldPixel(lat, lon, tile.z);
  return [
    tile.left + (wx - tile.x * 256) * tile.scale,
    tile.top + (wy - tile.y * 256) * tile.scale,
  ];
}

/** Amap's tile URL as the preset writes it: z, x and y in the query. */
function amapZxy(src: string): [number, number, number] | null {
  const url = new URL(src);
  if (!url.hostname.endsWith('.is.autonavi.com')) return null;
  const [z, x, y] = ['z', 'x', 'y'].map((k) => Number(url.searchParams.get(k)));
  return [z, x, y].every(Number.isInteger) ? [z, x, y] : null;
}

test('with the GCJ-02 preset, markers sit on their GCJ-02 place and a tap reads back WGS-84', async ({
  page,
  context,
}) => {
  const server = await startServer([['demo']], undefined, () => ['--tile-provider', 'amap']);
  try {
    const guard = watchPage(page);
    const amapRequests: string[] = [];
    await context.route(/^https:\/\/webrd0[1-4]\.is\.autonavi\.com\//, (route) => {
      amapRequests.push(route.request().url());
      return route.fulfill({
        status: 200,
        contentType: 'image/png',
        headers: { 'access-control-allow-origin': '*' },
        body: tilePng,
      });
    });
    const facilities = await liveFacilities(page.request, server.baseURL);
    const known = facilities.find((f) => f.facility?.area?.township) as FacilityRecord;
    const { lat, lon } = known.facility!.location;
    const name = known.facility!.name.zh;
    await page.goto(`${server.baseURL}/?near=${lat.toFixed(5)},${lon.toFixed(5)}`);
    // Two steps closer, where no marker is clustered any more: one step at a time, each
    // waited for (a click during the zoom animation would be lost).
    const start = (await settledTile(page, amapZxy)).z;
    expect(start).toBe(14);
    const zoomIn = page.locator('.leaflet-control-zoom-in');
    await zoomIn.click();
    await settledTile(page, amapZxy, 15);
    await zoomIn.click();
    const tile = await settledTile(page, amapZxy, 16);

    const marker = page.locator(`#map .leaflet-marker-icon[title="${name}"]`);
    await expect(marker).toHaveCount(1);
    const box = (await marker.boundingBox())!;
    const centre: [number, number] = [box.x + box.width / 2, box.y + box.height / 2];
    const [gLat, gLon] = gcj02(lat, lon);
    const expected = screenPixel(tile, gLat, gLon);
    expect(Math.abs(centre[0] - expected[0]), `x: ${centre} vs ${expected}`).toBeLessThanOrEqual(2);
    expect(Math.abs(centre[1] - expected[1]), `y: ${centre} vs ${expected}`).toBeLessThanOrEqual(2);
    // Not where its WGS-84 position would fall: the shift is hundreds of metres here.
    const unshifted = screenPixel(tile, lat, lon);
    expect(Math.hypot(centre[0] - unshifted[0], centre[1] - unshifted[1])).toBeGreaterThan(50);

    // A tap on an empty spot chooses the point to search from: the URL holds it in WGS-84.
    await page.getByTestId('pick-on-map').click();
    // Where the tiles are now (the click may have scrolled the page).
    const picking = await settledTile(page, amapZxy);
    const mapBox = (await page.locator('#map').boundingBox())!;
    const icons = await page
      .locator('#map .leaflet-marker-icon')
      .evaluateAll((els) =>
        els.map((el) => {
          const r = el.getBoundingClientRect();
          return [r.left + r.width / 2, r.top + r.height / 2];
        }),
      );
    let spot: [number, number] | null = null;
    for (let dy = -120; dy <= 120 && !spot; dy += 20) {
      for (let dx = -160; dx <= 160 && !spot; dx += 20) {
        const p: [number, number] = [mapBox.x + mapBox.width / 2 + dx, mapBox.y + mapBox.height / 2 + dy];
        if (icons.every(([ix, iy]) => Math.hypot(ix - p[0], iy - p[1]) > 40)) spot = p;
      }
    }
    expect(spot, 'an empty spot on the map').not.toBeNull();
    await page.mouse.click(spot![0], spot![1]);
    await expect(page).not.toHaveURL(new RegExp(`near=${lat.toFixed(5)}`));
    const near = new URL(page.url()).searchParams.get('near')!;
    const [tLat, tLon] = near.split(',').map(Number);
    // The WGS-84 point read back lies, in GCJ-02, under the finger (within a pixel and a half:
    // the URL keeps five decimals, about a metre; a pixel is two metres at this zoom)…
    const [tgLat, tgLon] = gcj02(tLat, tLon);
    const under = screenPixel(picking, tgLat, tgLon);
    expect(Math.hypot(under[0] - spot![0], under[1] - spot![1])).toBeLessThanOrEqual(1.5);
    // …and is not the GCJ-02 point itself taken for WGS-84.
    const raw = screenPixel(picking, tLat, tLon);
    expect(Math.hypot(raw[0] - spot![0], raw[1] - spot![1])).toBeGreaterThan(50);
    expect(amapRequests.length).toBeGreaterThan(0);
    guard.assertClean();
  } finally {
    await server.stop();
  }
});

/**
 * A tile server of the tests: one PNG for every /t/{z}/{x}/{y}.png, sent with CORS, each after
 * `delayMs` (a slow line).
 */
async function startTileServer(delayMs = 0) {
  const requests: string[] = [];
  const server = http.createServer(async (req, res) => {
    requests.push(req.url ?? '');
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (/^\/t\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '')) {
      res.writeHead(200, {
        'content-type': 'image/png',
        'access-control-allow-origin': '*',
        'cache-control': 'no-store',
      });
      res.end(tilePng);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(tilePort, '127.0.0.1', resolve));
  return {
    template: `http://127.0.0.1:${tilePort}/t/{z}/{x}/{y}.png`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The tiles the resident sees (wholly or in part, in the map's box) and how many have drawn. */
async function tilesInView(page: Page) {
  return page.evaluate(() => {
    const map = document.querySelector('#map')!.getBoundingClientRect();
    const tiles = [...document.querySelectorAll<HTMLImageElement>('#map img.leaflet-tile')].filter(
      (img) => {
        const r = img.getBoundingClientRect();
        return r.left < map.right && r.right > map.left && r.top < map.bottom && r.bottom > map.top;
      },
    );
    return {
      count: tiles.length,
      drawn: tiles.filter((img) => img.complete && img.naturalWidth > 0).length,
    };
  });
}

test("saving this area's map draws it with the network cut, and it can be deleted", async ({
  page,
  context,
}) => {
  // A couple of thousand tiles, fetched four at a time.
  test.setTimeout(180_000);
  const tiles = await startTileServer();
  let tilesUp = true;
  const server = await startServer([['demo']], undefined, () => ['--tile-url', tiles.template]);
  try {
    const guard = watchPage(page);
    const [known] = await liveFacilities(page.request, server.baseURL);
    const { lat, lon } = known.facility!.location;
    const view = `${server.baseURL}/?near=${lat.toFixed(5)},${lon.toFixed(5)}`;
    await page.goto(view);
    await controlledByServiceWorker(page);
    // The count and the size are shown before anything is fetched.
    const size = page.getByTestId('save-map-size');
    await expect(size).toHaveText(/^\d+ 块地图，约 \d+\.\d MB（估计）$/);
    const planned = Number((await size.textContent())!.match(/^(\d+)/)![1]);
    expect(planned).toBeGreaterThan(20);
    expect(planned).toBeLessThanOrEqual(4000);
    const before = new Set(tiles.requests).size;

    await page.getByTestId('save-map-start').click();
    await expect(page.getByTestId('save-map-outcome')).toHaveText(
      new RegExp(`^已保存 ${planned} 块地图（\\d+\\.\\d MB），没有网络也能显示。$`),
      { timeout: 120_000 },
    );
    await expect(page.getByTestId('save-map-saved')).toContainText(`${planned} 块地图`);
    expect(new Set(tiles.requests).size - before).toBeLessThanOrEqual(planned);
    expect(
      await page.evaluate(async () => (await (await caches.open('caremap-tiles-saved')).keys()).length),
    ).toBe(planned);

    // Only the saved tiles may answer: the tiles the map showed meanwhile, which the service
    // worker cached as they were seen, are dropped.
    await page.evaluate(() => caches.delete('caremap-tiles'));
    // The network cut: the tile server is gone and the browser offline.
    await tiles.close();
    tilesUp = false;
    await context.setOffline(true);
    await page.goto(view);
    await expect(page.locator('#map')).toBeVisible();
    await expect
      .poll(async () => {
        const { count, drawn } = await tilesInView(page);
        return count >= 4 && drawn === count;
      })
      .toBe(true);
    // A tile never saved is not drawn: the network is truly cut.
    expect(
      await page.evaluate(
        (src) =>
          new Promise<string>((resolve) => {
            const img = new Image();
            img.onload = () => resolve('shown');
            img.onerror = () => resolve('missing');
            img.src = src;
          }),
        tiles.template.replace('{z}/{x}/{y}', '3/0/0'),
      ),
    ).toBe('missing');

    // Deleting takes them off the phone.
    await context.setOffline(false);
    await page.getByTestId('save-map-delete').click();
    await expect(page.getByTestId('save-map-outcome')).toHaveText('本地地图已删除。');
    await expect(page.getByTestId('save-map-saved')).toHaveCount(0);
    expect(await page.evaluate(() => caches.has('caremap-tiles-saved'))).toBe(false);
    guard.assertClean();
  } finally {
    await server.stop();
    if (tilesUp) await tiles.close();
  }
});

test('saving shows its progress and can be cancelled, keeping what it saved; a township can be chosen, in large text too', async ({
  page,
}) => {
  test.setTimeout(120_000);
  // A slow line: each tile takes a quarter of a second.
  const tiles = await startTileServer(250);
  const server = await startServer([['demo']], undefined, () => ['--tile-url', tiles.template]);
  try {
    const guard = watchPage(page);
    await page.addInitScript(() => localStorage.setItem('caremap.large-text', '1'));
    const facilities = await liveFacilities(page.request, server.baseURL);
    const known = facilities.find((f) => f.facility?.area?.township)!;
    const { lat, lon } = known.facility!.location;
    await page.goto(`${server.baseURL}/?near=${lat.toFixed(5)},${lon.toFixed(5)}`);
    await expect(page.locator('html')).toHaveClass(/\blarge-text\b/);

    // A township instead of the visible area: its own count and size, before anything starts.
    const size = page.getByTestId('save-map-size');
    await expect(size).toHaveText(/^\d+ 块地图，约 \d+\.\d MB（估计）$/);
    const visible = await size.textContent();
    const township = known.facility!.area!.township!;
    await page.getByTestId('save-map-area').selectOption(township);
    await expect(size).not.toHaveText(visible!);
    await expect(size).toHaveText(/^\d+ 块地图，约 \d+\.\d MB（估计）$/);
    const planned = Number((await size.textContent())!.match(/^(\d+)/)![1]);
    expect(planned).toBeGreaterThan(20);
    // The map's own tiles have come (they come from the same server), so what is asked for from
    // now on is the save's.
    await expect
      .poll(async () => {
        const { count, drawn } = await tilesInView(page);
        return count > 0 && drawn === count;
      })
      .toBe(true);
    const before = tiles.requests.length;

    await page.getByTestId('save-map-start').click();
    const progress = page.getByTestId('save-map-progress');
    await expect(progress.locator('progress')).toHaveAttribute('max', String(planned));
    // It moves: some tiles saved, not all.
    await expect
      .poll(async () => Number(await progress.locator('progress').getAttribute('value')))
      .toBeGreaterThanOrEqual(8);
    await expect(page.getByTestId('save-map-progress-text')).toHaveText(
      new RegExp(`^\\d+ / ${planned}$`),
    );
    // In large text, the cancel button is a target a finger finds (48 px) and the section fits.
    const cancel = page.getByTestId('save-map-cancel');
    const box = (await cancel.boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(48);
    expect(
      await page
        .getByTestId('save-map')
        .evaluate((el) => el.scrollWidth <= el.clientWidth),
    ).toBe(true);
    await cancel.click();

    const outcome = page.getByTestId('save-map-outcome');
    await expect(outcome).toHaveText(/^已取消，已保存 \d+ 块地图。$/);
    const kept = Number((await outcome.textContent())!.match(/(\d+) 块/)![1]);
    expect(kept).toBeGreaterThanOrEqual(8);
    expect(kept).toBeLessThan(planned);
    // What was saved stays, and is said; the save stopped: at most the four tiles in flight
    // when it was cancelled were asked for beyond those kept.
    await expect(page.getByTestId('save-map-saved')).toContainText(`${kept} 块地图`);
    expect(
      await page.evaluate(async () => (await (await caches.open('caremap-tiles-saved')).keys()).length),
    ).toBe(kept);
    await expect(page.getByTestId('save-map-start')).toBeEnabled();
    const asked = new Set(tiles.requests.slice(before)).size;
    expect(asked).toBeLessThanOrEqual(kept + 4);
    guard.assertClean();
  } finally {
    await server.stop();
    await tiles.close();
  }
});

test('the PMTiles base map draws from our own server, with no tile provider', async ({ page }) => {
  // The demo registry's area, with room around it, at every zoom to 14.
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
  try {
    const guard = watchPage(page);
    const ranges: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/tiles/base.pmtiles') ranges.push(response.status());
    });
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(server.baseURL) && !request.url().startsWith('data:')) {
        foreign.push(request.url());
      }
    });
    const [known] = await liveFacilities(page.request, server.baseURL);
    const { lat, lon } = known.facility!.location;
    await page.goto(`${server.baseURL}/?near=${lat.toFixed(5)},${lon.toFixed(5)}`);
    // protomaps-leaflet draws each tile into a canvas. The fixture's tiles are land with water
    // in their top-left quarter; the map shows them past their deepest zoom (14), so each canvas
    // holds one quarter of a tile, all land or all water: together, two colours.
    await expect
      .poll(
        () =>
          page.evaluate(() => {
            const colours = new Set<number>();
            for (const canvas of document.querySelectorAll<HTMLCanvasElement>('#map canvas')) {
              const ctx = canvas.getContext('2d');
              if (!ctx || canvas.width === 0) continue;
              const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
              for (let i = 0; i < data.length; i += 4 * 97) {
                if (data[i + 3] > 0) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
              }
            }
            return colours.size;
          }),
        { timeout: 30_000 },
      )
      .toBeGreaterThanOrEqual(2);
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.every((status) => status === 206 || status === 304)).toBe(true);
    expect(foreign).toEqual([]);
    guard.assertClean();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
