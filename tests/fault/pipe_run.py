#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs one pipeline for the fault-injection tests and prints a JSON report
on its last stdout line. Run as a child process (the tests start it with the
tests/fault LD_PRELOAD shim in its environment).

Usage: pipe_run.py TIMEOUT-SECONDS PIPELINE-DESCRIPTION

Counted: buffers reaching each sink element's sink pad (per sink name;
src pads added later by a demuxer named `dyn` are linked to new fakesinks
named after the pad), buffers entering the element named `probe`, the error
and warnings posted (text, debug, source), element messages (name and, for
hdf5sink-flushed, its `rows`). After the first error the bus is read for one
more second: `error` is the first error, `errors` lists all of them.
"""
import json
import sys

import gi

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402


def main():
    timeout = float(sys.argv[1])
    desc = sys.argv[2]
    Gst.init(None)
    pipe = Gst.parse_launch(desc)
    if not isinstance(pipe, Gst.Pipeline):  # a single element
        el, pipe = pipe, Gst.Pipeline.new()
        pipe.add(el)
    counts = {}

    def count(name):
        counts.setdefault(name, 0)

        def probe(pad, info):
            counts[name] += 1
            return Gst.PadProbeReturn.OK
        return probe

    def watch_sink(el):
        pad = el.get_static_pad('sink')
        if pad is not None:
            pad.add_probe(Gst.PadProbeType.BUFFER, count(el.get_name()))

    it = pipe.iterate_sinks()
    while True:
        res, el = it.next()
        if res != Gst.IteratorResult.OK:
            break
        watch_sink(el)
    probe_el = pipe.get_by_name('probe')
    if probe_el is not None:
        for pad in probe_el.sinkpads:
            pad.add_probe(Gst.PadProbeType.BUFFER, count('probe'))

    dyn = pipe.get_by_name('dyn')
    if dyn is not None:
        def on_pad(el, pad):
            if pad.is_linked():
                return
            sink = Gst.ElementFactory.make('fakesink', 'sink_' + pad.get_name())
            sink.set_property('sync', False)
            sink.set_property('async', False)
            pipe.add(sink)
            watch_sink(sink)
            sink.sync_state_with_parent()
            pad.link(sink.get_static_pad('sink'))
        dyn.connect('pad-added', on_pad)

    report = {'end': 'timeout', 'error': None, 'debug': None, 'error_src': None,
              'warnings': [], 'errors': [], 'messages': [], 'flushed_rows': None}
    pipe.set_state(Gst.State.PLAYING)
    bus = pipe.get_bus()
    deadline = Gst.util_get_timestamp() + int(timeout * Gst.SECOND)
    while True:
        left = deadline - Gst.util_get_timestamp()
        if left <= 0:
            break
        msg = bus.timed_pop(left)
        if msg is None:
            break
        t = msg.type
        if t == Gst.MessageType.EOS:
            if report['end'] != 'error':
                report['end'] = 'eos'
            break
        if t == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            if report['end'] != 'error':
                report.update(end='error', error=err.message, debug=dbg,
                              error_src=msg.src.get_name(),
                              error_domain=err.domain)
                # collect what else is posted right after (an element's own
                # error may follow the upstream "Internal data stream error")
                deadline = min(deadline, Gst.util_get_timestamp() + Gst.SECOND)
            report['errors'].append({'text': err.message, 'debug': dbg,
                                     'src': msg.src.get_name()})
            continue
        if t == Gst.MessageType.WARNING:
            err, dbg = msg.parse_warning()
            report['warnings'].append({'text': err.message, 'debug': dbg,
                                       'src': msg.src.get_name()})
        elif t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            report['messages'].append(s.get_name())
            if s.get_name() == 'hdf5sink-flushed':
                ok, rows = s.get_uint64('rows')
                if ok:
                    report['flushed_rows'] = rows
    pipe.set_state(Gst.State.NULL)
    report['buffers'] = counts
    sys.stdout.flush()
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
