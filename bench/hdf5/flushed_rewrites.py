#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Counts the global heap collections (HDF5 `GCOL` blocks, where vlen rows
live) that hdf5sink writes again after they were flushed.

Records 1500 rows of 10 000 random bytes with `fsync=true` and a 20 ms
flush interval under `strace -e pwrite64,fsync`, then reads the trace: a
GCOL block whose first write came before an fsync and that is written
again after that fsync is a rewrite of flushed rows (a torn rewrite there
makes them unreadable). Prints the number of fsyncs and of such rewrites;
0 rewrites is what hdf5sink must give (docs/reliability.md, "Bugs found by
these tests").

Usage: GST_PLUGIN_PATH=<build>/gst /usr/bin/python3 bench/hdf5/flushed_rewrites.py [--runs 3] [--dir /tmp]
Needs strace.
"""
import argparse
import os
import re
import subprocess
import tempfile

WRITE = re.compile(r'pwrite64\(\d+, "((?:\\x[0-9a-f]{2})*)"\.*, (\d+), (\d+)\)')


def rewrites(trace):
    flushed, since, n_fsync, found = set(), set(), 0, 0
    with open(trace) as f:
        for line in f:
            if 'fsync(' in line:
                n_fsync += 1
                flushed |= since
                since = set()
                continue
            m = WRITE.search(line)
            if not m or not m.group(1).startswith('\\x47\\x43\\x4f\\x4c'):  # GCOL
                continue
            off = int(m.group(3))
            if off in flushed:
                found += 1
            since.add(off)
    return n_fsync, found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--dir', default=tempfile.gettempdir())
    a = ap.parse_args()
    blob = os.path.join(a.dir, 'flushed_rewrites.bin')
    out = os.path.join(a.dir, 'flushed_rewrites.h5')
    trace = os.path.join(a.dir, 'flushed_rewrites.trace')
    with open(blob, 'wb') as f:
        f.write(os.urandom(10000 * 1500))
    for run in range(a.runs):
        if os.path.exists(out):
            os.unlink(out)
        subprocess.run(['strace', '-f', '-qq', '-e', 'trace=pwrite64,fsync', '-xx',
                        '-s', '8', '-o', trace, 'gst-launch-1.0', '-q', 'filesrc',
                        'location=' + blob, 'blocksize=10000', '!', 'identity',
                        'sleep-time=200', '!', 'hdf5sink', 'location=' + out,
                        'sink_0::path=/blob', 'batch-size=4', 'flush-interval=20000000',
                        'fsync=true', 'stats-interval=0'], check=True)
        n_fsync, found = rewrites(trace)
        print('run %d: %d fsyncs, %d flushed GCOL blocks written again' % (run + 1, n_fsync, found))
    for p in (blob, out, trace):
        os.unlink(p)


if __name__ == '__main__':
    main()
