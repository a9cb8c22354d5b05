/* Unit tests of the rectify core (calibration parsers, rectification maths,
 * remap kernels) and GstHarness tests of the stereorectify element (errors
 * before data flows, identity, runtime calibration change).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "common/mbcommon.h"
#include "calib.h"
#include "rectmap.h"
#include "remap.h"

static gchar *tmpdir;

static gchar *
write_tmp (const gchar * name, const gchar * text)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);
  fail_unless (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* ------------------------------------------------------------ parsers */

static const gchar *OPENCV_YAML =
    "%YAML:1.0\n---\nimage_width: 640\nimage_height: 480\n"
    "M1: !!opencv-matrix\n   rows: 3\n   cols: 3\n   dt: d\n"
    "   data: [ 455., 0., 319.5, 0., 454., 241., 0., 0., 1. ]\n"
    "D1: !!opencv-matrix\n   rows: 1\n   cols: 5\n   dt: d\n"
    "   data: [ -2.85e-01, 8.1e-02, 6.e-04, -4.e-04, -9.e-03 ]\n"
    "M2: !!opencv-matrix\n   rows: 3\n   cols: 3\n   dt: d\n"
    "   data: [ 458., 0., 323., 0., 457.5, 236.5, 0., 0., 1. ]\n"
    "D2: !!opencv-matrix\n   rows: 1\n   cols: 5\n   dt: d\n"
    "   data: [ -0.279, 0.077, -3.e-04, 5.e-04, -0.008 ]\n"
    "R: !!opencv-matrix\n   rows: 3\n   cols: 3\n   dt: d\n"
    "   data: [ 0.99975, -0.00623, -0.02092, 0.00598, 0.99991, -0.01206,\n"
    "       0.02099, 0.01193, 0.99971 ]\n"
    "T: !!opencv-matrix\n   rows: 3\n   cols: 1\n   dt: d\n"
    "   data: [ -0.06, 1.2e-03, 7.e-04 ]\n";

static const gchar *OPENCV_XML =
    "<?xml version=\"1.0\"?>\n<opencv_storage>\n"
    "<imageSize>640 480</imageSize>\n"
    "<K1 type_id=\"opencv-matrix\"><rows>3</rows><cols>3</cols><dt>d</dt>\n"
    "  <data>455. 0. 319.5 0. 454. 241. 0. 0. 1.</data></K1>\n"
    "<D1 type_id=\"opencv-matrix\"><rows>1</rows><cols>8</cols><dt>d</dt>\n"
    "  <data>-0.2 0.05 0 0 0.001 0.1 0.01 0</data></D1>\n"
    "<K2 type_id=\"opencv-matrix\"><rows>3</rows><cols>3</cols><dt>d</dt>\n"
    "  <data>458. 0. 323. 0. 457.5 236.5 0. 0. 1.</data></K2>\n"
    "<D2 type_id=\"opencv-matrix\"><rows>1</rows><cols>8</cols><dt>d</dt>\n"
    "  <data>-0.2 0.05 0 0 0.001 0.1 0.01 0</data></D2>\n"
    "<R type_id=\"opencv-matrix\"><rows>3</rows><cols>3</cols><dt>d</dt>\n"
    "  <data>1 0 0 0 1 0 0 0 1</data></R>\n"
    "<T type_id=\"opencv-matrix\"><rows>3</rows><cols>1</cols><dt>d</dt>\n"
    "  <data>-0.06 0 0</data></T>\n"
    "<R1 type_id=\"opencv-matrix\"><rows>3</rows><cols>3</cols><dt>d</dt>\n"
    "  <data>1 0 0 0 1 0 0 0 1</data></R1>\n"
    "<R2 type_id=\"opencv-matrix\"><rows>3</rows><cols>3</cols><dt>d</dt>\n"
    "  <data>1 0 0 0 1 0 0 0 1</data></R2>\n"
    "<P1 type_id=\"opencv-matrix\"><rows>3</rows><cols>4</cols><dt>d</dt>\n"
    "  <data>400 0 320 0 0 400 240 0 0 0 1 0</data></P1>\n"
    "<P2 type_id=\"opencv-matrix\"><rows>3</rows><cols>4</cols><dt>d</dt>\n"
    "  <data>400 0 320 -24 0 400 240 0 0 0 1 0</data></P2>\n"
    "</opencv_storage>\n";

static const gchar *ROS_YAML =
    "image_width: 640\nimage_height: 480\ncamera_name: left\n"
    "camera_matrix:\n  rows: 3\n  cols: 3\n"
    "  data: [455, 0, 319.5, 0, 454, 241, 0, 0, 1]\n"
    "distortion_model: rational_polynomial\n"
    "distortion_coefficients:\n  rows: 1\n  cols: 8\n"
    "  data: [-0.2, 0.05, 0, 0, 0.001, 0.1, 0.01, 0]\n"
    "rectification_matrix:\n  rows: 3\n  cols: 3\n"
    "  data: [1, 0, 0, 0, 1, 0, 0, 0, 1]\n"
    "projection_matrix:\n  rows: 3\n  cols: 4\n"
    "  data: [400, 0, 320, 0, 0, 400, 240, 0, 0, 0, 1, 0]\n";

static const gchar *KALIBR_YAML =
    "cam0:\n  camera_model: pinhole\n  distortion_coeffs: [-0.01, 0.02, "
    "-0.006, 0.001]\n  distortion_model: equidistant\n"
    "  intrinsics: [290, 291, 321.5, 238]\n  resolution: [640, 480]\n"
    "  rostopic: /cam0/image_raw\n"
    "cam1:\n  T_cn_cnm1:\n  - [1, 0, 0, -0.06]\n  - [0, 1, 0, 0.001]\n"
    "  - [0, 0, 1, 0.002]\n  - [0, 0, 0, 1]\n  camera_model: pinhole\n"
    "  distortion_coeffs: [-0.01, 0.018, -0.004, 0.0009]\n"
    "  distortion_model: equidistant\n  intrinsics: [292, 292.5, 318, 243]\n"
    "  resolution: [640, 480]\n  rostopic: /cam1/image_raw\n";

static MbCalib
parse_ok (const gchar * text)
{
  MbCalib c;
  gchar *err = NULL;
  int r = mb_calib_parse (text, strlen (text), "test.yml", &c, NULL, &err);
  fail_unless (r == 0, "parse failed: %s", err);
  g_free (err);
  return c;
}

static gchar *
parse_err (const gchar * text)
{
  MbCalib c;
  gchar *err = NULL;
  int r = mb_calib_parse (text, strlen (text), "bad.yml", &c, NULL, &err);
  fail_unless (r != 0, "parse of a bad file succeeded");
  fail_unless (err != NULL);
  fail_unless (strstr (err, "bad.yml") != NULL, "error '%s' does not name "
      "the file", err);
  return err;
}

GST_START_TEST (test_parse_opencv_yaml)
{
  MbCalib c = parse_ok (OPENCV_YAML);

  fail_unless_equals_int (c.n_cams, 2);
  fail_unless_equals_int (c.cam[0].width, 640);
  fail_unless_equals_int (c.cam[1].height, 480);
  fail_unless_equals_float (c.cam[0].K[0], 455.0);
  fail_unless_equals_float (c.cam[1].K[5], 236.5);
  fail_unless_equals_int (c.cam[0].n_d, 5);
  fail_unless_equals_int (c.cam[0].model, MB_DIST_PLUMB_BOB);
  fail_unless_equals_float (c.cam[0].D[4], -9e-3);
  fail_unless (c.has_extrinsics);
  fail_unless_equals_float (c.T[0], -0.06);
  fail_unless_equals_float (c.R[8], 0.99971);
  fail_if (c.cam[0].has_rect);
}

GST_END_TEST;

GST_START_TEST (test_parse_opencv_xml)
{
  MbCalib c = parse_ok (OPENCV_XML);

  fail_unless_equals_int (c.n_cams, 2);
  fail_unless_equals_int (c.cam[0].width, 640);
  fail_unless_equals_int (c.cam[0].model, MB_DIST_RATIONAL);
  fail_unless_equals_int (c.cam[1].n_d, 8);
  fail_unless (c.cam[0].has_rect && c.cam[1].has_rect);
  fail_unless_equals_float (c.cam[1].P[3], -24.0);
  fail_unless_equals_float (c.cam[0].P[6], 240.0);
}

GST_END_TEST;

GST_START_TEST (test_parse_ros)
{
  MbCalib c = parse_ok (ROS_YAML);

  fail_unless_equals_int (c.n_cams, 1);
  fail_unless_equals_int (c.cam[0].model, MB_DIST_RATIONAL);
  fail_unless (c.cam[0].has_rect);
  fail_unless_equals_float (c.cam[0].P[0], 400.0);
  fail_unless_equals_int (c.cam[0].width, 640);
}

GST_END_TEST;

GST_START_TEST (test_parse_kalibr)
{
  MbCalib c = parse_ok (KALIBR_YAML);

  fail_unless_equals_int (c.n_cams, 2);
  fail_unless_equals_int (c.cam[0].model, MB_DIST_EQUIDISTANT);
  fail_unless_equals_float (c.cam[0].K[0], 290.0);
  fail_unless_equals_float (c.cam[0].K[4], 291.0);
  fail_unless_equals_float (c.cam[0].K[2], 321.5);
  fail_unless_equals_float (c.cam[1].K[5], 243.0);
  fail_unless (c.has_extrinsics);
  fail_unless_equals_float (c.T[0], -0.06);
  fail_unless_equals_float (c.T[2], 0.002);
  fail_unless_equals_float (c.R[4], 1.0);
  fail_unless_equals_int (c.cam[1].width, 640);
}

GST_END_TEST;

GST_START_TEST (test_parse_errors)
{
  gchar *e, *t;

  e = parse_err ("%YAML:1.0\n---\nM1: [1, 2\n");
  fail_unless (strstr (e, "invalid YAML") != NULL, "%s", e);
  g_free (e);

  /* M2 missing */
  t = g_strdup (OPENCV_YAML);
  *strstr (t, "M2:") = 'X';
  e = parse_err (t);
  fail_unless (strstr (e, "M2") != NULL, "%s", e);
  g_free (e);
  g_free (t);

  /* wrong number of values */
  e = parse_err ("camera_matrix: [1, 0, 0, 0, 1, 0, 0, 0]\n");
  fail_unless (strstr (e, "8 values, expected 9") != NULL, "%s", e);
  g_free (e);

  /* not a number */
  e = parse_err ("camera_matrix: [1, 0, x, 0, 1, 0, 0, 0, 1]\n");
  fail_unless (strstr (e, "not a list of numbers") != NULL, "%s", e);
  g_free (e);

  /* unsupported model */
  t = g_strdup (ROS_YAML);
  memcpy (strstr (t, "rational_polynomial"), "omniXXXXXXXXXXXXXXX", 19);
  e = parse_err (t);
  fail_unless (strstr (e, "unsupported distortion_model") != NULL, "%s", e);
  g_free (e);
  g_free (t);

  /* fisheye needs 4 coefficients */
  e = parse_err ("cam0:\n  camera_model: pinhole\n  intrinsics: [1, 1, 0, 0]\n"
      "  distortion_model: equidistant\n  distortion_coeffs: [0, 0, 0]\n");
  fail_unless (strstr (e, "4 distortion") != NULL, "%s", e);
  g_free (e);

  /* unknown content, bad XML, empty, camera matrix not a camera matrix */
  e = parse_err ("foo: 1\n");
  fail_unless (strstr (e, "not a recognised calibration") != NULL, "%s", e);
  g_free (e);
  e = parse_err ("<opencv_storage><M1>1 2</M2></opencv_storage>");
  fail_unless (strstr (e, "invalid XML") != NULL, "%s", e);
  g_free (e);
  e = parse_err ("");
  g_free (e);
  e = parse_err ("camera_matrix: [0, 0, 0, 0, 1, 0, 0, 0, 1]\n");
  fail_unless (strstr (e, "not a camera matrix") != NULL, "%s", e);
  g_free (e);
  /* aliases must not loop */
  e = parse_err ("a: &x [*x]\ncamera_matrix: *x\n");
  g_free (e);
}

GST_END_TEST;

GST_START_TEST (test_load_files)
{
  MbCalib c;
  gchar *err = NULL, *l, *r, *other;
  gchar *missing = g_build_filename (tmpdir, "does-not-exist.yml", NULL);

  fail_unless (mb_calib_load_file (missing, &c, &err) != 0);
  fail_unless (strstr (err, missing) != NULL && strstr (err, "cannot read"),
      "%s", err);
  g_free (err);

  l = write_tmp ("l.yaml", ROS_YAML);
  r = write_tmp ("r.yaml", ROS_YAML);
  fail_unless (mb_calib_load_pair (l, r, &c, &err) == 0, "%s", err);
  fail_unless_equals_int (c.n_cams, 2);

  other = g_strdup (ROS_YAML);
  memcpy (strstr (other, "480"), "482", 3);
  g_free (r);
  r = write_tmp ("r2.yaml", other);
  fail_unless (mb_calib_load_pair (l, r, &c, &err) != 0);
  fail_unless (strstr (err, "640x480 vs 640x482") != NULL, "%s", err);
  g_free (err);

  /* a stereo file is not a per-camera file */
  g_free (r);
  r = write_tmp ("stereo.yml", OPENCV_YAML);
  fail_unless (mb_calib_load_pair (l, r, &c, &err) != 0);
  fail_unless (strstr (err, "right-calibration must describe one camera"),
      "%s", err);
  g_free (err);
  /* OpenCV's intrinsics.yml + extrinsics.yml given as one list */
  {
    gchar *intr = write_tmp ("intrinsics.yml", "%YAML:1.0\n---\n"
        "M1: [455, 0, 319.5, 0, 454, 241, 0, 0, 1]\nD1: [0, 0, 0, 0, 0]\n"
        "M2: [455, 0, 319.5, 0, 454, 241, 0, 0, 1]\nD2: [0, 0, 0, 0, 0]\n");
    gchar *extr = write_tmp ("extrinsics.yml", "%YAML:1.0\n---\n"
        "R: [1, 0, 0, 0, 1, 0, 0, 0, 1]\nT: [-0.06, 0, 0]\n");
    gchar *dup = write_tmp ("dup.yml", "R: [1, 0, 0, 0, 1, 0, 0, 0, 1]\n");
    gchar *list = g_strdup_printf ("%s,%s", intr, extr);
    fail_unless (mb_calib_load_file (list, &c, &err) == 0, "%s", err);
    fail_unless_equals_int (c.n_cams, 2);
    fail_unless (c.has_extrinsics);
    fail_unless_equals_float (c.T[0], -0.06);
    g_free (list);
    list = g_strdup_printf ("%s,%s,%s", intr, extr, dup);
    fail_unless (mb_calib_load_file (list, &c, &err) != 0);
    fail_unless (strstr (err, "dup.yml") && strstr (err, "'R' is also"),
        "%s", err);
    g_free (err);
    g_free (list);
    list = g_strdup_printf ("%s,%s", intr, missing);
    fail_unless (mb_calib_load_file (list, &c, &err) != 0);
    fail_unless (strstr (err, missing) != NULL, "%s", err);
    g_free (err);
    g_free (list);
    g_free (intr);
    g_free (extr);
    g_free (dup);
  }
  g_free (other);
  g_free (l);
  g_free (r);
  g_free (missing);
}

GST_END_TEST;

/* -------------------------------------------------------------- maths */

GST_START_TEST (test_stereo_rectify_properties)
{
  MbCalib c = parse_ok (OPENCV_YAML);
  MbViewParams v[2];
  gchar *err = NULL;
  int i, j, k, n;

  n = mb_rect_views (&c, 640, 480, 0.0, v, &err);
  fail_unless_equals_int (n, 2);
  for (k = 0; k < 2; k++) {
    /* R orthonormal */
    for (i = 0; i < 3; i++)
      for (j = 0; j < 3; j++) {
        double d = v[k].R[i * 3] * v[k].R[j * 3] +
            v[k].R[i * 3 + 1] * v[k].R[j * 3 + 1] +
            v[k].R[i * 3 + 2] * v[k].R[j * 3 + 2];
        fail_unless (fabs (d - (i == j)) < 1e-12);
      }
  }
  /* zero disparity: same focal length and principal point */
  fail_unless_equals_float (v[0].P[0], v[1].P[0]);
  fail_unless_equals_float (v[0].P[4], v[1].P[4]);
  fail_unless_equals_float (v[0].P[2], v[1].P[2]);
  fail_unless_equals_float (v[0].P[5], v[1].P[5]);
  fail_unless (v[0].P[0] > 300 && v[0].P[0] < 600);

  /* mono with P = K when alpha < 0 */
  c = parse_ok ("camera_matrix: [455, 0, 319.5, 0, 454, 241, 0, 0, 1]\n"
      "distortion_coefficients: [-0.2, 0.05, 0, 0, 0]\n");
  n = mb_rect_views (&c, 640, 480, -1, v, &err);
  fail_unless_equals_int (n, 1);
  fail_unless (memcmp (v[0].P, c.cam[0].K, sizeof (v[0].P)) == 0);
}

GST_END_TEST;

GST_START_TEST (test_identity_map)
{
  MbViewParams v;
  MbRemapMap m;
  int i;

  memset (&v, 0, sizeof (v));
  v.model = MB_DIST_NONE;
  v.K[0] = v.K[4] = 500;
  v.K[2] = 320;
  v.K[5] = 240;
  v.K[8] = 1;
  memcpy (v.P, v.K, sizeof (v.P));
  v.R[0] = v.R[4] = v.R[8] = 1;
  fail_unless (mb_rect_build_map (&v, 64, 48, 1, 1, 0, 0, &m) == 0);
  for (i = 0; i < 64 * 48; i++) {
    fail_unless_equals_int (m.xy[2 * i], i % 64);
    fail_unless_equals_int (m.xy[2 * i + 1], i / 64);
    fail_unless_equals_int (m.idx[i], 0);
  }
  mb_remap_map_free (&m);
  /* half resolution chroma map of the identity: identity again */
  fail_unless (mb_rect_build_map (&v, 32, 24, 2, 2, 0.5, 0.5, &m) == 0);
  for (i = 0; i < 32 * 24; i++) {
    fail_unless_equals_int (m.xy[2 * i], i % 32);
    fail_unless_equals_int (m.idx[i], 0);
  }
  mb_remap_map_free (&m);
}

GST_END_TEST;

/* Straightforward reference of the documented bilinear + border rule. */
static guint8
ref_px (const guint8 * s, int w, int h, int stride, int cn, int c, int sx,
    int sy, int fi, const guint8 * border)
{
  int fx = fi & 31, fy = fi >> 5, dy, dx, acc = 0;
  int wts[2][2] = { {(32 - fx) * (32 - fy), fx * (32 - fy)},
  {(32 - fx) * fy, fx * fy}
  };
  for (dy = 0; dy < 2; dy++)
    for (dx = 0; dx < 2; dx++) {
      int x = sx + dx, y = sy + dy;
      int p = (x >= 0 && x < w && y >= 0 && y < h) ? s[y * stride + x * cn +
          c] : border[c];
      acc += p * wts[dy][dx];
    }
  return (guint8) ((acc + 512) >> 10);
}

GST_START_TEST (test_remap_kernels)
{
  const int sw = 67, sh = 41, dw = 53, dh = 37;
  GRand *rand = g_rand_new_with_seed (42);
  int cn;

  for (cn = 1; cn <= 4; cn++) {
    int stride = sw * cn + 5, dstride = dw * cn + 3, i, y, x, c;
    guint8 *src = g_malloc (stride * sh), *d1 = g_malloc0 (dstride * dh),
        *d2 = g_malloc0 (dstride * dh);
    guint8 border[4] = { 11, 22, 33, 44 };
    MbRemapMap m;
    MbPlane ps = { src, sw, sh, stride }, p1 = { d1, dw, dh, dstride }, p2 = {
    d2, dw, dh, dstride};

    for (i = 0; i < stride * sh; i++)
      src[i] = g_rand_int_range (rand, 0, 256);
    fail_unless (mb_remap_map_alloc (&m, dw, dh) == 0);
    for (i = 0; i < dw * dh; i++) {
      /* mostly inside, some across each border, some far away */
      int r = g_rand_int_range (rand, 0, 10);
      m.xy[2 * i] = r < 8 ? g_rand_int_range (rand, 0, sw) :
          g_rand_int_range (rand, -3, sw + 3);
      m.xy[2 * i + 1] = r < 8 ? g_rand_int_range (rand, 0, sh) :
          r == 8 ? g_rand_int_range (rand, -3, sh + 3) : -30000;
      m.idx[i] = g_rand_int_range (rand, 0, 1024);
    }
    /* two slices, as n-threads does */
    mb_remap (&ps, &p1, cn, &m, MB_INTERP_BILINEAR, border, 0, 20);
    mb_remap (&ps, &p1, cn, &m, MB_INTERP_BILINEAR, border, 20, dh);
    mb_remap_c (&ps, &p2, cn, &m, MB_INTERP_BILINEAR, border, 0, dh);
    for (y = 0; y < dh; y++)
      for (x = 0; x < dw; x++)
        for (c = 0; c < cn; c++) {
          int o = y * dstride + x * cn + c, k = y * dw + x;
          guint8 want = ref_px (src, sw, sh, stride, cn, c, m.xy[2 * k],
              m.xy[2 * k + 1], m.idx[k], border);
          fail_unless_equals_int (d1[o], want);
          fail_unless_equals_int (d2[o], want);
        }
    /* padding between rows untouched */
    for (y = 0; y < dh; y++)
      for (i = dw * cn; i < dstride; i++)
        fail_unless_equals_int (d1[y * dstride + i], 0);

    /* nearest: rounds the 1/32 position */
    mb_remap (&ps, &p1, cn, &m, MB_INTERP_NEAREST, border, 0, dh);
    for (y = 0; y < dh; y++)
      for (x = 0; x < dw; x++) {
        int k = y * dw + x;
        int sx = m.xy[2 * k] + ((m.idx[k] & 31) >= 16);
        int sy = m.xy[2 * k + 1] + ((m.idx[k] >> 5) >= 16);
        for (c = 0; c < cn; c++) {
          int want = (sx >= 0 && sx < sw && sy >= 0 && sy < sh) ?
              src[sy * stride + sx * cn + c] : border[c];
          fail_unless_equals_int (d1[y * dstride + x * cn + c], want);
        }
      }
    mb_remap_map_free (&m);
    g_free (src);
    g_free (d1);
    g_free (d2);
  }
  g_rand_free (rand);
}

GST_END_TEST;

/* ------------------------------------------------------------ element */

static const gchar *IDENTITY_ROS =
    "image_width: 64\nimage_height: 48\n"
    "camera_matrix: {rows: 3, cols: 3, data: [50, 0, 32, 0, 50, 24, 0, 0, 1]}\n"
    "distortion_model: plumb_bob\n"
    "distortion_coefficients: {rows: 1, cols: 5, data: [0, 0, 0, 0, 0]}\n"
    "rectification_matrix: {rows: 3, cols: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1]}\n"
    "projection_matrix: {rows: 3, cols: 4, data: [50, 0, 32, 0, 0, 50, 24, 0, "
    "0, 0, 1, 0]}\n";

/* Runs appsrc ! stereorectify ! fakesink and returns the first error
 * message text (or NULL when the pipeline runs to EOS). */
static GQuark last_domain;
static gint last_code;

static gchar *
run_for_error (const gchar * props, const gchar * caps)
{
  gchar *desc = g_strdup_printf ("appsrc name=src caps=\"%s\" format=time ! "
      "stereorectify %s ! fakesink", caps, props);
  GstElement *pipe = gst_parse_launch (desc, NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  GstVideoInfo info;
  GstCaps *c = gst_caps_from_string (caps);
  gchar *text = NULL;

  fail_unless (gst_video_info_from_caps (&info, c));
  gst_caps_unref (c);
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, info.size, NULL);
    GstFlowReturn ret;
    gst_buffer_memset (buf, 0, 0x80, info.size);
    g_signal_emit_by_name (src, "push-buffer", buf, &ret);
    gst_buffer_unref (buf);
    g_signal_emit_by_name (src, "end-of-stream", &ret);
  }
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "neither error nor EOS");
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    text = g_strdup (err->message);
    last_domain = err->domain;
    last_code = err->code;
    g_error_free (err);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (pipe);
  g_free (desc);
  return text;
}

GST_START_TEST (test_element_errors)
{
  gchar *ok = write_tmp ("identity.yaml", IDENTITY_ROS);
  gchar *bad = write_tmp ("broken.yaml", "camera_matrix: [1, 2\n");
  gchar *props, *e;

  /* no calibration */
  e = run_for_error ("", "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=30/1");
  fail_unless (e && strstr (e, "no calibration file set"), "%s", e);
  g_free (e);

  /* unreadable and invalid files: named in the message */
  props = g_strdup_printf ("calibration=%s/nope.yml", tmpdir);
  e = run_for_error (props, "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=30/1");
  fail_unless (e && strstr (e, "nope.yml") && strstr (e, "cannot read"),
      "%s", e);
  fail_unless (last_domain == GST_RESOURCE_ERROR &&
      last_code == GST_RESOURCE_ERROR_NOT_FOUND);
  g_free (e);
  g_free (props);
  props = g_strdup_printf ("calibration=%s", bad);
  e = run_for_error (props, "video/x-raw,format=RGB,width=64,height=48,"
      "framerate=30/1");
  fail_unless (e && strstr (e, "broken.yaml") && strstr (e, "invalid YAML"),
      "%s", e);
  fail_unless (last_domain == GST_RESOURCE_ERROR &&
      last_code == GST_RESOURCE_ERROR_SETTINGS);
  g_free (e);
  g_free (props);

  /* image size mismatch: names the file and both sizes */
  props = g_strdup_printf ("calibration=%s", ok);
  e = run_for_error (props, "video/x-raw,format=RGBx,width=80,height=48,"
      "framerate=30/1");
  fail_unless (e && strstr (e, "identity.yaml") && strstr (e, "64x48") &&
      strstr (e, "80x48"), "%s", e);
  g_free (e);
  /* a mono calibration cannot do side-by-side */
  g_free (props);
  props = g_strdup_printf ("calibration=%s layout=side-by-side", ok);
  e = run_for_error (props, "video/x-raw,format=GRAY8,width=128,height=48,"
      "framerate=30/1");
  fail_unless (e && strstr (e, "describes one camera"), "%s", e);
  g_free (e);
  /* frame packings other than side-by-side / top-bottom */
  g_free (props);
  props = g_strdup_printf ("calibration=%s", ok);
  e = run_for_error (props, "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=30/1,multiview-mode=row-interleaved");
  fail_unless (e && strstr (e, "row-interleaved") &&
      strstr (e, "not supported"), "%s", e);
  g_free (e);
  /* right without left */
  g_free (props);
  props = g_strdup_printf ("right-calibration=%s", ok);
  e = run_for_error (props, "video/x-raw,format=GRAY8,width=64,height=48,"
      "framerate=30/1");
  fail_unless (e && strstr (e, "without left-calibration"), "%s", e);
  g_free (e);
  /* and the good one runs to EOS */
  g_free (props);
  props = g_strdup_printf ("calibration=%s", ok);
  e = run_for_error (props, "video/x-raw,format=I420,width=64,height=48,"
      "framerate=30/1");
  fail_unless (e == NULL, "%s", e);
  g_free (props);
  g_free (ok);
  g_free (bad);
}

GST_END_TEST;

/* The stereorectify inside a harness made by gst_harness_new_parse. */
static void
set_on_rect (GstHarness * h, const gchar * first, ...)
{
  GstElement *e = GST_IS_BIN (h->element) ?
      gst_bin_get_by_name (GST_BIN (h->element), "r") :
      gst_object_ref (h->element);
  va_list ap;
  fail_unless (e != NULL);
  va_start (ap, first);
  g_object_set_valist (G_OBJECT (e), first, ap);
  va_end (ap);
  gst_object_unref (e);
}

static GstBuffer *
pattern_buffer (gsize size)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;
  gsize i;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < size; i++)
    map.data[i] = (guint8) ((i * 7919) >> 3);
  gst_buffer_unmap (buf, &map);
  return buf;
}

GST_START_TEST (test_element_identity_and_runtime_change)
{
  gchar *ok = write_tmp ("identity2.yaml", IDENTITY_ROS);
  gchar *shifted_text = g_strdup (IDENTITY_ROS), *shifted, *bad, *launch;
  GstHarness *h;
  GstBuffer *in, *out;
  GstVideoInfo info;
  GstCaps *caps;
  const gchar *formats[] = { "GRAY8", "RGB", "BGRA", "NV12", "I420" };
  guint f;

  /* projection with the principal point moved by 2 px */
  memcpy (strstr (shifted_text, "data: [50, 0, 32, 0, 0"),
      "data: [50, 0, 30, 0, 0", 22);
  shifted = write_tmp ("shifted.yaml", shifted_text);
  bad = write_tmp ("bad2.yaml", "nothing: here\n");

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *cs = g_strdup_printf ("video/x-raw,format=%s,width=64,height=48,"
        "framerate=30/1", formats[f]);
    launch = g_strdup_printf ("stereorectify name=r calibration=%s", ok);
    h = gst_harness_new_parse (launch);
    g_free (launch);
    gst_harness_set_src_caps_str (h, cs);
    caps = gst_caps_from_string (cs);
    gst_video_info_from_caps (&info, caps);
    gst_caps_unref (caps);

    /* identity calibration: an exact copy; timestamps and the absolute
     * capture time (reference timestamp meta) travel with the frame */
    in = pattern_buffer (info.size);
    GST_BUFFER_PTS (in) = 40 * GST_MSECOND;
    GST_BUFFER_DURATION (in) = 33 * GST_MSECOND;
    mb_buffer_add_unix_time (in, G_GUINT64_CONSTANT (1700000000123456789));
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    fail_unless (out != NULL);
    fail_unless (out != in);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), 40 * GST_MSECOND);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), 33 * GST_MSECOND);
    {
      guint64 t = 0;
      fail_unless (mb_buffer_get_unix_time (out, &t));
      fail_unless_equals_uint64 (t, G_GUINT64_CONSTANT (1700000000123456789));
    }
    {
      GstMapInfo a, b;
      gst_buffer_map (in, &a, GST_MAP_READ);
      gst_buffer_map (out, &b, GST_MAP_READ);
      fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0,
          "%s: identity calibration did not copy the frame", formats[f]);
      gst_buffer_unmap (in, &a);
      gst_buffer_unmap (out, &b);
    }
    gst_buffer_unref (out);

    /* new calibration while playing: applied to the next frame */
    set_on_rect (h, "calibration", shifted, NULL);
    out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
    fail_unless (out != NULL);
    {
      GstMapInfo a, b;
      gst_buffer_map (in, &a, GST_MAP_READ);
      gst_buffer_map (out, &b, GST_MAP_READ);
      /* the destination pixel (x) now shows source pixel x + 2 */
      fail_unless_equals_int (b.data[(10 * 64 + 5) * info.finfo->pixel_stride[0]],
          a.data[10 * info.stride[0] + (7) * info.finfo->pixel_stride[0]]);
      gst_buffer_unmap (in, &a);
      gst_buffer_unmap (out, &b);
    }
    gst_buffer_unref (out);

    /* a broken calibration at run time: an error, no crash */
    set_on_rect (h, "calibration", bad, NULL);
    fail_unless_equals_int (gst_harness_push (h, gst_buffer_ref (in)),
        GST_FLOW_ERROR);
    gst_buffer_unref (in);
    gst_harness_teardown (h);
    g_free (cs);
  }
  g_free (ok);
  g_free (shifted);
  g_free (shifted_text);
  g_free (bad);
}

GST_END_TEST;

GST_START_TEST (test_element_threads_match)
{
  gchar *cal = write_tmp ("distorted.yaml",
      "image_width: 64\nimage_height: 48\n"
      "camera_matrix: [50, 0, 32, 0, 50, 24, 0, 0, 1]\n"
      "distortion_coefficients: [-0.3, 0.08, 0.001, 0, 0]\n");
  GstHarness *h1, *h2;
  GstBuffer *in, *o1, *o2;
  gchar *l1 = g_strdup_printf ("stereorectify name=r calibration=%s", cal);
  gchar *l2 = g_strdup_printf ("stereorectify name=r calibration=%s n-threads=3 "
      "alpha=1 border-color=0xff00ff00", cal);
  GstMapInfo a, b;

  h1 = gst_harness_new_parse (l1);
  h2 = gst_harness_new_parse (l2);
  gst_harness_set_src_caps_str (h1, "video/x-raw,format=RGBA,width=64,"
      "height=48,framerate=30/1");
  gst_harness_set_src_caps_str (h2, "video/x-raw,format=RGBA,width=64,"
      "height=48,framerate=30/1");
  in = pattern_buffer (64 * 48 * 4);
  o1 = gst_harness_push_and_pull (h1, gst_buffer_ref (in));
  /* same alpha in one thread, for comparison */
  set_on_rect (h1, "alpha", 1.0, "border-color", 0xff00ff00, NULL);
  gst_buffer_unref (o1);
  o1 = gst_harness_push_and_pull (h1, gst_buffer_ref (in));
  o2 = gst_harness_push_and_pull (h2, gst_buffer_ref (in));
  gst_buffer_map (o1, &a, GST_MAP_READ);
  gst_buffer_map (o2, &b, GST_MAP_READ);
  fail_unless (memcmp (a.data, b.data, a.size) == 0);
  /* alpha 1 keeps all source pixels, so with barrel distortion the middle
   * of the top edge is border: pure green RGBA */
  fail_unless_equals_int (b.data[32 * 4 + 0], 0);
  fail_unless_equals_int (b.data[32 * 4 + 1], 255);
  fail_unless_equals_int (b.data[32 * 4 + 2], 0);
  fail_unless_equals_int (b.data[32 * 4 + 3], 255);
  gst_buffer_unmap (o1, &a);
  gst_buffer_unmap (o2, &b);
  gst_buffer_unref (o1);
  gst_buffer_unref (o2);
  gst_buffer_unref (in);
  gst_harness_teardown (h1);
  gst_harness_teardown (h2);
  g_free (l1);
  g_free (l2);
  g_free (cal);
}

GST_END_TEST;

static void
setup (void)
{
  const gchar *base = g_getenv ("MB_TEST_TMPDIR");
  gchar *tmpl;
  if (base)
    g_mkdir_with_parents (base, 0755);
  tmpl = g_build_filename (base ? base : g_get_tmp_dir (),
      "rectify-XXXXXX", NULL);
  tmpdir = g_mkdtemp (tmpl);
  fail_unless (tmpdir != NULL);
}

static void
teardown (void)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *n;
  while (d && (n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (tmpdir, n, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  tmpdir = NULL;
}

static Suite *
rectify_suite (void)
{
  Suite *s = suite_create ("rectify");
  TCase *tc = tcase_create ("core");
  TCase *te = tcase_create ("element");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_parse_opencv_yaml);
  tcase_add_test (tc, test_parse_opencv_xml);
  tcase_add_test (tc, test_parse_ros);
  tcase_add_test (tc, test_parse_kalibr);
  tcase_add_test (tc, test_parse_errors);
  tcase_add_test (tc, test_load_files);
  tcase_add_test (tc, test_stereo_rectify_properties);
  tcase_add_test (tc, test_identity_map);
  tcase_add_test (tc, test_remap_kernels);

  suite_add_tcase (s, te);
  tcase_add_checked_fixture (te, setup, teardown);
  tcase_add_test (te, test_element_errors);
  tcase_add_test (te, test_element_identity_and_runtime_change);
  tcase_add_test (te, test_element_threads_match);
  return s;
}

GST_CHECK_MAIN (rectify);
