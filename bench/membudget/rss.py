#!/usr/bin/python3
"""RSS of a fast source feeding a slow sink, without and with membudget.

Usage (from the source root): /usr/bin/python3 bench/membudget/rss.py BUILD [SECONDS]

All pipelines: videotestsrc pattern=solid-color (not live, 1920x1080,
negotiates ABGR64 = 16.6 MB per frame) -> X -> identity sleep-time=20000 (a
50 fps sink) -> fakesink.
  baseline:   no X (the sink throttles the source; a few frames in a pool)
  unbounded:  X = queue max-size-buffers=0 max-size-bytes=0 max-size-time=0
  membudget:  X = membudget budget=sink budget-bytes=64 MiB with its own
              size limits off, so only the budget bounds held + in-flight
The RSS of the gst-launch-1.0 process (VmRSS) is sampled every 100 ms; the
unbounded run stops at 2.5 GB or after SECONDS, the membudget run lasts
SECONDS. membudget's own accounting (budget-used, peak-level-bytes,
peak-inflight-bytes) comes from its membudget-stats messages (gst-launch -m).
"""
import os
import re
import subprocess
import sys
import time

MiB = 1024 * 1024
BUDGET = 64 * MiB


def rss_of(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run(desc, seconds, stop_at=None):
    env = dict(os.environ)
    cmd = ['gst-launch-1.0', '-m'] + desc.split()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=env, text=True)
    samples = []
    t0 = time.monotonic()
    import threading
    out = []
    th = threading.Thread(target=lambda: out.extend(p.stdout), daemon=True)
    th.start()
    while time.monotonic() - t0 < seconds and p.poll() is None:
        r = rss_of(p.pid)
        if r is not None:
            samples.append((time.monotonic() - t0, r))
            if stop_at and r > stop_at:
                break
        time.sleep(0.1)
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    th.join(5)
    return samples, out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else 'build'
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15
    plugdir = os.path.abspath(os.path.join(build, 'gst'))
    os.environ['GST_PLUGIN_PATH_1_0'] = plugdir
    os.environ.setdefault('GST_REGISTRY_1_0', '/tmp/membudget-bench-registry.bin')

    src = 'videotestsrc pattern=solid-color ! video/x-raw,width=1920,height=1080'
    sink = 'identity sleep-time=20000 ! fakesink'
    unb = '%s ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! %s' % (src, sink)
    mb = ('%s ! membudget budget=sink budget-bytes=%d max-size-buffers=0 '
          'max-size-bytes=0 max-size-time=0 stats-interval=100000000 ! %s' % (src, BUDGET, sink))

    base = '%s ! %s' % (src, sink)
    s0, _ = run(base, min(seconds, 5))
    s1, _ = run(unb, seconds, stop_at=2500 * 1000 * 1000)
    s2, out = run(mb, seconds)
    peak0 = max(r for _, r in s0)
    peak1 = max(r for _, r in s1)
    t_2g = next((t for t, r in s1 if r > 2000 * 1000 * 1000), None)
    peak2 = max(r for _, r in s2)
    fields = {}
    for line in out:
        if 'membudget-stats' not in line:
            continue
        for k in ('budget-used', 'peak-level-bytes', 'peak-inflight-bytes'):
            m = re.search(k + r'=\(guint64\)(\d+)', line)
            if m:
                fields[k] = max(fields.get(k, 0), int(m.group(1)))
    print('unbounded queue: RSS %.0f MB -> peak %.0f MB in %.1f s%s' % (
        s1[0][1] / 1e6, peak1 / 1e6, s1[-1][0],
        ', passed 2 GB at %.1f s' % t_2g if t_2g is not None else ', never reached 2 GB'))
    print('baseline (no queue, source throttled by the sink): peak RSS %.0f MB' % (peak0 / 1e6))
    print('membudget 64 MiB budget: peak RSS %.0f MB over %.1f s = baseline + %.1f MB' % (
        peak2 / 1e6, s2[-1][0], (peak2 - peak0) / 1e6))
    print('membudget accounting: max budget-used %.1f MiB (limit %.0f MiB), '
          'peak-level-bytes %.1f MiB, peak-inflight-bytes %.1f MiB' % (
              fields.get('budget-used', 0) / MiB, BUDGET / MiB,
              fields.get('peak-level-bytes', 0) / MiB,
              fields.get('peak-inflight-bytes', 0) / MiB))
    ok = (t_2g is not None and fields.get('budget-used', BUDGET + 1) <= BUDGET
          and peak2 - peak0 <= BUDGET)
    print('result: %s' % ('OK' if ok else 'NOT MET'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
