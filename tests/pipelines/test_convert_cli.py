#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""membound-convert as users run it: a directory of bags (one in a
subdirectory) converted with --jobs 2 under one shared budget, every topic
aligned to the left camera; the result is checked row by row against a numpy
nearest-neighbour alignment of the messages read with python rosbag (same
tolerance, same drop rule); a second run skips the existing outputs, --force
converts again, --rate gives a fixed rate, a broken bag fails with exit 1 and
a one-line reason, plain progress lines are printed when stderr is not a
terminal, and peak RSS stays below a bound."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

e2e.require('rosbagsrc', 'timealign', 'membudget', 'hdf5sink')

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import rosbag  # noqa: E402

import make_bag  # noqa: E402

REF = '/cam_left/image_raw/compressed'
TOL = 20_000_000
RSS_BOUND_MB = 150


def topics():
    return e2e.small_sample_topics()


def expected_alignment(bag_path):
    """Independent oracle: for each reference message (tick = its record
    time), the nearest message of every other topic within TOL (ties → the
    earlier one); the tick is dropped if any topic has none."""
    times = {}
    with rosbag.Bag(bag_path) as bag:
        for topic, _, rec in bag.read_messages(raw=True):
            times.setdefault(topic, []).append(rec.to_nsec())
    ticks = []
    for tk in times[REF]:
        chosen = {}
        for topic, ts in times.items():
            a = np.asarray(ts, np.int64)
            k = int(np.argmin(np.abs(a - tk)))
            if abs(int(a[k]) - tk) > TOL:
                chosen = None
                break
            chosen[topic] = int(a[k])
        if chosen is not None:
            ticks.append((tk, chosen))
    return ticks, times


def check_aligned(h5_path, bag_path):
    ticks, times = expected_alignment(bag_path)
    with h5py.File(h5_path, 'r') as f:
        groups = [t for t in times if t in f]
        e2e.check(len(groups) == len(times), '%s: a group per topic (%s)' % (h5_path, list(f.keys())))
        want_ts = [tk for tk, _ in ticks]
        for topic in groups:
            g = f[topic]
            ts = list(np.asarray(g['timestamp']))
            e2e.check(ts == want_ts, '%s %s: %d aligned rows at the reference times, oracle has %d '
                      '(first %s vs %s)' % (os.path.basename(h5_path), topic, len(ts),
                                            len(want_ts), ts[:3], want_ts[:3]))
            e2e.check(len(g['data']) == len(ts), '%s: data rows == timestamps' % topic)
            if 'source_timestamp' in g:
                src = list(np.asarray(g['source_timestamp']))
                want_src = [ch[topic] for _, ch in ticks]
                e2e.check(src == want_src, '%s: chosen messages match the nearest-neighbour '
                          'oracle (first diff at %s)' % (topic, next(
                              (i for i, (a, b) in enumerate(zip(src, want_src)) if a != b), None)))
            else:
                e2e.check(topic == REF, '%s: a source_timestamp dataset' % topic)
    return len(ticks), len(times[REF])


def main():
    d = e2e.tmpdir('convert-cli')
    bags = os.path.join(d, 'bags')
    os.makedirs(os.path.join(bags, 'day2'))
    a = os.path.join(bags, 'a.bag')
    b = os.path.join(bags, 'day2', 'b.bag')
    make_bag.write_bag(a, topics(), duration=2.0, jitter_ms=3, seed=1)
    make_bag.write_bag(b, topics(), duration=1.5, jitter_ms=45, seed=2,
                       compression='lz4')
    out = os.path.join(d, 'out')
    cmd = [e2e.CONVERT, '--align-to', REF, '--tolerance', '20ms', '--jobs', '2',
           '--budget', '32M', '--output', out, '--interval', '0.1', bags]

    r = e2e.run(cmd, timeout=60)
    e2e.check(r.rc == 0, 'two bags converted with --jobs 2', r)
    e2e.check(r.maxrss_mb < RSS_BOUND_MB, 'peak RSS %.1f MB < %d MB' % (r.maxrss_mb, RSS_BOUND_MB), r)
    e2e.check('2 converted, 0 skipped, 0 failed' in r.out, 'summary line', r)
    e2e.check(any(line.startswith('progress ') for line in r.err.splitlines()),
              'plain progress lines when stderr is not a tty', r)
    e2e.check('\r' not in r.err, 'no progress bar when stderr is not a tty', r)
    for topic in ('/joint_states', '/joint_states_hf', REF):
        e2e.check(topic in r.out, 'summary table lists %s' % topic, r)
    e2e.ok('converted 2 bags in %.2f s, peak RSS %.1f MB' % (r.wall, r.maxrss_mb))
    print(r.out)
    ha = os.path.join(out, 'a.h5')
    hb = os.path.join(out, 'day2', 'b.h5')
    for h, bg in ((ha, a), (hb, b)):
        n, nref = check_aligned(h, bg)
        e2e.ok('%s: %d of %d reference ticks kept, every row matches the oracle'
               % (os.path.basename(h), n, nref))

    # skip existing outputs
    mt = (os.stat(ha).st_mtime_ns, os.stat(hb).st_mtime_ns)
    r = e2e.run(cmd, timeout=60)
    e2e.check(r.rc == 0 and '0 converted, 2 skipped, 0 failed' in r.out,
              'second run skips both outputs', r)
    e2e.check((os.stat(ha).st_mtime_ns, os.stat(hb).st_mtime_ns) == mt, 'outputs untouched', r)
    e2e.ok('existing outputs skipped')

    # --force converts again, one bag, fixed rate
    r = e2e.run([e2e.CONVERT, '--force', '--rate', '10', '--output', out, '--progress', 'none', a],
                timeout=60)
    e2e.check(r.rc == 0 and '1 converted' in r.out, '--force --rate 10', r)
    e2e.check(not any(line.startswith('progress ') for line in r.err.splitlines()),
              '--progress none prints no progress', r)
    with h5py.File(ha, 'r') as f:
        ts = np.asarray(f[REF]['timestamp'])
        e2e.check(15 <= len(ts) <= 21, '--rate 10 over 2 s gives ~20 rows (got %d)' % len(ts))
        steps = np.diff(ts)
        e2e.check(len(steps) > 0 and np.all(steps % 100_000_000 == 0),
                  '--rate 10 rows lie on a 100 ms grid (%s)' % steps[:5])
    e2e.ok('--force reconverted at a fixed rate of 10 Hz')

    # failures: one line each, non-zero exit; the good bag still converts
    bad = os.path.join(d, 'bad')
    os.makedirs(bad)
    with open(os.path.join(bad, 'broken.bag'), 'wb') as fh:
        fh.write(b'this is not a bag\n' * 10)
    r = e2e.run([e2e.CONVERT, '--output', os.path.join(d, 'out2'), bad, a], timeout=60)
    e2e.check(r.rc == 1, 'exit 1 when a bag fails', r)
    lines = [ln for ln in r.err.splitlines() if 'failed:' in ln]
    e2e.check(len(lines) == 1 and 'broken.bag' in lines[0], 'one line naming the broken bag', r)
    e2e.check('1 converted, 0 skipped, 1 failed' in r.out, 'the good bag converted anyway', r)
    e2e.check(not os.path.exists(os.path.join(d, 'out2', 'broken.h5')),
              'no output for the broken bag', r)
    e2e.ok('broken bag: %s' % lines[0])

    # --layout aloha: cameras named after their topic's first component,
    # JointState topics mapped by --aloha-role, all rows aligned
    r = e2e.run([e2e.CONVERT, '--force', '--layout', 'aloha', '--aloha-role', '/joint_states=qpos',
                 '--aloha-role', '/joint_states_hf=action', '--topics',
                 REF + ',/cam_right/image_raw/compressed,/joint_states,/joint_states_hf',
                 '--align-to', REF, '-o', os.path.join(d, 'aloha'), a], timeout=60)
    e2e.check(r.rc == 0, '--layout aloha', r)
    with h5py.File(os.path.join(d, 'aloha', 'a.h5'), 'r') as f:
        n = f['/observations/qpos'].shape[0]
        e2e.check(n == len(expected_alignment(a)[0]), 'aloha rows = aligned ticks (%d)' % n)
        e2e.check(f['/observations/qpos'].shape == (n, 14), 'qpos (N, 14)')
        e2e.check(f['/action'].shape == (n, 7), 'action (N, 7)')
        for cam in ('cam_left', 'cam_right'):
            rows = f['/observations/images/' + cam]
            e2e.check(rows.shape[0] == n and rows.ndim == 2, '%s: padded JPEG rows' % cam)
            e2e.check(bytes(rows[0][:2]) == b'\xff\xd8', '%s: JPEG' % cam)
    e2e.ok('--layout aloha: %d aligned rows' % n)

    r = e2e.run([e2e.CONVERT, '--rate', 'fast', a], timeout=30)
    e2e.check(r.rc == 2 and len(r.err.strip().splitlines()) == 1, 'usage error: exit 2, one line', r)
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
