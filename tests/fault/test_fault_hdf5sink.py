#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hdf5sink under write faults (issue 9): the faultinject LD_PRELOAD shim
fails every write to the HDF5 file after N bytes with ENOSPC or EIO (the call
crossing the limit is a short write). For each case the pipeline must end
with an error naming the file, must not crash or hang, and every row counted
in the last `hdf5sink-flushed` message must be readable in h5py (Debian's,
run with /usr/bin/python3), byte-exact. Rows the sink accepted but that are
not in the file are reported as lost (FIGURE lines, quoted in
docs/reliability.md).
"""
import os
import unittest

import h5py
import numpy as np

import faultlib

BLOCK = 10000
NBLOCKS = 1500
KIB = 1024
MIB = 1024 * 1024
READ_TIMEOUT = int(os.environ.get('MB_FAULT_READ_TIMEOUT', '60'))  # s, h5py reading back one damaged file


class Hdf5SinkWriteFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = faultlib.tmpdir('fault-hdf5sink-')
        cls.blob = os.path.join(cls.dir, 'blob.bin')
        rng = np.random.default_rng(9)
        cls.data = rng.integers(0, 256, BLOCK * NBLOCKS, dtype=np.uint8).tobytes()
        with open(cls.blob, 'wb') as f:
            f.write(cls.data)

    def readable_rows(self, path, group, check):
        """(rows, state, bad, attr): rows in @group of @path that h5py
        reads before the first that raises (0 if the file does not open),
        each checked with @check(i, row), which fails the test for a wrong
        row that was flushed and returns False for a wrong row past the last
        flush (bad counts those); attr is data's `flushed_rows` attribute
        (None if the file does not open), below which every row must be
        right. Read in a child process with a time limit (h5py on a file
        damaged by the fault must not hang the test silently)."""
        return faultlib.in_child(lambda: self._readable_rows(path, group, check),
                                 READ_TIMEOUT, 'h5py reading %s' % path)

    def _readable_rows(self, path, group, check):
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            return 0, 'no file', 0, None
        try:
            f = h5py.File(path, 'r')  # default open, no h5clear
        except OSError as e:
            return 0, 'unopenable: %s' % str(e).splitlines()[0], 0, None
        bad = 0
        with f:
            if group not in f:
                return 0, 'no %s' % group, 0, None
            d = f[group + '/data']
            ts = f[group + '/timestamp']
            n = min(len(d), len(ts))
            attr = int(d.attrs['flushed_rows'])
            for i in range(n):
                try:
                    row = d[i]
                except OSError as e:
                    # rows past the last flush may be lost, but must not be
                    # before it (asserted by the caller)
                    self.assertGreaterEqual(i, attr, 'row %d below flushed_rows '
                                            'is unreadable: %s' % (i, e))
                    return i, 'row %d of %d unreadable: %s' % (
                        i, n, str(e).splitlines()[0].replace(' ', '_')), bad, attr
                if not check(i, row):
                    self.assertGreaterEqual(i, attr, 'row %d below flushed_rows '
                                            '(%d) is wrong' % (i, attr))
                    bad += 1
            self.assertLessEqual(attr, n)
            return n, 'ok', bad, attr

    def read_back(self, r, out, group, flushed, check, layout, errno_name, after):
        """Reads @group of @out back (readable_rows), checks it against
        what the run reported and prints the FIGURE line. Returns the rows
        read."""
        n, state, bad, attr = self.readable_rows(out, group, check)
        if attr is not None:
            # the attribute never lags behind what the application was told
            self.assertGreaterEqual(attr, flushed)
        self.assertGreaterEqual(n, flushed, 'rows flushed before the fault are missing')
        accepted = r.buffers('probe')
        self.assertLessEqual(n, accepted)
        faultlib.figure(element='hdf5sink', layout=layout, errno=errno_name,
                        after=after, first_error=r.report['error_src'], faults=r.faults, accepted=accepted,
                        flushed=flushed, flushed_rows_attr=attr, readable=n, past_flush_wrong=bad,
                        lost=accepted - (n - bad), file=state)
        return n

    def blob_case(self, errno_name, after):
        out = os.path.join(self.dir, 'blob-%s-%d.h5' % (errno_name, after))
        desc = ('filesrc location=%s blocksize=%d ! identity name=probe sleep-time=200 ! '
                'hdf5sink location=%s sink_0::path=/blob batch-size=4 '
                'flush-interval=20000000 stats-interval=0' % (self.blob, BLOCK, out))
        r = faultlib.run(desc, {'PATH': out, 'ERRNO': errno_name, 'AFTER': after})
        faultlib.assert_no_crash(self, r)
        self.assertEqual(r.end, 'error', r.output[-3000:])
        own = r.error_from('hdf5sink0')
        self.assertIn(out, own, 'hdf5sink error must name the file: %r' % r.report['errors'])
        # the first error on the bus (the one applications show) is ours,
        # not upstream's generic "Internal data stream error"
        self.assertEqual(r.report['error_src'], 'hdf5sink0', r.report['errors'])
        self.assertIn(out, r.error)
        self.assertGreaterEqual(r.faults, 1)
        if errno_name == 'ENOSPC':
            self.assertRegex(own, 'No space left|space')

        flushed = r.report.get('flushed_rows') or 0

        def check(i, row):
            same = row.tobytes() == self.data[i * BLOCK:(i + 1) * BLOCK]
            if i < flushed:
                self.assertTrue(same, 'row %d differs (%d rows flushed)' % (i, flushed))
            return same
        n = self.read_back(r, out, '/blob', flushed, check, 'vlen-blob', errno_name, after)
        return n, flushed

    def test_enospc_at_create(self):
        n, flushed = self.blob_case('ENOSPC', 0)
        self.assertEqual(flushed, 0)

    def test_enospc_in_metadata(self):
        self.blob_case('ENOSPC', 4 * KIB)

    def test_enospc_1mib(self):
        self.blob_case('ENOSPC', 1 * MIB)

    def test_enospc_6mib(self):
        n, flushed = self.blob_case('ENOSPC', 6 * MIB)
        self.assertGreater(flushed, 0, 'no flush happened before the fault')
        self.assertGreater(n * BLOCK, 3 * MIB)

    def test_eio_at_create(self):
        self.blob_case('EIO', 0)

    def test_eio_in_metadata(self):
        self.blob_case('EIO', 4 * KIB)

    def test_eio_1mib(self):
        self.blob_case('EIO', 1 * MIB)

    def test_eio_6mib(self):
        n, flushed = self.blob_case('EIO', 6 * MIB)
        self.assertGreater(flushed, 0, 'no flush happened before the fault')

    def test_efbig_3mib(self):
        self.blob_case('EFBIG', 3 * MIB)

    def frames_case(self, errno_name, after):
        out = os.path.join(self.dir, 'frames-%s-%d.h5' % (errno_name, after))
        w, h = 160, 120
        # 19.2 KB frames, one every >= 4 ms: the 512 KiB fault comes after
        # >= 100 ms, i.e. several 20 ms flush intervals even on an idle
        # machine (at 0.5 ms per frame a fast run reached it before any flush)
        desc = ('videotestsrc num-buffers=600 pattern=gradient ! '
                'video/x-raw,format=GRAY8,width=%d,height=%d,framerate=100/1 ! '
                'identity name=probe sleep-time=4000 ! hdf5sink location=%s '
                'sink_0::path=/cam batch-size=2 flush-interval=20000000 stats-interval=0'
                % (w, h, out))
        r = faultlib.run(desc, {'PATH': out, 'ERRNO': errno_name, 'AFTER': after})
        faultlib.assert_no_crash(self, r)
        self.assertEqual(r.end, 'error', r.output[-3000:])
        own = r.error_from('hdf5sink0')
        self.assertIn(out, own, 'hdf5sink error must name the file: %r' % r.report['errors'])
        # the first error on the bus (the one applications show) is ours,
        # not upstream's generic "Internal data stream error"
        self.assertEqual(r.report['error_src'], 'hdf5sink0', r.report['errors'])
        self.assertIn(out, r.error)
        self.assertGreaterEqual(r.faults, 1)
        # videotestsrc's gradient is the same in every frame
        ref = []

        flushed = r.report.get('flushed_rows') or 0

        def check(i, row):
            self.assertEqual(row.shape, (h, w))
            if not ref:
                # the first row sets the reference; if it is past the last
                # flush it may be a fill value, which the gradient is not
                if i >= flushed and int(row.max()) - int(row.min()) <= 100:
                    return False
                self.assertGreater(int(row.max()) - int(row.min()), 100)
                ref.append(row.copy())
            same = np.array_equal(row, ref[0])
            if i < flushed:
                self.assertTrue(same, 'frame %d differs (%d rows flushed)' % (i, flushed))
            return same
        n = self.read_back(r, out, '/cam', flushed, check, 'raw-frames', errno_name, after)
        return n, flushed

    def test_frames_enospc_512kib(self):
        n, flushed = self.frames_case('ENOSPC', 512 * KIB)
        self.assertGreater(flushed, 0)

    def test_frames_eio_512kib(self):
        n, flushed = self.frames_case('EIO', 512 * KIB)
        self.assertGreater(flushed, 0)


if __name__ == '__main__':
    faultlib.main()
