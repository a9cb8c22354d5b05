#!/usr/bin/python3
"""stereorectify vs OpenCV (Debian's python3-opencv).

For every format (GRAY8, RGB, BGR, RGBA, BGRA, RGBx, BGRx, NV12, I420), every
layout (side-by-side, top-bottom, mono) and every distortion model
(plumb_bob, rational_polynomial, equidistant), a random frame goes through
appsrc ! stereorectify ! appsink and is compared with
cv2.initUndistortRectifyMap (cv2.fisheye.initUndistortRectifyMap for
equidistant) + cv2.remap(INTER_LINEAR, BORDER_CONSTANT) on the same
calibration: |ours - OpenCV| <= 1 on >= 99.9 % of samples and <= 2
everywhere, per plane.

Chroma planes of NV12/I420 are compared at their own resolution against
cv2.remap of the chroma plane with a half-resolution map from the same
OpenCV functions, with the camera matrices mapped to chroma coordinates:
x_c = (x_luma - o) / 2, o = 0.5 for centred siting (jpeg, the default) and
o = 0 for co-sited (mpeg2 is co-sited horizontally), i.e. K_c = S K and
P_c = S P with S = [[1/2, 0, -o_x/2], [0, 1/2, -o_y/2], [0, 0, 1]].

The rectification R1/R2/P1/P2 stereorectify computes when a file has none
is compared with cv2.stereoRectify / cv2.fisheye.stereoRectify /
cv2.getOptimalNewCameraMatrix through the rectify-dump helper (argv[1]).
"""
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np

import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import Gst, GstVideo  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibfiles as cf  # noqa: E402

Gst.init(None)
DUMP = sys.argv[1]
TMP = os.path.join(os.environ.get("MB_TEST_TMPDIR", "/tmp"), "rectify-oracle-%d" % os.getpid())
os.makedirs(TMP, exist_ok=True)
W, H = 320, 240  # small frames keep the test fast; the maths does not depend on size
cf.SIZE[:] = [W, H]
FORMATS = ["GRAY8", "RGB", "BGR", "RGBA", "BGRA", "RGBx", "BGRx", "NV12", "I420"]
PACKED_CN = {"GRAY8": 1, "RGB": 3, "BGR": 3, "RGBA": 4, "BGRA": 4, "RGBx": 4, "BGRx": 4}
BORDER_ARGB = 0xff40a0c0
failures = []
checks = 0


def border_bytes(fmt):
    """Expected border bytes per plane (stereorectify's documented
    conversion: channel order of the format; GRAY8 = BT.601 luma; YUV:
    black -> 16/128/128 in the test, which uses black for YUV)."""
    a, r, g, b = (BORDER_ARGB >> 24) & 255, (BORDER_ARGB >> 16) & 255, (BORDER_ARGB >> 8) & 255, BORDER_ARGB & 255
    chans = {"R": r, "G": g, "B": b, "A": a, "x": 255}
    if fmt == "GRAY8":
        return [(int(0.299 * r + 0.587 * g + 0.114 * b + 0.5),)]
    if fmt in ("NV12", "I420"):
        return [(16,), (128, 128), (128,)]
    return [tuple(chans[c] for c in fmt)]


def make_frame(fmt, fw, fh, seed, extra_caps=""):
    caps = Gst.Caps.from_string("video/x-raw,format=%s,width=%d,height=%d,framerate=30/1%s"
                                % (fmt, fw, fh, extra_caps))
    info = GstVideo.VideoInfo.new_from_caps(caps)
    rng = np.random.default_rng(seed)
    # smooth-ish random texture: random noise plus gradients
    if fmt in PACKED_CN:
        cn = PACKED_CN[fmt]
        planes = [rng.integers(0, 256, (fh, fw, cn), dtype=np.uint8)]
    elif fmt == "NV12":
        planes = [rng.integers(0, 256, (fh, fw, 1), dtype=np.uint8),
                  rng.integers(0, 256, ((fh + 1) // 2, (fw + 1) // 2, 2), dtype=np.uint8)]
    else:
        planes = [rng.integers(0, 256, (fh, fw, 1), dtype=np.uint8),
                  rng.integers(0, 256, ((fh + 1) // 2, (fw + 1) // 2, 1), dtype=np.uint8),
                  rng.integers(0, 256, ((fh + 1) // 2, (fw + 1) // 2, 1), dtype=np.uint8)]
    buf = bytearray(info.size)
    for p, arr in enumerate(planes):
        st, off = info.stride[p], info.offset[p]
        rowbytes = arr.shape[1] * arr.shape[2]
        for y in range(arr.shape[0]):
            buf[off + y * st: off + y * st + rowbytes] = arr[y].tobytes()
    return caps, info, planes, bytes(buf)


def unpack(info, data, like):
    out = []
    for p, arr in enumerate(like):
        st, off = info.stride[p], info.offset[p]
        h, w, cn = arr.shape
        a = np.frombuffer(data, dtype=np.uint8, count=st * (h - 1) + w * cn, offset=off)
        rows = [a[y * st: y * st + w * cn] for y in range(h)]
        out.append(np.stack(rows).reshape(h, w, cn))
    return out


def run_element(caps, data, props):
    pipe = Gst.parse_launch("appsrc name=src format=time ! stereorectify name=r ! appsink name=sink sync=false")
    src, sink, r = pipe.get_by_name("src"), pipe.get_by_name("sink"), pipe.get_by_name("r")
    src.set_property("caps", caps)
    for k, v in props.items():
        r.set_property(k, v)
    pipe.set_state(Gst.State.PLAYING)
    buf = Gst.Buffer.new_wrapped(data)
    buf.pts = 0
    src.emit("push-buffer", buf)
    src.emit("end-of-stream")
    sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
    err = None
    bus = pipe.get_bus()
    msg = bus.pop_filtered(Gst.MessageType.ERROR)
    if msg:
        err = msg.parse_error()[0].message
    out = None
    if sample:
        b = sample.get_buffer()
        ok, m = b.map(Gst.MapFlags.READ)
        out = bytes(m.data)
        b.unmap(m)
    pipe.set_state(Gst.State.NULL)
    return out, err


def cam_maps(view, size, sub, offs, nearest=False):
    model, K, D, R, P = view
    S = np.array([[1.0 / sub, 0, -offs[0] / sub], [0, 1.0 / sub, -offs[1] / sub], [0, 0, 1]])
    Kc, Pc = S @ K, S @ P[:3, :3]
    if model == "equidistant":
        m1, m2 = cv2.fisheye.initUndistortRectifyMap(Kc, np.asarray(D, float).reshape(4, 1), R, Pc, size,
                                                     cv2.CV_16SC2)
    else:
        m1, m2 = cv2.initUndistortRectifyMap(Kc, np.asarray(D, float), R, Pc, size, cv2.CV_16SC2)
    if nearest:
        # nearest = the 1/32-pixel map rounded to a whole pixel (fraction
        # >= 16/32 moves on); cv2.remap INTER_NEAREST with map2=None takes
        # map1 as whole pixels
        m1 = m1.copy()
        m1[:, :, 0] += ((m2 & 31) >= 16).astype(np.int16)
        m1[:, :, 1] += ((m2 >> 5) >= 16).astype(np.int16)
        m2 = None
    return m1, m2


def reference(fmt, planes, layout, views, offs, nearest=False):
    brd = border_bytes(fmt)
    ref = []
    for p, arr in enumerate(planes):
        h, w, cn = arr.shape
        sub = 1 if p == 0 else 2
        out = np.empty_like(arr)
        nv = len(views)
        for v, view in enumerate(views):
            if layout == "side-by-side":
                sl = (slice(None), slice(v * w // nv, (v + 1) * w // nv))
            elif layout == "top-bottom":
                sl = (slice(v * h // nv, (v + 1) * h // nv), slice(None))
            else:
                sl = (slice(None), slice(None))
            part = np.ascontiguousarray(arr[sl])
            ph, pw = part.shape[:2]
            m1, m2 = cam_maps(view, (pw, ph), sub, offs if p else (0, 0), nearest)
            bv = tuple(brd[p]) + (0,) * (4 - len(brd[p]))
            img = part if cn > 1 else part[:, :, 0]
            res = cv2.remap(img, m1, m2, cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=bv)
            out[sl] = res.reshape(ph, pw, cn)
        ref.append(out)
    return ref


def check(name, fmt, fw, fh, layout, views, props, extra_caps="", nearest=False, seed=1):
    global checks
    caps, info, planes, data = make_frame(fmt, fw, fh, seed, extra_caps)
    # chroma siting as GstVideoInfo reads it from the caps (GStreamer picks
    # mpeg2, i.e. horizontally co-sited, by default for larger frames)
    site = int(info.chroma_site)
    offs = (0.0 if site & int(GstVideo.VideoChromaSite.H_COSITED) else 0.5,
            0.0 if site & int(GstVideo.VideoChromaSite.V_COSITED) else 0.5)
    if fmt in ("NV12", "I420"):
        name += " (chroma offsets %g,%g)" % offs
    props = dict(props)
    props.setdefault("border-color", BORDER_ARGB if fmt not in ("NV12", "I420") else 0xff000000)
    out, err = run_element(caps, data, props)
    checks += 1
    if out is None:
        failures.append("%s: no output (%s)" % (name, err))
        print("FAIL %s: no output (%s)" % (name, err))
        return
    ours = unpack(info, out, planes)
    ref = reference(fmt, planes, layout, views, offs, nearest)
    worst = []
    for p, (a, b) in enumerate(zip(ours, ref)):
        d = np.abs(a.astype(np.int16) - b.astype(np.int16))
        frac = float(np.mean(d <= 1))
        worst.append("p%d max %d, <=1 %.5f%%, ==0 %.3f%%" % (p, d.max(), 100 * frac, 100 * np.mean(d == 0)))
        if frac < 0.999 or d.max() > 2:
            failures.append("%s plane %d: max %d, %.4f%% within 1" % (name, p, d.max(), 100 * frac))
    print("%-58s %s" % (name, "; ".join(worst)))


def compare_rect(name, dump_arg, w, h, alpha, expected):
    """rectify-dump (our maths) vs OpenCV's R/P."""
    global checks
    checks += 1
    r = subprocess.run([DUMP, dump_arg, str(w), str(h), str(alpha)], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append("%s: rectify-dump failed: %s" % (name, r.stderr))
        return
    got = json.loads(r.stdout)["views"]
    for v, (Re, Pe) in enumerate(expected):
        Rg = np.array(got[v]["R"]).reshape(3, 3)
        Pg = np.array(got[v]["P"]).reshape(3, 3)
        dR = np.abs(Rg - Re).max()
        dP = np.abs(Pg - np.asarray(Pe)[:3, :3]).max()
        print("%-58s view %d: max |dR| %.2e, max |dP| %.2e px" % (name, v, dR, dP))
        if dR > 1e-9 or dP > 1e-3:
            failures.append("%s view %d: R differs by %g, P by %g" % (name, v, dR, dP))


def stereo_views(model, alpha, kalibr=False, w=W, h=H):
    K1, D1, K2, D2, R, T = cf.kalibr_rig(model, w, h) if kalibr else cf.rig(model, w, h)
    R1, R2, P1, P2 = cf.cv_rectify(model, K1, D1, K2, D2, w, h, R, T, alpha)
    return [(model, K1, D1, R1, P1), (model, K2, D2, R2, P2)]


def main():
    # calibration files
    f = {}
    f["yaml_plumb"] = os.path.join(TMP, "stereo-plumb.yml")          # FileStorage YAML, no R1..
    f["xml_rational"] = os.path.join(TMP, "stereo-rational.xml")     # FileStorage XML, with R1..
    f["kalibr_fish"] = os.path.join(TMP, "camchain-equidistant.yaml")
    f["kalibr_radtan"] = os.path.join(TMP, "camchain-radtan.yaml")
    f["ros_mono_plumb"] = os.path.join(TMP, "mono-plumb.yaml")
    f["ros_mono_fish"] = os.path.join(TMP, "mono-equidistant.yaml")
    f["cv_mono_rational"] = os.path.join(TMP, "mono-rational.xml")
    f["cv_mono_yaml"] = os.path.join(TMP, "mono-plumb.yml")
    cf.write_opencv_stereo(f["yaml_plumb"], "plumb_bob")
    cf.write_opencv_stereo(f["xml_rational"], "rational", with_rect=True, alpha=0.3)
    cf.write_kalibr(f["kalibr_fish"], "equidistant")
    cf.write_kalibr(f["kalibr_radtan"], "plumb_bob")
    cf.write_ros_mono(f["ros_mono_plumb"], "plumb_bob")
    cf.write_ros_mono(f["ros_mono_fish"], "equidistant")
    cf.write_opencv_mono(f["cv_mono_rational"], "rational")
    cf.write_opencv_mono(f["cv_mono_yaml"], "plumb_bob")
    ros_l, ros_r = cf.write_ros_pair(TMP, "plumb_bob", alpha=0.0)
    ros_fl, ros_fr = cf.write_ros_pair(TMP, "equidistant", alpha=0.4)

    # --- 1. rectification maths vs cv2.stereoRectify & co.
    for a in (-1, 0, 0.5, 1):
        v = stereo_views("plumb_bob", a)
        compare_rect("stereoRectify plumb_bob alpha=%g" % a, f["yaml_plumb"], W, H, a,
                     [(x[3], x[4]) for x in v])
    for a in (-1, 0, 0.7):
        v = stereo_views("rational", a)
        fn = os.path.join(TMP, "stereo-rational-norect.yml")
        cf.write_opencv_stereo(fn, "rational")
        compare_rect("stereoRectify rational alpha=%g" % a, fn, W, H, a, [(x[3], x[4]) for x in v])
    for a in (-1, 0.5, 1):
        v = stereo_views("equidistant", a, kalibr=True)
        compare_rect("fisheye.stereoRectify balance=%g" % max(a, 0), f["kalibr_fish"], W, H, a,
                     [(x[3], x[4]) for x in v])
    v = stereo_views("plumb_bob", 0, kalibr=True)
    compare_rect("stereoRectify Kalibr radtan alpha=0", f["kalibr_radtan"], W, H, 0, [(x[3], x[4]) for x in v])
    # vertical rig (baseline along y): stereoRectify's other branch
    fn = os.path.join(TMP, "stereo-vertical.yml")
    Tv = np.array([0.0011, -0.060, 0.0007])
    cf.write_opencv_stereo(fn, "plumb_bob", T=Tv)
    K1, D1, K2, D2, R, _ = cf.rig("plumb_bob")
    for a in (-1, 0.5):
        R1, R2, P1, P2 = cf.cv_rectify("plumb_bob", K1, D1, K2, D2, W, H, R, Tv, a)
        compare_rect("stereoRectify vertical rig alpha=%g" % a, fn, W, H, a, [(R1, P1), (R2, P2)])
    K, D = cf.rig("rational")[0:2]
    for a in (0, 1):
        Pn = cv2.getOptimalNewCameraMatrix(K, D, (W, H), a)[0]
        compare_rect("getOptimalNewCameraMatrix alpha=%g" % a, f["cv_mono_rational"], W, H, a, [(np.eye(3), Pn)])

    f["cv_mono_fish"] = os.path.join(TMP, "mono-fisheye.yml")
    cf.write_opencv_mono(f["cv_mono_fish"], "equidistant")
    K, D = cf.rig("equidistant")[0:2]
    for a in (0, 0.6):
        Pn = cv2.fisheye.estimateNewCameraMatrixForUndistortRectify(K, D.reshape(4, 1), (W, H), np.eye(3),
                                                                    balance=a)
        compare_rect("fisheye.estimateNewCameraMatrix balance=%g" % a, f["cv_mono_fish"], W, H, a,
                     [(np.eye(3), Pn)])
        check("RGBA mono OpenCV fisheye balance=%g" % a, "RGBA", W, H, "mono",
              [("equidistant", K, D, np.eye(3), Pn)], {"calibration": f["cv_mono_fish"], "alpha": float(a)})

    # --- 2. images: every format x layout x model
    models = ["plumb_bob", "rational", "equidistant"]
    for i, fmt in enumerate(FORMATS):
        for m in models:
            # side-by-side (layout property) / top-bottom (caps multiview-mode)
            for layout in ("side-by-side", "top-bottom"):
                if m == "plumb_bob":
                    alpha = [-1, 0, 0.5][i % 3]
                    props = {"calibration": f["yaml_plumb"], "alpha": float(alpha)}
                    views = stereo_views(m, alpha)
                elif m == "rational":
                    props = {"calibration": f["xml_rational"]}
                    views = stereo_views(m, 0.3)
                else:
                    alpha = [-1, 0.5][i % 2]
                    props = {"calibration": f["kalibr_fish"], "alpha": float(alpha)}
                    views = stereo_views(m, alpha, kalibr=True)
                extra = ""
                if layout == "side-by-side":
                    fw, fh = 2 * W, H
                    if i % 2:
                        props["layout"] = "side-by-side"
                    else:
                        extra = ",multiview-mode=side-by-side"
                else:
                    fw, fh = W, 2 * H
                    if i % 2:
                        extra = ",multiview-mode=top-bottom"
                    else:
                        props["layout"] = "top-bottom"
                check("%s %s %s" % (fmt, layout, m), fmt, fw, fh, layout, views, props, extra,
                      seed=i * 10 + len(m))
            # mono
            if m == "plumb_bob":
                K, D = cf.rig(m)[0:2]
                P = np.hstack([K * [[0.9], [0.9], [1]], np.zeros((3, 1))])
                P[0, 2] += 3.0
                views = [(m, K, D, np.eye(3), P)]
                props = {"calibration": f["ros_mono_plumb"]}
            elif m == "rational":
                K, D = cf.rig(m)[0:2]
                alpha = [-1, 0][i % 2]
                P = K if alpha < 0 else cv2.getOptimalNewCameraMatrix(K, D, (W, H), alpha)[0]
                views = [(m, K, D, np.eye(3), P)]
                props = {"calibration": f["cv_mono_rational"], "alpha": float(alpha)}
            else:
                K, D = cf.rig(m)[0:2]
                P = np.hstack([K * [[0.9], [0.9], [1]], np.zeros((3, 1))])
                P[0, 2] += 3.0
                views = [(m, K, D, np.eye(3), P)]
                props = {"left-calibration": f["ros_mono_fish"]}
            check("%s mono %s" % (fmt, m), fmt, W, H, "mono", views, props, seed=i * 7 + len(m))

    # --- 3. other sources and options
    v = stereo_views("plumb_bob", 0.0)
    for fmt in ("BGRx", "NV12"):
        check("%s side-by-side ROS camera_info pair" % fmt, fmt, 2 * W, H, "side-by-side", v,
              {"left-calibration": ros_l, "right-calibration": ros_r})
    v = stereo_views("equidistant", 0.4)
    check("I420 side-by-side ROS camera_info equidistant pair", "I420", 2 * W, H, "side-by-side", v,
          {"left-calibration": ros_fl, "right-calibration": ros_fr})
    v = stereo_views("plumb_bob", -1, kalibr=True)
    check("NV12 top-bottom Kalibr radtan", "NV12", W, 2 * H, "top-bottom", v,
          {"calibration": f["kalibr_radtan"], "layout": "top-bottom"})
    v = stereo_views("plumb_bob", -1)
    check("NV12 side-by-side chroma-site=jpeg n-threads=2", "NV12", 2 * W, H, "side-by-side", v,
          {"calibration": f["yaml_plumb"], "n-threads": 2}, ",chroma-site=jpeg")
    check("RGB side-by-side n-threads=0", "RGB", 2 * W, H, "side-by-side", v,
          {"calibration": f["yaml_plumb"], "n-threads": 0})
    # OpenCV's stereo_calib sample: intrinsics.yml + extrinsics.yml
    intr, extr = os.path.join(TMP, "intrinsics.yml"), os.path.join(TMP, "extrinsics.yml")
    cf.write_opencv_split(intr, extr, "plumb_bob", alpha=0.2)
    check("RGBx side-by-side intrinsics.yml,extrinsics.yml", "RGBx", 2 * W, H, "side-by-side",
          stereo_views("plumb_bob", 0.2), {"calibration": intr + "," + extr})
    # caps say the right camera comes first: regions swap
    check("BGRA side-by-side multiview-flags=right-view-first", "BGRA", 2 * W, H, "side-by-side", v[::-1],
          {"calibration": f["yaml_plumb"]},
          ",multiview-mode=side-by-side,multiview-flags=(GstVideoMultiviewFlagsSet)0x1:0xffffffff")
    check("I420 top-bottom multiview-flags=right-view-first", "I420", W, 2 * H, "top-bottom", v[::-1],
          {"calibration": f["yaml_plumb"]},
          ",multiview-mode=top-bottom,multiview-flags=(GstVideoMultiviewFlagsSet)0x1:0xffffffff")
    K, D = cf.rig("plumb_bob")[0:2]
    check("RGB mono OpenCV YAML mono alpha=-1", "RGB", W, H, "mono", [("plumb_bob", K, D, np.eye(3), K)],
          {"calibration": f["cv_mono_yaml"]})
    # odd width: padded strides
    fn = os.path.join(TMP, "mono-322.yml")
    cf.write_opencv_mono(fn, "plumb_bob", 322, 242)
    K, D = cf.rig("plumb_bob", 322, 242)[0:2]
    for fmt in ("RGB", "GRAY8", "BGRx"):
        check("%s mono 322x242 (padded stride)" % fmt, fmt, 322, 242, "mono",
              [("plumb_bob", K, D, np.eye(3), K)], {"calibration": fn})
    # odd sizes: chroma planes of ceil(size / 2)
    fn = os.path.join(TMP, "mono-321.yml")
    cf.write_opencv_mono(fn, "plumb_bob", 321, 241)
    K, D = cf.rig("plumb_bob", 321, 241)[0:2]
    for fmt in ("I420", "NV12"):
        check("%s mono 321x241 (odd size)" % fmt, fmt, 321, 241, "mono",
              [("plumb_bob", K, D, np.eye(3), K)], {"calibration": fn})
    # nearest: the fixed-point map rounded to the nearest whole pixel
    for fmt in ("RGB", "GRAY8", "I420"):
        check("%s side-by-side nearest" % fmt, fmt, 2 * W, H, "side-by-side", v,
              {"calibration": f["yaml_plumb"], "interpolation": "nearest"}, nearest=True)

    print("%d checks, %d failures" % (checks, len(failures)))
    for fl in failures:
        print("FAIL:", fl)
    if not failures:
        shutil.rmtree(TMP, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
