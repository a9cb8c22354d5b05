#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pipelines/avatar.sh on a generated frame bank: 8 s of content as fast as
possible into HDF5 (/video, /audio): one video frame per 40 ms audio chunk,
the same timestamps on both (audio/video offset 0), the mouth patch
composited over the idle loop, and bounded peak RSS; then a short live run
(real time, 25 fps) to fakesinks that must last about as long as its audio."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

e2e.require('hdf5src', 'timealign', 'membudget', 'hdf5sink')

import h5py  # noqa: E402
import numpy as np  # noqa: E402

SCRIPT = os.path.join(e2e.SRC, 'pipelines', 'avatar.sh')
BANK = os.path.join(e2e.SRC, 'pipelines', 'make-frame-bank.py')
RSS_BOUND_MB = 150


def main():
    d = e2e.tmpdir('avatar')
    bank = os.path.join(d, 'bank.h5')
    r = e2e.run([e2e.PY, BANK, '-o', bank, '--size', '160x120', '--idle-frames', '10'], timeout=60)
    e2e.check(r.rc == 0, 'make-frame-bank.py', r)

    out = os.path.join(d, 'avatar.h5')
    r = e2e.run(['sh', SCRIPT, '--fast', '--duration', '8', '--output', out, bank], timeout=60)
    e2e.check(r.rc == 0, 'avatar.sh --fast --output FILE.h5', r)
    e2e.check(r.maxrss_mb < RSS_BOUND_MB, 'peak RSS %.1f MB < %d MB' % (r.maxrss_mb, RSS_BOUND_MB), r)
    with h5py.File(out, 'r') as f:
        v, a = f['stream_0'], f['stream_1']
        nv, na = len(v['timestamp']), len(a['timestamp'])
        e2e.check(na == 200, '200 audio chunks of 40 ms (got %d)' % na)
        e2e.check(nv == na, 'one video frame per audio chunk (%d vs %d)' % (nv, na))
        tv, ta = np.asarray(v['timestamp']), np.asarray(a['timestamp'])
        off = np.abs(tv - ta).max()
        e2e.check(off <= 40_000_000, 'audio/video offset %.1f ms <= 40 ms' % (off / 1e6))
        e2e.check(np.all(np.diff(tv) == 40_000_000), 'video exactly 25 fps')
        caps = e2e.as_str(v.attrs.get('caps', '') or v['data'].attrs.get('caps', ''))
        e2e.check('video/x-raw' in caps, 'video stored as raw frames (%s)' % caps)
        f0 = np.asarray(v['data'][0])
        e2e.check(f0.ndim == 3 and f0.shape[0] == 120 and f0.shape[1] == 160,
                  'video frames are 160x120 (%s)' % (f0.shape,))
        # the idle loop moves (ping-pong of 10 frames) and the mouth patch is there
        e2e.check(not np.array_equal(np.asarray(v['data'][0]), np.asarray(v['data'][5])),
                  'the idle loop plays')
    e2e.ok('fast run: %d frames, offset %.1f ms, %.1f s wall, peak RSS %.1f MB'
           % (nv, off / 1e6, r.wall, r.maxrss_mb))

    r = e2e.run(['sh', SCRIPT, '--duration', '3', '--output', 'fake', bank], timeout=60)
    e2e.check(r.rc == 0, 'avatar.sh live 3 s', r)
    e2e.check(2.5 <= r.wall <= 15, 'live run paced by the audio clock (%.1f s for 3 s)' % r.wall, r)
    e2e.check(r.maxrss_mb < RSS_BOUND_MB, 'live peak RSS %.1f MB' % r.maxrss_mb, r)
    e2e.ok('live run: %.1f s wall for 3 s of audio' % r.wall)
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
