# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the end-to-end tests of tests/pipelines (run with /usr/bin/python3
through `meson test`, which sets MB_SOURCE_ROOT, MB_BUILD_ROOT, MB_TEST_TMPDIR,
MB_ELEMENTS and the GStreamer plugin environment)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get('MB_SOURCE_ROOT') or sys.exit('run through meson test')
BUILD = os.environ['MB_BUILD_ROOT']
PY = '/usr/bin/python3'
CONVERT = os.path.join(BUILD, 'tools', 'membound-convert')
SKIP = 77

sys.path.insert(0, os.path.join(SRC, 'tests', 'data'))


def require(*elements):
    """Exits 77 (meson SKIP) when an element is not registered in this build."""
    have = set(filter(None, os.environ.get('MB_ELEMENTS', '').split(',')))
    missing = [e for e in elements if e not in have]
    if missing:
        print('SKIP: not registered in this build: %s' % ' '.join(missing))
        sys.exit(SKIP)


def tmpdir(name):
    base = os.environ['MB_TEST_TMPDIR']
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=name + '-', dir=base)


def cleanup(d):
    shutil.rmtree(d, ignore_errors=True)


class Result:
    def __init__(self, rc, out, err, maxrss_kb, wall):
        self.rc, self.out, self.err, self.maxrss_kb, self.wall = rc, out, err, maxrss_kb, wall

    @property
    def maxrss_mb(self):
        return self.maxrss_kb / 1024.0

    def __repr__(self):
        return ('rc=%d wall=%.2fs maxrss=%.1fMB\n--- stdout\n%s\n--- stderr\n%s'
                % (self.rc, self.wall, self.maxrss_mb, self.out[-4000:], self.err[-4000:]))


def run(cmd, timeout=60, env=None, cwd=None):
    """Runs @cmd under /usr/bin/time; returns a Result with the peak RSS of
    the largest process of the tree (the command, or a descendant it waited
    for, e.g. gst-launch-1.0 started by a script). Not measured with wait4
    from here: a child forked from this (large) Python process inherits its
    high-water mark across exec."""
    e = dict(os.environ)
    if env:
        e.update(env)
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe, \
            tempfile.NamedTemporaryFile('r') as ft:
        t0 = time.monotonic()
        p = subprocess.Popen(['/usr/bin/time', '-q', '-f', '%M', '-o', ft.name] + list(cmd),
                             stdout=fo, stderr=fe, env=e, cwd=cwd,
                             stdin=subprocess.DEVNULL)
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() - t0 > timeout:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                fo.seek(0)
                fe.seek(0)
                raise AssertionError('timeout after %ds: %s\n%s\n%s' % (
                    timeout, ' '.join(cmd), fo.read().decode(errors='replace')[-3000:],
                    fe.read().decode(errors='replace')[-3000:]))
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        fo.seek(0)
        fe.seek(0)
        lines = ft.read().split()
        maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        return Result(p.returncode, fo.read().decode(errors='replace'),
                      fe.read().decode(errors='replace'), maxrss, wall)


def check(cond, msg, result=None):
    if not cond:
        print('FAIL: %s' % msg)
        if result is not None:
            print(result)
        sys.exit(1)


def ok(msg):
    print('ok: %s' % msg)


def as_str(v):
    if isinstance(v, bytes):
        return v.decode('utf-8', 'replace')
    return str(v)


def compare_msg(msg, row, where):
    """Field-exact comparison of a genpy message with an h5py compound row
    (numpy.void) as hdf5sink writes it: time/duration → int64 ns, strings →
    variable-length strings, T[] → vlen, T[N] → array, nested → compound.
    Returns a list of mismatch descriptions."""
    import numpy as np
    errs = []
    for name, typ in zip(msg.__slots__, msg._slot_types):
        want = getattr(msg, name)
        try:
            got = row[name]
        except (ValueError, KeyError, IndexError):
            errs.append('%s.%s: missing in the HDF5 row (fields %s)' % (
                where, name, row.dtype.names))
            continue
        w = '%s.%s' % (where, name)
        base = typ.split('[')[0]
        is_array = '[' in typ
        if base in ('time', 'duration'):
            if is_array:
                wv = [t.secs * 1000000000 + t.nsecs for t in want]
                if list(np.asarray(got).ravel()) != wv:
                    errs.append('%s: %r != %r' % (w, got, wv))
            elif int(got) != want.secs * 1000000000 + want.nsecs:
                errs.append('%s: %r != %r' % (w, got, want))
        elif base == 'string':
            if is_array:
                gv = [as_str(x) for x in got]
                if gv != list(want):
                    errs.append('%s: %r != %r' % (w, gv, want))
            elif as_str(got) != want:
                errs.append('%s: %r != %r' % (w, as_str(got), want))
        elif hasattr(want, '__slots__') and not is_array:
            errs += compare_msg(want, got, w)
        elif is_array and base not in ('bool', 'int8', 'uint8', 'int16', 'uint16', 'int32',
                                       'uint32', 'int64', 'uint64', 'float32', 'float64',
                                       'char', 'byte'):
            # array of messages
            if len(got) != len(want):
                errs.append('%s: %d elements != %d' % (w, len(got), len(want)))
            else:
                for i, (m, r) in enumerate(zip(want, got)):
                    errs += compare_msg(m, r, '%s[%d]' % (w, i))
        elif is_array:
            if base in ('uint8', 'char') and isinstance(want, (bytes, bytearray)):
                wv = list(want)
            else:
                wv = list(want)
            gv = list(np.asarray(got).ravel())
            if base.startswith('float'):
                same = len(gv) == len(wv) and all(
                    (a == b) or (a != a and b != b) for a, b in zip(gv, wv))
            else:
                same = [int(x) for x in gv] == [int(x) for x in wv]
            if not same:
                errs.append('%s: %r != %r' % (w, gv[:8], wv[:8]))
        else:
            if base.startswith('float'):
                if not (got == want or (got != got and want != want)):
                    errs.append('%s: %r != %r' % (w, got, want))
            elif int(got) != int(want):
                errs.append('%s: %r != %r' % (w, got, want))
    return errs


def small_sample_topics(size=(64, 48)):
    """tests/data/make_bag.py's `sample` preset with small images (fast)."""
    import make_bag
    return [(t, k, r, dict(p, size=size) if 'size' in p else p)
            for t, k, r, p in make_bag.PRESETS['sample']]


def small_sample_bag(path, duration=2.0, jitter_ms=3, **kw):
    """Writes a `sample` bag with small images; returns its topic list."""
    import make_bag
    tp = small_sample_topics()
    make_bag.write_bag(path, tp, duration=duration, jitter_ms=jitter_ms, **kw)
    return tp
