// Shared helpers of the end-to-end tests: the registry as the server reports it, and a guard
// that fails a test on any CSP violation or uncaught error in the page.
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export type FacilityRecord = {
  id: string;
  version: number;
  deleted?: boolean;
  facility?: {
    kind: string;
    name: { zh: string; en?: string };
    location: { lat: number; lon: number };
    address?: string;
    phone?: string;
    opening_hours?: string;
    area?: { township?: string; village?: string };
  };
};

export const KIND_LABELS: Record<string, { zh: string; en: string }> = {
  fever_clinic: { zh: '发热门诊', en: 'Fever clinic' },
  fever_station: { zh: '发热诊疗站', en: 'Fever station' },
  township_health_center: { zh: '乡镇卫生院', en: 'Township health centre' },
  village_clinic: { zh: '村卫生室', en: 'Village clinic' },
  vaccination_point: { zh: '接种点', en: 'Vaccination point' },
};

/** Every live facility the server holds, read through the public registry feed. */
export async function liveFacilities(
  request: APIRequestContext,
  baseURL = '',
): Promise<FacilityRecord[]> {
  const byId = new Map<string, FacilityRecord>();
  let since = '';
  for (;;) {
    const res = await request.get(`${baseURL}/api/v1/registry?since=${since}&limit=1000`);
    expect(res.ok()).toBeTruthy();
    const page = await res.json();
    for (const item of page.items as FacilityRecord[]) byId.set(item.id, item);
    since = page.cursor;
    if (!page.has_more) break;
  }
  return [...byId.values()].filter((r) => !r.deleted && r.facility);
}

/** Collects CSP violations and page errors; call `assertClean()` at the end of a test. */
export function watchPage(page: Page) {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(text)) {
      problems.push(`CSP: ${text}`);
    }
  });
  return {
    assertClean: () => expect(problems, problems.join('\n')).toEqual([]),
  };
}

const repoRoot = path.resolve(__dirname, '../..');

/** The build the tests serve (playwright.config.ts): dist/ unless CAREMAP_E2E_DIST says. */
export const distDir = process.env.CAREMAP_E2E_DIST ?? path.join(repoRoot, 'dist');

/** The server binary `cargo xtask test` built (the same one the config's webServer runs). */
export const serverBin =
  process.env.CAREMAP_SERVER_BIN ?? path.join(repoRoot, 'target/debug/caremap-server');

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A server of the test's own, on its own SQLite database, serving the built PWA. */
export type OwnServer = {
  baseURL: string;
  /** Runs a `caremap-server` command on this server's database and returns what it printed. */
  cli: (...args: string[]) => string;
  stop: () => Promise<void>;
};

/**
 * Starts `caremap-server serve` on a fresh database, seeded first by running each of `seeds`
 * (arguments of a `caremap-server` command such as `['demo', '--size', '20000']`), serving the
 * build in `dist` (the tests' build unless a test serves a copy it changes).
 */
export async function startServer(
  seeds: string[][] = [['demo']],
  dist: string = distDir,
): Promise<OwnServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-own-'));
  const database = `sqlite://${path.join(dir, 'own.sqlite')}`;
  const cli = (...args: string[]) =>
    execFileSync(serverBin, ['--database', database, ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, RUST_LOG: 'warn' },
    });
  for (const seed of seeds) cli(...seed);
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const child = spawn(
    serverBin,
    ['--database', database, 'serve', '--dist', dist,
      '--addr', `127.0.0.1:${port}`, '--tile-url', `${baseURL}/e2e-no-tiles/{z}/{x}/{y}.png`],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${baseURL}/api/v1/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (tries > 300 || child.exitCode !== null) {
      child.kill();
      throw new Error(`caremap-server did not start on ${baseURL}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    baseURL,
    cli,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What the map shows, as a resident reads it: single facility markers (by kind) and cluster
 * icons, each showing how many facilities it holds (Leaflet.markercluster). Only what is in or
 * near the view is drawn.
 */
export type MapTally = {
  singles: number;
  clusters: number;
  /** The sum of the clusters' counts. */
  clustered: number;
  /** Singles plus clustered: the facilities the map stands for. */
  total: number;
  /** Single markers by kind (wire name). */
  kinds: Record<string, number>;
};

export async function mapTally(page: Page): Promise<MapTally> {
  return page.locator('#map').evaluate((map) => {
    const singles = [...map.querySelectorAll('.leaflet-marker-icon.marker')];
    const counts = [...map.querySelectorAll('.leaflet-marker-icon.marker-cluster')].map((c) =>
      Number((c.textContent ?? '').trim()),
    );
    const kinds: Record<string, number> = {};
    for (const single of singles) {
      const kind = [...single.classList].find((c) => c.startsWith('marker-kind-'));
      if (kind) kinds[kind.slice('marker-kind-'.length)] = (kinds[kind.slice('marker-kind-'.length)] ?? 0) + 1;
    }
    const clustered = counts.reduce((sum, n) => sum + n, 0);
    return {
      singles: singles.length,
      clusters: counts.length,
      clustered,
      total: singles.length + clustered,
      kinds,
    };
  });
}

/** Waits until the map's single markers and cluster counts add up to `count` facilities. */
export async function expectMapShows(page: Page, count: number, timeout = 15_000) {
  await expect
    .poll(async () => (await mapTally(page)).total, {
      message: `the map's markers and cluster counts add up to ${count}`,
      timeout,
    })
    .toBe(count);
}

/**
 * Brings `record`'s marker out of any cluster, as a resident would: the map around a point just
 * south of it (so the "you are here" marker does not cover it), zoomed in with Leaflet's zoom
 * button until the marker stands alone. Returns the marker.
 */
export async function singleMarker(page: Page, record: FacilityRecord) {
  const { lat, lon } = record.facility!.location;
  await page.goto(`/?near=${(lat - 0.003).toFixed(5)},${lon.toFixed(5)}`);
  const marker = page.locator(`#map .leaflet-marker-icon[title="${record.facility!.name.zh}"]`);
  await expect(page.locator('#map .leaflet-marker-icon').first()).toBeVisible();
  for (let tries = 0; tries < 4 && (await marker.count()) === 0; tries++) {
    await page.locator('.leaflet-control-zoom-in').click();
    await page.waitForTimeout(600);
  }
  await expect(marker).toHaveCount(1);
  return marker;
}

/** Zooms the map out with Leaflet's zoom button, `steps` times. */
export async function zoomOut(page: Page, steps: number) {
  for (let i = 0; i < steps; i++) {
    await page.locator('.leaflet-control-zoom-out').click();
    await page.waitForTimeout(400);
  }
}
