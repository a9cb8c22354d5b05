"""Calibration fixtures for the stereorectify oracle tests and benchmark.

Cameras are plausible 640x480 (or scaled) stereo rigs. Files are written by
OpenCV's own cv2.FileStorage (YAML and XML) or by hand in ROS camera_info and
Kalibr camchain form. The expected rectification is always computed with
OpenCV (cv2.stereoRectify, cv2.fisheye.stereoRectify,
cv2.getOptimalNewCameraMatrix), never with membound code.
"""
import os

import cv2
import numpy as np

ZD = cv2.CALIB_ZERO_DISPARITY
# default image size of the fixtures (tests may lower it for speed)
SIZE = [640, 480]


def _size(w, h):
    return (w or SIZE[0], h or SIZE[1])


def rig(model, w=None, h=None):
    """Intrinsics, distortion and extrinsics of a stereo rig for @model."""
    w, h = _size(w, h)
    s = w / 640.0
    if model == "equidistant":
        K1 = np.array([[290.0 * s, 0, 321.5 * s], [0, 291.0 * s, 238.0 * s], [0, 0, 1]])
        K2 = np.array([[292.0 * s, 0, 318.0 * s], [0, 292.5 * s, 243.0 * s], [0, 0, 1]])
        D1 = np.array([-0.012, 0.021, -0.006, 0.0011])
        D2 = np.array([-0.010, 0.018, -0.004, 0.0009])
    elif model == "rational":
        K1 = np.array([[452.0 * s, 0, 322.0 * s], [0, 451.0 * s, 237.5 * s], [0, 0, 1]])
        K2 = np.array([[455.0 * s, 0, 317.5 * s], [0, 454.0 * s, 242.0 * s], [0, 0, 1]])
        D1 = np.array([-0.21, 0.051, 0.0007, -0.0004, 0.002, 0.11, 0.012, 0.0005])
        D2 = np.array([-0.19, 0.043, -0.0005, 0.0003, 0.001, 0.09, 0.010, 0.0004])
    else:  # plumb_bob
        K1 = np.array([[455.0 * s, 0, 319.5 * s], [0, 454.0 * s, 241.0 * s], [0, 0, 1]])
        K2 = np.array([[458.0 * s, 0, 323.0 * s], [0, 457.5 * s, 236.5 * s], [0, 0, 1]])
        D1 = np.array([-0.285, 0.081, 0.0006, -0.0004, -0.009])
        D2 = np.array([-0.279, 0.077, -0.0003, 0.0005, -0.008])
    R, _ = cv2.Rodrigues(np.array([0.012, -0.021, 0.006]))
    T = np.array([-0.060, 0.0012, 0.0007])
    return K1, D1, K2, D2, R, T


def cv_rectify(model, K1, D1, K2, D2, w, h, R, T, alpha):
    """OpenCV's R1, R2, P1, P2 for a rig."""
    if model == "equidistant":
        bal = 0.0 if alpha < 0 else alpha
        R1, R2, P1, P2, _ = cv2.fisheye.stereoRectify(
            K1, D1.reshape(4, 1), K2, D2.reshape(4, 1), (w, h), R, T.reshape(3, 1),
            ZD, newImageSize=(w, h), balance=bal, fov_scale=1.0)
    else:
        R1, R2, P1, P2, _, _, _ = cv2.stereoRectify(
            K1, D1, K2, D2, (w, h), R, T, flags=ZD, alpha=alpha)
    return R1, R2, P1, P2


def write_opencv_stereo(path, model, w=None, h=None, with_rect=False, alpha=-1, T=None):
    w, h = _size(w, h)
    K1, D1, K2, D2, R, T0 = rig(model, w, h)
    T = T0 if T is None else np.asarray(T, dtype=np.float64)
    fs = cv2.FileStorage(path, cv2.FILE_STORAGE_WRITE)
    fs.write("image_width", w)
    fs.write("image_height", h)
    fs.write("M1", K1)
    fs.write("D1", D1.reshape(1, -1))
    fs.write("M2", K2)
    fs.write("D2", D2.reshape(1, -1))
    fs.write("R", R)
    fs.write("T", T.reshape(3, 1))
    if model == "equidistant":
        fs.write("distortion_model", "fisheye")
    if with_rect:
        R1, R2, P1, P2 = cv_rectify(model, K1, D1, K2, D2, w, h, R, T, alpha)
        fs.write("R1", R1)
        fs.write("R2", R2)
        fs.write("P1", P1)
        fs.write("P2", P2)
    fs.release()


def write_opencv_split(intr, extr, model, w=None, h=None, alpha=-1):
    """OpenCV's samples/cpp/stereo_calib.cpp layout: intrinsics.yml (M1 D1
    M2 D2) and extrinsics.yml (R T R1 R2 P1 P2 Q), no image size."""
    w, h = _size(w, h)
    K1, D1, K2, D2, R, T = rig(model, w, h)
    R1, R2, P1, P2 = cv_rectify(model, K1, D1, K2, D2, w, h, R, T, alpha)
    fs = cv2.FileStorage(intr, cv2.FILE_STORAGE_WRITE)
    for k, v in (("M1", K1), ("D1", D1.reshape(1, -1)), ("M2", K2), ("D2", D2.reshape(1, -1))):
        fs.write(k, v)
    fs.release()
    fs = cv2.FileStorage(extr, cv2.FILE_STORAGE_WRITE)
    for k, v in (("R", R), ("T", T.reshape(3, 1)), ("R1", R1), ("R2", R2), ("P1", P1), ("P2", P2),
                 ("Q", np.eye(4))):
        fs.write(k, v)
    fs.release()


def write_opencv_mono(path, model, w=None, h=None):
    w, h = _size(w, h)
    K1, D1, _, _, _, _ = rig(model, w, h)
    fs = cv2.FileStorage(path, cv2.FILE_STORAGE_WRITE)
    fs.write("image_width", w)
    fs.write("image_height", h)
    fs.write("camera_matrix", K1)
    fs.write("distortion_coefficients", D1.reshape(-1, 1))
    if model == "equidistant":
        fs.write("distortion_model", "fisheye")
    fs.write("avg_reprojection_error", 0.21)
    fs.release()


def _ros_mat(name, rows, cols, m):
    vals = ", ".join("%.17g" % v for v in np.asarray(m, dtype=np.float64).ravel())
    return "%s:\n  rows: %d\n  cols: %d\n  data: [%s]\n" % (name, rows, cols, vals)


ROS_NAMES = {"plumb_bob": "plumb_bob", "rational": "rational_polynomial",
             "equidistant": "equidistant"}


def write_ros(path, model, K, D, Rr, P, w, h, name="camera"):
    """A ROS camera_info YAML, written by hand as camera_calibration_parsers
    does."""
    with open(path, "w") as f:
        f.write("image_width: %d\nimage_height: %d\ncamera_name: %s\n" % (w, h, name))
        f.write(_ros_mat("camera_matrix", 3, 3, K))
        f.write("distortion_model: %s\n" % ROS_NAMES[model])
        f.write(_ros_mat("distortion_coefficients", 1, len(D), D))
        f.write(_ros_mat("rectification_matrix", 3, 3, Rr))
        f.write(_ros_mat("projection_matrix", 3, 4, P))


def write_ros_pair(dirname, model, w=None, h=None, alpha=0.0):
    w, h = _size(w, h)
    K1, D1, K2, D2, R, T = rig(model, w, h)
    R1, R2, P1, P2 = cv_rectify(model, K1, D1, K2, D2, w, h, R, T, alpha)
    left = os.path.join(dirname, "left-%s.yaml" % model)
    right = os.path.join(dirname, "right-%s.yaml" % model)
    write_ros(left, model, K1, D1, R1, P1, w, h, "left")
    write_ros(right, model, K2, D2, R2, P2, w, h, "right")
    return left, right


def write_ros_mono(path, model, w=None, h=None):
    w, h = _size(w, h)
    K1, D1, _, _, _, _ = rig(model, w, h)
    P = np.hstack([K1 * [[0.9], [0.9], [1]], np.zeros((3, 1))])
    P[0, 2] += 3.0
    Rr, _ = cv2.Rodrigues(np.array([0.0, 0.0, 0.0]))
    write_ros(path, model, K1, D1, Rr, P, w, h, "mono")


def write_kalibr(path, model, w=None, h=None):
    w, h = _size(w, h)
    K1, D1, K2, D2, R, T = rig(model, w, h)
    dm = "equidistant" if model == "equidistant" else "radtan"
    Tm = np.eye(4)
    Tm[:3, :3] = R
    Tm[:3, 3] = T
    with open(path, "w") as f:
        for i, (K, D) in enumerate([(K1, D1), (K2, D2)]):
            f.write("cam%d:\n" % i)
            if i == 1:
                f.write("  T_cn_cnm1:\n")
                for row in Tm:
                    f.write("  - [%s]\n" % ", ".join("%.17g" % v for v in row))
            f.write("  cam_overlaps: [%d]\n" % (1 - i))
            f.write("  camera_model: pinhole\n")
            f.write("  distortion_coeffs: [%s]\n" % ", ".join("%.17g" % v for v in D[:4]))
            f.write("  distortion_model: %s\n" % dm)
            f.write("  intrinsics: [%.17g, %.17g, %.17g, %.17g]\n"
                    % (K[0, 0], K[1, 1], K[0, 2], K[1, 2]))
            f.write("  resolution: [%d, %d]\n" % (w, h))
            f.write("  rostopic: /cam%d/image_raw\n" % i)


def kalibr_rig(model, w=None, h=None):
    """The rig as a Kalibr file holds it (radtan: 4 coefficients)."""
    w, h = _size(w, h)
    K1, D1, K2, D2, R, T = rig(model, w, h)
    return K1, D1[:4], K2, D2[:4], R, T
