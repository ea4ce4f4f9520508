// Generates the PWA's service worker (sw.js and Workbox's runtime, workbox-<hash>.js) into a
// built dist directory with workbox-build's generateSW.
//
// Trunk runs it after every build as a post_build hook (Trunk.toml), on the staging directory
// that becomes dist/: `node tools/sw/build-sw.mjs` reads TRUNK_STAGING_DIR. By hand:
// `node tools/sw/build-sw.mjs dist`. Debug builds (`trunk serve`, `trunk build` without
// --release) get no worker, so development never runs on a precached older build; the app then
// only logs that it could not register one.
//
// What the worker does (docs/ARCHITECTURE.md, "Service worker"):
// - precaches every file of the build, so the app shell opens with no network;
// - answers navigations (client routes such as /facility/<id>) with the precached index.html,
//   except under /api/;
// - never answers /api/ itself: the app keeps the registry in IndexedDB and syncs over the
//   network, so API requests go straight to the network;
// - caches map tiles as they are seen (CacheFirst, capped), whatever origin the server's
//   configured tile URL points to, and serves the tiles saved for offline use (their own
//   cache, caremap-tiles-saved) before any other;
// - waits when a new version installs, until the page asks it to take over (SKIP_WAITING).
//
// - never precaches the staff app (dist/staff/, built from staff.html after the residents'
//   app: a resident never downloads staff code). Navigations to /report come from the network
//   first, then from the cache "caremap-staff", and /staff/ files from that cache first; the
//   staff page fills it itself once opened (public/staff-cache.js).
//
// Then it writes pre-compressed copies (.br, .gz) of every compressible file, sw.js included
// (tools/sw/precompress.mjs).
//
// On the staff app's build (TRUNK_HTML_FILE is staff.html) it only makes the loader start after
// the first paint and writes the pre-compressed copies: the worker is the residents' build's.
import { generateSW } from 'workbox-build';
import * as path from 'node:path';
import { precompress } from './precompress.mjs';
import { startAfterPaint } from './start-after-paint.mjs';

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('usage: node tools/sw/build-sw.mjs <dist dir> (or set TRUNK_STAGING_DIR)');
  process.exit(2);
}
// First, in every build: the app starts after the shell's first frame (start-after-paint.mjs);
// the worker below precaches the index.html this writes.
startAfterPaint(dir);
const STAFF_CACHE = 'caremap-staff';
if (path.basename(process.env.TRUNK_HTML_FILE ?? '') === 'staff.html') {
  if (process.env.TRUNK_PROFILE !== 'debug') reportCompressed(dir);
  process.exit(0);
}
if (!process.argv[2] && process.env.TRUNK_PROFILE === 'debug') {
  console.log('build-sw: debug build, no service worker');
  process.exit(0);
}
const globDirectory = path.resolve(dir);

// Names that carry Trunk's content hash (caremap-19d3c4d1f3f538e6_bg.wasm, leaflet-6c92c0056ca7a79.css):
// their URL already changes with their content, so Workbox need not add a revision.
const TRUNK_HASHED = /-[0-9a-f]{10,16}[._]/;

const { count, size, warnings } = await generateSW({
  globDirectory,
  swDest: path.join(globDirectory, 'sw.js'),
  // Every build output: html, js, wasm, css, Leaflet's images, icons, the manifest.
  globPatterns: ['**/*.{html,js,wasm,css,png,svg,ico,webmanifest,json,woff2}'],
  // Never the pre-compressed copies (written below, after the worker): the browser gets those
  // through Content-Encoding under the original's URL.
  globIgnores: ['**/*.br', '**/*.gz', 'staff/**'],
  dontCacheBustURLsMatching: TRUNK_HASHED,
  // The wasm is large (and grows in debug builds); the default cap is 2 MiB.
  maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
  navigateFallback: '/index.html',
  navigateFallbackDenylist: [/^\/api\//, /^\/report(\/|$)/],
  cleanupOutdatedCaches: true,
  cacheId: 'caremap',
  // A new version waits for the user's "reload" (the update banner posts SKIP_WAITING), so a
  // page never runs with files from two versions; the first install takes the page at once.
  skipWaiting: false,
  clientsClaim: true,
  // Workbox's runtime as a file of our own origin next to sw.js: never a CDN.
  inlineWorkboxRuntime: false,
  sourcemap: false,
  mode: 'production',
  runtimeCaching: [
    {
      // The staff app's shell (/report): fresh from the network, from the cache offline.
      // (Workbox serialises these functions into sw.js: they may use nothing from this file.)
      urlPattern: ({ request, url }) =>
        request.mode === 'navigate' &&
        (url.pathname === '/report' || url.pathname.startsWith('/report/')),
      handler: 'NetworkFirst',
      options: {
        cacheName: STAFF_CACHE,
        networkTimeoutSeconds: 10,
        // The page caches "/report" itself (public/staff-cache.js): one entry whatever the query.
        matchOptions: { ignoreSearch: true, ignoreVary: true },
        cacheableResponse: { statuses: [200] },
      },
    },
    {
      // The staff app's files (content-hashed, immutable).
      urlPattern: ({ url }) => url.origin === self.location.origin && url.pathname.startsWith('/staff/'),
      handler: 'CacheFirst',
      options: {
        cacheName: STAFF_CACHE,
        matchOptions: { ignoreVary: true },
        cacheableResponse: { statuses: [200] },
      },
    },
    {
      // Map tiles: the tile server is configured at run time (cross-origin in production,
      // same-origin in tests), so match by what the request is, not by its origin: an image
      // at /{z}/{x}/{y}.png, or with x, y and z in its query (Amap's ?x=&y=&z=, Tianditu's
      // WMTS TILECOL/TILEROW/TILEMATRIX).
      urlPattern: ({ request, url }) =>
        request.destination === 'image' &&
        (/\/\d+\/\d+\/\d+(@2x)?\.(png|jpe?g|webp)$/i.test(url.pathname) ||
          (/[?&](x|tilecol)=\d+(&|$)/i.test(url.search) &&
            /[?&](y|tilerow)=\d+(&|$)/i.test(url.search) &&
            /[?&](z|tilematrix)=\d+(&|$)/i.test(url.search))),
      handler: 'CacheFirst',
      options: {
        cacheName: 'caremap-tiles',
        expiration: {
          maxEntries: 1500,
          maxAgeSeconds: 30 * 24 * 60 * 60,
          purgeOnQuotaError: true,
        },
        // 0: an opaque cross-origin tile (an <img> without CORS).
        cacheableResponse: { statuses: [0, 200] },
        // "Save this area's map" (src/offline_map.rs) keeps its tiles in a cache of their own,
        // never expired: read first, so a saved tile is served with no network.
        plugins: [
          {
            cachedResponseWillBeUsed: async ({ request, cachedResponse }) =>
              (await caches.match(request, { cacheName: 'caremap-tiles-saved' })) ??
              cachedResponse,
          },
        ],
      },
    },
  ],
});

for (const warning of warnings) console.warn(`build-sw: warning: ${warning}`);
console.log(
  `build-sw: sw.js precaches ${count} files, ${(size / 1024).toFixed(0)} KiB, in ${globDirectory}`,
);

// Last, so that sw.js and Workbox's runtime get copies too: .br (quality 11) and .gz (level 9)
// next to every compressible file, served as they are by the server (tools/sw/precompress.mjs).
reportCompressed(globDirectory);

function reportCompressed(globDirectory) {
  let raw = 0;
  let br = 0;
  for (const row of precompress(globDirectory)) {
    raw += row.raw;
    br += row.br ?? row.raw;
    if (row.file.endsWith('.wasm')) {
      console.log(`build-sw: ${row.file}: ${row.raw} B, brotli ${row.br} B, gzip ${row.gz} B`);
    }
  }
  console.log(`build-sw: pre-compressed ${(raw / 1024).toFixed(0)} KiB of text and wasm to ${(br / 1024).toFixed(0)} KiB (brotli)`);
}
