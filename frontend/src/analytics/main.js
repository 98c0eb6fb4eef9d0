// The analytics plugin's dashboard pages: charts (uPlot) for daily series,
// and the heatmap drawn over a real rendering of the page: a recorded full
// snapshot rebuilt by rrweb in a sandboxed frame (no script runs in it).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Mirror, createCache, rebuildIntoSandboxedIframe } from 'rrweb-snapshot';

function charts() {
  for (const el of document.querySelectorAll('[data-chart]')) {
    const { name, labels, values } = JSON.parse(el.dataset.chart);
    const xs = labels.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
    const options = {
      width: Math.max(300, el.clientWidth || 640),
      height: 200,
      scales: { x: { time: true } },
      series: [{}, { label: name, stroke: '#2563eb', fill: 'rgba(37, 99, 235, 0.12)' }],
    };
    el.textContent = '';
    new uPlot(options, [xs, values], el);
    el.dataset.drawn = String(values.length);
  }
}

function drawCells(canvas, cells, cell) {
  const ctx = canvas.getContext('2d');
  const most = cells.reduce((m, c) => Math.max(m, c.clicks), 1);
  for (const c of cells) {
    ctx.fillStyle = `rgba(220, 38, 38, ${(0.25 + (0.75 * c.clicks) / most).toFixed(3)})`;
    ctx.fillRect(c.x, c.y, cell, cell);
  }
}

async function heatmap() {
  const el = document.getElementById('heatmap');
  if (!el) return;
  const cells = JSON.parse(el.dataset.cells || '[]');
  const cell = Number(el.dataset.cell) || 20;
  const response = await fetch(el.dataset.snapshot, { credentials: 'same-origin' });
  const found = response.ok ? await response.json() : {};
  if (!found.snapshot) {
    el.dataset.ready = 'no-snapshot';
    el.textContent = 'No recorded snapshot of this page in the range.';
    return;
  }
  el.style.position = 'relative';
  const { iframe } = rebuildIntoSandboxedIframe(found.snapshot, {
    root: el,
    mirror: new Mirror(),
    cache: createCache(),
    hackCss: true,
  });
  const height = Math.max(
    found.height || 0,
    iframe.contentDocument ? iframe.contentDocument.documentElement.scrollHeight : 0,
    ...cells.map((c) => c.y + cell),
  );
  Object.assign(iframe.style, {
    width: found.width + 'px',
    height: height + 'px',
    border: '0',
    pointerEvents: 'none',
  });
  const canvas = document.createElement('canvas');
  canvas.width = found.width;
  canvas.height = height;
  Object.assign(canvas.style, { position: 'absolute', left: '0', top: '0' });
  el.appendChild(canvas);
  drawCells(canvas, cells, cell);
  el.dataset.ready = 'drawn';
}

function start() {
  charts();
  heatmap().catch((error) => {
    const el = document.getElementById('heatmap');
    if (el) el.dataset.ready = 'failed: ' + error;
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
