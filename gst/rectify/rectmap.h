/* membound: rectification maths for stereorectify (plain C, no GStreamer).
 *
 * Equivalents of OpenCV's stereoRectify (CALIB_ZERO_DISPARITY, alpha),
 * fisheye::stereoRectify (balance), getOptimalNewCameraMatrix,
 * initUndistortRectifyMap and fisheye::initUndistortRectifyMap, producing
 * the fixed-point maps of remap.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_RECTMAP_H__
#define __MB_RECTMAP_H__

#include "calib.h"
#include "remap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What one view (camera) needs to build its map. */
typedef struct {
  MbDistModel model;
  double K[9];
  double D[MB_CALIB_MAX_D];
  int n_d;
  double R[9];                  /* rectifying rotation */
  double P[9];                  /* new camera matrix (P[:, 0:3]) */
} MbViewParams;

/* stereoRectify with CALIB_ZERO_DISPARITY. alpha < 0: OpenCV's default (no
 * scaling); 0..1: 0 = only valid pixels, 1 = all source pixels. */
void mb_stereo_rectify (const double K1[9], const double *D1, int n_d1,
    const double K2[9], const double *D2, int n_d2, int width, int height,
    const double R[9], const double T[3], double alpha, double R1[9],
    double R2[9], double P1[12], double P2[12]);

/* fisheye::stereoRectify with CALIB_ZERO_DISPARITY and fov_scale 1. */
void mb_fisheye_stereo_rectify (const double K1[9], const double D1[4],
    const double K2[9], const double D2[4], int width, int height,
    const double R[9], const double T[3], double balance, double R1[9],
    double R2[9], double P1[12], double P2[12]);

/* getOptimalNewCameraMatrix (centerPrincipalPoint = false). */
void mb_optimal_new_camera_matrix (const double K[9], const double *D,
    int n_d, int width, int height, double alpha, double newK[9]);

/* fisheye::estimateNewCameraMatrixForUndistortRectify (fov_scale 1). */
void mb_fisheye_new_camera_matrix (const double K[9], const double D[4],
    int width, int height, const double R[9], double balance,
    double newK[9]);

/* Decides each view's parameters for a calibration and per-view image size:
 * uses R1/R2/P1/P2 (or ROS rectification/projection matrices) when given,
 * else runs the matching stereoRectify, else (mono) undistorts with P = K
 * (alpha < 0) or the optimal new camera matrix. Returns the number of views
 * (1 or 2), or -1 with *err set (g_free). */
int mb_rect_views (const MbCalib * calib, int width, int height,
    double alpha, MbViewParams views[2], char **err);

/* Builds the map of a width x height destination. For subsampled planes
 * pass the plane size and sub_x/sub_y = 2 with the chroma siting offsets
 * off_x/off_y in luma pixels (0.5 = centred between luma samples, 0 =
 * co-sited): plane coordinate = (luma coordinate - off) / sub, applied to
 * both the source and the destination camera matrices. */
int mb_rect_build_map (const MbViewParams * view, int width, int height,
    int sub_x, int sub_y, double off_x, double off_y, MbRemapMap * map);

#ifdef __cplusplus
}
#endif
#endif /* __MB_RECTMAP_H__ */
