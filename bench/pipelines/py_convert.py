#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The peer for the conversion benchmark: a bag → HDF5 converter written the
way our users wrote theirs (python rosbag + numpy + h5py): load every message
of the bag, align every topic to the reference camera (nearest message by
record time within a tolerance; a camera frame where some topic has nothing
that close is dropped), then write the aligned rows.

Same alignment rule as `membound-convert --align-to REF --tolerance T`, same
layout idea (a group per topic with `data` and `timestamp`): JPEG bytes as
variable-length rows, raw rgb8 images as (N, H, W, 3), JointState as
position/velocity/effort arrays.

  /usr/bin/python3 bench/pipelines/py_convert.py BAG OUT.h5 --align-to /cam_h/color/image_raw/compressed
"""

import argparse
import sys

import h5py
import numpy as np
import rosbag


def load(bag_path):
    """Every message, deserialized, per topic (this is where the memory goes)."""
    msgs = {}
    with rosbag.Bag(bag_path) as bag:
        for topic, msg, t in bag.read_messages():
            msgs.setdefault(topic, []).append((t.to_nsec(), msg))
    return msgs


def align(msgs, ref, tol):
    times = {k: np.array([t for t, _ in v], np.int64) for k, v in msgs.items()}
    ticks, picks = [], {k: [] for k in msgs}
    for tk in times[ref]:
        chosen = {}
        for k, ts in times.items():
            i = int(np.searchsorted(ts, tk))
            best = None
            for j in (i - 1, i):
                if 0 <= j < len(ts) and (best is None or abs(ts[j] - tk) < abs(ts[best] - tk)):
                    best = j
            if best is None or abs(int(ts[best]) - int(tk)) > tol:
                chosen = None
                break
            chosen[k] = best
        if chosen is None:
            continue
        ticks.append(int(tk))
        for k, j in chosen.items():
            picks[k].append(j)
    return ticks, picks


def write(out_path, msgs, ticks, picks):
    vlen = h5py.vlen_dtype(np.uint8)
    with h5py.File(out_path, 'w') as f:
        for topic, idx in picks.items():
            g = f.require_group(topic)
            g.create_dataset('timestamp', data=np.array(ticks, np.int64))
            g.create_dataset('source_timestamp',
                             data=np.array([msgs[topic][j][0] for j in idx], np.int64))
            sample = msgs[topic][0][1]
            kind = sample._type
            if kind == 'sensor_msgs/CompressedImage':
                d = g.create_dataset('data', (len(idx),), dtype=vlen)
                for r, j in enumerate(idx):
                    d[r] = np.frombuffer(msgs[topic][j][1].data, np.uint8)
            elif kind == 'sensor_msgs/Image':
                frames = []
                for j in idx:
                    m = msgs[topic][j][1]
                    a = np.frombuffer(m.data, np.uint8).reshape(m.height, m.step)
                    frames.append(a[:, :m.width * 3].reshape(m.height, m.width, 3))
                g.create_dataset('data', data=np.stack(frames) if frames else
                                 np.zeros((0, sample.height, sample.width, 3), np.uint8))
            elif kind == 'sensor_msgs/JointState':
                for field in ('position', 'velocity', 'effort'):
                    rows = [getattr(msgs[topic][j][1], field) for j in idx]
                    n = max([len(r) for r in rows] + [0])
                    a = np.full((len(rows), n), np.nan)
                    for r, v in enumerate(rows):
                        a[r, :len(v)] = v
                    g.create_dataset(field, data=a)
                g['data'] = h5py.SoftLink(g.name + '/position')
            else:
                raise SystemExit('py_convert.py: %s: %s not handled' % (topic, kind))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('bag')
    ap.add_argument('out')
    ap.add_argument('--align-to', required=True)
    ap.add_argument('--tolerance-ms', type=float, default=20.0)
    a = ap.parse_args()
    msgs = load(a.bag)
    if a.align_to not in msgs:
        raise SystemExit('py_convert.py: %s not in the bag' % a.align_to)
    ticks, picks = align(msgs, a.align_to, int(a.tolerance_ms * 1e6))
    write(a.out, msgs, ticks, picks)
    print('py_convert.py: %d ticks of %d reference messages, %d topics'
          % (len(ticks), len(msgs[a.align_to]), len(msgs)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
