// Lighthouse (npm lighthouse 12.2.3, its Node API) on the map page, a first visit with its mobile
// profile (the default: a mid-range phone's screen, simulated slow 4G and 4× CPU slowdown), the
// performance category only. Debian's Chromium is started by chrome-launcher with this machine's
// flags; nothing is downloaded (Lighthouse carries what it needs, and its performance audits
// need no internet). Usage:
//   node tests/bench/lighthouse.mjs http://127.0.0.1:PORT/ [runs]
// Prints the score, LCP, FCP, TBT, CLS and Speed Index of each run and the median run (by
// score); asserts nothing. Budget (DESIGN.md): performance score ≥ 95, LCP ≤ 2.0 s.
// LIGHTHOUSE_REPORT=path.json keeps the median run's full report.
import fs from 'node:fs';
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/';
const runs = Number(process.argv[3] ?? 3);
const chromePath = process.env.CHROME_PATH ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const results = [];
for (let run = 1; run <= runs; run += 1) {
  // A fresh browser (and profile) for each run: nothing cached from the one before.
  const chrome = await chromeLauncher.launch({
    chromePath,
    chromeFlags: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    logLevel: 'silent',
  });
  try {
    const result = await lighthouse(url, {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['performance'],
    });
    const lhr = result?.lhr;
    if (!lhr) throw new Error('Lighthouse returned no report');
    if (lhr.runtimeError) throw new Error(`${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
    const audit = (id) => lhr.audits[id];
    const lcpAudit = audit('largest-contentful-paint-element');
    const element = lcpAudit?.details?.items?.[0]?.items?.[0]?.node;
    const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
    const figures = {
      score: lhr.categories.performance.score === null ? NaN : lhr.categories.performance.score * 100,
      lcp: audit('largest-contentful-paint')?.numericValue,
      fcp: audit('first-contentful-paint')?.numericValue,
      tbt: audit('total-blocking-time')?.numericValue,
      cls: audit('cumulative-layout-shift')?.numericValue,
      si: audit('speed-index')?.numericValue,
      // Lighthouse 12.2.3's TraceElements gatherer can fail on a Chromium newer than it knows
      // (it did on Debian's 156: "RootCauses … reading 'frame_sequence'"); the metrics stand.
      lcpElement: element
        ? `${element.nodeLabel ?? ''} (${element.selector ?? element.snippet ?? ''})`
        : `not reported (${/TraceElements/.test(lcpAudit?.errorMessage ?? '')
          ? "Lighthouse's TraceElements gatherer failed on this Chromium"
          : (lcpAudit?.errorMessage ?? 'no element').split('\n')[0].slice(0, 160)})`,
      mainThread: (audit('mainthread-work-breakdown')?.details?.items ?? [])
        .map((i) => `${i.groupLabel} ${seconds(i.duration)}`).join(', '),
      longTasks: (audit('long-tasks')?.details?.items ?? []).slice(0, 5)
        .map((t) => `${Math.round(t.duration)} ms (${t.url.replace(new URL(url).origin, '')})`).join(', '),
      warnings: lhr.runWarnings ?? [],
      report: result.report,
      settings: `${lhr.configSettings.formFactor}, ${lhr.configSettings.throttlingMethod} throttling ` +
        `(RTT ${lhr.configSettings.throttling.rttMs} ms, ${lhr.configSettings.throttling.throughputKbps} kbps, ` +
        `CPU ×${lhr.configSettings.throttling.cpuSlowdownMultiplier}), Lighthouse ${lhr.lighthouseVersion}, ` +
        `${lhr.environment?.hostUserAgent?.match(/(?:Headless)?Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}`,
    };
    results.push(figures);
    console.log(`  run ${run}: ${line(figures)}`);
    for (const warning of figures.warnings) console.log(`    warning: ${warning}`);
  } catch (err) {
    console.log(`  run ${run}: Lighthouse failed (${err.message.split('\n')[0]})`);
  } finally {
    await chrome.kill();
  }
}

function line(f) {
  const s = (ms) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(2)} s`);
  return `performance score ${Number.isFinite(f.score) ? f.score.toFixed(0) : '?'}, LCP ${s(f.lcp)}, ` +
    `FCP ${s(f.fcp)}, TBT ${f.tbt === undefined ? '?' : `${f.tbt.toFixed(0)} ms`}, ` +
    `CLS ${f.cls === undefined ? '?' : f.cls.toFixed(3)}, Speed Index ${s(f.si)}`;
}

if (results.length === 0) {
  console.log(`Lighthouse on ${url}: no successful run`);
  process.exit(1);
}
const sorted = [...results].sort((a, b) => a.score - b.score || b.lcp - a.lcp);
const median = sorted[Math.floor((sorted.length - 1) / 2)];
console.log(`Lighthouse ${median.settings}`);
console.log(`main thread of the median run (simulated): ${median.mainThread || '?'}`);
console.log(`its longest tasks: ${median.longTasks || 'none'}`);
console.log(`its LCP element: ${median.lcpElement}`);
console.log(`Lighthouse on ${url}, median of ${results.length} runs: ${line(median)} ` +
  '(budget: score ≥ 95, LCP ≤ 2.0 s)');
if (process.env.LIGHTHOUSE_REPORT) {
  fs.writeFileSync(process.env.LIGHTHOUSE_REPORT, median.report);
  console.log(`full report of that run: ${process.env.LIGHTHOUSE_REPORT}`);
}
