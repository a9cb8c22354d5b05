#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pipelines/record-stereo.sh --dry-run (videotestsrc, live): 2560x720 side by
side → stereorectify → JPEG → hdf5sink flushed every second, with both
encoders (hdf5sink's TurboJPEG from the I420 planes — the default —, from
NV12 and from RGBx, and jpegenc fed I420), the two-device variant aligned by
timealign, and --no-live (the benchmark's pipeline: every counted frame is
recorded). Every frame must be in the file as a JPEG that decodes to the
right size, timestamps must increase, and peak RSS must stay below a
bound."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

e2e.require('stereorectify', 'membudget', 'hdf5sink')

import cv2  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

SCRIPT = os.path.join(e2e.SRC, 'pipelines', 'record-stereo.sh')
FRAMES = 20
FPS = '10'  # a live camera at 10 fps: leaves headroom on a loaded 2-core CI machine
RSS_BOUND_MB = 200


def check_stream(path, group, w, h, n):
    """n: exact row count, or None for "at least half of FRAMES" (a live
    recorder on a loaded 2-core machine drops frames, counted, rather than
    queueing them without bound)."""
    with h5py.File(path, 'r') as f:
        e2e.check(group in f, '%s in %s (%s)' % (group, path, list(f.keys())))
        g = f[group]
        data, ts = g['data'], np.asarray(g['timestamp'])
        if n is None:
            n = len(data)
            e2e.check(FRAMES // 2 <= n <= FRAMES, '%s: %d of %d frames recorded' % (group, n, FRAMES))
        e2e.check(len(data) == n and len(ts) == n, '%s: %d rows (got %d)' % (group, n, len(data)))
        e2e.check(np.all(np.diff(ts) > 0), '%s: timestamps increase' % group)
        for i in (0, n // 2, n - 1):
            img = cv2.imdecode(np.asarray(data[i], np.uint8), cv2.IMREAD_COLOR)
            e2e.check(img is not None and img.shape == (h, w, 3),
                      '%s[%d] decodes to %dx%d (got %s)' % (group, i, w, h,
                                                            None if img is None else img.shape))
        return ts, n


def attrs(path):
    with h5py.File(path, 'r') as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f['stream_0'].attrs.items()}


def main():
    d = e2e.tmpdir('record-stereo')
    for enc, fmt in (('hdf5sink', None), ('hdf5sink', 'NV12'), ('hdf5sink', 'RGBx'), ('jpegenc', None)):
        out = os.path.join(d, 'rec-%s-%s.h5' % (enc, fmt))
        args = ['--encoder', enc] + (['--format', fmt] if fmt else [])
        r = e2e.run(['sh', SCRIPT, '--dry-run', '--fps', FPS, '--frames', str(FRAMES)] + args + [out],
                    timeout=60)
        e2e.check(r.rc == 0, 'record-stereo.sh --dry-run %s' % ' '.join(args), r)
        e2e.check(r.maxrss_mb < RSS_BOUND_MB, 'peak RSS %.1f MB < %d MB' % (r.maxrss_mb, RSS_BOUND_MB), r)
        _, n = check_stream(out, 'stream_0', 2560, 720, None)
        a = attrs(out)
        want = fmt or 'I420'
        if enc == 'hdf5sink':
            e2e.check('format=(string)%s' % want in a['caps'], '%s: caps %s' % (want, a['caps']))
            e2e.check(a.get('color_order') == 'RGB' and a.get('jpeg_quality') == 85,
                      'TurboJPEG attributes %s' % a)
            e2e.check(('source_colorimetry' in a) == (want != 'RGBx'), 'source_colorimetry %s' % a)
        e2e.ok('%s: %d of %d frames of 2560x720 in %.1f s, peak RSS %.1f MB'
               % (' '.join(args), n, FRAMES, r.wall, r.maxrss_mb))

    # --no-live: counted frames, the source waits instead of frames dropping
    out = os.path.join(d, 'rec-nolive.h5')
    r = e2e.run(['sh', SCRIPT, '--dry-run', '--no-live', '--frames', str(FRAMES), out], timeout=60)
    e2e.check(r.rc == 0, 'record-stereo.sh --dry-run --no-live', r)
    check_stream(out, 'stream_0', 2560, 720, FRAMES)
    e2e.ok('--no-live: all %d frames in %.1f s, peak RSS %.1f MB' % (FRAMES, r.wall, r.maxrss_mb))

    e2e.require('timealign')
    out = os.path.join(d, 'rec-two.h5')
    r = e2e.run(['sh', SCRIPT, '--dry-run', '--fps', FPS, '--frames', str(FRAMES), '--two-devices', 'L', 'R', out],
                timeout=60)
    e2e.check(r.rc == 0, 'record-stereo.sh --dry-run --two-devices', r)
    tl, n = check_stream(out, 'stream_0', 1280, 720, None)
    tr, _ = check_stream(out, 'stream_1', 1280, 720, n)
    e2e.check(np.array_equal(tl, tr), 'left and right rows share their aligned timestamps')
    e2e.ok('two devices: %d pairs, peak RSS %.1f MB' % (n, r.maxrss_mb))
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
