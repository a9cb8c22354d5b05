#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Recording benchmark (issue 8): 2560x720 side-by-side frames at 30 fps from
videotestsrc (not live: frames are counted, the pipeline runs as fast as it
can) → stereorectify → JPEG q85 → HDF5, on this machine's cores.

Every GStreamer row runs the pipeline pipelines/record-stereo.sh builds
(`--dry-run --no-live --print`: videotestsrc pattern=pinwheel, membudget
blocking, stereorectify, hdf5sink flushed every second), so the benchmark
measures the recording script as shipped. Side by side in the same run:

  (ceiling)  the same videotestsrc ! fakesink: what the test source alone costs
  I420       the default: I420 → stereorectify → hdf5sink jpeg-quality=85
             (TurboJPEG from the YUV planes on hdf5sink's worker threads)
  NV12       --format NV12 (the Jetson/nvvidconv format; the workers
             de-interleave the chroma)
  RGBx       --format RGBx: the RGB path (TurboJPEG converts RGB → YCbCr)
  jpegenc    --encoder jpegenc: I420 → stereorectify → jpegenc → hdf5sink
  python     the seed recorder's method: cv2.remap (CV_16SC2 maps) + cv2.imencode
             + h5py append with resize per frame

For each: achieved fps (frames / wall), real-time factor vs 30 fps, CPU time
per frame (user + sys of the process, wait4) and the fps that CPU cost allows
on 2 otherwise idle cores (2000 / CPU ms: the bound when the machine is shared
with other jobs and wall-clock fps says more about them than about us), the
RSS of the recording process sampled every second (/proc/PID/status VmRSS:
first sample after 10 % of the run, last sample, max − min after that point)
and the CPU seconds of each thread (from /proc/PID/task, last sample before
exit) to show where the time goes and that the work spreads over threads.
Every output file is checked for its row count (h5py) and deleted.

  /usr/bin/python3 bench/pipelines/bench_record.py --build build --frames 54000
(54000 frames = 30 minutes of content: the RSS-flatness run; about 10 minutes
at 90 fps. The peers run --peer-frames frames.)
"""

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALIB = os.path.join(ROOT, 'pipelines', 'calib', 'stereo-1280x720.yml')
SCRIPT = os.path.join(ROOT, 'pipelines', 'record-stereo.sh')
TICK = os.sysconf('SC_CLK_TCK')


def rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def thread_cpu(pid):
    """{thread name: CPU seconds} summed over threads of the same name."""
    out = {}
    try:
        tids = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index('(') + 1:st.rindex(')')]
        fields = st[st.rindex(')') + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return out


def run_sampled(cmd, env):
    """Runs cmd, samples RSS and per-thread CPU every 0.5 s; returns
    (wall, rss samples, CPU s, threads)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples, threads = [], {}
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        r = rss_kb(p.pid)
        if r:
            samples.append((time.monotonic() - t0, r))
        threads = thread_cpu(p.pid) or threads
        time.sleep(0.5)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors='replace')
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit('bench_record.py: %s failed:\n%s' % (' '.join(cmd[:6]), err[-2000:]))
    return wall, samples, ru.ru_utime + ru.ru_stime, threads


def summarize(name, frames, run):
    wall, samples, cpu, _ = run
    steady = [r for t, r in samples if t >= 0.1 * wall] or [r for _, r in samples] or [0]
    fps = frames / wall
    cpu_ms = cpu * 1000.0 / frames
    return ('| %s | %d | %.1f | %.1f | %.2f | %.1f | %.0f | %.1f | %.1f | %.1f |'
            % (name, frames, wall, fps, fps / 30.0, cpu_ms, 2000.0 / cpu_ms,
               steady[0] / 1024.0, steady[-1] / 1024.0, (max(steady) - min(steady)) / 1024.0))


def threads_line(name, frames, run):
    th = sorted(run[3].items(), key=lambda kv: -kv[1])
    return '%s: %s' % (name, ', '.join('%s %.1f ms' % (n, 1000.0 * s / frames)
                                        for n, s in th if s * 1000.0 / frames >= 0.05))


PATTERN = ['--pattern', 'pinwheel']


def script_pipeline(build, frames, out, args):
    """The gst-launch-1.0 argv pipelines/record-stereo.sh runs (not live)."""
    env = dict(os.environ, MB_BUILD=build)
    line = subprocess.run(['sh', SCRIPT, '--dry-run', '--no-live', '--frames', str(frames),
                           '--print'] + PATTERN + args + [out], env=env, check=True,
                          capture_output=True, text=True).stdout.strip()
    argv = shlex.split(line)
    assert argv[:2] == ['gst-launch-1.0', '-e'], line
    return argv


def check_rows(path, n):
    out = subprocess.run(['/usr/bin/python3', '-c',
                          'import h5py, sys; f = h5py.File(sys.argv[1], "r"); '
                          'print(len(f[sys.argv[2]]))', path,
                          'stereo_jpeg' if path.endswith('py.h5') else '/stream_0/data'],
                         check=True, capture_output=True, text=True).stdout
    if int(out) != n:
        sys.exit('bench_record.py: %s holds %s rows, not %d' % (path, out.strip(), n))
    os.unlink(path)


def python_peer(frames, out):
    """The seed recorder's loop (OpenCV + h5py), as a child process."""
    code = r'''
import sys, time, cv2, h5py, numpy as np
cv2.setNumThreads(2)
n, out, calib = int(sys.argv[1]), sys.argv[2], sys.argv[3]
fs = cv2.FileStorage(calib, cv2.FILE_STORAGE_READ)
K1, D1, K2, D2 = (fs.getNode(k).mat() for k in ('M1', 'D1', 'M2', 'D2'))
R, T = fs.getNode('R').mat(), fs.getNode('T').mat()
size = (1280, 720)
R1, R2, P1, P2, _, _, _ = cv2.stereoRectify(K1, D1, K2, D2, size, R, T, alpha=0)
maps = [cv2.initUndistortRectifyMap(K, D, Rr, P, size, cv2.CV_16SC2)
        for K, D, Rr, P in ((K1, D1, R1, P1), (K2, D2, R2, P2))]
frame = np.zeros((720, 2560, 3), np.uint8)
with h5py.File(out, 'w', libver='latest') as f:
    d = f.create_dataset('stereo_jpeg', (0,), maxshape=(None,), dtype=h5py.vlen_dtype(np.uint8))
    for i in range(n):
        frame[:] = 0
        cv2.circle(frame, (40 + (i * 8) % 2480, 360), 40, (255, 255, 255), -1)
        left = cv2.remap(frame[:, :1280], maps[0][0], maps[0][1], cv2.INTER_LINEAR)
        right = cv2.remap(frame[:, 1280:], maps[1][0], maps[1][1], cv2.INTER_LINEAR)
        ok, enc = cv2.imencode('.jpg', np.hstack([left, right]), [cv2.IMWRITE_JPEG_QUALITY, 85])
        d.resize((i + 1,))
        d[i] = np.frombuffer(enc, np.uint8)
        if i % 30 == 29:
            f.flush()
'''
    return ['/usr/bin/python3', '-c', code, str(frames), out, CALIB]


ROWS = [
    # key, label, record-stereo.sh options, headline frames?
    ('i420', 'I420 → stereorectify → hdf5sink jpeg-quality=85 (TurboJPEG from the planes)', [], True),
    ('nv12', 'NV12 → stereorectify → hdf5sink jpeg-quality=85', ['--format', 'NV12'], False),
    ('rgbx', 'RGBx → stereorectify → hdf5sink jpeg-quality=85', ['--format', 'RGBx'], False),
    ('jpegenc', 'I420 → stereorectify → jpegenc → hdf5sink', ['--encoder', 'jpegenc'], False),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', required=True, help='meson build directory')
    ap.add_argument('--frames', type=int, default=54000,
                    help='frames for the headline I420 row (54000 = 30 min of content)')
    ap.add_argument('--peer-frames', type=int, default=600, help='frames for the other rows')
    ap.add_argument('--only', default='source,i420,nv12,rgbx,jpegenc,python')
    ap.add_argument('--trace', type=float, default=0,
                    help='also print each row\'s RSS trace, one sample every TRACE seconds')
    ap.add_argument('--pattern', default='pinwheel',
                    help='videotestsrc pattern (record-stereo.sh --pattern; ball costs ~15 ms/frame to draw)')
    a = ap.parse_args()
    PATTERN[1] = a.pattern
    build = os.path.abspath(a.build)
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, 'gst'))
    only = a.only.split(',')
    rows, threads, traces = [], [], []
    load0 = open('/proc/loadavg').read().strip()
    with tempfile.TemporaryDirectory(prefix='mb-bench-record-') as d:
        if 'source' in only:
            argv = script_pipeline(build, a.peer_frames, os.path.join(d, 'x.h5'), [])
            src = argv[2:argv.index('membudget') - 1]
            cmd = ['gst-launch-1.0', '-q'] + src + ['!', 'fakesink', 'sync=false']
            run = run_sampled(cmd, env)
            rows.append(summarize('(ceiling) videotestsrc I420 pattern=%s → fakesink' % a.pattern,
                                  a.peer_frames, run))
        for key, label, args, headline in ROWS:
            if key not in only:
                continue
            n = a.frames if headline else a.peer_frames
            out = os.path.join(d, key + '.h5')
            argv = script_pipeline(build, n, out, args)
            run = run_sampled(['gst-launch-1.0', '-q'] + argv[1:], env)
            check_rows(out, n)
            rows.append(summarize(label, n, run))
            threads.append(threads_line(key, n, run))
            traces.append((key, run[1]))
        if 'python' in only:
            out = os.path.join(d, 'py.h5')
            run = run_sampled(python_peer(a.peer_frames, out), env)
            check_rows(out, a.peer_frames)
            rows.append(summarize('python: cv2.remap + cv2.imencode + h5py resize/append',
                                  a.peer_frames, run))
    print('%d CPUs; load average at the start: %s; at the end: %s'
          % (os.cpu_count(), load0, open('/proc/loadavg').read().strip()))
    print('| recorder | frames | wall s | fps | × real time | CPU ms/frame | fps for 2 free cores (2000/CPU ms) '
          '| RSS at 10 % MB | RSS at end MB | RSS max−min after 10 % MB |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for r in rows:
        print(r)
    print()
    print('CPU per frame by thread (last sample before exit):')
    for t in threads:
        print('  ' + t)
    if a.trace > 0:
        print()
        print('RSS traces (s:MB, one sample every %g s):' % a.trace)
        for key, samples in traces:
            out, nxt = [], 0.0
            for t, r in samples:
                if t >= nxt:
                    out.append('%.0f:%.1f' % (t, r / 1024.0))
                    nxt = t + a.trace
            print('  %s: %s' % (key, ' '.join(out)))


if __name__ == '__main__':
    main()
