// Offline first, as a resident on a weak network lives it: after one visit the app opens with no
// network from what the phone holds; when the network is back only what changed is downloaded;
// a first sync cut off halfway resumes where it stopped.
import { test, expect, type Page, type Response } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  controlledByServiceWorker,
  decodeRegistryPage,
  expectMapShows,
  liveFacilities,
  startServer,
  watchPage,
  type RecordsPage,
} from './helpers';

/** Every registry page the page receives from now on, with the cursor it asked from. */
function recordRegistryPages(page: Page) {
  const pages: { since: string; format: string | null; body: RecordsPage }[] = [];
  const pending: Promise<void>[] = [];
  page.on('response', (response: Response) => {
    const url = new URL(response.url());
    if (url.pathname !== '/api/v1/registry' || !response.ok()) return;
    pending.push(
      response.json().then((body) => {
        pages.push({
          since: url.searchParams.get('since') ?? '',
          format: url.searchParams.get('format'),
          body: decodeRegistryPage(body),
        });
      }),
    );
  });
  return {
    pages,
    /** Waits until every response seen so far has been read. */
    settled: () => Promise.all(pending),
  };
}

const syncStatus = (page: Page) => page.getByTestId('sync-status');

test('after one visit online, the app opens offline with every facility from the phone', async ({
  page,
  context,
  request,
}) => {
  const guard = watchPage(page);
  const facilities = await liveFacilities(request);
  await page.goto('/');
  await expect(syncStatus(page)).toHaveAttribute('data-state', 'synced');
  await expect(syncStatus(page)).toContainText('已同步');
  await expect(page.getByTestId('facility-count')).toHaveText(String(facilities.length));
  // The service worker holds the app shell once it controls the page.
  await controlledByServiceWorker(page);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('facility-count')).toHaveText(String(facilities.length));
  await expect(page.locator('[data-testid=facility-list] li')).toHaveCount(facilities.length);
  await expectMapShows(page, facilities.length);
  await expect(syncStatus(page)).toHaveAttribute('data-state', 'offline');
  await expect(syncStatus(page)).toContainText('离线');

  // A facility's page opens offline too, from the phone's copy.
  const record = facilities.find((r) => r.facility!.kind === 'fever_clinic')!;
  await page.locator(`[data-testid=facility-list] a[href="/facility/${record.id}"]`).click();
  await expect(page.getByTestId('facility-detail').locator('h1')).toHaveText(
    record.facility!.name.zh,
  );

  // When the network comes back, the app syncs by itself.
  await context.setOffline(false);
  await expect(syncStatus(page)).toHaveAttribute('data-state', 'synced');
  guard.assertClean();
});

test('an edit and a deletion on the server reach the phone on the next sync, and nothing else is downloaded', async ({
  page,
  context,
  request,
}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-delta-'));
  const csv = (rows: string[]) => {
    const file = path.join(dir, `registry-${rows.length}-${Date.now()}.csv`);
    fs.writeFileSync(file, ['code,kind,name_zh,lat,lon', ...rows].join('\n') + '\n');
    return file;
  };
  const before = csv([
    'E2E-1,village_clinic,测试甲村卫生室,30.05,121.15',
    'E2E-2,village_clinic,测试乙村卫生室,30.06,121.16',
  ]);
  const server = await startServer([['demo'], ['import', before]]);
  try {
    const guard = watchPage(page);
    const facilities = await liveFacilities(request, server.baseURL);
    const edited = facilities.find((r) => r.facility!.name.zh === '测试甲村卫生室')!;
    const deleted = facilities.find((r) => r.facility!.name.zh === '测试乙村卫生室')!;

    const feed = recordRegistryPages(page);
    await page.goto(server.baseURL + '/');
    await expect(syncStatus(page)).toHaveAttribute('data-state', 'synced');
    await expect(page.getByTestId('facility-count')).toHaveText(String(facilities.length));
    await feed.settled();
    const firstSync = feed.pages.splice(0);
    expect(firstSync.reduce((n, p) => n + p.body.items.length, 0)).toBe(facilities.length);
    const cursor = firstSync[firstSync.length - 1].body.cursor;

    // The health office corrects one clinic's name and removes another.
    server.cli(
      'import',
      csv([
        'E2E-1,village_clinic,测试甲村卫生室（新址）,30.05,121.15',
        'E2E-2,village_clinic,测试乙村卫生室,30.06,121.16',
      ]),
    );
    server.cli('facility', 'delete', deleted.id);

    // The phone loses its signal and gets it back: the `online` event starts a sync.
    await context.setOffline(true);
    await expect(syncStatus(page)).toHaveAttribute('data-state', 'offline');
    await context.setOffline(false);
    const list = page.getByTestId('facility-list');
    await expect(list).toContainText('测试甲村卫生室（新址）');
    await expect(list.locator(`a[href="/facility/${deleted.id}"]`)).toHaveCount(0);
    await expect(page.getByTestId('facility-count')).toHaveText(String(facilities.length - 1));
    await expect(syncStatus(page)).toHaveAttribute('data-state', 'synced');

    // One request, from the stored cursor, carrying exactly the two changes (in the columnar
    // layout, whose ids the phone derives from the external ids like the server).
    await feed.settled();
    expect(feed.pages.map((p) => p.since)).toEqual([cursor]);
    expect(feed.pages.map((p) => p.format)).toEqual(['columns']);
    const changes = feed.pages[0].body.items;
    expect(changes.map((c) => c.id).sort()).toEqual([edited.id, deleted.id].sort());
    expect(changes.find((c) => c.id === deleted.id)!.deleted).toBe(true);
    guard.assertClean();
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a first sync of a large registry cut off halfway resumes from its cursor', async ({
  page,
  context,
}) => {
  test.setTimeout(300_000);
  const total = 20_000;
  const server = await startServer([['demo', '--size', String(total)]]);
  try {
    // The link drops after two pages (of 5,000).
    let served = 0;
    await page.route('**/api/v1/registry?**', (route) => {
      served += 1;
      return served > 2 ? route.abort('internetdisconnected') : route.continue();
    });
    const feed = recordRegistryPages(page);
    await page.goto(server.baseURL + '/');
    await expect(syncStatus(page)).toHaveAttribute('data-state', 'offline', { timeout: 60_000 });
    await feed.settled();
    const beforeCut = feed.pages.splice(0);
    expect(beforeCut).toHaveLength(2);
    const stored = beforeCut.reduce((n, p) => n + p.body.items.length, 0);
    expect(stored).toBeLessThan(total);
    await expect(page.getByTestId('facility-count')).toHaveText(String(stored));

    // Later, with signal, the app is opened again: it shows what it kept and asks only for
    // the rest. (A new tab: the cut-off one keeps retrying into its dead link.)
    await page.close();
    const reopened = await context.newPage();
    const rest = recordRegistryPages(reopened);
    await reopened.goto(server.baseURL + '/');
    await expect(syncStatus(reopened)).toHaveAttribute('data-state', 'synced', {
      timeout: 180_000,
    });
    await expect(reopened.getByTestId('facility-count')).toHaveText(String(total));
    // A registry this large is listed only in part: the list asks for a point or a filter.
    await expect(reopened.locator('[data-testid=facility-list] li')).toHaveCount(500);
    await expect(reopened.getByTestId('facility-list-more')).toContainText(String(total - 500));
    await rest.settled();
    expect(rest.pages[0].since).toBe(beforeCut[beforeCut.length - 1].body.cursor);
    const downloaded = [...beforeCut, ...rest.pages].reduce((n, p) => n + p.body.items.length, 0);
    expect(downloaded).toBe(total);
  } finally {
    await server.stop();
  }
});
