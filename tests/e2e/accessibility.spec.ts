// WCAG 2.1 AA on every page, in both languages and in both text modes, checked by axe-core (from
// npm, package-lock.json; its script is evaluated in the page, never fetched from a CDN), and the
// large-text mode (大字模式) itself: one tap in the header, 22 px text, 48 x 48 px targets,
// remembered across reloads and applied before the app starts.
import { test, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import { liveFacilities, singleMarker, watchPage, withStatuses, type Seeded } from './helpers';

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

type Lang = 'zh-CN' | 'en';
type Mode = 'normal' | 'large';

/** Stores the language and the text mode as the app remembers them, before the page starts. */
async function choose(page: Page, lang: Lang, mode: Mode) {
  await page.goto('/not-a-page-just-for-storage');
  await page.evaluate(
    ([l, m]) => {
      localStorage.setItem('caremap.lang', l);
      if (m === 'large') localStorage.setItem('caremap.large-text', '1');
      else localStorage.removeItem('caremap.large-text');
    },
    [lang, mode],
  );
}

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now, violations as readable text. */
async function axeViolations(page: Page): Promise<string[]> {
  // page.evaluate is not subject to the page's CSP (an injected <script> would be).
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (tags) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const axe = (window as any).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      nodes: v.nodes.map((n: any) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  }, TAGS);
  return violations.map(
    (v: { id: string; impact: string; help: string; nodes: string[] }) =>
      `[${v.impact}] ${v.id}: ${v.help}\n  ${v.nodes.join('\n  ')}`,
  );
}

/** axe's AAA contrast rule (7:1, 4.5:1 for large text): what large-text mode promises. */
async function enhancedContrastViolations(page: Page): Promise<string[]> {
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const axe = (window as any).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'rule', values: ['color-contrast-enhanced'] },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return result.violations.flatMap((v: any) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      v.nodes.map((n: any) => `${n.target.join(' ')}: ${n.failureSummary}`),
    );
  });
  return violations as string[];
}

/**
 * Buttons and links (anywhere on the page: header, sync bar, main content, map controls)
 * smaller than 48 x 48 px. WCAG 2.5.5's inline exception is kept narrow: a link that is
 * `display: inline` inside a line of other text (a sentence, the map's attribution) is sized by
 * that text's line height and is not counted. Hidden elements are not counted.
 */
async function measureTargets(
  page: Page,
): Promise<{ measured: number; inline: string[]; small: string[] }> {
  return page.evaluate(() => {
    const small: string[] = [];
    const inline: string[] = [];
    let measured = 0;
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('body a[href], body button'))) {
      if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: false })) continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      const style = getComputedStyle(el);
      if (style.display === 'inline') {
        const block = el.parentElement;
        const own = (el.textContent ?? '').trim();
        const around = (block?.textContent ?? '').trim();
        if (block && own.length > 0 && around.length > own.length) {
          inline.push(own);
          continue;
        }
      }
      measured += 1;
      if (box.width < 48 || box.height < 48) {
        const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40);
        small.push(
          `<${el.tagName.toLowerCase()} class="${el.className}"> "${name}" ` +
            `${box.width.toFixed(1)} x ${box.height.toFixed(1)}`,
        );
      }
    }
    return { measured, inline, small };
  });
}

/** The page has finished starting: the registry is shown and the sync has settled. */
async function settled(page: Page) {
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', /synced|offline/);
  await expect(page.getByTestId('large-text-toggle')).toBeVisible();
}

let facilityId = '';
test.beforeAll(async ({ request }) => {
  const facilities = await liveFacilities(request);
  // A facility page with everything on it: hours, phone, address.
  const record =
    facilities.find(
      (r) => r.facility!.kind === 'fever_clinic' && r.facility!.phone && r.facility!.opening_hours,
    ) ?? facilities[0];
  facilityId = record.id;
});

const PAGES: { name: string; path: () => string; ready: (page: Page) => Promise<void> }[] = [
  {
    name: 'map page',
    path: () => '/',
    ready: async (page) => {
      await expect(page.locator('#map .leaflet-marker-icon').first()).toBeVisible();
      await expect(page.getByTestId('facility-list')).toBeVisible();
    },
  },
  {
    name: 'map page with a search point',
    path: () => '/?near=30.04360,121.15720',
    ready: async (page) => {
      await expect(page.getByTestId('distance').first()).toBeVisible();
      await expect(page.locator('.position-marker')).toHaveCount(1);
    },
  },
  {
    name: 'facility page',
    path: () => `/facility/${facilityId}`,
    ready: async (page) => {
      await expect(page.getByTestId('facility-detail').locator('h1')).toBeVisible();
      await expect(page.getByTestId('call-button')).toBeVisible();
    },
  },
  {
    name: 'not-found page',
    path: () => '/no/such/page',
    ready: async (page) => {
      await expect(page.getByTestId('not-found')).toBeVisible();
    },
  },
];

/** Opens `path` in `lang` and `mode` and checks it: axe's WCAG 2.1 A/AA rules, body text size,
 * and in large mode 48 px targets and AAA contrast. */
async function audit(
  page: Page,
  lang: Lang,
  mode: Mode,
  path: string,
  ready: (page: Page) => Promise<void>,
) {
  const guard = watchPage(page);
  await choose(page, lang, mode);
  await page.goto(path);
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
  await settled(page);
  await ready(page);
  const large = mode === 'large';
  await expect(page.locator('html')).toHaveClass(large ? /\blarge-text\b/ : /^(?!.*\blarge-text\b)/);
  await expect(page.getByTestId('large-text-toggle')).toHaveAttribute('aria-pressed', String(large));

  const violations = await axeViolations(page);
  expect(violations, `axe on ${path} (${lang}, ${mode}):\n${violations.join('\n')}`).toEqual([]);

  const bodySize = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  expect(bodySize).toBeGreaterThanOrEqual(18);
  if (large) {
    expect(bodySize).toBeGreaterThanOrEqual(20);
    const { measured, inline, small } = await measureTargets(page);
    // At least the header's three (home, large text, language) were measured.
    expect(measured).toBeGreaterThanOrEqual(3);
    // The only inline links are those of the map's attribution line.
    for (const text of inline) expect(['Leaflet', 'OpenStreetMap']).toContain(text);
    expect(small, `targets under 48 x 48 px:\n${small.join('\n')}`).toEqual([]);
    const weak = await enhancedContrastViolations(page);
    expect(weak, `contrast under 7:1 in large-text mode:\n${weak.join('\n')}`).toEqual([]);
  }
  guard.assertClean();
}

for (const lang of ['zh-CN', 'en'] as Lang[]) {
  for (const mode of ['normal', 'large'] as Mode[]) {
    for (const p of PAGES) {
      test(`axe: no WCAG 2.1 AA violations on the ${p.name}, ${lang}, ${mode} text`, async ({
        page,
      }) => {
        await audit(page, lang, mode, p.path(), p.ready);
      });
    }
  }
}

// The load status (issue 6) on a server of the tests' own with statuses seeded through the push
// API: crowding badges and words, stale marks, shortages, the status filters and their rule,
// the facility page's status block (fresh and stale) and its 7-day chart and table.
const STATUS_PAGES: { name: string; path: (d: Seeded) => string; ready: (page: Page) => Promise<void> }[] = [
  {
    name: 'map page with statuses, nearest first',
    path: () => '/?near=30.04360,121.15720',
    ready: async (page) => {
      await expect(page.getByTestId('facility-status').first()).toBeVisible();
      await expect(page.getByTestId('stale-mark').first()).toBeVisible();
      await expect(page.getByTestId('legend-crowding')).toBeVisible();
    },
  },
  {
    name: 'map page filtered by antigen kits and short wait',
    path: () => '/?kits=1&short=1',
    ready: async (page) => {
      await expect(page.getByTestId('filter-antigen-kits')).toBeChecked();
      await expect(page.getByTestId('facility-status').first()).toBeVisible();
    },
  },
  {
    name: 'facility page with a status and a 7-day chart',
    path: (d) => `/facility/${d.history.record.id}`,
    ready: async (page) => {
      await expect(page.getByTestId('load-status')).toHaveAttribute('data-state', 'fresh');
      await expect(page.getByTestId('load-chart')).toBeVisible();
      await expect(page.getByTestId('load-table')).toBeVisible();
    },
  },
  {
    name: 'facility page with a stale status',
    path: (d) => `/facility/${d.statuses.find((s) => s.stale)!.record.id}`,
    ready: async (page) => {
      await expect(page.getByTestId('stale-note')).toBeVisible();
      await expect(page.getByTestId('load-history')).toHaveAttribute('data-state', /online|cached/);
    },
  },
];

for (const lang of ['zh-CN', 'en'] as Lang[]) {
  for (const mode of ['normal', 'large'] as Mode[]) {
    for (const p of STATUS_PAGES) {
      withStatuses(`axe: no WCAG 2.1 AA violations on the ${p.name}, ${lang}, ${mode} text`, async ({
        page,
        seeded,
      }) => {
        await audit(page, lang, mode, p.path(seeded.data), p.ready);
      });
    }
  }
}

/**
 * Waits until the open popup has faded in (Leaflet's 0.2 s opacity transition): axe measures
 * the colours as drawn, and half-way through the fade the text is lighter than it will be.
 */
async function popupFadedIn(page: Page) {
  await expect(page.locator('.leaflet-popup')).toHaveCSS('opacity', '1');
}

for (const mode of ['normal', 'large'] as Mode[]) {
  withStatuses(`a marker's popup with a status on a phone, ${mode} text: axe finds nothing`, async ({
    page,
    seeded,
  }) => {
    const guard = watchPage(page);
    await page.setViewportSize({ width: 360, height: 740 });
    const stale = seeded.data.statuses.find((s) => s.stale)!;
    await choose(page, 'zh-CN', mode);
    const marker = await singleMarker(page, stale.record);
    await settled(page);
    await marker.click({ force: true });
    await expect(page.locator('.leaflet-popup-content').getByTestId('popup-status').first()).toBeVisible();
    await popupFadedIn(page);
    const violations = await axeViolations(page);
    expect(violations, `axe with a status popup open (${mode}):\n${violations.join('\n')}`).toEqual([]);
    if (mode === 'large') {
      const weak = await enhancedContrastViolations(page);
      expect(weak, `contrast under 7:1 in large-text mode:\n${weak.join('\n')}`).toEqual([]);
    }
    guard.assertClean();
  });
}

test('large text is one tap away, remembered across reloads and on before the app starts', async ({
  page,
}) => {
  const guard = watchPage(page);
  await choose(page, 'zh-CN', 'normal');
  await page.goto('/');
  await settled(page);
  const toggle = page.getByTestId('large-text-toggle');
  const html = page.locator('html');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(toggle).toHaveText('大字');
  const before = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  expect(before).toBeGreaterThanOrEqual(18);

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await expect(html).toHaveClass(/\blarge-text\b/);
  const after = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  expect(after).toBeGreaterThan(before);
  expect(await page.evaluate(() => localStorage.getItem('caremap.large-text'))).toBe('1');

  // Reload, noting what <html> says at the moment <body> is inserted, before anything of the
  // page can be drawn: the class is already there (public/boot.js ran in the head), so a
  // resident who chose large text never sees small text while the app starts.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body) {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        (window as any).largeAtFirstBody = document.documentElement.className;
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await page.reload();
  await settled(page);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  expect(await page.evaluate(() => (window as any).largeAtFirstBody)).toMatch(/\blarge-text\b/);
  await expect(html).toHaveClass(/\blarge-text\b/);
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');

  // Survives a reload and a change of language; a second tap turns it off for good.
  await page.getByTestId('lang-switch').click();
  await expect(html).toHaveAttribute('lang', 'en');
  await expect(toggle).toHaveText('Large text');
  await expect(page.locator('.leaflet-control-zoom-in')).toHaveAttribute('aria-label', 'Zoom in');
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await page.reload();
  await settled(page);
  await expect(html).toHaveClass(/\blarge-text\b/);
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(html).not.toHaveClass(/\blarge-text\b/);
  await page.reload();
  await settled(page);
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(html).not.toHaveClass(/\blarge-text\b/);
  guard.assertClean();
});

for (const mode of ['normal', 'large'] as Mode[]) {
  test(`a marker's popup on a phone, ${mode} text: axe finds nothing, targets fit`, async ({
    page,
    request,
  }) => {
    const guard = watchPage(page);
    await page.setViewportSize({ width: 360, height: 740 });
    const facilities = await liveFacilities(request);
    const record = facilities.find((r) => r.facility!.kind === 'fever_clinic')!;
    await choose(page, 'zh-CN', mode);
    // The marker alone (zoomed in past its cluster), with a search point just south of it.
    const marker = await singleMarker(page, record);
    await settled(page);
    await marker.click({ force: true });
    // Leaflet's zoom buttons are named in the interface's language, not Leaflet's English.
    await expect(page.locator('.leaflet-control-zoom-in')).toHaveAttribute('aria-label', '放大');
    await expect(page.locator('.leaflet-control-zoom-out')).toHaveAttribute('aria-label', '缩小');
    const popup = page.locator('.leaflet-popup-content');
    await expect(popup).toContainText(record.facility!.name.zh);
    await popupFadedIn(page);

    const violations = await axeViolations(page);
    expect(violations, `axe with a popup open (${mode}):\n${violations.join('\n')}`).toEqual([]);
    // Nothing is wider than the phone: the header wraps instead.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    if (mode === 'large') {
      const { small } = await measureTargets(page);
      expect(small, `targets under 48 x 48 px:\n${small.join('\n')}`).toEqual([]);
      const weak = await enhancedContrastViolations(page);
      expect(weak, `contrast under 7:1 in large-text mode:\n${weak.join('\n')}`).toEqual([]);
    }
    guard.assertClean();
  });
}
