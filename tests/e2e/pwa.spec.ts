// The PWA shell: the service worker makes the app open with no network (also on a deep link),
// Chromium finds the app installable, and a new release is offered with "reload" and taken over
// when the user accepts.
import { test, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { controlledByServiceWorker, distDir, liveFacilities, startServer, watchPage } from './helpers';

const repoRoot = path.resolve(__dirname, '../..');

/** The app's header with its name: what a resident sees first. */
function appHeader(page: Page) {
  return page.locator('header.app-header', { hasText: 'caremap 就医地图' });
}

test('the app shell opens with no network, also on a deep link to a facility', async ({
  page,
  context,
  request,
}) => {
  const guard = watchPage(page);
  const [facility] = await liveFacilities(request);
  await page.goto('/');
  await expect(appHeader(page)).toBeVisible();
  await controlledByServiceWorker(page);

  await context.setOffline(true);
  await page.reload();
  await expect(appHeader(page)).toBeVisible();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  // A client route that was never visited comes from the precached index.html.
  await page.goto(`/facility/${facility.id}`);
  await expect(page).toHaveURL(new RegExp(`/facility/${facility.id}$`));
  await expect(appHeader(page)).toBeVisible();
  await page.reload();
  await expect(appHeader(page)).toBeVisible();

  // The API is never answered from a cache: offline, it fails like any network request.
  expect(
    await page.evaluate(() =>
      fetch('/api/v1/config').then(
        () => 'answered',
        () => 'failed',
      ),
    ),
  ).toBe('failed');

  await context.setOffline(false);
  guard.assertClean();
});

test('a resident downloads no staff code, not even into the offline copy, and the header leads to the staff app', async ({
  page,
}) => {
  const guard = watchPage(page);
  const staff: string[] = [];
  const wasm: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/staff/')) staff.push(url.pathname);
    if (url.pathname.endsWith('.wasm')) wasm.push(url.pathname);
  });
  // The service worker's requests (its precache) are the context's, not the page's.
  page.context().on('request', (req) => {
    const url = new URL(req.url());
    if (url.pathname.startsWith('/staff/')) staff.push(url.pathname);
  });
  await page.goto('/');
  await expect(page.locator('#map .leaflet-marker-icon').first()).toBeVisible({ timeout: 30_000 });
  await controlledByServiceWorker(page);
  const precached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
    }
    return urls;
  });
  expect(precached.some((p) => p.endsWith('.wasm'))).toBe(true);
  expect(precached.filter((p) => p.startsWith('/staff/') || p === '/report')).toEqual([]);
  expect(staff).toEqual([]);
  expect(wasm.length).toBeGreaterThan(0);

  // "医生填报" is a full navigation to the staff app, which has the doctor's page.
  await page.getByTestId('nav-report').click();
  await expect(page).toHaveURL(/\/report$/);
  await expect(page.getByTestId('enroll-form')).toBeVisible();
  expect(staff.some((p) => /^\/staff\/caremap-staff-.*_bg\.wasm$/.test(p))).toBe(true);
  // And its link home goes back to the residents' app.
  await page.locator('header.app-header a.brand').click();
  await expect(page.locator('#map .leaflet-marker-icon').first()).toBeVisible({ timeout: 30_000 });
  guard.assertClean();
});

test('map tiles seen once are shown offline', async ({ page, context }) => {
  const guard = watchPage(page);
  // The tile server of the tests (the config's --tile-url, same origin) answers with one small
  // image for every tile, including the service worker's own fetches.
  const tile = fs.readFileSync(path.join(repoRoot, 'public/icon-192.png'));
  await context.route('**/e2e-no-tiles/**', (route) =>
    route.fulfill({ status: 200, contentType: 'image/png', body: tile }),
  );
  await page.goto('/');
  await expect(appHeader(page)).toBeVisible();
  await controlledByServiceWorker(page);

  // Once controlled, the tiles the map shows pass through the worker into its tile cache.
  const tileURL = '/e2e-no-tiles/3/6/3.png';
  const showTile = (src: string) =>
    page.evaluate(
      (src) =>
        new Promise<string>((resolve) => {
          const img = new Image();
          img.onload = () => resolve(`shown ${img.naturalWidth}px`);
          img.onerror = () => resolve('missing');
          img.src = src;
          document.body.append(img);
        }),
      src,
    );
  expect(await showTile(tileURL)).toBe('shown 192px');
  await expect
    .poll(() =>
      page.evaluate(async () => {
        const cache = await caches.open('caremap-tiles');
        return (await cache.keys()).map((request) => new URL(request.url).pathname);
      }),
    )
    .toContain(tileURL);

  await context.unrouteAll();
  await context.setOffline(true);
  await page.reload();
  await expect(appHeader(page)).toBeVisible();
  expect(await showTile(tileURL)).toBe('shown 192px');
  // A tile never seen is not invented.
  expect(await showTile('/e2e-no-tiles/3/7/3.png')).toBe('missing');
  await context.setOffline(false);
  guard.assertClean();
});

test('Chromium finds the app installable, with a maskable icon', async ({
  playwright,
  launchOptions,
  baseURL,
  request,
}) => {
  // Chromium never offers to install from an incognito profile, which is what a test's own
  // context is: this test runs in a browser profile on disk.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-profile-'));
  const context = await playwright.chromium.launchPersistentContext(profile, {
    ...launchOptions,
    baseURL,
    locale: 'zh-CN',
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const guard = watchPage(page);
    await page.goto('/');
    await expect(appHeader(page)).toBeVisible();
    await controlledByServiceWorker(page);

    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    const { errors } = await cdp.send('Page.getAppManifest');
    expect(errors).toEqual([]);
    await expect(page.locator('link[rel="apple-touch-icon"]')).toHaveAttribute(
      'href',
      '/apple-touch-icon.png',
    );
    guard.assertClean();
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }

  const response = await request.get('/manifest.webmanifest');
  expect(response.headers()['content-type']).toBe('application/manifest+json');
  const manifest = await response.json();
  expect(manifest.name).toBe('caremap 就医地图');
  expect(manifest.short_name).toBe('就医地图');
  expect(manifest.display).toBe('standalone');
  const icons = manifest.icons as { src: string; sizes: string; type: string; purpose?: string }[];
  const maskable = icons.filter((icon) => (icon.purpose ?? 'any').split(' ').includes('maskable'));
  expect(maskable.map((icon) => icon.sizes)).toContain('512x512');
  for (const size of ['192x192', '512x512']) {
    expect(icons.some((icon) => icon.sizes === size && (icon.purpose ?? 'any').includes('any'))).toBe(
      true,
    );
  }
  for (const icon of icons) {
    const image = await request.get(icon.src);
    expect(image.status(), icon.src).toBe(200);
    expect(image.headers()['content-type'], icon.src).toBe(icon.type);
  }
});

/** A second caremap server, serving a copy of dist/ that the test may change. */
async function serveCopyOfDist() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-pwa-'));
  const dist = path.join(dir, 'dist');
  fs.cpSync(distDir, dist, { recursive: true });
  const server = await startServer([['demo']], dist);
  return {
    baseURL: server.baseURL,
    dist,
    stop: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('a new release is offered with "reload" and takes over when accepted', async ({
  page,
  context,
}) => {
  const guard = watchPage(page);
  const server = await serveCopyOfDist();
  try {
    await page.goto(`${server.baseURL}/`);
    await expect(appHeader(page)).toBeVisible();
    await controlledByServiceWorker(page);
    const banner = page.getByTestId('update-banner');
    await expect(banner).toHaveCount(0);

    // Release a new version: any change to sw.js makes the browser install it. This one also
    // marks the new worker, so the test can tell it from the old one.
    const sw = path.join(server.dist, 'sw.js');
    fs.appendFileSync(sw, '\n// the next release\nself.caremapRelease = 2;\n');
    // A release comes with its pre-compressed copies (tools/sw/precompress.mjs); the server
    // sends sw.js.br to a browser that accepts brotli, so it must hold the new worker too.
    const next = fs.readFileSync(sw);
    fs.writeFileSync(`${sw}.br`, zlib.brotliCompressSync(next));
    fs.writeFileSync(`${sw}.gz`, zlib.gzipSync(next));
    await page.evaluate(() => {
      // Marks this page, so the test sees that the page was reloaded.
      (window as unknown as { beforeUpdate: boolean }).beforeUpdate = true;
    });
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      await registration!.update();
    });

    await expect(banner).toBeVisible();
    await expect(banner).toContainText('新版本已就绪');
    expect(
      await page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration();
        return registration!.waiting !== null;
      }),
    ).toBe(true);

    const reloaded = page.waitForEvent('load');
    await banner.getByRole('button', { name: '重新加载' }).click();
    await reloaded;

    await expect(appHeader(page)).toBeVisible();
    await expect(banner).toHaveCount(0);
    expect(
      await page.evaluate(() => (window as unknown as { beforeUpdate?: boolean }).beforeUpdate),
    ).toBeUndefined();
    // The page is controlled by the registration's active worker, nothing waits any more, and
    // the active worker is the new release.
    const state = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return {
        waiting: registration!.waiting !== null,
        controlledByActive:
          navigator.serviceWorker.controller !== null &&
          registration!.active === navigator.serviceWorker.controller,
      };
    });
    expect(state).toEqual({ waiting: false, controlledByActive: true });
    const releases = await Promise.all(
      context
        .serviceWorkers()
        .filter((worker) => worker.url().startsWith(server.baseURL))
        .map((worker) =>
          worker
            .evaluate(() => {
              const scope = globalThis as unknown as {
                caremapRelease?: number;
                serviceWorker: { state: string };
              };
              return { release: scope.caremapRelease ?? 1, state: scope.serviceWorker.state };
            })
            .catch(() => null),
        ),
    );
    expect(releases).toContainEqual({ release: 2, state: 'activated' });
    guard.assertClean();
  } finally {
    await server.stop();
  }
});
