#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pipelines/convert.sh as written: a generated sample bag converted with the
default alignment (the first camera topic), then with --rate and --topics;
the output is read with h5py (a group per topic, the same aligned timestamps
on every stream, |aligned - source time| within the tolerance, JPEG rows that
decode) and the run's peak RSS stays below a bound."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

e2e.require('rosbagsrc', 'timealign', 'membudget', 'hdf5sink')

import cv2  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

SCRIPT = os.path.join(e2e.SRC, 'pipelines', 'convert.sh')
RSS_BOUND_MB = 120


def main():
    d = e2e.tmpdir('convert-sh')
    bag = os.path.join(d, 's.bag')
    tp = e2e.small_sample_bag(bag, duration=2.0, jitter_ms=4)
    out = os.path.join(d, 's.h5')
    r = e2e.run(['sh', SCRIPT, bag, out], timeout=60)
    e2e.check(r.rc == 0, 'convert.sh ran', r)
    e2e.check(r.maxrss_mb < RSS_BOUND_MB, 'peak RSS %.1f MB < %d MB' % (r.maxrss_mb, RSS_BOUND_MB), r)
    with h5py.File(out, 'r') as f:
        names = [t for t, *_ in tp]
        for t in names:
            e2e.check(t in f, '%s stored (file has %s)' % (t, list(f.keys())))
        ts0 = np.asarray(f[names[0]]['timestamp'])
        e2e.check(50 <= len(ts0) <= 61, '~60 camera ticks in 2 s (got %d)' % len(ts0))
        for t in names:
            g = f[t]
            e2e.check(np.array_equal(np.asarray(g['timestamp']), ts0), '%s: same aligned ticks' % t)
            if 'source_timestamp' in g:
                err = np.abs(np.asarray(g['source_timestamp']) - ts0)
                e2e.check(err.max() <= 20_000_000, '%s: max |error| %.2f ms <= 20 ms' % (t, err.max() / 1e6))
        jpg = np.asarray(f[names[0]]['data'][5], np.uint8)
        img = cv2.imdecode(jpg, cv2.IMREAD_COLOR)
        e2e.check(img is not None and img.shape == (48, 64, 3), 'camera rows are JPEGs that decode')
    e2e.ok('convert.sh default alignment: %d ticks, peak RSS %.1f MB' % (len(ts0), r.maxrss_mb))

    out2 = os.path.join(d, 's2.h5')
    r = e2e.run(['sh', SCRIPT, '--rate', '10', '--topics', '/joint_states,/joint_states_hf', bag, out2],
                timeout=60)
    e2e.check(r.rc == 0, 'convert.sh --rate 10 --topics', r)
    with h5py.File(out2, 'r') as f:
        e2e.check(sorted(f.keys()) == ['joint_states', 'joint_states_hf'],
                  'only the chosen topics (%s)' % list(f.keys()))
        n = len(f['/joint_states/timestamp'])
        e2e.check(19 <= n <= 21, '--rate 10 over 2 s gives ~20 rows (got %d)' % n)
        pos = f['/joint_states/data']['position'][0]
        e2e.check(len(pos) == 14, 'JointState position readable as a compound field')
    e2e.ok('convert.sh --rate 10: %d rows' % n)

    r = e2e.run(['sh', SCRIPT, '--topics', '/nope', bag, out2], timeout=30)
    e2e.check(r.rc != 0 and '/nope' in r.err, 'unknown topic: clear error', r)
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
