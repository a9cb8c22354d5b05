#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pipelines/avatar.sh: play a talking-head avatar for hours with bounded
# latency and flat memory. A frame bank in HDF5 (an idle loop plus mouth
# frames, as DH_live / LiveTalking renderers use) is played by hdf5src with
# loop=true and composited; audio comes from a live source in 40 ms chunks
# (16 kHz mono, 640 samples = one video frame at 25 fps); timealign paces the
# video to the audio: every audio chunk is a tick, the video output gets the
# newest composited frame for that tick, so video is exactly 25 fps and on
# the audio's running time.
#
#   hdf5src /idle loop ─┐
#                       ├ compositor ─ clocksync ─────────────────┐
#   hdf5src /mouth loop ┘                                          ├ timealign ─┬ membudget(3 frames) ─ video out
#   audio source (40 ms chunks) ─ membudget(3 chunks, drop oldest) ┘ (ref: audio)└ audio out
#
# Usage:
#   pipelines/avatar.sh [options] BANK.h5
#     --audio test        audiotestsrc, live (default: a dry run, no device)
#     --audio pulse       pulsesrc (microphone / TTS loopback), cut into 40 ms
#                         chunks by audiobuffersplit
#     --duration S        seconds of audio (default 10; pulse: until Ctrl-C)
#     --output auto       autovideosink + autoaudiosink (default)
#     --output FILE.avi   JPEG video + PCM audio in an AVI file
#     --output FILE.h5    video frames and audio chunks into HDF5 (/stream_0 =
#                         video, /stream_1 = audio)
#     --output fake       fakesinks (measuring)
#     --fast              non-live, as fast as possible (sync=false, no
#                         clocksync): for rendering to a file or benchmarks
#     --print             print the gst-launch-1.0 command instead of running
#   BANK.h5 comes from pipelines/make-frame-bank.py (groups /idle and /mouth,
#   root attribute mouth_position = x, y of the mouth patch).
#
# Examples:
#   /usr/bin/python3 pipelines/make-frame-bank.py -o /tmp/bank.h5
#   pipelines/avatar.sh /tmp/bank.h5                          # 10 s on screen
#   pipelines/avatar.sh --fast --duration 60 --output /tmp/a.avi /tmp/bank.h5
#   pipelines/avatar.sh --audio pulse /tmp/bank.h5            # live microphone
#
# From an application, feed TTS audio through a bounded appsrc instead
# (appsrc is-live=true format=time block=true max-bytes=3840 ! ... same
# membudget): see docs/examples/ and docs/pipelines.md.
#
# Memory: the audio membudget keeps at most 3 chunks pending and drops the
# oldest (the users' fix for their 20 GB audio queue; drops are counted and
# posted as QoS; with --fast it blocks instead: offline, nothing is late);
# the video membudget bounds frames in flight to 3; hdf5src
# reads the bank through a bounded pool and loops without caching it; the
# compositor and timealign hold one frame per input. Pitfall: without
# clocksync, the non-live video branch would run unthrottled against a live
# audio clock (docs/pipelines.md); --fast removes it on purpose, with every
# source non-live.
set -eu
. "$(dirname "$0")/lib.sh"

audio=test
duration=""
output=auto
fast=""
print=""
while [ $# -gt 0 ]; do
  case "$1" in
    --audio) audio=${2:?--audio needs test or pulse}; shift 2 ;;
    --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
    --output) output=${2:?--output needs auto, fake or a file}; shift 2 ;;
    --fast) fast=1; shift ;;
    --print) print=1; shift ;;
    -h|--help) mb_help ;;
    -*) mb_die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || mb_die "usage: $mb_prog [options] BANK.h5 (see --help)"
bank=$1
[ -r "$bank" ] || mb_die "cannot read the frame bank $bank (make one: /usr/bin/python3 pipelines/make-frame-bank.py -o $bank)"
case "$audio" in test|pulse) ;; *) mb_die "--audio must be test or pulse" ;; esac
[ "$audio" = pulse ] && [ -n "$fast" ] && mb_die "--fast needs --audio test (a live microphone cannot run faster)"
[ "$audio" = test ] && [ -z "$duration" ] && duration=10
chunks=""
if [ -n "$duration" ]; then
  chunks=$(awk -v d="$duration" 'BEGIN { n = int(d * 25 + 0.5); if (n < 1) exit 1; print n }') ||
    mb_die "--duration takes seconds > 0"
fi

mb_setup_plugin
mb_require hdf5src timealign membudget compositor videoconvert audioconvert

# Bank facts: mouth position and whether frames are JPEG.
info=$(/usr/bin/python3 - "$bank" <<'EOF'
import sys
import h5py
with h5py.File(sys.argv[1], 'r') as f:
    pos = f.attrs.get('mouth_position', (0, 0))
    caps = f['idle'].attrs.get('caps', '')
    if isinstance(caps, bytes):
        caps = caps.decode()
    print(int(pos[0]), int(pos[1]), 'jpeg' if caps.startswith('image/jpeg') else 'raw')
EOF
) || mb_die "$bank is not a frame bank (groups /idle and /mouth; see make-frame-bank.py)"
set -- $info
mx=$1
my=$2
dec=""
if [ "$3" = jpeg ]; then dec="! jpegdec"; mb_require jpegdec; fi

if [ -n "$fast" ]; then
  live=false
  pace=""
  sync=false
  apolicy=block       # rendering offline: every chunk counts, none is late
else
  live=true
  pace="! clocksync"
  sync=true
  apolicy=drop-oldest # live: a late chunk is dropped, never queued up
fi

nb=""
[ -n "$chunks" ] && nb="num-buffers=$chunks"
case "$audio" in
  test) asrc="audiotestsrc is-live=$live wave=sine freq=220 samplesperbuffer=640 $nb ! audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved" ;;
  pulse) mb_require pulsesrc audiobuffersplit
         asrc="pulsesrc $nb ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! audiobuffersplit output-buffer-duration=1/25" ;;
esac

case "$output" in
  auto) mb_require autovideosink autoaudiosink
        vout="videoconvert ! autovideosink sync=$sync"
        aout="audioconvert ! autoaudiosink sync=$sync" ;;
  fake) vout="fakesink sync=$sync"
        aout="fakesink sync=$sync" ;;
  *.avi) mb_require jpegenc avimux
         vout="videoconvert ! video/x-raw,format=I420 ! jpegenc ! queue ! mux.video_0"
         aout="audioconvert ! queue ! mux.audio_0  avimux name=mux ! filesink location=$output" ;;
  *.h5) mb_require hdf5sink
        vout="videoconvert ! video/x-raw,format=RGB ! out.sink_0"
        aout="out.sink_1  hdf5sink name=out location=$output" ;;
  *) mb_die "--output must be auto, fake, FILE.avi or FILE.h5" ;;
esac

# shellcheck disable=SC2086
set -- \
  hdf5src location="$bank" path=/idle loop=true $dec ! videoconvert ! mix.sink_0 \
  hdf5src location="$bank" path=/mouth loop=true $dec ! videoconvert ! mix.sink_1 \
  compositor name=mix sink_1::xpos=$mx sink_1::ypos=$my \
    ! video/x-raw,format=I420,framerate=25/1 $pace ! align.sink_1 \
  $asrc ! membudget max-size-buffers=3 max-size-bytes=0 max-size-time=0 policy=$apolicy ! align.sink_0 \
  timealign name=align reference=sink_0 \
  align.src_1 ! membudget max-size-buffers=3 max-size-bytes=0 max-size-time=0 ! $vout \
  align.src_0 ! queue max-size-buffers=3 max-size-bytes=0 max-size-time=0 ! $aout

mb_run "$print" "$@"
