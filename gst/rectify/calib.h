/* membound: camera calibration file parsers for stereorectify.
 *
 * Plain C + GLib (no GStreamer). Reads:
 *  - OpenCV FileStorage YAML (%YAML:1.0, !!opencv-matrix) and XML
 *    (opencv_storage, type_id="opencv-matrix"): stereo files with
 *    M1/D1/M2/D2 (or K1/D1/K2/D2), R, T and optionally R1/R2/P1/P2, and
 *    mono files with camera_matrix/distortion_coefficients (or
 *    cameraMatrix/distCoeffs);
 *  - ROS camera_info YAML (camera_matrix, distortion_model,
 *    distortion_coefficients, rectification_matrix, projection_matrix);
 *  - Kalibr camchain YAML (cam0/cam1, pinhole, radtan/equidistant,
 *    T_cn_cnm1).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_CALIB_H__
#define __MB_CALIB_H__

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  MB_DIST_NONE = 0,
  MB_DIST_PLUMB_BOB,            /* k1 k2 p1 p2 [k3]; also Kalibr radtan */
  MB_DIST_RATIONAL,             /* k1 k2 p1 p2 k3 k4 k5 k6 */
  MB_DIST_EQUIDISTANT           /* fisheye k1 k2 k3 k4 */
} MbDistModel;

#define MB_CALIB_MAX_D 14

typedef struct {
  int width, height;            /* 0 when the file does not say */
  double K[9];                  /* row-major 3x3 */
  double D[MB_CALIB_MAX_D];
  int n_d;
  MbDistModel model;
  int has_rect;                 /* R and P below are valid */
  double R[9];                  /* rectification rotation (R1 / R2) */
  double P[12];                 /* 3x4 projection (P1 / P2) */
} MbCamCalib;

typedef struct {
  int n_cams;                   /* 1 (mono) or 2 (stereo) */
  MbCamCalib cam[2];
  int has_extrinsics;           /* R, T: X_cam1 = R X_cam0 + T */
  double R[9];
  double T[3];
} MbCalib;

/* Which format a file was recognised as (for messages). */
const char *mb_calib_format_name (int format);

/* Parses a calibration held in memory. @name is used in error messages
 * (usually the file name). Returns 0 on success; on failure returns -1 and
 * sets *err to a newly allocated message (free with g_free) naming @name
 * and what was wrong. On success *format (if not NULL) receives the format
 * id (see mb_calib_format_name). */
int mb_calib_parse (const char *data, size_t len, const char *name,
    MbCalib * out, int *format, char **err);

/* Reads and parses one file (stereo or mono). A comma-separated list that
 * is not itself a file name goes to mb_calib_load_merged. */
int mb_calib_load_file (const char *path, MbCalib * out, char **err);

/* Reads comma-separated files whose top-level keys together make one
 * calibration, e.g. OpenCV's "intrinsics.yml,extrinsics.yml" (up to 8). */
int mb_calib_load_merged (const char *paths, MbCalib * out, char **err);

/* Reads two single-camera files (e.g. ROS camera_info left/right) into one
 * stereo calibration. */
int mb_calib_load_pair (const char *left, const char *right, MbCalib * out,
    char **err);

#ifdef __cplusplus
}
#endif
#endif /* __MB_CALIB_H__ */
