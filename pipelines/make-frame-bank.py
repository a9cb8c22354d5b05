#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Generate a demo avatar frame bank (HDF5) for pipelines/avatar.sh.

A frame bank holds what a talking-head renderer loops over (the DH_live /
LiveTalking structure): an idle loop of full frames (written forward then
backward, so looping it has no jump) and a set of small mouth frames that a
renderer would pick from the audio; the demo cycles them. Both are stored as
hdf5sink / hdf5src streams: one group per stream with

  <group>/data        uint8 (N, H, W, 3), one chunk per frame (raw RGB), or
                      with --jpeg a 1-D variable-length uint8 dataset of JPEGs
  <group>/timestamp   int64 (N,), ns: i * 40 ms (25 fps)
  attribute caps      GStreamer caps of the stream, e.g.
                      "video/x-raw, format=(string)RGB, width=(int)320, ..."

(on the group and on its `data` dataset), which is all hdf5src needs.

Run with the system interpreter (Debian's h5py/numpy/cv2):
  /usr/bin/python3 pipelines/make-frame-bank.py -o /tmp/bank.h5
  /usr/bin/python3 pipelines/make-frame-bank.py -o bank.h5 --size 640x480 --idle-frames 50 --jpeg
"""

import argparse
import math
import sys

try:
    import cv2
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover
    sys.stderr.write('make-frame-bank.py: %s (run with /usr/bin/python3 after '
                     'scripts/setup-deps)\n' % e)
    sys.exit(2)

FRAME_NS = 40_000_000  # 25 fps


def raw_caps(w, h):
    return ('video/x-raw, format=(string)RGB, width=(int)%d, height=(int)%d, '
            'framerate=(fraction)25/1, pixel-aspect-ratio=(fraction)1/1, '
            'interlace-mode=(string)progressive' % (w, h))


def jpeg_caps(w, h):
    return ('image/jpeg, width=(int)%d, height=(int)%d, '
            'framerate=(fraction)25/1, pixel-aspect-ratio=(fraction)1/1' % (w, h))


def idle_frame(w, h, i, n):
    """A face that sways and blinks: frame i of n forward frames."""
    t = i / max(n, 1)
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (40 + int(20 * t), 60, 90)  # RGB background gradient over time
    cx = int(w / 2 + 0.04 * w * math.sin(2 * math.pi * t))
    cy = int(h / 2)
    rx, ry = int(w * 0.22), int(h * 0.36)
    cv2.ellipse(img, (cx, cy), (rx, ry), 0, 0, 360, (224, 186, 150), -1)
    blink = 1 if abs(t - 0.5) < 0.06 else max(2, int(h * 0.03))
    for ex in (cx - rx // 2, cx + rx // 2):
        cv2.ellipse(img, (ex, cy - ry // 4), (max(2, w // 40), blink), 0, 0, 360,
                    (30, 30, 30), -1)
    cv2.putText(img, 'idle %02d' % i, (4, h - 6), cv2.FONT_HERSHEY_SIMPLEX,
                max(0.3, w / 800), (255, 255, 255), 1)
    return img


def mouth_frame(w, h, i, n):
    """A mouth opening and closing: frame i of n."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (224, 186, 150)
    opening = 0.5 - 0.5 * math.cos(2 * math.pi * i / max(n, 1))
    cv2.ellipse(img, (w // 2, h // 2), (int(w * 0.4), max(1, int(h * 0.4 * opening))),
                0, 0, 360, (120, 20, 30), -1)
    return img


def write_stream(f, group, frames, w, h, jpeg, quality):
    g = f.create_group(group)
    n = len(frames)
    if jpeg:
        vlen = h5py.vlen_dtype(np.uint8)
        d = g.create_dataset('data', (n,), dtype=vlen, chunks=(min(n, 16),))
        for i, fr in enumerate(frames):
            ok, enc = cv2.imencode('.jpg', cv2.cvtColor(fr, cv2.COLOR_RGB2BGR),
                                   [cv2.IMWRITE_JPEG_QUALITY, quality])
            assert ok
            d[i] = np.frombuffer(enc.tobytes(), np.uint8)
        caps = jpeg_caps(w, h)
    else:
        d = g.create_dataset('data', data=np.stack(frames), chunks=(1, h, w, 3))
        caps = raw_caps(w, h)
    g.create_dataset('timestamp', data=np.arange(n, dtype=np.int64) * FRAME_NS)
    for obj in (g, d):
        obj.attrs['caps'] = caps
    return n


def parse_size(s):
    try:
        w, h = (int(v) for v in s.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError('expected WxH, e.g. 320x240')
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError('WxH must be even and at least 16x16')
    return w, h


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('-o', '--output', required=True, help='HDF5 file to write')
    p.add_argument('--size', type=parse_size, default=(320, 240),
                   help='idle frame size WxH (default 320x240)')
    p.add_argument('--idle-frames', type=int, default=25,
                   help='forward idle frames; the loop is twice as long (default 25)')
    p.add_argument('--mouth-frames', type=int, default=10,
                   help='mouth frames (default 10)')
    p.add_argument('--jpeg', action='store_true',
                   help='store JPEG (vlen) instead of raw RGB frames')
    p.add_argument('--quality', type=int, default=90, help='JPEG quality (default 90)')
    a = p.parse_args(argv)
    if a.idle_frames < 1 or a.mouth_frames < 1:
        p.error('frame counts must be >= 1')

    w, h = a.size
    mw, mh = (w // 4) & ~1, (h // 8) & ~1
    fwd = [idle_frame(w, h, i, a.idle_frames) for i in range(a.idle_frames)]
    idle = fwd + fwd[::-1]  # ping-pong: the loop has no jump
    mouth = [mouth_frame(mw, mh, i, a.mouth_frames) for i in range(a.mouth_frames)]
    with h5py.File(a.output, 'w') as f:
        f.attrs['generator'] = 'membound pipelines/make-frame-bank.py'
        f.attrs['mouth_position'] = np.array([(w - mw) // 2, int(h * 0.68) - mh // 2],
                                             np.int32)
        n_idle = write_stream(f, 'idle', idle, w, h, a.jpeg, a.quality)
        n_mouth = write_stream(f, 'mouth', mouth, mw, mh, a.jpeg, a.quality)
    print('%s: /idle %d frames %dx%d, /mouth %d frames %dx%d (%s), mouth at %d,%d'
          % (a.output, n_idle, w, h, n_mouth, mw, mh, 'JPEG' if a.jpeg else 'raw RGB',
             (w - mw) // 2, int(h * 0.68) - mh // 2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
