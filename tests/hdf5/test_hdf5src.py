#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hdf5src oracle tests: datasets written by h5py are played by hdf5src and
what arrives in an appsink is compared byte-exact with what h5py wrote
(payloads, pixels, timestamps, reference metas), plus looping, start/stop
index, seeking, the bounded pool, and the error paths.

usage: test_hdf5src.py [case ...]
"""
import os
import subprocess
import sys
import tempfile
import time

import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

Gst.init(None)
UNIX = Gst.Caps.from_string("timestamp/x-unix")
SRCTS = Gst.Caps.from_string("timestamp/x-membound-source")
T0 = 1_700_000_000_123_456_789
failures = []
TMP = None


def check(cond, name, msg):
    if not cond:
        failures.append("%s: %s" % (name, msg))
    return cond


class Played:
    def __init__(self):
        self.bufs = []          # (bytes, pts, dur, offset, unix, srcts)
        self.caps = None
        self.error = None


def sample_tuple(s):
    b = s.get_buffer()
    ok, info = b.map(Gst.MapFlags.READ)
    data = bytes(info.data) if ok else b""
    if ok:
        b.unmap(info)
    m = b.get_reference_timestamp_meta(UNIX)
    ms = b.get_reference_timestamp_meta(SRCTS)
    return (data, b.pts, b.duration, b.offset,
            m.timestamp if m else None, ms.timestamp if ms else None)


def play(desc, limit=None, timeout=30, seek=None, seek_format=Gst.Format.TIME):
    """Runs `desc ! appsink name=out`; collects buffers until EOS, error or
    @limit buffers. @seek = time in ns for a flushing accurate seek done in
    PAUSED before playing."""
    p = Played()
    pipe = Gst.parse_launch(desc + " ! appsink name=out sync=false")
    sink = pipe.get_by_name("out")
    bus = pipe.get_bus()
    if seek is not None:
        pipe.set_state(Gst.State.PAUSED)
        pipe.get_state(10 * Gst.SECOND)
        if not pipe.seek_simple(seek_format,
                                Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE, seek):
            p.error = "seek refused"
    pipe.set_state(Gst.State.PLAYING)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        if msg:
            err, dbg = msg.parse_error()
            p.error = "%s | %s" % (err.message, dbg)
            break
        s = sink.emit("try-pull-sample", 50 * Gst.MSECOND)
        if s is None:
            if sink.get_property("eos"):
                break
            continue
        if p.caps is None:
            p.caps = s.get_caps().to_string()
        p.bufs.append(sample_tuple(s))
        if limit and len(p.bufs) >= limit:
            break
    else:
        p.error = p.error or "timeout"
    pipe.set_state(Gst.State.NULL)
    return p


def tmpfile(name):
    return os.path.join(TMP, name)


# ----------------------------------------------------------------- files

def make_blobs(n, rng):
    out = []
    for i in range(n):
        size = int(rng.integers(0, 120_000)) if i % 7 else 3
        out.append(b"\xff\xd8" + rng.integers(0, 256, size, dtype=np.uint8).tobytes())
    return out


def write_vlen(path, blobs, ts=None, caps="image/jpeg", group="/cam_left",
               src_ts=None):
    with h5py.File(path, "w") as f:
        g = f.require_group(group)
        d = g.create_dataset("data", (len(blobs),), dtype=h5py.vlen_dtype(np.uint8),
                             maxshape=(None,), chunks=(4,))
        for i, b in enumerate(blobs):
            d[i] = np.frombuffer(b, dtype=np.uint8)
        if ts is not None:
            g.create_dataset("timestamp", data=np.asarray(ts, dtype=np.int64))
        if src_ts is not None:
            g.create_dataset("source_timestamp", data=np.asarray(src_ts, dtype=np.int64))
        if caps:
            g.attrs["caps"] = caps


def jittered_ts(n, rng, step=33_333_333):
    return [T0 + i * step + int(rng.integers(-2_000_000, 2_000_000)) for i in range(n)]


# ----------------------------------------------------------------- cases

def case_vlen(rng):
    name = "vlen"
    blobs = make_blobs(40, rng)
    blobs[3] = b""              # an empty row plays as an empty buffer
    ts = jittered_ts(40, rng)
    src_ts = [t - 5_000_000 for t in ts]
    path = tmpfile("vlen.h5")
    write_vlen(path, blobs, ts, "image/jpeg,framerate=30/1", src_ts=src_ts)
    p = play("hdf5src location=%s path=/cam_left batch-size=7" % path)
    if not check(p.error is None, name, p.error):
        return
    check(p.caps.startswith("image/jpeg"), name, "caps %s" % p.caps)
    check(len(p.bufs) == 40, name, "%d buffers" % len(p.bufs))
    for i, (data, pts, dur, off, unix, st) in enumerate(p.bufs):
        check(data == blobs[i], name, "row %d payload differs (%d vs %d bytes)"
              % (i, len(data), len(blobs[i])))
        check(pts == ts[i] - ts[0], name, "row %d pts %d != %d" % (i, pts, ts[i] - ts[0]))
        check(unix == ts[i], name, "row %d unix meta %r != %d" % (i, unix, ts[i]))
        check(st == src_ts[i], name, "row %d source meta %r" % (i, st))
        check(off == i, name, "row %d offset %d" % (i, off))
        if i + 1 < 40:
            check(dur == ts[i + 1] - ts[i], name, "row %d duration %d" % (i, dur))
    # auto path (no path property) finds the same group
    p2 = play("hdf5src location=%s" % path)
    check(p2.error is None and len(p2.bufs) == 40 and p2.bufs[5][0] == blobs[5],
          name, "auto path: %r %d" % (p2.error, len(p2.bufs)))
    # dataset path + caps property override
    p3 = play("hdf5src location=%s path=/cam_left/data caps=application/octet-stream" % path)
    check(p3.error is None and p3.caps == "application/octet-stream"
          and [b[0] for b in p3.bufs] == blobs, name, "dataset path/caps override: %r %r"
          % (p3.error, p3.caps))
    print("ok vlen")


def pixels_from(data, h, w, c, itemsize=1):
    """Removes GstVideoInfo row padding (stride rounded up to 4)."""
    row = w * c * itemsize
    stride = (row + 3) // 4 * 4
    return b"".join(data[r * stride:r * stride + row] for r in range(h))


def case_frames(rng):
    name = "frames"
    n, h, w = 12, 7, 5                   # width 5 RGB: stride 16, packed 15
    frames = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    ts = jittered_ts(n, rng)
    path = tmpfile("frames.h5")
    with h5py.File(path, "w") as f:
        g = f.create_group("cam_rgb")
        g.create_dataset("data", data=frames, chunks=(1, h, w, 3))
        g.create_dataset("timestamp", data=np.asarray(ts, dtype=np.int64))
        g.attrs["caps"] = "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1" % (w, h)
        # no caps attribute: derived from the shape (GRAY16_LE)
        g16 = f.create_group("depth")
        depth = rng.integers(0, 65536, (n, h, w), dtype=np.uint16)
        g16.create_dataset("data", data=depth)
    p = play("hdf5src location=%s path=cam_rgb batch-size=5 max-buffers=8" % path)
    if check(p.error is None and len(p.bufs) == n, name, "%r %d" % (p.error, len(p.bufs))):
        for i in range(n):
            got = pixels_from(p.bufs[i][0], h, w, 3)
            check(got == frames[i].tobytes(), name, "frame %d pixels differ" % i)
            check(p.bufs[i][1] == ts[i] - ts[0], name, "frame %d pts" % i)
    p = play("hdf5src location=%s path=/depth" % path)
    if check(p.error is None and len(p.bufs) == n, name, "depth %r %d" % (p.error, len(p.bufs))):
        check("GRAY16_LE" in p.caps and "width=(int)5" in p.caps, name, "depth caps %s" % p.caps)
        for i in range(n):
            got = pixels_from(p.bufs[i][0], h, w, 1, 2)
            check(got == depth[i].astype("<u2").tobytes(), name, "depth %d differs" % i)
            check(p.bufs[i][1] is None or p.bufs[i][1] == Gst.CLOCK_TIME_NONE,
                  name, "untimed depth frame has pts %r" % (p.bufs[i][1],))
    print("ok frames")


def case_loop(rng):
    name = "loop"
    n = 6
    blobs = make_blobs(n, rng)
    ts = [T0 + i * 40_000_000 for i in range(n)]
    path = tmpfile("loop.h5")
    write_vlen(path, blobs, ts)
    p = play("hdf5src location=%s loop=true batch-size=4" % path, limit=5 * n)
    if not check(p.error is None and len(p.bufs) == 5 * n, name, "%r %d" % (p.error, len(p.bufs))):
        return
    pts = [b[1] for b in p.bufs]
    check(all(b > a for a, b in zip(pts, pts[1:])), name, "pts not increasing: %r" % pts)
    # evenly spaced rows: the loop keeps the 40 ms spacing across passes
    check(all(b - a == 40_000_000 for a, b in zip(pts, pts[1:])), name,
          "pts steps %r" % sorted(set(b - a for a, b in zip(pts, pts[1:]))))
    unix = [b[4] for b in p.bufs]
    check(all(b > a for a, b in zip(unix, unix[1:])), name, "unix meta not increasing")
    check([b[0] for b in p.bufs] == blobs * 5, name, "payload order across passes")
    # loop with start/stop: rows 2..4 only, still monotonic
    p = play("hdf5src location=%s loop=true start-index=2 stop-index=5" % path, limit=9)
    check(p.error is None and [b[3] for b in p.bufs] == [2, 3, 4] * 3, name,
          "start/stop loop offsets %r" % [b[3] for b in p.bufs])
    pts = [b[1] for b in p.bufs]
    check(pts[0] == 0 and all(b > a for a, b in zip(pts, pts[1:])), name,
          "start/stop loop pts %r" % pts)
    print("ok loop")


def case_index(rng):
    name = "index"
    n = 30
    blobs = make_blobs(n, rng)
    ts = jittered_ts(n, rng)
    path = tmpfile("index.h5")
    write_vlen(path, blobs, ts)
    for a, b in ((0, 30), (5, 17), (29, -1), (10, 10), (12, 400)):
        p = play("hdf5src location=%s start-index=%d stop-index=%d batch-size=4" % (path, a, b))
        stop = n if b < 0 else min(b, n)
        want = blobs[a:stop]
        check(p.error is None and [x[0] for x in p.bufs] == want, name,
              "[%d,%d): %r got %d rows" % (a, b, p.error, len(p.bufs)))
        if want:
            check(p.bufs[0][1] == 0 and p.bufs[0][4] == ts[a], name,
                  "[%d,%d) first pts %r unix %r" % (a, b, p.bufs[0][1], p.bufs[0][4]))
    print("ok index")


def case_seek(rng):
    name = "seek"
    n = 50
    blobs = make_blobs(n, rng)
    ts = jittered_ts(n, rng)
    path = tmpfile("seek.h5")
    write_vlen(path, blobs, ts)
    for target in (0, 500_000_000, 1_000_000_001, int(ts[-1] - ts[0]), 10 * Gst.SECOND):
        p = play("hdf5src location=%s" % path, seek=target)
        first = next((i for i in range(n) if ts[i] - ts[0] >= target), n)
        got = [b[3] for b in p.bufs]
        check(p.error is None and got == list(range(first, n)), name,
              "seek %d: %r rows %r, want from %d" % (target, p.error, got[:3], first))
        if first < n and p.bufs:
            check(p.bufs[0][1] == ts[first] - ts[0] and p.bufs[0][0] == blobs[first], name,
                  "seek %d: first pts %d" % (target, p.bufs[0][1]))
    # by row (DEFAULT format = GST_BUFFER_OFFSET)
    for row in (0, 17, 49, 80):
        p = play("hdf5src location=%s" % path, seek=row, seek_format=Gst.Format.DEFAULT)
        want = list(range(min(row, n), n))
        check(p.error is None and [b[3] for b in p.bufs] == want, name,
              "row seek %d: %r %r" % (row, p.error, [b[3] for b in p.bufs][:3]))
        if want:
            check(p.bufs[0][1] == ts[row] - ts[0], name, "row seek %d: pts %d" % (row, p.bufs[0][1]))
    # untimed rows (no timestamps, no framerate): by row yes, by time no
    upath = tmpfile("seek_untimed.h5")
    with h5py.File(upath, "w") as f:
        f.create_dataset("u/data", data=np.arange(10 * 16, dtype=np.uint8).reshape(10, 4, 4))
    p = play("hdf5src location=%s" % upath, seek=6, seek_format=Gst.Format.DEFAULT)
    check(p.error is None and [b[3] for b in p.bufs] == [6, 7, 8, 9], name,
          "untimed row seek: %r %r" % (p.error, [b[3] for b in p.bufs]))
    p = play("hdf5src location=%s" % upath, seek=Gst.SECOND)
    check(p.error == "seek refused", name, "untimed time seek: %r" % p.error)
    # a storm of flushing seeks while buffers flow and the pool is small:
    # no deadlock, and the last seek decides where playback continues
    for loc, extra in ((path, ""), (tmpfile("storm_frames.h5"), " path=/f")):
        if extra:
            with h5py.File(loc, "w") as f:
                f.create_dataset("f/data", data=np.zeros((n, 16, 16), np.uint8))
                f["f/timestamp"] = np.asarray(ts, np.int64)
        pipe = Gst.parse_launch("hdf5src location=%s%s loop=true batch-size=2 max-buffers=3 ! "
                                "appsink name=out sync=false max-buffers=2" % (loc, extra))
        sink = pipe.get_by_name("out")
        pipe.set_state(Gst.State.PLAYING)
        pipe.get_state(10 * Gst.SECOND)
        for k in range(40):
            pos = int(rng.integers(0, 5 * Gst.SECOND))
            pipe.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH, pos)
            sink.emit("try-pull-sample", 5 * Gst.MSECOND)
        target = (ts[30] - ts[0])
        ok = pipe.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE, target)
        smp = sink.emit("try-pull-sample", 5 * Gst.SECOND)
        got = smp.get_buffer().offset if smp else None
        check(ok and got == 30, name, "%s: after a seek storm: %r %r" % (loc, ok, got))
        err = pipe.get_bus().pop_filtered(Gst.MessageType.ERROR)
        check(err is None, name, "storm error %r" % (err.parse_error() if err else None,))
        t = time.monotonic()
        pipe.set_state(Gst.State.NULL)
        check(time.monotonic() - t < 5, name, "stop after storm took %.1f s" % (time.monotonic() - t))
    # looping: a seek into the third pass
    period = (ts[-1] - ts[0]) + (ts[-1] - ts[0]) // (n - 1)
    target = 2 * period + (ts[10] - ts[0])
    p = play("hdf5src location=%s loop=true" % path, seek=target, limit=3)
    check(p.error is None and [b[3] for b in p.bufs] == [10, 11, 12]
          and p.bufs[0][1] == target, name,
          "loop seek: %r %r" % (p.error, [(b[3], b[1]) for b in p.bufs]))
    print("ok seek")


def case_bounded(rng):
    """The source never has more than max-buffers buffers alive: an appsink
    that is not pulled stops it there (vlen blobs and pooled frames)."""
    name = "bounded"
    path = tmpfile("bounded.h5")
    write_vlen(path, make_blobs(200, rng), jittered_ts(200, rng))
    fpath = tmpfile("bounded_frames.h5")
    with h5py.File(fpath, "w") as f:
        f.create_dataset("bank/data", data=np.zeros((200, 8, 8, 3), np.uint8))
    for loc, extra in ((path, ""), (fpath, " path=/bank")):
        pipe = Gst.parse_launch("hdf5src location=%s%s batch-size=4 max-buffers=10 ! "
                                "appsink name=out sync=false max-buffers=0" % (loc, extra))
        sink = pipe.get_by_name("out")
        pipe.set_state(Gst.State.PLAYING)
        time.sleep(1.0)
        held = []
        while True:
            s = sink.emit("try-pull-sample", 0)
            if s is None:
                break
            held.append(s)
        check(6 <= len(held) <= 10, name, "%s: %d buffers alive with max-buffers=10"
              % (loc, len(held)))
        held = None             # release: the source resumes and finishes
        n = 0
        end = time.monotonic() + 20
        while not sink.get_property("eos") and time.monotonic() < end:
            if sink.emit("try-pull-sample", 50 * Gst.MSECOND) is not None:
                n += 1
        check(sink.get_property("eos"), name, "%s: no EOS after releasing" % loc)
        pipe.set_state(Gst.State.NULL)
        # stopping while the source waits for a free buffer: unlock() wakes it
        pipe.set_state(Gst.State.PLAYING)
        time.sleep(0.3)
        held = []
        for _ in range(3):
            while True:
                smp = sink.emit("try-pull-sample", 100 * Gst.MSECOND)
                if smp is None:
                    break
                held.append(smp)
        t = time.monotonic()
        ret = pipe.set_state(Gst.State.NULL)
        check(ret == Gst.StateChangeReturn.SUCCESS and time.monotonic() - t < 5, name,
              "%s: stop while blocked: %r after %.1f s" % (loc, ret, time.monotonic() - t))
        check(len(held) <= 10, name, "%s: %d alive" % (loc, len(held)))
        held = None
    print("ok bounded")


def case_errors(rng):
    name = "errors"
    path = tmpfile("err.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("floats/data", data=np.zeros((4, 3), np.float32))
        f.create_dataset("ragged/data", (3,), dtype=h5py.vlen_dtype(np.float64))
        f.create_dataset("nocaps/data", (3,), dtype=h5py.vlen_dtype(np.uint8))
        f.create_dataset("badcaps/data", data=np.zeros((2, 4, 4, 3), np.uint8))
        f["badcaps"].attrs["caps"] = "video/x-raw,format=RGB,width=5,height=4"
    notes = tmpfile("not_hdf5.h5")
    with open(notes, "wb") as f:
        f.write(b"hello, not HDF5" * 100)
    cases = [
        ("missing file", "location=%s" % tmpfile("nope.h5"), ["nope.h5", "does not exist"]),
        ("missing group", "location=%s path=/nothing" % path, ["err.h5", "/nothing"]),
        ("unsupported type", "location=%s path=/floats" % path, ["err.h5", "/floats/data"]),
        ("vlen float", "location=%s path=/ragged" % path, ["err.h5", "/ragged/data"]),
        ("no caps", "location=%s path=/nocaps" % path, ["err.h5", "/nocaps/data"]),
        ("caps mismatch", "location=%s path=/badcaps" % path, ["err.h5", "/badcaps/data"]),
        ("not hdf5", "location=%s" % notes, ["not_hdf5.h5"]),
    ]
    for what, props, words in cases:
        p = play("hdf5src " + props, timeout=10)
        check(p.error is not None and all(w in p.error for w in words), name,
              "%s: error %r lacks %r" % (what, p.error, words))
    # a truncated file: cut a vlen file in the middle of its heap data
    blobs = make_blobs(60, rng)
    tpath = tmpfile("trunc.h5")
    write_vlen(tpath, blobs, jittered_ts(60, rng))
    size = os.path.getsize(tpath)
    cut = tmpfile("trunc_cut.h5")
    with open(tpath, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(size // 2))
    p = play("hdf5src location=%s" % cut, timeout=20)
    check(p.error is not None and "trunc_cut.h5" in p.error, name,
          "truncated: error %r after %d rows" % (p.error, len(p.bufs)))
    # rows delivered before the error are the right ones
    check(all(b[0] == blobs[i] for i, b in enumerate(p.bufs)), name,
          "truncated: wrong payload before the error")
    # a read error (EIO) in the middle of the stream, injected below HDF5
    shim = os.path.join(os.environ.get("MB_BUILD_ROOT", ""), "tests", "fault",
                        "libfaultinject.so")
    if check(os.path.exists(shim), name, "no fault shim at %s" % shim):
        env = dict(os.environ)
        env["LD_PRELOAD"] = (env.get("LD_PRELOAD", "") + " " + shim).strip()
        env.update(MB_FAULT_PATH="trunc.h5", MB_FAULT_OP="read", MB_FAULT_ERRNO="EIO",
                   MB_FAULT_AFTER=str(size // 2))
        r = subprocess.run(["gst-launch-1.0", "-q", "hdf5src", "location=" + tpath,
                            "batch-size=4", "!", "fakesink"], env=env,
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 1 and "trunc.h5" in r.stderr and "/cam_left/data" in r.stderr
              and "faults injected" in r.stderr and "faultinject: 0 faults" not in r.stderr,
              name, "EIO mid-stream: rc=%d %s" % (r.returncode, r.stderr[-600:]))
    print("ok errors")


def case_roundtrip(rng):
    """hdf5src -> hdf5sink -> (h5py) is byte-exact: payloads, frames,
    timestamps, source timestamps, caps."""
    name = "roundtrip"
    if Gst.ElementFactory.find("hdf5sink") is None:
        print("skip roundtrip (hdf5sink not built)")
        return
    n = 25
    blobs = make_blobs(n, rng)
    blobs[4] = b""
    ts = jittered_ts(n, rng)
    src_ts = [t - int(rng.integers(0, 9_000_000)) for t in ts]
    frames = rng.integers(0, 256, (9, 6, 5, 3), dtype=np.uint8)
    fts = [T0 + i * 40_000_000 for i in range(9)]
    inp = tmpfile("rt_in.h5")
    write_vlen(inp, blobs, ts, "image/jpeg,framerate=30/1", group="/cam", src_ts=src_ts)
    with h5py.File(inp, "a") as f:
        f.create_dataset("raw/data", data=frames)
        f["raw/timestamp"] = np.asarray(fts, np.int64)
        f["raw"].attrs["caps"] = ("video/x-raw,format=RGB,width=5,height=6,"
                                  "framerate=25/1")
    cur = inp
    for gen in (1, 2):      # and once more from hdf5sink's own output
        out = tmpfile("rt_out%d.h5" % gen)
        groups = ("/cam", "/raw") if gen == 1 else ("/stream_0", "/stream_1")
        desc = ("hdf5src location=%s path=%s ! hdf5sink name=s location=%s "
                "hdf5src location=%s path=%s batch-size=3 ! s." % (cur, groups[0], out, cur, groups[1]))
        r = subprocess.run(["gst-launch-1.0", "-q"] + desc.split(), capture_output=True,
                           text=True, timeout=60)
        if not check(r.returncode == 0, name, "gen %d: rc %d %s" % (gen, r.returncode, r.stderr[-400:])):
            return
        with h5py.File(out, "r") as f:
            vl = [g for g in f if f[g]["data"].ndim == 1]
            rw = [g for g in f if f[g]["data"].ndim == 4]
            if not check(len(vl) == 1 and len(rw) == 1, name, "gen %d groups %r" % (gen, list(f))):
                return
            g, h = f[vl[0]], f[rw[0]]
            got = [bytes(x) for x in g["data"][:]]
            check(got == blobs, name, "gen %d: blobs differ" % gen)
            check(list(g["timestamp"][:]) == ts, name, "gen %d: timestamps differ" % gen)
            check("source_timestamp" in g and list(g["source_timestamp"][:]) == src_ts,
                  name, "gen %d: source timestamps differ" % gen)
            check(Gst.Caps.from_string(g.attrs["caps"]).is_equal(
                Gst.Caps.from_string("image/jpeg,framerate=30/1")), name,
                "gen %d: caps %r" % (gen, g.attrs["caps"]))
            check(np.array_equal(h["data"][:], frames), name, "gen %d: frames differ" % gen)
            check(list(h["timestamp"][:]) == fts, name, "gen %d: frame timestamps" % gen)
        cur = out
    print("ok roundtrip")


def case_live(rng):
    """A file being written: SWMR writers can be read while open; a plain
    writer's file lock gives a clear error."""
    name = "live"
    path = tmpfile("live_swmr.h5")
    frames = rng.integers(0, 256, (6, 4, 4), dtype=np.uint8)
    f = h5py.File(path, "w", libver="latest")
    d = f.create_dataset("c/data", (0, 4, 4), np.uint8, maxshape=(None, 4, 4), chunks=(1, 4, 4))
    f.swmr_mode = True
    d.resize((6, 4, 4))
    d[:] = frames
    f.flush()
    try:
        p = play("hdf5src location=%s" % path)
        check(p.error is None and len(p.bufs) == 6 and p.bufs[5][0] == frames[5].tobytes(),
              name, "swmr: %r %d" % (p.error, len(p.bufs)))
    finally:
        f.close()
    path = tmpfile("live_plain.h5")
    f = h5py.File(path, "w")
    f.create_dataset("c/data", data=frames)
    f.flush()
    try:
        r = subprocess.run(["gst-launch-1.0", "-q", "hdf5src", "location=" + path, "!",
                            "fakesink"], capture_output=True, text=True, timeout=30)
        check(r.returncode != 0 and "open for writing" in r.stderr and "live_plain.h5" in r.stderr,
              name, "locked: rc %d %s" % (r.returncode, r.stderr[-300:]))
    finally:
        f.close()
    print("ok live")


def case_aloha(rng):
    """hdf5sink's ALOHA layout: zero-padded [N, max_bytes] JPEG rows play cut
    to /compress_len (row = attribute compress_len_index), timed from
    /observations/timestamps/<cam>."""
    name = "aloha"
    n, cap = 15, 6000
    blobs = [b"\xff\xd8" + rng.integers(0, 256, int(rng.integers(10, cap - 2)),
                                        dtype=np.uint8).tobytes() for _ in range(n)]
    ts = jittered_ts(n, rng)
    path = tmpfile("aloha.hdf5")
    with h5py.File(path, "w") as f:
        img = np.zeros((n, cap), np.uint8)
        for i, b in enumerate(blobs):
            img[i, :len(b)] = np.frombuffer(b, np.uint8)
        d = f.create_dataset("observations/images/cam_high", data=img, chunks=(1, cap))
        d.attrs["compress_len_index"] = 1
        d.attrs["caps"] = "image/jpeg"
        cl = np.zeros((2, n), np.float32)
        cl[1] = [len(b) for b in blobs]
        cl[0] = 17
        f["compress_len"] = cl
        f["observations/timestamps/cam_high"] = np.asarray(ts, np.int64)
    p = play("hdf5src location=%s path=/observations/images/cam_high batch-size=4" % path)
    check(p.error is None and [b[0] for b in p.bufs] == blobs, name,
          "padded rows: %r %r" % (p.error, [len(b[0]) for b in p.bufs][:4]))
    check([b[4] for b in p.bufs] == ts, name, "aloha timestamps")
    if Gst.ElementFactory.find("hdf5sink") is None:
        print("ok aloha (sink part skipped: hdf5sink not built)")
        return
    # hdf5src (vlen) -> hdf5sink layout=aloha -> hdf5src: same bytes and times
    vpath = tmpfile("aloha_src.h5")
    write_vlen(vpath, blobs, ts, "image/jpeg")
    out = tmpfile("episode_0.hdf5")
    r = subprocess.run(["gst-launch-1.0", "-q", "hdf5src", "location=" + vpath, "!",
                        "hdf5sink", "location=" + out, "layout=aloha",
                        "sink_0::aloha-name=cam_low", "sink_0::aloha-max-bytes=%d" % cap],
                       capture_output=True, text=True, timeout=60)
    if check(r.returncode == 0, name, "aloha record: %s" % r.stderr[-300:]):
        p = play("hdf5src location=%s path=/observations/images/cam_low" % out)
        check(p.error is None and [b[0] for b in p.bufs] == blobs, name,
              "aloha round trip: %r %r" % (p.error, [len(b[0]) for b in p.bufs][:4]))
        check([b[4] for b in p.bufs] == ts, name, "aloha round trip timestamps")
    print("ok aloha")


def case_flushed(rng):
    """A file hdf5sink left after a crash or a write error: `data` may hold
    rows past its last flush (empty or unreadable); its `flushed_rows`
    attribute says how many are complete, and hdf5src plays only those."""
    name = "flushed"
    blobs = make_blobs(12, rng)
    ts = jittered_ts(12, rng)
    path = tmpfile("flushed.h5")
    write_vlen(path, blobs, ts)
    with h5py.File(path, "a") as f:
        f["/cam_left/data"].attrs["flushed_rows"] = np.int64(9)
    p = play("hdf5src location=%s path=/cam_left" % path)
    check(p.error is None, name, p.error)
    check([b[0] for b in p.bufs] == blobs[:9], name,
          "%d buffers, expected the 9 flushed rows" % len(p.bufs))
    # an attribute larger than the extent (or absent) changes nothing
    with h5py.File(path, "a") as f:
        f["/cam_left/data"].attrs["flushed_rows"] = np.int64(50)
    p = play("hdf5src location=%s path=/cam_left" % path)
    check(p.error is None and [b[0] for b in p.bufs] == blobs, name,
          "attribute past the end: %r, %d buffers" % (p.error, len(p.bufs)))
    print("ok flushed")


CASES = {"vlen": case_vlen, "frames": case_frames, "loop": case_loop,
         "index": case_index, "seek": case_seek, "bounded": case_bounded,
         "errors": case_errors, "roundtrip": case_roundtrip,
         "live": case_live, "aloha": case_aloha, "flushed": case_flushed}


def main():
    global TMP
    base = os.environ.get("MB_TEST_TMPDIR", tempfile.gettempdir())
    os.makedirs(base, exist_ok=True)
    names = sys.argv[1:] or list(CASES)
    with tempfile.TemporaryDirectory(prefix="hdf5src-", dir=base) as TMP:
        for n in names:
            CASES[n](np.random.default_rng(sum(map(ord, n))))
    for f in failures[:50]:
        print("FAIL", f)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
