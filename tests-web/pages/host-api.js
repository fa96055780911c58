// The host side of tests-web/e2e/host-api.test.mjs: records what the explorer posts, sends commands.
const q = new URLSearchParams(location.search);
const origin = q.get('explorer') || location.origin;
const frame = document.getElementById('x');
frame.src = `${origin}/www/${q.get('query') || '?embed&preset=bye-480-path-a'}`;
document.getElementById('same').src = 'blank.html';
document.getElementById('other').src = `${origin}/tests-web/pages/blank.html`;
window.__got = [];
addEventListener('message', (e) => {
  if (e.source === frame.contentWindow) window.__got.push({ origin: e.origin, data: e.data });
});
window.send = (m) => frame.contentWindow.postMessage({ protocol: 'cpm-deferral-explorer', v: 1, ...m }, origin);
window.sendRaw = (m) => frame.contentWindow.postMessage(m, origin);
