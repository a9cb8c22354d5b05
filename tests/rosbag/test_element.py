#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""rosbagsrc behaviour with python3-rosbag as the oracle: errors for bad
input (missing, empty, not a bag, format 1.2, unknown compression, corrupt
chunk with its offset, skip-corrupt), read-only properties, seeking
(flushing, accurate, segment), queries, gst-launch pad names."""

import os
import struct
import subprocess

import rbtest
from rbtest import Gst, check

D = rbtest.tmpdir('element')
bag = os.path.join(D, 'mixed.bag')
rbtest.write_mixed(bag, compression='lz4', chunk_size=3000, duration=3.0)
start = rbtest.bag_start_ns(bag)


def err_run(path, **props):
    res = rbtest.run(dict(location=path, **props), timeout=20)
    return res


# --- errors -------------------------------------------------------------
res = err_run(os.path.join(D, 'missing.bag'))
check(res.error and 'no such file' in res.error[0] and 'missing.bag' in res.error[0],
      'missing file: %s' % (res.error,))
empty = os.path.join(D, 'empty.bag')
open(empty, 'wb').close()
res = err_run(empty)
check(res.error and 'empty' in res.error[0] and 'empty.bag' in res.error[0],
      'empty file: %s' % (res.error,))
junk = os.path.join(D, 'junk.bag')
with open(junk, 'wb') as f:
    f.write(b'PK\x03\x04 this is a zip file, not a bag' * 10)
res = err_run(junk)
check(res.error and 'not a ROS bag' in res.error[0], 'wrong magic: %s' % (res.error,))
old = os.path.join(D, 'old.bag')
with open(old, 'wb') as f:
    f.write(b'#ROSRECORD V1.2\n' + b'\0' * 200)
res = err_run(old)
check(res.error and '1.2' in res.error[0] and 'not supported' in res.error[0] and
      'rosbag fix' in res.error[0], 'format 1.2: %s' % (res.error,))

unk = os.path.join(D, 'unknown-compression.bag')
data = open(bag, 'rb').read()
i = data.index(b'compression=lz4')
with open(unk, 'wb') as f:
    f.write(data[:i] + b'compression=zst' + data[i + 15:])
res = err_run(unk)
check(res.error and "unknown compression 'zst'" in res.error[0], 'unknown compression: %s' % (res.error,))

# corrupt chunk in an indexed bag: garbage in the middle of the 3rd chunk
b = rbtest.rosbag.Bag(bag)
chunks = sorted(b._chunk_headers.items())
b.close()
cpos, ch = chunks[2]
bad = os.path.join(D, 'corrupt.bag')
with open(bad, 'wb') as f:
    f.write(data)
rbtest.patch_bytes(bad, ch.data_pos + 8, b'\xff' * 64)
res = err_run(bad, decode=False)
check(res.error and ('corrupt chunk at offset %d' % cpos) in res.error[0],
      'corrupt chunk: error names its offset %d: %s' % (cpos, res.error))
res = err_run(bad, decode=False, **{'skip-corrupt': True})
exp = rbtest.expected(bag)
b = rbtest.rosbag.Bag(bag)
lost = 0
for topic in list(exp):
    keep = []
    for (t, d), (_, raw, _) in zip(exp[topic], b.read_messages(topics=[topic], raw=True)):
        if raw[3][0] == cpos:
            lost += 1
        else:
            keep.append((t, d))
    exp[topic] = keep
b.close()
check(res.error is None and lost > 0, 'skip-corrupt: no error, %d messages of the chunk lost' % lost)
rbtest.compare(res, exp, start, 'skip-corrupt: every other message')
check(any(m.startswith('rosbagsrc-chunk-skipped') and str(cpos) in m for m in res.messages),
      'skip-corrupt: rosbagsrc-chunk-skipped message with the offset')
check(any('Skipped' in w for w in res.warnings), 'skip-corrupt: warning')

res = err_run(bag, topics='/nope')
check(res.error and 'None of the requested topics' in res.error[0], 'unknown topic only: error')
res = err_run(bag, topics='/nope,/chatter', decode=False)
check(res.error is None and any('/nope' in w for w in res.warnings) and
      len(res.topics.get('chatter', [])) > 0, 'unknown topic among others: warning, others read')

# --- read-only properties (in NULL state, from the tail index) -----------
src = Gst.ElementFactory.make('rosbagsrc')
src.set_property('location', bag)
pb = rbtest.rosbag.Bag(bag)
n = pb.get_message_count()
end = max(c.end_time.to_nsec() for c in pb._chunks)
info = pb.get_type_and_topic_info()
pb.close()
check(src.get_property('message-count') == n, 'message-count %d' % n)
check(src.get_property('start-timestamp') == start, 'start-timestamp %d' % start)
check(src.get_property('duration') == end - start, 'duration %d' % (end - start))
tl = src.get_property('topic-list')
got = {s.get_value('topic'): (s.get_value('type'), s.get_value('count'), s.get_value('pad-name'))
       for s in tl}
want = {t: (v.msg_type, v.message_count, rbtest.sanitize(t)) for t, v in info.topics.items()}
check(got == want, 'topic-list == rosbag info: %s' % got)

# --- seeking ---------------------------------------------------------------
flags = Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE
res = rbtest.run(dict(location=bag, decode=False), seek=(1000000000, None, flags))
rbtest.compare(res, rbtest.expected(bag, start_ns=start + 1000000000), start,
               'flushing accurate seek to 1 s')
res = rbtest.run(dict(location=bag, decode=False),
                 seek=(500000000, 1500000000, flags | Gst.SeekFlags.SEGMENT))
check(res.eos, 'segment seek ends with SEGMENT_DONE')
rbtest.compare(res, rbtest.expected(bag, start_ns=start + 500000000, end_ns=start + 1500000000 - 1),
               start, 'segment seek 0.5 s - 1.5 s')
res = rbtest.run(dict(location=bag, decode=False, **{'start-time': 2000000000}),
                 seek=(0, None, flags))
rbtest.compare(res, rbtest.expected(bag, start_ns=start + 2000000000), start,
               'seek before start-time is clamped to start-time')


# seek while playing, from a pad probe after 20 buffers: no duplicates, no gaps
def on_pad(pad):
    if pad.get_name() != 'joint_states':
        return
    state = {'n': 0}

    def probe(p, info):
        state['n'] += 1
        if state['n'] == 20:
            el = p.get_parent_element()
            import threading
            threading.Thread(target=lambda: el.seek_simple(
                Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE, 2500000000)).start()
        return Gst.PadProbeReturn.OK
    pad.add_probe(Gst.PadProbeType.BUFFER, probe)


res = rbtest.run(dict(location=bag, decode=False, topics='/joint_states'), on_pad=on_pad)
js = res.topics.get('joint_states', [])
tail = [p for p, _, _ in js if p >= 2500000000]
exp = rbtest.expected(bag, topics=['/joint_states'], start_ns=start + 2500000000)['/joint_states']
check(res.error is None and [a for _, a, _ in js][-len(exp):] == [t for t, _ in exp] and len(tail) == len(exp),
      'flushing seek while playing: everything from 2.5 s arrives once (%d)' % len(exp))

# --- queries -------------------------------------------------------------------
pipe = Gst.parse_launch('rosbagsrc name=s location=%s topics=/joint_states decode=false ! '
                        'fakesink name=k sync=false' % bag)
pipe.set_state(Gst.State.PAUSED)
pipe.get_state(5 * Gst.SECOND)
ok, dur = pipe.query_duration(Gst.Format.TIME)
check(ok and dur == end - start, 'duration query %s' % dur)
q = Gst.Query.new_seeking(Gst.Format.TIME)
check(pipe.query(q) and q.parse_seeking()[1], 'seeking query: seekable')
pipe.set_state(Gst.State.PLAYING)
m = pipe.get_bus().timed_pop_filtered(20 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
ok, pos = pipe.query_position(Gst.Format.TIME)
last = rbtest.expected(bag, topics=['/joint_states'])['/joint_states'][-1][0] - start
check(m and m.type == Gst.MessageType.EOS and ok and pos == last,
      'position query at EOS = last PTS (%s, want %s)' % (pos, last))
pipe.set_state(Gst.State.NULL)

# --- gst-launch with pads linked by name ----------------------------------------
cmd = ['gst-launch-1.0', '-q', 'rosbagsrc', 'location=' + bag, 'name=b',
       'b.cam_image_raw_compressed', '!', 'queue', '!', 'jpegdec', '!', 'fakesink',
       'b.joint_states', '!', 'queue', '!', 'fakesink',
       'b.cam_image_raw', '!', 'queue', '!', 'videoconvert', '!', 'fakesink',
       'b.chatter', '!', 'queue', '!', 'fakesink']
r = subprocess.run(cmd, capture_output=True, timeout=60)
check(r.returncode == 0, 'gst-launch links pads by sanitized topic names (rc %d %s)' %
      (r.returncode, r.stderr.decode()[-300:]))

rbtest.finish()
