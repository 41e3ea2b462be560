// harness.mjs - what the web tests share: a database made by real runs, a
// server of our own on a free port, and small HTTP helpers (node's http for
// well-formed requests, raw sockets for malformed ones).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

// Make dir/web.db with `mmbench run` (the sweep the API tests are written
// against): 3 allocators x 2 reps of random, plus 2 allocators of ramp.
// 25600 requests: 100 of them are timed, the fewest that have a p99.
export function makeDb(mmbench, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const db = path.join(dir, 'web.db');
  for (const f of [db, db + '-wal', db + '-shm']) fs.rmSync(f, { force: true });
  const sweeps = [
    ['--alloc=glibc,bestfit,firstfit', '--workload=random', '--ops=25600', '--live=1000', '--reps=2'],
    ['--alloc=glibc,bestfit', '--workload=ramp', '--ops=25600', '--live=1000', '--reps=1'],
  ];
  for (const args of sweeps) {
    const r = spawnSync(mmbench, ['run', ...args, '--quiet', `--db=${db}`], { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) throw new Error(`mmbench run ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return db;
}

export function startServer(mmbench, db, extra = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(mmbench, ['serve', '--port=0', `--db=${db}`, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Error('server did not print its URL within 10 s')); }, 10000);
    p.stderr.on('data', (d) => { err += d; });
    p.stdout.on('data', (d) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) { clearTimeout(t); resolve({ proc: p, port: +m[1], url: m[0], output: () => out, errors: () => err }); }
    });
    p.on('exit', (code) => { clearTimeout(t); reject(new Error(`server exited with ${code}: ${out}${err}`)); });
  });
}

export function stopServer(srv, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (srv.proc.exitCode !== null) return resolve(srv.proc.exitCode);
    const t = setTimeout(() => srv.proc.kill('SIGKILL'), 5000);
    srv.proc.removeAllListeners('exit');
    srv.proc.on('exit', (code, sig) => { clearTimeout(t); resolve(code === null ? sig : code); });
    srv.proc.kill(signal);
  });
}

// A well-formed request: {status, headers, body (string), json (or null)}.
export function request(port, pathname, { method = 'GET', headers = {}, body = null } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.setTimeout(15000, () => req.destroy(new Error(`timeout: ${method} ${pathname}`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Raw bytes to the server; resolves with whatever comes back before the
// server closes (or 5 s pass): {status (number or null), text}.
export function raw(port, bytes) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? +m[1] : null, text });
    };
    s.setTimeout(5000, () => { s.destroy(); });
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', done);
    s.on('connect', () => s.write(bytes, () => {}));
  });
}

let failures = 0, passes = 0;
export function check(ok, what, detail = '') {
  if (ok) passes++; else failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? ' -- ' + detail : ''}`);
  return ok;
}
export function report() {
  console.log(`${passes} passed, ${failures} failed`);
  return failures ? 1 : 0;
}
