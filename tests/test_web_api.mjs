// test_web_api.mjs - `mmbench serve` over a database made by real runs:
// every route's status and shape, filters and paging, CSV variants, the
// 400/404/405 answers, headers, and robustness (malformed and oversized
// requests, path traversal, a burst of concurrent requests, reading while
// `mmbench run` writes, clean shutdown on SIGINT/SIGTERM, bad options).
//
//   node test_web_api.mjs MMBENCH WORKDIR
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { makeDb, startServer, stopServer, request, raw, check, report } from './web/harness.mjs';

const [mmbench, workdir] = process.argv.slice(2);
const db = makeDb(mmbench, workdir);
const srv = await startServer(mmbench, db);
const P = srv.port;
const get = (p, o) => request(P, p, o);
const isJson = (r) => /^application\/json; charset=utf-8$/.test(r.headers['content-type'] || '');
const isCsv = (r) => /^text\/csv; charset=utf-8$/.test(r.headers['content-type'] || '');
const csvLines = (t) => t.split('\r\n').filter((l) => l !== '');

try {
  check(/^mmbench serve: http:\/\/127\.0\.0\.1:\d+\/ \(database .*web\.db\); Ctrl-C to stop\n$/.test(srv.output()), 'prints its URL and database');

  // ---- /api/metrics: the lists from harness/metrics.h
  let r = await get('/api/metrics');
  check(r.status === 200 && isJson(r), 'GET /api/metrics is JSON', r.status);
  const mkeys = r.json.metrics.map((m) => m.key), skeys = r.json.samples.map((m) => m.key);
  check(mkeys.includes('ns_per_op') && mkeys.includes('frag_jw4') && mkeys.includes('holes_per_live'), 'metrics list every metric key');
  check(r.json.metrics.every((m) => m.label && m.type && 'unit' in m && m.description), 'each metric has label, type, unit, description');
  check(skeys.join() === 'op_index,elapsed_ns,live_bytes,heap_bytes,rss_bytes,holes,live_blocks,frag', 'sample columns in order', skeys.join());
  check(r.headers['x-content-type-options'] === 'nosniff', 'nosniff header');
  check(/default-src 'none'/.test(r.headers['content-security-policy'] || '') && /script-src 'self'/.test(r.headers['content-security-policy']), 'restrictive CSP');
  check(r.headers['cache-control'] === 'no-store', 'API answers are not cached');
  r = await get('/api/metrics.csv');
  check(r.status === 200 && isCsv(r) && csvLines(r.body)[0] === 'kind,key,type,unit,label,description' &&
        csvLines(r.body).length === 1 + mkeys.length + skeys.length, 'GET /api/metrics.csv');
  check(/attachment; filename="metrics.csv"/.test(r.headers['content-disposition'] || ''), 'CSV comes as a named download');

  // ---- /api/health
  r = await get('/api/health');
  check(r.status === 200 && r.json.ok === true && r.json.runs === 8, 'GET /api/health counts the runs', r.body);

  // ---- /api/runs: shape, order, paging
  r = await get('/api/runs');
  check(r.status === 200 && r.json.total === 8 && r.json.limit === 200 && r.json.offset === 0 && r.json.runs.length === 8, 'GET /api/runs pages with defaults', r.body.slice(0, 200));
  const all = r.json.runs;
  check(all.every((x, i) => i === 0 || all[i - 1].id > x.id), 'runs come newest first');
  const r0 = all[all.length - 1];
  check(['id', 'sweep', 'rep', 'allocator', 'allocator_version', 'workload', 'status', 'started_at', 'ops', 'live', 'params',
         'n_samples', 'n_heap_blocks', 'n_composition', ...mkeys].every((k) => k in r0), 'a run carries its parameters, every metric and its counts');
  check(all.every((x) => x.status === 'ok' && typeof x.ns_per_op === 'number' && x.n_samples > 0), 'every run is ok with metrics and samples');
  r = await get('/api/runs?limit=3&offset=2');
  check(r.status === 200 && r.json.total === 8 && r.json.runs.map((x) => x.id).join() === all.slice(2, 5).map((x) => x.id).join(), 'limit and offset page the list');
  r = await get('/api/runs?limit=5&offset=100');
  check(r.status === 200 && r.json.runs.length === 0 && r.json.total === 8, 'an offset past the end is an empty page');
  r = await get('/api/runs?limit=1000');
  check(r.status === 200 && r.json.limit === 1000, 'limit 1000 is allowed');

  // ---- filters
  r = await get('/api/runs?allocator=glibc');
  check(r.status === 200 && r.json.total === 3 && r.json.runs.every((x) => x.allocator === 'glibc'), 'filter by allocator');
  r = await get('/api/runs?workload=ramp');
  check(r.status === 200 && r.json.total === 2 && r.json.runs.every((x) => x.workload === 'ramp'), 'filter by workload');
  r = await get('/api/runs?workload=random&allocator=bestfit&status=ok');
  check(r.status === 200 && r.json.total === 2, 'filters combine');
  r = await get('/api/runs?status=failed');
  check(r.status === 200 && r.json.total === 0 && r.json.runs.length === 0, 'filter by status');
  r = await get(`/api/runs?sweep=${encodeURIComponent(r0.sweep)}`);
  check(r.status === 200 && r.json.total === 6 && r.json.runs.every((x) => x.sweep === r0.sweep), 'filter by sweep');
  const day = r0.started_at.slice(0, 10);
  r = await get(`/api/runs?since=${day}&until=${day}`);
  check(r.status === 200 && r.json.total === 8, 'since/until as dates include the whole day', r.body.slice(0, 100));
  r = await get('/api/runs?until=2000-01-01');
  check(r.status === 200 && r.json.total === 0, 'until before every run');
  r = await get('/api/runs?since=2999-01-01T00:00:00Z');
  check(r.status === 200 && r.json.total === 0, 'since as a full time');
  r = await get('/api/runs?allocator=nosuch');
  check(r.status === 200 && r.json.total === 0, 'an unknown allocator matches nothing');
  r = await get('/api/runs?allocator');
  check(r.status === 200 && r.json.total === 0, 'an allocator given without a value matches nothing, as allocator= does', r.body.slice(0, 100));
  r = await get('/api/runs?since=2024-02-29&until=2400-02-29');
  check(r.status === 200 && r.json.total === 8, 'a leap day is a date');

  // ---- CSV variants of the list
  for (const p of ['/api/runs.csv', '/api/runs?format=csv']) {
    r = await get(p);
    const lines = csvLines(r.body);
    check(r.status === 200 && isCsv(r) && lines.length === 9 && lines[0].startsWith('id,sweep,rep,allocator,') && lines[0].includes(',ns_per_op,'), `GET ${p}`);
  }
  r = await get('/api/runs?format=json');
  check(r.status === 200 && isJson(r), 'format=json');

  // ---- one run, its samples, heap, composition
  const heapRun = all.find((x) => x.n_heap_blocks > 0), glibcRun = all.find((x) => x.allocator === 'glibc');
  r = await get(`/api/runs/${r0.id}`);
  check(r.status === 200 && r.json.id === r0.id && typeof r.json.info === 'object' && r.json.allocator === r0.allocator, 'GET /api/runs/ID');
  r = await get(`/api/runs/${r0.id}.csv`);
  check(r.status === 200 && isCsv(r) && csvLines(r.body).length === 2, 'GET /api/runs/ID.csv');
  r = await get(`/api/runs/${r0.id}/samples`);
  check(r.status === 200 && r.json.run_id === r0.id && r.json.columns.join() === 'idx,' + skeys.join() &&
        r.json.rows.length === r0.n_samples && r.json.rows.every((row) => row.length === r.json.columns.length), 'GET /api/runs/ID/samples', r.body.slice(0, 200));
  check(r.json.rows.every((row, i) => row[0] === i), 'samples come in order');
  r = await get(`/api/runs/${r0.id}/samples.csv`);
  check(r.status === 200 && isCsv(r) && csvLines(r.body).length === r0.n_samples + 1 && csvLines(r.body)[0].startsWith('run_id,idx,op_index'), 'GET /api/runs/ID/samples.csv');
  if (check(!!heapRun, 'some policy run has a heap map')) {
    r = await get(`/api/runs/${heapRun.id}/heap`);
    check(r.status === 200 && r.json.columns.join() === 'seq,offset,size,used' && r.json.rows.length === heapRun.n_heap_blocks, 'GET /api/runs/ID/heap');
    check(r.json.rows.every((b, i) => i === 0 || b[1] >= r.json.rows[i - 1][1] + r.json.rows[i - 1][2]), 'heap blocks are in address order and do not overlap');
    r = await get(`/api/runs/${heapRun.id}/heap?format=csv`);
    check(r.status === 200 && isCsv(r) && csvLines(r.body).length === heapRun.n_heap_blocks + 1, 'GET /api/runs/ID/heap?format=csv');
  }
  r = await get(`/api/runs/${glibcRun.id}/heap`);
  check(r.status === 200 && r.json.rows.length === glibcRun.n_heap_blocks, 'a run without a heap map answers an empty table');
  r = await get(`/api/runs/${r0.id}/composition`);
  check(r.status === 200 && r.json.columns.join() === 'seq,category,label,bytes' && r.json.rows.length === r0.n_composition, 'GET /api/runs/ID/composition');
  r = await get(`/api/runs/${r0.id}/composition.csv`);
  check(r.status === 200 && isCsv(r) && csvLines(r.body).length === r0.n_composition + 1, 'GET /api/runs/ID/composition.csv');

  // ---- compare
  const ids = all.filter((x) => x.workload === 'random').map((x) => x.id).reverse();
  r = await get(`/api/compare?runs=${ids.join(',')}`);
  check(r.status === 200 && r.json.runs.map((x) => x.id).join() === ids.join() &&
        r.json.runs.every((x) => x.samples.columns[0] === 'idx' && x.samples.rows.length === x.n_samples), 'GET /api/compare returns the runs in order with samples');
  r = await get(`/api/compare.csv?runs=${ids.slice(0, 2).join(',')}`);
  check(r.status === 200 && isCsv(r) && csvLines(r.body)[0].startsWith('allocator,workload,rep,run_id,idx') &&
        csvLines(r.body).length === 1 + all.filter((x) => ids.slice(0, 2).includes(x.id)).reduce((a, x) => a + x.n_samples, 0), 'GET /api/compare.csv');
  for (const [q, what] of [['', 'missing runs'], ['runs=', 'empty runs'], ['runs=1,1', 'a duplicate id'], ['runs=1,x', 'a bad id'],
                           ['runs=1,', 'a trailing comma'], ['runs=' + Array.from({ length: 51 }, (_, i) => i + 1).join(','), '51 ids'],
                           ['runs=1&x=2', 'an unknown parameter']]) {
    r = await get('/api/compare?' + q);
    check(r.status === 400 && isJson(r) && typeof r.json.error === 'string', `compare with ${what} is 400`, `${r.status} ${r.body}`);
  }
  r = await get(`/api/compare?runs=${ids[0]},999999`);
  check(r.status === 404 && /999999/.test(r.json.error), 'compare with an unknown run is 404');

  // ---- distinct values
  r = await get('/api/allocators');
  check(r.status === 200 && r.json.allocators.map((a) => a.name).join() === 'bestfit,firstfit,glibc' && r.json.allocators.find((a) => a.name === 'glibc').runs === 3, 'GET /api/allocators');
  r = await get('/api/workloads');
  check(r.status === 200 && r.json.workloads.map((a) => a.name).join() === 'ramp,random', 'GET /api/workloads');
  r = await get('/api/allocators.csv');
  check(r.status === 200 && isCsv(r) && csvLines(r.body).length === 4 && csvLines(r.body)[0].startsWith('name,runs,ok'), 'GET /api/allocators.csv');
  r = await get('/api/workloads?format=csv');
  check(r.status === 200 && isCsv(r) && csvLines(r.body).length === 3, 'GET /api/workloads?format=csv');

  // ---- 400s
  for (const p of ['/api/runs/abc', '/api/runs/0', '/api/runs/-1', '/api/runs/1e3', '/api/runs/12345678901234567890', '/api/runs/1x/samples',
                   '/api/runs?limit=0', '/api/runs?limit=1001', '/api/runs?limit=abc', '/api/runs?limit=', '/api/runs?offset=-1',
                   '/api/runs?since=yesterday', '/api/runs?since=2026-13-01', '/api/runs?until=2026-01-01T25:00:00Z', '/api/runs?bogus=1',
                   '/api/runs?format=xml', '/api/runs.csv?format=json', '/api/metrics?x=1', '/api/runs/1?limit=3',
                   '/api/runs?since=2026-02-31', '/api/runs?until=2025-02-29', '/api/runs?since=2026-04-31T00:00:00Z', '/api/runs?until=2100-02-29',
                   '/api/runs?limit=1&limit=abc', '/api/runs?limit=5&limit=5', '/api/compare?runs=1&runs=2', '/api/runs/1?format=csv&format=json',
                   '/api/runs?limit', '/api/runs?offset', '/api/runs?since', '/api/runs?until', '/api/runs?format', '/api/compare?runs']) {
    r = await get(p);
    check(r.status === 400 && isJson(r) && typeof r.json.error === 'string' && r.json.error.endsWith('.'), `GET ${p} is 400 with one sentence`, `${r.status} ${r.body}`);
  }
  // ---- 404s
  for (const p of ['/api/runs/999999', '/api/runs/999999/samples', '/api/runs/999999/heap', '/api/runs/999999/composition.csv',
                   '/api/runs/1/nope', '/api/nope', '/api/', '/api', '/nope', '/index.htm', '/assets/', '/assets/nope.js', '/api/health.csv',
                   '/api/nope?format=xml', '/api/nope.csv?format=json', '/api/nope?x=1&x=2', '/api/runs/1/nope?format=xml']) {
    r = await get(p);
    check(r.status === 404 && isJson(r) && typeof r.json.error === 'string', `GET ${p} is 404 JSON`, `${r.status} ${r.body.slice(0, 80)}`);
  }
  // ---- 405s and HEAD
  for (const [m, p] of [['POST', '/api/runs'], ['PUT', '/'], ['DELETE', '/api/runs/1'], ['PATCH', '/api/metrics'], ['OPTIONS', '/']]) {
    r = await get(p, { method: m, body: m === 'POST' ? 'x=1' : null });
    check(r.status === 405 && /GET, HEAD/.test(r.headers.allow || ''), `${m} ${p} is 405 with Allow`, r.status);
  }
  r = await get('/api/runs', { method: 'HEAD' });
  check(r.status === 200 && r.body === '' && isJson(r), 'HEAD /api/runs');
  r = await get(`/api/runs/${r0.id}/samples`, { method: 'HEAD' });
  check(r.status === 200 && r.body === '', 'HEAD on a streamed answer');

  // ---- assets
  for (const [p, type] of [['/', 'text/html'], ['/index.html', 'text/html'], ['/compare.html', 'text/html'], ['/assets/app.css', 'text/css'],
                           ['/assets/compare.js', 'text/javascript'], ['/assets/vendor/chart.umd.min.js', 'text/javascript'],
                           ['/assets/vendor/chartjs-chart-treemap.min.js', 'text/javascript'], ['/favicon.svg', 'image/svg+xml']]) {
    r = await get(p);
    check(r.status === 200 && r.headers['content-type'] === `${type}; charset=utf-8` && r.body.length > 100 &&
          r.headers['x-content-type-options'] === 'nosniff' && !!r.headers['content-security-policy'] && !!r.headers['cache-control'], `GET ${p} (${type})`);
  }
  r = await get('/assets/vendor/chart.umd.min.js');
  check(!/sourceMappingURL/.test(r.body), 'vendor scripts do not point at missing source maps');
  // no-cache means "ask again": an entity tag lets the answer be 304
  {
    const a = await get('/assets/app.css'), h = await get('/'), etag = a.headers.etag;
    check(/^"[0-9a-f]{16}"$/.test(etag || '') && /^"[0-9a-f]{16}"$/.test(h.headers.etag || '') && etag !== h.headers.etag,
          'assets carry an entity tag of their own', `${etag} ${h.headers.etag}`);
    check((await get('/index.html')).headers.etag === h.headers.etag, 'the tag is the same for the same bytes');
    for (const inm of [etag, `W/${etag}`, `"0000000000000000", ${etag}`, '*']) {
      r = await get('/assets/app.css', { headers: { 'If-None-Match': inm } });
      check(r.status === 304 && r.body === '' && r.headers.etag === etag && r.headers['cache-control'] === 'no-cache' &&
            r.headers['content-length'] === a.headers['content-length'], `If-None-Match: ${inm} is 304 without a body`,
            `${r.status} ${JSON.stringify(r.headers)}`);
    }
    r = await get('/assets/app.css', { method: 'HEAD', headers: { 'If-None-Match': etag } });
    check(r.status === 304, 'HEAD with the tag is 304', r.status);
    for (const inm of ['"0000000000000000"', etag.slice(0, -2) + '"', h.headers.etag]) {
      r = await get('/assets/app.css', { headers: { 'If-None-Match': inm } });
      check(r.status === 200 && r.body === a.body, `If-None-Match: ${inm} (another tag) is the file`, r.status);
    }
    r = await get('/api/health', { headers: { 'If-None-Match': '*' } });
    check(r.status === 200 && !r.headers.etag, 'API answers have no tag and ignore If-None-Match', `${r.status} ${r.headers.etag}`);
  }
  r = await get('/compare.html?runs=1,2&baseline=glibc');
  check(r.status === 200 && /<canvas|<section/.test(r.body), 'pages ignore their query string (it is client state)');

  // ---- robustness: malformed and oversized requests
  let x = await raw(P, 'GARBAGE\r\n\r\n');
  check(x.status === null || (x.status >= 400 && x.status < 500), 'garbage request line is refused', x.text.slice(0, 60));
  x = await raw(P, '\x00\x01\x02\xff\xfe binary junk\r\n\r\n');
  check(x.status === null || (x.status >= 400 && x.status < 500), 'binary junk is refused', x.text.slice(0, 60));
  x = await raw(P, 'GET /' + 'a'.repeat(100 * 1024) + ' HTTP/1.1\r\nHost: x\r\n\r\n');
  check(x.status === null || x.status === 414 || x.status === 431 || x.status === 400, '100 KiB URL is refused', x.text.slice(0, 60));
  r = await get('/api/runs?allocator=' + 'a'.repeat(5000));
  check(r.status === 414 || r.status === 200, 'a 5 KiB query is answered (not crashed)', r.status);
  r = await get('/' + 'b'.repeat(5000));
  check(r.status === 414 && isJson(r), 'a 5 KiB path is 414', r.status);
  x = await raw(P, 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'c'.repeat(100 * 1024) + '\r\n\r\n');
  check(x.status === null || x.status === 431 || x.status === 413 || x.status === 400, 'a 100 KiB header is refused', x.text.slice(0, 60));
  await new Promise((res) => setTimeout(res, 200));
  check(/^mmbench serve: libmicrohttpd: .*431.*Closing connection\.$/m.test(srv.errors()),
        'the server logs why it refused the request, one line named as its own', srv.errors().slice(-300));
  x = await raw(P, 'GET /api/health HTTP/1.1\r\nHost: x\r\n' + Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n') + '\r\n\r\n');
  check(x.status === null || x.status === 431 || x.status === 400, 'thousands of headers are refused', x.text.slice(0, 60));
  x = await raw(P, 'GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n');
  check(x.status === null || (x.status >= 400 && x.status < 500) || x.status === 200, 'absurd Content-Length handled', x.text.slice(0, 60));

  // ---- path traversal, plain and percent-encoded (raw: no client normalisation)
  for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2fetc%2fpasswd', '/assets/../../../etc/passwd',
                   '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/assets/%2e%2e/index.html', '/..%5c..%5cetc%5cpasswd', '//etc/passwd',
                   '/assets/vendor/../../../web/web.h', '/./index.html', '/index.html%00.js', '/api/../index.html']) {
    x = await raw(P, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    check(x.status === 404 || x.status === 400, `traversal ${p} is ${x.status}`, x.text.slice(0, 80));
    check(!/root:|#ifndef|MMB_WEB_H/.test(x.text), `traversal ${p} leaks nothing`);
  }

  // ---- empty segments of a query ("?a=1&&b=2", a trailing or leading '&')
  // are no parameters: not "Unknown parameter ''", not "given more than once"
  for (const p of ['/api/runs?limit=2&&offset=1', '/api/runs?&&&limit=2&offset=1', '/api/runs?limit=2&offset=1&']) {
    r = await get(p);
    check(r.status === 200 && r.json.limit === 2 && r.json.offset === 1, `GET ${p} ignores the empty segments`, `${r.status} ${r.body.slice(0, 100)}`);
  }
  r = await get('/api/metrics?&');
  check(r.status === 200 && !!r.json.metrics, 'GET /api/metrics?& is the metrics', `${r.status} ${r.body.slice(0, 100)}`);
  r = await get('/api/runs?=x');
  check(r.status === 400 && /Unknown parameter/.test(r.json.error), 'a value without a key is still an unknown parameter', r.body);

  // ---- connections are kept alive (HTTP/1.1): a second request reuses the
  // socket, and pipelined requests are all answered
  {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const viaAgent = (p) => new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: P, path: p, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, reused: req.reusedSocket, connection: res.headers.connection }));
      });
      req.on('error', reject);
    });
    const seq = [];
    for (const p of ['/api/health', '/api/metrics', `/api/runs/${r0.id}/samples`, '/', '/api/nope', '/api/health'])
      seq.push(await viaAgent(p));
    agent.destroy();
    check(seq.every((x, i) => (i === 4 ? x.status === 404 : x.status === 200) && x.connection !== 'close'), 'answers do not close the connection',
          JSON.stringify(seq));
    check(seq.slice(1).every((x) => x.reused), 'later requests reuse the first connection', JSON.stringify(seq));
    x = await raw(P, 'GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/metrics.csv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    check((x.text.match(/^HTTP\/1\.1 200 /gm) || []).length === 2 && /"ok":true/.test(x.text) && /kind,key,type/.test(x.text),
          'two pipelined requests are both answered', x.text.slice(0, 80));
    x = await raw(P, 'GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /api/metrics.csv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    check((x.text.match(/^HTTP\/1\.1 200 /gm) || []).length === 2 && /kind,key,type/.test(x.text),
          'a body sent with GET is skipped, and the next request on the connection answered', x.text.slice(0, 80));
    // a 405 keeps the connection too (it was answered before its body was
    // read, and the connection closed with the pipelined request after it)
    x = await raw(P, 'POST /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx=1GET /api/metrics.csv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    check(/^HTTP\/1\.1 405 /.test(x.text) && !/^Connection: close/mi.test(x.text.split('\r\n\r\n')[0]) &&
          (x.text.match(/^HTTP\/1\.1 200 /gm) || []).length === 1 && /kind,key,type/.test(x.text),
          'a 405 keeps the connection, and the next request on it is answered', x.text.slice(0, 120));
  }

  // ---- the absolute form of the request target (RFC 9112 3.2.2) is its path
  x = await raw(P, `GET http://127.0.0.1:${P}/api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  check(x.status === 200 && /"ok":true/.test(x.text), 'an absolute-form target is served as its path', x.text.slice(0, 80));
  x = await raw(P, 'GET HTTP://example.org HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  check(x.status === 200 && /text\/html/i.test(x.text), 'an absolute-form target without a path is /', x.text.slice(0, 80));

  // ---- answers are UTF-8 even when the request is not: a parameter name
  // with bytes that are not UTF-8 is named in the error with U+FFFD
  x = await raw(P, 'GET /api/runs?%ff%fe%22=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  {
    const body = Buffer.from(x.text, 'latin1').subarray(x.text.indexOf('\r\n\r\n') + 4);
    let j = null;
    try { j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)); } catch (e) { /* checked below */ }
    check(x.status === 400 && j && j.error === "Unknown parameter '\ufffd\ufffd\"' for /api/runs.", 'an error naming a parameter that is not UTF-8 is valid UTF-8 JSON', body.toString('latin1'));
  }

  // ---- a burst of 200 concurrent requests, all answered correctly
  const routes = ['/api/runs?limit=5', `/api/runs/${r0.id}/samples`, '/api/metrics', '/', `/api/compare?runs=${ids.join(',')}`, '/api/nope'];
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => get(routes[i % routes.length]).catch((e) => ({ status: 0, error: e }))));
  const bad = results.filter((res, i) => {
    const p = routes[i % routes.length];
    if (p === '/api/nope') return res.status !== 404;
    if (p === '/') return res.status !== 200 || !/<html/.test(res.body);
    return res.status !== 200 || !res.json;
  });
  const badAt = results.map((res, i) => [res, routes[i % routes.length]]).filter(([res]) => bad.includes(res));
  check(bad.length === 0, '200 concurrent requests all answered correctly',
        `${bad.length} not: ` + badAt.slice(0, 3).map(([b, p]) => `${p} ${b.status} ${b.error || ''}`).join('; ') +
        (bad.length ? ` -- server said: ${srv.errors().slice(-600) || '(nothing)'}` : ''));
  r = await get('/api/health');
  check(r.status === 200 && r.json.ok, 'server healthy after the robustness tests');

  // ---- reading while `mmbench run` writes the same database
  const writer = spawn(mmbench, ['run', '--alloc=glibc,bestfit', '--workload=random', '--ops=20000', '--live=1000', '--reps=3', '--quiet', `--db=${db}`], { stdio: 'ignore' });
  const writerDone = new Promise((res) => writer.on('exit', (code) => res(code)));
  let reads = 0, readErrors = 0, running = true;
  writerDone.then(() => { running = false; });
  while (running || reads < 20) {
    const res = await get('/api/runs?limit=1000');
    reads++;
    if (res.status !== 200 || !res.json) readErrors++;
    if (reads > 2000) break;
  }
  const wcode = await writerDone;
  check(wcode === 0, 'mmbench run succeeds while the server reads', wcode);
  check(readErrors === 0, `${reads} reads during the write all answered`, readErrors);
  r = await get('/api/health');
  check(r.status === 200 && r.json.runs === 14, 'the server sees the new runs', r.body);
} catch (e) {
  check(false, 'test body', e.stack || String(e));
}

// ---- shutdown: SIGINT -> exit 0
const code = await stopServer(srv, 'SIGINT');
check(code === 0, 'SIGINT stops the server with status 0', code);
const s2 = await startServer(mmbench, db);
// a second server on the same port: one sentence (libmicrohttpd's own
// message for the failed bind is not printed as well), exit 2
const busy = spawnSync(mmbench, ['serve', `--port=${s2.port}`, `--db=${db}`], { encoding: 'utf8', timeout: 10000 });
check(busy.status === 2 && /cannot listen on 127\.0\.0\.1 port \d+: Address already in use/.test(busy.stderr) &&
      busy.stderr.trim().split('\n').length === 1, 'serve on a port in use exits 2 with one sentence', `${busy.status} ${busy.stderr}`);
check(await stopServer(s2, 'SIGTERM') === 0, 'SIGTERM stops the server with status 0');

// ---- a database damaged under a streamed answer: the answer is cut short
// (the client sees its connection closed before the end of the chunks) and
// the server says why on stderr. Each page of a copy is damaged in turn
// until one lies under the samples, not under the run lookup before them.
{
  const cut = path.join(workdir, 'cut.db');
  for (const f of [cut, cut + '-wal', cut + '-shm']) fs.rmSync(f, { force: true });
  const made = spawnSync(mmbench, ['run', '--alloc=glibc', '--workload=random', '--ops=200000', '--live=1000', '--quiet', `--db=${cut}`], { encoding: 'utf8', timeout: 60000 });
  check(made.status === 0, 'a database for the damaged-stream test', made.stderr);
  const clean = fs.readFileSync(cut), PS = clean.readUInt16BE(16) === 1 ? 65536 : clean.readUInt16BE(16);
  const s3 = await startServer(mmbench, cut);
  let cutShort = null;
  for (let pg = 1; pg < clean.length / PS && !cutShort; pg++) {
    const bad = Buffer.from(clean);
    bad.fill(0xff, pg * PS, (pg + 1) * PS);
    fs.writeFileSync(cut, bad);
    const x = await raw(s3.port, 'GET /api/runs/1/samples HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    if (x.status === 200 && !x.text.endsWith('0\r\n\r\n')) cutShort = x;
  }
  await new Promise((res) => setTimeout(res, 200));
  check(cutShort !== null, 'damage under the samples cuts their answer short (no final chunk)');
  check(/^mmbench serve: an answer was cut short after \d+ rows: database disk image is malformed$/m.test(s3.errors()),
        'the server says why it cut the answer short', s3.errors().slice(-300));
  await stopServer(s3);
}

// ---- stored strings that are odd: a trace file named with a quote, a
// backslash, '<' and a newline comes back exactly; one whose name holds bytes
// that are not UTF-8 comes back as valid UTF-8 (U+FFFD for each such byte),
// in JSON and in CSV, and its params (stored JSON text) still parse
{
  const odd = path.join(workdir, 'odd.db'), dir = path.join(workdir, 'odd-traces');
  for (const f of [odd, odd + '-wal', odd + '-shm']) fs.rmSync(f, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  const made = spawnSync('/bin/sh', ['-c', `set -e
    t1="$1/$(printf 'q"uo\\\\te<b>\\nnl.trace')"; t2="$1/$(printf 'bad\\377\\376utf.trace')"
    printf 'a 1 100\\na 2 200\\nf 1\\nr 2 500\\nf 2\\n' > "$t1"; cp "$t1" "$t2"
    "$2" run --alloc=glibc --workload="trace:$t1" --quiet --db="$3"
    "$2" run --alloc=glibc --workload="trace:$t2" --quiet --db="$3"`, 'sh', dir, mmbench, odd], { encoding: 'utf8', timeout: 60000 });
  check(made.status === 0, 'a database with oddly named traces', made.stderr);
  const s4 = await startServer(mmbench, odd);
  const rawBody = async (p) => {
    const x = await raw(s4.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const bytes = Buffer.from(x.text, 'latin1');
    let text = null;
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(x.text.indexOf('\r\n\r\n') + 4)); } catch (e) { /* not UTF-8 */ }
    return { status: x.status, text };
  };
  const want1 = path.join(dir, 'q"uo\\te<b>\nnl.trace'), want2 = path.join(dir, 'bad\ufffd\ufffdutf.trace');
  let b = await rawBody('/api/runs');
  check(b.status === 200 && b.text !== null, 'GET /api/runs is valid UTF-8 whatever the stored names', b.status);
  let j = null;
  try { j = JSON.parse(b.text); } catch (e) { /* checked below */ }
  if (check(j && j.runs.length === 2, 'and valid JSON')) {
    const traces = j.runs.map((x) => x.trace).sort();
    check(traces.includes(want1) && traces.includes(want2), 'trace names come back exactly, bytes that are not UTF-8 as U+FFFD', JSON.stringify(traces));
    check(j.runs.every((x) => { try { return JSON.parse(x.params).trace === x.trace; } catch (e) { return false; } }), 'params of the odd runs parse and name the trace');
    for (const id of j.runs.map((x) => x.id)) {
      b = await rawBody(`/api/runs/${id}`);
      let one = null;
      try { one = JSON.parse(b.text); } catch (e) { /* checked below */ }
      check(b.status === 200 && one && [want1, want2].includes(one.trace), `GET /api/runs/${id} of an odd trace is valid UTF-8 JSON`, b.text && b.text.slice(0, 80));
    }
    b = await rawBody(`/api/compare?runs=${j.runs.map((x) => x.id).join(',')}`);
    check(b.status === 200 && b.text !== null && (() => { try { return JSON.parse(b.text).runs.length === 2; } catch (e) { return false; } })(),
          'GET /api/compare of the odd runs is valid UTF-8 JSON');
    b = await rawBody('/api/runs.csv');
    check(b.status === 200 && b.text !== null && b.text.includes('"' + want1.replace(/"/g, '""') + '"') && b.text.includes(want2),
          'GET /api/runs.csv is valid UTF-8, the odd names quoted as CSV quotes them', b.text && b.text.slice(0, 80));
  }
  await stopServer(s4);
}

// ---- bad options and inputs: exit 2 with one sentence
for (const [args, what, re] of [[['--port=abc'], 'a bad port', /--port/], [['--port=70000'], 'a port out of range', /--port/],
                                 [['--bind=example.org'], 'a non-numeric bind address', /--bind/], [['--frobnicate'], 'an unknown option', /unknown option/],
                                 [[`--db=${path.join(workdir, 'missing.db')}`], 'a missing database', /no database/]]) {
  const res = spawnSync(mmbench, ['serve', ...args], { encoding: 'utf8', timeout: 10000 });
  check(res.status === 2 && re.test(res.stderr) && res.stderr.trim().split('\n').length === 1, `serve with ${what} exits 2 with one sentence`, `${res.status} ${res.stderr}`);
}
const help = spawnSync(mmbench, ['serve', '--help'], { encoding: 'utf8', timeout: 10000 });
check(help.status === 0 && /--port/.test(help.stdout) && /--bind/.test(help.stdout) && /--db/.test(help.stdout), 'serve --help');
process.exit(report());
