#!/usr/bin/python3
"""The gst-launch-1.0 lines in stereorectify's documentation run.

Takes every example line of the element's SECTION comment and of
docs/stereorectify.md, replaces a camera source (v4l2src) by 5 buffers of
videotestsrc, points its calibration file names at files generated with
OpenCV / by hand, swaps display sinks for fakesink, and runs it (file
outputs land in a temporary directory).
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibfiles as cf  # noqa: E402

src = os.environ["MB_SOURCE_ROOT"]
tmp = os.path.join(os.environ["MB_TEST_TMPDIR"], "rectify-launch-%d" % os.getpid())
os.makedirs(tmp, exist_ok=True)

files = {
    "stereo.yml": lambda p: cf.write_opencv_stereo(p, "plumb_bob", 1280, 720),
    "camera_info.yaml": lambda p: cf.write_ros_mono(p, "plumb_bob", 1280, 720),
}
left, right = cf.write_ros_pair(tmp, "plumb_bob", 1280, 720)
for name, make in files.items():
    make(os.path.join(tmp, name))

lines = []
with open(os.path.join(src, "gst", "rectify", "gststereorectify.c")) as f:
    for ln in f:
        m = re.match(r"\s*\*\s*(gst-launch-1\.0 .*)$", ln)
        if m:
            lines.append(m.group(1))
with open(os.path.join(src, "docs", "stereorectify.md")) as f:
    text = f.read().replace("\\\n", " ")
    lines += [m.group(0) for m in re.finditer(r"gst-launch-1\.0 [^\n]*", text)]

ran = failed = 0
for line in lines:
    argv = shlex.split(line.replace("v4l2src", "videotestsrc num-buffers=5"))
    out = []
    for a in argv:
        for key in ("calibration=", "left-calibration=", "right-calibration="):
            if a.startswith(key):
                val = a[len(key):]
                if key == "left-calibration=":
                    val = left
                elif key == "right-calibration=":
                    val = right
                else:
                    val = os.path.join(tmp, os.path.basename(val))
                a = key + val
        if a in ("autovideosink", "xvimagesink"):
            a = "fakesink"
        out.append(a)
    r = subprocess.run(out, capture_output=True, text=True, timeout=60, cwd=tmp)
    ran += 1
    ok = r.returncode == 0 and "ERROR" not in r.stdout + r.stderr
    print("%s: %s" % ("ok" if ok else "FAIL", " ".join(out)))
    if not ok:
        failed += 1
        print(r.stdout[-2000:], r.stderr[-2000:])
print("%d lines run, %d failed" % (ran, failed))
if not failed:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failed or ran < 5 else 0)
