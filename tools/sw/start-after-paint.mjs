// Rewrites Trunk's loader in a built index.html so that the app starts after the app shell's
// first frame is on screen, not during it (docs/ARCHITECTURE.md, "Start-up"; why and the
// figures: docs/PERFORMANCE.md, "Start-up").
//
// Trunk writes, for the wasm, a `modulepreload` of its JS glue, a `preload` of the wasm itself
// and an inline module that imports the glue and instantiates the wasm. Chromium records the
// shell's largest paint (LCP) a little after the frame that shows it; when the app replaced the
// shell before that, the record was dropped and the app's identical card became the LCP, which
// then waited for the whole wasm. So:
// - both preloads go: the wasm is not fetched while the shell's CSS and HTML are;
// - the module waits for `window.caremapShellPainted` (public/boot.js: the shell's largest
//   paint is recorded, or one second at most) and only then imports the glue and starts it.
//
// The inline script changes, and the server allows it by the hash of its text, computed from
// dist/index.html at start-up (crates/server/src/security.rs). A Trunk whose output does not
// match fails the build here instead of shipping an app that starts differently.
import fs from 'node:fs';
import path from 'node:path';

const MARK = 'window.caremapShellPainted';

// The glue and wasm of either app: the residents' (`/caremap-<hash>.js`) or the staff app's
// (`/staff/caremap-staff-<hash>.js`, staff.html).
const APP = String.raw`\/(?:staff\/)?caremap(?:-staff)?-[0-9a-f]+`;

export function startAfterPaint(dir) {
  const file = path.join(dir, 'index.html');
  let html = fs.readFileSync(file, 'utf8');
  if (html.includes(MARK)) return 'already rewritten';
  const once = (pattern, what, replace) => {
    const matches = html.match(new RegExp(pattern.source, `${pattern.flags}g`)) ?? [];
    if (matches.length !== 1) {
      throw new Error(`start-after-paint: expected one ${what} in ${file}, found ${matches.length}`);
    }
    html = html.replace(pattern, replace);
  };
  once(new RegExp(`<link rel="modulepreload" href="${APP}\\.js"[^>]*>`), 'modulepreload of the glue', '');
  once(new RegExp(`<link rel="preload" href="${APP}_bg\\.wasm"[^>]*>`), 'preload of the wasm', '');
  once(
    new RegExp(`^import init, \\* as bindings from '(${APP}\\.js)';$`, 'm'),
    'import of the glue',
    (_, glue) => `await ${MARK};\nconst bindings = await import('${glue}');\nconst init = bindings.default;`,
  );
  fs.writeFileSync(file, html);
  return 'rewritten';
}

// By hand: node tools/sw/start-after-paint.mjs <dist dir>
if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  console.log(`start-after-paint: ${startAfterPaint(process.argv[2] ?? 'dist')}`);
}
