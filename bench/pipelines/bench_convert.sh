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
load0=$(cut -d' ' -f1-3 /proc/loadavg)

measure() { # NAME LOG
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$2" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$2")
  cpu=$(sed -n -e 's/.*User time (seconds): //p' -e 's/.*System time (seconds): //p' "$2" |
    awk '{ s += $1 } END { print s }')
  echo "$1 $wall $rss $cpu"
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
echo "load average before/after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| converter | wall s | CPU s (user+sys) | MB/s | peak RSS MB | aligned rows |"
echo "|---|---:|---:|---:|---:|---:|"
echo "$ours $rows_ours" | awk -v b="$bytes" '{ printf "| membound-convert | %.2f | %.2f | %.0f | %.1f | %d |\n", $2, $4, b / 1e6 / $2, $3 / 1024, $5 }'
if [ "$peer" = peer ]; then
  echo "$py $rows_py" | awk -v b="$bytes" '{ printf "| py_convert.py (rosbag + h5py) | %.2f | %.2f | %.0f | %.1f | %d |\n", $2, $4, b / 1e6 / $2, $3 / 1024, $5 }'
  echo "$ours $py" | awk '{ printf "python / membound: wall time %.1fx, CPU time %.1fx, peak RSS %.0fx\n", $6 / $2, $8 / $4, $7 / $3 }'
fi
