// The village doctor's side, as a doctor lives it: enrolling the phone with the code the health
// office printed, reporting with no signal, closing the browser, and the reports reaching the
// server once each when the signal is back — also when the server dies in the middle of a push.
// A report the server refuses is shown with its reason in Chinese and can be fixed.
//
// Each test runs its own server on its own SQLite database (seeded with the demo registry), so
// that it can create accounts with the CLI, kill the server and restart it on the same database.
import {
  test,
  expect,
  type BrowserContext,
  type LaunchOptions,
  type Page,
} from '@playwright/test';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { controlledByServiceWorker, distDir, serverBin, watchPage, type FacilityRecord } from './helpers';

const repoRoot = path.resolve(__dirname, '../..');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now, violations as readable text. */
async function axeViolations(page: Page): Promise<string[]> {
  // page.evaluate is not subject to the page's CSP (an injected <script> would be).
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const axe = (window as any).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return result.violations.map((v: any) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      `[${v.impact}] ${v.id}: ${v.help}\n  ${v.nodes.map((n: any) => n.target.join(' ')).join('\n  ')}`,
    );
  });
}

/** The visible buttons, links, fields and choices of the report page smaller than 48 x 48 px. */
async function smallTargets(page: Page): Promise<string[]> {
  return page.locator('main').evaluate((main) =>
    [...main.querySelectorAll('button, a, input:not([type=radio]), textarea, label.choice')]
      .map((el) => ({ el, box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.width > 0 && (box.height < 48 || box.width < 48))
      .map(({ el, box }) => `${el.outerHTML.slice(0, 80)} ${box.width}x${box.height}`),
  );
}

type ReportRecord = {
  id: string;
  report: {
    facility: string;
    status: string;
    outpatients_today?: number;
    fever_patients_today?: number;
    wait_minutes?: number;
    supersedes?: string;
  };
  superseded?: boolean;
};

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

/** A server on a database of the test's own, which the test may kill and start again. */
class DoctorServer {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-reporting-'));
  readonly database = `sqlite://${path.join(this.dir, 'reports.sqlite')}`;
  port = 0;
  child: ChildProcess | null = null;

  get baseURL() {
    return `http://127.0.0.1:${this.port}`;
  }

  cli(...args: string[]): string {
    return execFileSync(serverBin, ['--database', this.database, ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, RUST_LOG: 'warn' },
    });
  }

  /** A village doctor's account for `facilities`: its id and its one-time code. */
  addDoctor(name: string, facilities: string[]): { account: string; code: string } {
    const out = this.cli(
      'user', 'add', '--name', name, '--role', 'reporter',
      ...facilities.flatMap((f) => ['--facility', f]),
    );
    const account = out.match(/^account: (\d+)$/m)?.[1];
    const code = out.match(/^code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/m)?.[1];
    if (!account || !code) throw new Error(`no account or code in:\n${out}`);
    return { account, code };
  }

  async start() {
    if (!this.port) {
      this.cli('demo');
      this.port = await freePort();
    }
    const child = spawn(
      serverBin,
      ['--database', this.database, 'serve', '--dist', distDir, '--addr', `127.0.0.1:${this.port}`,
        '--tile-url', `${this.baseURL}/e2e-no-tiles/{z}/{x}/{y}.png`],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } },
    );
    this.child = child;
    for (let tries = 0; ; tries++) {
      try {
        if ((await fetch(`${this.baseURL}/api/v1/health`)).ok) return;
      } catch {
        // not listening yet
      }
      if (tries > 300 || child.exitCode !== null) throw new Error('caremap-server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server with `signal` (SIGKILL: no shutdown at all) and waits until it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  async dispose() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** `n` village clinics no one has reported for yet (the demo registry has reports for some). */
  async quietClinics(n: number): Promise<FacilityRecord[]> {
    const quiet: FacilityRecord[] = [];
    for (const record of await live(this.baseURL)) {
      if (record.facility!.kind !== 'village_clinic') continue;
      if ((await this.reports(record.id)).length === 0) quiet.push(record);
      if (quiet.length === n) break;
    }
    expect(quiet).toHaveLength(n);
    return quiet;
  }

  /** The facility's reports as the server holds them (the public history endpoint). */
  async reports(facility: string): Promise<ReportRecord[]> {
    const res = await fetch(`${this.baseURL}/api/v1/facilities/${facility}/reports?days=30`);
    expect(res.ok).toBeTruthy();
    return (await res.json()).reports;
  }
}

/** A browser with a profile on disk, so that closing and reopening it keeps IndexedDB. */
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
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

const entries = (page: Page) => page.getByTestId('report-entry');
const entriesIn = (page: Page, state: string) =>
  page.locator(`[data-testid=report-entry][data-state=${state}]`);

/** Enrolls the phone with `code` on the report page. */
async function enroll(page: Page, code: string, name: string) {
  await page.goto('/report');
  await expect(page.getByTestId('enroll-form')).toBeVisible();
  // The code as a doctor may type it: lower case, no dashes.
  await page.getByTestId('enroll-code').fill(code.replace(/-/g, '').toLowerCase());
  await page.getByTestId('enroll-device').fill('王医生的手机');
  await page.getByTestId('enroll-submit').click();
  await expect(page.getByTestId('account-name')).toHaveText(name);
  await expect(page.getByTestId('account-role')).toHaveText('医生/填报员');
}

type Figures = { status: 'open' | 'reduced' | 'closed'; outpatients: number; fever: number; wait: number; doctors: number };

/** Fills the report form and saves it; the report shows at once as waiting to be sent. */
async function submitReport(page: Page, f: Figures, antigen?: 'ample' | 'low' | 'out') {
  const before = await entries(page).count();
  await page.getByTestId(`report-status-${f.status}`).check();
  await page.getByLabel('今日门诊人数').fill(String(f.outpatients));
  await page.getByLabel('今日发热病人数').fill(String(f.fever));
  await page.getByLabel('当前候诊时间（分钟）').fill(String(f.wait));
  await page.getByLabel('在岗医生数').fill(String(f.doctors));
  if (antigen) await page.getByTestId(`stock-antigen_kits-${antigen}`).check();
  await page.getByTestId('report-submit').click();
  await expect(page.getByTestId('report-saved')).toContainText('已保存在手机上');
  await expect(entries(page)).toHaveCount(before + 1);
  // The form is empty again for the next report.
  await expect(page.getByLabel('今日门诊人数')).toHaveValue('');
}

test.describe.configure({ mode: 'serial' });

test('a doctor enrolls, reports three times with no signal, closes the browser, and the server gets each report once when the signal is back', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(180_000);
  const server = new DoctorServer();
  await server.start();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-doctor-'));
  try {
    const [clinic] = await server.quietClinics(1);
    const { code } = server.addDoctor('王医生', [clinic.id]);

    let { context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    let guard = watchPage(page);
    await enroll(page, code, '王医生');
    await expect(page.getByTestId('account-facilities')).toContainText(clinic.facility!.name.zh);
    // One facility: nothing to choose.
    await expect(page.getByTestId('report-facility')).toContainText(clinic.facility!.name.zh);
    await controlledByServiceWorker(page);

    // The phone refuses what the server would, beside the field, and keeps what was typed.
    await page.getByTestId('report-status-open').check();
    await page.getByLabel('今日门诊人数').fill('12');
    await page.getByLabel('今日发热病人数').fill('30');
    await page.getByLabel('当前候诊时间（分钟）').fill('很久');
    await page.getByTestId('report-submit').click();
    const fever = page.getByLabel('今日发热病人数');
    await expect(fever).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#report-fever-error')).toHaveText(
      '今日发热病人数（30）不能多于今日门诊人数（12）',
    );
    await expect(page.locator('#report-wait-error')).toHaveText(
      '当前候诊时间（分钟）应为整数，“很久”不是',
    );
    await expect(fever).toHaveValue('30');
    await expect(page.getByLabel('当前候诊时间（分钟）')).toHaveValue('很久');
    await expect(entries(page)).toHaveCount(0);

    // No signal: three reports, each shown at once as waiting.
    await context.setOffline(true);
    const figures: Figures[] = [
      { status: 'open', outpatients: 40, fever: 12, wait: 15, doctors: 2 },
      { status: 'open', outpatients: 80, fever: 30, wait: 35, doctors: 2 },
      { status: 'reduced', outpatients: 120, fever: 55, wait: 60, doctors: 1 },
    ];
    await submitReport(page, figures[0]);
    await submitReport(page, figures[1], 'low');
    await submitReport(page, figures[2], 'out');
    await expect(entriesIn(page, 'pending')).toHaveCount(3);
    await expect(entriesIn(page, 'pending').first()).toContainText('等待发送');
    // Newest first.
    await expect(entries(page).first()).toContainText('部分开诊');
    await expect(page.getByTestId('unsent-count')).toHaveText('3');
    await expect(page.getByTestId('outbox-status')).toHaveAttribute('data-state', 'offline');
    const ids = await entries(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
    expect(new Set(ids).size).toBe(3);
    expect(await server.reports(clinic.id)).toEqual([]);
    guard.assertClean();
    await context.close();

    // Later, still without signal, the doctor opens the app again: the reports are there.
    ({ context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL));
    guard = watchPage(page);
    await context.setOffline(true);
    await page.goto('/report');
    await expect(entriesIn(page, 'pending')).toHaveCount(3);
    // The pushes the server answered (an attempt made while offline fails in the browser).
    const pushes: string[][] = [];
    page.on('response', (res) => {
      if (res.url().endsWith('/api/v1/push') && res.ok()) {
        const body = JSON.parse(res.request().postData() ?? '{}');
        pushes.push(body.mutations.map((m: { id: string }) => m.id));
      }
    });

    // The signal is back: the `online` event sends them, oldest first, in one push.
    await context.setOffline(false);
    await expect(entriesIn(page, 'sent')).toHaveCount(3, { timeout: 30_000 });
    await expect(entriesIn(page, 'sent').first()).toContainText('已发送');
    await expect(page.getByTestId('unsent-count')).toHaveCount(0);
    expect(pushes).toEqual([[...ids].reverse()]);

    const stored = await server.reports(clinic.id);
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
    const newest = stored.find((r) => r.id === ids[0])!;
    expect(newest.report).toMatchObject({
      status: 'reduced', outpatients_today: 120, fever_patients_today: 55, wait_minutes: 60,
    });

    // Residents see the newest status: in the registry feed, and on the facility's page.
    await expect
      .poll(async () => {
        const records = await registryRecords(server.baseURL);
        return records.get(clinic.id)?.status?.report;
      })
      .toBe(ids[0]);
    const record = (await registryRecords(server.baseURL)).get(clinic.id)!;
    expect(record.status).toMatchObject({ status: 'reduced', wait_minutes: 60 });
    await page.goto(`/facility/${clinic.id}`);
    await expect(page.getByTestId('facility-detail').locator('h1')).toHaveText(clinic.facility!.name.zh);
    const load = page.getByTestId('load-status');
    await expect(load).toContainText('部分开诊', { timeout: 30_000 });
    await expect(load).toContainText('60');

    // A correction replaces a sent report: a new report that supersedes it.
    await page.goto('/report');
    const oldest = page.locator(`[data-testid=report-entry][data-id="${ids[2]}"]`);
    await oldest.getByTestId('correct').click();
    await expect(page.getByTestId('form-mode')).toHaveAttribute('data-mode', 'correct');
    await expect(page.getByLabel('今日门诊人数')).toHaveValue('40');
    await page.getByLabel('今日门诊人数').fill('45');
    await page.getByTestId('report-submit').click();
    await expect(entriesIn(page, 'sent')).toHaveCount(4, { timeout: 30_000 });
    await expect(oldest.getByTestId('corrected')).toBeVisible();
    // The public history lists what stands: the replaced report gives way to its correction,
    // stored once.
    const afterCorrection = await server.reports(clinic.id);
    expect(afterCorrection).toHaveLength(3);
    expect(afterCorrection.find((r) => r.id === ids[2])).toBeUndefined();
    const corrections = afterCorrection.filter((r) => r.report.supersedes === ids[2]);
    expect(corrections).toHaveLength(1);
    expect(corrections[0].report).toMatchObject({ outpatients_today: 45 });
    guard.assertClean();
    await context.close();
  } finally {
    await server.dispose();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('the server killed in the middle of a push and started again on the same database holds each report once', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(180_000);
  const server = new DoctorServer();
  await server.start();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-doctor-'));
  try {
    const [clinic] = await server.quietClinics(1);
    const { code } = server.addDoctor('李医生', [clinic.id]);
    const { context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    await enroll(page, code, '李医生');

    await context.setOffline(true);
    await submitReport(page, { status: 'open', outpatients: 10, fever: 2, wait: 5, doctors: 1 });
    await submitReport(page, { status: 'open', outpatients: 20, fever: 4, wait: 10, doctors: 1 });
    await submitReport(page, { status: 'closed', outpatients: 30, fever: 6, wait: 0, doctors: 0 });
    const ids = await entries(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));

    // The first push reaches the server, which stores the reports; then the server dies
    // (SIGKILL) before the phone hears the answer.
    let pushes = 0;
    let killed!: () => void;
    const serverKilled = new Promise<void>((resolve) => (killed = resolve));
    await page.route('**/api/v1/push', async (route) => {
      pushes += 1;
      if (pushes > 1) return route.continue();
      const response = await route.fetch();
      expect(response.status()).toBe(200);
      await server.stop('SIGKILL');
      killed();
      await route.abort('connectionreset');
    });
    await context.setOffline(false);
    await serverKilled;
    await expect(page.getByTestId('outbox-status')).toHaveAttribute('data-state', /retrying|offline/);
    await expect(entriesIn(page, 'pending')).toHaveCount(3);

    // The server comes back on the same database; the phone's retry is answered `duplicate`.
    await server.start();
    await expect(entriesIn(page, 'sent')).toHaveCount(3, { timeout: 60_000 });
    expect(pushes).toBeGreaterThanOrEqual(2);
    const stored = await server.reports(clinic.id);
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());

    // And once more after another restart: nothing was doubled.
    await server.stop('SIGKILL');
    await server.start();
    expect((await server.reports(clinic.id)).length).toBe(3);
    await context.close();
  } finally {
    await server.dispose();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('a report the server refuses is shown with its reason in Chinese, and the fixed one is sent instead', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(120_000);
  const server = new DoctorServer();
  await server.start();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-doctor-'));
  try {
    const clinics = await server.quietClinics(2);
    const { code } = server.addDoctor('张医生', clinics.map((c) => c.id));
    const { context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    const guard = watchPage(page);
    // The phone's clock is two hours fast: its report is "in the future" for the server.
    await page.clock.install({ time: new Date(Date.now() + 2 * 3600_000) });
    await enroll(page, code, '张医生');

    // Two facilities: the doctor must choose.
    const picker = page.getByTestId('report-facility-picker');
    await expect(picker.getByRole('radio')).toHaveCount(2);
    await page.getByTestId('report-status-open').check();
    await page.getByLabel('今日门诊人数').fill('50');
    await page.getByTestId('report-submit').click();
    await expect(page.locator('#report-facility-error')).toHaveText('请填写机构');
    await picker.getByLabel(clinics[1].facility!.name.zh).check();
    await page.getByTestId('report-submit').click();

    const refused = entriesIn(page, 'rejected');
    await expect(refused).toHaveCount(1, { timeout: 30_000 });
    await expect(refused).toContainText('被拒收');
    await expect(refused.getByTestId('reject-reason')).toContainText(
      '填报时间在将来：请检查手机的日期和时间',
    );
    await expect(page.getByTestId('unsent-count')).toHaveText('1');
    const refusedId = await refused.getAttribute('data-id');
    expect(await server.reports(clinics[1].id)).toEqual([]);

    // The page with a refused report, a form and its errors passes axe, and every target is
    // at least 48 px, in both text modes.
    await page.getByLabel('今日发热病人数').fill('很多');
    await page.getByTestId('report-submit').click();
    await expect(page.getByLabel('今日发热病人数')).toHaveAttribute('aria-invalid', 'true');
    for (const large of [false, true]) {
      if (large) await page.getByTestId('large-text-toggle').click();
      const violations = await axeViolations(page);
      expect(violations, violations.join('\n')).toEqual([]);
      expect(await smallTargets(page)).toEqual([]);
    }
    await page.getByTestId('large-text-toggle').click();
    await page.getByLabel('今日发热病人数').fill('');

    // In English the reason is the model's English words.
    await page.getByTestId('lang-switch').click();
    await expect(refused.getByTestId('reject-reason')).toContainText(
      'The report time is in the future',
    );
    await page.getByTestId('lang-switch').click();

    // The clock is put right; "fix" brings the figures back into the form, sent as a new report.
    await page.clock.setSystemTime(new Date());
    await refused.getByTestId('fix').click();
    await expect(page.getByTestId('form-mode')).toHaveAttribute('data-mode', 'fix');
    await expect(page.getByLabel('今日门诊人数')).toHaveValue('50');
    await page.getByTestId('report-submit').click();
    await expect(entriesIn(page, 'sent')).toHaveCount(1, { timeout: 30_000 });
    await expect(entriesIn(page, 'rejected')).toHaveCount(0);
    const stored = await server.reports(clinics[1].id);
    expect(stored).toHaveLength(1);
    expect(stored[0].id).not.toBe(refusedId);
    expect(stored[0].report.outpatients_today).toBe(50);
    guard.assertClean();
    await context.close();
  } finally {
    await server.dispose();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('a revoked phone says so and keeps its unsent reports until a new code is entered', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(120_000);
  const server = new DoctorServer();
  await server.start();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-doctor-'));
  try {
    const [clinic] = await server.quietClinics(1);
    const first = server.addDoctor('赵医生', [clinic.id]);
    const { context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    const guard = watchPage(page);
    await enroll(page, first.code, '赵医生');

    // The health office revokes the account; the next push is answered 401.
    server.cli('user', 'revoke', first.account);
    await context.setOffline(true);
    await submitReport(page, { status: 'open', outpatients: 9, fever: 1, wait: 5, doctors: 1 });
    await context.setOffline(false);
    await expect(page.getByTestId('revoked')).toContainText('这部手机的填报权限已被撤销');
    await expect(page.getByTestId('outbox-status')).toHaveAttribute('data-state', 'revoked');
    await expect(entriesIn(page, 'pending')).toHaveCount(1);

    // A wrong code is refused beside the field, in the server's words.
    await page.getByTestId('enroll-code').fill('ABCD-EFGH-JKMN');
    await page.getByTestId('enroll-submit').click();
    await expect(page.getByTestId('enroll-code')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByTestId('enroll-code-error')).not.toBeEmpty();
    // The health office gives a new code (a new account for the same clinic).
    const second = server.addDoctor('赵医生', [clinic.id]);
    await page.getByTestId('enroll-code').fill(second.code);
    await page.getByTestId('enroll-submit').click();
    await expect(page.getByTestId('account-name')).toHaveText('赵医生');
    await expect(entriesIn(page, 'sent')).toHaveCount(1, { timeout: 30_000 });
    expect(await server.reports(clinic.id)).toHaveLength(1);
    guard.assertClean();
    await context.close();
  } finally {
    await server.dispose();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('reports left unsent at sign-out wait for their own account, never go with the next one', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(150_000);
  const server = new DoctorServer();
  await server.start();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-doctor-'));
  try {
    const [clinic] = await server.quietClinics(1);
    const zhao = server.addDoctor('赵医生', [clinic.id]);
    const { context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    const guard = watchPage(page);
    await enroll(page, zhao.code, '赵医生');
    await context.setOffline(true);
    await submitReport(page, { status: 'open', outpatients: 12, fever: 2, wait: 10, doctors: 1 });

    // Signing out says what stays behind, and for whom.
    const question = new Promise<string>((resolve) => {
      page.once('dialog', async (dialog) => {
        resolve(dialog.message());
        await dialog.accept();
      });
    });
    await page.getByTestId('sign-out').click();
    expect(await question).toContain('1 份报告尚未发送');
    expect(await question).toContain('赵医生');
    await expect(page.getByTestId('enroll-form')).toBeVisible();

    // A colleague enrolls on the phone, with signal, and reports for the same clinic: hers
    // goes; 赵医生's waits for him, shown as such.
    await context.setOffline(false);
    const qian = server.addDoctor('钱医生', [clinic.id]);
    await enroll(page, qian.code, '钱医生');
    await submitReport(page, { status: 'open', outpatients: 30, fever: 4, wait: 15, doctors: 2 });
    await expect(entriesIn(page, 'sent')).toHaveCount(1, { timeout: 30_000 });
    await expect(entriesIn(page, 'held')).toHaveCount(1);
    await expect(entriesIn(page, 'held')).toContainText('赵医生');
    expect(await server.reports(clinic.id)).toHaveLength(1);

    // 赵医生 gets a new code for his account and enrolls again: his report goes now.
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByTestId('sign-out').click();
    const again = server.cli('user', 'code', zhao.account).match(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/)?.[0];
    if (!again) throw new Error('no code for the account');
    await enroll(page, again, '赵医生');
    await expect(entriesIn(page, 'held')).toHaveCount(0, { timeout: 30_000 });
    await expect.poll(async () => (await server.reports(clinic.id)).length, { timeout: 30_000 }).toBe(2);
    guard.assertClean();
    await context.close();
  } finally {
    await server.dispose();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

/** The registry feed's records by id (with their load status). */
async function registryRecords(
  baseURL: string,
): Promise<Map<string, FacilityRecord & { status?: { report: string; status: string; wait_minutes?: number } }>> {
  const byId = new Map();
  let since = '';
  for (;;) {
    const res = await fetch(`${baseURL}/api/v1/registry?since=${since}&limit=1000`);
    const page = await res.json();
    for (const item of page.items) byId.set(item.id, item);
    since = page.cursor;
    if (!page.has_more) break;
  }
  return byId;
}

/** The live facilities the server holds. */
async function live(baseURL: string): Promise<FacilityRecord[]> {
  return [...(await registryRecords(baseURL)).values()].filter((r) => !r.deleted && r.facility);
}

/** The paths in the staff app's cache (public/staff-cache.js): its shell and /staff/ files. */
async function staffCache(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const cache = await caches.open('caremap-staff');
    return (await cache.keys()).map((request) => new URL(request.url).pathname).sort();
  });
}

test('an enrolled phone opens the doctor\'s page with no network, after a reload and after a cold start, and the report written offline is sent when the signal is back', async ({
  playwright,
  launchOptions,
}) => {
  test.setTimeout(180_000);
  const server = new DoctorServer();
  await server.start();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-staff-'));
  try {
    const [clinic] = await server.quietClinics(1);
    const { code } = server.addDoctor('李医生', [clinic.id]);

    let { context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL);
    let guard = watchPage(page);
    // The doctor's page is the staff app, a wasm of its own under /staff/.
    const wasm: string[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('.wasm')) wasm.push(new URL(req.url()).pathname);
    });
    await enroll(page, code, '李医生');
    expect(wasm.length).toBeGreaterThan(0);
    expect(wasm.every((p) => p.startsWith('/staff/caremap-staff-'))).toBe(true);
    await controlledByServiceWorker(page);
    // Its shell is kept for offline use once the page has been opened.
    await expect
      .poll(() => staffCache(page), { timeout: 30_000 })
      .toEqual(expect.arrayContaining(['/report', expect.stringMatching(/^\/staff\/.*_bg\.wasm$/)]));

    // No signal: a reload still opens the doctor's page, enrolled.
    await context.setOffline(true);
    await page.reload();
    await expect(page.getByTestId('account-name')).toHaveText('李医生');
    guard.assertClean();
    await context.close();

    // A cold start of the browser on the same profile, still without signal.
    ({ context, page } = await openBrowser(playwright, launchOptions, profile, server.baseURL));
    guard = watchPage(page);
    await context.setOffline(true);
    await page.goto('/report');
    await expect(page.getByTestId('account-name')).toHaveText('李医生');
    await expect(page.getByTestId('report-facility')).toContainText(clinic.facility!.name.zh);
    await submitReport(page, { status: 'open', outpatients: 30, fever: 9, wait: 20, doctors: 1 });
    await expect(entriesIn(page, 'pending')).toHaveCount(1);
    const [id] = await entries(page).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
    expect(await server.reports(clinic.id)).toEqual([]);

    // The signal is back: the report goes, once.
    await context.setOffline(false);
    await expect(entriesIn(page, 'sent')).toHaveCount(1, { timeout: 30_000 });
    const stored = await server.reports(clinic.id);
    expect(stored.map((r) => r.id)).toEqual([id]);
    expect(stored[0].report).toMatchObject({ status: 'open', outpatients_today: 30, wait_minutes: 20 });
    guard.assertClean();
    await context.close();
  } finally {
    await server.dispose();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});
