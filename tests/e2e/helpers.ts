// Shared helpers of the end-to-end tests: the registry as the server reports it, and a guard
// that fails a test on any CSP violation or uncaught error in the page.
import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
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

/** The namespace of the UUID v5 ids the server gives facilities from their external ids. */
const EXTERNAL_ID_NAMESPACE = '6b1f3c2e-8d4a-4f0b-9a57-2c1e0d3b7e91';

/** UUID v5 (RFC 9562) of `name` in `namespace`: written here from the RFC, to check the app's. */
export function uuidV5(namespace: string, name: string): string {
  const hash = crypto
    .createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A registry page as records, whichever layout the server sent (`format=columns` or not). */
export type RecordsPage = { items: FacilityRecord[]; cursor: string; has_more: boolean };

/**
 * Reads a registry page in either layout. The columnar one (what the PWA asks for) has one
 * array per field; an id left `null` is the UUID v5 of the facility's first external id.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function decodeRegistryPage(body: any): RecordsPage {
  if (Array.isArray(body.items)) return body as RecordsPage;
  const items: FacilityRecord[] = body.id.map((id: string | null, i: number) => {
    const deleted = body.deleted[i] as boolean;
    const external: string[] = body.external_ids[i] ?? [];
    const record: FacilityRecord = {
      id: id ?? uuidV5(EXTERNAL_ID_NAMESPACE, [...external].sort()[0]),
      version: body.version[i],
      deleted,
    };
    if (!deleted) {
      record.facility = {
        kind: body.kind[i],
        name: { zh: body.name_zh[i], ...(body.name_en[i] ? { en: body.name_en[i] } : {}) },
        location: { lat: body.lat[i], lon: body.lon[i] },
        ...(body.address[i] ? { address: body.address[i] } : {}),
        ...(body.phone[i] ? { phone: body.phone[i] } : {}),
        ...(body.opening_hours[i] ? { opening_hours: body.opening_hours[i] } : {}),
        area: { township: body.township[i] ?? undefined, village: body.village[i] ?? undefined },
      };
    }
    return record;
  });
  return { items, cursor: body.cursor, has_more: body.has_more };
}

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

/**
 * Waits until the app's service worker controls the page, so that the app shell opens offline.
 * The first install claims the open page (`clientsClaim`); on a loaded machine the page may not
 * be claimed yet when the worker is already active, and then a reload is a controlled
 * navigation.
 */
export async function controlledByServiceWorker(page: Page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  if (await page.evaluate(() => navigator.serviceWorker.controller === null)) {
    await page.reload();
    await expect
      .poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null))
      .toBe(true);
  }
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
  /** The base map's flags (`--tile-provider amap`, …); by default tiles from our origin. */
  tileFlags?: (baseURL: string) => string[],
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
      '--addr', `127.0.0.1:${port}`,
      ...(tileFlags?.(baseURL) ?? ['--tile-url', `${baseURL}/e2e-no-tiles/{z}/{x}/{y}.png`])],
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

// ---- Load reports (issue 6): seeding facility statuses through the real API.

/** The body of a `load_report` mutation (crates/model/src/report.rs, `LoadReport`). */
export type LoadReportBody = {
  facility: string;
  as_of: string;
  status: 'open' | 'reduced' | 'closed';
  outpatients_today?: number;
  fever_patients_today?: number;
  wait_minutes?: number;
  doctors_on_duty?: number;
  stock?: Record<string, { level: 'ample' | 'low' | 'out'; count?: number; daily_need?: number }>;
  note?: string;
  supersedes?: string;
};

/** A UUID v7 (time-ordered, as the phone makes report ids). */
export function uuidv7(at = Date.now()): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let ms = BigInt(at);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A device token of a new admin account on `server`: `caremap-server user add --role admin`
 * prints a `code: XXXX-XXXX-XXXX` line, which `POST /api/v1/enroll` trades for the token.
 */
export async function adminToken(server: OwnServer, name = 'E2E 管理员'): Promise<string> {
  const printed = server.cli('user', 'add', '--name', name, '--role', 'admin');
  const code = printed.match(/^code: (\S+)$/m)?.[1];
  if (!code) throw new Error(`no "code: " line in:\n${printed}`);
  const res = await fetch(`${server.baseURL}/api/v1/enroll`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, device: 'e2e' }),
  });
  if (!res.ok) throw new Error(`enroll: ${res.status} ${await res.text()}`);
  return (await res.json()).token as string;
}

/** Pushes load reports (in order) and expects every one applied; returns their ids. */
export async function pushReports(
  baseURL: string,
  token: string,
  reports: (LoadReportBody & { id?: string })[],
): Promise<string[]> {
  const mutations = reports.map(({ id, ...report }) => ({
    id: id ?? uuidv7(),
    type: 'load_report',
    body: report,
    recorded_at: new Date().toISOString(),
  }));
  const res = await fetch(`${baseURL}/api/v1/push`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ mutations }),
  });
  if (!res.ok) throw new Error(`push: ${res.status} ${await res.text()}`);
  const { results } = (await res.json()) as {
    results: { id: string; outcome: string; error?: { code: string; message: string } }[];
  };
  const refused = results.filter((r) => r.outcome !== 'applied');
  if (refused.length > 0) throw new Error(`push refused: ${JSON.stringify(refused)}`);
  return mutations.map((m) => m.id);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The date (YYYY-MM-DD) in China Standard Time of a moment. */
export function chinaDate(at: number): string {
  return new Date(at + 8 * HOUR).toISOString().slice(0, 10);
}

/** Noon China Standard Time, `back` days before the Chinese day of `now`. */
export function chinaNoon(now: number, back: number): number {
  return Date.parse(`${chinaDate(now)}T12:00:00+08:00`) - back * DAY;
}

/** "5 分钟前" / "5 min ago": an age as the app says it (caremap_model::status::age_text). */
export function ageText(asOf: number, lang: 'zh' | 'en', now = Date.now()): string {
  const minutes = Math.max(0, Math.floor((now - asOf) / MINUTE));
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(minutes / (60 * 24));
  if (lang === 'zh') {
    if (minutes < 1) return '刚刚';
    if (minutes < 60) return `${minutes} 分钟前`;
    if (hours < 24) return `${hours} 小时前`;
    return `${days} 天前`;
  }
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (hours < 24) return `${hours} h ago`;
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/** The age of `asOf` as the page may say it within two minutes of now, either way: the page
 * says ages from its minute clock (read when it drew), and the test's assertion retries a
 * while. */
export function ageAlternatives(asOf: number, lang: 'zh' | 'en'): string[] {
  const now = Date.now();
  return [...new Set([-2, -1, 0, 1, 2].map((m) => ageText(asOf, lang, now + m * MINUTE)))];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `before` + one of the ages of `asOf` + `after`, exactly. */
export function withAge(before: string, asOf: number, lang: 'zh' | 'en', after = ''): RegExp {
  const ages = ageAlternatives(asOf, lang).map(escapeRegExp).join('|');
  return new RegExp(`^${escapeRegExp(before)}(${ages})${escapeRegExp(after)}$`);
}

/** One facility with a seeded status, and what a resident should read of it. */
export type SeededStatus = {
  record: FacilityRecord;
  /** `crowd-<level>` on the marker, `data-crowding` in the list; none without a wait. */
  crowding?: 'low' | 'medium' | 'high' | 'closed';
  words: { zh: string; en: string };
  /** When the status was true (ms since the epoch): its age is said from it. */
  asOf: number;
  stale: boolean;
  shortWait: boolean;
  antigenKits: boolean;
  shortages?: string;
};

/** The facility with a week of reports, and the figures its chart should show per day. */
export type SeededHistory = {
  record: FacilityRecord;
  /** Oldest first, seven days ending today (China Standard Time); null: no report that day. */
  days: ({ date: string; outpatients: number; fever: number } | null)[];
  /** When today's report was true. */
  asOf: number;
  wait: number;
  doctors: number;
};

export type Seeded = { statuses: SeededStatus[]; history: SeededHistory; all: FacilityRecord[] };

/**
 * Gives facilities near Yuyao railway station statuses through the real push API: each level of
 * crowding, a report with no wait, an ageing and a stale one (two days old), shortages; and one
 * facility a week of reports with a correction. The rest keep no status.
 */
export async function seedStatuses(server: OwnServer, near = { lat: 30.0436, lon: 121.1572 }): Promise<Seeded> {
  const token = await adminToken(server);
  const all = await liveFacilitiesAt(server.baseURL);
  const byDistance = [...all].sort(
    (a, b) =>
      Math.hypot(a.facility!.location.lat - near.lat, a.facility!.location.lon - near.lon) -
      Math.hypot(b.facility!.location.lat - near.lat, b.facility!.location.lon - near.lon),
  );
  const now = Date.now();
  const iso = (t: number) => new Date(t).toISOString();
  const plans: {
    report: Omit<LoadReportBody, 'facility'>;
    expect: Omit<SeededStatus, 'record' | 'asOf'>;
  }[] = [
    {
      report: {
        as_of: iso(now - 2 * HOUR - 5 * MINUTE), status: 'open', wait_minutes: 10,
        outpatients_today: 40, fever_patients_today: 12, doctors_on_duty: 2,
        stock: { antigen_kits: { level: 'ample' }, antipyretics: { level: 'ample' } },
      },
      expect: {
        crowding: 'low', words: { zh: '不拥挤', en: 'Not crowded' },
        stale: false, shortWait: true, antigenKits: true,
      },
    },
    {
      report: {
        as_of: iso(now - 30 * MINUTE), status: 'open', wait_minutes: 35,
        stock: { antigen_kits: { level: 'out', count: 0 }, antipyretics: { level: 'low' } },
      },
      expect: {
        crowding: 'medium', words: { zh: '较拥挤', en: 'Busy' },
        stale: false, shortWait: false, antigenKits: false,
        shortages: '缺：抗原检测试剂；紧张：退烧药',
      },
    },
    {
      report: {
        as_of: iso(now - 10 * MINUTE), status: 'reduced', wait_minutes: 80,
        stock: { antigen_kits: { level: 'low' } },
      },
      expect: {
        crowding: 'high', words: { zh: '很拥挤', en: 'Very crowded' },
        stale: false, shortWait: false, antigenKits: true, shortages: '紧张：抗原检测试剂',
      },
    },
    {
      report: { as_of: iso(now - 3 * HOUR - 5 * MINUTE), status: 'closed' },
      expect: {
        crowding: 'closed', words: { zh: '暂停接诊', en: 'Closed' },
        stale: false, shortWait: false, antigenKits: false,
      },
    },
    {
      // Two days old: stale by the default thresholds (24 h), however short its wait.
      report: {
        as_of: iso(now - 2 * DAY - 5 * MINUTE), status: 'open', wait_minutes: 5,
        stock: { antigen_kits: { level: 'ample' } },
      },
      expect: {
        crowding: 'low', words: { zh: '不拥挤', en: 'Not crowded' },
        stale: true, shortWait: false, antigenKits: true,
      },
    },
    {
      // Eight hours old: ageing, still a short wait.
      report: { as_of: iso(now - 8 * HOUR - 5 * MINUTE), status: 'open', wait_minutes: 25 },
      expect: {
        crowding: 'low', words: { zh: '不拥挤', en: 'Not crowded' },
        stale: false, shortWait: true, antigenKits: false,
      },
    },
    {
      // No wait given: no level, the reported state in words.
      report: { as_of: iso(now - 45 * MINUTE), status: 'open', outpatients_today: 7 },
      expect: {
        words: { zh: '正常开诊', en: 'Open' },
        stale: false, shortWait: false, antigenKits: false,
      },
    },
  ];
  const statuses: SeededStatus[] = plans.map((plan, i) => ({
    record: byDistance[i],
    asOf: Date.parse(plan.report.as_of),
    ...plan.expect,
  }));
  await pushReports(
    server.baseURL,
    token,
    plans.map((plan, i) => ({ facility: byDistance[i].id, ...plan.report })),
  );

  // A week of one facility: one report on most days (none three days ago), two on the day
  // before yesterday (the later counts), and yesterday a report corrected by a later one.
  const record = byDistance[plans.length];
  const facility = record.id;
  const today = chinaDate(now);
  const day = (back: number, hour: number) => iso(chinaNoon(now, back) + (hour - 12) * HOUR);
  const wrong = uuidv7();
  const todayAt = now - 10 * MINUTE;
  await pushReports(server.baseURL, token, [
    { facility, as_of: day(6, 10), status: 'open', outpatients_today: 60, fever_patients_today: 20, wait_minutes: 15 },
    { facility, as_of: day(5, 11), status: 'open', outpatients_today: 75, fever_patients_today: 30, wait_minutes: 20 },
    { facility, as_of: day(4, 16), status: 'open', outpatients_today: 90, fever_patients_today: 41, wait_minutes: 30 },
    { facility, as_of: day(2, 9), status: 'open', outpatients_today: 20, fever_patients_today: 8, wait_minutes: 10 },
    { facility, as_of: day(2, 17), status: 'open', outpatients_today: 110, fever_patients_today: 52, wait_minutes: 45 },
    { id: wrong, facility, as_of: day(1, 15), status: 'open', outpatients_today: 999, fever_patients_today: 99, wait_minutes: 40 },
    { facility, as_of: day(1, 15.5), status: 'open', outpatients_today: 130, fever_patients_today: 61, wait_minutes: 40, supersedes: wrong },
    // Today: ten minutes ago (today in China unless the test runs in the first ten minutes of
    // a Chinese day; then it counts for yesterday and the test says so).
    {
      facility, as_of: iso(todayAt), status: 'open', outpatients_today: 48,
      fever_patients_today: 17, wait_minutes: 55, doctors_on_duty: 3,
      stock: { antigen_kits: { level: 'out' }, oxygen: { level: 'ample' } },
    },
  ]);
  const figures: Record<number, { outpatients: number; fever: number }> = {
    6: { outpatients: 60, fever: 20 },
    5: { outpatients: 75, fever: 30 },
    4: { outpatients: 90, fever: 41 },
    2: { outpatients: 110, fever: 52 },
    1: { outpatients: 130, fever: 61 },
    0: { outpatients: 48, fever: 17 },
  };
  if (chinaDate(now - 10 * MINUTE) !== today) throw new Error('seeded across Chinese midnight: run again');
  const days = [6, 5, 4, 3, 2, 1, 0].map((back) => {
    const f = figures[back];
    return f ? { date: chinaDate(chinaNoon(now, back)), ...f } : null;
  });
  return { statuses, history: { record, days, asOf: todayAt, wait: 55, doctors: 3 }, all };
}

/** Every live facility of the server at `baseURL`, through the public feed (no Playwright). */
export async function liveFacilitiesAt(baseURL: string): Promise<FacilityRecord[]> {
  const byId = new Map<string, FacilityRecord>();
  let since = '';
  for (;;) {
    const res = await fetch(`${baseURL}/api/v1/registry?since=${since}&limit=1000`);
    if (!res.ok) throw new Error(`registry: ${res.status}`);
    const page = await res.json();
    for (const item of page.items as FacilityRecord[]) byId.set(item.id, item);
    since = page.cursor;
    if (!page.has_more) break;
  }
  return [...byId.values()].filter((r) => !r.deleted && r.facility);
}

/**
 * Tests on a server of their own (demo registry) whose facilities near Yuyao have statuses
 * seeded by [`seedStatuses`]: `seeded` holds the server and what was seeded, and `baseURL` points
 * the page at that server. Started once per worker.
 */
export const withStatuses = test.extend<object, { seeded: { server: OwnServer; data: Seeded } }>({
  seeded: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const server = await startServer();
      try {
        const data = await seedStatuses(server);
        await use({ server, data });
      } finally {
        await server.stop();
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  baseURL: async ({ seeded }, use) => {
    await use(seeded.server.baseURL);
  },
});
