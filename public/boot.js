// Before the first paint: a classic script in index.html's head (the CSP allows no inline one),
// run before the body is parsed, so the static app shell in index.html is drawn as the app will
// draw it a moment later.
// - Large-text mode: a resident who chose it never sees a flash of small text while the app
//   starts (src/components/large_text.rs owns the mode afterwards; same key and class).
// - The language: <html lang> from the choice the language switch stored (src/i18n.rs, same
//   key); the shell shows its text in that language only (style/main.css, "App shell").
// - The page: the shell draws the map page; on any other page (a deep link) only its header
//   and sync bar, and the page itself appears when the app starts.
try {
  if (localStorage.getItem('caremap.large-text') === '1') {
    document.documentElement.classList.add('large-text');
  }
  if (localStorage.getItem('caremap.lang') === 'en') {
    document.documentElement.lang = 'en';
  }
} catch (e) {
  // no localStorage (some private modes): the default size and language
}
if (location.pathname !== '/') {
  document.documentElement.classList.add('shell-not-map');
}

// - When the app may start: once the shell's largest paint is recorded (Chromium drops that
//   record if the app replaces the shell first, and the page's LCP then waits for the wasm), or
//   after the first frame where the browser reports no largest paint, and within one second in
//   any case (a page opened in a background tab paints nothing until shown). Trunk's loader
//   waits for this before it fetches the wasm (tools/sw/start-after-paint.mjs).
window.caremapShellPainted = new Promise((resolve) => {
  setTimeout(resolve, 1000);
  const types = (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes) || [];
  if (types.indexOf('largest-contentful-paint') >= 0) {
    new PerformanceObserver((list, observer) => {
      observer.disconnect();
      resolve();
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  } else {
    requestAnimationFrame(() => setTimeout(resolve, 0));
  }
});
