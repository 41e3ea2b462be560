// compare.js - the comparison of chosen runs of one workload: time series
// with synced zoom and crosshair, summary bars with min-max whiskers and a
// baseline, composition treemaps to one scale, and heap maps.  State
// (runs, workload, baseline, zoom) lives in the query string.
import { api, metricInfo, fmtUnit, fmtBytes, fmtNum, allocColor, alpha, el, pill, readState, writeState,
         csvLink, showError } from './common.js';
import { applyTheme, zoomOptions, drawHeapMap, binaryTicks } from './charts.js';

const Chart = window.Chart;
const SERIES = ['live_bytes', 'heap_bytes', 'rss_bytes', 'frag'];
const BARS = ['ns_per_op', 'steady_ns_per_op', 'lat_p99_ns', 'peak_rss_bytes', 'frag_jw4', 'rss_overhead'];
// Ratios "x - 1" compare as (1 + x) / (1 + base) against a baseline.
const MINUS_ONE = new Set(['frag_jw1', 'frag_jw2', 'frag_jw3', 'frag_jw4', 'rss_overhead', 'frag']);
const CATEGORY_COLORS = {
  payload: '--used', free: '--free', overhead: '#7a5af8', top: '#98a2b3', metadata: '#06aed4', retained: '#a15c07',
  other: '#667085', owned: '#12b76a', 'slice-parents': '#ee46bc', consumed: '#84cc16', delayed: '#f04438',
};

const state = readState();
const $ = (id) => document.getElementById(id);
let theme, mi, allRuns = [], runs = [], charts = [], syncing = false;

function catColor(c) {
  const v = CATEGORY_COLORS[c] || '#667085';
  return v.startsWith('--') ? getComputedStyle(document.documentElement).getPropertyValue(v).trim() : v;
}

function save() {
  writeState({ runs: allRuns.map((r) => r.id).join(','), workload: state.workload, baseline: state.baseline, zoom: state.zoom });
  $('nav-runs').href = '/?sel=' + allRuns.map((r) => r.id).join(',');
}

function runLabel(r) { return `${r.allocator} #${r.id}` + (r.rep ? ` (rep ${r.rep})` : ''); }

function allocators() {
  const names = [...new Set(runs.map((r) => r.allocator))].sort();
  if (state.baseline && names.includes(state.baseline)) names.splice(names.indexOf(state.baseline), 1), names.unshift(state.baseline);
  return names;
}

function card(title, unit, csv) {
  const box = el('div', { class: 'chart-box' });
  const canvas = el('canvas');
  box.append(canvas);
  const c = el('div', { class: 'panel card' },
    el('div', { class: 'card-head' }, el('h3', {}, title, unit ? el('span', { class: 'unit' }, ` · ${unit}`) : null),
      el('div', { class: 'links' }, csv)), box);
  return { card: c, canvas, box };
}

// ---- time series -----------------------------------------------------------
function onRange(src) {
  if (syncing) return;
  const { min, max } = src.scales.x;
  syncing = true;
  for (const c of charts) if (c !== src && c.config.type === 'line') c.zoomScale('x', { min, max }, 'none');
  syncing = false;
  state.zoom = `${Math.round(min)}-${Math.round(max)}`;
  save();
}

function resetZoom() {
  for (const c of charts) if (c.config.type === 'line') c.resetZoom('none');
  state.zoom = '';
  save();
}

function drawSeries() {
  const grid = $('series');
  grid.replaceChildren();
  for (const key of SERIES) {
    const info = mi.samples[key] || { label: key, unit: '' };
    const csv = csvLink('CSV', `series-${key}.csv`, () => ({
      header: ['run_id', 'allocator', 'rep', 'op_index', key],
      rows: runs.flatMap((r) => r.points.map((p) => [r.id, r.allocator, r.rep, p.op_index, p[key]])),
    }));
    const { card: c, canvas } = card(info.label, info.unit === 'B' ? 'bytes' : info.unit, csv);
    grid.append(c);
    const datasets = runs.map((r) => {
      const data = r.points.filter((p) => p[key] != null).map((p) => ({ x: p.op_index, y: p[key] }));
      return {
        label: runLabel(r) + (data.length ? '' : ' (no data)'), // a failed run, or a column it cannot report
        data,
        borderColor: r.rep ? alpha(allocColor(r.allocator), 0.45) : allocColor(r.allocator),
        backgroundColor: allocColor(r.allocator),
        borderWidth: r.rep ? 1 : 2,
        pointRadius: 0,
        tension: 0,
      };
    });
    const chart = new Chart(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        parsing: false,
        normalized: true,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { type: 'linear', title: { display: true, text: (mi.samples.op_index || {}).label || 'request' },
               ticks: { callback: (v) => fmtNum(v) } },
          y: { beginAtZero: true, ticks: { callback: (v) => fmtUnit(v, info.unit) },
               afterBuildTicks: info.unit === 'B' ? binaryTicks : undefined },
        },
        plugins: {
          legend: { position: 'bottom', labels: { filter: (item) => !/\(rep [1-9]/.test(item.text) } },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmtUnit(c.parsed.y, info.unit)}` } },
          zoom: zoomOptions(onRange),
          crosshair: { group: 'series', color: theme.muted },
        },
      },
    });
    canvas.addEventListener('dblclick', resetZoom);
    charts.push(chart);
  }
  if (state.zoom && /^\d+-\d+$/.test(state.zoom)) {
    const [min, max] = state.zoom.split('-').map(Number);
    if (max > min) { syncing = true; for (const c of charts) if (c.config.type === 'line') c.zoomScale('x', { min, max }, 'none'); syncing = false; }
  }
}

// ---- summary bars -------------------------------------------------------------
function median(v) {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
function stats(vals) {
  const v = vals.filter((x) => x != null && isFinite(x));
  if (!v.length) return null;
  return { mid: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}
// x relative to the baseline's b: a quotient, or (1+x)/(1+b) for a metric that is a ratio − 1
function rel(key, x, b) {
  if (MINUS_ONE.has(key)) return (1 + x) / (1 + b);
  return b ? x / b : null;
}
// Each run against the baseline's run of the same sweep, repetition and
// request stream (run --reps interleaves the allocators, so the two ran one
// after the other and the machine's drift cancels; one sweep of
// trace:a,trace:b holds two streams of the workload "trace"): the median and
// range of those ratios, as `mmbench export --summary --baseline` computes
// them.  Runs with no such partner fall back to the quotient of the medians.
function relStats(key, mine, theirs) {
  const ratios = [];
  let zero = false; // a partner's value was 0: no quotient, which is not "no data"
  for (const r of mine) {
    const x = r[key];
    if (r.status !== 'ok' || x == null || !isFinite(x)) continue;
    const b = theirs.find((q) => q.status === 'ok' && q.sweep === r.sweep && q.rep === r.rep && q.stream_hash === r.stream_hash);
    const q = b && b[key] != null && isFinite(b[key]) ? rel(key, x, b[key]) : null;
    if (q != null && isFinite(q)) ratios.push(q);
    else if (b && b[key] === 0) zero = true;
  }
  if (ratios.length) return { ...stats(ratios), paired: true };
  const a = stats(mine.map((r) => r[key])), b = stats(theirs.map((r) => r[key]));
  if (!a || !b) return null;
  const mid = rel(key, a.mid, b.mid);
  if (mid == null) return zero || b.mid === 0 ? { mid: null, zeroBase: true } : null;
  return { mid, min: rel(key, a.min, b.mid), max: rel(key, a.max, b.mid), n: a.n, paired: false };
}

function drawBars() {
  const grid = $('bars');
  grid.replaceChildren();
  const names = allocators();
  const base = state.baseline && names.includes(state.baseline) ? state.baseline : '';
  const multi = names.some((a) => runs.filter((r) => r.allocator === a && r.status === 'ok').length > 1);
  $('bars-note').textContent = (base ? `Relative to ${base} (= 1)` : 'Absolute values') +
    (multi ? (base ? ' · median over repetitions of each run\'s ratio to the baseline\'s run in the same repetition, whiskers show min–max'
                   : ' · median over repetitions, whiskers show min–max') : '');
  for (const key of BARS) {
    const info = mi.metrics[key] || { label: key, unit: '' };
    const of = (a) => runs.filter((r) => r.allocator === a);
    const s = names.map((a) => (base ? relStats(key, of(a), of(base)) : stats(of(a).map((r) => r[key]))));
    const bs = base ? stats(of(base).map((r) => r[key])) : null;
    const mids = s.map((x) => (x ? x.mid : null));
    const bars = s.map((x) => (x && x.n > 1 ? { min: x.min, max: x.max } : null));
    const unit = base ? (MINUS_ONE.has(key) ? `(1+x) ÷ ${base}` : `× ${base}`) : info.unit === 'B' ? 'bytes' : info.unit;
    const csv = csvLink('CSV', `summary-${key}.csv`, () => ({
      header: ['allocator', 'median_' + key + (base ? `_vs_${base}` : ''), 'min', 'max', 'runs'],
      rows: names.map((a, i) => [a, mids[i], bars[i] ? bars[i].min : mids[i], bars[i] ? bars[i].max : mids[i], s[i] ? s[i].n : 0]),
    }));
    const { card: c, canvas, box } = card(info.label, unit, csv);
    box.classList.add('short');
    c.title = info.description || '';
    grid.append(c);
    // NULL is no value, not 0: say so instead of an empty axis or a missing bar.
    if (mids.every((m) => m == null)) {
      const none = !runs.some((r) => r[key] != null && isFinite(r[key])); // no run has a value, the baseline's or another's
      box.replaceChildren(el('p', { class: 'empty' }, base && !bs && !none
        ? `No value for the baseline ${base}, so nothing to compare with.`
        : base && bs && bs.max === 0 ? `The baseline ${base} measured 0 here, so there is no ratio to it.`
        : 'No value: this metric is NULL for every run here (failed, or not measurable for these runs).'));
      continue;
    }
    charts.push(new Chart(canvas, {
      type: 'bar',
      data: {
        labels: names.map((a, i) => (mids[i] != null ? a : s[i] && s[i].zeroBase ? `${a} (baseline is 0: no ratio)` : `${a} (no data)`)),
        datasets: [{
          label: info.label, data: mids, errorBars: bars,
          backgroundColor: names.map((a) => alpha(allocColor(a), 0.75)), borderColor: names.map(allocColor),
          borderWidth: 1.5, borderRadius: 6, maxBarThickness: 64,
        }],
      },
      options: {
        // the axis reaches the whiskers' ends, not only the bars'
        scales: { y: { beginAtZero: true, suggestedMax: Math.max(0, ...bars.filter(Boolean).map((b) => b.max)),
                       suggestedMin: Math.min(0, ...bars.filter(Boolean).map((b) => b.min)), ticks: { callback: (v) => (base ? fmtNum(v) + '×' : fmtUnit(v, info.unit)) },
                       afterBuildTicks: !base && info.unit === 'B' ? binaryTicks : undefined },
                  x: { grid: { display: false } } },
        plugins: {
          legend: { display: false },
          errorBars: { color: theme.text },
          tooltip: { callbacks: { label: (ctx) => {
            const i = ctx.dataIndex, f = (v) => (base ? fmtNum(v) + '×' : fmtUnit(v, info.unit));
            let t = `${f(mids[i])}`;
            if (bars[i]) t += `  (min ${f(bars[i].min)}, max ${f(bars[i].max)}, ${s[i].n} ${base && s[i].paired ? 'pairs' : 'runs'})`;
            return t;
          } } },
        },
      },
    }));
  }
}

// ---- composition treemaps -------------------------------------------------------
async function drawTreemaps() {
  const names = allocators();
  const picks = names.map((a) => runs.filter((r) => r.allocator === a && r.n_composition > 0).sort((x, y) => x.rep - y.rep)[0]).filter(Boolean);
  $('sec-treemap').hidden = !picks.length;
  if (!picks.length) return;
  const comps = await Promise.all(picks.map((r) => api(`/api/runs/${r.id}/composition`)));
  const items = comps.map((c) => c.rows.map((row) => Object.fromEntries(c.columns.map((k, i) => [k, row[i]]))));
  const totals = items.map((it) => it.reduce((a, b) => a + b.bytes, 0));
  const maxTotal = Math.max(...totals, 1);
  const box = $('treemaps');
  box.replaceChildren();
  const per = Math.min(picks.length, 3);
  const W = Math.min(560, Math.max(260, (box.clientWidth - 18 * (per - 1)) / per - 30)), H = W * 0.72;
  const cats = new Set();
  picks.forEach((r, i) => {
    const k = Math.sqrt(totals[i] / maxTotal);
    const tm = el('div', { class: 'tm', style: { width: `${Math.round(W * k)}px`, height: `${Math.round(H * k)}px` } });
    const canvas = el('canvas');
    tm.append(canvas);
    const csv = csvLink('CSV', `composition-run-${r.id}.csv`, () => ({
      header: ['run_id', 'allocator', 'category', 'label', 'bytes'], rows: items[i].map((x) => [r.id, r.allocator, x.category, x.label, x.bytes]) }));
    box.append(el('div', { class: 'panel treemap-card' },
      el('div', { class: 'card-head' }, el('h3', {}, pill(r.allocator), ' ', el('span', { class: 'unit' }, `${fmtBytes(totals[i])} · run #${r.id}`)),
        el('div', { class: 'links' }, csv)), tm));
    items[i].forEach((x) => cats.add(x.category));
    charts.push(new Chart(canvas, {
      type: 'treemap',
      data: { datasets: [{
        tree: items[i], key: 'bytes', groups: ['category', 'label'], spacing: 1, borderWidth: 0,
        backgroundColor: (ctx) => (ctx.type === 'data' ? alpha(toHex(catColor(ctx.raw._data.category)), ctx.raw.l === 0 ? 0.35 : 0.85) : 'transparent'),
        captions: { display: true, color: theme.text, font: { size: 11, weight: '600' }, formatter: (ctx) => `${ctx.raw.g} · ${fmtBytes(ctx.raw.v)}` },
        labels: { display: true, color: '#fff', font: { size: 10.5 }, overflow: 'hidden',
                  formatter: (ctx) => [ctx.raw._data.label, fmtBytes(ctx.raw.v)] },
      }] },
      options: {
        plugins: { legend: { display: false }, tooltip: { callbacks: {
          title: (items2) => items2[0].raw._data.label || items2[0].raw.g,
          label: (ctx) => `${ctx.raw._data.category}: ${fmtBytes(ctx.raw.v)} (${(100 * ctx.raw.v / totals[i]).toFixed(1)}%)` } } },
      },
    }));
  });
  $('tm-legend').replaceChildren(...[...cats].map((c) => el('span', {}, el('i', { style: { background: catColor(c) } }), c)));
}

function toHex(c) {
  if (c.startsWith('#')) return c;
  const m = /(\d+),\s*(\d+),\s*(\d+)/.exec(c);
  return m ? '#' + [m[1], m[2], m[3]].map((x) => (+x).toString(16).padStart(2, '0')).join('') : '#888888';
}

// ---- heap maps -------------------------------------------------------------------
async function drawHeapMaps() {
  const names = allocators();
  const picks = names.map((a) => runs.filter((r) => r.allocator === a && r.n_heap_blocks > 0).sort((x, y) => x.rep - y.rep)[0]).filter(Boolean);
  $('sec-heap').hidden = !picks.length;
  if (!picks.length) return;
  const heaps = await Promise.all(picks.map((r) => api(`/api/runs/${r.id}/heap`)));
  const box = $('heapmaps');
  box.replaceChildren();
  const tip = $('tip');
  picks.forEach((r, i) => {
    const h = heaps[i];
    const rows = h.rows.map((row) => Object.fromEntries(h.columns.map((k, j) => [k, row[j]])));
    const span = rows.length ? rows[rows.length - 1].offset + rows[rows.length - 1].size : 0;
    const free = rows.reduce((a, b) => a + b.size * (1 - b.used), 0);
    const canvas = el('canvas', { class: 'heapmap' });
    const csv = csvLink('CSV', `heap-run-${r.id}.csv`, () => ({
      header: ['run_id', 'seq', 'offset', 'size', 'used'], rows: rows.map((b) => [r.id, b.seq, b.offset, b.size, b.used]) }));
    box.append(el('div', { class: 'panel card' },
      el('div', { class: 'card-head' }, el('h3', {}, pill(r.allocator), ' ',
        el('span', { class: 'unit' }, `run #${r.id} · ${rows.length} blocks · ${fmtBytes(span)} · ${(100 * free / (span || 1)).toFixed(1)}% free`)),
      el('div', { class: 'links' }, csv)), canvas));
    requestAnimationFrame(() => drawHeapMap(canvas, rows, tip));
  });
  $('heap-legend').replaceChildren(el('span', {}, el('i', { style: { background: theme.used } }), 'used'),
    el('span', {}, el('i', { style: { background: theme.free } }), 'free'));
}

// ---- page ------------------------------------------------------------------------
function render() {
  for (const c of charts) c.destroy();
  charts = [];
  runs = allRuns.filter((r) => r.workload === state.workload);
  const first = runs[0] || {};
  const hashes = new Set(runs.map((r) => r.stream_hash).filter(Boolean));
  $('title').textContent = `Compare · ${state.workload}`;
  // a parameter the runs do not share is "mixed", not the first run's value
  const one = (k) => new Set(runs.map((r) => r[k])).size <= 1;
  $('subtitle').textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} of ${allocators().length} allocator${allocators().length === 1 ? '' : 's'}` +
    (!one('ops') ? ' · mixed request counts' : first.ops ? ` · ${fmtNum(first.ops)} requests` : '') +
    (!one('live') ? ' · mixed live counts' : first.live ? ` · ${fmtNum(first.live)} live` : '') +
    (!one('sizes') ? ' · mixed sizes' : first.sizes ? ` · sizes ${first.sizes}` : '') +
    (!one('threads') ? ' · mixed thread counts' : first.threads > 1 ? ` · ${first.threads} threads` : '');
  const msgs = $('messages');
  msgs.replaceChildren();
  if (hashes.size > 1) msgs.append(el('div', { class: 'notice' }, 'These runs served different request streams (their parameters or seeds differ), so they are not strictly comparable.'));
  // Where the figures come from: one machine and one build, or a warning
  // (runs stored before mmbench recorded them have neither).
  const machines = [...new Set(runs.map((r) => r.machine).filter(Boolean))];
  const builds = [...new Set(runs.map((r) => r.build).filter(Boolean))];
  const revs = [...new Set(runs.map((r) => r.git_rev).filter(Boolean))];
  const unrecorded = runs.filter((r) => !r.machine || !r.build).length;
  // the machine and build are named only when every run records them
  $('provenance').textContent = unrecorded ? '' : [machines.length === 1 ? `Measured on ${machines[0]}` : null,
    builds.length === 1 ? `build ${builds[0]}` : null].filter(Boolean).join(' · ');
  if (machines.length > 1 || builds.length > 1) {
    const what = [machines.length > 1 ? `${machines.length} machines` : null, builds.length > 1 ? `${builds.length} builds` : null];
    msgs.append(el('div', { class: 'notice', id: 'mixed-origin' },
      `These runs come from ${what.filter(Boolean).join(' and ')}, so their times are not comparable: ` +
      [...(machines.length > 1 ? machines : []), ...(builds.length > 1 ? builds : [])].map((x) => `“${x}”`).join(', ') + '.'));
  }
  // softer: other commits of mmbench (a before/after comparison is why one
  // looks), and runs stored before the machine and build were recorded
  const notes = [revs.length > 1 ? `were measured by ${revs.length} commits of mmbench (${revs.join(', ')}): the harness or the policy allocators may differ between them` : null,
    unrecorded && unrecorded < runs.length ? `${unrecorded === 1 ? 'one' : unrecorded} of them ${unrecorded === 1 ? 'was' : 'were'} stored before mmbench recorded the machine and build, so whether they share those is unknown` : null];
  if (notes.some(Boolean)) msgs.append(el('div', { class: 'notice', id: 'other-origin' }, `These runs ${notes.filter(Boolean).join('; and ')}.`));
  // runs served by a checking loop (--verify, --debug-heap) or the bare loop
  // of bench.sh harness: their times measure that loop too
  const loopOf = (r) => [r.info && r.info.bare_loop === 1 ? 'MMBENCH_BARE_LOOP' : null, r.info && r.info.verify === 1 ? '--verify' : null,
    r.info && r.info.debug_heap === 1 ? '--debug-heap' : null].filter(Boolean).join(' ');
  const loops = new Set(runs.map(loopOf));
  if (loops.size > 1 || (loops.size === 1 && [...loops][0])) {
    const odd = runs.filter((r) => loopOf(r));
    msgs.append(el('div', { class: 'notice', id: 'checked-runs' },
      `${odd.length === runs.length ? 'All these runs were' : `Run${odd.length === 1 ? '' : 's'} ${odd.map((r) => `#${r.id} (${loopOf(r)})`).join(', ')} ${odd.length === 1 ? 'was' : 'were'}`} ` +
      `served with ${[...new Set(odd.map(loopOf))].join(', ')}, which slows every request: ` +
      (odd.length === runs.length ? 'compare their times only with each other.' : 'their times are not comparable with the others\'.')));
  }
  const failed = runs.filter((r) => r.status !== 'ok');
  if (failed.length) msgs.append(el('div', { class: 'notice error' }, `Failed: ${failed.map((r) => `#${r.id} ${r.allocator} (${r.failure || 'no reason recorded'})`).join('; ')}`));
  $('chips').replaceChildren(...allocators().map((a) => {
    const mine = runs.filter((r) => r.allocator === a), bad = mine.filter((r) => r.status !== 'ok').length;
    return pill(`${a} ×${mine.length - bad}` + (bad ? ` (+${bad} failed)` : ''));
  }));
  [...$('chips').children].forEach((c, i) => { c.firstChild.style.background = allocColor(allocators()[i]); });
  $('sec-series').hidden = !runs.some((r) => r.points.length);
  $('sec-bars').hidden = false;
  if (runs.some((r) => r.points.length)) drawSeries();
  drawBars();
  Promise.all([drawTreemaps(), drawHeapMaps()]).catch((e) => showError(msgs, e)).finally(() => { document.body.dataset.ready = '1'; });
  save();
}

async function main() {
  theme = applyTheme();
  mi = await metricInfo();
  const ids = (state.runs || '').split(',').filter((x) => x !== '');
  if (!ids.length) {
    $('subtitle').textContent = '';
    $('messages').append(el('div', { class: 'notice' }, 'No runs chosen. Pick runs on the ', el('a', { href: '/' }, 'runs page'), ' and press Compare.'));
    document.body.dataset.ready = '1';
    return;
  }
  const d = await api('/api/compare?runs=' + ids.join(','));
  allRuns = d.runs.map((r) => ({ ...r, points: r.samples.rows.map((row) => Object.fromEntries(r.samples.columns.map((k, i) => [k, row[i]]))) }));
  const wls = [...new Set(allRuns.map((r) => r.workload))];
  if (!wls.includes(state.workload)) {
    const counts = wls.map((w) => allRuns.filter((r) => r.workload === w).length);
    state.workload = wls[counts.indexOf(Math.max(...counts))];
  }
  const ws = $('workload');
  ws.replaceChildren(...wls.map((w) => {
    const n = allRuns.filter((r) => r.workload === w).length;
    return el('option', { value: w }, `${w} (${n} run${n === 1 ? '' : 's'})`);
  }));
  ws.value = state.workload;
  ws.disabled = wls.length < 2;
  ws.addEventListener('change', () => { state.workload = ws.value; state.zoom = ''; fillBaseline(); render(); });
  const bs = $('baseline');
  function fillBaseline() {
    const names = [...new Set(allRuns.filter((r) => r.workload === state.workload).map((r) => r.allocator))].sort();
    bs.replaceChildren(el('option', { value: '' }, 'none (absolute values)'), ...names.map((a) => el('option', { value: a }, a)));
    if (!names.includes(state.baseline)) state.baseline = '';
    bs.value = state.baseline || '';
  }
  fillBaseline();
  bs.addEventListener('change', () => { state.baseline = bs.value; render(); });
  $('reset-zoom').addEventListener('click', resetZoom);
  $('controls').hidden = false;
  render();
}

main().catch((e) => { $('subtitle').textContent = ''; showError($('messages'), e); document.body.dataset.ready = '1'; });
