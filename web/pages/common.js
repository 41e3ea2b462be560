// common.js - what both pages share: the API client, the metric labels
// (served from harness/metrics.h through /api/metrics), number formatting,
// stable allocator colours, theme colours for charts, CSV downloads and
// URL state.

export async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new Error((body && body.error) || `${path}: HTTP ${res.status}`);
  return body;
}

let metricsCache = null;
// { metrics: {key: info}, samples: {key: info} } from /api/metrics.
export async function metricInfo() {
  if (!metricsCache) {
    const m = await api('/api/metrics');
    metricsCache = { metrics: {}, samples: {}, metricList: m.metrics, sampleList: m.samples };
    for (const x of m.metrics) metricsCache.metrics[x.key] = x;
    for (const x of m.samples) metricsCache.samples[x.key] = x;
  }
  return metricsCache;
}

export function fmtBytes(v) {
  if (v == null || !isFinite(v)) return '–';
  const a = Math.abs(v);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0, x = a;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return (v < 0 ? '-' : '') + (i === 0 ? x.toFixed(0) : x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0)) + ' ' + units[i];
}
export function fmtNs(v) {
  if (v == null || !isFinite(v)) return '–';
  if (v >= 1e9) return (v / 1e9).toFixed(2) + ' s';
  if (v >= 1e6) return (v / 1e6).toFixed(2) + ' ms';
  if (v >= 1e3) return (v / 1e3).toFixed(2) + ' µs';
  return v.toFixed(v < 10 ? 2 : 1) + ' ns';
}
export function fmtNum(v, digits = 3) {
  if (v == null || !isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toLocaleString('en-US');
}
export function fmtCount(v) {
  if (v == null || !isFinite(v)) return '–';
  if (v >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (v >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  return String(v);
}
// Format a value by its unit from the metric list.
export function fmtUnit(v, unit) {
  if (unit === 'B') return fmtBytes(v);
  if (unit === 'ns') return fmtNs(v);
  return fmtNum(v);
}

// A stable colour per allocator name: a fixed palette for the usual ones,
// a hash into the palette for the rest.
const PALETTE = ['#4f6bed', '#f04438', '#12b76a', '#f79009', '#7a5af8', '#06aed4', '#ee46bc', '#84cc16', '#a15c07', '#667085', '#0e7090'];
const KNOWN = ['glibc', 'bestfit', 'firstfit', 'nextfit', 'segregated', 'jemalloc', 'mimalloc', 'tcmalloc', 'cuda', 'cuda-async', 'bump'];
// other names (buffer:NAME, ...) from colours none of the known ones use
const OTHERS = ['#b42318', '#027a48', '#6941c6', '#c4320a', '#155eef', '#dd2590', '#4e5ba6', '#854a0e'];
export function allocColor(name) {
  const k = KNOWN.indexOf(name);
  if (k >= 0) return PALETTE[k];
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return OTHERS[h % OTHERS.length];
}
export function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

export function themeColors() {
  const s = getComputedStyle(document.documentElement);
  const v = (k) => s.getPropertyValue(k).trim();
  return { text: v('--text'), muted: v('--muted'), grid: v('--grid'), panel: v('--panel'), border: v('--border'),
           used: v('--used'), free: v('--free'), accent: v('--accent') };
}

// CSV from a header and rows, and an <a download> that offers it.
export function toCsv(header, rows) {
  const q = (x) => {
    if (x == null || (typeof x === 'number' && !isFinite(x))) return '';
    const s = String(x);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [header, ...rows].map((r) => r.map(q).join(',')).join('\r\n') + '\r\n';
}
export function csvLink(label, filename, make) {
  const a = el('a', { href: '#', class: 'csv', title: 'Download this chart\'s data as CSV' }, label);
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    const { header, rows } = make();
    const url = URL.createObjectURL(new Blob([toCsv(header, rows)], { type: 'text/csv' }));
    const d = el('a', { href: url, download: filename });
    document.body.appendChild(d);
    d.click();
    d.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  return a;
}

// Tiny DOM builder: el('div', {class: 'x', style: {width: '3px'}}, child, 'text', ...).
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'checked') e.checked = !!v;
    else if (k === 'style') Object.assign(e.style, v); // CSSOM: allowed by the CSP, attributes are not
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c != null) e.append(c instanceof Node ? c : String(c));
  return e;
}

// URL state: read the query string into an object, and write it back
// without adding history entries (the address can be shared as it is).
export function readState() {
  return Object.fromEntries(new URLSearchParams(location.search));
}
export function writeState(state) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v != null && v !== '') p.set(k, v);
  const qs = p.toString();
  history.replaceState(null, '', location.pathname + (qs ? '?' + qs.replace(/%2C/g, ',') : ''));
}

export function pill(name) {
  return el('span', { class: 'pill' }, el('span', { class: 'dot', style: { background: allocColor(name) } }), name);
}

export function showError(where, err) {
  where.append(el('div', { class: 'notice error' }, String(err.message || err)));
}
