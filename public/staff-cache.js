// The staff app offline: keeps its shell (the /report page and the files under /staff/ that it
// loads) in the cache "caremap-staff", so a phone that has opened the doctor's page once (to
// enroll, or since) opens it again with no network, also after a cold start of the browser.
//
// The residents' service worker precaches only the residents' app (a resident never downloads
// staff code); it answers /report from this cache when the network does not (NetworkFirst) and
// /staff/ files from it first (CacheFirst): tools/sw/build-sw.mjs. This script fills the cache
// on every open of the page, whether or not a service worker controls it yet (the first visit
// is not controlled), and removes files of older staff builds. docs/ARCHITECTURE.md, "Two apps".
(function () {
  'use strict';
  var CACHE = 'caremap-staff';
  var SHELL = '/report';
  if (!('caches' in window)) return;

  // Every /staff/ file this page names: its scripts and styles, and the wasm that Trunk's
  // inline loader names in its text.
  function staffFiles() {
    var found = {};
    var add = function (value) {
      if (!value) return;
      var url = new URL(value, location.href);
      if (url.origin === location.origin && url.pathname.indexOf('/staff/') === 0) {
        found[url.pathname] = true;
      }
    };
    document.querySelectorAll('script[src]').forEach(function (el) { add(el.getAttribute('src')); });
    document.querySelectorAll('link[href]').forEach(function (el) { add(el.getAttribute('href')); });
    document.querySelectorAll('script:not([src])').forEach(function (el) {
      (el.textContent.match(/\/staff\/[A-Za-z0-9_.-]+/g) || []).forEach(add);
    });
    return Object.keys(found);
  }

  async function keep() {
    var files = staffFiles();
    var cache = await caches.open(CACHE);
    var missing = [];
    for (var i = 0; i < files.length; i++) {
      if (!(await cache.match(files[i]))) missing.push(files[i]);
    }
    // A new staff build (or a first visit): its files, and the shell that names them.
    if (missing.length > 0 || !(await cache.match(SHELL, { ignoreVary: true }))) {
      await cache.addAll(missing);
      await cache.add(SHELL);
    }
    var wanted = {};
    files.forEach(function (f) { wanted[f] = true; });
    var keys = await cache.keys();
    for (var j = 0; j < keys.length; j++) {
      var path = new URL(keys[j].url).pathname;
      if (path.indexOf('/staff/') === 0 && !wanted[path]) await cache.delete(keys[j]);
    }
  }

  // Once the page has its wasm (Trunk's loader fetches it after the shell's first paint), so
  // the files come from the HTTP cache, not a second time over the network; 30 s at most.
  function wasmLoaded() {
    return performance.getEntriesByType('resource').some(function (entry) {
      return /^\/staff\/.*_bg\.wasm$/.test(new URL(entry.name).pathname);
    });
  }
  var waited = 0;
  function later() {
    if (!wasmLoaded() && waited < 30000) {
      waited += 500;
      setTimeout(later, 500);
      return;
    }
    keep().catch(function (err) {
      console.warn('staff-cache: the doctor\'s page is not kept for offline use: ' + err);
    });
  }
  window.addEventListener('load', later);
})();
