// What a resident with a fever needs from caremap: a facility's page with a big call button,
// open or closed now and when that changes, and links that open the right spot in the map apps
// people use in China (whose maps are drawn on the shifted GCJ-02 and BD-09 datums).
import { test, expect, type Page } from '@playwright/test';
import {
  controlledByServiceWorker,
  expectMapShows,
  liveFacilities,
  singleMarker,
  withStatuses,
  zoomOut,
  watchPage,
  withAge,
  type FacilityRecord,
  type SeededStatus,
} from './helpers';

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
  // On a first visit the timetables arrive after the page is drawn; the page then says it.
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

// ---- Near me, the nearest list and the filters, with a fixed position in Yuyao.

type Resident = {
  id: string;
  kind: string;
  lat: number;
  lon: number;
  hours?: string;
  services: string[];
  closed: boolean;
  township?: string;
};

function residentsView(records: FacilityRecord[]): Resident[] {
  return records.map((r) => {
    const f = r.facility! as NonNullable<FacilityRecord['facility']> & {
      services?: string[];
      operational?: { state: string };
    };
    return {
      id: r.id,
      kind: f.kind,
      lat: f.location.lat,
      lon: f.location.lon,
      hours: f.opening_hours,
      services: f.services ?? [],
      closed: f.operational?.state === 'closed',
      township: f.area?.township,
    };
  });
}

const DAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];

/**
 * Open at `day` (0 = Monday) and `minute` of the day, for the forms of opening hours the demo
 * registry uses ("24/7", "Mo-Fr 08:00-11:30,13:30-17:00; Sa 08:00-11:30", "Tu,Th 08:30-11:30").
 */
function openAt(hours: string, day: number, minute: number): boolean {
  if (hours === '24/7') return true;
  const toMinutes = (t: string) => {
    const [h, m] = t.split(':').map(Number);
    return h * 60 + m;
  };
  return hours.split(';').some((rule) => {
    const [days, times] = rule.trim().split(' ');
    const onDay = days.split(',').some((part) => {
      const [from, to] = part.split('-').map((d) => DAYS.indexOf(d));
      return to === undefined ? day === from : day >= from && day <= to;
    });
    if (!onDay || !times || times === 'off') return false;
    return times.split(',').some((span) => {
      const [from, to] = span.split('-').map(toMinutes);
      return minute >= from && minute < to;
    });
  });
}

const HOME = { latitude: 30.0436, longitude: 121.1572 }; // Yuyao railway station
// Wednesday 12:30 at the facilities: hospitals and fever stations open, most health centres and
// village clinics at lunch.
const WEDNESDAY_LUNCH = '2026-11-25T12:30:00+08:00';
const WEDNESDAY = 2;
const LUNCH = 12 * 60 + 30;
const SHOWN = 20; // the list's nearest-first length (NEAREST_SHOWN)

type Filter = { kinds?: string[]; open?: boolean; services?: string[] };

/** The ids the app should list nearest first from `from`, filtered like the app filters. */
function expectedNearest(all: Resident[], from: [number, number], filter: Filter = {}): string[] {
  return all
    .filter((r) => !filter.kinds?.length || filter.kinds.includes(r.kind))
    .filter((r) => (filter.services ?? []).every((s) => r.services.includes(s)))
    .filter((r) => !filter.open || (!r.closed && !!r.hours && openAt(r.hours, WEDNESDAY, LUNCH)))
    .map((r) => ({ id: r.id, d: haversine(from[0], from[1], r.lat, r.lon) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, SHOWN)
    .map((r) => r.id);
}

/** How many facilities the filter keeps in all (the markers on the map). */
function expectedCount(all: Resident[], filter: Filter): number {
  return all
    .filter((r) => !filter.kinds?.length || filter.kinds.includes(r.kind))
    .filter((r) => (filter.services ?? []).every((s) => r.services.includes(s)))
    .filter((r) => !filter.open || (!r.closed && !!r.hours && openAt(r.hours, WEDNESDAY, LUNCH)))
    .length;
}

async function listedIds(page: Page): Promise<string[]> {
  const hrefs = await page
    .locator('[data-testid=facility-list] li a')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
  return hrefs.map((h) => h.replace('/facility/', ''));
}

async function expectList(page: Page, ids: string[]) {
  await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(ids.length);
  await expect.poll(() => listedIds(page)).toEqual(ids);
}

/** The point in the page's URL (`near=lat,lon`). */
function nearOf(page: Page): [number, number] {
  const near = new URL(page.url()).searchParams.get('near');
  expect(near, 'the URL carries the point').toBeTruthy();
  return pair(near!);
}


test.describe('with the position shared', () => {
  test.use({ geolocation: HOME, permissions: ['geolocation'] });

  test('"near me" lists the truly nearest facilities first, with their distance', async ({
    page,
    request,
  }) => {
    const guard = watchPage(page);
    const all = residentsView(await liveFacilities(request));
    await page.clock.setFixedTime(new Date(WEDNESDAY_LUNCH));
    await page.goto('/');
    await expectMapShows(page, all.length);
    await page.getByTestId('near-me').click();

    await expect(page).toHaveURL(/near=30\.04360,121\.15720/);
    await expect(page.getByTestId('facility-list')).toHaveAttribute('data-mode', 'nearest');
    const expected = expectedNearest(all, [HOME.latitude, HOME.longitude]);
    await expectList(page, expected);
    await expect(page.locator('#map .position-marker')).toHaveCount(1);

    // The first one's distance, as a resident reads it.
    const first = all.find((r) => r.id === expected[0])!;
    const metres = haversine(HOME.latitude, HOME.longitude, first.lat, first.lon);
    const text =
      metres < 1000
        ? `${Math.max(10, Math.round(metres / 10) * 10)} 米`
        : `${(metres / 1000).toFixed(1)} 公里`;
    const firstItem = page.locator('[data-testid=facility-list] li').first();
    await expect(firstItem.getByTestId('distance')).toHaveText(text);
    await expect(firstItem.getByTestId('facility-open')).toContainText(/现在开放|现在关闭/);
    guard.assertClean();
  });

  test('each filter narrows the nearest list and the markers, and the URL keeps it all', async ({
    page,
    request,
  }) => {
    const guard = watchPage(page);
    const all = residentsView(await liveFacilities(request));
    const home: [number, number] = [HOME.latitude, HOME.longitude];
    await page.clock.setFixedTime(new Date(WEDNESDAY_LUNCH));
    await page.goto('/');
    await page.getByTestId('near-me').click();
    await expectList(page, expectedNearest(all, home));
    // Zoomed out from the streets around home, the whole demo is in view.
    await zoomOut(page, 4);

    // Kind: fever clinics, then fever stations as well.
    await page.getByTestId('filter-kind-fever_clinic').check();
    await expect(page).toHaveURL(/kind=fever_clinic(&|$)/);
    let filter: Filter = { kinds: ['fever_clinic'] };
    await expectList(page, expectedNearest(all, home, filter));
    await expectMapShows(page, expectedCount(all, filter));

    await page.getByTestId('filter-kind-fever_station').check();
    await expect(page).toHaveURL(/kind=fever_clinic,fever_station/);
    filter = { kinds: ['fever_clinic', 'fever_station'] };
    await expectList(page, expectedNearest(all, home, filter));
    await expectMapShows(page, expectedCount(all, filter));

    // Paediatric fever.
    await page.getByTestId('filter-svc-paediatric_fever').check();
    await expect(page).toHaveURL(/svc=paediatric_fever/);
    filter = { ...filter, services: ['paediatric_fever'] };
    const paediatric = expectedNearest(all, home, filter);
    await expectList(page, paediatric);
    await expectMapShows(page, expectedCount(all, filter));

    // 24 hours (only hospital fever clinics are, in the demo).
    await page.getByTestId('filter-svc-open_24h').check();
    filter = { ...filter, services: ['paediatric_fever', 'open_24h'] };
    await expectList(page, expectedNearest(all, home, filter));
    await expect(page).toHaveURL(/svc=paediatric_fever,open_24h/);
    await page.getByTestId('filter-svc-open_24h').uncheck();
    filter = { ...filter, services: ['paediatric_fever'] };
    await expectList(page, paediatric);

    // Open now, on all kinds: at lunch some close and others stay open.
    await page.getByTestId('filter-kind-fever_clinic').uncheck();
    await page.getByTestId('filter-kind-fever_station').uncheck();
    await page.getByTestId('filter-svc-paediatric_fever').uncheck();
    await expect(page).not.toHaveURL(/kind=|svc=/);
    await page.getByTestId('filter-open').check();
    await expect(page).toHaveURL(/open=1/);
    filter = { open: true };
    const openNow = expectedNearest(all, home, filter);
    expect(openNow, 'open now changes the list').not.toEqual(expectedNearest(all, home));
    await expectList(page, openNow);
    await expectMapShows(page, expectedCount(all, filter));
    for (const item of await page.locator('[data-testid=facility-list] li').all()) {
      await expect(item.getByTestId('facility-open')).toContainText('现在开放');
    }

    // The link is the search: opened anew, it shows the same list.
    await page.getByTestId('filter-kind-fever_station').check();
    filter = { open: true, kinds: ['fever_station'] };
    const stations = expectedNearest(all, home, filter);
    expect(stations.length, 'fever stations stay open at lunch').toBeGreaterThan(0);
    await expectList(page, stations);
    const shared = page.url();
    expect(new URL(shared).searchParams.get('kind')).toBe('fever_station');
    await page.reload();
    await expectList(page, stations);
    await expect(page.getByTestId('filter-kind-fever_station')).toBeChecked();
    await expect(page.getByTestId('filter-open')).toBeChecked();
    await zoomOut(page, 4);
    await expectMapShows(page, expectedCount(all, filter));

    // A facility's page leads back to the same search.
    await page.locator('[data-testid=facility-list] li a').first().click();
    await expect(page.getByTestId('facility-detail')).toBeVisible();
    await page.getByTestId('back-to-map').click();
    await expect(page).toHaveURL(shared);
    await expectList(page, stations);

    // Clearing the filters keeps the point.
    await page.getByTestId('clear-filters').click();
    await expect(page).toHaveURL(/near=30\.04360,121\.15720$/);
    await expectList(page, expectedNearest(all, home));
    guard.assertClean();
  });

  test('after one visit online, a shared search works with the network off', async ({
    page,
    context,
    request,
  }) => {
    const guard = watchPage(page);
    const all = residentsView(await liveFacilities(request));
    await page.clock.setFixedTime(new Date(WEDNESDAY_LUNCH));
    await page.goto('/');
    await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');
    await controlledByServiceWorker(page);

    await context.setOffline(true);
    const filter: Filter = { open: true, kinds: ['fever_station', 'township_health_center'] };
    await page.goto('/?near=30.04360,121.15720&kind=fever_station,township_health_center&open=1');
    await expectList(page, expectedNearest(all, [HOME.latitude, HOME.longitude], filter));
    await zoomOut(page, 4);
    await expectMapShows(page, expectedCount(all, filter));
    await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');

    // "Near me" needs no network either.
    await page.getByTestId('clear-near').click();
    await expect(page).not.toHaveURL(/near=/);
    await page.getByTestId('near-me').click();
    await expect(page).toHaveURL(/near=30\.04360,121\.15720/);
    await expectList(page, expectedNearest(all, [HOME.latitude, HOME.longitude], filter));
    await context.setOffline(false);
    guard.assertClean();
  });
});

test.describe('without the position', () => {
  test('a refusal is explained, and tapping the map or choosing a township sets the point', async ({
    page,
    request,
  }) => {
    const guard = watchPage(page);
    const records = await liveFacilities(request);
    const all = residentsView(records);
    await page.clock.setFixedTime(new Date(WEDNESDAY_LUNCH));
    await page.goto('/');
    await expectMapShows(page, all.length);

    await page.getByTestId('near-me').click();
    await expect(page.getByTestId('locate-error')).toContainText('没有定位权限');
    await expect(page.getByTestId('locate-error')).toContainText('在地图上点选');
    await expect(page).not.toHaveURL(/near=/);

    // Tap the map: the point is where the tap was.
    await page.getByTestId('pick-on-map').click();
    await expect(page.getByTestId('picking-hint')).toBeVisible();
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.5 + 7, box.y + box.height * 0.5 + 5);
    await expect(page).toHaveURL(/near=/);
    await expect(page.getByTestId('picking-hint')).toHaveCount(0);
    await expect(page.getByTestId('locate-error')).toHaveCount(0);
    await expectList(page, expectedNearest(all, nearOf(page)));
    await expect(page.locator('#map .position-marker')).toHaveCount(1);

    // Or choose a township: the point is the centre of its facilities.
    const township = all.find((r) => r.township)!.township!;
    const members = all.filter((r) => r.township === township);
    const centre: [number, number] = [
      members.reduce((s, r) => s + r.lat, 0) / members.length,
      members.reduce((s, r) => s + r.lon, 0) / members.length,
    ];
    await page.getByTestId('township-select').selectOption({ label: township });
    await expect
      .poll(() => {
        const [lat, lon] = nearOf(page);
        return Math.abs(lat - centre[0]) < 1e-5 && Math.abs(lon - centre[1]) < 1e-5;
      })
      .toBe(true);
    await expectList(page, expectedNearest(all, nearOf(page)));

    // In English too.
    await page.getByTestId('lang-switch').click();
    await expect(page.locator('[data-testid=facility-list] li').first().getByTestId('distance')).toHaveText(
      /^\d+(\.\d)? k?m$/,
    );
    await page.getByTestId('near-me').click();
    await expect(page.getByTestId('locate-error')).toContainText('Location permission was not given');
    guard.assertClean();
  });
});

test('without a point, the filters narrow the whole list and the markers', async ({
  page,
  request,
}) => {
  const guard = watchPage(page);
  const all = residentsView(await liveFacilities(request));
  await page.goto('/');
  await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(all.length);
  await expect(page.getByTestId('facility-list')).toHaveAttribute('data-mode', 'all');

  await page.getByTestId('filter-kind-vaccination_point').check();
  await page.getByTestId('filter-kind-fever_station').check();
  const kept = all.filter((r) => ['vaccination_point', 'fever_station'].includes(r.kind));
  await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(kept.length);
  await expectMapShows(page, kept.length);
  expect(new Set(await listedIds(page))).toEqual(new Set(kept.map((r) => r.id)));

  await page.getByTestId('filter-svc-open_24h').check();
  // No fever station or vaccination point is open around the clock in the demo.
  expect(kept.filter((r) => r.services.includes('open_24h'))).toEqual([]);
  await expect(page.getByTestId('facility-list-none')).toBeVisible();
  await expectMapShows(page, 0);

  await page.getByTestId('clear-filters').click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(all.length);
  guard.assertClean();
});

// ---- Load status (issue 6): what doctors report, as residents see it. On a server of the
// tests' own whose facilities near Yuyao railway station got statuses through the real push API
// (helpers.seedStatuses): each crowding level, one report without a wait, an ageing and a stale
// one, shortages, and a week of reports for one facility.

/** The list entry of a facility. */
function listEntry(page: Page, id: string) {
  return page.locator(`[data-testid=facility-list] li:has(a[href="/facility/${id}"])`);
}

async function expectStatusInList(page: Page, s: SeededStatus) {
  const status = listEntry(page, s.record.id).getByTestId('facility-status');
  await expect(status).toHaveCount(1);
  if (s.crowding) await expect(status).toHaveAttribute('data-crowding', s.crowding);
  else await expect(status).not.toHaveAttribute('data-crowding', /.*/);
  await expect(status).toHaveAttribute('data-freshness', s.stale ? 'stale' : /fresh|ageing/);
  await expect(status.getByTestId('crowding')).toHaveText(withAge(`${s.words.zh} · `, s.asOf, 'zh'));
  await expect(status.getByTestId('stale-mark')).toHaveCount(s.stale ? 1 : 0);
  if (s.stale) await expect(status.getByTestId('stale-mark')).toHaveText('已过时');
  if (s.shortages) await expect(status.getByTestId('shortages')).toHaveText(s.shortages);
  else await expect(status.getByTestId('shortages')).toHaveCount(0);
}

withStatuses(
  'markers and the list say each facility\'s crowding, in words with its age; a stale one is greyed and marked',
  async ({ page, seeded }) => {
    const guard = watchPage(page);
    const { statuses, history, all } = seeded.data;
    await page.goto('/');
    await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(all.length);
    for (const s of statuses) await expectStatusInList(page, s);
    // Facilities nobody reported on say nothing about their load.
    const seededIds = new Set([...statuses.map((s) => s.record.id), history.record.id]);
    const silent = all.find((r) => !seededIds.has(r.id))!;
    await expect(listEntry(page, silent.id).getByTestId('facility-status')).toHaveCount(0);

    // The legend explains the badges, stale included.
    const legend = page.getByTestId('legend-crowding');
    for (const words of ['不拥挤', '较拥挤', '很拥挤', '暂停接诊', '已过时']) {
      await expect(legend).toContainText(words);
    }

    // Each marker wears its level (and is-stale), the kind's shape kept; its popup says it.
    for (const s of statuses) {
      const marker = await singleMarker(page, s.record);
      const classes = (await marker.getAttribute('class')) ?? '';
      expect(classes, s.record.facility!.name.zh).toContain(`marker-kind-${s.record.facility!.kind}`);
      for (const level of ['low', 'medium', 'high', 'closed']) {
        expect(classes.includes(`crowd-${level}`), `${s.record.facility!.name.zh}: crowd-${level}`).toBe(
          s.crowding === level,
        );
      }
      expect(classes.includes('is-stale'), `${s.record.facility!.name.zh}: is-stale`).toBe(s.stale);
      await marker.click({ force: true });
      const popup = page.locator('.leaflet-popup-content .popup-item').filter({
        hasText: s.record.facility!.name.zh,
      });
      await expect(popup.getByTestId('popup-status')).toHaveText(
        withAge(`${s.words.zh} · `, s.asOf, 'zh', s.stale ? ' · 已过时' : ''),
      );
    }
    // A marker without a status has no badge.
    const plain = await singleMarker(page, silent);
    expect(await plain.getAttribute('class')).not.toMatch(/crowd-|is-stale/);

    // The nearest list says it too, and in English.
    const high = statuses.find((s) => s.crowding === 'high')!;
    await page.goto('/?near=30.04360,121.15720');
    await expectStatusInList(page, high);
    await page.getByTestId('lang-switch').click();
    await expect(listEntry(page, high.record.id).getByTestId('crowding')).toHaveText(
      withAge('Very crowded · ', high.asOf, 'en'),
    );
    const stale = statuses.find((s) => s.stale)!;
    await expect(listEntry(page, stale.record.id).getByTestId('stale-mark')).toHaveText('Out of date');
    guard.assertClean();
  },
);

/** The ids listed, as a set. */
async function listedSet(page: Page): Promise<Set<string>> {
  return new Set(await listedIds(page));
}

withStatuses(
  'short wait and antigen kits keep exactly the facilities whose status says so',
  async ({ page, seeded }) => {
    const guard = watchPage(page);
    const { statuses, history } = seeded.data;
    await page.goto('/');
    await expect(page.getByTestId('status-filter-note')).toContainText('不超过 25 分钟');
    await expect(page.getByTestId('status-filter-note')).toContainText('24 小时');

    // Short wait: not crowded, not stale; the stale one with a 5-minute wait is left out, the
    // ageing one kept, the closed one and the one without a wait left out.
    const short = statuses.filter((s) => s.shortWait).map((s) => s.record.id);
    expect(short.length).toBe(2);
    await page.getByTestId('filter-short-wait').check();
    await expect(page).toHaveURL(/short=1/);
    await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(short.length);
    expect(await listedSet(page)).toEqual(new Set(short));
    await expectMapShows(page, short.length);

    // Antigen kits: reported ample or low (the history facility's are out).
    await page.getByTestId('filter-short-wait').uncheck();
    await page.getByTestId('filter-antigen-kits').check();
    await expect(page).toHaveURL(/kits=1/);
    await expect(page).not.toHaveURL(/short=1/);
    const kits = statuses.filter((s) => s.antigenKits).map((s) => s.record.id);
    expect(kits).not.toContain(history.record.id);
    await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(kits.length);
    expect(await listedSet(page)).toEqual(new Set(kits));
    await expectMapShows(page, kits.length);

    // Both, from a shared link.
    await page.goto('/?short=1&kits=1');
    const both = statuses.filter((s) => s.shortWait && s.antigenKits).map((s) => s.record.id);
    expect(both.length).toBe(1);
    await expect(page.getByTestId('filter-short-wait')).toBeChecked();
    await expect(page.getByTestId('filter-antigen-kits')).toBeChecked();
    await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(1);
    expect(await listedSet(page)).toEqual(new Set(both));

    // Nearest first, with the same rule.
    await page.goto('/?near=30.04360,121.15720&short=1');
    await expect(page.getByTestId('facility-list')).toHaveAttribute('data-mode', 'nearest');
    await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(short.length);
    expect(await listedSet(page)).toEqual(new Set(short));
    await page.getByTestId('clear-filters').click();
    await expect(page).not.toHaveURL(/short=|kits=/);
    guard.assertClean();
  },
);

withStatuses(
  'the facility page shows the status, its age, today\'s load and the 7-day chart',
  async ({ page, seeded }) => {
    const guard = watchPage(page);
    const { statuses, history } = seeded.data;
    await page.goto(`/facility/${history.record.id}`);
    const block = page.getByTestId('load-status');
    await expect(block).toHaveAttribute('data-state', 'fresh');
    await expect(block).toHaveAttribute('data-crowding', 'high');
    await expect(block.getByTestId('reported-status')).toHaveText('正常开诊');
    await expect(block.getByTestId('crowding')).toHaveText('很拥挤');
    await expect(block.getByTestId('wait')).toHaveText(`约 ${history.wait} 分钟`);
    const today = history.days[6]!;
    await expect(block.getByTestId('outpatients')).toHaveText(`${today.outpatients} 人`);
    await expect(block.getByTestId('fever-patients')).toHaveText(`${today.fever} 人`);
    await expect(block.getByTestId('doctors')).toHaveText(`${history.doctors} 人`);
    await expect(block.getByTestId('status-age').locator('strong')).toHaveText(
      withAge('', history.asOf, 'zh'),
    );
    await expect(block.getByTestId('stale-note')).toHaveCount(0);
    const kits = block.locator('[data-testid=stock] li[data-item=antigen_kits]');
    await expect(kits).toHaveAttribute('data-level', 'out');
    await expect(kits).toHaveClass(/stock-out/);
    await expect(kits).toContainText('抗原检测试剂：缺货');
    // Shortages come first.
    await expect(block.locator('[data-testid=stock] li').first()).toHaveAttribute('data-item', 'antigen_kits');

    // Today and the seven days: the newest report of each Chinese day, the corrected one not.
    const chart = page.getByTestId('load-history');
    await expect(chart).toHaveAttribute('data-state', 'online');
    await expect(chart.getByTestId('today-load')).toHaveText(
      `今日接诊：门诊 ${today.outpatients} 人，其中发热 ${today.fever} 人`,
    );
    const max = Math.max(...history.days.map((d) => d?.outpatients ?? 0));
    const svg = page.getByTestId('load-chart');
    await expect(svg.locator('g.chart-day')).toHaveCount(7);
    for (const [i, day] of history.days.entries()) {
      const column = svg.locator('g.chart-day').nth(i);
      const row = page.getByTestId('load-table').locator('tbody tr').nth(6 - i);
      if (!day) {
        await expect(column.locator('rect')).toHaveCount(0);
        await expect(row.getByTestId('table-outpatients')).toHaveText('无上报');
        continue;
      }
      await expect(column).toHaveAttribute('data-date', day.date);
      await expect(row).toHaveAttribute('data-date', day.date);
      const bar = column.locator('rect.bar-outpatients');
      await expect(bar).toHaveAttribute('data-value', String(day.outpatients));
      await expect(column.locator('rect.bar-fever')).toHaveAttribute('data-value', String(day.fever));
      // Heights in proportion: the tallest bar spans the plot (64 % of the chart's height).
      const height = parseFloat((await bar.getAttribute('height'))!);
      expect(height).toBeCloseTo((64 * day.outpatients) / max, 1);
      await expect(column.locator('text.chart-figure')).toHaveText(String(day.outpatients));
      await expect(row.getByTestId('table-outpatients')).toHaveText(String(day.outpatients));
      await expect(row.getByTestId('table-fever')).toHaveText(String(day.fever));
    }
    // The corrected report (999) is nowhere.
    await expect(page.getByTestId('load-history')).not.toContainText('999');
    // The chart is drawn: bars have height on screen, the taller for more patients.
    const box = async (value: number) =>
      (await svg.locator(`rect.bar-outpatients[data-value="${value}"]`).boundingBox())!.height;
    expect(await box(130)).toBeGreaterThan(await box(60));

    await page.getByTestId('lang-switch').click();
    await expect(block.getByTestId('wait')).toHaveText(`about ${history.wait} min`);
    await expect(chart.getByTestId('today-load')).toHaveText(
      `Today: ${today.outpatients} outpatients, ${today.fever} with fever`,
    );
    await page.getByTestId('lang-switch').click();

    // A stale status: greyed, marked, and said to be possibly out of date.
    const stale = statuses.find((s) => s.stale)!;
    await page.goto(`/facility/${stale.record.id}`);
    const staleBlock = page.getByTestId('load-status');
    await expect(staleBlock).toHaveAttribute('data-state', 'stale');
    await expect(staleBlock).toHaveClass(/is-stale/);
    await expect(staleBlock.getByTestId('status-age').locator('strong')).toHaveText('2 天前');
    await expect(staleBlock.getByTestId('freshness')).toHaveText('已过时');
    await expect(staleBlock.getByTestId('stale-note')).toContainText('超过 24 小时');
    await expect(staleBlock.getByTestId('stale-note')).toContainText('可能已不准确');
    // Greyed: the crowding word loses its colour.
    const colour = await staleBlock
      .getByTestId('crowding')
      .evaluate((el) => getComputedStyle(el).color);
    expect(colour).toBe('rgb(77, 77, 77)');

    // No report yet.
    const seededIds = new Set([...statuses.map((s) => s.record.id), history.record.id]);
    const silent = seeded.data.all.find((r) => !seededIds.has(r.id))!;
    await page.goto(`/facility/${silent.id}`);
    await expect(page.getByTestId('no-status')).toHaveText('还没有医生上报这里的接诊情况。');
    await expect(page.getByTestId('history-empty')).toBeVisible();
    guard.assertClean();
  },
);

withStatuses(
  'offline, statuses come from IndexedDB and the chart from the last answer kept',
  async ({ page, context, seeded }) => {
    const guard = watchPage(page);
    const { statuses, history, all } = seeded.data;
    await page.goto(`/facility/${history.record.id}`);
    await expect(page.getByTestId('load-history')).toHaveAttribute('data-state', 'online');
    await page.goto('/');
    await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');
    await controlledByServiceWorker(page);

    await context.setOffline(true);
    await page.reload();
    await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
    await expect(page.locator('[data-testid=facility-list] li a')).toHaveCount(all.length);
    for (const s of statuses) await expectStatusInList(page, s);
    await page.getByTestId('filter-short-wait').check();
    expect(await listedSet(page)).toEqual(
      new Set(statuses.filter((s) => s.shortWait).map((s) => s.record.id)),
    );

    // The page seen online: its status, and its chart as last loaded, said to be a copy.
    await page.goto(`/facility/${history.record.id}`);
    await expect(page.getByTestId('load-status')).toHaveAttribute('data-crowding', 'high');
    const chart = page.getByTestId('load-history');
    await expect(chart).toHaveAttribute('data-state', 'cached');
    await expect(chart.getByTestId('history-note')).toContainText(/^离线：显示 .*保存的数据$/);
    const today = history.days[6]!;
    await expect(
      page.getByTestId('load-chart').locator(`g[data-date="${today.date}"] rect.bar-outpatients`),
    ).toHaveAttribute('data-value', String(today.outpatients));

    // A page never seen online: the status (from the registry) but no chart.
    const other = statuses.find((s) => s.crowding === 'medium')!;
    await page.goto(`/facility/${other.record.id}`);
    await expect(page.getByTestId('load-status')).toHaveAttribute('data-crowding', 'medium');
    await expect(page.getByTestId('load-history')).toHaveAttribute('data-state', 'offline');
    await expect(page.getByTestId('history-note')).toHaveText('离线，无法加载近 7 天数据');
    await context.setOffline(false);
    guard.assertClean();
  },
);
