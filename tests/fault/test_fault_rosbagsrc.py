#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rosbagsrc on damaged input (issue 9): bags written by Debian's
python3-rosbag (tests/data/make_bag.py), truncated inside the header, inside
a chunk and inside the tail index, and read with an injected EIO (the
faultinject LD_PRELOAD shim) at several points. Each case must end without
a crash or hang, with an error or a warning naming the file, and deliver
every message stored before the damage (counted from the bag's own chunk
records, parsed here independently of membound's reader).
"""
import os
import struct
import unittest

import faultlib


def read_records(path):
    """(header fields, data_pos, data_len, record end) of every record."""
    recs = []
    with open(path, 'rb') as f:
        blob = f.read()
    pos = 13  # '#ROSBAG V2.0\n'
    while pos + 4 <= len(blob):
        hlen = struct.unpack_from('<I', blob, pos)[0]
        hdr = blob[pos + 4:pos + 4 + hlen]
        fields = {}
        i = 0
        while i + 4 <= len(hdr):
            flen = struct.unpack_from('<I', hdr, i)[0]
            k, _, v = hdr[i + 4:i + 4 + flen].partition(b'=')
            fields[k.decode()] = v
            i += 4 + flen
        dpos = pos + 4 + hlen
        dlen = struct.unpack_from('<I', blob, dpos)[0]
        recs.append((fields, pos, dpos + 4, dlen, dpos + 4 + dlen))
        pos = dpos + 4 + dlen
    return recs


def bag_layout(path):
    """Chunks as (start, end, message count) and the index position."""
    recs = read_records(path)
    chunks = []
    index_pos = None
    for fields, start, dstart, dlen, end in recs:
        op = fields['op'][0]
        if op == 0x03:  # bag header
            index_pos = struct.unpack('<Q', fields['index_pos'])[0]
        elif op == 0x05:  # chunk
            chunks.append([start, end, 0])
        elif op == 0x04 and chunks and start < index_pos:  # index data
            count = struct.unpack('<I', fields['count'])[0]
            chunks[-1][2] += count
    return chunks, index_pos


class RosbagsrcDamage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import subprocess
        cls.dir = faultlib.tmpdir('fault-rosbagsrc-')
        cls.bag = os.path.join(cls.dir, 'joints.bag')
        subprocess.run(['/usr/bin/python3', faultlib.MAKE_BAG, '-o', cls.bag,
                        '--preset', 'joints', '--duration', '3',
                        '--chunk-size', '32768'], check=True,
                       stdout=subprocess.DEVNULL)
        cls.chunks, cls.index_pos = bag_layout(cls.bag)
        cls.total = sum(c[2] for c in cls.chunks)
        cls.size = os.path.getsize(cls.bag)
        with open(cls.bag, 'rb') as f:
            cls.blob = f.read()
        assert len(cls.chunks) >= 6, cls.chunks

    def desc(self, path):
        return 'rosbagsrc name=dyn location=%s decode=false' % path

    def test_intact(self):
        r = faultlib.run(self.desc(self.bag))
        faultlib.assert_no_crash(self, r)
        self.assertEqual(r.end, 'eos', r.output[-2000:])
        self.assertEqual(r.buffers(), self.total)
        self.assertEqual(r.warnings, [])

    def truncated(self, cut, what):
        path = os.path.join(self.dir, 'cut-%d.bag' % cut)
        with open(path, 'wb') as f:
            f.write(self.blob[:cut])
        r = faultlib.run(self.desc(path))
        faultlib.assert_no_crash(self, r)
        self.assertIn(path, r.text(), 'no error/warning naming the file: %r / %r'
                      % (r.report.get('errors'), r.warnings))
        complete = sum(c[2] for c in self.chunks if c[1] <= cut)
        started = sum(c[2] for c in self.chunks if c[0] < cut)
        got = r.buffers()
        self.assertGreaterEqual(got, complete, 'messages before the damage lost')
        self.assertLessEqual(got, started)
        faultlib.figure(element='rosbagsrc', damage='truncated-' + what, offset=cut,
                        size=self.size, end=r.end, delivered=got,
                        complete_before=complete, total=self.total,
                        lost=self.total - got, message=repr(r.text()[:100]))
        return r, got, complete

    def test_truncated_in_header(self):
        for cut in (0, 10, 200, 4000):
            r, got, _ = self.truncated(cut, 'header')
            self.assertEqual(r.end, 'error')
            self.assertEqual(got, 0)

    def test_truncated_in_chunk(self):
        for k in (0, 2, len(self.chunks) // 2, len(self.chunks) - 1):
            start, end, _ = self.chunks[k]
            cut = start + (end - start) // 3
            r, got, complete = self.truncated(cut, 'chunk%d' % k)
            if complete:
                self.assertTrue(r.warnings, 'recovered read must warn')

    def test_truncated_in_index(self):
        for cut in (self.index_pos + 30, self.index_pos + (self.size - self.index_pos) // 2,
                    self.size - 1):
            r, got, complete = self.truncated(cut, 'index')
            self.assertEqual(got, self.total, 'all chunks are complete')
            self.assertEqual(r.end, 'eos')
            self.assertTrue(r.warnings)

    def test_read_eio(self):
        for after in (0, 3000, self.size // 3, self.size * 2 // 3):
            r = faultlib.run(self.desc(self.bag), {'PATH': os.path.basename(self.bag),
                                                   'OP': 'read', 'ERRNO': 'EIO',
                                                   'AFTER': after})
            faultlib.assert_no_crash(self, r)
            self.assertEqual(r.end, 'error', r.output[-2000:])
            self.assertIn(self.bag, r.text(), 'error must name the file: %r'
                          % r.report.get('errors'))
            self.assertGreaterEqual(r.faults, 1)
            # a failing disk is reported as a read error with the system's
            # text, not as a damaged or empty bag
            self.assertEqual(r.report.get('error_src'), 'dyn', r.error)
            self.assertIn('Input/output error', r.error)
            self.assertNotIn('corrupt', r.error)
            self.assertNotIn('no readable messages', r.error)
            self.assertEqual(r.report.get('error_domain'), 'gst-resource-error-quark',
                             r.error)
            got = r.buffers()
            self.assertLess(got, self.total)
            faultlib.figure(element='rosbagsrc', damage='read-EIO', after=after,
                            size=self.size, faults=r.faults, delivered=got,
                            total=self.total, lost=self.total - got,
                            message=repr(r.error[:100]))
            # the reader first reads the header and the tail index; every
            # chunk that ends before the remaining byte budget was delivered
            overhead = 4117 + (self.size - self.index_pos) + 4096
            complete = sum(c[2] for c in self.chunks if c[1] <= after - overhead)
            self.assertGreaterEqual(got, complete, 'messages read before the fault lost')
            if after >= self.size // 3:
                self.assertGreater(got, 0, 'messages read before the fault lost')


if __name__ == '__main__':
    faultlib.main()
