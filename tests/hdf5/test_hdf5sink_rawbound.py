#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hdf5sink with jpeg-quality keeps few raw frames alive, whatever its queue
allows: at most 2 per JPEG worker wait for or are in the encoder, and a raw
frame is released as soon as its JPEG exists (not when its batch is written).
Measured with membudget's `peak-inflight-bytes` (bytes it pushed that are
still alive downstream) in front of hdf5sink, with a source much faster than
one JPEG worker and no byte limit on hdf5sink's queue: before the bound, the
frames piled up to the batch / queue limits (dozens)."""

import os
import sys
import tempfile

import gi
import h5py

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)

W, H, N = 640, 480, 150
FRAME = W * H * 3 // 2
WORKERS = 1


def main():
    if not Gst.ElementFactory.find('membudget'):
        print('SKIP: membudget is not registered in this build')
        sys.exit(77)
    base = os.environ.get('MB_TEST_TMPDIR', tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    out = os.path.join(tempfile.mkdtemp(prefix='rawbound-', dir=base), 'r.h5')
    pipe = Gst.parse_launch(
        'videotestsrc num-buffers=%d pattern=pinwheel ! '
        'video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! '
        'membudget name=mb max-size-buffers=2 max-size-bytes=0 max-size-time=0 ! '
        'hdf5sink location=%s jpeg-quality=85 jpeg-threads=%d '
        'max-queue-bytes=0 max-queue-buffers=500 stats-interval=0'
        % (N, W, H, out, WORKERS))
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(
        60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    peak = pipe.get_by_name('mb').get_property('peak-inflight-bytes')
    pipe.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        print('FAIL: no EOS: %s' % (msg.parse_error() if msg else 'timeout'))
        sys.exit(1)
    with h5py.File(out, 'r') as f:
        rows = len(f['/stream_0/data'])
    if rows != N:
        print('FAIL: %d rows, expected %d' % (rows, N))
        sys.exit(1)
    # 2 per worker in hdf5sink + the one its chain is holding while waiting
    bound = (2 * WORKERS + 1) * FRAME
    print('peak raw bytes alive after membudget: %d (%.1f frames), bound %d'
          % (peak, peak / FRAME, bound))
    if peak > bound:
        print('FAIL: %.1f raw frames alive downstream (bound %d)'
              % (peak / FRAME, 2 * WORKERS + 1))
        sys.exit(1)
    print('ok')


if __name__ == '__main__':
    main()
