#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""List a ROS1 bag's topics as rosbagsrc sees them: one line per topic,
"TOPIC TYPE PAD-NAME COUNT", from rosbagsrc's read-only `topic-list` property
(only the bag's header, connections and tail index are read: fast on any
size). Used by pipelines/convert.sh to build its gst-launch-1.0 line.

  /usr/bin/python3 pipelines/bag-topics.py run.bag
"""

import sys

import gi

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: bag-topics.py BAG\n')
        return 2
    Gst.init(None)
    src = Gst.ElementFactory.make('rosbagsrc', None)
    if src is None:
        sys.stderr.write("bag-topics.py: element 'rosbagsrc' is not available\n")
        return 1
    src.set_property('location', argv[1])
    topics = src.get_property('topic-list')
    if not topics:
        sys.stderr.write('bag-topics.py: %s: no topics (not a readable bag?)\n' % argv[1])
        return 1
    for s in topics:
        print('%s %s %s %d' % (s.get_string('topic'), s.get_string('type'),
                               s.get_string('pad-name'), s.get_value('count')))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
