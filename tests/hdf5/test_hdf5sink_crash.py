#!/usr/bin/python3
"""hdf5sink durability: a recording killed with SIGKILL, a full filesystem
(RLIMIT_FSIZE) and an I/O error (tests/fault LD_PRELOAD shim), each checked
with Debian's h5py (run with /usr/bin/python3) without h5clear.

The input is filesrc over a file of random bytes in 10000-byte blocks, so
row i must equal block i exactly. `gst-launch-1.0 -m` prints every
hdf5sink-flushed message; its `rows` is what must survive.
"""
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py

BLOCK = 10000


def tmpdir():
    base = os.environ.get('MB_TEST_TMPDIR', tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix='hdf5sink-crash-', dir=base)


def flushed_rows(text):
    rows = [int(m) for m in re.findall(
        r'hdf5sink-flushed, location=\(string\)[^,]*, rows=\(guint64\)(\d+)',
        text)]
    return rows


class Hdf5SinkCrash(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tmpdir()
        cls.blob = os.path.join(cls.dir, 'blob.bin')
        with open(cls.blob, 'wb') as f:
            f.write(os.urandom(BLOCK * 3000))
        with open(cls.blob, 'rb') as f:
            cls.data = f.read()

    def check_rows(self, path, at_least):
        with h5py.File(path, 'r') as f:  # default open, no h5clear
            d = f['/stream_0/data']
            ts = f['/stream_0/timestamp']
            self.assertGreaterEqual(len(d), at_least)
            self.assertGreaterEqual(len(ts), at_least)
            # written after the rows it counts: never behind the last
            # hdf5sink-flushed message, never past what is in the file
            attr = int(d.attrs['flushed_rows'])
            self.assertGreaterEqual(attr, at_least)
            self.assertLessEqual(attr, min(len(d), len(ts)))
            for i in range(attr):
                self.assertEqual(d[i].tobytes(),
                                 self.data[i * BLOCK:(i + 1) * BLOCK], i)
            return len(d)

    def launch(self, out, sleep_us, extra, env=None, preexec=None):
        cmd = ['gst-launch-1.0', '-m', 'filesrc', 'location=' + self.blob,
               'blocksize=%d' % BLOCK, '!', 'identity',
               'sleep-time=%d' % sleep_us, '!', 'hdf5sink',
               'location=' + out, 'stats-interval=0'] + extra
        return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                preexec_fn=preexec)

    def test_sigkill_keeps_flushed_rows(self):
        out = os.path.join(self.dir, 'killed.h5')
        p = self.launch(out, 1000, ['flush-interval=200000000'])
        time.sleep(2.5)
        p.send_signal(signal.SIGKILL)
        text = p.communicate()[0].decode(errors='replace')
        self.assertEqual(p.returncode, -signal.SIGKILL)
        rows = flushed_rows(text)
        self.assertGreaterEqual(len(rows), 3, text[-2000:])
        self.assertLess(rows[-1], 3000, 'the recording ended before the kill')
        n = self.check_rows(out, rows[-1])
        print('SIGKILL: last flush %d rows, file has %d' % (rows[-1], n))

    def test_file_size_limit(self):
        out = os.path.join(self.dir, 'full.h5')
        limit = 6 * 1024 * 1024

        def limit_size():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        p = self.launch(out, 200, ['flush-interval=50000000'],
                        preexec=limit_size)
        text = p.communicate(timeout=60)[0].decode(errors='replace')
        self.assertEqual(p.returncode, 1, text[-3000:])  # an error, no crash
        self.assertIn('No space left to write HDF5 file', text)
        self.assertIn(out, text)
        self.assertIn('/stream_0/data', text)
        rows = flushed_rows(text)
        self.assertTrue(rows, text[-2000:])
        # the file was closed cleanly: every accepted row is there
        n = self.check_rows(out, rows[-1])
        self.assertGreater(n * BLOCK, limit // 2)
        self.check_rows(out, n)
        print('RLIMIT_FSIZE %d: %d rows readable' % (limit, n))

    def test_io_error(self):
        shim = os.path.join(os.environ['MB_BUILD_ROOT'], 'tests', 'fault',
                            'libfaultinject.so')
        if not os.path.exists(shim):
            self.skipTest('no fault shim')
        out = os.path.join(self.dir, 'eio.h5')
        env = dict(os.environ)
        env['LD_PRELOAD'] = ':'.join(
            x for x in (env.get('LD_PRELOAD'), shim) if x)
        env.update(MB_FAULT_PATH=out, MB_FAULT_ERRNO='EIO',
                   MB_FAULT_AFTER=str(8 * 1024 * 1024))
        p = self.launch(out, 200, ['flush-interval=50000000'], env=env)
        text = p.communicate(timeout=60)[0].decode(errors='replace')
        self.assertEqual(p.returncode, 1, text[-3000:])  # an error, no crash
        self.assertIn('Could not write HDF5 file', text)
        self.assertIn(out, text)
        self.assertRegex(text, r'faultinject: [1-9]\d* faults injected')
        rows = flushed_rows(text)
        self.assertTrue(rows, text[-2000:])
        n = self.check_rows(out, rows[-1])
        print('EIO after 8 MiB: last flush %d rows, file has %d' % (
            rows[-1], n))


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=2).result
    n = result.testsRun
    bad = len(result.failures) + len(result.errors)
    print('%d passed, %d failed' % (n - bad - len(result.skipped), bad))
    sys.exit(1 if bad else 0)
