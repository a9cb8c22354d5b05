#!/bin/sh
# Cost of hdf5sink's flushes, two builds side by side (e.g. before/after a
# change to the flush path): 40 MB of random bytes as 20 000 vlen rows of
# 2000 bytes, flushed after every batch (flush-interval=0, the worst case)
# and at the default 1 s, three interleaved repeats. Prints wall time and
# file size per run.
#
# Usage: sh bench/hdf5/flush_cost.sh OLD_BUILD/gst NEW_BUILD/gst [DIR]
set -eu
old=$1
new=$2
dir=${3:-/tmp}
in=$dir/flush_cost.bin
out=$dir/flush_cost.h5
[ -f "$in" ] || head -c 40000000 /dev/urandom > "$in"
for rep in 1 2 3; do
  for v in old new; do
    if [ $v = old ]; then p=$old; else p=$new; fi
    for fi in 0 1000000000; do
      rm -f "$out"
      s=$(date +%s.%N)
      GST_PLUGIN_PATH=$p GST_REGISTRY=$dir/flush_cost-$v.bin gst-launch-1.0 -q \
        filesrc location="$in" blocksize=2000 ! hdf5sink location="$out" \
        batch-size=10 flush-interval=$fi stats-interval=0
      e=$(date +%s.%N)
      echo "$v flush-interval=$fi $(echo "$e - $s" | bc) s $(stat -c %s "$out") bytes"
    done
  done
done
rm -f "$in" "$out"
