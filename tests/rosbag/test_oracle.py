#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rosbagsrc vs python rosbag (the oracle) on bags python3-rosbag writes at
test time: none / bz2 / lz4, single and multi chunk, overlapping chunk
ranges, two connections on one topic, unindexed, truncated inside a chunk.
With decode=false every message's bytes and time must equal what
read_messages(raw=True) returns; topic and time filters must give exactly
rosbag's answer to the same query; decoded Image / CompressedImage buffers
must equal the message's data."""

import os
import shutil

import rbtest
from rbtest import check

D = rbtest.tmpdir('oracle')


def full(path, what, **props):
    exp = rbtest.expected(path)
    res = rbtest.run(dict(location=path, decode=False, **props))
    check(res.error is None and res.eos, '%s: EOS without error (%s)' % (what, res.error))
    rbtest.compare(res, exp, rbtest.bag_start_ns(path), what)
    return res


# 1. compression x chunking
for comp in ('none', 'bz2', 'lz4'):
    for chunk, label in ((16 << 20, 'single'), (3000, 'multi')):
        p = os.path.join(D, 'mixed-%s-%s.bag' % (comp, label))
        rbtest.write_mixed(p, compression=comp, chunk_size=chunk)
        res = full(p, '%s/%s-chunk' % (comp, label))
        n = sum(len(v) for v in rbtest.expected(p).values())
        check(res.src_props['message-count'] == n, '%s/%s: message-count = %d' % (comp, label, n))

# 2. overlapping chunk time ranges: one topic written 0.4 s late
p = os.path.join(D, 'overlap.bag')
rbtest.make_bag.write_bag(p, rbtest.MIXED, duration=2.0, chunk_size=2000,
                          lag_topic='/joint_states', lag=0.4, jitter_ms=3)
b = rbtest.rosbag.Bag(p)
chunks = sorted((c.start_time.to_nsec(), c.end_time.to_nsec()) for c in b._chunks)
b.close()
overl = sum(1 for a, c in zip(chunks, chunks[1:]) if c[0] <= a[1])
check(overl > 5, 'overlap bag really has overlapping chunks (%d)' % overl)
full(p, 'overlapping chunks')
full(p, 'overlapping chunks, lz4-free, chunks-in-flight=1', **{'chunks-in-flight': 1})

# 3. two connections on one topic
p = os.path.join(D, 'twoconn.bag')
rbtest.write_two_connections(p)
b = rbtest.rosbag.Bag(p)
check(len([c for c in b._connections.values() if c.topic == '/mixed']) == 2,
      'two connections on /mixed in the written bag')
b.close()
full(p, 'two connections on one topic')

# 4. topic and time-range filters vs rosbag's own query
p = os.path.join(D, 'mixed-lz4-multi-chunk.bag')
p = os.path.join(D, 'mixed-lz4-multi.bag')
start = rbtest.bag_start_ns(p)
for topics, s, e in ((['/joint_states'], None, None),
                     (['/chatter', '/cam/image_raw'], None, None),
                     (None, 500000000, 1200000000),
                     (['/joint_states', '/chatter'], 300000000, 300000000 + 20000000),
                     (['/joint_states'], 1000000000, None),
                     (None, 0, 0)):
    exp = rbtest.expected(p, topics=topics, start_ns=None if s is None else start + s,
                          end_ns=None if e is None else start + e)
    props = dict(location=p, decode=False)
    if topics:
        props['topics'] = ','.join(topics)
    if s is not None:
        props['start-time'] = s
    if e is not None:
        props['stop-time'] = e
    res = rbtest.run(props)
    what = 'filter topics=%s start=%s stop=%s' % (topics, s, e)
    check(res.error is None, '%s: no error (%s)' % (what, res.error))
    # pads exist for every selected topic; those without messages stay empty
    got = {k: v for k, v in res.topics.items() if v}
    res.topics = got
    rbtest.compare(res, exp, start, what)

# 5. unindexed (recorder killed before closing): all chunks complete
orig = os.path.join(D, 'crash-orig.bag')
rbtest.write_mixed(orig, compression='lz4', chunk_size=3000)
p = os.path.join(D, 'crash-unindexed.bag')
shutil.copy(orig, p)
rbtest.make_bag.make_unindexed(p)
exp = rbtest.expected(orig)
res = rbtest.run(dict(location=p, decode=False))
check(res.error is None, 'unindexed: no error (%s)' % (res.error,))
rbtest.compare(res, exp, rbtest.bag_start_ns(orig), 'unindexed bag')
check(any('no usable index' in w and '0 bytes' in w for w in res.warnings),
      'unindexed: warning says read by scanning, 0 bytes unreadable: %s' % res.warnings)
check(any(m.startswith('rosbagsrc-recovered') for m in res.messages),
      'unindexed: rosbagsrc-recovered element message')

# 6. truncated inside a chunk (killed writer / torn copy), unindexed and indexed
for comp in ('none', 'bz2', 'lz4'):
    orig = os.path.join(D, 'torn-orig-%s.bag' % comp)
    rbtest.write_mixed(orig, compression=comp, chunk_size=3000)
    for kind in ('unindexed', 'indexed-header'):
        p = os.path.join(D, 'torn-%s-%s.bag' % (kind, comp))
        shutil.copy(orig, p)
        b = rbtest.rosbag.Bag(orig)
        index_pos = b._index_data_pos
        # cut in the middle of the chunk that ends last before the index
        last = max(b._chunk_headers.items(), key=lambda kv: kv[0])
        h = last[1]
        b.close()
        cut = h.data_pos + h.compressed_size // 2
        if kind == 'unindexed':
            rbtest.make_bag.make_unindexed(p, truncate=index_pos - cut)
        else:
            with open(p, 'r+b') as f:
                f.truncate(cut)
        exp = rbtest.expected(orig, chunk_limit=cut)
        n_exp = sum(len(v) for v in exp.values())
        res = rbtest.run(dict(location=p, decode=False))
        what = 'truncated inside a chunk (%s, %s)' % (kind, comp)
        check(res.error is None, '%s: no error (%s)' % (what, res.error))
        check(n_exp > 10, '%s: %d messages expected from complete chunks' % (what, n_exp))
        rbtest.compare(res, exp, rbtest.bag_start_ns(orig), what)
        check(any('no usable index' in w and 'unreadable' in w for w in res.warnings),
              '%s: warning with unreadable byte count: %s' % (what, res.warnings[:1]))

# 7. decoded Image and CompressedImage buffers equal the message data
for comp in ('none', 'lz4'):
    p = os.path.join(D, 'mixed-%s-multi.bag' % comp)
    res = rbtest.run(dict(location=p))
    check(res.error is None, 'decode=true (%s): no error' % comp)
    start = rbtest.bag_start_ns(p)
    for topic, mime in (('/cam/image_raw', 'video/x-raw'),
                        ('/cam/image_raw/compressed', 'image/jpeg')):
        pad = rbtest.sanitize(topic)
        exp = rbtest.decoded_expected(p, topic)
        got = [(a, d) for _, a, d in res.topics.get(pad, [])]
        check(got == [(t, d) for t, _, d, _ in exp],
              'decode=true (%s): %s buffers == message data (%d)' % (comp, topic, len(exp)))
        check(res.caps.get(pad, '').startswith(mime), '%s caps %s' % (topic, res.caps.get(pad)))
    check('format=(string)RGB' in res.caps['cam_image_raw'] and 'width=(int)16' in res.caps['cam_image_raw'],
          'rgb8 16x8 -> RGB caps')
    check(res.caps['joint_states'].startswith('application/x-ros1-message') and
          'sensor_msgs/JointState' in res.caps['joint_states'] and
          '3066dcd76a6cfaef579bd0f34173e9fd' in res.caps['joint_states'],
          'JointState -> application/x-ros1-message with type and md5sum')
    # timestamp=header: reference time = header.stamp for images
    p2 = os.path.join(D, 'jitter.bag')
    rbtest.write_mixed(p2, jitter_ms=20)
    res = rbtest.run(dict(location=p2, timestamp='header'))
    exp = rbtest.decoded_expected(p2, '/cam/image_raw')
    got = [a for _, a, _ in res.topics['cam_image_raw']]
    check(got == [s for _, s, _, _ in exp] and any(t != s for t, s, _, _ in exp),
          'timestamp=header: Image buffers carry header.stamp (%s)' % comp)
    b = rbtest.rosbag.Bag(p2)
    js = [(m.header.stamp.to_nsec(), t.to_nsec()) for _, m, t in b.read_messages(topics=['/joint_states'])]
    b.close()
    got = [a for _, a, _ in res.topics['joint_states']]
    check(got == [s for s, _ in js] and any(s != t for s, t in js),
          'timestamp=header: JointState (x-ros1-message) buffers carry header.stamp (%s)' % comp)
    got = [a for _, a, _ in res.topics['chatter']]
    check(got == [t for t, _ in rbtest.expected(p2, topics=['/chatter'])['/chatter']],
          'timestamp=header: std_msgs/String (no Header) keeps the record time (%s)' % comp)

# 8. more Image encodings, and a padded step
p = os.path.join(D, 'encodings.bag')
encs = [('mono8', 'GRAY8', 0), ('mono16', 'GRAY16_LE', 0), ('bgra8', 'BGRA', 0),
        ('bgr8', 'BGR', 4), ('yuv422', 'UYVY', 0), ('16UC1', 'GRAY16_LE', 0)]
topics = [('/enc/%s' % e, e, 5, {'size': (6, 4), 'pad': pad}) for e, _, pad in encs]
rbtest.make_bag.write_bag(p, topics, duration=1.0)
res = rbtest.run(dict(location=p))
for e, fmt, pad in encs:
    name = 'enc_%s' % e
    exp = rbtest.decoded_expected(p, '/enc/%s' % e)
    got = [d for _, _, d in res.topics.get(name, [])]
    check(got == [d for _, _, d, _ in exp] and ('format=(string)%s' % fmt) in res.caps.get(name, ''),
          'Image %s (step pad %d) -> %s, data identical' % (e, pad, fmt))

rbtest.finish()
