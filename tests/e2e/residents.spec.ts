// What a resident with a fever needs from caremap: a facility's page with a big call button,
// open or closed now and when that changes, and links that open the right spot in the map apps
// people use in China (whose maps are drawn on the shifted GCJ-02 and BD-09 datums).
import { test, expect, type Page } from '@playwright/test';
import { liveFacilities, watchPage, type FacilityRecord } from './helpers';

// ---- Coordinate conversions, written here from the published formulas so that the test does
// not trust the app's own (crates/model/src/navigation.rs): WGS-84 → GCJ-02 → BD-09.

const KRASOVSKY_A = 6378245.0;
const KRASOVSKY_EE = 0.00669342162296594323;

function shiftLat(x: number, y: number): number {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(y * Math.PI) + 40 * Math.sin((y / 3) * Math.PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * Math.PI) + 320 * Math.sin((y * Math.PI) / 30)) * 2) / 3;
  return r;
}

function shiftLon(x: number, y: number): number {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2) / 3;
  r += ((20 * Math.sin(x * Math.PI) + 40 * Math.sin((x / 3) * Math.PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * Math.PI) + 300 * Math.sin((x / 30) * Math.PI)) * 2) / 3;
  return r;
}

/** WGS-84 → GCJ-02 (inside mainland China, where every demo facility is). */
function wgsToGcj(lat: number, lon: number): [number, number] {
  let dLat = shiftLat(lon - 105, lat - 35);
  let dLon = shiftLon(lon - 105, lat - 35);
  const radLat = (lat / 180) * Math.PI;
  const magic = 1 - KRASOVSKY_EE * Math.sin(radLat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180) / (((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrtMagic)) * Math.PI);
  dLon = (dLon * 180) / ((KRASOVSKY_A / sqrtMagic) * Math.cos(radLat) * Math.PI);
  return [lat + dLat, lon + dLon];
}

/** GCJ-02 → BD-09. */
function gcjToBd(lat: number, lon: number): [number, number] {
  const xPi = (Math.PI * 3000) / 180;
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * xPi);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * xPi);
  return [z * Math.sin(theta) + 0.006, z * Math.cos(theta) + 0.0065];
}

/** Great-circle distance in metres. */
function haversine(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const rad = Math.PI / 180;
  const dLat = (bLat - aLat) * rad;
  const dLon = (bLon - aLon) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(aLat * rad) * Math.cos(bLat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

test('the reference conversions of this test match published pairs', () => {
  // Tiananmen, the pair quoted by every port of the GCJ-02 algorithm.
  const [gLat, gLon] = wgsToGcj(39.915, 116.404);
  expect(gLat).toBeCloseTo(39.91640428150164, 9);
  expect(gLon).toBeCloseTo(116.41024449916938, 9);
  const [bLat, bLon] = gcjToBd(39.915, 116.404);
  expect(bLat).toBeCloseTo(39.92133699351021, 9);
  expect(bLon).toBeCloseTo(116.41036949371029, 9);
});

/** The numbers of a `lat,lon`-like pair in a link, parsed. */
function pair(text: string): [number, number] {
  const [a, b] = text.split(',').map(Number);
  return [a, b];
}

async function href(page: Page, testId: string): Promise<string> {
  const value = await page.getByTestId(testId).getAttribute('href');
  expect(value, testId).toBeTruthy();
  return value!;
}

const SERVICE_LABELS: Record<string, string> = {
  paediatric_fever: '儿童发热',
  open_24h: '24小时',
  antigen_testing: '抗原检测',
  elderly_vaccination: '老年人接种',
  home_visits: '上门服务',
  wheelchair_access: '无障碍通道',
};

const CLOSE = 2e-6; // the links carry six decimals

test('a facility page has a big call button and navigation links at the right coordinates', async ({
  page,
  request,
}) => {
  const guard = watchPage(page);
  const facilities = await liveFacilities(request);
  const record = facilities.find((r) => r.facility!.kind === 'fever_clinic' && r.facility!.phone)!;
  const f = record.facility!;
  const { lat, lon } = f.location;
  await page.goto(`/facility/${record.id}`);
  await expect(page.getByTestId('facility-detail').locator('h1')).toHaveText(f.name.zh);

  const dial = f.phone!.split(';')[0].replace(/[^0-9+]/g, '');
  await expect(page.getByTestId('call-button')).toHaveAttribute('href', `tel:${dial}`);
  await expect(page.getByTestId('call-button')).toContainText('拨打电话');

  // Any map app (geo:, RFC 5870) takes WGS-84 as it is.
  const geo = await href(page, 'navigate-geo');
  const [geoLat, geoLon] = pair(geo.match(/^geo:([^?]+)\?/)![1]);
  expect(Math.abs(geoLat - lat)).toBeLessThan(CLOSE);
  expect(Math.abs(geoLon - lon)).toBeLessThan(CLOSE);

  // Amap and Apple Maps in China: GCJ-02, a few hundred metres from the WGS-84 position.
  const [gcjLat, gcjLon] = wgsToGcj(lat, lon);
  const shift = haversine(lat, lon, gcjLat, gcjLon);
  expect(shift).toBeGreaterThan(200);
  expect(shift).toBeLessThan(1000);
  const amap = new URL(await href(page, 'navigate-amap'));
  expect(amap.hostname).toBe('uri.amap.com');
  const [amapLon, amapLat] = pair(amap.searchParams.get('position')!);
  expect(Math.abs(amapLat - gcjLat)).toBeLessThan(CLOSE);
  expect(Math.abs(amapLon - gcjLon)).toBeLessThan(CLOSE);
  expect(amap.searchParams.get('name')).toBe(f.name.zh);

  const apple = new URL(await href(page, 'navigate-apple'));
  expect(apple.hostname).toBe('maps.apple.com');
  const [appleLat, appleLon] = pair(apple.searchParams.get('ll')!);
  expect(Math.abs(appleLat - gcjLat)).toBeLessThan(CLOSE);
  expect(Math.abs(appleLon - gcjLon)).toBeLessThan(CLOSE);

  // Baidu: BD-09, GCJ-02 shifted again.
  const [bdLat, bdLon] = gcjToBd(gcjLat, gcjLon);
  const baidu = new URL(await href(page, 'navigate-baidu'));
  expect(baidu.hostname).toBe('api.map.baidu.com');
  const [baiduLat, baiduLon] = pair(baidu.searchParams.get('location')!);
  expect(Math.abs(baiduLat - bdLat)).toBeLessThan(CLOSE);
  expect(Math.abs(baiduLon - bdLon)).toBeLessThan(CLOSE);
  expect(baidu.searchParams.get('coord_type')).toBe('bd09ll');

  const nav = page.getByTestId('navigate');
  for (const label of ['高德地图', '百度地图', 'Apple 地图', '其他地图应用']) {
    await expect(nav).toContainText(label);
  }
  await page.getByTestId('lang-switch').click();
  for (const label of ['Amap', 'Baidu Maps', 'Apple Maps', 'Other map app']) {
    await expect(nav).toContainText(label);
  }
  await expect(page.getByTestId('call-button')).toContainText('Call');
  guard.assertClean();
});

/** A township health centre: "Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-11:30" in the demo. */
function healthCentre(facilities: FacilityRecord[]): FacilityRecord {
  const record = facilities.find(
    (r) =>
      r.facility!.kind === 'township_health_center' &&
      r.facility!.opening_hours === 'Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-11:30',
  );
  expect(record, 'the demo has a health centre with weekday hours').toBeTruthy();
  return record!;
}

const cases: { at: string; state: string; zh: string; en: string }[] = [
  // 2026-11-25 is a Wednesday; the facilities' clock is China Standard Time.
  { at: '2026-11-25T09:00:00+08:00', state: '现在开放', zh: '11:30 关门', en: 'closes 11:30' },
  { at: '2026-11-25T12:00:00+08:00', state: '现在关闭', zh: '13:30 开门', en: 'opens 13:30' },
  { at: '2026-11-25T18:00:00+08:00', state: '现在关闭', zh: '明天 08:00 开门', en: 'opens tomorrow 08:00' },
  { at: '2026-11-28T12:00:00+08:00', state: '现在关闭', zh: '周一 08:00 开门', en: 'opens Mon 08:00' },
];

for (const c of cases) {
  test(`the facility page says open or closed now and when that changes (${c.at})`, async ({
    page,
    request,
  }) => {
    const record = healthCentre(await liveFacilities(request));
    await page.clock.setFixedTime(new Date(c.at));
    await page.goto(`/facility/${record.id}`);
    const state = page.getByTestId('open-state');
    await expect(state).toContainText(c.state);
    await expect(page.getByTestId('open-change')).toHaveText(c.zh);
    await page.getByTestId('lang-switch').click();
    await expect(page.getByTestId('open-change')).toHaveText(c.en);
  });
}

test('the facility page lists the services', async ({ page, request }) => {
  const facilities = await liveFacilities(request);
  const record = facilities.find((r) => r.facility!.kind === 'fever_clinic')!;
  await page.goto(`/facility/${record.id}`);
  const services = page.getByTestId('facility-detail').locator('.services li');
  const expected = ((record.facility as { services?: string[] }).services ?? []).map(
    (s) => SERVICE_LABELS[s],
  );
  expect(expected.length).toBeGreaterThan(0);
  await expect(services).toHaveText(expected);
});
