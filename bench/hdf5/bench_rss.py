#!/usr/bin/python3
"""RSS over a 10-minute-content 2560x720@30 JPEG recording through hdf5sink.

Runs, as fast as the machine allows (is-live=false; --live: at 30 fps in
real time, as from a camera),
  gst-launch-1.0 -e videotestsrc num-buffers=18000 is-live=false
    ! video/x-raw,format=RGB,width=2560,height=720,framerate=30/1
    ! hdf5sink location=<tmp> jpeg-quality=85 stats-interval=0
samples VmRSS from /proc/<pid>/status every 0.5 s and reports the growth
from the end of the warm-up (first 10 % of the run time) to the end, the
peak, and the frame rate reached (>= 30 fps means a live 2560x720@30 camera
keeps up). The output file is checked (row count) and deleted.

Usage: GST_PLUGIN_PATH=<build>/gst /usr/bin/python3 bench/hdf5/bench_rss.py
       [--frames 18000] [--dir /tmp] [--extra 'jpeg-threads=2'] [--live]
       [--trace samples.txt]
"""
import argparse
import os
import subprocess
import tempfile
import time

import h5py


def rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--frames', type=int, default=18000)
    ap.add_argument('--dir', default=tempfile.gettempdir())
    ap.add_argument('--extra', default='')
    ap.add_argument('--live', action='store_true',
                    help='is-live=true: frames at 30 fps in real time, as '
                    'from a camera (the queue stays short); default: as fast '
                    'as possible (the queue fills to max-queue-bytes)')
    ap.add_argument('--trace', help='write every sample (s, kB) to this file')
    args = ap.parse_args()
    out = os.path.join(tempfile.mkdtemp(prefix='bench-rss-', dir=args.dir),
                       'rec.h5')
    cmd = ['gst-launch-1.0', '-e', 'videotestsrc',
           'num-buffers=%d' % args.frames,
           'is-live=%s' % ('true' if args.live else 'false'), '!',
           'video/x-raw,format=RGB,width=2560,height=720,framerate=30/1', '!',
           'hdf5sink', 'location=' + out, 'jpeg-quality=85',
           'stats-interval=0'] + args.extra.split()
    print('command:', ' '.join(cmd))
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    samples = []
    while p.poll() is None:
        r = rss_kb(p.pid)
        if r is not None:
            samples.append((time.perf_counter() - t0, r))
        time.sleep(0.5)
    wall = time.perf_counter() - t0
    if args.trace:
        with open(args.trace, 'w') as f:
            f.writelines('%.1f %d\n' % s for s in samples)
    err = p.stderr.read().decode(errors='replace')
    assert p.returncode == 0, err
    with h5py.File(out, 'r') as f:
        rows = len(f['/stream_0/data'])
        size = os.path.getsize(out)
    os.unlink(out)
    os.rmdir(os.path.dirname(out))
    assert rows == args.frames, rows
    warm = [r for t, r in samples if t >= 0.1 * wall] or [samples[-1][1]]
    start, end, peak = warm[0], warm[-1], max(r for _, r in samples)
    print('%d frames (%.0f s of 30 fps content) in %.1f s = %.1f fps, '
          'file %.0f MB' % (rows, rows / 30, wall, rows / wall, size / 1e6))
    print('RSS after warm-up %.1f MB, at end %.1f MB, peak %.1f MB, '
          'growth %+.1f MB (%d samples)' % (
              start / 1024, end / 1024, peak / 1024, (end - start) / 1024,
              len(samples)))
    # a coarse trace: 10 evenly spaced samples
    step = max(1, len(samples) // 10)
    print('trace (s, MB):', ' '.join('%.0f:%.1f' % (t, r / 1024)
                                     for t, r in samples[::step]))


if __name__ == '__main__':
    main()
