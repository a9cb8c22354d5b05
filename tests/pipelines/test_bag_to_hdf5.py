#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`rosbagsrc ! hdf5sink` with every property at its default keeps moving
when a topic has about one small message per chunk: rosbagsrc's messages are
sub-buffers pinning their chunk (4 chunks in flight by default) and
hdf5sink's batches wait up to 0.5 s for 10 rows, so before hdf5sink copied
small views of large memories when queueing them, 2 s of one camera took
~10 s (4 rows per batch timeout). The rows are compared byte for byte with
python rosbag's reading of the same bag."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

e2e.require('rosbagsrc', 'hdf5sink')

import h5py  # noqa: E402
import rosbag  # noqa: E402

TOPIC = '/cam_left/image_raw/compressed'
WALL_BOUND_S = 4.0  # ~0.1 s on an idle machine; ~10 s when chunks stay pinned


def main():
    import make_bag
    d = e2e.tmpdir('bag-to-hdf5')
    bag = os.path.join(d, 's.bag')
    out = os.path.join(d, 's.h5')
    # 320x240 JPEGs in 16 KiB chunks: one or two camera messages per chunk
    make_bag.write_bag(bag, make_bag.PRESETS['sample'], duration=2.0,
                       chunk_size=16384)
    with rosbag.Bag(bag) as b:
        want = [bytes(m.data) for _, m, _ in b.read_messages(topics=[TOPIC])]
    e2e.check(len(want) >= 55, '%d camera messages in the bag' % len(want))
    r = e2e.run(['gst-launch-1.0', '-q', 'rosbagsrc', 'location=' + bag,
                 'topics=' + TOPIC, '!', 'hdf5sink', 'location=' + out],
                timeout=60)
    e2e.check(r.rc == 0, 'rosbagsrc ! hdf5sink ran', r)
    e2e.check(r.wall < WALL_BOUND_S, 'finished in %.2f s (< %.0f s): chunks '
              'are not pinned by queued rows' % (r.wall, WALL_BOUND_S), r)
    with h5py.File(out, 'r') as f:
        rows = [f[TOPIC]['data'][i].tobytes() for i in range(len(f[TOPIC]['data']))]
    e2e.check(rows == want, '%d rows byte-exact (file has %d)' % (len(want), len(rows)))
    e2e.ok('%d rows in %.2f s' % (len(rows), r.wall))
    e2e.cleanup(d)


if __name__ == '__main__':
    main()
