// Writes pre-compressed copies next to every compressible file of a built dist directory:
// `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip, level 9), so the server sends them
// as they are (tower-http's ServeDir, crates/server/src/routes/static_files.rs) instead of
// compressing on the fly at a lower level for every request.
//
// Run by tools/sw/build-sw.mjs after it has written the service worker, so that sw.js and
// Workbox's runtime get copies too, and so that the precache list (which must only name the
// originals) is computed before any .br/.gz exists. By hand: `node tools/sw/precompress.mjs dist`.
// A copy is written only when it is smaller than the original.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

export const COMPRESSIBLE = /\.(wasm|js|css|html|svg|webmanifest|json)$/;

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

/** Compresses every compressible file under `dir`; returns [{file, raw, br, gz}]. */
export function precompress(dir) {
  const results = [];
  for (const file of files(dir)) {
    if (!COMPRESSIBLE.test(file)) continue;
    const raw = fs.readFileSync(file);
    const br = zlib.brotliCompressSync(raw, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
        [zlib.constants.BROTLI_PARAM_MODE]: /\.wasm$/.test(file)
          ? zlib.constants.BROTLI_MODE_GENERIC
          : zlib.constants.BROTLI_MODE_TEXT,
      },
    });
    const gz = zlib.gzipSync(raw, { level: 9 });
    const row = { file: path.relative(dir, file), raw: raw.length, br: null, gz: null };
    for (const [ext, bytes] of [['br', br], ['gz', gz]]) {
      const target = `${file}.${ext}`;
      if (bytes.length < raw.length) {
        fs.writeFileSync(target, bytes);
        row[ext] = bytes.length;
      } else {
        fs.rmSync(target, { force: true });
      }
    }
    results.push(row);
  }
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node tools/sw/precompress.mjs <dist dir>');
    process.exit(2);
  }
  for (const row of precompress(path.resolve(dir))) {
    console.log(`precompress: ${row.file}: ${row.raw} B, br ${row.br ?? '-'}, gzip ${row.gz ?? '-'}`);
  }
}
