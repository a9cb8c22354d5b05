#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hdf5src on damaged input (issue 9): an HDF5 file written by h5py (a
`/blob/data` vlen uint8 dataset with `/blob/timestamp`, the layout hdf5sink
writes), truncated at several sizes, with bytes overwritten in its metadata
and its raw data, and read with an injected EIO (faultinject LD_PRELOAD
shim). Each case must end without a crash or hang; a truncated or unreadable
file must end in an error naming the file; rows delivered must be the
file's rows (checked byte-exact where the data was not overwritten).
"""
import os
import unittest

import h5py
import numpy as np

import faultlib

ROWS = 400
SIZE = 2000


class Hdf5srcDamage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = faultlib.tmpdir('fault-hdf5src-')
        cls.h5 = os.path.join(cls.dir, 'rows.h5')
        rng = np.random.default_rng(9)
        cls.rows = [rng.integers(0, 256, SIZE, dtype=np.uint8) for _ in range(ROWS)]
        with h5py.File(cls.h5, 'w') as f:
            g = f.create_group('blob')
            d = g.create_dataset('data', (ROWS,), dtype=h5py.vlen_dtype(np.uint8))
            for i, r in enumerate(cls.rows):
                d[i] = r
            g.create_dataset('timestamp', data=np.arange(ROWS, dtype=np.uint64) * 10000000)
            g.attrs['caps'] = 'application/octet-stream'
        with open(cls.h5, 'rb') as f:
            cls.blob = f.read()
        cls.size = len(cls.blob)

    def desc(self, path):
        return 'hdf5src location=%s path=/blob ! fakesink name=out' % path

    def test_intact(self):
        r = faultlib.run(self.desc(self.h5))
        faultlib.assert_no_crash(self, r)
        self.assertEqual(r.end, 'eos', r.output[-2000:])
        self.assertEqual(r.buffers('out'), ROWS)

    def damaged(self, name, data):
        path = os.path.join(self.dir, name + '.h5')
        with open(path, 'wb') as f:
            f.write(data)
        r = faultlib.run(self.desc(path))
        faultlib.assert_no_crash(self, r)
        if r.end == 'error':
            self.assertIn(path, r.text(), 'error must name the file: %r' % r.error)
        self.assertLessEqual(r.buffers('out'), ROWS)
        faultlib.figure(element='hdf5src', damage=name, size=self.size, end=r.end,
                        delivered=r.buffers('out'), rows=ROWS,
                        message=repr(r.error[:100]))
        return r

    def test_truncated(self):
        for frac in (0.0, 0.01, 0.3, 0.7, 0.99):
            cut = int(self.size * frac)
            r = self.damaged('truncated-%d' % cut, self.blob[:cut])
            # HDF5 records the end of file in the superblock: a short file is
            # refused at open, nothing is played
            self.assertEqual(r.end, 'error')
            self.assertEqual(r.buffers('out'), 0)

    def test_overwritten(self):
        rng = np.random.default_rng(99)
        # the first 2 KiB hold the superblock and root group metadata, the
        # rest is mostly the global heap with the row bytes
        for start in (0, 96, 800, self.size // 2, self.size - 4096):
            data = bytearray(self.blob)
            data[start:start + 512] = rng.integers(0, 256, 512, dtype=np.uint8).tobytes()
            self.damaged('overwritten-%d' % start, bytes(data))

    def test_read_eio(self):
        for after in (0, 1000, self.size // 3, self.size * 2 // 3):
            r = faultlib.run(self.desc(self.h5), {'PATH': 'rows.h5', 'OP': 'read',
                                                  'ERRNO': 'EIO', 'AFTER': after})
            faultlib.assert_no_crash(self, r)
            self.assertEqual(r.end, 'error', r.output[-2000:])
            self.assertIn(self.h5, r.text(), 'error must name the file: %r' % r.error)
            self.assertGreaterEqual(r.faults, 1)
            self.assertLess(r.buffers('out'), ROWS)
            faultlib.figure(element='hdf5src', damage='read-EIO', after=after,
                            size=self.size, faults=r.faults,
                            delivered=r.buffers('out'), rows=ROWS,
                            message=repr(r.error[:100]))


if __name__ == '__main__':
    faultlib.main()
