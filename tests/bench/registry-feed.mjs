// Measures the registry feed of a running server without a browser: the bytes on the wire of a
// whole first sync (every page, as the PWA asks for them) per content encoding, and the server's
// time per page. Usage:
//   node tests/bench/registry-feed.mjs http://127.0.0.1:PORT [--limit 1000] [--sweep]
// --sweep also tries other page sizes (br and gzip only). Prints figures; asserts nothing.
import http from 'node:http';
import zlib from 'node:zlib';

const args = process.argv.slice(2);
const base = new URL(args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? 'http://127.0.0.1:8080');
const limitArg = args.indexOf('--limit');
const limit = limitArg >= 0 ? Number(args[limitArg + 1]) : 1000; // REGISTRY_PAGE_LIMIT in src/api.rs
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// One GET: the body as sent (still compressed), its headers' size, and the time to the last byte.
function get(path, encoding) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const request = http.get(
      { host: base.hostname, port: base.port, path, agent, headers: { 'accept-encoding': encoding } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const body = Buffer.concat(chunks);
          // Status line and headers as they were on the wire (approximately: HTTP/1.1 framing).
          let headerBytes = `HTTP/1.1 ${response.statusCode} ${response.statusMessage}\r\n`.length + 2;
          for (let i = 0; i < response.rawHeaders.length; i += 2) {
            headerBytes += response.rawHeaders[i].length + response.rawHeaders[i + 1].length + 4;
          }
          if (response.statusCode !== 200) {
            reject(new Error(`GET ${path}: ${response.statusCode} ${body.toString()}`));
            return;
          }
          resolve({ ms, body, headerBytes, encoding: response.headers['content-encoding'] ?? 'identity' });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
  });
}

function decode(body, encoding) {
  if (encoding === 'br') return zlib.brotliDecompressSync(body);
  if (encoding === 'gzip') return zlib.gunzipSync(body);
  return body;
}

// A whole first sync: pages from the start until has_more is false, in the record layout or,
// with format 'columns', the columnar one the PWA asks for (one array per field).
async function firstSync(encoding, pageLimit, format = 'records') {
  let since = '';
  let pages = 0;
  let items = 0;
  let wire = 0;
  let bodies = 0;
  let raw = 0;
  const times = [];
  const used = new Set();
  for (;;) {
    const path = `/api/v1/registry?since=${encodeURIComponent(since)}&limit=${pageLimit}&format=${format}`;
    const response = await get(path, encoding);
    used.add(response.encoding);
    const json = decode(response.body, response.encoding);
    const page = JSON.parse(json.toString('utf8'));
    pages += 1;
    items += (page.items ?? page.id).length;
    bodies += response.body.length;
    wire += response.body.length + response.headerBytes;
    raw += json.length;
    times.push(response.ms);
    since = page.cursor;
    if (!page.has_more) break;
  }
  return { encoding, format, used: [...used].join(','), pageLimit, pages, items, wire, bodies, raw, times };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const mb = (bytes) => (bytes / 1e6).toFixed(2);

function report(r) {
  const full = r.times.filter((_, i) => i < r.pages - 1); // the last page may be short
  const times = full.length > 0 ? full : r.times;
  console.log(
    `  ${r.format.padEnd(7)} ${r.encoding.padEnd(8)} limit ${String(r.pageLimit).padStart(5)}: ${r.items} facilities in ${r.pages} pages, ` +
      `${mb(r.wire)} MB on the wire (bodies ${mb(r.bodies)} MB, ${(r.bodies / r.items).toFixed(1)} B/facility; ` +
      `JSON ${mb(r.raw)} MB), time per page p50 ${quantile(times, 0.5).toFixed(1)} ms, ` +
      `p90 ${quantile(times, 0.9).toFixed(1)} ms` + (r.used === r.encoding ? '' : ` (server answered ${r.used})`),
  );
}

console.log(`registry feed of ${base.origin}, pages of ${limit} (budget: whole first sync ≤ 3 MB compressed; page of 1,000 p50 ≤ 10 ms)`);
// Once untimed, so the database's pages are in the cache as on a server that has been running.
await firstSync('identity', limit);
for (const encoding of ['br', 'gzip', 'identity']) {
  report(await firstSync(encoding, limit));
}
// What the PWA downloads: the columnar layout in pages of 5,000 (ColumnarPage::PAGE_LIMIT).
// The server compresses these pages at brotli 11 in the background after it starts, and sends
// quicker brotli-5 copies of those not made yet: the passes repeat until the bytes stop
// shrinking, and the first and the last are reported.
console.log('the PWA\'s first sync (format=columns, pages of 5,000; brotli 11 made by the server in the background):');
let pass = await firstSync('br', 5000, 'columns');
console.log('  first pass, as the server answered it then:');
report(pass);
const settleUntil = Date.now() + Number(process.env.FEED_SETTLE_MS ?? 20 * 60_000);
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const next = await firstSync('br', 5000, 'columns');
  const settled = next.bodies >= pass.bodies;
  pass = next;
  if (settled || Date.now() > settleUntil) break;
}
console.log('  once the server has made its brotli-11 copies:');
report(pass);
report(await firstSync('gzip', 5000, 'columns'));
if (args.includes('--sweep')) {
  console.log('other page sizes:');
  for (const pageLimit of [500, 2000, 5000]) {
    for (const encoding of ['br', 'gzip']) {
      report(await firstSync(encoding, pageLimit));
    }
  }
}
agent.destroy();
