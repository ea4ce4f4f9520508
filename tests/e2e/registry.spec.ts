// The foundation, as a resident sees it: the demo registry on the map and in the list, a
// facility's details, and the language switch.
import { test, expect } from '@playwright/test';
import {
  KIND_LABELS,
  expectMapShows,
  liveFacilities,
  mapTally,
  singleMarker,
  startServer,
  watchPage,
} from './helpers';

test('the map shows every demo facility as a marker whose class tells its kind, clustered only where markers overlap', async ({
  page,
  request,
}) => {
  const guard = watchPage(page);
  const facilities = await liveFacilities(request);
  expect(facilities.length).toBeGreaterThan(300);

  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.getByTestId('facility-count')).toContainText(String(facilities.length));
  // Every facility is on the map: alone as a marker, or counted in a cluster where markers
  // would overlap.
  await expectMapShows(page, facilities.length);
  const tally = await mapTally(page);
  // The demo's villages crowd around their townships: at the zoom it fits to, markers that
  // would overlap are clusters, the others stand alone.
  expect(tally.singles, 'single markers').toBeGreaterThan(0);
  expect(tally.clusters, 'clusters').toBeGreaterThan(0);
  expect(tally.singles + tally.clusters, 'icons').toBeLessThan(facilities.length);

  // A single marker's class tells its kind; the facilities of a kind not drawn alone are in
  // clusters, and together they are exactly the clusters' counts.
  let inClusters = 0;
  for (const kind of Object.keys(KIND_LABELS)) {
    const expected = facilities.filter((r) => r.facility!.kind === kind).length;
    expect(expected, `demo data has ${kind}`).toBeGreaterThan(0);
    const single = tally.kinds[kind] ?? 0;
    await expect(page.locator(`#map .marker-kind-${kind}`)).toHaveCount(single);
    expect(single, `${kind} markers on the map`).toBeLessThanOrEqual(expected);
    inClusters += expected - single;
  }
  expect(inClusters, 'the facilities not drawn alone are those the clusters count').toBe(
    tally.clustered,
  );

  // Zoomed in, every kind stands alone as a marker whose class tells it.
  for (const kind of Object.keys(KIND_LABELS)) {
    const sample = facilities.find((r) => r.facility!.kind === kind)!;
    await singleMarker(page, sample);
    // A marker is labelled with its facility's name, for screen readers and on hover.
    await expect(
      page.locator(`#map .marker-kind-${kind}[title="${sample.facility!.name.zh}"]`),
    ).toHaveCount(1);
  }

  // The legend explains every shape in Chinese.
  const legend = page.getByTestId('legend');
  for (const { zh } of Object.values(KIND_LABELS)) await expect(legend).toContainText(zh);
  guard.assertClean();
});

test('the list shows every facility and opening one shows its details', async ({
  page,
  request,
}) => {
  const guard = watchPage(page);
  const facilities = await liveFacilities(request);
  await page.goto('/');
  const links = page.locator('[data-testid=facility-list] li a[href^="/facility/"]');
  await expect(links).toHaveCount(facilities.length);

  const record = facilities.find((r) => r.facility!.kind === 'village_clinic' && r.facility!.phone)!;
  const f = record.facility!;
  const link = page.locator(`[data-testid=facility-list] a[href="/facility/${record.id}"]`);
  await expect(link).toContainText(f.name.zh);
  await link.click();

  await expect(page).toHaveURL(new RegExp(`/facility/${record.id}$`));
  const detail = page.getByTestId('facility-detail');
  await expect(detail.locator('h1')).toHaveText(f.name.zh);
  await expect(detail).toContainText(KIND_LABELS[f.kind].zh);
  if (f.address) await expect(detail).toContainText(f.address);
  if (f.opening_hours) await expect(detail).toContainText(f.opening_hours);
  const digits = f.phone!.split(';')[0].replace(/[^0-9+]/g, '');
  // The first number is dialled by the big call button, and listed with the others.
  await expect(detail.getByTestId('call-button')).toHaveAttribute('href', `tel:${digits}`);
  await expect(detail.locator(`.phones a[href="tel:${digits}"]`)).toBeVisible();

  // Back to the map keeps everything there.
  await page.goBack();
  await expectMapShows(page, facilities.length);
  guard.assertClean();
});

test('a facility page opens directly from a shared link', async ({ page, request }) => {
  const guard = watchPage(page);
  const [record] = await liveFacilities(request);
  await page.goto(`/facility/${record.id}`);
  await expect(page.getByTestId('facility-detail').locator('h1')).toHaveText(
    record.facility!.name.zh,
  );
  guard.assertClean();
});

test('tapping a marker tells which facility it is', async ({ page, request }) => {
  const facilities = await liveFacilities(request);
  const record = facilities.find((r) => r.facility!.kind === 'fever_clinic')!;
  const marker = await singleMarker(page, record);
  await marker.click({ force: true });
  // Either a popup with the name, or the facility page.
  await expect(
    page.locator('.leaflet-popup-content, [data-testid=facility-detail] h1').first(),
  ).toContainText(record.facility!.name.zh);
});

test('switching the language switches the text, and the choice is remembered', async ({
  page,
  request,
}) => {
  const guard = watchPage(page);
  const facilities = await liveFacilities(request);
  await page.goto('/');
  const legend = page.getByTestId('legend');
  await expect(legend).toContainText(KIND_LABELS.fever_clinic.zh);

  await page.getByTestId('lang-switch').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  for (const { en } of Object.values(KIND_LABELS)) await expect(legend).toContainText(en);
  await expect(legend).not.toContainText(KIND_LABELS.fever_clinic.zh);

  // English names where the registry has them.
  const withEn = facilities.find((r) => r.facility!.name.en)!;
  await expect(
    page.locator(`[data-testid=facility-list] a[href="/facility/${withEn.id}"]`),
  ).toContainText(withEn.facility!.name.en!);

  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(legend).toContainText(KIND_LABELS.fever_clinic.en);

  await page.getByTestId('lang-switch').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(legend).toContainText(KIND_LABELS.fever_clinic.zh);
  guard.assertClean();
});

test('the server sends a strict content security policy with the app', async ({ request }) => {
  const res = await request.get('/');
  expect(res.ok()).toBeTruthy();
  const csp = res.headers()['content-security-policy'];
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
});

test('a 20,000-facility registry is drawn as clusters whose counts add up to every facility', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const total = 20_000;
  const server = await startServer([['demo', '--size', String(total)]]);
  try {
    const guard = watchPage(page);
    await page.goto(server.baseURL + '/');
    await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced', {
      timeout: 180_000,
    });
    await expect(page.getByTestId('facility-count')).toHaveText(String(total));
    // The whole province in view: every facility is counted, in far fewer icons than markers.
    await expectMapShows(page, total, 120_000);
    const tally = await mapTally(page);
    expect(tally.clusters, 'cluster icons').toBeGreaterThan(0);
    expect(tally.singles + tally.clusters, 'icons drawn').toBeLessThan(total / 4);
    await expect(page.locator('#map .leaflet-marker-icon')).toHaveCount(
      tally.singles + tally.clusters,
    );
    guard.assertClean();
  } finally {
    await server.stop();
  }
});
