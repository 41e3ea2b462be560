// charts.js - Chart.js set-up shared by the compare page: theme defaults,
// the synced crosshair, min-max error bars, synced zoom, and the heap map
// (drawn straight onto a canvas: one pixel per address range).
import { themeColors, fmtBytes, el } from './common.js';

const Chart = window.Chart;

export function applyTheme() {
  const t = themeColors();
  Chart.defaults.color = t.muted;
  Chart.defaults.borderColor = t.grid;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.legend.labels.boxHeight = 12;
  Chart.defaults.plugins.tooltip.backgroundColor = t.panel;
  Chart.defaults.plugins.tooltip.titleColor = t.text;
  Chart.defaults.plugins.tooltip.bodyColor = t.text;
  Chart.defaults.plugins.tooltip.borderColor = t.border;
  Chart.defaults.plugins.tooltip.borderWidth = 1;
  Chart.defaults.plugins.tooltip.padding = 10;
  return t;
}

// ---- crosshair: one vertical line at the same request index on every
// chart of a group, following the mouse over any of them.
const groups = new Map(); // name -> {x, charts: Set}
export const crosshairPlugin = {
  id: 'crosshair',
  afterInit(chart, args, opts) {
    if (!opts || !opts.group) return;
    if (!groups.has(opts.group)) groups.set(opts.group, { x: null, charts: new Set() });
    groups.get(opts.group).charts.add(chart);
  },
  afterDestroy(chart, args, opts) {
    if (opts && opts.group && groups.has(opts.group)) groups.get(opts.group).charts.delete(chart);
  },
  afterEvent(chart, args, opts) {
    if (!opts || !opts.group) return;
    const g = groups.get(opts.group), e = args.event;
    let x = null;
    if (e.type === 'mousemove' && args.inChartArea) x = chart.scales.x.getValueForPixel(e.x);
    else if (e.type !== 'mouseout' && e.type !== 'mousemove') return;
    if (g.x === x) return;
    g.x = x;
    for (const c of g.charts) if (c !== chart) c.draw();
    args.changed = true;
  },
  afterDatasetsDraw(chart, args, opts) {
    if (!opts || !opts.group) return;
    const g = groups.get(opts.group);
    if (!g || g.x == null) return;
    const { ctx, chartArea: a, scales } = chart;
    const px = scales.x.getPixelForValue(g.x);
    if (px < a.left || px > a.right) return;
    ctx.save();
    ctx.strokeStyle = opts.color || 'rgba(127,127,127,.8)';
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(px, a.top);
    ctx.lineTo(px, a.bottom);
    ctx.stroke();
    ctx.restore();
  },
};

// ---- error bars: dataset.errorBars[i] = {min, max} drawn over bar i.
export const errorBarsPlugin = {
  id: 'errorBars',
  afterDatasetsDraw(chart, args, opts) {
    const { ctx } = chart;
    chart.data.datasets.forEach((ds, di) => {
      if (!ds.errorBars || !chart.isDatasetVisible(di)) return;
      const meta = chart.getDatasetMeta(di), y = chart.scales[meta.yAxisID];
      ctx.save();
      ctx.strokeStyle = (opts && opts.color) || '#888';
      ctx.lineWidth = 1.5;
      meta.data.forEach((bar, i) => {
        const eb = ds.errorBars[i];
        if (!eb || eb.min == null || eb.max == null || eb.min === eb.max) return;
        const x = bar.x, y0 = y.getPixelForValue(eb.min), y1 = y.getPixelForValue(eb.max);
        const w = Math.min(14, (bar.width || 20) / 3);
        ctx.beginPath();
        ctx.moveTo(x, y0); ctx.lineTo(x, y1);
        ctx.moveTo(x - w / 2, y0); ctx.lineTo(x + w / 2, y0);
        ctx.moveTo(x - w / 2, y1); ctx.lineTo(x + w / 2, y1);
        ctx.stroke();
      });
      ctx.restore();
    });
  },
};

Chart.register(crosshairPlugin, errorBarsPlugin);

// ---- synced zoom over a set of charts sharing the x axis.
// Ticks for an axis of bytes: steps of a power of two (512 KiB, 1 MiB, 2 MiB
// ...), about 8 of them, so that the labels read as round binary sizes
// rather than 1.91 MiB, 3.81 MiB.  Use as a scale's afterBuildTicks.
export function binaryTicks(scale) {
  const lo = scale.min, hi = scale.max;
  if (!(hi > lo) || hi - lo < 16) return;
  const step = 2 ** Math.ceil(Math.log2((hi - lo) / 8));
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) ticks.push({ value: v });
  if (ticks.length >= 2) scale.ticks = ticks;
}

export function zoomOptions(onRange) {
  return {
    limits: { x: { min: 'original', max: 'original' } },
    pan: { enabled: true, mode: 'x', modifierKey: 'shift', onPanComplete: ({ chart }) => onRange(chart) },
    zoom: {
      mode: 'x',
      drag: { enabled: true, backgroundColor: 'rgba(79,107,237,.12)', borderColor: 'rgba(79,107,237,.6)', borderWidth: 1 },
      wheel: { enabled: true, modifierKey: 'ctrl' },
      pinch: { enabled: true },
      onZoomComplete: ({ chart }) => onRange(chart),
    },
  };
}

// ---- heap map: blocks by address, wrapped into rows; each pixel shows the
// used fraction of the bytes it covers (used and free colours mixed).
function hexRgb(c) {
  const m = /^#([0-9a-f]{6})$/i.exec(c);
  if (m) { const n = parseInt(m[1], 16); return [(n >> 16) & 255, (n >> 8) & 255, n & 255]; }
  const r = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(c);
  return r ? [+r[1], +r[2], +r[3]] : [128, 128, 128];
}

export function drawHeapMap(canvas, rows, tip) {
  // rows: [{seq, offset, size, used}] in address order
  const t = themeColors();
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 800, lines = 40, lineH = 7;
  const W = Math.max(100, Math.floor(cssW * dpr)), H = Math.floor(lines * lineH * dpr);
  canvas.width = W;
  canvas.height = H;
  canvas.style.height = lines * lineH + 'px';
  const span = rows.length ? Math.max(...rows.map((b) => b.offset + b.size)) : 1;
  const cells = W * lines, bpc = span / cells; // bytes per cell
  const used = new Float64Array(cells), total = new Float64Array(cells);
  for (const b of rows) {
    let a = b.offset / bpc;
    const e = (b.offset + b.size) / bpc;
    while (a < e) {
      const c = Math.floor(a), n = Math.min(e, c + 1) - a;
      if (c >= cells) break;
      total[c] += n;
      used[c] += n * b.used;
      a = c + 1;
    }
  }
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(W, H);
  const U = hexRgb(t.used), F = hexRgb(t.free), G = hexRgb(getComputedStyle(document.documentElement).getPropertyValue('--panel-2').trim());
  const rowPx = Math.floor(lineH * dpr), gap = Math.max(1, Math.floor(dpr));
  for (let line = 0; line < lines; line++) {
    for (let x = 0; x < W; x++) {
      const c = line * W + x;
      let rgb = G;
      if (total[c] > 0) {
        const f = used[c] / total[c];
        rgb = [F[0] + (U[0] - F[0]) * f, F[1] + (U[1] - F[1]) * f, F[2] + (U[2] - F[2]) * f];
      }
      for (let y = line * rowPx; y < (line + 1) * rowPx - gap; y++) {
        const p = (y * W + x) * 4;
        img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2]; img.data[p + 3] = 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
  canvas.onmousemove = (ev) => {
    const r = canvas.getBoundingClientRect();
    const x = Math.floor((ev.clientX - r.left) * dpr), line = Math.floor((ev.clientY - r.top) / lineH);
    const addr = (line * W + x) * bpc;
    let lo = 0, hi = rows.length - 1, k = -1;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (rows[m].offset <= addr) { k = m; lo = m + 1; } else hi = m - 1; }
    if (k < 0 || addr >= rows[k].offset + rows[k].size) { tip.style.display = 'none'; return; }
    const b = rows[k];
    tip.replaceChildren(el('b', {}, b.used >= 1 ? 'used block' : b.used <= 0 ? 'free block' : `${Math.round(b.used * 100)}% used (binned)`),
      el('br'), `offset ${fmtBytes(b.offset)} (0x${b.offset.toString(16)})`, el('br'), `size ${fmtBytes(b.size)} · block #${b.seq}`);
    tip.style.display = 'block';
    tip.style.left = ev.clientX + 14 + 'px';
    tip.style.top = ev.clientY + 12 + 'px';
  };
  canvas.onmouseleave = () => { tip.style.display = 'none'; };
}
