#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Conversion benchmark (issue 8): a Kuavo-like bag (tests/data/make_bag.py
# preset kuavo: 3 CompressedImage cameras at 30 Hz, one rgb8 Image topic,
# JointState at 100 and 500 Hz) converted to HDF5, every topic aligned to the
# head camera (nearest within 20 ms, else the frame is dropped):
#   ours: build/tools/membound-convert --align-to ... --tolerance 20ms
#   peer: bench/pipelines/py_convert.py (python rosbag + h5py, the users' way:
#         load everything, align, write)
# Same bag, same run, page cache warm for both (the bag was just written).
# Prints wall time and peak RSS (/usr/bin/time -v) of each, and the ratio.
#
# Usage: sh bench/pipelines/bench_convert.sh BUILD [SIZE_MB [peer|nopeer]]
#   e.g. sh bench/pipelines/bench_convert.sh build 2048
#        sh bench/pipelines/bench_convert.sh build 4096 nopeer
# Temporary files go to $TMPDIR (default /tmp) and are deleted at the end.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: bench_convert.sh BUILD [SIZE_MB [peer|nopeer]]}
size=${2:-2048}
peer=${3:-peer}
ref=/cam_h/color/image_raw/compressed
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mb-bench-convert.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

bag="$tmp/kuavo-${size}m.bag"
if [ -n "${MB_BENCH_BAG:-}" ]; then
  bag=$MB_BENCH_BAG           # reuse a generated bag
else
  /usr/bin/python3 "$root/tests/data/make_bag.py" -o "$bag" --preset kuavo --size-mb "$size" >&2
fi
bytes=$(stat -c %s "$bag")
cat "$bag" > /dev/null        # page cache warm for both readers

measure() { # NAME LOG
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$2" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$2")
  echo "$1 $wall $rss"
}

/usr/bin/time -v -o "$tmp/ours.time" "$build/tools/membound-convert" --force \
  --progress none --align-to "$ref" --tolerance 20ms -o "$tmp/ours" "$bag" > "$tmp/ours.out"
ours=$(measure ours "$tmp/ours.time")
rows_ours=$(/usr/bin/python3 -c "import h5py,sys; print(len(h5py.File(sys.argv[1])['$ref/timestamp']))" "$tmp/ours/$(basename "$bag" .bag).h5")

if [ "$peer" = peer ]; then
  /usr/bin/time -v -o "$tmp/py.time" /usr/bin/python3 "$root/bench/pipelines/py_convert.py" \
    "$bag" "$tmp/py.h5" --align-to "$ref" --tolerance-ms 20 > "$tmp/py.out"
  py=$(measure python "$tmp/py.time")
  rows_py=$(/usr/bin/python3 -c "import h5py,sys; print(len(h5py.File(sys.argv[1])['$ref/timestamp']))" "$tmp/py.h5")
fi

echo "bag: $bytes bytes, $(basename "$bag")"
echo "| converter | wall s | MB/s | peak RSS MB | aligned rows |"
echo "|---|---:|---:|---:|---:|"
echo "$ours $rows_ours" | awk -v b="$bytes" '{ printf "| membound-convert | %.2f | %.0f | %.1f | %d |\n", $2, b / 1e6 / $2, $3 / 1024, $4 }'
if [ "$peer" = peer ]; then
  echo "$py $rows_py" | awk -v b="$bytes" '{ printf "| py_convert.py (rosbag + h5py) | %.2f | %.0f | %.1f | %d |\n", $2, b / 1e6 / $2, $3 / 1024, $4 }'
  echo "$ours $py" | awk '{ printf "wall-time ratio python / membound: %.1fx; peak RSS ratio: %.0fx\n", $5 / $2, $6 / $3 }'
fi
