#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Avatar playback benchmark (issue 8), the pipeline of pipelines/avatar.sh
(hdf5src idle loop + mouth frames → compositor → timealign paced by 40 ms
audio chunks → membudgets → sinks) run in this process (PyGObject):

  --mode fast   N seconds of content (default 3600) as fast as possible:
                non-live sources, fakesinks sync=false. Reports wall time,
                RSS at 10 % of the content and at the end (/proc/self/statm,
                sampled every 2 s), the audio/video offset at the sinks
                (|PTS of video frame i - PTS of audio chunk i|, max over the
                run) and timealign's max |video frame time - audio tick|.
  --mode live   N seconds (default 60) live: audiotestsrc is-live, clocksync
                on the video, fakesinks sync=true. Reports frames shown,
                frames dropped anywhere (timealign ticks dropped, membudget
                drops, sink QoS drops) and the achieved frame rate.

  /usr/bin/python3 bench/pipelines/bench_avatar.py --build build --mode fast --seconds 3600
  /usr/bin/python3 bench/pipelines/bench_avatar.py --build build --mode live --seconds 60
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', required=True)
    ap.add_argument('--mode', choices=('fast', 'live'), default='fast')
    ap.add_argument('--seconds', type=float, default=None)
    a = ap.parse_args()
    secs = a.seconds or (3600 if a.mode == 'fast' else 60)
    os.environ['GST_PLUGIN_PATH'] = os.path.join(os.path.abspath(a.build), 'gst')

    import gi
    gi.require_version('Gst', '1.0')
    from gi.repository import GLib, Gst
    Gst.init(None)

    d = tempfile.mkdtemp(prefix='mb-bench-avatar-')
    bank = os.path.join(d, 'bank.h5')
    subprocess.run(['/usr/bin/python3', os.path.join(ROOT, 'pipelines', 'make-frame-bank.py'),
                    '-o', bank], check=True, stdout=subprocess.DEVNULL)
    args = ['sh', os.path.join(ROOT, 'pipelines', 'avatar.sh'), '--print', '--duration', str(secs),
            '--output', 'fake', bank]
    if a.mode == 'fast':
        args.insert(2, '--fast')
    line = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
    line = line.replace('gst-launch-1.0 -e ', '', 1)
    # name the two sinks (video first in the line, then audio)
    line = line.replace('fakesink', 'fakesink name=vsink', 1)
    line = line.replace('! fakesink sync', '! fakesink name=asink sync', 1)
    pipeline = Gst.parse_launch(line)
    vsink, asink = pipeline.get_by_name('vsink'), pipeline.get_by_name('asink')
    align = pipeline.get_by_name('align')

    import threading
    lock = threading.Lock()
    vpts, apts = [], []
    st = {'off': 0, 'n': 0}

    def pair():
        # with lock: compare the i-th video frame with the i-th audio chunk
        while vpts and apts:
            v, au = vpts.pop(0), apts.pop(0)
            st['off'] = max(st['off'], abs(v - au))
            st['n'] += 1

    def probe_v2(pad, info):
        with lock:
            vpts.append(info.get_buffer().pts)
            pair()
        return Gst.PadProbeReturn.OK

    def probe_a(pad, info):
        with lock:
            apts.append(info.get_buffer().pts)
            pair()
        return Gst.PadProbeReturn.OK

    vsink.get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, probe_v2)
    asink.get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, probe_a)

    loop = GLib.MainLoop()
    samples = []
    res = {'stats': None, 'err': None}
    t0 = time.monotonic()

    def sample():
        samples.append((st['n'], rss_mb()))
        return True

    def on_msg(bus, m):
        if m.type == Gst.MessageType.ELEMENT and m.get_structure().get_name() == 'timealign-stats':
            res['stats'] = m.get_structure()
        elif m.type == Gst.MessageType.ERROR:
            res['err'] = m.parse_error()[0].message
            loop.quit()
        elif m.type == Gst.MessageType.EOS:
            loop.quit()
        return True

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_msg)
    GLib.timeout_add(2000, sample)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    wall = time.monotonic() - t0
    samples.append((st['n'], rss_mb()))
    drops = {}
    for e in pipeline.iterate_elements():
        f = e.get_factory().get_name()
        if f == 'membudget':
            drops[e.get_name()] = e.get_property('dropped-buffers')
        if f == 'fakesink':
            s = e.get_property('stats')
            drops[e.get_name() + ' (QoS)'] = s.get_value('dropped')
    ticks_dropped = align.get_property('ticks-dropped')
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    subprocess.run(['rm', '-rf', d])
    if res['err']:
        sys.exit('bench_avatar.py: error: %s' % res['err'])

    frames = st['n']
    vmax = None
    if res['stats'] is not None:
        ins = res['stats'].get_value('inputs')
        for i in range(len(ins)):
            s = ins[i]
            if s.get_string('pad') == 'sink_1':
                vmax = s.get_value('max-error') / 1e6
    print('mode %s, %g s of content, %d video frames / audio chunks paired, wall %.1f s (%.1fx real time)'
          % (a.mode, secs, frames, wall, secs / wall))
    print('A/V offset at the sinks (max |video PTS - audio PTS|, same index): %.3f ms' % (st['off'] / 1e6))
    if vmax is not None:
        print('timealign: max |chosen video frame time - audio tick| %.3f ms' % vmax)
    print('ticks dropped: %d; drops: %s' % (ticks_dropped, drops))
    if a.mode == 'fast':
        early = [r for n, r in samples if n >= 0.1 * frames] or [samples[-1][1]]
        print('RSS at 10 %% of the content %.2f MB, at the end %.2f MB, growth %.2f MB (max %.2f)'
              % (early[0], samples[-1][1], samples[-1][1] - early[0], max(r for _, r in samples)))
    else:
        print('frames shown %d of %d expected (%.2f fps)' % (frames, int(secs * 25), frames / wall))


if __name__ == '__main__':
    main()
