// The village doctor's phone under faults (issue 17): a server that answers 503 (its push
// deadline) or 408, two tabs sending the same outbox at once, the browser closed in the middle
// of a push, a proxy's 401, and a browser that refuses persistent storage. Each time, every
// report reaches the server exactly once, by the phone's own retries, and the phone stays
// signed in.
//
// Each test runs its own server on its own SQLite database; faults are injected between the
// page and the server with Playwright's routing. Service workers are blocked so that every
// request of the page goes through the route (the app's worker never answers /api/ anyway).
import {
  test,
  expect,
  type BrowserContext,
  type LaunchOptions,
  type Page,
  type Route,
} from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { liveFacilitiesAt, startServer, watchPage, type FacilityRecord, type OwnServer } from './helpers';

type StoredReport = { id: string; report: { facility: string } };

/** The facility's reports as the server holds them (the public history: each stored once). */
async function storedReports(server: OwnServer, facility: string): Promise<StoredReport[]> {
  const res = await fetch(`${server.baseURL}/api/v1/facilities/${facility}/reports?days=30`);
  expect(res.ok).toBeTruthy();
  return (await res.json()).reports;
}

/** A village clinic no one has reported for yet. */
async function quietClinic(server: OwnServer): Promise<FacilityRecord> {
  for (const record of await liveFacilitiesAt(server.baseURL)) {
    if (record.facility!.kind !== 'village_clinic') continue;
    if ((await storedReports(server, record.id)).length === 0) return record;
  }
  throw new Error('no village clinic without reports');
}

/** A village doctor's one-time enrollment code for `facility`. */
function doctorCode(server: OwnServer, name: string, facility: string): string {
  const out = server.cli('user', 'add', '--name', name, '--role', 'reporter', '--facility', facility);
  const code = out.match(/^code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/m)?.[1];
  if (!code) throw new Error(`no code in:\n${out}`);
  return code;
}

/** A browser with a profile on disk: closing and reopening it keeps IndexedDB. */
async function openBrowser(
  playwright: typeof import('@playwright/test'),
  launchOptions: LaunchOptions,
  profile: string,
  baseURL: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await playwright.chromium.launchPersistentContext(profile, {
    ...launchOptions,
    baseURL,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    serviceWorkers: 'block',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

const entries = (page: Page) => page.getByTestId('report-entry');
const entriesIn = (page: Page, state: string) =>
  page.locator(`[data-testid=report-entry][data-state=${state}]`);

async function enroll(page: Page, code: string, name: string) {
  await page.goto('/report');
  await page.getByTestId('enroll-code').fill(code);
  await page.getByTestId('enroll-device').fill('测试手机');
  await page.getByTestId('enroll-submit').click();
  await expect(page.getByTestId('account-name')).toHaveText(name);
}

/** Fills the report form and saves it (to the outbox). */
async function submitReport(page: Page, outpatients: number) {
  const before = await entries(page).count();
  await page.getByTestId('report-status-open').check();
  await page.getByLabel('今日门诊人数').fill(String(outpatients));
  await page.getByLabel('今日发热病人数').fill('1');
  await page.getByLabel('当前候诊时间（分钟）').fill('10');
  await page.getByLabel('在岗医生数').fill('1');
  await page.getByTestId('report-submit').click();
  await expect(entries(page)).toHaveCount(before + 1);
}

/** The ids of the reports listed on the page. */
const listedIds = (page: Page) =>
  entries(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));

/** The ids a push request carries. */
function pushedIds(route: Route): string[] {
  const body = JSON.parse(route.request().postData() ?? '{}');
  return (body.mutations ?? []).map((m: { id: string }) => m.id);
}

/** A server, a clinic, an enrolled phone on a profile of its own; cleaned up after `run`. */
async function withDoctor(
  playwright: typeof import('@playwright/test'),
  launchOptions: LaunchOptions,
  run: (setup: {
    server: OwnServer;
    clinic: FacilityRecord;
    profile: string;
    context: BrowserContext;
    page: Page;
  }) => Promise<void>,
) {
  const server = await startServer();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-faults-'));
  try {
    const clinic = await quietClinic(server);
    const code = doctorCode(server, '王医生', clinic.id);
    const { context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    await enroll(page, code, '王医生');
    await run({ server, clinic, profile, context, page });
  } finally {
    await server.stop();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

test.describe.configure({ mode: 'serial' });

test('the server answers 503 (after storing) and 408 during a push: the phone retries by itself and each report arrives once', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(120_000);
  await withDoctor(playwright, launchOptions, async ({ server, clinic, context, page }) => {
    const guard = watchPage(page);
    await context.setOffline(true);
    await submitReport(page, 11);
    await submitReport(page, 12);
    const ids = await listedIds(page);

    // First push: the server stores the reports, but its push deadline passed, so the phone
    // hears 503 with Retry-After (as the server says when the writer is slow). Second push:
    // 408 before the server sees it. Then the way is clear.
    const answers: number[] = [];
    await page.route('**/api/v1/push', async (route) => {
      expect(pushedIds(route).sort()).toEqual([...ids].sort());
      if (answers.length === 0) {
        const stored = await route.fetch();
        expect(stored.status()).toBe(200);
        answers.push(503);
        return route.fulfill({
          status: 503,
          headers: { 'Retry-After': '1' },
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'unavailable', message: '服务器繁忙，请稍后重试' } }),
        });
      }
      if (answers.length === 1) {
        answers.push(408);
        return route.fulfill({
          status: 408,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'timeout', message: '请求超时' } }),
        });
      }
      const response = await route.fetch();
      answers.push(response.status());
      return route.fulfill({ response });
    });
    await context.setOffline(false);

    // Nobody taps "send now": the phone's own retries get them through.
    await expect(entriesIn(page, 'sent')).toHaveCount(2, { timeout: 60_000 });
    expect(answers).toEqual([503, 408, 200]);
    const stored = await storedReports(server, clinic.id);
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
    await expect(page.getByTestId('revoked')).toHaveCount(0);
    guard.assertClean();
    await context.close();
  });
});

test('two tabs send the same outbox at once: the server holds each report once and both tabs end "sent"', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(120_000);
  await withDoctor(playwright, launchOptions, async ({ server, clinic, context, page }) => {
    await context.setOffline(true);
    for (const n of [21, 22, 23]) await submitReport(page, n);
    const ids = await listedIds(page);

    // Both tabs' pushes are held until both have asked, then let through together.
    const held: Route[] = [];
    let bothAsked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothAsked = resolve));
    const statuses: number[] = [];
    await context.route('**/api/v1/push', async (route) => {
      const first = held.length < 2;
      if (first) {
        expect(pushedIds(route).sort()).toEqual([...ids].sort());
        held.push(route);
        if (held.length === 2) bothAsked();
        await barrier;
      }
      const response = await route.fetch();
      statuses.push(response.status());
      await route.fulfill({ response });
    });
    // The signal comes back: the first tab hears `online` and sends; while its push is held, a
    // second tab opens (the page needs the network: this browser runs no service worker), finds
    // the same three reports unsent and sends them too.
    await context.setOffline(false);
    await expect.poll(() => held.length).toBe(1);
    const second = await context.newPage();
    await second.goto('/report');
    await expect(entriesIn(second, 'pending')).toHaveCount(3);
    await barrier;
    expect(new Set(held.map((r) => r.request().frame().page())).size).toBe(2);

    for (const tab of [page, second]) {
      await expect(entriesIn(tab, 'sent')).toHaveCount(3, { timeout: 30_000 });
      await expect(entriesIn(tab, 'pending')).toHaveCount(0);
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    const stored = await storedReports(server, clinic.id);
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
    await context.close();
  });
});

test('the browser closed in the middle of a push, before and after the server stored it, and opened again: nothing lost, nothing doubled', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(180_000);
  await withDoctor(playwright, launchOptions, async ({ server, clinic, profile, context: first, page }) => {
    await first.setOffline(true);
    await submitReport(page, 31);
    await submitReport(page, 32);
    const ids = await listedIds(page);

    // 1. The push is in flight and has not reached the server when the browser goes.
    let inFlight!: () => void;
    let sent = new Promise<void>((resolve) => (inFlight = resolve));
    await first.route('**/api/v1/push', async () => {
      inFlight();
      // Never answered: the browser is closed with the request open.
    });
    await first.setOffline(false);
    await sent;
    await first.close();
    expect(await storedReports(server, clinic.id)).toEqual([]);

    // 2. Opened again: the start-up push reaches the server, which stores the reports, and the
    //    browser goes before the answer is back.
    let { context, page: again } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    sent = new Promise<void>((resolve) => (inFlight = resolve));
    await context.route('**/api/v1/push', async (route) => {
      expect(pushedIds(route).sort()).toEqual([...ids].sort());
      const response = await route.fetch();
      expect(response.status()).toBe(200);
      inFlight();
      // The answer never reaches the page.
    });
    await again.goto('/report');
    await sent;
    await context.close();
    const storedOnce = await storedReports(server, clinic.id);
    expect(storedOnce.map((r) => r.id).sort()).toEqual([...ids].sort());

    // 3. Opened once more, with nothing in the way: the phone still holds both as unsent,
    //    resends them, hears `duplicate`, and both are sent; the server still holds each once.
    ({ context, page: again } = await openBrowser(playwright, launchOptions, profile, server.baseURL));
    const guard = watchPage(again);
    const outcomes: string[] = [];
    again.on('response', async (res) => {
      if (res.url().endsWith('/api/v1/push') && res.ok()) {
        for (const r of (await res.json()).results) outcomes.push(r.outcome);
      }
    });
    await again.goto('/report');
    await expect(entriesIn(again, 'sent')).toHaveCount(2, { timeout: 30_000 });
    expect(await listedIds(again)).toEqual(ids);
    await expect.poll(() => outcomes).toEqual(['duplicate', 'duplicate']);
    const stored = await storedReports(server, clinic.id);
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
    guard.assertClean();
    await context.close();
  });
});

test("a proxy's 401 (not the server's error) does not sign the phone out: the phone retries and the report arrives", async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(120_000);
  await withDoctor(playwright, launchOptions, async ({ server, clinic, context, page }) => {
    const guard = watchPage(page);
    await context.setOffline(true);
    await submitReport(page, 41);
    const ids = await listedIds(page);

    // A proxy in front of the server answers its own 401 page to the push and to "who am I".
    let proxy = true;
    let refused = 0;
    const proxy401 = async (route: Route) => {
      if (!proxy) return route.continue();
      refused += 1;
      return route.fulfill({
        status: 401,
        contentType: 'text/html',
        body: '<html><body><h1>401 Authorization Required</h1></body></html>',
      });
    };
    await page.route('**/api/v1/push', proxy401);
    await page.route('**/api/v1/me', proxy401);
    await context.setOffline(false);

    // The phone keeps trying by itself and stays signed in.
    await expect(page.getByTestId('outbox-status')).toHaveAttribute('data-state', 'retrying');
    await expect.poll(() => refused, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    await expect(page.getByTestId('revoked')).toHaveCount(0);
    await expect(page.getByTestId('account-name')).toHaveText('王医生');
    await expect(entriesIn(page, 'pending')).toHaveCount(1);

    // The proxy lets requests through again: the next retry sends the report.
    proxy = false;
    await expect(entriesIn(page, 'sent')).toHaveCount(1, { timeout: 60_000 });
    expect((await storedReports(server, clinic.id)).map((r) => r.id)).toEqual(ids);
    // Still signed in after a reload: nothing was stored as revoked.
    await page.reload();
    await expect(page.getByTestId('account-name')).toHaveText('王医生');
    await expect(page.getByTestId('revoked')).toHaveCount(0);
    guard.assertClean();
    await context.close();
  });
});

test('the form says what residents see; a browser that refuses persistent storage is explained while reports wait', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(120_000);
  await withDoctor(playwright, launchOptions, async ({ context, page }) => {
    // This browser keeps the app's data only "best effort".
    await context.addInitScript(() => {
      const no = async () => false;
      Object.defineProperty(StorageManager.prototype, 'persist', { value: no });
      Object.defineProperty(StorageManager.prototype, 'persisted', { value: no });
    });
    await page.reload();
    await expect(page.getByTestId('report-audience-public')).toContainText('居民可见');
    await expect(page.getByTestId('report-audience-note')).toContainText('仅卫生部门可见');
    await expect(page.getByLabel('备注')).toHaveAccessibleDescription(/仅卫生部门可见/);
    // Nothing waits: nothing to warn about.
    await expect(page.getByTestId('storage-at-risk')).toHaveCount(0);

    await context.setOffline(true);
    await submitReport(page, 51);
    const warning = page.getByTestId('storage-at-risk');
    await expect(warning).toContainText('浏览器可能删除还没发送的报告');

    // In English too.
    await page.getByTestId('lang-switch').click();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(warning).toContainText('may delete reports that are not sent yet');
    await expect(page.getByTestId('report-audience-note')).toContainText('Only the health office sees this');

    // Once the report is sent, there is nothing left to lose.
    await context.setOffline(false);
    await expect(entriesIn(page, 'sent')).toHaveCount(1, { timeout: 30_000 });
    await expect(warning).toHaveCount(0);
    await context.close();
  });
});
