#!/usr/bin/python3
"""hdf5sink outputs read back with Debian's h5py (run with /usr/bin/python3).

Byte-exact JPEG/PNG/opaque payloads, pixel-exact raw frames (padded strides,
GRAY16, deflate), TurboJPEG output decoded by OpenCV within JPEG tolerance
and in true RGB order, the ALOHA layout through an ALOHA-style reader
written from the published format, and ROS JointState compound rows
compared field by field with genpy's own decoding.
"""
import io
import os
import sys
import tempfile
import unittest

import cv2
import gi
import h5py
import numpy as np

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)
UNIX = Gst.Caps.from_string('timestamp/x-unix')
T0 = 1_700_000_000_000_000_000


def tmpdir():
    base = os.environ.get('MB_TEST_TMPDIR', tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix='hdf5sink-oracle-', dir=base)


def run(desc, feeds, timeout=60):
    """Runs @desc; feeds = {appsrc name: (caps, [bytes or (bytes, unix_ns)])}.
    Returns the list of element message structures; fails on ERROR."""
    pipe = Gst.parse_launch(desc)
    bus = pipe.get_bus()
    srcs = {}
    for name, (caps, bufs) in feeds.items():
        src = pipe.get_by_name(name)
        src.set_property('caps', caps if isinstance(caps, Gst.Caps)
                         else Gst.Caps.from_string(caps))
        src.set_property('format', Gst.Format.TIME)
        srcs[name] = (src, bufs)
    assert pipe.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
    for name, (src, bufs) in srcs.items():
        for i, item in enumerate(bufs):
            data, ts = item if isinstance(item, tuple) else (item, None)
            buf = Gst.Buffer.new_wrapped(bytes(data)) if len(data) else \
                Gst.Buffer.new()
            buf.pts = i * Gst.MSECOND
            if ts is not None:
                buf.add_reference_timestamp_meta(UNIX, ts, Gst.CLOCK_TIME_NONE)
            assert src.emit('push-buffer', buf) == Gst.FlowReturn.OK
        src.emit('end-of-stream')
    msgs = []
    while True:
        msg = bus.timed_pop(timeout * Gst.SECOND)
        assert msg is not None, 'timeout'
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            pipe.set_state(Gst.State.NULL)
            raise AssertionError('%s (%s)' % (err.message, dbg))
        if msg.type == Gst.MessageType.ELEMENT:
            msgs.append(msg.get_structure())
        if msg.type == Gst.MessageType.EOS:
            break
    pipe.set_state(Gst.State.NULL)
    return msgs


def appsrc(name):
    return 'appsrc name=%s block=true max-bytes=4000000 ' % name


class Hdf5SinkOracle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.rng = np.random.default_rng(1234)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_payloads_byte_exact(self):
        rng = self.rng
        jpegs, pngs, blobs = [], [], []
        for i in range(30):
            h, w = rng.integers(16, 120, 2)
            img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
            jpegs.append(cv2.imencode('.jpg', img)[1].tobytes())
            pngs.append(cv2.imencode('.png', img[:, :, 0])[1].tobytes())
            blobs.append(rng.bytes(int(rng.integers(0, 3000))))
        blobs[3] = b''  # an empty buffer is a row of length 0
        out = self.path('payloads.h5')
        msgs = run(
            'hdf5sink name=s location=%s batch-size=7 '
            'sink_0::path=/cam/image_raw/compressed sink_2::path=/blob '
            '%s ! s.sink_0  %s ! s.sink_1  %s ! s.sink_2' % (
                out, appsrc('j'), appsrc('p'), appsrc('b')),
            {'j': ('image/jpeg', [(d, T0 + i * 33_000_000)
                                  for i, d in enumerate(jpegs)]),
             'p': ('image/png', pngs),
             'b': ('application/octet-stream', blobs)})
        done = [m for m in msgs if m.get_name() == 'hdf5sink-done']
        self.assertEqual(len(done), 1)
        self.assertEqual(done[0].get_value('rows'), 90)
        with h5py.File(out, 'r') as f:
            d = f['/cam/image_raw/compressed/data']
            self.assertEqual(d.dtype.kind, 'O')
            self.assertEqual(len(d), 30)
            for i in range(30):
                self.assertEqual(d[i].tobytes(), jpegs[i])
            ts = f['/cam/image_raw/compressed/timestamp'][()]
            self.assertEqual(ts.dtype, np.int64)
            self.assertEqual(list(ts), [T0 + i * 33_000_000 for i in range(30)])
            self.assertEqual(f['/cam/image_raw/compressed'].attrs['caps'],
                             'image/jpeg')
            for i in range(30):
                self.assertEqual(f['/stream_1/data'][i].tobytes(), pngs[i])
                self.assertEqual(f['/blob/data'][i].tobytes(), blobs[i])
            # no meta: the running time (PTS i ms from a 0-based segment)
            self.assertEqual(list(f['/blob/timestamp'][()]),
                             [i * 1_000_000 for i in range(30)])
            self.assertNotIn('source_timestamp', f['/blob'])

    def raw_case(self, fmt, w, h, channels, dtype, extra=''):
        rng = self.rng
        info_caps = 'video/x-raw,format=%s,width=%d,height=%d,framerate=30/1' % (
            fmt, w, h)
        vi = __import__('gi.repository.GstVideo', fromlist=['GstVideo'])
        info = vi.VideoInfo.new_from_caps(Gst.Caps.from_string(info_caps))
        stride = info.stride[0]
        bpp = np.dtype(dtype).itemsize * channels
        frames, bufs = [], []
        for i in range(6):
            shape = (h, w, channels) if channels > 1 else (h, w)
            fr = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
            frames.append(fr)
            raw = bytearray(b'\xee' * info.size)  # padding must not leak
            rows = fr.reshape(h, w * channels).astype('<' + np.dtype(dtype).str[1:])
            for y in range(h):
                raw[y * stride:y * stride + w * bpp] = rows[y].tobytes()
            bufs.append(bytes(raw))
        out = self.path('raw_%s%s.h5' % (fmt, extra.replace(' ', '_').replace('=', '')))
        run('%s ! hdf5sink location=%s %s' % (appsrc('v'), out, extra),
            {'v': (info_caps, bufs)})
        with h5py.File(out, 'r') as f:
            d = f['/stream_0/data']
            want = (6, h, w, channels) if channels > 1 else (6, h, w)
            self.assertEqual(d.shape, want)
            self.assertEqual(d.dtype, np.dtype(dtype))
            self.assertEqual(d.chunks, (1,) + want[1:])
            for i in range(6):
                np.testing.assert_array_equal(d[i], frames[i])
            return f['/stream_0'].attrs.get('color_order'), d.compression

    def test_raw_frames_pixel_exact(self):
        self.assertEqual(self.raw_case('RGB', 33, 9, 3, np.uint8)[0], 'RGB')
        self.assertEqual(self.raw_case('BGR', 31, 7, 3, np.uint8)[0], 'BGR')
        self.assertEqual(self.raw_case('GRAY8', 35, 5, 1, np.uint8)[0], 'GRAY')
        self.raw_case('GRAY16_LE', 17, 6, 1, np.uint16)
        self.raw_case('BGRx', 16, 4, 4, np.uint8)
        self.raw_case('RGBA', 16, 4, 4, np.uint8)
        _, comp = self.raw_case('RGB', 33, 9, 3, np.uint8, 'compression=3')
        self.assertEqual(comp, 'gzip')

    def test_turbojpeg(self):
        h, w = 120, 160
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([xx * 255 // w, yy * 255 // h,
                         np.full_like(xx, 128)], axis=-1).astype(np.uint8)
        frames = []
        for i in range(8):
            fr = base.copy()
            fr[20:60, 20 + i * 10:60 + i * 10] = (255, 0, 0)  # red square (RGB)
            frames.append(fr)
        for fmt in ('RGB', 'BGR'):
            bufs = [(fr if fmt == 'RGB' else fr[:, :, ::-1].copy()).tobytes()
                    for fr in frames]
            out = self.path('tj_%s.h5' % fmt)
            run('%s ! hdf5sink location=%s jpeg-quality=90 jpeg-threads=2' % (
                appsrc('v'), out),
                {'v': ('video/x-raw,format=%s,width=%d,height=%d,'
                       'framerate=30/1' % (fmt, w, h), bufs)})
            with h5py.File(out, 'r') as f:
                g = f['/stream_0']
                self.assertEqual(g.attrs['color_order'], 'RGB')
                self.assertEqual(g.attrs['jpeg_quality'], 90)
                d = g['data']
                self.assertEqual(len(d), 8)
                for i in range(8):
                    jpg = d[i].tobytes()
                    self.assertEqual(jpg[:2], b'\xff\xd8')
                    bgr = cv2.imdecode(np.frombuffer(jpg, np.uint8),
                                       cv2.IMREAD_COLOR)
                    rgb = bgr[:, :, ::-1].astype(int)
                    diff = np.abs(rgb - frames[i].astype(int))
                    mse = (diff ** 2).mean()
                    psnr = 10 * np.log10(255 ** 2 / mse)
                    self.assertGreater(psnr, 30, (fmt, i, psnr))
                    # true RGB order: the square decodes red
                    r, gg, b = rgb[40, 40 + i * 10]
                    self.assertGreater(r, 200, (fmt, i))
                    self.assertLess(b, 60, (fmt, i))
                    self.assertLess(gg, 60, (fmt, i))

    def test_aloha_layout(self):
        rng = self.rng
        T, cams = 12, ['cam_high', 'cam_left_wrist']
        jpegs = {c: [cv2.imencode('.jpg', rng.integers(
            0, 255, (48, 64, 3), dtype=np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 50])[1]
            .tobytes() for _ in range(T)] for c in cams}
        qpos = rng.normal(size=(T, 14)).astype(np.float32)
        action = rng.normal(size=(T, 14))  # float64 input
        out = self.path('episode_0.hdf5')
        run('hdf5sink name=s location=%s layout=aloha '
            'sink_0::aloha-name=cam_high sink_1::aloha-name=cam_left_wrist '
            'sink_0::aloha-max-bytes=65536 sink_1::aloha-max-bytes=65536 '
            'sink_2::aloha-role=qpos sink_3::aloha-role=action '
            '%s ! s.sink_0  %s ! s.sink_1  %s ! s.sink_2  %s ! s.sink_3' % (
                out, appsrc('c0'), appsrc('c1'), appsrc('q'), appsrc('a')),
            {'c0': ('image/jpeg', jpegs['cam_high']),
             'c1': ('image/jpeg', jpegs['cam_left_wrist']),
             'q': ('application/octet-stream', [r.tobytes() for r in qpos]),
             'a': ('application/octet-stream,format=F64LE',
                   [r.astype('<f8').tobytes() for r in action])})

        # An ALOHA/ACT-style reader, written from the published format
        # (record_episodes.py / act-plus-plus utils.py).
        with h5py.File(out, 'r') as root:
            is_sim = root.attrs['sim']
            compressed = root.attrs.get('compress', False)
            r_qpos = root['/observations/qpos'][()]
            r_action = root['/action'][()]
            image_dict = {}
            for cam_name in root['/observations/images/'].keys():
                image_dict[cam_name] = root[
                    '/observations/images/%s' % cam_name][()]
            compress_len = root['/compress_len'][()]
        self.assertFalse(is_sim)
        self.assertTrue(compressed)
        self.assertEqual(sorted(image_dict), sorted(cams))
        # LeRobot v1 check_format: 2-D action/qpos with equal T, compressed
        # images 2-D
        self.assertEqual(r_qpos.ndim, 2)
        self.assertEqual(r_action.shape, (T, 14))
        self.assertEqual(r_qpos.shape[0], r_action.shape[0])
        self.assertEqual(r_qpos.dtype, np.float32)
        np.testing.assert_array_equal(r_qpos, qpos)
        np.testing.assert_array_equal(r_action, action.astype(np.float32))
        self.assertEqual(compress_len.shape, (2, T))
        for ci, cam in enumerate(cams):
            rows = image_dict[cam]
            self.assertEqual(rows.shape, (T, 65536))
            self.assertEqual(rows.dtype, np.uint8)
            with h5py.File(out, 'r') as root:
                idx = root['/observations/images/' + cam].attrs[
                    'compress_len_index']
            for t in range(T):
                n = len(jpegs[cam][t])
                self.assertEqual(rows[t, :n].tobytes(), jpegs[cam][t])
                self.assertFalse(rows[t, n:].any())
                self.assertEqual(compress_len[idx, t], n)
                img = cv2.imdecode(rows[t], 1)  # padded row decodes as is
                self.assertEqual(img.shape, (48, 64, 3))
        with h5py.File(out, 'r') as root:
            self.assertEqual(len(root['/observations/timestamps/qpos']), T)

    def test_ros_jointstate_compound(self):
        try:
            import genpy
            from sensor_msgs.msg import JointState
        except ImportError as e:  # pragma: no cover
            self.skipTest('python3-sensor-msgs missing: %s' % e)
        msgs = []
        for i in range(25):
            m = JointState()
            m.header.seq = i
            m.header.stamp = genpy.Time(1700000000 + i, 1000 * i)
            m.header.frame_id = 'base_%d' % i
            m.name = ['j%d' % k for k in range(i % 4 + 1)]
            m.position = [i + k / 8 for k in range(i % 4 + 1)]
            m.velocity = [] if i % 2 else [float(-i)] * (i % 4 + 1)
            m.effort = [0.5] * (i % 4 + 1)
            msgs.append(m)
        bufs = []
        for i, m in enumerate(msgs):
            b = io.BytesIO()
            m.serialize(b)
            bufs.append((b.getvalue(), T0 + i))
        st = Gst.Structure.new_empty('application/x-ros1-message')
        st.set_value('type', 'sensor_msgs/JointState')
        st.set_value('md5sum', JointState._md5sum)
        st.set_value('message-definition', JointState._full_text)
        caps = Gst.Caps.new_empty()
        caps.append_structure(st)
        out = self.path('joint_states.h5')
        run('%s ! hdf5sink name=s location=%s sink_0::path=/joint_states' % (
            appsrc('r'), out), {'r': (caps, bufs)})
        with h5py.File(out, 'r') as f:
            g = f['/joint_states']
            self.assertEqual(g.attrs['ros_type'], 'sensor_msgs/JointState')
            self.assertEqual(g.attrs['ros_md5sum'], JointState._md5sum)
            self.assertEqual(g.attrs['ros_message_definition'],
                             JointState._full_text)
            d = f['/joint_states/data']
            self.assertEqual(len(d), 25)
            for i, m in enumerate(msgs):
                # decode our bytes back with genpy: the reference
                ref = JointState()
                ref.deserialize(bufs[i][0])
                np.testing.assert_array_equal(d['position'][i], ref.position)
                np.testing.assert_array_equal(d['velocity'][i], ref.velocity)
                np.testing.assert_array_equal(d['effort'][i], ref.effort)
                names = [n.decode() if isinstance(n, bytes) else n
                         for n in d['name'][i]]
                self.assertEqual(names, list(ref.name))
                hdr = d['header'][i]
                self.assertEqual(hdr['seq'], ref.header.seq)
                self.assertEqual(hdr['stamp'], ref.header.stamp.to_nsec())
                fid = hdr['frame_id']
                self.assertEqual(fid.decode() if isinstance(fid, bytes)
                                 else fid, ref.header.frame_id)
            self.assertEqual(list(f['/joint_states/timestamp'][()]),
                             [T0 + i for i in range(25)])


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=2).result
    n = result.testsRun
    bad = len(result.failures) + len(result.errors)
    print('%d passed, %d failed' % (n - bad - len(result.skipped), bad))
    sys.exit(1 if bad else 0)
