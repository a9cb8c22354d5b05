#!/usr/bin/python3
"""Appending 100 KB JPEG-like blobs: hdf5sink vs plain fwrite vs h5py.

Same blobs, same run, interleaved repeats, medians. Methods:
  fwrite     C stdio fwrite of each blob into one file (libc through ctypes,
             one call per blob, fclose at the end)
  filesink   appsrc ! filesink (GStreamer's fwrite sink): the same pipeline
             cost as hdf5sink, without HDF5
  hdf5sink   appsrc ! hdf5sink (default layout: vlen uint8 rows +
             timestamps), timed until EOS, i.e. the file is closed
  packed     appsrc ! hdf5sink sink_0::blob-layout=packed (the blobs back
             to back in one uint8 dataset + int64 offset/size index +
             timestamps), timed until EOS
  h5py       the seed recorder's method: vlen dataset, resize + assign per
             frame, close
Each run starts from a deleted file after `sync` (untimed), page cache warm.
On a shared machine compare within one run: medians of each method, the
median of the per-repeat ratios (fwrite time / method time of the same
repeat) and best run / best run are printed.
With --fsync every method's time includes an fsync of its file at the end
(data on the disk, the disk-bound case).

Usage: GST_PLUGIN_PATH=<build>/gst /usr/bin/python3 bench/hdf5/bench_append.py
       [--frames 1000] [--repeats 5] [--dir /tmp] [--fsync]
(about 1.5 s per repeat on the reference VM; 11 repeats < 30 s)
"""
import argparse
import ctypes
import os
import statistics
import tempfile
import time

import gi
import h5py
import numpy as np

gi.require_version('Gst', '1.0')
from gi.repository import Gst  # noqa: E402

libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.fwrite.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                        ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]


def make_blobs(n, rng):
    blobs = []
    for _ in range(n):
        size = int(rng.integers(90_000, 110_001))
        b = bytearray(rng.bytes(size))
        b[0:2] = b'\xff\xd8'
        b[-2:] = b'\xff\xd9'
        blobs.append(bytes(b))
    return blobs


def run_fwrite(path, blobs):
    t = time.perf_counter()
    f = libc.fopen(path.encode(), b'wb')
    for b in blobs:
        libc.fwrite(b, 1, len(b), f)
    libc.fclose(f)
    return time.perf_counter() - t


def run_gst(sink_desc, bufs):
    pipe = Gst.parse_launch(
        'appsrc name=src block=true max-bytes=33554432 format=time '
        'caps=image/jpeg ! ' + sink_desc)
    src = pipe.get_by_name('src')
    bus = pipe.get_bus()
    pipe.set_state(Gst.State.PLAYING)
    t = time.perf_counter()
    for b in bufs:
        src.emit('push-buffer', b)
    src.emit('end-of-stream')
    msg = bus.timed_pop_filtered(120 * Gst.SECOND,
                                 Gst.MessageType.EOS | Gst.MessageType.ERROR)
    dt = time.perf_counter() - t
    assert msg and msg.type == Gst.MessageType.EOS, msg and msg.parse_error()
    pipe.set_state(Gst.State.NULL)
    return dt


def run_h5py(path, blobs):
    t = time.perf_counter()
    with h5py.File(path, 'w') as f:
        ds = f.create_dataset('images', (0,), maxshape=(None,),
                              dtype=h5py.vlen_dtype(np.uint8), chunks=(64,))
        for i, b in enumerate(blobs):
            ds.resize((i + 1,))
            ds[i] = np.frombuffer(b, np.uint8)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--frames', type=int, default=1000)
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--dir', default=tempfile.gettempdir())
    ap.add_argument('--fsync', action='store_true')
    args = ap.parse_args()
    Gst.init(None)
    rng = np.random.default_rng(1)
    blobs = make_blobs(args.frames, rng)
    total = sum(len(b) for b in blobs)
    bufs = []
    for i, b in enumerate(blobs):
        buf = Gst.Buffer.new_wrapped(b)
        buf.pts = i * 33 * Gst.MSECOND
        bufs.append(buf)
    d = tempfile.mkdtemp(prefix='bench-hdf5-', dir=args.dir)
    paths = {k: os.path.join(d, k) for k in
             ('fwrite', 'filesink', 'hdf5sink', 'packed', 'h5py')}
    runs = {k: [] for k in paths}
    for _ in range(args.repeats):
        for k, p in paths.items():
            if os.path.exists(p):
                os.unlink(p)
            os.sync()
            if k == 'fwrite':
                dt = run_fwrite(p, blobs)
            elif k == 'filesink':
                dt = run_gst('filesink location=%s' % p, bufs)
            elif k == 'hdf5sink':
                dt = run_gst('hdf5sink location=%s stats-interval=0' % p, bufs)
            elif k == 'packed':
                dt = run_gst('hdf5sink location=%s stats-interval=0 '
                             'sink_0::blob-layout=packed' % p, bufs)
            else:
                dt = run_h5py(p, blobs)
            if args.fsync:
                t = time.perf_counter()
                fd = os.open(p, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
                dt += time.perf_counter() - t
            runs[k].append(dt)
    # sanity: the hdf5sink file holds the blobs
    with h5py.File(paths['hdf5sink'], 'r') as f:
        data = f['/stream_0/data']
        assert len(data) == len(blobs)
        assert data[len(blobs) // 2].tobytes() == blobs[len(blobs) // 2]
    with h5py.File(paths['packed'], 'r') as f:
        g = f['/stream_0']
        off, size = g['offset'][:], g['size'][:]
        assert len(off) == len(blobs)
        for i in (0, len(blobs) // 2, len(blobs) - 1):
            o, n = int(off[i]), int(size[i])
            assert g['data'][o:o + n].tobytes() == blobs[i]
    for p in paths.values():
        os.unlink(p)
    os.rmdir(d)

    mbs = {k: total / statistics.median(v) / 1e6 for k, v in runs.items()}
    print('%d blobs, %.1f MB, %d interleaved repeats, medians%s' % (
        len(blobs), total / 1e6, args.repeats,
        ', fsync included' if args.fsync else ', page cache'))
    for k in ('fwrite', 'filesink', 'hdf5sink', 'packed', 'h5py'):
        print('  %-9s %7.0f MB/s   (runs: %s s)' % (
            k, mbs[k], ' '.join('%.3f' % x for x in runs[k])))
    for k in ('hdf5sink', 'packed'):
        print('  %-8s / fwrite   = %.2f  (median of per-repeat ratios %.2f, '
              'best run / best run %.2f)'
              % (k, mbs[k] / mbs['fwrite'], statistics.median(
                  f / h for f, h in zip(runs['fwrite'], runs[k])),
                 min(runs['fwrite']) / min(runs[k])))
        print('  %-8s / filesink = %.2f' % (k, mbs[k] / mbs['filesink']))
        print('  %-8s / h5py     = %.2f' % (k, mbs[k] / mbs['h5py']))


if __name__ == '__main__':
    main()
