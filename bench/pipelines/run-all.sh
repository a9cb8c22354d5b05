#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every pipelines benchmark in sequence (the commands recorded in
# docs/benchmarks.md, section pipelines). Usage: sh bench/pipelines/run-all.sh BUILD
# Needs ~12 GB free under $TMPDIR (default /tmp) for the generated bags; each
# script deletes its inputs when done.
set -eu
b=${1:?usage: run-all.sh BUILD}
here=$(dirname "$0")
echo "== conversion, 2 GB Kuavo-like bag, with the Python peer"
sh "$here/bench_convert.sh" "$b" 2048 peer
echo "== conversion peak RSS, 1 GB vs 4 GB"
sh "$here/bench_convert.sh" "$b" 1024 nopeer
sh "$here/bench_convert.sh" "$b" 4096 nopeer
echo "== recording 2560x720"
/usr/bin/python3 "$here/bench_record.py" --build "$b" --frames "${MB_RECORD_FRAMES:-9000}" --peer-frames 600
echo "== avatar, 1 hour of content as fast as possible"
/usr/bin/python3 "$here/bench_avatar.py" --build "$b" --mode fast --seconds 3600
echo "== avatar, live 60 s"
/usr/bin/python3 "$here/bench_avatar.py" --build "$b" --mode live --seconds 60
