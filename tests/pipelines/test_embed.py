#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The embedding examples in docs/examples/ keep working: convert.c (built as
tools/example-convert) converts a generated bag aligned to its left camera
and reports timealign's and hdf5sink's bus messages; record.py records a dry
run into /stereo and prints status lines from membudget/hdf5sink messages.
Outputs are checked with h5py."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

e2e.require('rosbagsrc', 'timealign', 'membudget', 'hdf5sink', 'stereorectify')

import h5py  # noqa: E402
import numpy as np  # noqa: E402

REF = '/cam_left/image_raw/compressed'


def main():
    d = e2e.tmpdir('embed')
    bag = os.path.join(d, 's.bag')
    tp = e2e.small_sample_bag(bag, duration=2.0, jitter_ms=3)
    out = os.path.join(d, 's.h5')
    r = e2e.run([os.path.join(e2e.BUILD, 'tools', 'example-convert'), bag, out, REF])
    e2e.check(r.rc == 0, 'example-convert ran', r)
    m = re.search(r'timealign: (\d+) ticks, (\d+) dropped', r.out)
    e2e.check(m is not None, 'example prints timealign-stats', r)
    ticks = int(m.group(1))
    with h5py.File(out, 'r') as f:
        for t, *_ in tp:
            n = len(f[t]['data'])
            e2e.check(n == ticks, '%s: %d rows == %d ticks' % (t, n, ticks))
            e2e.check(re.search(r'^\s+%s\s+%d rows' % (re.escape(t), n), r.out, re.M) is not None,
                      'example prints hdf5sink-done for %s' % t, r)
        e2e.check(np.array_equal(f[REF]['timestamp'][:], f['/joint_states']['timestamp'][:]),
                  'aligned timestamps')
    e2e.ok('convert.c: %d ticks on every stream' % ticks)

    rec = os.path.join(d, 'rec.h5')
    r = e2e.run([e2e.PY, os.path.join(e2e.SRC, 'docs', 'examples', 'record.py'), '--dry-run',
                 '--seconds', '2', rec], timeout=60)
    e2e.check(r.rc == 0, 'record.py ran', r)
    m = re.search(r'^done: frames (\d+) .* dropped (\d+)', r.out, re.M)
    e2e.check(m is not None, 'record.py prints its final status line', r)
    rows, dropped = int(m.group(1)), int(m.group(2))
    with h5py.File(rec, 'r') as f:
        n = len(f['stereo/data'])
        e2e.check(n == rows and n > 0, '/stereo holds the %d frames reported (got %d)' % (rows, n))
        e2e.check(bytes(f['stereo/data'][0][:2]) == b'\xff\xd8', 'JPEG rows')
    e2e.check(rows + dropped <= 60 and rows + dropped >= 55,
              'every frame of the 2 s dry run is either written or counted as dropped '
              '(%d + %d)' % (rows, dropped), r)
    e2e.ok('record.py: %d frames written, %d dropped' % (rows, dropped))
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
