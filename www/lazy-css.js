// The stylesheet of the parts loaded on use (extra.css), added once by the first of them.
// The offline single file has it inlined already.
let loaded = null;
export function ensureCss() {
  // No page (the unit tests import some of these modules in Node), or the offline file.
  if (typeof document === 'undefined' || document.documentElement.dataset.offline) return Promise.resolve();
  if (!loaded) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('extra.css', import.meta.url).href;
    loaded = new Promise((resolve) => {
      link.onload = resolve;
      link.onerror = resolve; // unstyled is still usable
    });
    document.head.append(link);
  }
  return loaded;
}
