#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pipelines/convert.sh: convert one ROS1 bag to HDF5 in bounded memory,
# every topic aligned to a reference camera (or to a fixed rate).
#
#   rosbagsrc ─ pad per topic ─┐           ┌─ membudget ─┐
#                              ├ timealign ┼─ membudget ─┼ hdf5sink
#                              ┘           └─ membudget ─┘
#
# Usage:
#   pipelines/convert.sh [options] BAG OUT.h5
#     --align-to TOPIC   reference topic (default: the first camera topic,
#                        i.e. the first CompressedImage or Image topic)
#     --rate HZ          align to a fixed rate instead (e.g. 10 or 30000/1001)
#     --no-align         store every message as recorded (no timealign)
#     --topics A,B,...   topics to convert (default: all)
#     --tolerance NS     max |alignment error| in ns (default 20000000 = 20 ms;
#                        a tick where a topic has nothing that close is
#                        dropped on every output)
#     --budget BYTES     memory budget shared by all branches (default 64M)
#     --jpeg-quality N   store raw Image topics as JPEG of quality N
#     --print            print the gst-launch-1.0 command instead of running it
#
# Example (a generated sample bag):
#   /usr/bin/python3 tests/data/make_bag.py -o /tmp/s.bag --preset sample --duration 3
#   pipelines/convert.sh /tmp/s.bag /tmp/s.h5
#   /usr/bin/python3 -c "import h5py; h5py.File('/tmp/s.h5').visit(print)"
#
# The plugin is taken from $MB_BUILD/gst, or GST_PLUGIN_PATH, or <repo>/build.
#
# Memory: rosbagsrc reads the bag chunk by chunk through a bounded pool,
# timealign holds only the window needed to decide the next tick, every
# membudget charges the one shared budget (`budget=convert`), and hdf5sink
# writes through its bounded queue. Nothing depends on the bag's size.
#
# Threads and the queue-per-branch rule: rosbagsrc pushes ALL topics from
# ONE streaming thread, in time order (like a demuxer). Anything downstream
# that blocks one pad until another pad gets data — an aggregator (muxers,
# compositor), several sinks prerolling, a tee into such branches — then
# deadlocks, because the thread that would feed the other pad is the blocked
# one. So: every branch after rosbagsrc needs its own thread (a queue, or a
# membudget — it is a queue with a budget). timealign itself never blocks one
# input waiting for another (it decides ticks as soon as time order allows),
# which is why it sits directly on rosbagsrc's pads here; the membudget after
# each timealign output is that branch's thread.
#
# To adapt: add per-pad settings on timealign (e.g. align::sink_1::mode=linear
# for JointState interpolation, ::policy=hold) or on hdf5sink pads
# (sink::sink_0::path=/observations/images/cam_high), or replace hdf5sink with
# any other sink per branch.
set -eu
. "$(dirname "$0")/lib.sh"

align_to=""
rate=""
noalign=""
topics=""
tolerance=20000000
budget=67108864
jpegq=""
print=""
while [ $# -gt 0 ]; do
  case "$1" in
    --align-to) align_to=${2:?--align-to needs a topic}; shift 2 ;;
    --rate) rate=${2:?--rate needs a value}; shift 2 ;;
    --no-align) noalign=1; shift ;;
    --topics) topics=${2:?--topics needs a list}; shift 2 ;;
    --tolerance) tolerance=${2:?--tolerance needs ns}; shift 2 ;;
    --budget) budget=${2:?--budget needs bytes}; shift 2 ;;
    --jpeg-quality) jpegq=${2:?--jpeg-quality needs 1-100}; shift 2 ;;
    --print) print=1; shift ;;
    -h|--help) mb_help ;;
    --) shift; break ;;
    -*) mb_die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || mb_die "usage: $mb_prog [options] BAG OUT.h5 (see --help)"
bag=$1
out=$2
[ -r "$bag" ] || mb_die "cannot read $bag"
[ -n "$rate" ] && [ -n "$align_to" ] && mb_die "--align-to and --rate exclude each other"
case "$budget" in *[!0-9]*|"") mb_die "--budget takes bytes (e.g. 67108864)" ;; esac

mb_setup_plugin
mb_require rosbagsrc membudget hdf5sink
[ -z "$noalign" ] && mb_require timealign

# The bag's topics, types and rosbagsrc pad names ("topic type pad" lines),
# read from rosbagsrc's topic-list (only the bag's tail index is read).
listing=$(/usr/bin/python3 "$(dirname "$0")/bag-topics.py" "$bag") ||
  mb_die "cannot list the topics of $bag"
if [ -n "$topics" ]; then
  sel=""
  for t in $(echo "$topics" | tr ',' ' '); do
    line=$(echo "$listing" | awk -v t="$t" '$1 == t')
    [ -n "$line" ] || mb_die "topic $t is not in $bag"
    sel="$sel$line
"
  done
  listing=$(printf '%s' "$sel")
fi
[ -n "$listing" ] || mb_die "$bag has no topics"
if [ -z "$noalign" ] && [ -z "$rate" ] && [ -z "$align_to" ]; then
  align_to=$(echo "$listing" | awk '$2 == "sensor_msgs/CompressedImage" || $2 == "sensor_msgs/Image" { print $1; exit }')
  [ -n "$align_to" ] || mb_die "no camera topic to align to in $bag: give --align-to TOPIC or --rate HZ"
fi

topic_csv=$(echo "$listing" | awk '{ printf "%s%s", (NR > 1 ? "," : ""), $1 }')
# chunks-in-flight / batch-timeout: each message pins its chunk until
# hdf5sink has written its batch; with few chunks in flight and a long batch
# timeout the source stalls (see docs/pipelines.md).
set -- rosbagsrc name=src location="$bag" topics="$topic_csv" chunks-in-flight=16
if [ -z "$noalign" ]; then
  if [ -n "$rate" ]; then
    set -- "$@" timealign name=align rate="$rate" tolerance="$tolerance"
  else
    set -- "$@" timealign name=align reference="$align_to" tolerance="$tolerance"
  fi
fi
set -- "$@" hdf5sink name=sink location="$out" batch-timeout=50000000
[ -n "$jpegq" ] && set -- "$@" jpeg-quality="$jpegq"
i=0
for pad in $(echo "$listing" | awk '{ print $3 }'); do
  mb="membudget budget=convert budget-bytes=$budget"
  if [ -z "$noalign" ]; then
    set -- "$@" src."$pad" ! align.sink_$i align.src_$i ! $mb ! sink.sink_$i
  else
    set -- "$@" src."$pad" ! $mb ! sink.sink_$i
  fi
  i=$((i + 1))
done

mb_run "$print" "$@"
