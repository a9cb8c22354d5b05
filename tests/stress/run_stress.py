#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""State and flow stress for one membound element (issue 9).

Usage: run_stress.py STRESS-EXE ELEMENT [ITERATIONS]

Prepares the element's input in $MB_TEST_TMPDIR (a bag written by Debian's
python3-rosbag through tests/data/make_bag.py, a stereo calibration written by
cv2.FileStorage, an HDF5 file written by hdf5sink), then runs the stress
driver (tests/stress/stress.c) on a pipeline around the element: random state
changes, flushing seeks, EOS, caps renegotiation (capsfilter `cf`) and pad
request/release (element `req`) while data flows, under
G_DEBUG=fatal-warnings,fatal-criticals with a watchdog. Fails on a crash, a
hang, a GLib warning/critical, a leak reported by GST_TRACERS=leaks (the
`leaks` test setup), or when no buffer ever reached a sink. A post-check
follows for some elements: the file hdf5sink left must open in h5py with
consistent rows; membudget's drop-oldest policy must keep data flowing after
a downstream stall. Prints the driver's summary line (quoted in
docs/reliability.md).
"""
import os
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get('MB_SOURCE_ROOT',
                     os.path.dirname(os.path.dirname(os.path.dirname(
                         os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(SRC, 'tests', 'data'))

WATCHDOG = 20
SEED = 9


def workdir(element):
    base = os.environ.get('MB_TEST_TMPDIR', tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix='stress-%s-' % element, dir=base)


def make_bag(d):
    path = os.path.join(d, 'joints.bag')
    subprocess.run(['/usr/bin/python3', os.path.join(SRC, 'tests', 'data', 'make_bag.py'),
                    '-o', path, '--preset', 'joints', '--duration', '4',
                    '--chunk-size', '16384', '--compression', 'lz4'],
                   check=True, stdout=subprocess.DEVNULL)
    return path


def make_calibration(d, w, h):
    import cv2
    import numpy as np
    K1 = np.array([[0.71 * w, 0, w / 2.0 - 0.5], [0, 0.71 * w, h / 2.0 + 0.5], [0, 0, 1]])
    K2 = np.array([[0.72 * w, 0, w / 2.0 + 0.7], [0, 0.715 * w, h / 2.0 - 0.3], [0, 0, 1]])
    D1 = np.array([[-0.28, 0.08, 0.0006, -0.0004, -0.009]])
    D2 = np.array([[-0.27, 0.075, -0.0005, 0.0003, -0.008]])
    R, _ = cv2.Rodrigues(np.array([0.002, -0.004, 0.001]))
    T = np.array([[-0.06], [0.0002], [0.0001]])
    path = os.path.join(d, 'stereo.yml')
    fs = cv2.FileStorage(path, cv2.FILE_STORAGE_WRITE)
    fs.write('image_width', w)
    fs.write('image_height', h)
    for k, v in (('K1', K1), ('D1', D1), ('K2', K2), ('D2', D2), ('R', R), ('T', T)):
        fs.write(k, v)
    fs.release()
    return path


def make_h5(d, env):
    path = os.path.join(d, 'frames.h5')
    subprocess.run(['gst-launch-1.0', '-q', 'videotestsrc', 'num-buffers=300', '!',
                    'video/x-raw,format=GRAY8,width=32,height=24,framerate=30/1', '!',
                    'hdf5sink', 'location=' + path, 'sink_0::path=/cam0'],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return path


def check_h5(path):
    """A file left by the stress run must open in h5py, rows consistent."""
    import h5py
    if not os.path.exists(path):
        return 'no file'
    with h5py.File(path, 'r') as f:
        rows = {}

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name.endswith('/data'):
                ts = f[name[:-len('data')] + 'timestamp']
                if len(ts) != len(obj):
                    raise AssertionError('%s: %d rows, %d timestamps' % (name, len(obj), len(ts)))
                rows[name] = len(obj)
        f.visititems(visit)
    return rows


def pipelines(element, d, env):
    """(description, extra driver args, post-check) for @element."""
    if element == 'rosbagsrc':
        bag = make_bag(d)
        return ('rosbagsrc location=%s name=dyn dyn.joint_states ! queue ! fakesink '
                'dyn.joint_states_hf ! queue ! fakesink' % bag, [], None)
    if element == 'timealign':
        # Extra request pads fed by their own videotestsrc bins are requested
        # and released while data flows (in any state: releasing a fed pad
        # in PAUSED with another branch's queue full used to hang, see
        # docs/reliability.md). MB_STRESS_TIMEALIGN_PADS=0 leaves them out.
        pads = os.environ.get('MB_STRESS_TIMEALIGN_PADS', '1') != '0'
        name = 'req' if pads else 'ta'
        return (('timealign name=%s latency=20000000 '
                 'videotestsrc ! video/x-raw,width=32,height=24,framerate=30/1 ! %s.sink_0 '
                 'audiotestsrc samplesperbuffer=480 ! audio/x-raw,rate=48000 ! %s.sink_1 '
                 '%s.src_0 ! queue ! fakesink %s.src_1 ! queue ! fakesink')
                % (name, name, name, name, name),
                (['--req-src', 'videotestsrc ! capsfilter caps=video/x-raw,width=16,height=12,framerate=10/1']
                 if pads else []),
                None)
    if element == 'timealign-onethread':
        # One streaming thread (rosbagsrc) feeds both inputs: timealign then
        # pushes the ticks from that thread itself instead of its output
        # task (docs/timealign.md "Threads"); src_1's queue holds 2 buffers
        # so that thread often blocks downstream when a seek or a state
        # change comes.
        bag = make_bag(d)
        return ('rosbagsrc location=%s name=dyn dyn.joint_states ! ta.sink_0 '
                'dyn.joint_states_hf ! ta.sink_1 timealign name=ta '
                'ta.src_0 ! queue ! fakesink ta.src_1 ! queue max-size-buffers=2 '
                '! fakesink' % bag, [], None)
    if element == 'stereorectify':
        calib = make_calibration(d, 64, 48)
        caps = ['video/x-raw,format=%s,width=128,height=48,framerate=30/1' % f
                for f in ('GRAY8', 'RGB', 'BGRx', 'I420', 'NV12')]
        caps.append('video/x-raw,format=GRAY8,width=64,height=96,framerate=30/1,'
                    'multiview-mode=top-bottom')
        return ('videotestsrc ! capsfilter name=cf caps="%s" ! stereorectify '
                'calibration=%s n-threads=2 ! fakesink' % (caps[0], calib),
                ['--caps', ';'.join(caps)], None)
    if element == 'membudget':
        def liveness():
            # drop-oldest must keep the stream flowing after downstream
            # stalled for longer than max-size-time (2000 buffers in, a
            # consumer taking 20 ms per buffer: ~100 ms of data stays queued)
            import json
            live = ('videotestsrc num-buffers=2000 ! video/x-raw,width=64,height=48,'
                    'framerate=1000/1 ! membudget policy=drop-oldest max-size-buffers=0 '
                    'max-size-bytes=0 max-size-time=100000000 ! identity sleep-time=20000 '
                    '! fakesink name=fs sync=false')
            r = subprocess.run(['/usr/bin/python3',
                                os.path.join(SRC, 'tests', 'fault', 'pipe_run.py'), '30', live],
                               env=env, stdout=subprocess.PIPE, check=True)
            out = json.loads(r.stdout.decode().strip().splitlines()[-1])['buffers']['fs']
            if out < 50:
                raise AssertionError('drop-oldest: only %d buffers left membudget after a '
                                     'downstream stall (expected >= 50)' % out)
            return 'drop-oldest liveness: %d buffers out' % out
        caps = ['video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1',
                'video/x-raw,format=RGB,width=32,height=24,framerate=30/1',
                'video/x-raw,format=I420,width=64,height=48,framerate=15/1']
        return ('videotestsrc ! capsfilter name=cf caps="%s" ! membudget max-size-buffers=5 '
                'max-inflight-bytes=65536 budget=stress budget-bytes=1048576 '
                '! identity sleep-time=200 ! fakesink' % caps[0],
                ['--caps', ';'.join(caps)], liveness)
    if element == 'hdf5sink':
        out = os.path.join(d, 'out.h5')
        caps = ['video/x-raw,format=GRAY8,width=32,height=24,framerate=30/1',
                'video/x-raw,format=RGB,width=16,height=12,framerate=30/1',
                'application/octet-stream']
        return ('videotestsrc ! capsfilter name=cf caps="%s" ! hdf5sink name=req '
                'location=%s mode=overwrite batch-size=4 flush-interval=50000000 '
                'stats-interval=0' % (caps[0], out),
                ['--caps', ';'.join(caps),
                 '--req-src', 'audiotestsrc samplesperbuffer=480 ! capsfilter caps=audio/x-raw,rate=48000'],
                lambda: check_h5(out))
    if element == 'hdf5src':
        h5 = make_h5(d, env)
        return ('hdf5src location=%s batch-size=4 max-buffers=8 ! queue max-size-buffers=3 '
                '! fakesink' % h5, [], None)
    raise SystemExit('unknown element ' + element)


def main():
    exe, element = sys.argv[1], sys.argv[2]
    iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    d = workdir(element)
    env = dict(os.environ)
    desc, extra, post = pipelines(element, d, env)
    env['G_DEBUG'] = 'fatal-warnings,fatal-criticals'
    cmd = [exe, '--iterations', str(iterations), '--seed', str(SEED),
           '--watchdog', str(WATCHDOG), '--state-timeout', '300',
           '--time-limit', '90'] + extra + [desc]
    print('command: ' + ' '.join(repr(c) if ' ' in c else c for c in cmd))
    sys.stdout.flush()
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    dt = time.monotonic() - t0
    out = p.stdout.decode(errors='replace')
    sys.stdout.write(out[-6000:])
    ok = p.returncode == 0 and 'no crash, no deadlock' in out
    if 'Leaks detected' in out:
        ok = False
        print('FAIL: the leaks tracer reported live objects')
    if p.returncode < 0:
        print('FAIL: killed by signal %d' % -p.returncode)
    if ok and post:
        try:
            print('post-check: %s' % (post(),))
        except AssertionError as e:
            print('FAIL: post-check: %s' % e)
            ok = False
    print('stress/%s: %d iterations in %.1f s, exit %d' % (element, iterations, dt, p.returncode))
    print('%d passed, %d failed' % (1 if ok else 0, 0 if ok else 1))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
