// End-to-end tests: Playwright drives Debian's Chromium against the real caremap server
// serving the real release build of the PWA (dist/) on a fresh SQLite database seeded with the
// demo registry. `cargo xtask test` builds both and sets CAREMAP_SERVER_BIN.
import { defineConfig } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');
const port = Number(process.env.CAREMAP_E2E_PORT ?? 18181);
const baseURL = `http://127.0.0.1:${port}`;
const serverBin =
  process.env.CAREMAP_SERVER_BIN ?? path.join(repoRoot, 'target/debug/caremap-server');
// The build to serve: dist/ unless CAREMAP_E2E_DIST names a copy (a checkout shared with other
// builds can replace dist/ during a run).
const dist = process.env.CAREMAP_E2E_DIST ?? path.join(repoRoot, 'dist');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremap-e2e-'));

export default defineConfig({
  testDir: '.',
  outputDir: path.join(repoRoot, 'test-results'),
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  // On CI a test that fails once is run again and reported as flaky (the machines are shared).
  retries: process.env.CI ? 1 : 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: [
      JSON.stringify(serverBin),
      'serve',
      '--demo-if-empty',
      '--database',
      JSON.stringify(`sqlite://${path.join(dataDir, 'e2e.sqlite')}`),
      '--dist',
      JSON.stringify(dist),
      '--addr',
      `127.0.0.1:${port}`,
      // Tiles from our own origin: this machine has no internet, and the CSP stays 'self'.
      '--tile-url',
      JSON.stringify(`${baseURL}/e2e-no-tiles/{z}/{x}/{y}.png`),
    ].join(' '),
    cwd: repoRoot,
    url: `${baseURL}/api/v1/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
