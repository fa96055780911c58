// Test page helper: render a Mermaid text with Mermaid itself and return every text it drew.
/* global mermaid */
mermaid.initialize({ startOnLoad: false, maxTextSize: 50000000, maxEdges: 1000000, securityLevel: 'strict', sequence: { useMaxWidth: false } });
window.renderMermaid = async (text) => {
  const { svg } = await mermaid.render('m0', text);
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  const texts = [...doc.querySelectorAll('text, foreignObject')].map((e) => e.textContent.replace(/\s+/g, ' ').trim()).filter(Boolean);
  return { texts, bytes: svg.length, error: doc.querySelector('parsererror') ? 'parse' : null };
};
window.mermaidReady = true;
