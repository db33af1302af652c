// chart.js - a horizontal stacked bar chart drawn as inline SVG with DOM calls
// (createElementNS); no chart library. Colours come from admin.css classes.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// rows: [{label, values: [n, n]}]; series: [{name, className}]. Returns an <svg>.
export function barChart(rows, series, title) {
  const barH = 22;
  const gap = 8;
  const labelW = 170;
  const width = 640;
  const plotW = width - labelW - 70;
  const legendH = 28;
  const height = legendH + rows.length * (barH + gap) + 10;
  const max = Math.max(1, ...rows.map((r) => r.values.reduce((a, b) => a + b, 0)));
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img',
    class: 'chart', 'aria-label': title, preserveAspectRatio: 'xMinYMin meet' });
  svg.append(el('title', {}, title));
  let lx = labelW;
  for (const s of series) {
    svg.append(el('rect', { x: lx, y: 6, width: 12, height: 12, class: s.className }));
    svg.append(el('text', { x: lx + 18, y: 16, class: 'chart-legend' }, s.name));
    lx += 24 + s.name.length * 8;
  }
  rows.forEach((r, i) => {
    const y = legendH + i * (barH + gap);
    const label = r.label.length > 24 ? r.label.slice(0, 23) + '…' : r.label;
    const text = el('text', { x: labelW - 8, y: y + barH * 0.7, 'text-anchor': 'end', class: 'chart-label' }, label);
    text.append(el('title', {}, r.label));
    svg.append(text);
    let x = labelW;
    r.values.forEach((v, k) => {
      const w = (v / max) * plotW;
      if (w > 0) {
        const bar = el('rect', { x, y, width: w.toFixed(1), height: barH, class: series[k].className });
        bar.append(el('title', {}, `${r.label}: ${v} ${series[k].name}`));
        svg.append(bar);
      }
      x += w;
    });
    const total = r.values.reduce((a, b) => a + b, 0);
    svg.append(el('text', { x: x + 6, y: y + barH * 0.7, class: 'chart-value' }, total));
  });
  return svg;
}
