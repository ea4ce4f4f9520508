// The foundation, as a resident sees it: the demo registry on the map and in the list, a
// facility's details, and the language switch.
import { test, expect } from '@playwright/test';
import { KIND_LABELS, liveFacilities, watchPage } from './helpers';

test('the map shows every demo facility as a marker whose class tells its kind', async ({
  page,
  request,
}) => {
  const guard = watchPage(page);
  const facilities = await liveFacilities(request);
  expect(facilities.length).toBeGreaterThan(300);

  await page.goto('/');
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await expect(page.getByTestId('facility-count')).toContainText(String(facilities.length));
  await expect(page.locator('#map .leaflet-marker-icon')).toHaveCount(facilities.length);

  for (const kind of Object.keys(KIND_LABELS)) {
    const expected = facilities.filter((r) => r.facility!.kind === kind).length;
    expect(expected, `demo data has ${kind}`).toBeGreaterThan(0);
    await expect(page.locator(`#map .marker-kind-${kind}`)).toHaveCount(expected);
  }

  // A marker is labelled with its facility's name, for screen readers and on hover.
  const sample = facilities.find((r) => r.facility!.kind === 'fever_clinic')!;
  await expect(
    page.locator(`#map .leaflet-marker-icon[title="${sample.facility!.name.zh}"]`),
  ).toHaveCount(1);

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
  await expect(page.locator('#map .leaflet-marker-icon')).toHaveCount(facilities.length);
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
  await page.goto('/');
  const marker = page.locator(`#map .leaflet-marker-icon[title="${record.facility!.name.zh}"]`);
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
