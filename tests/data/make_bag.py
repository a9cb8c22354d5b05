#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Generate ROS1 bag files (format 2.0) for membound's tests, demo and
benchmarks, written by Debian's python3-rosbag / genpy.

Run with the system interpreter (/usr/bin/python3): Debian's ROS modules are
not visible to other Python installs.

Presets (topic sets):
  sample   the demo set: /cam_left/image_raw/compressed and
           /cam_right/image_raw/compressed (sensor_msgs/CompressedImage, real
           JPEG, 30 Hz), /cam_rgb/image_raw (sensor_msgs/Image rgb8, 30 Hz),
           /joint_states (sensor_msgs/JointState, 100 Hz) and
           /joint_states_hf (sensor_msgs/JointState, 500 Hz)
  kuavo    /cam_h, /cam_l, /cam_r /color/image_raw/compressed (JPEG, 30 Hz),
           /cam_h/color/image_raw (Image rgb8, 30 Hz), /kuavo_arm_traj
           (JointState, 100 Hz), /sensors_data_raw (JointState, 500 Hz)
  rgb640   /camera/image_raw: 640x480 rgb8 Image at 30 Hz, half of the rows
           random so lz4 compresses it about as little as camera frames
           (read benchmark; use --size-mb for a target file size)
  joints   /joint_states (100 Hz) and /joint_states_hf (500 Hz) only
  tiny     a few small messages on three topics (/image mono8 4x2 at 10 Hz,
           /joint_states at 20 Hz, /chatter std_msgs/String at 5 Hz); used
           for fuzz seeds and quick tests

Timing: every topic is sampled at its nominal rate from --start. header.stamp
is the nominal (acquisition) time; the bag record time is header.stamp plus a
random latency in [0, --jitter-ms] (0 = identical). --lag-topic/--lag write
one topic's messages that many seconds late in the file (same record times),
so chunk time ranges overlap, as when a recorder buffers a topic.

Crash simulation: --unindexed zeroes index_pos/conn_count/chunk_count and cuts
the file at the old index position (a recorder killed before closing);
--truncate N then also cuts N more bytes off the end (torn last chunk).

Examples:
  /usr/bin/python3 tests/data/make_bag.py -o /tmp/sample.bag --preset sample --duration 3
  /usr/bin/python3 tests/data/make_bag.py -o /tmp/1g.bag --preset rgb640 --size-mb 1024 --compression lz4
  /usr/bin/python3 tests/data/make_bag.py -o /tmp/crash.bag --preset joints --unindexed --truncate 1000

Importable: tests use make_jpeg(), make_image(), make_joint_state(),
make_unindexed(), and write_bag().
"""

import argparse
import heapq
import os
import random
import struct
import sys

try:
    import genpy
    import rosbag
    from sensor_msgs.msg import CompressedImage, Image, JointState
    from std_msgs.msg import String
except ImportError as e:  # pragma: no cover
    sys.stderr.write("make_bag.py: %s (run with /usr/bin/python3 after scripts/setup-deps)\n" % e)
    sys.exit(2)

DEFAULT_START = 1700000000.0

# (topic, kind, rate_hz, params)
PRESETS = {
    'sample': [
        ('/cam_left/image_raw/compressed', 'jpeg', 30, {'size': (320, 240)}),
        ('/cam_right/image_raw/compressed', 'jpeg', 30, {'size': (320, 240)}),
        ('/cam_rgb/image_raw', 'rgb8', 30, {'size': (320, 240)}),
        ('/joint_states', 'joints', 100, {'n': 14}),
        ('/joint_states_hf', 'joints', 500, {'n': 7}),
    ],
    'kuavo': [
        ('/cam_h/color/image_raw/compressed', 'jpeg', 30, {'size': (640, 480)}),
        ('/cam_l/color/image_raw/compressed', 'jpeg', 30, {'size': (640, 480)}),
        ('/cam_r/color/image_raw/compressed', 'jpeg', 30, {'size': (640, 480)}),
        ('/cam_h/color/image_raw', 'rgb8', 30, {'size': (640, 480)}),
        ('/kuavo_arm_traj', 'joints', 100, {'n': 14}),
        ('/sensors_data_raw', 'joints', 500, {'n': 28}),
    ],
    'rgb640': [
        ('/camera/image_raw', 'rgb8', 30, {'size': (640, 480), 'noise': True}),
    ],
    'joints': [
        ('/joint_states', 'joints', 100, {'n': 14}),
        ('/joint_states_hf', 'joints', 500, {'n': 7}),
    ],
    'tiny': [
        ('/image', 'mono8', 10, {'size': (4, 2)}),
        ('/joint_states', 'joints', 20, {'n': 2}),
        ('/chatter', 'string', 5, {}),
    ],
}


def _time(ns):
    return genpy.Time(ns // 1000000000, ns % 1000000000)


def _header(msg, seq, stamp_ns, frame_id):
    msg.header.seq = seq
    msg.header.stamp = _time(stamp_ns)
    msg.header.frame_id = frame_id


_jpeg_cache = {}


def make_jpeg(width, height, index, period=30, fmt='jpeg'):
    """A real JPEG (or PNG with fmt='png') of a moving gradient; the images
    repeat every `period` frames (encoded once, then cached)."""
    key = (width, height, index % period, fmt)
    if key not in _jpeg_cache:
        import cv2
        import numpy as np
        k = index % period
        x = np.arange(width, dtype=np.uint16)[None, :]
        y = np.arange(height, dtype=np.uint16)[:, None]
        img = np.zeros((height, width, 3), np.uint8)
        img[:, :, 0] = ((x + 8 * k) % 256).astype(np.uint8)
        img[:, :, 1] = ((y + 4 * k) % 256).astype(np.uint8)
        img[:, :, 2] = (((x + y) // 2 + 16 * k) % 256).astype(np.uint8)
        ok, enc = cv2.imencode('.png' if fmt == 'png' else '.jpg', img)
        if not ok:
            raise RuntimeError('image encoding failed')
        _jpeg_cache[key] = enc.tobytes()
    return _jpeg_cache[key]


_raw_cache = {}


def make_image(width, height, encoding, index, pad=0, noise=False):
    """sensor_msgs/Image payload bytes and step for @encoding; `pad` extra
    bytes per row. Every frame differs (frame index in the first bytes).
    noise=True fills every other row with random bytes, so that lz4/bz2
    compress the frames about as little as camera images (~50 %)."""
    bpp = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2,
           '8UC1': 1, '16UC1': 2, 'yuv422': 2, 'yuv422_yuy2': 2}.get(encoding, 1)
    step = width * bpp + pad
    key = (step, height, index % 8, noise)
    if key not in _raw_cache:
        k = index % 8
        row = bytes(((i * 7 + k * 31) & 0xff) for i in range(step))
        rnd = random.Random(k)
        _raw_cache[key] = b''.join(
            (rnd.randbytes(step) if noise and y % 2 else row[y % step:] + row[:y % step])
            for y in range(height))
    data = bytearray(_raw_cache[key])
    data[0:4] = struct.pack('<I', index & 0xffffffff)[:min(4, len(data))]
    return bytes(data), step


def make_joint_state(n, index, stamp_ns, seq=None):
    m = JointState()
    _header(m, index if seq is None else seq, stamp_ns, 'base_link')
    m.name = ['joint%d' % i for i in range(n)]
    m.position = [0.001 * index + i for i in range(n)]
    m.velocity = [0.5 * i for i in range(n)]
    m.effort = [] if index % 2 else [-1.0 * i for i in range(n)]
    return m


def build_message(kind, params, index, stamp_ns, frame_id='camera'):
    if kind in ('jpeg', 'png'):
        w, h = params['size']
        m = CompressedImage()
        _header(m, index, stamp_ns, frame_id)
        m.format = kind
        m.data = make_jpeg(w, h, index, fmt=kind)
        return m
    if kind in ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', '8UC1', '16UC1', 'yuv422'):
        w, h = params['size']
        m = Image()
        _header(m, index, stamp_ns, frame_id)
        m.height, m.width, m.encoding, m.is_bigendian = h, w, kind, 0
        m.data, m.step = make_image(w, h, kind, index, params.get('pad', 0),
                                    params.get('noise', False))
        return m
    if kind == 'joints':
        return make_joint_state(params['n'], index, stamp_ns)
    if kind == 'string':
        return String(data='hello %d' % index)
    raise ValueError('unknown message kind %r' % kind)


def _topic_events(ti, topic, kind, rate, params, start_ns, end_ns, jitter_ns, lag_ns, rng):
    """Yields (write_key, record_ns, ti, index, stamp_ns), sorted by write_key."""
    period = 1e9 / rate
    i = 0
    prev = -1
    while True:
        stamp = start_ns + int(round(i * period))
        if end_ns is not None and stamp > end_ns:
            return
        rec = stamp + (int(rng.random() * jitter_ns) if jitter_ns else 0)
        rec = max(rec, prev)
        prev = rec
        yield (rec + lag_ns, rec, ti, i, stamp)
        i += 1


def write_bag(path, topics, duration=2.0, compression='none', chunk_size=768 * 1024,
              start=DEFAULT_START, jitter_ms=0.0, lag_topic=None, lag=0.0,
              size_mb=None, seed=1):
    """Writes a bag; returns the number of messages written."""
    rng = random.Random(seed)
    start_ns = int(round(start * 1e9))
    end_ns = None if size_mb else start_ns + int(round(duration * 1e9))
    gens = []
    for ti, (topic, kind, rate, params) in enumerate(topics):
        lag_ns = int(round(lag * 1e9)) if topic == lag_topic else 0
        gens.append(_topic_events(ti, topic, kind, rate, params, start_ns, end_ns,
                                  int(jitter_ms * 1e6), lag_ns, rng))
    limit = int(size_mb * 1024 * 1024) if size_mb else None
    n = 0
    with rosbag.Bag(path, 'w', compression=compression, chunk_threshold=chunk_size) as bag:
        for _, rec, ti, index, stamp in heapq.merge(*gens):
            topic, kind, rate, params = topics[ti]
            msg = build_message(kind, params, index, stamp)
            bag.write(topic, msg, _time(rec))
            n += 1
            if limit is not None and bag._file.tell() >= limit:
                break
    return n


def make_unindexed(path, truncate=0):
    """Turns a closed bag into what a killed recorder leaves: header counts
    and index_pos zeroed in place, file cut at the old index position, then
    `truncate` more bytes cut off the end."""
    with open(path, 'r+b') as f:
        data = f.read(4096 + 64)
        if not data.startswith(b'#ROSBAG V2.0\n'):
            raise ValueError('%s: not a bag' % path)
        off = 13
        hlen = struct.unpack_from('<I', data, off)[0]
        pos = off + 4
        index_pos = None
        while pos < off + 4 + hlen:
            flen = struct.unpack_from('<I', data, pos)[0]
            field = data[pos + 4:pos + 4 + flen]
            name, _, _ = field.partition(b'=')
            vpos = pos + 4 + len(name) + 1
            if name == b'index_pos':
                index_pos = struct.unpack_from('<Q', data, vpos)[0]
                f.seek(vpos)
                f.write(b'\0' * 8)
            elif name in (b'conn_count', b'chunk_count'):
                f.seek(vpos)
                f.write(b'\0' * 4)
            pos += 4 + flen
        if not index_pos:
            raise ValueError('%s: bag has no index position' % path)
        f.truncate(max(index_pos - truncate, 13))
    return index_pos


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('-o', '--output', required=True, help='bag file to write')
    p.add_argument('--preset', default='sample', choices=sorted(PRESETS),
                   help='topic set (default: sample)')
    p.add_argument('--duration', type=float, default=2.0,
                   help='seconds of data (default 2; ignored with --size-mb)')
    p.add_argument('--size-mb', type=float, default=None,
                   help='write until the file reaches this many MiB')
    p.add_argument('--compression', default='none', choices=['none', 'bz2', 'lz4'],
                   help='chunk compression (default none)')
    p.add_argument('--chunk-size', type=int, default=768 * 1024,
                   help='chunk threshold in bytes (default 786432, as rosbag record)')
    p.add_argument('--start', type=float, default=DEFAULT_START,
                   help='start time, seconds since the epoch (default %d)' % DEFAULT_START)
    p.add_argument('--jitter-ms', type=float, default=0.0,
                   help='max random record-time latency after header.stamp, ms (default 0)')
    p.add_argument('--lag-topic', default=None, help='topic written late in the file')
    p.add_argument('--lag', type=float, default=0.0,
                   help='seconds by which --lag-topic is written late (overlapping chunks)')
    p.add_argument('--image-size', default=None,
                   help='WxH for every image topic of the preset (e.g. 160x120)')
    p.add_argument('--unindexed', action='store_true',
                   help='strip the index as a killed recorder would')
    p.add_argument('--truncate', type=int, default=0,
                   help='with --unindexed: cut this many more bytes off the end')
    p.add_argument('--seed', type=int, default=1, help='random seed (default 1)')
    a = p.parse_args(argv)

    topics = [(t, k, r, dict(prm)) for t, k, r, prm in PRESETS[a.preset]]
    if a.image_size:
        w, h = (int(v) for v in a.image_size.lower().split('x'))
        for t in topics:
            if 'size' in t[3]:
                t[3]['size'] = (w, h)
    if a.lag_topic and a.lag_topic not in [t[0] for t in topics]:
        p.error('--lag-topic %s is not in preset %s' % (a.lag_topic, a.preset))
    if a.truncate and not a.unindexed:
        p.error('--truncate needs --unindexed')
    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    n = write_bag(a.output, topics, a.duration, a.compression, a.chunk_size, a.start,
                  a.jitter_ms, a.lag_topic, a.lag, a.size_mb, a.seed)
    if a.unindexed:
        make_unindexed(a.output, a.truncate)
    print('%s: %d messages, %d bytes' % (a.output, n, os.path.getsize(a.output)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
