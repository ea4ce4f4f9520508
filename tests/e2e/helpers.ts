// Shared helpers of the end-to-end tests: the registry as the server reports it, and a guard
// that fails a test on any CSP violation or uncaught error in the page.
import { expect, type APIRequestContext, type Page } from '@playwright/test';

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
export async function liveFacilities(request: APIRequestContext): Promise<FacilityRecord[]> {
  const byId = new Map<string, FacilityRecord>();
  let since = '';
  for (;;) {
    const res = await request.get(`/api/v1/registry?since=${since}&limit=1000`);
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
