#!/usr/bin/env python3
"""make_fixture.py DB - a database shaped exactly like harness/SCHEMA.md
(schema version 1) with plausible runs, for developing the dashboard when no
`mmbench run` is at hand.  The API tests use a database made by real runs."""
import json, math, os, random, re, sqlite3, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
src = open(os.path.join(ROOT, 'harness', 'metrics.h')).read()
def xlist(name):
    block = src.split('#define ' + name + '(X)')[1].split('\n\n')[0]
    return re.findall(r'X\((\w+), (INTEGER|REAL)', block)
metrics, scols = xlist('HX_METRICS'), xlist('HX_SAMPLE_COLS')

db = sqlite3.connect(sys.argv[1])
db.executescript("""
PRAGMA journal_mode=WAL; PRAGMA user_version=1;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE runs (id INTEGER PRIMARY KEY, sweep TEXT NOT NULL, rep INTEGER NOT NULL,
  allocator TEXT NOT NULL, allocator_version TEXT, workload TEXT NOT NULL, status TEXT NOT NULL,
  failure TEXT, signal INTEGER, exit_code INTEGER, started_at TEXT NOT NULL, finished_at TEXT,
  ops INTEGER, seed INTEGER, threads INTEGER, sizes TEXT, live INTEGER, lifetime TEXT, touch TEXT,
  trace TEXT, samples_requested INTEGER, stream_hash TEXT, params TEXT, host TEXT,
  mmbench_version TEXT, git_rev TEXT, %s);
CREATE TABLE samples (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, %s, PRIMARY KEY (run_id, idx)) WITHOUT ROWID;
CREATE TABLE heap_blocks (run_id INTEGER NOT NULL, seq INTEGER NOT NULL, offset INTEGER NOT NULL,
  size INTEGER NOT NULL, used REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE composition (run_id INTEGER NOT NULL, seq INTEGER NOT NULL, category TEXT NOT NULL,
  label TEXT NOT NULL, bytes REAL NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE run_info (run_id INTEGER NOT NULL, key TEXT NOT NULL, value REAL,
  PRIMARY KEY (run_id, key)) WITHOUT ROWID;
""" % (', '.join('%s %s' % m for m in metrics), ', '.join('%s %s' % c for c in scols)))
db.execute("INSERT INTO meta VALUES ('created_by', 'make_fixture.py'), ('created_at', '2026-11-20T10:00:00Z')")
rnd = random.Random(7)
rid = 0
for w, wl in enumerate(['random', 'ramp']):
    for a, (alloc, waste, speed) in enumerate([('glibc', 0.18, 48), ('bestfit', 0.06, 95), ('firstfit', 0.11, 80)]):
        for rep in range(2):
            rid += 1
            m = {k: None for k, _ in metrics}
            ops, n = 20000, 200
            L = [int(1e6 * (1 - math.exp(-i / 30)) * (1 + 0.05 * math.sin(i / 7)) + 1000) for i in range(n)]
            if wl == 'ramp':
                L = [int(2e6 * i / n) + 1000 for i in range(n)]
            H = [int(l * (1 + waste * (1 + 0.3 * rnd.random())) / 4096 + 1) * 4096 for l in L]
            R = [h + 65536 for h in H]
            m.update(wall_ns=ops * speed, ns_per_op=speed * (1 + 0.05 * rnd.random()), steady_ns_per_op=speed * 0.8, lat_p99_ns=speed * 4 * (1 + rnd.random() * 0.2),
                     lat_p50_ns=speed * .8, peak_live_bytes=max(L), peak_heap_bytes=max(H), peak_rss_bytes=max(R) + 2000000,
                     rss_baseline_bytes=2000000, frag_jw4=max(H) / max(L) - 1, rss_overhead=max(R) / max(L) - 1)
            m['ops_per_sec'] = 1e9 / m['ns_per_op']
            if alloc != 'glibc':
                m.update(holes=120 + a * 10, live_blocks=1000, frag_internal=0.02, frag_external=waste / 2)
            cols = ['id', 'sweep', 'rep', 'allocator', 'allocator_version', 'workload', 'status', 'started_at',
                    'finished_at', 'ops', 'seed', 'threads', 'sizes', 'live', 'lifetime', 'touch',
                    'samples_requested', 'stream_hash', 'params', 'host', 'mmbench_version', 'git_rev'] + [k for k, _ in metrics]
            vals = [rid, 'sweep-%d' % w, rep, alloc, '2.36' if alloc == 'glibc' else '0.1.0', wl, 'ok',
                    '2026-11-2%dT10:%02d:00Z' % (w, rid), '2026-11-2%dT10:%02d:01Z' % (w, rid), ops, 42, 1,
                    'uniform:16:4096', 1000, 'exp', 'page', n, '%016x' % (w + 99),
                    json.dumps({'ops': ops, 'live': 1000}), 'fixture', '0.1.0', 'abc'] + [m[k] for k, _ in metrics]
            db.execute('INSERT INTO runs (%s) VALUES (%s)' % (','.join(cols), ','.join('?' * len(cols))), vals)
            for i in range(n):
                db.execute('INSERT INTO samples VALUES (?,?,?,?,?,?,?,?,?,?)',
                           (rid, i, i * ops // n, i * ops // n * speed, L[i], H[i], R[i], 100 + i % 17, 900 + i, H[i] / L[i] - 1))
            if alloc != 'glibc':
                off = 0
                for s in range(600):
                    size = rnd.choice([32, 64, 128, 256, 1024, 4096]) * (1 if rnd.random() > waste else 3)
                    db.execute('INSERT INTO heap_blocks VALUES (?,?,?,?,?)', (rid, s, off, size, 0.0 if rnd.random() < waste * 2 else 1.0))
                    off += size
            comp = [('payload', 'payload', max(L)), ('overhead', 'headers', max(L) * 0.03),
                    ('free', 'free 64-127 B', max(H) * waste * 0.4), ('free', 'free 1-4 KiB', max(H) * waste * 0.4),
                    ('top', 'top of heap', max(H) * waste * 0.2), ('metadata', 'allocator metadata', 30000)]
            for s, c in enumerate(comp):
                db.execute('INSERT INTO composition VALUES (?,?,?,?,?)', (rid, s) + c)
            db.execute('INSERT INTO run_info VALUES (?,?,?)', (rid, 'stats.arena', max(H)))
rid += 1
db.execute("INSERT INTO runs (id, sweep, rep, allocator, workload, status, failure, signal, started_at) VALUES (?, 'sweep-9', 0, 'nextfit', 'random', 'failed', 'The child was killed by SIGSEGV.', 11, '2026-11-22T09:00:00Z')", (rid,))
db.commit()
