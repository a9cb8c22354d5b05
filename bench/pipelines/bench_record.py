#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Recording benchmark (issue 8): 2560x720 side-by-side frames at 30 fps from
videotestsrc (not live: frames are counted, the pipeline runs as fast as it
can) → stereorectify → JPEG q85 → HDF5, on this machine's cores.

Side by side in the same run:
  (source)   videotestsrc ! fakesink sync=false: what the test source alone costs
  hdf5sink   videotestsrc ! stereorectify ! hdf5sink jpeg-quality=85 (TurboJPEG
             4:2:0 on hdf5sink's worker threads)
  jpegenc    ... ! stereorectify ! jpegenc (I420 in) ! hdf5sink
  python     the seed recorder's method: cv2.remap (CV_16SC2 maps) + cv2.imencode
             + h5py append with resize per frame, same frame count (capped by
             --python-frames)

For each: achieved fps (frames / wall), real-time factor vs 30 fps, CPU time
per frame (user + sys of the process, wait4) and the fps that CPU cost allows
on 2 otherwise idle cores (2000 / CPU ms: the bound when the machine is shared
with other jobs and wall-clock fps says more about them than about us), and the
RSS of the recording process sampled every second (/proc/PID/status VmRSS):
first sample after 10 % of the run, last sample, max - min after that point.

  /usr/bin/python3 bench/pipelines/bench_record.py --build build --frames 54000
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALIB = os.path.join(ROOT, 'pipelines', 'calib', 'stereo-1280x720.yml')
SRC = ('videotestsrc num-buffers={n} pattern=ball ! '
       'video/x-raw,format={fmt},width=2560,height=720,framerate=30/1')


def rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_sampled(cmd, env, frames):
    """Runs cmd, samples its RSS every second; returns (wall, samples)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples = []
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        r = rss_kb(p.pid)
        if r:
            samples.append((time.monotonic() - t0, r))
        time.sleep(1.0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors='replace')
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit('bench_record.py: %s failed:\n%s' % (cmd[:3], err[-2000:]))
    return wall, samples, ru.ru_utime + ru.ru_stime


def summarize(name, frames, run):
    wall, samples, cpu = run
    steady = [r for t, r in samples if t >= 0.1 * wall] or [r for _, r in samples] or [0]
    fps = frames / wall
    cpu_ms = cpu * 1000.0 / frames
    return ('| %s | %d | %.1f | %.1f | %.2f | %.1f | %.0f | %.1f | %.1f | %.1f |'
            % (name, frames, wall, fps, fps / 30.0, cpu_ms, 2000.0 / cpu_ms,
               steady[0] / 1024.0, steady[-1] / 1024.0, (max(steady) - min(steady)) / 1024.0))


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


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', required=True, help='meson build directory')
    ap.add_argument('--frames', type=int, default=54000, help='frames for hdf5sink (54000 = 30 min)')
    ap.add_argument('--peer-frames', type=int, default=3000, help='frames for the jpegenc and python peers')
    ap.add_argument('--only', default='source,hdf5sink,jpegenc,python')
    a = ap.parse_args()
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(os.path.abspath(a.build), 'gst'))
    rows = []
    with tempfile.TemporaryDirectory(prefix='mb-bench-record-') as d:
        only = a.only.split(',')
        if 'source' in only:
            pipe = SRC.format(n=a.peer_frames, fmt='RGBx') + ' ! fakesink sync=false'
            rows.append(summarize('(ceiling) videotestsrc RGBx → fakesink', a.peer_frames,
                                  run_sampled(['gst-launch-1.0', '-q'] + pipe.split(), env, a.peer_frames)))
        if 'hdf5sink' in only:
            out = os.path.join(d, 'a.h5')
            pipe = (SRC.format(n=a.frames, fmt='RGBx') + ' ! stereorectify layout=side-by-side '
                    'calibration=%s ! hdf5sink location=%s jpeg-quality=85' % (CALIB, out))
            rows.append(summarize('videotestsrc RGBx → stereorectify → hdf5sink jpeg-quality=85',
                                  a.frames, run_sampled(['gst-launch-1.0', '-q', '-e'] +
                                                        pipe.split(), env, a.frames)))
            os.unlink(out)
        if 'jpegenc' in only:
            out = os.path.join(d, 'b.h5')
            pipe = (SRC.format(n=a.peer_frames, fmt='I420') + ' ! stereorectify layout=side-by-side '
                    'calibration=%s ! jpegenc quality=85 ! hdf5sink location=%s' % (CALIB, out))
            rows.append(summarize('videotestsrc I420 → stereorectify → jpegenc → hdf5sink',
                                  a.peer_frames, run_sampled(['gst-launch-1.0', '-q', '-e'] +
                                                             pipe.split(), env, a.peer_frames)))
            os.unlink(out)
        if 'python' in only:
            out = os.path.join(d, 'c.h5')
            rows.append(summarize('python: cv2.remap + cv2.imencode + h5py resize/append',
                                  a.peer_frames, run_sampled(python_peer(a.peer_frames, out),
                                                             env, a.peer_frames)))
    print('load average at the end: %s' % open('/proc/loadavg').read().strip())
    print('| recorder | frames | wall s | fps | × real time | CPU ms/frame | fps for 2 free cores (2000/CPU ms) '
          '| RSS at 10 % MB | RSS at end MB | RSS max−min after 10 % MB |')
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for r in rows:
        print(r)


if __name__ == '__main__':
    main()
