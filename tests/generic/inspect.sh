#!/bin/sh
# Golden gst-inspect-1.0 dumps: the plugin loads without a warning, and each
# element's properties, pads and signals match tests/inspect/<element>.txt,
# so any drift in the public API shows up as a diff.
# Run with --update (from `meson devenv` or with the test env) to rewrite them.
set -u
src=${MB_SOURCE_ROOT:?run through meson test}
golden="$src/tests/inspect"
status=0

filter() {
  grep -v -E '^\s*(Filename|Version|Source release date|Binary package)\s' |
    sed -e 's/0x[0-9a-f]\{6,\}/0xADDR/g'
}

err=$(gst-inspect-1.0 membound 2>&1 >/dev/null)
if ! gst-inspect-1.0 membound >/dev/null 2>&1; then
  echo "FAIL: gst-inspect-1.0 membound did not find the plugin"; exit 1
fi
if [ -n "$err" ]; then
  echo "FAIL: gst-inspect-1.0 membound printed warnings:"; echo "$err"; status=1
fi

for el in $(echo "${MB_ELEMENTS:-}" | tr ',' ' '); do
  out=$(gst-inspect-1.0 "$el" 2>&1 | filter)
  if [ "${1:-}" = "--update" ]; then
    printf '%s\n' "$out" > "$golden/$el.txt"; echo "updated $golden/$el.txt"; continue
  fi
  if [ ! -f "$golden/$el.txt" ]; then
    echo "FAIL: no golden dump $golden/$el.txt (run tests/generic/inspect.sh --update)"; status=1; continue
  fi
  if ! printf '%s\n' "$out" | diff -u "$golden/$el.txt" -; then
    echo "FAIL: gst-inspect-1.0 $el differs from $golden/$el.txt"; status=1
  else
    echo "ok: $el matches its golden dump"
  fi
done
exit $status
