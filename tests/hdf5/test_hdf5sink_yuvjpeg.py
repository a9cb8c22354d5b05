#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hdf5sink jpeg-quality > 0 with I420 and NV12 input (TurboJPEG straight from
the YUV planes), read back with Debian's h5py and decoded with OpenCV (run
with /usr/bin/python3).

The source frames are built here with numpy, their planes laid out with
padded strides announced by a GstVideoMeta; each decoded JPEG is compared with
OpenCV's own conversion of the same planes: cv2.cvtColor YUV2RGB_I420 /
YUV2RGB_NV12 (BT.601 video range) for limited-range caps, and the JFIF
full-range YCrCb → RGB conversion for colorimetry with range 0-255. Odd sizes
(161x121: chroma planes rounded up) are compared on the even frame OpenCV
converts. GRAY8 and RGB input keep their behaviour. Large frames that fill
the queue before a batch is complete are written without waiting for
batch-timeout.
"""
import os
import sys
import tempfile
import time
import unittest

import cv2
import gi
import h5py
import numpy as np

gi.require_version('Gst', '1.0')
gi.require_version('GstVideo', '1.0')
from gi.repository import Gst, GstVideo  # noqa: E402

Gst.init(None)


def tmpdir():
    base = os.environ.get('MB_TEST_TMPDIR', tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix='hdf5sink-yuvjpeg-', dir=base)


def scene(w, h, i):
    """An RGB frame spanning the whole 0-255 range: gradients, black and
    white patches and a moving saturated square."""
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // max(w - 1, 1), yy * 255 // max(h - 1, 1),
                    (xx + yy) * 255 // max(w + h - 2, 1)], -1).astype(np.uint8)
    rgb[4:h // 4, 4:w // 4] = 0
    rgb[4:h // 4, w // 2:w // 2 + w // 5] = 255
    x0 = 10 + 7 * i
    rgb[h // 2:h // 2 + h // 5, x0:x0 + w // 6] = (200, 30, 60)
    return rgb


def planes_i420(rgb):
    """cv2's BT.601 video-range I420 planes of an even-sized RGB frame."""
    h, w = rgb.shape[:2]
    flat = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).ravel()
    cs = (w // 2) * (h // 2)
    y = flat[:w * h].reshape(h, w)
    u = flat[w * h:w * h + cs].reshape(h // 2, w // 2)
    v = flat[w * h + cs:].reshape(h // 2, w // 2)
    return y, u, v


def planes_full(rgb):
    """JFIF full-range planes (cv2 YCrCb), chroma averaged over 2x2."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y = ycrcb[:, :, 0].copy()
    h, w = y.shape
    cr = cv2.resize(ycrcb[:, :, 1], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    cb = cv2.resize(ycrcb[:, :, 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return y, cb, cr


def expected_full(y, u, v):
    h, w = y.shape
    up = lambda c: cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR)  # noqa: E731
    return cv2.cvtColor(np.dstack([y, up(v), up(u)]), cv2.COLOR_YCrCb2RGB)


def layout(fmt, y, u, v, w, h, pad):
    """Packs planes cropped to w x h into one buffer with padded strides;
    returns (bytes, offsets, strides)."""
    cw, ch = (w + 1) // 2, (h + 1) // 2
    ys = w + pad
    if fmt == 'I420':
        cs = cw + pad // 2
        parts = [(y[:h, :w], ys), (u[:ch, :cw], cs), (v[:ch, :cw], cs)]
    else:
        uv = np.dstack([u[:ch, :cw], v[:ch, :cw]]).reshape(ch, 2 * cw)
        cs = 2 * cw + pad
        parts = [(y[:h, :w], ys), (uv, cs)]
    data, offsets, strides = bytearray(), [], []
    for p, stride in parts:
        data += bytes(64)  # a gap before each plane
        offsets.append(len(data))
        strides.append(stride)
        block = np.full((p.shape[0], stride), 0x5a, np.uint8)  # junk padding
        block[:, :p.shape[1]] = p
        data += block.tobytes()
    return bytes(data), offsets, strides


def record(out, caps, frames, quality=90, extra=''):
    """frames: list of (bytes, offsets, strides, fmt, w, h) or plain bytes.
    Returns None or the ERROR message text."""
    pipe = Gst.parse_launch('appsrc name=v format=time block=true ! '
                            'hdf5sink location=%s jpeg-quality=%d %s' % (out, quality, extra))
    src = pipe.get_by_name('v')
    src.set_property('caps', Gst.Caps.from_string(caps))
    bus = pipe.get_bus()
    assert pipe.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
    for i, fr in enumerate(frames):
        if isinstance(fr, tuple):
            data, offsets, strides, fmt, w, h = fr
            buf = Gst.Buffer.new_wrapped(data)
            n = len(offsets)
            GstVideo.buffer_add_video_meta_full(
                buf, GstVideo.VideoFrameFlags.NONE,
                GstVideo.VideoFormat.from_string(fmt), w, h, n,
                offsets + [0] * (4 - n), strides + [0] * (4 - n))
        else:
            buf = Gst.Buffer.new_wrapped(fr)
        buf.pts = i * 33 * Gst.MSECOND
        if src.emit('push-buffer', buf) != Gst.FlowReturn.OK:
            break
    src.emit('end-of-stream')
    error = None
    while True:
        msg = bus.timed_pop(60 * Gst.SECOND)
        assert msg is not None, 'timeout'
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            error = '%s (%s)' % (err.message, dbg)
            break
        if msg.type == Gst.MessageType.EOS:
            break
    pipe.set_state(Gst.State.NULL)
    return error


def decode(jpg):
    bgr = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)
    return bgr[:, :, ::-1]


def psnr(a, b):
    mse = ((a.astype(float) - b.astype(float)) ** 2).mean()
    return 10 * np.log10(255 ** 2 / mse)


class YuvJpeg(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()

    def path(self, name):
        return os.path.join(self.dir, name)

    def check(self, fmt, w, h, full_range, n=6, quality=90, pad=38):
        ew, eh = w + w % 2, h + h % 2  # OpenCV converts even frames only
        rgbs = [scene(ew, eh, i) for i in range(n)]
        frames, expected = [], []
        for rgb in rgbs:
            if full_range:
                y, u, v = planes_full(rgb)
                expected.append(expected_full(y, u, v))
            else:
                y, u, v = planes_i420(rgb)
                if fmt == 'I420':
                    yuv = np.concatenate([y.ravel(), u.ravel(), v.ravel()])
                    conv = cv2.COLOR_YUV2RGB_I420
                else:
                    yuv = np.concatenate([y.ravel(), np.dstack([u, v]).ravel()])
                    conv = cv2.COLOR_YUV2RGB_NV12
                expected.append(cv2.cvtColor(yuv.reshape(eh * 3 // 2, ew), conv))
            frames.append(layout(fmt, y, u, v, w, h, pad) + (fmt, w, h))
        caps = 'video/x-raw,format=%s,width=%d,height=%d,framerate=30/1' % (fmt, w, h)
        if full_range:
            caps += ',colorimetry=(string)1:4:0:0'
        out = self.path('%s_%dx%d_%s.h5' % (fmt, w, h, 'full' if full_range else 'video'))
        self.assertIsNone(record(out, caps, frames, quality))
        with h5py.File(out, 'r') as f:
            g = f['/stream_0']
            self.assertEqual(g.attrs['color_order'], 'RGB')
            self.assertEqual(g.attrs['jpeg_quality'], quality)
            colorimetry = g.attrs['source_colorimetry']
            if isinstance(colorimetry, bytes):
                colorimetry = colorimetry.decode()
            self.assertEqual(colorimetry.split(':')[0] if ':' in colorimetry else colorimetry,
                             '1' if full_range else 'bt601')
            d = g['data']
            self.assertEqual(len(d), n)
            ts = np.asarray(g['timestamp'])
            self.assertTrue(np.array_equal(ts, np.arange(n) * 33_000_000))
            for i in range(n):
                jpg = d[i].tobytes()
                self.assertEqual(jpg[:2], b'\xff\xd8')
                self.assertIn(b'JFIF', jpg[:32])
                got = decode(jpg)
                self.assertEqual(got.shape, (h, w, 3))
                exp = expected[i][:h, :w]
                p = psnr(got, exp)
                self.assertGreater(p, 32, (fmt, w, h, i, p))
                # the range: black decodes black, white white (a limited
                # range stored as full would give ~16 and ~235)
                black = got[8:h // 4 - 4, 8:w // 4 - 4].astype(float).mean()
                white = got[8:h // 4 - 4, w // 2 + 4:w // 2 + w // 5 - 4].astype(float).mean()
                self.assertLess(black, 5, (fmt, i))
                self.assertGreater(white, 250, (fmt, i))
                # true colour order: the square decodes red-dominant
                r, gg, b = got[h // 2 + h // 10, 10 + 7 * i + w // 12].astype(int)
                self.assertTrue(r > 150 and gg < 80 and b < 110, (fmt, i, r, gg, b))
        return out

    def test_i420_padded_strides(self):
        self.check('I420', 322, 242, False)

    def test_nv12_padded_strides(self):
        self.check('NV12', 322, 242, False)

    def test_odd_sizes(self):
        self.check('I420', 161, 121, False, n=3, pad=11)
        self.check('NV12', 161, 121, False, n=3, pad=11)

    def test_full_range(self):
        self.check('I420', 322, 242, True, n=3)
        self.check('NV12', 322, 242, True, n=3)

    def test_gray8_and_rgb_unchanged(self):
        h, w = 120, 160
        rgbs = [scene(w, h, i) for i in range(4)]
        out = self.path('rgb.h5')
        self.assertIsNone(record(out, 'video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1'
                                 % (w, h), [r.tobytes() for r in rgbs]))
        with h5py.File(out, 'r') as f:
            g = f['/stream_0']
            self.assertEqual(g.attrs['color_order'], 'RGB')
            self.assertNotIn('source_colorimetry', g.attrs)
            for i in range(4):
                self.assertGreater(psnr(decode(g['data'][i].tobytes()), rgbs[i]), 32)
        grays = [cv2.cvtColor(r, cv2.COLOR_RGB2GRAY) for r in rgbs]
        out = self.path('gray.h5')
        self.assertIsNone(record(out, 'video/x-raw,format=GRAY8,width=%d,height=%d,framerate=30/1'
                                 % (w, h), [g.tobytes() for g in grays]))
        with h5py.File(out, 'r') as f:
            g = f['/stream_0']
            self.assertEqual(g.attrs['color_order'], 'GRAY')
            for i in range(4):
                img = cv2.imdecode(g['data'][i], cv2.IMREAD_UNCHANGED)
                self.assertEqual(img.shape, (h, w))
                self.assertGreater(psnr(img, grays[i]), 32)

    def test_full_queue_does_not_wait_for_batch_timeout(self):
        """Frames so large that fewer than batch-size fit in max-queue-bytes
        (RGBx 1280x720 = 3.7 MB, 16 MiB queue: 4 frames, batch of 10): the
        writer must take them when a push finds the queue full, not after
        batch-timeout (10 s here: 24 frames would take a minute)."""
        w, h, n = 1280, 720, 24
        frame = np.zeros((h, w, 4), np.uint8)
        frame[:, :, 0] = 200
        out = self.path('fullqueue.h5')
        t0 = time.monotonic()
        self.assertIsNone(record(out, 'video/x-raw,format=RGBx,width=%d,height=%d,framerate=30/1'
                                 % (w, h), [frame.tobytes()] * n, quality=85,
                                 extra='max-queue-bytes=16777216 batch-timeout=10000000000'))
        elapsed = time.monotonic() - t0
        with h5py.File(out, 'r') as f:
            self.assertEqual(len(f['/stream_0/data']), n)
        self.assertLess(elapsed, 20, 'the writer waited for batch-timeout')

    def test_i420_needs_jpeg(self):
        """I420 cannot be stored as raw frames: a clear error naming the
        file, no crash."""
        out = self.path('raw_i420.h5')
        y, u, v = planes_i420(scene(64, 48, 0))
        data = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).tobytes()
        err = record(out, 'video/x-raw,format=I420,width=64,height=48,framerate=30/1',
                     [data], quality=0)
        self.assertIsNotNone(err)
        self.assertIn('I420', err)
        self.assertIn(out, err)
        self.assertIn('jpeg-quality', err)


if __name__ == '__main__':
    unittest.main(argv=sys.argv[:1] + ['-v'])
