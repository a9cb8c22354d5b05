# pipelines/lib.sh: helpers sourced by the job scripts in pipelines/.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Copy these few functions along if you take a script as a template.
#
#   mb_setup_plugin   makes the membound plugin findable: $MB_BUILD/gst if
#                     MB_BUILD is set, else an existing GST_PLUGIN_PATH(_1_0),
#                     else <repo>/build/gst when it holds the plugin.
#   mb_require E...   exits with a clear message unless every element exists.
#   mb_die MSG        prints "<script>: MSG" on stderr and exits 1.
#   mb_launch ARGS    prints the gst-launch-1.0 command (with MB_VERBOSE set)
#                     and runs it with -e (EOS on Ctrl-C: files are finalized).
#   mb_run PRINT ARGS prints the command when PRINT is non-empty, else runs it.
#   mb_help           prints the script's header comment and exits.

mb_prog=$(basename "$0")

mb_die() {
  echo "$mb_prog: $*" >&2
  exit 1
}

mb_setup_plugin() {
  _root=$(cd "$(dirname "$0")/.." && pwd)
  if [ -n "${MB_BUILD:-}" ]; then
    [ -f "$MB_BUILD/gst/libgstmembound.so" ] ||
      mb_die "MB_BUILD=$MB_BUILD holds no gst/libgstmembound.so (build it: meson compile -C $MB_BUILD)"
    GST_PLUGIN_PATH="$(cd "$MB_BUILD" && pwd)/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    export GST_PLUGIN_PATH
  elif [ -z "${GST_PLUGIN_PATH:-}${GST_PLUGIN_PATH_1_0:-}" ] &&
       [ -f "$_root/build/gst/libgstmembound.so" ]; then
    GST_PLUGIN_PATH="$_root/build/gst"
    export GST_PLUGIN_PATH
  fi
}

mb_require() {
  command -v gst-inspect-1.0 >/dev/null 2>&1 ||
    mb_die "gst-inspect-1.0 not found (install gstreamer1.0-tools: scripts/setup-deps)"
  for _e in "$@"; do
    if ! gst-inspect-1.0 --exists --atleast-version=0.0.0 "$_e" 2>/dev/null; then
      case "$_e" in
        rosbagsrc|hdf5sink|hdf5src|timealign|stereorectify|membudget)
          mb_die "element '$_e' is not available: build membound with it (make build, or meson setup build && meson compile -C build) and run from the checkout, or set MB_BUILD=<build dir> or GST_PLUGIN_PATH" ;;
        *)
          mb_die "element '$_e' is not available (a GStreamer plugin package is missing: scripts/setup-deps)" ;;
      esac
    fi
  done
}

mb_launch() {
  if [ -n "${MB_VERBOSE:-}" ]; then
    printf '%s' "gst-launch-1.0 -e" >&2
    for _a in "$@"; do printf ' %s' "$_a" >&2; done
    printf '\n' >&2
  fi
  gst-launch-1.0 -e "$@"
}

mb_run() {
  _print=$1
  shift
  if [ -n "$_print" ]; then
    printf 'gst-launch-1.0 -e'
    for _a in "$@"; do printf ' %s' "$_a"; done
    printf '\n'
    exit 0
  fi
  mb_launch "$@"
}

mb_help() {
  sed -n '3,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit 0
}
