# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the rosbag oracle tests: bags written by Debian's python3-rosbag
(through tests/data/make_bag.py), expectations from python rosbag's own
reader, and a runner that collects what rosbagsrc pushes on every pad.

Run under /usr/bin/python3 with the meson test environment."""

import os
import struct
import sys
import tempfile

SRC = os.environ.get('MB_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(SRC, 'tests', 'data'))

import genpy  # noqa: E402
import rosbag  # noqa: E402
import make_bag  # noqa: E402
from sensor_msgs.msg import CompressedImage, Image  # noqa: E402
from std_msgs.msg import String  # noqa: E402

import gi  # noqa: E402
gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

Gst.init(None)

FAILURES = []


def tmpdir(name):
    base = os.environ.get('MB_TEST_TMPDIR') or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=name + '-', dir=base)


def check(cond, what):
    if cond:
        print('ok: %s' % what)
    else:
        print('FAIL: %s' % what)
        FAILURES.append(what)
    return cond


def finish():
    print('%d passed, %d failed' % (CHECKS[0] - len(FAILURES), len(FAILURES)))
    sys.exit(1 if FAILURES else 0)


CHECKS = [0]
_check = check


def check(cond, what):  # noqa: F811
    CHECKS[0] += 1
    return _check(cond, what)


# Small mixed topic set: every kind rosbagsrc decodes plus plain messages.
MIXED = [
    ('/cam/image_raw', 'rgb8', 10, {'size': (16, 8)}),
    ('/cam/image_raw/compressed', 'jpeg', 10, {'size': (32, 24)}),
    ('/joint_states', 'joints', 50, {'n': 3}),
    ('/chatter', 'string', 7, {}),
]


def write_mixed(path, compression='none', chunk_size=768 * 1024, duration=2.0, **kw):
    return make_bag.write_bag(path, MIXED, duration=duration, compression=compression,
                              chunk_size=chunk_size, **kw)


def write_two_connections(path, compression='none', chunk_size=4096):
    """One topic, two connections (two types): python rosbag keys connections
    by topic, so forget the first one before writing the second."""
    t0 = int(make_bag.DEFAULT_START * 1e9)
    with rosbag.Bag(path, 'w', compression=compression, chunk_threshold=chunk_size) as bag:
        for i in range(40):
            t = t0 + i * 25000000
            bag.write('/mixed', String(data='first %d' % i), make_bag._time(t))
            bag.write('/other', String(data='other %d' % i), make_bag._time(t + 1000))
        del bag._topic_connections['/mixed']
        for i in range(40):
            t = t0 + i * 25000000 + 12500000
            m = make_bag.make_joint_state(2, i, t)
            bag.write('/mixed', m, make_bag._time(t))


def bag_start_ns(path):
    b = rosbag.Bag(path)
    s = min(c.start_time.to_nsec() for c in b._chunks)
    b.close()
    return s


def expected(path, topics=None, start_ns=None, end_ns=None, chunk_limit=None):
    """{topic: [(time_ns, bytes)]} from python rosbag read_messages(raw=True).
    chunk_limit: keep only messages of chunks that end at or before it."""
    b = rosbag.Bag(path)
    kw = {}
    if start_ns is not None:
        kw['start_time'] = genpy.Time(start_ns // 10**9, start_ns % 10**9)
    if end_ns is not None:
        kw['end_time'] = genpy.Time(end_ns // 10**9, end_ns % 10**9)
    out = {}
    for topic, raw, t in b.read_messages(topics=topics, raw=True, **kw):
        if chunk_limit is not None:
            chunk_pos = raw[3][0]
            h = b._chunk_headers[chunk_pos]
            if h.data_pos + h.compressed_size > chunk_limit:
                continue
        out.setdefault(topic, []).append((t.to_nsec(), bytes(raw[1])))
    b.close()
    return out


def decoded_expected(path, topic):
    """[(time_ns, header_stamp_ns, data bytes, extra)] for an image topic."""
    b = rosbag.Bag(path)
    out = []
    for _, m, t in b.read_messages(topics=[topic]):
        out.append((t.to_nsec(), m.header.stamp.to_nsec(), bytes(m.data),
                    getattr(m, 'format', None) or getattr(m, 'encoding', None)))
    b.close()
    return out


def sanitize(topic):
    t = topic.lstrip('/') or 'topic'
    return ''.join(c if (c.isalnum() or c in '_-') else '_' for c in t)


UNIX_CAPS = Gst.Caps.from_string('timestamp/x-unix')


class Result:
    def __init__(self):
        self.topics = {}      # pad name -> list of (pts, abs_ns, bytes)
        self.caps = {}        # pad name -> last caps string
        self.order = []       # global arrival order: (pad, pts)
        self.error = None
        self.warnings = []
        self.messages = []    # element messages (structures as strings)
        self.eos = False


def run(props, timeout=60, seek=None, on_pad=None):
    """Runs rosbagsrc with @props into one appsink per pad; returns Result.
    seek: (start_ns, stop_ns or None, flags) sent once PAUSED."""
    res = Result()
    pipe = Gst.Pipeline.new('p')
    src = Gst.ElementFactory.make('rosbagsrc', 'src')
    for k, v in props.items():
        src.set_property(k, v)
    pipe.add(src)

    def new_sample(sink, name):
        s = sink.emit('pull-sample')
        buf = s.get_buffer()
        meta = buf.get_reference_timestamp_meta(UNIX_CAPS)
        ok, info = buf.map(Gst.MapFlags.READ)
        data = bytes(info.data)
        buf.unmap(info)
        res.topics.setdefault(name, []).append((buf.pts, meta.timestamp if meta else None, data))
        res.order.append((name, buf.pts))
        res.caps[name] = s.get_caps().to_string()
        return Gst.FlowReturn.OK

    def pad_added(el, pad):
        name = pad.get_name()
        sink = Gst.ElementFactory.make('appsink', 'sink_' + name)
        sink.set_property('sync', False)
        sink.set_property('async', False)
        sink.set_property('emit-signals', True)
        sink.connect('new-sample', new_sample, name)
        res.topics.setdefault(name, [])
        pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad('sink'))
        if on_pad:
            on_pad(pad)

    src.connect('pad-added', pad_added)
    bus = pipe.get_bus()
    if seek:
        r = pipe.set_state(Gst.State.PAUSED)
        if r == Gst.StateChangeReturn.FAILURE:
            m = bus.timed_pop_filtered(0, Gst.MessageType.ERROR)
            res.error = m.parse_error() if m else ('state change failed', '')
            pipe.set_state(Gst.State.NULL)
            return res
        pipe.get_state(5 * Gst.SECOND)
        start, stop, flags = seek
        ok = src.seek(1.0, Gst.Format.TIME, flags, Gst.SeekType.SET, start,
                      Gst.SeekType.SET if stop is not None else Gst.SeekType.NONE,
                      stop if stop is not None else -1)
        if not ok:
            res.error = ('seek failed', '')
    r = pipe.set_state(Gst.State.PLAYING)
    deadline = timeout * Gst.SECOND
    while True:
        m = bus.timed_pop_filtered(deadline, Gst.MessageType.ERROR | Gst.MessageType.EOS |
                                   Gst.MessageType.WARNING | Gst.MessageType.ELEMENT |
                                   Gst.MessageType.SEGMENT_DONE)
        if m is None:
            res.error = res.error or ('timeout', '')
            break
        if m.type == Gst.MessageType.ERROR:
            e, dbg = m.parse_error()
            res.error = (e.message, dbg)
            break
        if m.type == Gst.MessageType.WARNING:
            e, dbg = m.parse_warning()
            res.warnings.append(e.message)
        elif m.type == Gst.MessageType.ELEMENT:
            res.messages.append(m.get_structure().to_string())
        elif m.type in (Gst.MessageType.EOS, Gst.MessageType.SEGMENT_DONE):
            res.eos = True
            break
    res.src_props = {p: src.get_property(p) for p in
                     ('duration', 'start-timestamp', 'message-count')}
    pipe.set_state(Gst.State.NULL)
    return res


def compare(res, exp, bag_start, what, check_pts=True):
    """Every topic's messages equal (time, bytes), and PTS = time - start."""
    ok = True
    got_topics = {k for k, v in res.topics.items() if v}
    exp_pads = {sanitize(t): t for t in exp}
    if not check(got_topics == set(exp_pads), '%s: topics %s' % (what, sorted(exp_pads))):
        print('   got %s' % sorted(got_topics))
        return False
    for pad, topic in exp_pads.items():
        got = sorted((a, d) for _, a, d in res.topics[pad])
        want = sorted(exp[topic])
        if got != want:
            ok = False
            print('   %s: %d messages, want %d; first diff at %s' % (
                topic, len(got), len(want),
                next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))))
        if check_pts and any(p != a - bag_start for p, a, _ in res.topics[pad]):
            ok = False
            print('   %s: PTS != time - bag start' % topic)
    check(ok, '%s: every message, bytes and time identical to python rosbag' % what)
    pts = [p for _, p in res.order]
    check(all(a <= b for a, b in zip(pts, pts[1:])),
          '%s: non-decreasing time order across pads (%d buffers)' % (what, len(pts)))
    return ok


def patch_bytes(path, offset, data):
    with open(path, 'r+b') as f:
        f.seek(offset)
        f.write(data)


def first_chunk_pos(path):
    with open(path, 'rb') as f:
        f.seek(13)
        hl = struct.unpack('<I', f.read(4))[0]
        f.seek(13 + 4 + hl)
        dl = struct.unpack('<I', f.read(4))[0]
    return 13 + 4 + hl + 4 + dl
