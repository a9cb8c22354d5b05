#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Read benchmark for hdf5src, with its peers in the same run.

Writes (into --dir, deleted afterwards) one file with N vlen blobs of
90-110 KB (JPEG-sized, random bytes) plus timestamps, and one with raw
1280x720 RGB frames, then times, interleaved, --runs times each:

  vlen:   hdf5src ! fakesink          (in this process, sync=false)
          h5py, one row per read       (bytes(ds[i]), how a Python player reads)
          h5py, whole dataset at once  (ds[:], needs all rows in RAM)
          cat FILE > /dev/null         (ceiling: page cache copy)
  frames: hdf5src ! fakesink
          h5py, one frame per read     (ds[i].tobytes())

Prints medians in MB/s of payload and the ratios, as a Markdown table.
Needs the plugin on GST_PLUGIN_PATH_1_0 (see the command in
docs/benchmarks.md). Run with /usr/bin/python3.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import gi
import h5py
import numpy as np

gi.require_version("Gst", "1.0")


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def gst(path, group, batch):
    """In this process (like h5py): build, play to EOS, tear down."""
    from gi.repository import Gst
    pipe = Gst.parse_launch("hdf5src location=%s path=%s batch-size=%d ! fakesink sync=false"
                            % (path, group, batch))
    pipe.set_state(Gst.State.PLAYING)
    msg = pipe.get_bus().timed_pop_filtered(
        600 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        raise SystemExit("hdf5src failed: %r" % (msg.parse_error() if msg else "timeout",))


def h5py_rows(path, group, frames=False):
    with h5py.File(path, "r") as f:
        ds = f[group]["data"]
        total = 0
        for i in range(ds.shape[0]):
            total += len(ds[i].tobytes())
    return total


def h5py_all(path, group):
    with h5py.File(path, "r") as f:
        return sum(len(x) for x in f[group]["data"][:])


def cat(path):
    subprocess.run("cat '%s' > /dev/null" % path, shell=True, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", type=int, default=2000)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--dir", default="/tmp")
    a = ap.parse_args()
    from gi.repository import Gst
    Gst.init(None)
    rng = np.random.default_rng(5)
    tmp = tempfile.mkdtemp(prefix="bench-hdf5src-", dir=a.dir)
    try:
        vpath = os.path.join(tmp, "vlen.h5")
        sizes = rng.integers(90_000, 110_001, a.blobs)
        pool = rng.integers(0, 256, 200_000, dtype=np.uint8)
        with h5py.File(vpath, "w") as f:
            d = f.create_dataset("cam/data", (a.blobs,), dtype=h5py.vlen_dtype(np.uint8),
                                 chunks=(16,))
            for i, n in enumerate(sizes):
                off = int(rng.integers(0, 90_000))
                d[i] = pool[off:off + n]
            f["cam/timestamp"] = (1_700_000_000_000_000_000
                                  + np.arange(a.blobs, dtype=np.int64) * 33_333_333)
            f["cam"].attrs["caps"] = "image/jpeg,framerate=30/1"
        vbytes = int(sizes.sum())
        fpath = os.path.join(tmp, "frames.h5")
        frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
        with h5py.File(fpath, "w") as f:
            d = f.create_dataset("cam/data", (a.frames, 720, 1280, 3), np.uint8,
                                 chunks=(1, 720, 1280, 3))
            for i in range(a.frames):
                d[i] = frame
            f["cam/timestamp"] = np.arange(a.frames, dtype=np.int64) * 33_333_333
            f["cam"].attrs["caps"] = ("video/x-raw,format=RGB,width=1280,height=720,"
                                      "framerate=30/1")
        fbytes = a.frames * 720 * 1280 * 3

        peers = [
            ("vlen", "hdf5src ! fakesink", vbytes, lambda: gst(vpath, "/cam", a.batch)),
            ("vlen", "h5py, one row per read", vbytes, lambda: h5py_rows(vpath, "cam")),
            ("vlen", "h5py, ds[:] (all rows in RAM)", vbytes, lambda: h5py_all(vpath, "cam")),
            ("vlen", "cat file > /dev/null", vbytes, lambda: cat(vpath)),
            ("frames", "hdf5src ! fakesink", fbytes, lambda: gst(fpath, "/cam", a.batch)),
            ("frames", "h5py, one frame per read", fbytes, lambda: h5py_rows(fpath, "cam")),
        ]
        for _, _, _, fn in peers:           # warm the page cache
            fn()
        times = {i: [] for i in range(len(peers))}
        for _ in range(a.runs):
            for i, (_, _, _, fn) in enumerate(peers):
                times[i].append(timed(fn))
        print("| data | reader | MB/s (median of %d) | vs hdf5src |" % a.runs)
        print("|---|---|---:|---:|")
        ref = {}
        for i, (kind, name, nbytes, _) in enumerate(peers):
            mbs = nbytes / statistics.median(times[i]) / 1e6
            ref.setdefault(kind, mbs)
            print("| %s | %s | %.0f | %.2f |" % (kind, name, mbs, mbs / ref[kind]))
        print("\n%d vlen blobs of 90-110 KB (%.0f MB); %d raw 1280x720 RGB frames (%.0f MB); "
              "batch-size=%d" % (a.blobs, vbytes / 1e6, a.frames, fbytes / 1e6, a.batch))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
