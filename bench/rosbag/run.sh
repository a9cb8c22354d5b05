#!/bin/sh
# rosbagsrc read benchmark: `rosbagsrc ! fakesink` against python rosbag
# (Debian's python3-rosbag, read_messages(raw=True) and deserializing) on the
# same 640x480 rgb8 bags, 1 GB and 4 GB, chunk compression none and lz4,
# generated into /tmp at run time by tests/data/make_bag.py and deleted
# afterwards. Wall time and peak RSS from /usr/bin/time -v; readers run one
# after the other on the same (page-cache warm) file.
#
# Usage: bench/rosbag/run.sh BUILD_DIR [SIZES_MB] [COMPRESSIONS]
#   e.g. bench/rosbag/run.sh build-rosbag "1024 4096" "none lz4"
# PY_DESER=0 skips the (slower to run) deserializing python reader.
# Prints a markdown table for docs/benchmarks.md (## rosbagsrc).
set -eu
BUILD=$(cd "${1:?build dir}" && pwd)
SIZES=${2:-"1024 4096"}
COMPS=${3:-"none lz4"}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/mb-rosbag-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

export GST_PLUGIN_SYSTEM_PATH_1_0=
export GST_PLUGIN_PATH_1_0="$BUILD/gst:$(pkg-config --variable=pluginsdir gstreamer-1.0)"
export GST_REGISTRY_1_0="$TMP/registry.bin"

# build the registry once, so no measured run pays for plugin scanning
gst-inspect-1.0 rosbagsrc > /dev/null

# measure CMD...: prints "wall_s peak_rss_kb"
measure() {
  /usr/bin/time -v "$@" > "$TMP/out" 2> "$TMP/time" || { cat "$TMP/time" >&2; exit 1; }
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$TMP/time" |
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/time")
  echo "$wall $rss"
}

PY_RAW='import sys, rosbag
n = b = 0
for _, m, _ in rosbag.Bag(sys.argv[1]).read_messages(raw=True):
    n += 1; b += len(m[1])
print(n, b)'
PY_DESER='import sys, rosbag
n = 0
for _, m, _ in rosbag.Bag(sys.argv[1]).read_messages():
    n += 1
print(n)'

echo "| bag | compression | file MB | messages | reader | wall s | payload MB/s | peak RSS MB | rosbagsrc speed-up |"
echo "|---|---|---:|---:|---|---:|---:|---:|---:|"
for size in $SIZES; do
  for comp in $COMPS; do
    bag="$TMP/rgb640-$size-$comp.bag"
    # same payload for none and lz4: lz4 bags are sized by message count
    /usr/bin/python3 "$SRC/tests/data/make_bag.py" -o "$TMP/ref.bag" --preset rgb640 \
      --size-mb "$size" --compression none > "$TMP/gen" 2>&1
    n=$(awk '{print $2}' "$TMP/gen")
    if [ "$comp" != none ]; then
      rm -f "$TMP/ref.bag"
      dur=$(awk -v n="$n" 'BEGIN { printf "%.6f", (n - 1) / 30.0 }')
      /usr/bin/python3 "$SRC/tests/data/make_bag.py" -o "$bag" --preset rgb640 \
        --duration "$dur" --compression "$comp" > "$TMP/gen" 2>&1
    else
      mv "$TMP/ref.bag" "$bag"
    fi
    n=$(awk '{print $2}' "$TMP/gen")
    fmb=$(( $(stat -c %s "$bag") / 1048576 ))
    payload=$(awk -v n="$n" 'BEGIN { print n * 921600 / 1048576 }')
    cat "$bag" > /dev/null   # warm the page cache for every reader alike
    set -- $(measure gst-launch-1.0 -q rosbagsrc location="$bag" ! fakesink)
    gw=$1; gr=$2
    set -- $(measure /usr/bin/python3 -c "$PY_RAW" "$bag")
    rw=$1; rr=$2
    echo "rosbagsrc ! fakesink:$gw:$gr" > "$TMP/rows"
    echo "python rosbag raw=True:$rw:$rr" >> "$TMP/rows"
    if [ "${PY_DESER:-1}" != 0 ]; then
      set -- $(measure /usr/bin/python3 -c "$PY_DESER" "$bag")
      echo "python rosbag deserialize:$1:$2" >> "$TMP/rows"
    fi
    while IFS=: read -r name w r; do
      awk -v s="$size" -v c="$comp" -v f="$fmb" -v n="$n" -v name="$name" -v w="$w" -v r="$r" \
        -v p="$payload" -v g="$gw" 'BEGIN {
          printf "| %d MB rgb8 640x480 | %s | %d | %d | %s | %.2f | %.0f | %.1f | %s |\n",
            s, c, f, n, name, w, p / w, r / 1024, (name ~ /^rosbagsrc/) ? "1.00" : sprintf("%.2f", w / g) }'
    done < "$TMP/rows"
    rm -f "$bag"
  done
done
