#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""End-to-end: python3-rosbag bag -> rosbagsrc -> timealign -> hdf5sink,
checked row by row against a numpy nearest-neighbour alignment of the
messages read back with python rosbag (same tolerance, same drop rule).

The bag: a 30 Hz camera (sensor_msgs/Image, record times jittered by up to
6 ms), sensor_msgs/JointState at 100 Hz and 500 Hz (record times jittered
by up to 1 ms); the 100 Hz topic misses 0.8 s .. 1.0 s and the 500 Hz one
1.7 s .. 1.75 s, so some camera ticks have nothing within tolerance and are
dropped on every output.

Exit 77 (meson: skipped) when rosbagsrc or hdf5sink is not built.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

try:
    import genpy
    import h5py
    import numpy as np
    import rosbag
    from sensor_msgs.msg import Image, JointState
except ImportError as e:
    print("SKIP: %s (run with /usr/bin/python3)" % e)
    sys.exit(77)

TOL_NS = 15_000_000
START = 1_700_000_000
DURATION = 3.0
CAM = "/camera/image_raw"
JS = "/joint_states"
JS_HF = "/joint_states_hf"


def have(element):
    return subprocess.run(["gst-inspect-1.0", element], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def stamp(t_ns):
    return genpy.Time(t_ns // 1_000_000_000, t_ns % 1_000_000_000)


def write_bag(path):
    rnd = random.Random(7)
    msgs = []
    t0 = START * 1_000_000_000
    n_cam = int(DURATION * 30)
    for i in range(n_cam):
        nominal = t0 + i * 1_000_000_000 // 30
        rec = nominal + rnd.randrange(0, 6_000_000)
        m = Image()
        m.header.seq = i
        m.header.stamp = stamp(nominal)
        m.header.frame_id = "camera"
        m.height, m.width, m.encoding, m.step = 2, 4, "mono8", 4
        m.data = bytes([i % 256] * 8)
        msgs.append((rec, CAM, m))
    for topic, hz, hole in ((JS, 100, (0.8, 1.0)), (JS_HF, 500, (1.7, 1.75))):
        for i in range(int(DURATION * hz)):
            t = i / hz
            if hole[0] <= t < hole[1]:
                continue
            nominal = t0 + i * 1_000_000_000 // hz
            rec = nominal + rnd.randrange(0, 1_000_000)
            m = JointState()
            m.header.seq = i
            m.header.stamp = stamp(nominal)
            m.name = ["a", "b", "c"]
            m.position = [i * 0.5, -i * 0.25, hz + i]
            m.velocity = [float(i), 0.0, 1.0]
            m.effort = []
            msgs.append((rec, topic, m))
    msgs.sort(key=lambda x: x[0])
    with rosbag.Bag(path, "w", compression="lz4", chunk_threshold=64 * 1024) as bag:
        for rec, topic, m in msgs:
            bag.write(topic, m, stamp(rec))


def read_back(path):
    """Record times (ns) and messages per topic, as python rosbag reads them."""
    out = {CAM: ([], []), JS: ([], []), JS_HF: ([], [])}
    with rosbag.Bag(path) as bag:
        for topic, msg, t in bag.read_messages():
            out[topic][0].append(t.to_nsec())
            out[topic][1].append(msg)
    return {k: (np.array(v[0], dtype=np.int64), v[1]) for k, v in out.items()}


def oracle(data):
    """Nearest neighbour within TOL_NS for every camera frame (ties: later
    message); a frame where any topic has nothing close is dropped."""
    cam_t = data[CAM][0]
    rows = []
    for i, T in enumerate(cam_t):
        pick = {}
        for topic in (JS, JS_HF):
            t = data[topic][0]
            d = np.abs(t - T)
            j = len(d) - 1 - int(np.argmin(d[::-1]))
            if d[j] > TOL_NS:
                pick = None
                break
            pick[topic] = j
        if pick is not None:
            rows.append((i, pick[JS], pick[JS_HF]))
    return rows


def column(group, name, fallback=None):
    if name in group:
        return np.asarray(group[name][...])
    return fallback


def main():
    for el in ("rosbagsrc", "timealign", "hdf5sink"):
        if not have(el):
            print("SKIP: element %s not available" % el)
            return 77
    tmp = os.environ.get("MB_TEST_TMPDIR") or tempfile.gettempdir()
    os.makedirs(tmp, exist_ok=True)
    work = tempfile.mkdtemp(prefix="e2e_align_", dir=tmp)
    bag = os.path.join(work, "in.bag")
    h5 = os.path.join(work, "out.h5")
    write_bag(bag)

    cmd = ["gst-launch-1.0", "-q", "-e",
           "rosbagsrc", "location=" + bag, "name=b",
           "timealign", "name=a", "reference=" + CAM, "tolerance=%d" % TOL_NS,
           "hdf5sink", "name=s", "location=" + h5,
           "b.camera_image_raw", "!", "a.sink_0",
           "b.joint_states", "!", "a.sink_1",
           "b.joint_states_hf", "!", "a.sink_2",
           "a.src_0", "!", "queue", "!", "s.sink_0",
           "a.src_1", "!", "queue", "!", "s.sink_1",
           "a.src_2", "!", "queue", "!", "s.sink_2"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print("FAIL: pipeline exited %d\n%s\n%s" % (r.returncode, r.stdout, r.stderr))
        return 1

    data = read_back(bag)
    want = oracle(data)
    n_cam = len(data[CAM][0])
    fails = 0
    with h5py.File(h5, "r") as f:
        cam = f[CAM]
        js = f[JS]
        hf = f[JS_HF]
        cam_ts = column(cam, "timestamp")
        n = len(cam_ts)
        print("camera frames %d, oracle rows %d (dropped %d), hdf5 rows %d"
              % (n_cam, len(want), n_cam - len(want), n))
        if n != len(want):
            print("FAIL: %d rows written, oracle says %d" % (n, len(want)))
            return 1
        if len(want) == n_cam or len(want) < n_cam - 20:
            print("FAIL: the bag was meant to drop a few ticks")
            return 1
        for g in (js, hf):
            if len(column(g, "timestamp")) != n:
                print("FAIL: %s has %d rows" % (g.name, len(column(g, "timestamp"))))
                return 1
        js_ts = column(js, "timestamp")
        hf_ts = column(hf, "timestamp")
        js_src = column(js, "source_timestamp", js_ts)
        hf_src = column(hf, "source_timestamp", hf_ts)
        js_pos = js["data"]["position"]
        hf_pos = hf["data"]["position"]
        for row, (ci, ji, hi) in enumerate(want):
            T = data[CAM][0][ci]
            checks = [
                ("camera timestamp", cam_ts[row], T),
                ("joint_states tick", js_ts[row], T),
                ("joint_states_hf tick", hf_ts[row], T),
                ("joint_states source", js_src[row], data[JS][0][ji]),
                ("joint_states_hf source", hf_src[row], data[JS_HF][0][hi]),
            ]
            for what, got, exp in checks:
                if int(got) != int(exp):
                    fails += 1
                    if fails < 10:
                        print("FAIL row %d: %s %d != %d" % (row, what, got, exp))
            for name, pos, msgs, k in (("joint_states", js_pos, data[JS][1], ji),
                                       ("joint_states_hf", hf_pos, data[JS_HF][1], hi)):
                if not np.allclose(np.asarray(pos[row], dtype=float), msgs[k].position):
                    fails += 1
                    if fails < 10:
                        print("FAIL row %d: %s position %s != %s"
                              % (row, name, list(pos[row]), msgs[k].position))
    if fails:
        print("FAIL: %d mismatches" % fails)
        return 1
    print("ok: %d aligned rows match numpy nearest-neighbour alignment" % len(want))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
