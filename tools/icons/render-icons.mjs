// Renders the PWA's PNG icons from the SVGs in public/ with headless Chromium (Playwright and
// Debian's /usr/bin/chromium, as the end-to-end tests use). The PNGs are committed; run this
// again only when an SVG changes:
//
//   node tools/icons/render-icons.mjs
//
// - icon-192.png, icon-512.png: the pin on a transparent background (manifest, purpose "any");
// - icon-maskable-512.png: the pin inside the safe zone of a full-bleed square (purpose
//   "maskable": the launcher may cut it to any shape);
// - apple-touch-icon.png (180): the full-bleed variant too, since iOS fills transparency with black.
import { chromium } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const publicDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');
const outputs = [
  { svg: 'icon.svg', png: 'icon-192.png', size: 192 },
  { svg: 'icon.svg', png: 'icon-512.png', size: 512 },
  { svg: 'icon-maskable.svg', png: 'icon-maskable-512.png', size: 512 },
  { svg: 'icon-maskable.svg', png: 'apple-touch-icon.png', size: 180 },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const { svg, png, size } of outputs) {
    const source = fs.readFileSync(path.join(publicDir, svg));
    const url = `data:image/svg+xml;base64,${source.toString('base64')}`;
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<html><body style="margin:0"><img src="${url}" width="${size}" height="${size}" style="display:block"></body></html>`,
    );
    await page.locator('img').evaluate((img) => img.decode());
    await page.screenshot({ path: path.join(publicDir, png), omitBackground: true });
    console.log(`render-icons: public/${png} (${size}×${size}) from public/${svg}`);
  }
} finally {
  await browser.close();
}
