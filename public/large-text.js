// Large-text mode before the first paint: a classic script in index.html's head, so a resident
// who chose it never sees a flash of small text while the app starts (src/components/large_text.rs
// owns the mode afterwards). Same key and class as there.
try {
  if (localStorage.getItem('caremap.large-text') === '1') {
    document.documentElement.classList.add('large-text');
  }
} catch (e) {
  // no localStorage (some private modes): the default size
}
