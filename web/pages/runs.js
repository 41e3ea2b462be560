// runs.js - the runs page: every run with its parameters and key metrics,
// filters, paging, selection, and the way to the comparison.  Its state
// (filters, page, selection) lives in the query string.
import { api, metricInfo, fmtUnit, fmtCount, el, pill, readState, writeState, csvLink, showError } from './common.js';

const PAGE = 50;
const COMPARE_MAX = 50; // the most runs /api/compare takes
const KEY_METRICS = ['ns_per_op', 'steady_ns_per_op', 'lat_p99_ns', 'peak_rss_bytes', 'frag_jw4', 'rss_overhead'];
const FILTERS = ['allocator', 'workload', 'status', 'since', 'until', 'sweep'];

const state = readState();
const selected = new Set((state.sel || '').split(',').filter((x) => /^\d+$/.test(x)).map(Number));
let offset = Math.max(0, parseInt(state.offset || '0', 10) || 0);
let lastRuns = [];

const $ = (id) => document.getElementById(id);

function save() {
  const s = {};
  for (const f of FILTERS) if (state[f]) s[f] = state[f];
  if (offset) s.offset = offset;
  if (selected.size) s.sel = [...selected].join(',');
  writeState(s);
  const n = selected.size;
  $('sel-count').textContent = n ? `${n} run${n > 1 ? 's' : ''} selected` +
    (n > COMPARE_MAX ? `: at most ${COMPARE_MAX} compare at once` : '') : 'No runs selected';
  $('compare').disabled = n === 0 || n > COMPARE_MAX;
  $('compare').textContent = n ? `Compare ${n}` : 'Compare';
  $('nav-compare').href = n && n <= COMPARE_MAX ? `/compare.html?runs=${[...selected].join(',')}` : '/compare.html';
}

// Show a filter's value in its select; one no option has (a shared URL naming
// an allocator with no runs here) gets an option of its own, so the control
// does not read "all" while the list is filtered.
function showFilter(sel, v) {
  if (!v) return;
  if (![...sel.options].some((o) => o.value === v)) sel.append(el('option', { value: v }, `${v} (0)`));
  sel.value = v;
}

async function fillSelect(id, route, key) {
  const d = await api(route);
  const sel = $(id);
  for (const x of d[key]) sel.append(el('option', { value: x.name }, `${x.name} (${x.runs})`));
  showFilter(sel, state[id.slice(2)]);
}

function params() {
  const p = new URLSearchParams();
  for (const f of FILTERS) if (state[f]) p.set(f, state[f]);
  p.set('limit', PAGE);
  p.set('offset', offset);
  return p;
}

async function load() {
  const mi = await metricInfo();
  let d;
  try {
    d = await api('/api/runs?' + params());
  } catch (e) {
    $('summary').textContent = '';
    showError($('summary'), e);
    return;
  }
  lastRuns = d.runs;
  const head = $('runs').tHead, body = $('runs').tBodies[0];
  const cols = [
    ['', null], ['Run', null], ['Started (UTC)', null], ['Allocator', null], ['Workload', null], ['Status', null],
    ['Ops', 'num'], ['Live', 'num'], ['Sizes', null], ['Rep', 'num'],
    ...KEY_METRICS.map((k) => [mi.metrics[k] ? mi.metrics[k].label : k, 'num', mi.metrics[k]]),
    ['Heap map', null],
  ];
  head.replaceChildren(el('tr', {}, cols.map(([t, cls, info]) =>
    el('th', { class: cls, title: info ? info.description : null }, t))));
  body.replaceChildren();
  if (!d.runs.length) {
    body.append(el('tr', {}, el('td', { colspan: cols.length, class: 'empty' },
      d.total ? 'No runs on this page.' : FILTERS.some((f) => state[f]) ? 'No runs match the filters.'
        : 'The database has no runs yet. Record some with: mmbench run --alloc=glibc,bestfit')));
  }
  for (const r of d.runs) {
    const box = el('input', { type: 'checkbox', 'aria-label': `select run ${r.id}`, checked: selected.has(r.id), 'data-id': r.id });
    const tr = el('tr', { class: selected.has(r.id) ? 'sel' : null },
      el('td', {}, box),
      el('td', {}, el('a', { href: `/compare.html?runs=${r.id}`, title: ['open this run alone', r.machine, r.build && `build ${r.build}`, r.git_rev && `mmbench ${r.mmbench_version || ''} (git ${r.git_rev})`].filter(Boolean).join('\n') }, `#${r.id}`)),
      el('td', { class: 'muted', title: r.started_at }, (r.started_at || '').replace('T', ' ').replace('Z', '')),
      el('td', { title: r.allocator_version ? `version ${r.allocator_version}` : null }, pill(r.allocator)),
      el('td', {}, r.workload),
      el('td', { class: 'status-' + r.status, title: r.failure || null }, r.status),
      el('td', { class: 'num' }, fmtCount(r.ops)),
      el('td', { class: 'num' }, fmtCount(r.live)),
      el('td', { class: 'muted' }, r.sizes || '–'),
      el('td', { class: 'num' }, r.rep),
      KEY_METRICS.map((k) => el('td', { class: 'num' }, fmtUnit(r[k], mi.metrics[k] ? mi.metrics[k].unit : ''))),
      el('td', { class: 'muted' }, r.n_heap_blocks ? `${fmtCount(r.n_heap_blocks)} blocks` : '–'));
    box.addEventListener('change', () => {
      if (box.checked) selected.add(r.id); else selected.delete(r.id);
      tr.classList.toggle('sel', box.checked);
      save();
    });
    body.append(tr);
  }
  const end = Math.min(d.total, offset + d.runs.length);
  // An offset past the end (from a shared URL, or runs deleted since) has no "from–to".
  $('page-info').textContent = d.runs.length ? `${offset + 1}–${end} of ${d.total}` : d.total ? `none past ${d.total}` : '';
  $('prev').disabled = offset === 0;
  $('next').disabled = end >= d.total;
  const ok = d.runs.filter((r) => r.status === 'ok').length;
  $('summary').textContent = `${d.total} run${d.total === 1 ? '' : 's'}` +
    (FILTERS.some((f) => state[f]) ? (d.total === 1 ? ' matches' : ' match') + ' the filters' : ' in the database') +
    `. Select runs of one workload and compare them.` + (ok < d.runs.length ? ` ${d.runs.length - ok} on this page failed.` : '');
  $('csv').replaceChildren(csvLink('Download this page as CSV', 'runs.csv', () => {
    const keys = Object.keys(lastRuns[0] || { id: 0 });
    return { header: keys, rows: lastRuns.map((r) => keys.map((k) => r[k])) };
  }));
  save();
}

function bind() {
  for (const f of ['allocator', 'workload', 'status', 'since', 'until']) {
    const e = $('f-' + f);
    if (e.tagName === 'SELECT') showFilter(e, state[f]); else if (state[f]) e.value = state[f];
    e.addEventListener('change', () => { state[f] = e.value; offset = 0; load(); });
  }
  $('f-clear').addEventListener('click', () => {
    for (const f of FILTERS) { state[f] = ''; const e = $('f-' + f); if (e) e.value = ''; }
    offset = 0; load();
  });
  $('prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
  $('next').addEventListener('click', () => { offset += PAGE; load(); });
  $('clear-sel').addEventListener('click', () => {
    selected.clear();
    for (const b of document.querySelectorAll('#runs tbody input[type=checkbox]')) b.checked = false;
    for (const tr of document.querySelectorAll('#runs tbody tr.sel')) tr.classList.remove('sel');
    save();
  });
  $('compare').addEventListener('click', () => {
    if (selected.size && selected.size <= COMPARE_MAX) location.href = `/compare.html?runs=${[...selected].sort((a, b) => a - b).join(',')}`;
  });
}

bind();
Promise.all([fillSelect('f-allocator', '/api/allocators', 'allocators'), fillSelect('f-workload', '/api/workloads', 'workloads')])
  .then(load)
  .catch((e) => showError(document.querySelector('main'), e));
