// browser_test.mjs - the dashboard in headless Chromium (playwright-core from
// web/node_modules): every page loads without console errors, charts draw
// (their canvases hold non-transparent pixels), selecting runs leads to the
// comparison, the baseline and zoom live in the URL, CSV links download,
// the treemap and heap map draw.  Screenshots go to the artifacts folder.
//
//   node browser_test.mjs MMBENCH WORKDIR ARTIFACTS_DIR
// Exit 0 pass, 1 fail, 77 skipped (no Chromium or no playwright-core).
// With MMBENCH_WEB_DB set it uses that database instead of making one.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDb, startServer, stopServer } from './harness.mjs';

const [mmbench, workdir, artifacts] = process.argv.slice(2);
const CHROMIUM = process.env.MMBENCH_CHROMIUM || '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const SKIP = 77;

if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: no Chromium at ${CHROMIUM} (install Debian's chromium or set MMBENCH_CHROMIUM)`);
  process.exit(SKIP);
}
let chromium;
try {
  const require = createRequire(path.join(here, '../../web/package.json'));
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.log('SKIP: playwright-core is not installed in web/node_modules (run npm ci in web/)');
  process.exit(SKIP);
}
fs.mkdirSync(artifacts, { recursive: true });

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

// Count the pixels of every canvas under selector that are not transparent.
async function canvasInk(page, selector) {
  return page.$$eval(selector, (cs) => cs.map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return { w: c.width, h: c.height, ink: n };
  }));
}

const db = process.env.MMBENCH_WEB_DB || makeDb(mmbench, workdir);
const srv = await startServer(mmbench, db);
const url = srv.url;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mmbench-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
    viewport: { width: 1440, height: 1000 },
    acceptDownloads: true,
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [];
  globalThis.pageErrors = errors;
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });

  // Runs page.
  await page.goto(url);
  await page.waitForSelector('#runs tbody tr input[type=checkbox]', { timeout: 10000 });
  const nrows = await page.$$eval('#runs tbody tr', (t) => t.length);
  check(nrows > 0, `runs page lists runs (${nrows} rows)`);
  const head = await page.$$eval('#runs thead th', (t) => t.map((x) => x.textContent));
  check(head.includes('ns per request') && head.includes('Peak RSS'), 'runs table labels come from /api/metrics');
  check(head.includes('Started (UTC)'), 'the start time says it is UTC');
  await page.screenshot({ path: path.join(artifacts, 'runs.png'), fullPage: true });

  // Filter by workload, select every run of it, compare.
  const wl = await page.$eval('#f-workload option:nth-child(2)', (o) => o.value);
  await page.selectOption('#f-workload', wl);
  await page.waitForFunction((w) => location.search.includes('workload=' + w), wl);
  await page.waitForFunction((w) => [...document.querySelectorAll('#runs tbody tr td:nth-child(5)')].every((td) => td.textContent === w), wl);
  const boxes = await page.$$('#runs tbody input[type=checkbox]');
  for (const b of boxes) await b.check();
  check(await page.$eval('#compare', (b) => !b.disabled && /Compare \d+/.test(b.textContent)), 'selecting runs enables Compare');
  check(/sel=\d+/.test(page.url()), 'the selection is in the URL');
  await Promise.all([page.waitForURL(/compare\.html\?runs=/), page.click('#compare')]);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
  if (!process.env.MMBENCH_WEB_DB)
    check(await page.$eval('#provenance', (p) => /^Measured on .*CPUs.* · build .*(gcc|clang)/.test(p.textContent)),
          'the compare page says which machine and build measured the runs');
  check(!(await page.$('#mixed-origin')), 'runs of one machine and one build get no warning about mixed origins');
  const series = await canvasInk(page, '#series canvas');
  check(series.length === 4 && series.every((c) => c.ink > 500), `4 time-series charts drew (${series.map((c) => c.ink).join(', ')} pixels)`);
  const byteTicks = await page.$$eval('#series canvas', (cs) => cs.slice(0, 3).map((c) =>
    window.Chart.getChart(c).scales.y.ticks.map((t) => t.value)));
  const binary = (v) => v.length >= 2 && Number.isInteger(Math.log2(v[1] - v[0])) && v.every((x, i) => i === 0 || x - v[i - 1] === v[1] - v[0]);
  check(byteTicks.length === 3 && byteTicks.every(binary), `byte axes step by a power of two (${byteTicks.map((v) => v.slice(0, 3).join('/')).join('; ')})`);
  const bars = await canvasInk(page, '#bars canvas');
  check(bars.length === 6 && bars.every((c) => c.ink > 500), `6 summary bar charts drew (${bars.map((c) => c.ink).join(', ')} pixels)`);
  const tms = await canvasInk(page, '#treemaps canvas');
  check(tms.length > 0 && tms.every((c) => c.ink > 1000), `treemaps drew (${tms.map((c) => `${c.w}x${c.h}:${c.ink}`).join(', ')})`);
  if (tms.length > 1) {
    const areas = tms.map((c) => c.w * c.h);
    check(Math.max(...areas) / Math.min(...areas) < 50, 'treemaps are drawn to one scale (areas within a sane ratio)');
  }
  const heaps = await canvasInk(page, '#heapmaps canvas');
  const heapRuns = await page.evaluate(async (ids) => {
    const d = await (await fetch('/api/compare?runs=' + ids)).json();
    return d.runs.filter((r) => r.n_heap_blocks > 0).length;
  }, new URL(page.url()).searchParams.get('runs'));
  if (heapRuns) check(heaps.length > 0 && heaps.every((c) => c.ink > 1000), `heap maps drew (${heaps.map((c) => c.ink).join(', ')})`);
  else console.log('note: these runs have no heap_blocks; no heap map expected');
  await page.screenshot({ path: path.join(artifacts, 'compare.png'), fullPage: true });

  // Heap-map tooltip.
  if (heaps.length) {
    const hm = await page.$('#heapmaps canvas');
    await hm.scrollIntoViewIfNeeded();
    const box = await hm.boundingBox();
    await page.mouse.move(box.x + 5, box.y + 3);
    check(await page.$eval('#tip', (t) => t.style.display === 'block' && /offset/.test(t.textContent)), 'heap map tooltip shows offset and size');
    await page.mouse.move(0, 0);
  }

  // Baseline: bars re-normalised, state in the URL, and it survives a reload.
  const names = await page.$$eval('#baseline option', (o) => o.map((x) => x.value).filter(Boolean));
  await page.selectOption('#baseline', names[0]);
  check(page.url().includes('baseline=' + names[0]), 'the baseline is in the URL');
  check(await page.$eval('#bars-note', (n) => n.textContent.startsWith('Relative to')), 'bars are relative to the baseline');
  // each bar is the median of the runs' ratios to the baseline's run of the
  // same repetition (on the random runs, which have two repetitions)
  const back = page.url();
  const rnd = (await (await fetch(url + 'api/runs?workload=random&limit=1000')).json()).runs.filter((r) => r.status === 'ok');
  await page.goto(`${url}compare.html?runs=${rnd.map((r) => r.id).join(',')}&baseline=glibc`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
  const relBars = await page.evaluate(async (base) => {
    const ids = new URLSearchParams(location.search).get('runs');
    const wl = document.getElementById('workload').value;
    const d = await (await fetch('/api/compare?runs=' + ids)).json();
    const rs = d.runs.filter((r) => r.workload === wl && r.status === 'ok');
    const med = (v) => { const s = [...v].sort((a, b) => a - b), h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
    const chart = window.Chart.getChart(document.querySelector('#bars canvas'));
    const out = [];
    chart.data.labels.forEach((label, i) => {
      const mine = rs.filter((r) => r.allocator === label);
      const q = mine.map((r) => r.ns_per_op / rs.find((b) => b.allocator === base && b.sweep === r.sweep && b.rep === r.rep).ns_per_op);
      out.push({ label, got: chart.data.datasets[0].data[i], want: med(q), n: q.length });
    });
    return out;
  }, 'glibc');
  check(relBars.length > 1 && relBars.every((b) => b.n === 2 && Math.abs(b.got - b.want) <= 1e-9 * b.want),
        `bars relative to the baseline are medians of same-repetition ratios (${relBars.map((b) => `${b.label} ${b.got}/${b.want}`).join(', ')})`);
  // every bar chart's axis reaches the ends of its whiskers
  const axes = await page.$$eval('#bars canvas', (cs) => cs.map((c) => {
    const ch = window.Chart.getChart(c), eb = ch.data.datasets[0].errorBars || [];
    return { top: ch.scales.y.max, whisker: Math.max(0, ...eb.filter(Boolean).map((b) => b.max)) };
  }));
  check(axes.length > 0 && axes.every((a) => a.top >= a.whisker), `bar axes reach the whiskers (${axes.map((a) => `${a.top}>=${a.whisker}`).join(', ')})`);
  // the allocators people compare get colours of their own
  const colours = await page.evaluate(async () => {
    const { allocColor } = await import('/assets/common.js');
    return ['glibc', 'bestfit', 'firstfit', 'nextfit', 'segregated', 'jemalloc', 'mimalloc', 'tcmalloc', 'bump', 'buffer:glibc'].map(allocColor);
  });
  check(new Set(colours).size === colours.length, `each allocator has its own colour (${colours.join(' ')})`);
  await page.goto(back);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });

  // Zoom by dragging over the first series chart: every series chart follows.
  const s0 = await page.$('#series canvas');
  await s0.scrollIntoViewIfNeeded();
  const c0 = await s0.boundingBox();
  await page.mouse.move(c0.x + c0.width * 0.35, c0.y + c0.height * 0.4);
  await page.mouse.down();
  await page.mouse.move(c0.x + c0.width * 0.6, c0.y + c0.height * 0.45, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => /zoom=\d+-\d+/.test(location.search), null, { timeout: 5000 }).catch(() => {});
  check(/zoom=\d+-\d+/.test(page.url()), 'drag-zoom is synced into the URL');
  await page.mouse.move(c0.x + c0.width * 0.5, c0.y + c0.height * 0.5);
  await page.screenshot({ path: path.join(artifacts, 'compare-zoomed.png'), fullPage: false });

  const shared = page.url();
  await page.goto(shared);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
  check(await page.$eval('#baseline', (s) => s.value) === names[0], 'reopening the shared URL restores the baseline');

  // A CSV link downloads a CSV.
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 5000 }), page.click('#series .links a')]);
  const file = path.join(artifacts, 'series-download.csv');
  await dl.saveAs(file);
  const csv = fs.readFileSync(file, 'utf8');
  check(csv.startsWith('run_id,allocator,rep,op_index,') && csv.split('\n').length > 3, 'chart CSV link downloads the data');

  // Dark mode.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
  await page.screenshot({ path: path.join(artifacts, 'compare-dark.png'), fullPage: true });
  await page.goto(url);
  await page.waitForSelector('#runs tbody tr');
  await page.screenshot({ path: path.join(artifacts, 'runs-dark.png'), fullPage: false });

  // The empty compare page explains itself.
  await page.goto(url + 'compare.html');
  await page.waitForSelector('body[data-ready="1"]');
  check(await page.$eval('#messages', (m) => /No runs chosen/.test(m.textContent)), 'compare page without runs says what to do');
  check(await page.$eval('#controls', (c) => getComputedStyle(c).display === 'none'), 'compare page without runs hides its controls');

  // A page past the end (a shared URL, runs since deleted) has no "from-to".
  await page.goto(url + '?offset=1000');
  await page.waitForSelector('#runs tbody td.empty');
  const info = await page.$eval('#page-info', (p) => p.textContent);
  check(!/^1001/.test(info) && /none past \d+/.test(info), `a page past the end says so (${info})`);
  await page.goto(url + '?allocator=nosuch');
  await page.waitForSelector('#runs tbody td.empty');
  check(await page.$eval('#runs tbody td.empty', (t) => t.textContent === 'No runs match the filters.'), 'filters that match nothing say so');
  // ... and the filter shows the value it filters by, not "all"
  check(await page.$eval('#f-allocator', (s) => s.value === 'nosuch' && s.selectedOptions[0].textContent === 'nosuch (0)'),
        'a filter value with no runs is shown in its control');
  await page.goto(url + '?status=weird');
  await page.waitForSelector('#runs tbody td.empty');
  check(await page.$eval('#f-status', (s) => s.value === 'weird'), 'an unknown status in the URL is shown in its control');

  // More runs selected than /api/compare takes (50): Compare is off and the
  // page says why, instead of leading to a page that only shows the API's 400.
  await page.goto(url + '?sel=' + Array.from({ length: 51 }, (_, i) => i + 1).join(','));
  await page.waitForSelector('#runs tbody tr');
  const over = await page.$eval('#compare', (b) => b.disabled) && await page.$eval('#sel-count', (c) => /51 runs selected.*at most 50/.test(c.textContent));
  check(over, 'selecting more than 50 runs turns Compare off and says at most 50 compare');

  // NULL metrics are no value, not 0: multi-threaded runs (steady_ns_per_op
  // is NULL) and a failed run, next to a single run of another workload
  // (25600 requests: 4 threads x 25 timed ones, the fewest that have a p99).
  if (!process.env.MMBENCH_WEB_DB) {
    const more = [[{}, ['--alloc=glibc,bestfit', '--workload=larson']], [{ MMBENCH_FAULT: 'segv:100' }, ['--alloc=nextfit', '--workload=larson']]];
    for (const [env, args] of more)
      spawnSync(mmbench, ['run', ...args, '--ops=25600', '--live=1000', '--quiet', `--db=${db}`],
                { env: { ...process.env, ...env }, timeout: 60000 });
    const list = await (await fetch(url + 'api/runs?limit=1000')).json();
    const larson = list.runs.filter((r) => r.workload === 'larson');
    const failed = larson.find((r) => r.status === 'failed'), one = list.runs.find((r) => r.workload === 'ramp');
    const recorded = larson.length === 3 && !!failed && larson.every((r) => r.steady_ns_per_op == null);
    check(recorded, 'larson runs recorded, one failed');
    if (recorded) {
      await page.goto(`${url}compare.html?runs=${[...larson.map((r) => r.id), one.id].join(',')}&workload=larson`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
      const opts = await page.$$eval('#workload option', (o) => o.map((x) => x.textContent));
      check(opts.includes('larson (3 runs)') && opts.includes('ramp (1 run)'), `workload choices count their runs (${opts.join(', ')})`);
      const cards = await page.$$eval('#bars .card', (cs) => cs.map((c) => ({
        title: c.querySelector('h3').textContent, empty: c.querySelector('.empty') ? c.querySelector('.empty').textContent : null,
        labels: c.querySelector('canvas') ? window.Chart.getChart(c.querySelector('canvas')).data.labels : null })));
      const steady = cards.find((c) => /after the ramp-up/.test(c.title));
      check(!!steady && /NULL/.test(steady.empty || '') && !steady.labels, 'a metric NULL for every run says so instead of drawing an empty axis');
      const drawn = cards.filter((c) => c.labels);
      // (in a sanitizer build glibc's own statistics are not the heap's, so a
      // figure made from them is no value for glibc too: labelled so)
      const sanitized = /sanitizer builds/.test(spawnSync(mmbench, ['list']).stdout.toString());
      check(drawn.length === 5 && drawn.every((c) => c.labels.includes('nextfit (no data)') &&
                                                     (c.labels.includes('glibc') || (sanitized && c.labels.includes('glibc (no data)')))),
            `a bar without a value is labelled no data (${drawn.map((c) => c.labels.join('/')).join('; ')})`);
      const legend = await page.$eval('#series canvas', (c) => window.Chart.getChart(c).data.datasets.map((d) => d.label));
      check(legend.includes(`nextfit #${failed.id} (no data)`), `a series without data says so in its legend (${legend.join(', ')})`);
      const chips = await page.$$eval('#chips > *', (cs) => cs.map((c) => c.textContent.trim()));
      check(chips.some((c) => /nextfit ×0 \(\+1 failed\)/.test(c)) && chips.some((c) => /glibc ×1$/.test(c)),
            `the chips count the runs that succeeded and say how many failed (${chips.join(', ')})`);
      await page.screenshot({ path: path.join(artifacts, 'compare-null.png'), fullPage: true });
      // runs of two builds side by side: the page says their times do not compare
      const ok = larson.filter((r) => r.status === 'ok');
      const upd = spawnSync('sqlite3', [db, `UPDATE runs SET build = 'Debug (-O0 -g), gcc 12.2.0' WHERE id = ${ok[0].id}`]);
      if (upd.status === 0) {
        await page.goto(`${url}compare.html?runs=${ok.map((r) => r.id).join(',')}`);
        await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
        const mixed = await page.$('#mixed-origin') ? await page.$eval('#mixed-origin', (m) => m.textContent) : '';
        check(/2 builds, so their times are not comparable: .*Debug \(-O0 -g\)/.test(mixed), `runs of two builds get a warning (${mixed})`);
        check(await page.$eval('#provenance', (p) => /^Measured on /.test(p.textContent) && !/build/.test(p.textContent)),
              'with two builds the line under the title names the machine only');
        check(!(await page.$('#other-origin')), 'runs of one commit get no note about commits');
        // and of two commits: a softer note that names them
        spawnSync('sqlite3', [db, `UPDATE runs SET git_rev = 'feedc0ffee00' WHERE id = ${ok[1].id}`]);
        await page.reload();
        await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
        const other = await page.$('#other-origin') ? await page.$eval('#other-origin', (m) => m.textContent) : '';
        check(/measured by 2 commits of mmbench \(.*feedc0ffee00/.test(other), `runs of two commits get a note (${other})`);
        // runs that do not share a parameter: the title says so instead of naming the first run's
        spawnSync('sqlite3', [db, `UPDATE runs SET ops = 12345 WHERE id = ${ok[1].id}`]);
        await page.reload();
        await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
        const sub = await page.$eval('#subtitle', (t) => t.textContent);
        check(/mixed request counts/.test(sub) && !/requests/.test(sub.replace('mixed request counts', '')), `mixed request counts are called mixed (${sub})`);
        // a run served with --verify among plain ones: a warning that names it
        check(!(await page.$('#checked-runs')), 'plain runs get no note about checking loops');
        spawnSync('sqlite3', [db, `INSERT INTO run_info (run_id, key, value) VALUES (${ok[1].id}, 'verify', 1)`]);
        await page.reload();
        await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
        const chk = await page.$('#checked-runs') ? await page.$eval('#checked-runs', (m) => m.textContent) : '';
        check(new RegExp(`^Run #${ok[1].id} \\(--verify\\) was served with --verify, which slows every request: their times are not comparable`).test(chk),
              `a run checked with --verify gets a warning that names it (${chk})`);
        // a baseline that measured 0: its quotients do not exist, which is not "no data"
        spawnSync('sqlite3', [db, `UPDATE runs SET peak_rss_bytes = 0 WHERE id = ${ok[0].id}`]);
        await page.goto(`${url}compare.html?runs=${ok.map((r) => r.id).join(',')}&baseline=${ok[0].allocator}`);
        await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
        const rssCard = await page.$$eval('#bars .card', (cs) => cs.map((c) => ({ title: c.querySelector('h3').textContent,
          empty: c.querySelector('.empty') ? c.querySelector('.empty').textContent : '' })).find((c) => /peak rss/i.test(c.title)));
        check(!!rssCard && new RegExp(`The baseline ${ok[0].allocator} measured 0 here, so there is no ratio to it`).test(rssCard.empty),
              `a baseline of 0 says there is no ratio, not no data (${rssCard && rssCard.empty})`);
      } else console.log('note: no sqlite3 command; the mixed-build check is skipped');
    }
  }

  // One sweep of two traces: two request streams of the workload "trace" in
  // the same sweep and repetition.  A ratio to the baseline pairs runs of one
  // stream (as export --summary does), so the baseline's own bar is 1.
  if (!process.env.MMBENCH_WEB_DB) {
    const t2 = path.join(workdir, 'two.trace');
    fs.writeFileSync(t2, Array.from({ length: 400 }, (_, i) => (i % 4 === 3 ? `f ${i - 1}` : `a ${i} ${16 + (i * 37) % 2000}`)).join('\n') + '\n');
    const t1 = path.join(here, '../data/sparse.trace');
    const tr = spawnSync(mmbench, ['run', '--alloc=glibc,bestfit', `--workload=trace:${t1},trace:${t2}`, '--reps=2', '--quiet', `--db=${db}`],
                         { encoding: 'utf8', timeout: 60000 });
    const traces = (await (await fetch(url + 'api/runs?workload=trace&limit=1000')).json()).runs;
    const twoStreams = tr.status === 0 && traces.length === 8;
    check(twoStreams, `a sweep of two traces recorded (${tr.status} ${tr.stderr})`);
    if (twoStreams) {
      await page.goto(`${url}compare.html?runs=${traces.map((r) => r.id).join(',')}&baseline=glibc`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
      const got = await page.evaluate(async () => {
        const d = await (await fetch('/api/compare?runs=' + new URLSearchParams(location.search).get('runs'))).json();
        const med = (v) => { const s = [...v].sort((a, b) => a - b), h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
        const chart = window.Chart.getChart(document.querySelector('#bars canvas'));
        return chart.data.labels.map((label, i) => {
          const q = d.runs.filter((r) => r.allocator === label).map((r) => r.ns_per_op / d.runs.find((b) => b.allocator === 'glibc' &&
            b.sweep === r.sweep && b.rep === r.rep && b.stream_hash === r.stream_hash).ns_per_op);
          return { label, got: chart.data.datasets[0].data[i], want: med(q), eb: chart.data.datasets[0].errorBars[i] };
        });
      });
      const glibcBar = got.find((b) => b.label === 'glibc');
      check(!!glibcBar && glibcBar.got === 1 && glibcBar.eb.min === 1 && glibcBar.eb.max === 1,
            `the baseline's bar is 1 when a sweep holds two streams of one workload (${JSON.stringify(glibcBar)})`);
      check(got.length === 2 && got.every((b) => Math.abs(b.got - b.want) <= 1e-9 * b.want),
            `ratios pair each run with the baseline's run of the same stream (${got.map((b) => `${b.label} ${b.got}/${b.want}`).join(', ')})`);
      // the 8-request trace times no request: p99 is NULL for every run, the baseline's and the others'
      const short = traces.filter((r) => r.trace === fs.realpathSync(t1)).map((r) => r.id);
      await page.goto(`${url}compare.html?runs=${short.join(',')}&baseline=glibc`);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
      const p99 = await page.$$eval('#bars .card', (cs) => cs.map((c) => ({ title: c.querySelector('h3').textContent,
        empty: c.querySelector('.empty') ? c.querySelector('.empty').textContent : '' })).find((c) => /p99/i.test(c.title)));
      check(short.length === 4 && !!p99 && /NULL for every run/.test(p99.empty),
            `a metric NULL for every run says so, not that the baseline lacks it (${p99 && p99.empty})`);
    }
  }

  check(errors.length === 0, `no console errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
} catch (e) {
  check(false, `browser session: ${e.stack || e}`);
  if (globalThis.pageErrors && globalThis.pageErrors.length) console.log('page errors: ' + globalThis.pageErrors.join(' | '));
  if (ctx) {
    const pg = ctx.pages()[0];
    if (pg) await pg.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
  }
} finally {
  if (ctx) await ctx.close().catch(() => {});
  await stopServer(srv);
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(failures ? `${failures} check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
