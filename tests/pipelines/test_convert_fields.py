#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""membound-convert on a python3-rosbag bag, every message stored as recorded
(no alignment): the HDF5 file read with h5py must hold every message of every
topic, field-exact against python rosbag's own decoding of the same bag —
sensor_msgs/Image (pixels, row padding removed), CompressedImage (JPEG bytes),
JointState, a nested geometry_msgs/PoseStamped, and sensor_msgs/CameraInfo
(fixed-size arrays, strings, a nested RegionOfInterest) — with the bag record
times as timestamps, and the converter's peak RSS below a bound."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

e2e.require('rosbagsrc', 'membudget', 'hdf5sink')

import genpy  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import rosbag  # noqa: E402
from geometry_msgs.msg import PoseStamped  # noqa: E402
from sensor_msgs.msg import CameraInfo  # noqa: E402

import make_bag  # noqa: E402  (tests/data)

RSS_BOUND_MB = 120
T0 = 1700000000 * 10**9


def t(ns):
    return genpy.Time(ns // 10**9, ns % 10**9)


def write(path):
    with rosbag.Bag(path, 'w', chunk_threshold=64 * 1024) as bag:
        for i in range(15):
            st = T0 + i * 100_000_000
            bag.write('/cam/image_raw',
                      make_bag.build_message('rgb8', {'size': (32, 24), 'pad': 4}, i, st),
                      t(st + 1_000_000))
            bag.write('/cam/compressed',
                      make_bag.build_message('jpeg', {'size': (64, 48)}, i, st),
                      t(st + 2_000_000))
            bag.write('/joint_states', make_bag.make_joint_state(6, i, st), t(st + 3_000_000))
            p = PoseStamped()
            p.header.seq, p.header.stamp, p.header.frame_id = i, t(st), 'map'
            p.pose.position.x, p.pose.position.y, p.pose.position.z = i * 0.5, -1.25, 1e-9 * i
            p.pose.orientation.x, p.pose.orientation.w = 0.1 * i, 0.99
            bag.write('/pose', p, t(st + 4_000_000))
            c = CameraInfo()
            c.header.seq, c.header.stamp, c.header.frame_id = i, t(st), 'cam_optical_%d' % i
            c.height, c.width = 480, 640
            c.distortion_model = 'plumb_bob' if i % 2 else 'rational_polynomial'
            c.D = [0.01 * k + i for k in range(5 if i % 2 else 8)]
            c.K = [float(k + i) for k in range(9)]
            c.R = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]
            c.P = [float(k) * 0.5 + i for k in range(12)]
            c.binning_x, c.binning_y = i % 3, 1
            c.roi.x_offset, c.roi.y_offset, c.roi.height, c.roi.width = i, 2 * i, 10, 20
            c.roi.do_rectify = bool(i % 2)
            bag.write('/camera_info', c, t(st + 5_000_000))


def main():
    d = e2e.tmpdir('convert-fields')
    bag_path = os.path.join(d, 'fields.bag')
    write(bag_path)
    outdir = os.path.join(d, 'out')
    r = e2e.run([e2e.CONVERT, '--output', outdir, bag_path], timeout=60)
    e2e.check(r.rc == 0, 'membound-convert succeeded', r)
    e2e.check(r.maxrss_mb < RSS_BOUND_MB, 'peak RSS %.1f MB < %d MB' % (r.maxrss_mb, RSS_BOUND_MB), r)
    e2e.ok('converted in %.2f s, peak RSS %.1f MB' % (r.wall, r.maxrss_mb))
    e2e.check('fields.bag' in r.out and '/joint_states' in r.out,
              'the summary table names the bag and its streams', r)

    out = os.path.join(outdir, 'fields.h5')
    e2e.check(os.path.exists(out), 'wrote %s' % out, r)
    e2e.check(not os.path.exists(out + '.partial'), 'no .partial left behind', r)

    bag = rosbag.Bag(bag_path)
    by_topic = {}
    for topic, msg, rec in bag.read_messages():
        by_topic.setdefault(topic, []).append((msg, rec.to_nsec()))
    bag.close()

    errors = []
    with h5py.File(out, 'r') as f:
        for topic, msgs in sorted(by_topic.items()):
            if topic not in f:
                errors.append('%s: no group in the file (has %s)' % (topic, list(f.keys())))
                continue
            g = f[topic]
            data = g['data']
            ts = np.asarray(g['timestamp'])
            if len(data) != len(msgs) or len(ts) != len(msgs):
                errors.append('%s: %d rows / %d timestamps, rosbag has %d messages'
                              % (topic, len(data), len(ts), len(msgs)))
                continue
            want_ts = [rec for _, rec in msgs]
            if list(ts) != want_ts:
                errors.append('%s: timestamps %s != record times %s' % (topic, ts[:3], want_ts[:3]))
            for i, (m, _) in enumerate(msgs):
                where = '%s[%d]' % (topic, i)
                if m._type == 'sensor_msgs/Image':
                    raw = np.frombuffer(m.data, np.uint8).reshape(m.height, m.step)
                    want = raw[:, :m.width * 3].reshape(m.height, m.width, 3)
                    got = data[i]
                    if got.shape != want.shape or not np.array_equal(got, want):
                        errors.append('%s: pixels differ (shape %s vs %s)' % (where, got.shape, want.shape))
                elif m._type == 'sensor_msgs/CompressedImage':
                    if bytes(np.asarray(data[i], np.uint8)) != bytes(m.data):
                        errors.append('%s: JPEG bytes differ' % where)
                else:
                    errors += e2e.compare_msg(m, data[i], where)
            e2e.ok('%s: %d rows checked' % (topic, len(msgs)))
            rt = g.attrs.get('ros_type', None)
            if rt is not None and e2e.as_str(rt) != msgs[0][0]._type:
                errors.append('%s: ros_type %r != %r' % (topic, rt, msgs[0][0]._type))
    e2e.check(not errors, 'field-exact comparison:\n  ' + '\n  '.join(errors[:30]))
    e2e.ok('every message of every topic is field-exact against python rosbag')
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
