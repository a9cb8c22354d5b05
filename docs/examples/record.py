#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Embedding example (PyGObject): record a side-by-side stereo camera to HDF5
— camera → membudget → stereorectify → hdf5sink (TurboJPEG, flushed every
second) — and show a status line built from the elements' bus messages:
frames, seconds, fps, rows written, writer queue depth, dropped frames and
memory (the status line the users' Jetson recorder had).

  /usr/bin/python3 docs/examples/record.py --dry-run --seconds 5 /tmp/rec.h5
  /usr/bin/python3 docs/examples/record.py --device /dev/video0 ~/rec.h5     # Ctrl-C stops

The membound plugin must be findable: GST_PLUGIN_PATH=<build>/gst.

What it shows:
  * building the pipeline from Python, with the hdf5sink request pad's
    `path` property set (/stereo) — something a gst-launch-1.0 line cannot do;
  * membudget-stats (held frames, drops, RSS), hdf5sink-stats (rows, bytes,
    queue depth, write latency) and hdf5sink-flushed messages, read with the
    field names of include/membound/membudget.h and hdf5sink.h;
  * a clean stop: EOS (so hdf5sink finalizes the file), then NULL; errors end
    the run with the element's message and exit status 1.
"""

import argparse
import os
import signal
import sys
import time

import gi

gi.require_version('Gst', '1.0')
from gi.repository import GLib, Gst  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CALIB = os.path.join(HERE, '..', '..', 'pipelines', 'calib', 'stereo-1280x720.yml')


def build(args):
    p = Gst.Pipeline.new('record')
    if args.dry_run:
        src = Gst.ElementFactory.make('videotestsrc', 'camera')
        src.set_property('is-live', True)
        src.set_property('pattern', 'pinwheel')
        if args.seconds:
            src.set_property('num-buffers', int(args.seconds * args.fps))
        chain = [src]
    else:
        src = Gst.ElementFactory.make('v4l2src', 'camera')
        src.set_property('device', args.device)
        chain = [src, Gst.ElementFactory.make('videoconvert', None)]
    caps = Gst.ElementFactory.make('capsfilter', None)
    caps.set_property('caps', Gst.Caps.from_string(
        'video/x-raw,format=I420,width=2560,height=720,framerate=%d/1' % args.fps))
    mb = Gst.ElementFactory.make('membudget', 'budget')
    rect = Gst.ElementFactory.make('stereorectify', 'rectify')
    sink = Gst.ElementFactory.make('hdf5sink', 'writer')
    for e, name in ((mb, 'membudget'), (rect, 'stereorectify'), (sink, 'hdf5sink')):
        if e is None:
            sys.exit("record.py: element '%s' not found (set GST_PLUGIN_PATH=<build>/gst)" % name)
    # at most 4 raw frames held; when rectification or the disk falls behind,
    # drop the oldest (counted) instead of queueing without bound
    for k, v in (('max-size-buffers', 4), ('max-size-bytes', 0), ('max-size-time', 0),
                 ('stats-interval', Gst.SECOND)):
        mb.set_property(k, v)
    Gst.util_set_object_arg(mb, 'policy', 'drop-oldest')
    Gst.util_set_object_arg(rect, 'layout', 'side-by-side')
    rect.set_property('calibration', args.calibration)
    sink.set_property('location', args.output)
    Gst.util_set_object_arg(sink, 'mode', 'overwrite')
    sink.set_property('jpeg-quality', args.quality)
    sink.set_property('flush-interval', Gst.SECOND)
    sink.set_property('stats-interval', Gst.SECOND)
    sink.set_property('max-queue-bytes', 32 * 1024 * 1024)
    chain += [caps, mb, rect]
    for e in chain + [sink]:
        p.add(e)
    for a, b in zip(chain, chain[1:]):
        if not a.link(b):
            sys.exit('record.py: cannot link %s to %s' % (a.get_name(), b.get_name()))
    pad = sink.request_pad_simple('sink_%u')
    pad.set_property('path', '/stereo')
    rect.get_static_pad('src').link(pad)
    return p


class Status:
    def __init__(self):
        self.t0 = time.monotonic()
        self.rows = self.bytes = self.queued = 0
        self.dropped = 0
        self.rss = 0
        self.flushed = 0

    def line(self):
        dt = max(time.monotonic() - self.t0, 1e-6)
        return ('frames %d  %.1f s  %.1f fps  written %.1f MB (%d durable)  queue %d  '
                'dropped %d  RSS %.1f MB' % (self.rows, dt, self.rows / dt, self.bytes / 1e6,
                                             self.flushed, self.queued, self.dropped,
                                             self.rss / 1e6))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('output')
    ap.add_argument('--dry-run', action='store_true', help='videotestsrc instead of a camera')
    ap.add_argument('--device', default='/dev/video0')
    ap.add_argument('--fps', type=int, default=30)
    ap.add_argument('--quality', type=int, default=85)
    ap.add_argument('--seconds', type=float, default=0, help='stop after this long (0 = Ctrl-C)')
    ap.add_argument('--calibration', default=DEFAULT_CALIB)
    args = ap.parse_args()

    Gst.init(None)
    pipeline = build(args)
    loop = GLib.MainLoop()
    st = Status()
    result = {'code': 0}

    def on_message(bus, msg):
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            name = s.get_name()
            if name == 'membudget-stats':
                st.dropped = s.get_value('dropped-buffers')
                st.rss = s.get_value('rss')
            elif name == 'hdf5sink-stats':
                st.rows, st.bytes = s.get_value('rows'), s.get_value('bytes')
                st.queued = s.get_value('queue-buffers')
                print(st.line(), flush=True)
            elif name == 'hdf5sink-flushed':
                st.flushed = s.get_value('rows')
            elif name == 'hdf5sink-done':
                st.rows, st.bytes = s.get_value('rows'), s.get_value('bytes')
                st.flushed = st.rows
                # the final counts, as read-only properties
                st.dropped = pipeline.get_by_name('budget').get_property('dropped-buffers')
                print('done: ' + st.line(), flush=True)
        elif t == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            print('record.py: error from %s: %s' % (msg.src.get_name(), err.message),
                  file=sys.stderr)
            result['code'] = 1
            loop.quit()
        elif t == Gst.MessageType.EOS:
            loop.quit()
        return True

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_message)

    def stop(*_):
        print('stopping: EOS (the file is finalized)', flush=True)
        pipeline.send_event(Gst.Event.new_eos())
        return False

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)
    if not args.dry_run and args.seconds:
        GLib.timeout_add(int(args.seconds * 1000), stop)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        m = bus.pop_filtered(Gst.MessageType.ERROR)
        if m:
            on_message(bus, m)
        result['code'] = 1
    else:
        loop.run()
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return result['code']


if __name__ == '__main__':
    sys.exit(main())
