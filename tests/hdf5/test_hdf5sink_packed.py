#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hdf5sink blob-layout=packed (issue 4), checked with Debian's h5py (run
with /usr/bin/python3):

- rows byte-exact (variable sizes, an empty row, blobs crossing and larger
  than the 4 MiB chunks), timestamps, attributes, index consistency
  (offset[i + 1] == offset[i] + size[i], every row inside data);
- a SIGKILLed recording keeps every row counted by the last
  hdf5sink-flushed message;
- mode=append extends a packed stream;
- RLIMIT_FSIZE and an EIO (tests/fault LD_PRELOAD shim) give an error
  naming the file and dataset, with the flushed rows readable;
- hdf5src -> hdf5sink round trips packed -> packed, packed -> vlen and
  vlen -> packed byte-exact with the same timestamps and caps;
- hdf5src refuses an index pointing outside the data with an error.
"""
import os
import subprocess
import sys
import tempfile
import unittest

import gi
import h5py
import numpy as np

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_hdf5sink_crash as crash  # noqa: E402

CAPS = 'image/jpeg, width=(int)64, height=(int)48'


def tmpdir():
    base = os.environ.get('MB_TEST_TMPDIR', tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix='hdf5sink-packed-', dir=base)


def read_group(path, group='/stream_0'):
    """(rows as bytes, timestamps, attrs) of a packed or vlen group."""
    with h5py.File(path, 'r') as f:
        g = f[group]
        attrs = {k: g.attrs[k] for k in g.attrs}
        ts = g['timestamp'][:]
        if attrs.get('layout') == 'packed':
            d = g['data']
            rows = [d[o:o + n].tobytes()
                    for o, n in zip(g['offset'][:], g['size'][:])]
        else:
            rows = [x.tobytes() for x in g['data'][:]]
    return rows, ts, attrs


def check_index(tc, path, group='/stream_0'):
    """Index consistency; returns the rows."""
    with h5py.File(path, 'r') as f:
        g = f[group]
        off, size = g['offset'][:], g['size'][:]
        n = len(g['data'])
        tc.assertEqual(g['offset'].dtype, np.int64)
        tc.assertEqual(g['size'].dtype, np.int64)
        tc.assertEqual(g['data'].dtype, np.uint8)
        tc.assertEqual(len(off), len(size))
        tc.assertTrue((size >= 0).all())
        tc.assertTrue((off + size <= n).all())
        if len(off) > 1:
            tc.assertTrue((off[1:] == off[:-1] + size[:-1]).all())
        return len(off)


def run_gst(desc, timeout=60):
    p = subprocess.run(['gst-launch-1.0', '-m'] + desc.split(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors='replace')


class Packed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        Gst.init(None)
        cls.dir = tmpdir()
        rng = np.random.default_rng(4)
        sizes = [int(s) for s in rng.integers(1, 200_000, 150)]
        sizes[10] = 0                      # an empty buffer
        sizes[40] = 5 * 1024 * 1024 + 17   # larger than a chunk
        sizes[41] = 4 * 1024 * 1024        # exactly a chunk
        cls.blobs = [rng.bytes(s) for s in sizes]
        cls.pts = [i * 33_000_000 + (i % 3) for i in range(len(sizes))]

    def record(self, out, blobs, pts, extra=''):
        pipe = Gst.parse_launch(
            'appsrc name=src format=time caps="%s" ! hdf5sink location=%s '
            'stats-interval=0 sink_0::blob-layout=packed %s' % (CAPS, out,
                                                                extra))
        src = pipe.get_by_name('src')
        pipe.set_state(Gst.State.PLAYING)
        for b, t in zip(blobs, pts):
            buf = Gst.Buffer.new_wrapped(b) if b else Gst.Buffer.new()
            buf.pts = t
            self.assertEqual(src.emit('push-buffer', buf), Gst.FlowReturn.OK)
        src.emit('end-of-stream')
        msg = pipe.get_bus().timed_pop_filtered(
            30 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        pipe.set_state(Gst.State.NULL)
        self.assertIsNotNone(msg)
        self.assertEqual(msg.type, Gst.MessageType.EOS,
                         msg.type == Gst.MessageType.ERROR and
                         msg.parse_error())

    def check_index(self, path, group='/stream_0'):
        return check_index(self, path, group)

    def test_rows_byte_exact(self):
        out = os.path.join(self.dir, 'exact.h5')
        self.record(out, self.blobs, self.pts)
        rows, ts, attrs = read_group(out)
        self.assertEqual(len(rows), len(self.blobs))
        for i, (a, b) in enumerate(zip(rows, self.blobs)):
            self.assertEqual(a, b, 'row %d' % i)
        self.assertEqual(list(ts), self.pts)
        self.assertEqual(attrs['layout'], 'packed')
        self.assertTrue(attrs['caps'].startswith('image/jpeg'))
        self.check_index(out)
        with h5py.File(out, 'r') as f:
            g = f['/stream_0']
            self.assertEqual(g['offset'][0], 0)
            self.assertEqual(len(g['data']), sum(len(b) for b in self.blobs))
            self.assertNotIn('source_timestamp', g)
            # the documented h5py snippet
            i = 40
            d = g['data'][g['offset'][i]:g['offset'][i] + g['size'][i]]
            self.assertEqual(d.tobytes(), self.blobs[i])

    def test_append_mode(self):
        out = os.path.join(self.dir, 'append.h5')
        self.record(out, self.blobs[:20], self.pts[:20])
        self.record(out, self.blobs[20:45], self.pts[20:45], 'mode=append')
        rows, ts, _ = read_group(out)
        self.assertEqual(rows, self.blobs[:45])
        self.assertEqual(list(ts), self.pts[:45])
        self.check_index(out)

    def test_round_trip(self):
        packed = os.path.join(self.dir, 'rt_packed.h5')
        self.record(packed, self.blobs[:60], self.pts[:60])
        want = read_group(packed)
        vlen = os.path.join(self.dir, 'rt_vlen.h5')
        back = os.path.join(self.dir, 'rt_back.h5')
        repacked = os.path.join(self.dir, 'rt_repacked.h5')
        for src, dst, layout in ((packed, vlen, 'vlen'),
                                 (vlen, back, 'packed'),
                                 (packed, repacked, 'packed')):
            rc, text = run_gst('hdf5src location=%s ! hdf5sink location=%s '
                               'stats-interval=0 sink_0::blob-layout=%s' % (
                                   src, dst, layout))
            self.assertEqual(rc, 0, text[-2000:])
            rows, ts, attrs = read_group(dst)
            self.assertEqual(attrs.get('layout', 'vlen'), layout)
            self.assertEqual(rows, want[0], '%s -> %s' % (src, dst))
            self.assertEqual(list(ts), list(want[1]))
            self.assertEqual(attrs['caps'], want[2]['caps'])
        self.check_index(back)
        self.check_index(repacked)

    def test_hdf5src_bad_index(self):
        bad = os.path.join(self.dir, 'bad_index.h5')
        with h5py.File(bad, 'w') as f:
            g = f.create_group('cam')
            g.create_dataset('data', data=np.arange(100, dtype=np.uint8))
            g.create_dataset('offset', data=np.array([0, 50, 90], np.int64))
            g.create_dataset('size', data=np.array([50, 40, 20], np.int64))
            g.create_dataset('timestamp', data=np.array([0, 1, 2], np.int64))
            g.attrs['caps'] = 'application/octet-stream'
        # in process: gst-launch-1.0 can hang when the source's error and
        # the EOS it pushes race during preroll
        pipe = Gst.parse_launch('hdf5src location=%s ! fakesink' % bad)
        pipe.set_state(Gst.State.PLAYING)
        msg = pipe.get_bus().timed_pop_filtered(
            20 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        pipe.set_state(Gst.State.NULL)
        self.assertIsNotNone(msg)
        self.assertEqual(msg.type, Gst.MessageType.ERROR)
        err, debug = msg.parse_error()
        self.assertEqual(msg.src.get_name(), 'hdf5src0')
        self.assertIn(bad, err.message)
        self.assertIn('/cam/data: row 2 (offset 90, size 20) lies outside '
                      'the 100 bytes', debug)


class PackedCrash(crash.Hdf5SinkCrash):
    """hdf5sink_crash's SIGKILL, RLIMIT_FSIZE and EIO cases with
    blob-layout=packed."""

    def launch(self, out, sleep_us, extra, env=None, preexec=None):
        return super().launch(out, sleep_us,
                              extra + ['sink_0::blob-layout=packed'], env,
                              preexec)

    def check_rows(self, path, at_least):
        n = check_index(self, path)
        self.assertGreaterEqual(n, at_least)
        with h5py.File(path, 'r') as f:  # default open, no h5clear
            g = f['/stream_0']
            self.assertEqual(g.attrs['layout'], 'packed')
            self.assertGreaterEqual(len(g['timestamp']), at_least)
            off, size = g['offset'][:], g['size'][:]
            d = g['data']
            for i in range(at_least):
                self.assertEqual(size[i], crash.BLOCK)
                self.assertEqual(d[off[i]:off[i] + size[i]].tobytes(),
                                 self.data[i * crash.BLOCK:
                                           (i + 1) * crash.BLOCK], i)
        return n


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=2).result
    n = result.testsRun
    bad = len(result.failures) + len(result.errors)
    print('%d passed, %d failed' % (n - bad - len(result.skipped), bad))
    sys.exit(1 if bad else 0)
