#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pipelines/record-stereo.sh: record a stereo camera to HDF5 for as long as
# you like, with flat memory: capture → stereorectify → JPEG → hdf5sink,
# flushed every second (a crash or power cut loses at most the last second;
# see docs/hdf5sink.md for what survives).
#
#   v4l2src (side by side L|R, I420) ─ membudget ─ stereorectify ─ hdf5sink (JPEG)
#
# The default path is the cheapest correct one: the camera's frames as I420
# (4:2:0 YUV, what JPEG stores anyway), rectified plane by plane, and encoded
# by hdf5sink's TurboJPEG workers straight from the planes: no RGB
# conversion anywhere (docs/pipelines.md has the CPU cost of each path).
#
# Usage:
#   pipelines/record-stereo.sh [options] OUT.h5
#     --device DEV        side-by-side USB stereo camera (default /dev/video0)
#     --size WxH          the side-by-side frame (default 2560x720)
#     --fps N             (default 30)
#     --calibration FILE  stereo calibration: OpenCV stereo YAML/XML, Kalibr
#                         camchain (default pipelines/calib/stereo-1280x720.yml,
#                         an example: use your own camera's)
#     --quality N         JPEG quality 1-100 (default 85)
#     --format F          raw format taken from the camera and rectified:
#                         I420 (default), NV12, or RGBx (RGB path: costs a
#                         colour conversion before and inside the encoder)
#     --encoder hdf5sink  encode in hdf5sink with TurboJPEG 4:2:0 on worker
#                         threads, from the YUV planes (default), or
#     --encoder jpegenc   stereorectify → jpegenc → hdf5sink (jpegenc must be
#                         fed I420/NV12, not RGB: 3x the bytes otherwise)
#     --frames N          stop after N frames (default: until Ctrl-C; with
#                         --dry-run 300)
#     --dry-run           videotestsrc instead of the camera (no hardware),
#                         live at --fps, pattern=pinwheel
#     --no-live           with --dry-run: videotestsrc not live and membudget
#                         blocking instead of dropping, so every frame is
#                         recorded as fast as the machine goes (the benchmark,
#                         bench/pipelines/bench_record.py, runs this)
#     --pattern P         videotestsrc pattern for --dry-run (default pinwheel;
#                         ball costs ~15 ms per 2560x720 frame to draw)
#     --two-devices L R   two cameras (e.g. /dev/video0 /dev/video2) at WxH
#                         each (default 1280x720): each rectified with its
#                         own camera_info (--left-calibration/
#                         --right-calibration, default pipelines/calib/
#                         left.yaml and right.yaml) and paired by timealign
#                         (nearest frame within half a frame period — two
#                         free-running cameras are out of phase by up to a
#                         period — else the pair is dropped; a pair is
#                         decided at most 500 ms after
#                         its time: timealign latency, which must cover the
#                         frames the membudgets may hold), stored as /stream_0 (left) and
#                         /stream_1 (right)
#     --jetson            the Jetson variant (see below; needs NVIDIA's plugins)
#     --print             print the gst-launch-1.0 command instead of running
#
# Examples:
#   pipelines/record-stereo.sh --dry-run /tmp/rec.h5
#   pipelines/record-stereo.sh --device /dev/video2 --quality 90 ~/rec/session1.h5
#   pipelines/record-stereo.sh --dry-run --two-devices a b /tmp/rec2.h5
#   /usr/bin/python3 -c "import h5py; f = h5py.File('/tmp/rec.h5'); print(f['/stream_0/data'].shape)"
#
# Streams are stored as /stream_0 (and /stream_1), the pads' default paths;
# a launch line can choose them (hdf5sink ... sink_0::path=/stereo), as
# docs/examples/record.py does from Python.
#
# Stopping: Ctrl-C sends EOS (gst-launch-1.0 -e), hdf5sink finalizes the file.
#
# Memory: the membudget after the camera holds at most 4 frames and drops the
# oldest when rectification or the disk falls behind (each drop is counted and
# posted as QoS); hdf5sink's queue is bounded (max-queue-bytes) and the JPEG
# encoders reuse their buffers. Nothing grows with the recording's length.
#
# Jetson variant (nvarguscamerasrc or nvv4l2camerasrc, hardware JPEG):
#   nvarguscamerasrc sensor-id=0 ! 'video/x-raw(memory:NVMM),width=2560,height=720,framerate=30/1'
#     ! nvvidconv ! video/x-raw,format=NV12        (to system memory: stereorectify takes NV12)
#     ! membudget max-size-buffers=4 max-size-bytes=0 max-size-time=0 policy=drop-oldest
#     ! stereorectify calibration=stereo.yml
#     ! nvvidconv ! 'video/x-raw(memory:NVMM),format=I420' ! nvjpegenc quality=85
#     ! hdf5sink location=rec.h5 flush-interval=1000000000
# Documented, not tested here (no Jetson on the build machines): NV12 in
# system memory costs one copy each way; on Orin/Xavier a VPI remap in NVMM
# would avoid it (docs/pipelines.md).
set -eu
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

device=/dev/video0
size=""
fps=30
calib="$here/calib/stereo-1280x720.yml"
lcalib="$here/calib/left.yaml"
rcalib="$here/calib/right.yaml"
quality=85
encoder=hdf5sink
format=I420
frames=""
dry=""
live=1
pattern=pinwheel
two=""
left=""
right=""
jetson=""
print=""
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=${2:?--device needs a path}; shift 2 ;;
    --size) size=${2:?--size needs WxH}; shift 2 ;;
    --fps) fps=${2:?--fps needs a number}; shift 2 ;;
    --calibration) calib=${2:?--calibration needs a file}; shift 2 ;;
    --left-calibration) lcalib=${2:?}; shift 2 ;;
    --right-calibration) rcalib=${2:?}; shift 2 ;;
    --quality) quality=${2:?--quality needs 1-100}; shift 2 ;;
    --encoder) encoder=${2:?--encoder needs hdf5sink or jpegenc}; shift 2 ;;
    --format) format=${2:?--format needs I420, NV12 or RGBx}; shift 2 ;;
    --no-live) live=""; shift ;;
    --pattern) pattern=${2:?--pattern needs a videotestsrc pattern}; shift 2 ;;
    --frames) frames=${2:?--frames needs a count}; shift 2 ;;
    --dry-run) dry=1; shift ;;
    --two-devices) two=1; left=${2:?--two-devices needs LEFT RIGHT}; right=${3:?--two-devices needs LEFT RIGHT}; shift 3 ;;
    --jetson) jetson=1; shift ;;
    --print) print=1; shift ;;
    -h|--help) mb_help ;;
    -*) mb_die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || mb_die "usage: $mb_prog [options] OUT.h5 (see --help)"
out=$1
case "$encoder" in hdf5sink|jpegenc) ;; *) mb_die "--encoder must be hdf5sink or jpegenc" ;; esac
case "$format" in I420|NV12|RGBx) ;; *) mb_die "--format must be I420, NV12 or RGBx" ;; esac
[ "$encoder" = jpegenc ] && [ "$format" = RGBx ] &&
  mb_die "--encoder jpegenc needs --format I420 or NV12 (from RGB, jpegenc writes unsubsampled RGB JPEGs, ~3x the bytes)"
[ -z "$live" ] && [ -z "$dry" ] && mb_die "--no-live needs --dry-run (a camera is live)"
case "$quality" in *[!0-9]*|"") mb_die "--quality takes 1-100" ;; esac
[ -n "$dry" ] && [ -z "$frames" ] && frames=300
if [ -z "$size" ]; then
  if [ -n "$two" ]; then size=1280x720; else size=2560x720; fi
fi
w=${size%x*}
h=${size#*x}
case "$w$h" in *[!0-9]*|"") mb_die "--size takes WxH, e.g. 2560x720" ;; esac
nb=""
[ -n "$frames" ] && nb="num-buffers=$frames"

mb_setup_plugin
flush="flush-interval=1000000000 max-queue-bytes=33554432"
# Live: a late frame is dropped (oldest first, counted). Not live (--no-live):
# the source waits, so that every counted frame is recorded.
if [ -n "$live" ]; then
  islive=true
  budget="membudget max-size-buffers=4 max-size-bytes=0 max-size-time=0 policy=drop-oldest"
else
  islive=false
  budget="membudget max-size-buffers=4 max-size-bytes=0 max-size-time=0 policy=block"
fi

# A camera as a source of raw frames at WxH, format $2.
source_of() { # DEVICE FORMAT
  if [ -n "$dry" ]; then
    echo "videotestsrc is-live=$islive pattern=$pattern $nb ! video/x-raw,format=$2,width=$w,height=$h,framerate=$fps/1"
  else
    echo "v4l2src device=$1 $nb ! videoconvert ! video/x-raw,format=$2,width=$w,height=$h,framerate=$fps/1"
  fi
}

if [ -n "$jetson" ]; then
  mb_require nvarguscamerasrc nvvidconv nvjpegenc stereorectify membudget hdf5sink
  # shellcheck disable=SC2086
  set -- nvarguscamerasrc sensor-id=0 $nb \
    ! "video/x-raw(memory:NVMM),width=$w,height=$h,framerate=$fps/1" \
    ! nvvidconv ! video/x-raw,format=NV12 \
    ! $budget \
    ! stereorectify layout=side-by-side calibration="$calib" \
    ! nvvidconv ! "video/x-raw(memory:NVMM),format=I420" ! nvjpegenc quality="$quality" \
    ! hdf5sink location="$out" $flush
elif [ -n "$two" ]; then
  mb_require stereorectify timealign membudget hdf5sink
  [ -n "$dry" ] || mb_require v4l2src
  fmt=$format
  tol=$((500000000 / fps))
  # shellcheck disable=SC2046,SC2086
  set -- timealign name=align reference=sink_0 tolerance=$tol latency=500000000 \
    hdf5sink name=sink location="$out" jpeg-quality="$quality" $flush \
    $(source_of "$left" $fmt) ! $budget \
      ! stereorectify layout=mono calibration="$lcalib" ! align.sink_0 \
    $(source_of "$right" $fmt) ! $budget \
      ! stereorectify layout=mono calibration="$rcalib" ! align.sink_1 \
    align.src_0 ! sink.sink_0 \
    align.src_1 ! sink.sink_1
else
  mb_require stereorectify membudget hdf5sink
  [ -n "$dry" ] || mb_require v4l2src
  if [ "$encoder" = jpegenc ]; then
    mb_require jpegenc
    # shellcheck disable=SC2046,SC2086
    set -- $(source_of "$device" "$format") \
      ! $budget \
      ! stereorectify layout=side-by-side calibration="$calib" \
      ! jpegenc quality="$quality" \
      ! hdf5sink location="$out" $flush
  else
    # shellcheck disable=SC2046,SC2086
    set -- $(source_of "$device" "$format") \
      ! $budget \
      ! stereorectify layout=side-by-side calibration="$calib" \
      ! hdf5sink location="$out" jpeg-quality="$quality" $flush
  fi
fi

mb_run "$print" "$@"
