# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the fault-injection tests (tests/fault/test_*.py).

run() starts tests/fault/pipe_run.py in a child process with the
faultinject LD_PRELOAD shim (libfaultinject.so from the build tree) set up by
MB_FAULT_* variables, and returns its JSON report, the number of faults the
shim injected, the exit status and the child's output. Every test prints one
`FIGURE` line per case; docs/reliability.md quotes them.
"""
import faulthandler
import json
import os
import pickle
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get('MB_SOURCE_ROOT', os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get('MB_BUILD_ROOT', '')
SHIM = os.path.join(BUILD, 'tests', 'fault', 'libfaultinject.so')
PIPE_RUN = os.path.join(HERE, 'pipe_run.py')
MAKE_BAG = os.path.join(SRC, 'tests', 'data', 'make_bag.py')


def tmpdir(prefix):
    base = os.environ.get('MB_TEST_TMPDIR', tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=base)


class Result:
    def __init__(self, report, returncode, output, faults):
        self.report = report
        self.returncode = returncode
        self.output = output
        self.faults = faults

    @property
    def end(self):
        return self.report.get('end') if self.report else None

    @property
    def error(self):
        return (self.report or {}).get('error') or ''

    @property
    def debug(self):
        return (self.report or {}).get('debug') or ''

    def error_from(self, src):
        """Text of the first error posted by element @src ('' if none)."""
        for e in (self.report or {}).get('errors') or []:
            if e['src'] == src:
                return e['text']
        return ''

    @property
    def warnings(self):
        return (self.report or {}).get('warnings') or []

    def buffers(self, name=None):
        counts = (self.report or {}).get('buffers') or {}
        if name is None:
            return sum(counts.values())
        return counts.get(name, 0)

    def text(self):
        """Error and warning texts (what a user sees)."""
        parts = [self.error] + [w['text'] for w in self.warnings]
        return '\n'.join(p for p in parts if p)


def run(desc, fault=None, timeout=40):
    """Runs @desc; @fault = dict of MB_FAULT_* settings (PATH, OP, AFTER,
    ERRNO) or None for no fault."""
    env = dict(os.environ)
    if fault:
        if not os.path.exists(SHIM):
            raise RuntimeError('fault shim not built: ' + SHIM)
        env['LD_PRELOAD'] = ':'.join(x for x in (env.get('LD_PRELOAD'), SHIM) if x)
        for k, v in fault.items():
            env['MB_FAULT_' + k] = str(v)
    env['G_DEBUG'] = 'fatal-criticals'
    p = subprocess.run(['/usr/bin/python3', PIPE_RUN, str(timeout - 5), desc],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout + 30)
    out = p.stdout.decode(errors='replace')
    err = p.stderr.decode(errors='replace')
    report = None
    lines = out.strip().splitlines()
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            report = None
    # one line per process that loaded the shim (gst-plugin-scanner too)
    faults = sum(int(n) for n in re.findall(r'faultinject: (\d+) faults injected', err))
    return Result(report, p.returncode, out + err, faults)


def in_child(fn, timeout, what):
    """Returns fn() computed in a forked child (the closure and the parent's
    data come along), so that a reader that hangs or crashes on a damaged
    file fails this test with a clear message instead of hanging it: after
    @timeout seconds the child is made to print its Python stack
    (faulthandler on SIGUSR1) and is killed. Exceptions raised by fn() (assertion failures included) are
    raised again here."""
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        # not dump_traceback_later(): its watchdog thread is the parent's,
        # and does not exist in this forked child
        faulthandler.register(signal.SIGUSR1)
        try:
            out = ('ok', fn())
        except BaseException as e:  # noqa: B902 (sent to the parent)
            out = ('exc', e)
        try:
            data = pickle.dumps(out)
        except Exception as e:  # noqa: B902
            data = pickle.dumps(('exc', RuntimeError('%s: %r' % (what, e))))
        with os.fdopen(wfd, 'wb') as w:
            w.write(data)
        sys.stdout.flush()
        os._exit(0)
    os.close(wfd)
    chunks = []
    end = time.monotonic() + timeout
    with os.fdopen(rfd, 'rb') as r:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGUSR1)
                time.sleep(1)
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError('%s: no answer within %d s (hung; its stack '
                                     'is printed above)' % (what, timeout))
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        raise AssertionError('%s: the reader died (status %d) without an answer'
                             % (what, status))
    kind, value = pickle.loads(b''.join(chunks))
    if kind == 'exc':
        raise value
    return value


def assert_no_crash(tc, r):
    tc.assertGreaterEqual(r.returncode, 0,
                          'killed by signal %s\n%s' % (
                              signal.Signals(-r.returncode).name if r.returncode < 0 else '',
                              r.output[-3000:]))
    tc.assertEqual(r.returncode, 0, r.output[-3000:])
    tc.assertIsNotNone(r.report, r.output[-3000:])
    tc.assertNotEqual(r.end, 'timeout', 'pipeline hung\n' + r.output[-3000:])


def figure(**kv):
    print('FIGURE ' + ' '.join('%s=%s' % (k, repr(v) if ' ' in str(v) else v)
                               for k, v in kv.items()))
    sys.stdout.flush()


def main(module_name='__main__', watchdog=280):
    """Runs the tests; a test process still running after @watchdog seconds
    (just under meson's timeout) prints every thread's stack and exits, so
    that a hang says where it is."""
    import unittest
    faulthandler.dump_traceback_later(watchdog, exit=True)
    result = unittest.main(module=module_name, exit=False, verbosity=2).result
    n = result.testsRun
    bad = len(result.failures) + len(result.errors)
    print('%d passed, %d failed' % (n - bad - len(result.skipped), bad))
    sys.exit(1 if bad else 0)
