/* membound: rectification maths (see rectmap.h).
 *
 * The algorithms follow OpenCV's documented behaviour (calib3d
 * stereoRectify, getOptimalNewCameraMatrix, initUndistortRectifyMap and
 * their fisheye variants) closely enough that the maps agree with OpenCV's
 * CV_16SC2 maps to the 1/32 pixel; the tests check this against Debian's
 * python3-opencv. Intermediate point lists are kept in float where OpenCV
 * keeps them in float, since the rectified principal point depends on it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rectmap.h"

#include <float.h>
#include <glib.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------ small algebra */

static void
mat3_mul (const double *a, const double *b, double *out)
{
  double t[9];
  int i, j;
  for (i = 0; i < 3; i++)
    for (j = 0; j < 3; j++)
      t[i * 3 + j] = a[i * 3 + 0] * b[0 * 3 + j] + a[i * 3 + 1] * b[1 * 3 + j]
          + a[i * 3 + 2] * b[2 * 3 + j];
  memcpy (out, t, sizeof (t));
}

static void
mat3_transpose (const double *a, double *out)
{
  double t[9];
  int i, j;
  for (i = 0; i < 3; i++)
    for (j = 0; j < 3; j++)
      t[j * 3 + i] = a[i * 3 + j];
  memcpy (out, t, sizeof (t));
}

static void
mat3_vec (const double *a, const double *v, double *out)
{
  double t[3];
  int i;
  for (i = 0; i < 3; i++)
    t[i] = a[i * 3] * v[0] + a[i * 3 + 1] * v[1] + a[i * 3 + 2] * v[2];
  memcpy (out, t, sizeof (t));
}

static void
mat3_eye (double *m)
{
  memset (m, 0, 9 * sizeof (double));
  m[0] = m[4] = m[8] = 1;
}

/* Inverse by Gaussian elimination with partial pivoting. Returns 0 when
 * singular. */
static int
mat3_inv (const double *a, double *out)
{
  double m[3][6];
  int i, j, k;

  for (i = 0; i < 3; i++)
    for (j = 0; j < 6; j++)
      m[i][j] = j < 3 ? a[i * 3 + j] : (j - 3 == i);
  for (i = 0; i < 3; i++) {
    int p = i;
    double d;
    for (k = i + 1; k < 3; k++)
      if (fabs (m[k][i]) > fabs (m[p][i]))
        p = k;
    if (fabs (m[p][i]) < DBL_EPSILON * 1e-3)
      return 0;
    if (p != i)
      for (j = 0; j < 6; j++) {
        double t = m[i][j];
        m[i][j] = m[p][j];
        m[p][j] = t;
      }
    d = 1.0 / m[i][i];
    for (j = 0; j < 6; j++)
      m[i][j] *= d;
    for (k = 0; k < 3; k++) {
      double f;
      if (k == i)
        continue;
      f = m[k][i];
      for (j = 0; j < 6; j++)
        m[k][j] -= f * m[i][j];
    }
  }
  for (i = 0; i < 3; i++)
    for (j = 0; j < 3; j++)
      out[i * 3 + j] = m[i][j + 3];
  return 1;
}

static void
rodrigues_to_mat (const double *r, double *R)
{
  double theta = sqrt (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
  double c, s, c1, rx, ry, rz, itheta;

  if (theta < DBL_EPSILON) {
    mat3_eye (R);
    return;
  }
  c = cos (theta);
  s = sin (theta);
  c1 = 1. - c;
  itheta = 1. / theta;
  rx = r[0] * itheta;
  ry = r[1] * itheta;
  rz = r[2] * itheta;
  R[0] = c + c1 * rx * rx;
  R[1] = c1 * rx * ry - s * rz;
  R[2] = c1 * rx * rz + s * ry;
  R[3] = c1 * rx * ry + s * rz;
  R[4] = c + c1 * ry * ry;
  R[5] = c1 * ry * rz - s * rx;
  R[6] = c1 * rx * rz - s * ry;
  R[7] = c1 * ry * rz + s * rx;
  R[8] = c + c1 * rz * rz;
}

static void
mat_to_rodrigues (const double *R, double *r)
{
  double rx = R[7] - R[5], ry = R[2] - R[6], rz = R[3] - R[1];
  double s = sqrt ((rx * rx + ry * ry + rz * rz) * 0.25);
  double c = (R[0] + R[4] + R[8] - 1) * 0.5;
  double theta;

  c = c > 1. ? 1. : c < -1. ? -1. : c;
  theta = acos (c);
  if (s < 1e-5) {
    double t;
    if (c > 0) {
      rx = ry = rz = 0;
    } else {
      t = (R[0] + 1) * 0.5;
      rx = sqrt (MAX (t, 0.));
      t = (R[4] + 1) * 0.5;
      ry = sqrt (MAX (t, 0.)) * (R[1] < 0 ? -1. : 1.);
      t = (R[8] + 1) * 0.5;
      rz = sqrt (MAX (t, 0.)) * (R[2] < 0 ? -1. : 1.);
      if (fabs (rx) < fabs (ry) && fabs (rx) < fabs (rz) &&
          (R[5] > 0) != (ry * rz > 0))
        rz = -rz;
      theta /= sqrt (rx * rx + ry * ry + rz * rz);
      rx *= theta;
      ry *= theta;
      rz *= theta;
    }
  } else {
    double vth = 1 / (2 * s);
    vth *= theta;
    rx *= vth;
    ry *= vth;
    rz *= vth;
  }
  r[0] = rx;
  r[1] = ry;
  r[2] = rz;
}

/* ------------------------------------------------ point undistortion */

/* Distortion coefficients padded to 14. */
static void
pad_dist (const double *D, int n, double *k)
{
  memset (k, 0, 14 * sizeof (double));
  if (D && n > 0)
    memcpy (k, D, MIN (n, 14) * sizeof (double));
}

/* Iterative undistortion of one image point (5 iterations, as OpenCV's
 * undistortPoints default), then x' = RR (x, y, 1) projected, where RR is
 * P3x3 * R (either may be NULL). Input and output are float, as in
 * OpenCV's point arrays. */
static void
undistort_point (const double *K, const double *k, const double *RR,
    float in_x, float in_y, float *out_x, float *out_y)
{
  double fx = K[0], fy = K[4], cx = K[2], cy = K[5];
  double ifx = 1. / fx, ify = 1. / fy;
  double u = in_x, v = in_y;
  double x = (u - cx) * ifx, y = (v - cy) * ify;
  double x0 = x, y0 = y;
  int j;

  for (j = 0; j < 5; j++) {
    double r2 = x * x + y * y;
    double icdist = (1 + ((k[7] * r2 + k[6]) * r2 + k[5]) * r2) /
        (1 + ((k[4] * r2 + k[1]) * r2 + k[0]) * r2);
    double dx, dy;
    if (icdist < 0) {
      x = (u - cx) * ifx;
      y = (v - cy) * ify;
      break;
    }
    dx = 2 * k[2] * x * y + k[3] * (r2 + 2 * x * x) + k[8] * r2 +
        k[9] * r2 * r2;
    dy = k[2] * (r2 + 2 * y * y) + 2 * k[3] * x * y + k[10] * r2 +
        k[11] * r2 * r2;
    x = (x0 - dx) * icdist;
    y = (y0 - dy) * icdist;
  }
  if (RR) {
    double xx = RR[0] * x + RR[1] * y + RR[2];
    double yy = RR[3] * x + RR[4] * y + RR[5];
    double ww = 1. / (RR[6] * x + RR[7] * y + RR[8]);
    x = xx * ww;
    y = yy * ww;
  }
  *out_x = (float) x;
  *out_y = (float) y;
}

typedef struct
{
  float x, y, w, h;
} RectF;

/* The inscribed and circumscribed rectangles of the undistorted (and
 * rectified, when R/P are given) image border, from a 9x9 point grid. */
static void
get_rectangles (const double *K, const double *D, int n_d, const double *R,
    const double *P3, int width, int height, RectF * inner, RectF * outer)
{
  const int N = 9;
  double k[14], RR[9];
  float iX0 = -FLT_MAX, iX1 = FLT_MAX, iY0 = -FLT_MAX, iY1 = FLT_MAX;
  float oX0 = FLT_MAX, oX1 = -FLT_MAX, oY0 = FLT_MAX, oY1 = -FLT_MAX;
  int x, y;
  gboolean have_rr = FALSE;

  pad_dist (D, n_d, k);
  mat3_eye (RR);
  if (R) {
    memcpy (RR, R, sizeof (RR));
    have_rr = TRUE;
  }
  if (P3) {
    mat3_mul (P3, RR, RR);
    have_rr = TRUE;
  }
  for (y = 0; y < N; y++)
    for (x = 0; x < N; x++) {
      float px, py;
      undistort_point (K, k, have_rr ? RR : NULL,
          (float) x * width / (N - 1), (float) y * height / (N - 1), &px,
          &py);
      oX0 = MIN (oX0, px);
      oX1 = MAX (oX1, px);
      oY0 = MIN (oY0, py);
      oY1 = MAX (oY1, py);
      if (x == 0)
        iX0 = MAX (iX0, px);
      if (x == N - 1)
        iX1 = MIN (iX1, px);
      if (y == 0)
        iY0 = MAX (iY0, py);
      if (y == N - 1)
        iY1 = MIN (iY1, py);
    }
  inner->x = iX0;
  inner->y = iY0;
  inner->w = iX1 - iX0;
  inner->h = iY1 - iY0;
  outer->x = oX0;
  outer->y = oY0;
  outer->w = oX1 - oX0;
  outer->h = oY1 - oY0;
}

/* --------------------------------------------------------- rectifying */

static void
p34_to_33 (const double *P, double *P3)
{
  P3[0] = P[0];
  P3[1] = P[1];
  P3[2] = P[2];
  P3[3] = P[4];
  P3[4] = P[5];
  P3[5] = P[6];
  P3[6] = P[8];
  P3[7] = P[9];
  P3[8] = P[10];
}

void
mb_stereo_rectify (const double K1[9], const double *D1, int n_d1,
    const double K2[9], const double *D2, int n_d2, int width, int height,
    const double R[9], const double T[3], double alpha, double R1[9],
    double R2[9], double P1[12], double P2[12])
{
  double om[3], r_r[9], t[3], uu[3] = { 0, 0, 0 }, ww[3], wR[9], Ri[9];
  double c, nt, nw, fc_new, cc_new[2][2], s = 1.;
  const double *Ks[2] = { K1, K2 }, *Ds[2] = { D1, D2 };
  int n_ds[2] = { n_d1, n_d2 };
  int idx, k, i;
  RectF inner[2], outer[2];

  mat_to_rodrigues (R, om);
  for (i = 0; i < 3; i++)
    om[i] *= -0.5;
  rodrigues_to_mat (om, r_r);
  mat3_vec (r_r, T, t);

  idx = fabs (t[0]) > fabs (t[1]) ? 0 : 1;
  c = t[idx];
  nt = sqrt (t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
  uu[idx] = c > 0 ? 1 : -1;

  /* global rotation about the axis t x uu */
  ww[0] = t[1] * uu[2] - t[2] * uu[1];
  ww[1] = t[2] * uu[0] - t[0] * uu[2];
  ww[2] = t[0] * uu[1] - t[1] * uu[0];
  nw = sqrt (ww[0] * ww[0] + ww[1] * ww[1] + ww[2] * ww[2]);
  if (nw > 0.0 && nt > 0.0) {
    double f = acos (fabs (c) / nt) / nw;
    for (i = 0; i < 3; i++)
      ww[i] *= f;
  }
  rodrigues_to_mat (ww, wR);

  {
    double rt[9];
    mat3_transpose (r_r, rt);
    mat3_mul (wR, rt, R1);
    mat3_mul (wR, r_r, Ri);
    memcpy (R2, Ri, sizeof (Ri));
    mat3_vec (Ri, T, t);
  }

  fc_new = (Ks[0][(idx ^ 1) * 4] + Ks[1][(idx ^ 1) * 4]) * 0.5;

  for (k = 0; k < 2; k++) {
    double kk[14], Rk[9], rv[3], sx = 0, sy = 0;
    /* the rotation goes through a rotation vector in projectPoints */
    mat_to_rodrigues (k == 0 ? R1 : R2, rv);
    rodrigues_to_mat (rv, Rk);
    pad_dist (Ds[k], n_ds[k], kk);
    for (i = 0; i < 4; i++) {
      int j = (i < 2) ? 0 : 1;
      float px = (float) ((i % 2) * (width - 1)), py = (float) (j * (height -
              1));
      float ux, uy;
      double X[3], Y[3];
      undistort_point (Ks[k], kk, NULL, px, py, &ux, &uy);
      X[0] = ux;
      X[1] = uy;
      X[2] = 1;
      mat3_vec (Rk, X, Y);
      sx += (float) (fc_new * (Y[0] / Y[2]));
      sy += (float) (fc_new * (Y[1] / Y[2]));
    }
    cc_new[k][0] = (width - 1) / 2.0 - sx / 4;
    cc_new[k][1] = (height - 1) / 2.0 - sy / 4;
  }
  /* CALIB_ZERO_DISPARITY: both principal points at their average */
  cc_new[0][0] = cc_new[1][0] = (cc_new[0][0] + cc_new[1][0]) * 0.5;
  cc_new[0][1] = cc_new[1][1] = (cc_new[0][1] + cc_new[1][1]) * 0.5;

  memset (P1, 0, 12 * sizeof (double));
  P1[0] = P1[5] = fc_new;
  P1[2] = cc_new[0][0];
  P1[6] = cc_new[0][1];
  P1[10] = 1;
  memcpy (P2, P1, 12 * sizeof (double));
  P2[2] = cc_new[1][0];
  P2[6] = cc_new[1][1];
  P2[idx * 4 + 3] = t[idx] * fc_new;

  alpha = MIN (alpha, 1.);
  for (k = 0; k < 2; k++) {
    double P3[9];
    p34_to_33 (k == 0 ? P1 : P2, P3);
    get_rectangles (Ks[k], Ds[k], n_ds[k], k == 0 ? R1 : R2, P3, width,
        height, &inner[k], &outer[k]);
  }

  if (alpha >= 0) {
    double s0 = 0, s1 = DBL_MAX;
    for (k = 0; k < 2; k++) {
      double cx = cc_new[k][0], cy = cc_new[k][1];
      RectF *in = &inner[k], *out = &outer[k];
      s0 = MAX (s0, MAX (MAX (MAX (cx / (cx - in->x), cy / (cy - in->y)),
                  (width - cx) / (in->x + in->w - cx)),
              (height - cy) / (in->y + in->h - cy)));
      s1 = MIN (s1, MIN (MIN (MIN (cx / (cx - out->x), cy / (cy - out->y)),
                  (width - cx) / (out->x + out->w - cx)),
              (height - cy) / (out->y + out->h - cy)));
    }
    s = s0 * (1 - alpha) + s1 * alpha;
  }

  fc_new *= s;
  P1[0] = P1[5] = fc_new;
  P2[0] = P2[5] = fc_new;
  P2[idx * 4 + 3] *= s;
}

/* fisheye::undistortPoints for one point (10 iterations, eps 1e-8), then
 * RR applied (RR may be NULL). */
static void
fisheye_undistort_point (const double *K, const double *k, const double *RR,
    double px, double py, double *ox, double *oy)
{
  double pw[2] = { (px - K[2]) / K[0], (py - K[5]) / K[4] };
  double theta_d = sqrt (pw[0] * pw[0] + pw[1] * pw[1]);
  double theta, scale = 0.0;
  gboolean converged = FALSE, flipped;
  int j;

  theta_d = MIN (MAX (-G_PI / 2., theta_d), G_PI / 2.);
  theta = theta_d;
  if (fabs (theta_d) > 1e-8) {
    for (j = 0; j < 10; j++) {
      double t2 = theta * theta, t4 = t2 * t2, t6 = t4 * t2, t8 = t6 * t2;
      double k0t2 = k[0] * t2, k1t4 = k[1] * t4, k2t6 = k[2] * t6,
          k3t8 = k[3] * t8;
      double fix = (theta * (1 + k0t2 + k1t4 + k2t6 + k3t8) - theta_d) /
          (1 + 3 * k0t2 + 5 * k1t4 + 7 * k2t6 + 9 * k3t8);
      theta = theta - fix;
      if (fabs (fix) < 1e-8) {
        converged = TRUE;
        break;
      }
    }
    scale = tan (theta) / theta_d;
  } else {
    converged = TRUE;
  }
  flipped = (theta_d < 0 && theta > 0) || (theta_d > 0 && theta < 0);
  if (converged && !flipped) {
    double pu[3] = { pw[0] * scale, pw[1] * scale, 1.0 }, pr[3];
    if (RR)
      mat3_vec (RR, pu, pr);
    else
      memcpy (pr, pu, sizeof (pr));
    *ox = pr[0] / pr[2];
    *oy = pr[1] / pr[2];
  } else {
    *ox = *oy = -1000000.0;
  }
}

void
mb_fisheye_new_camera_matrix (const double K[9], const double D[4],
    int width, int height, const double R[9], double balance, double newK[9])
{
  /* the four edge midpoints, as OpenCV 4.6 (Debian 12, Ubuntu 22.04)
   * does; later OpenCV releases also use the corners */
  double pts[4][2] = {
    {width / 2, 0}, {width, height / 2}, {width / 2, height},
    {0, height / 2}
  };
  double k[4] = { D[0], D[1], D[2], D[3] };
  double cn[2] = { 0, 0 }, aspect = K[0] / K[4];
  double minx = DBL_MAX, miny = DBL_MAX, maxx = -DBL_MAX, maxy = -DBL_MAX;
  double f1, f2, f3, f4, fmin, fmax, f, nf[2], nc[2];
  int i;

  balance = MIN (MAX (balance, 0.0), 1.0);
  for (i = 0; i < 4; i++) {
    fisheye_undistort_point (K, k, R, pts[i][0], pts[i][1], &pts[i][0],
        &pts[i][1]);
    cn[0] += pts[i][0];
    cn[1] += pts[i][1];
  }
  cn[0] /= 4;
  cn[1] /= 4;
  cn[0] *= aspect;
  for (i = 0; i < 4; i++)
    pts[i][1] *= aspect;
  for (i = 0; i < 4; i++) {
    miny = MIN (miny, pts[i][1]);
    maxy = MAX (maxy, pts[i][1]);
    minx = MIN (minx, pts[i][0]);
    maxx = MAX (maxx, pts[i][0]);
  }
  f1 = width * 0.5 / (cn[0] - minx);
  f2 = width * 0.5 / (maxx - cn[0]);
  f3 = height * 0.5 * aspect / (cn[1] - miny);
  f4 = height * 0.5 * aspect / (maxy - cn[1]);
  fmin = MIN (f1, MIN (f2, MIN (f3, f4)));
  fmax = MAX (f1, MAX (f2, MAX (f3, f4)));
  f = balance * fmin + (1.0 - balance) * fmax;
  nf[0] = nf[1] = f;
  nc[0] = -cn[0] * f + width * 0.5;
  nc[1] = -cn[1] * f + height * aspect * 0.5;
  nf[1] /= aspect;
  nc[1] /= aspect;
  memset (newK, 0, 9 * sizeof (double));
  newK[0] = nf[0];
  newK[4] = nf[1];
  newK[2] = nc[0];
  newK[5] = nc[1];
  newK[8] = 1;
}

void
mb_fisheye_stereo_rectify (const double K1[9], const double D1[4],
    const double K2[9], const double D2[4], int width, int height,
    const double R[9], const double T[3], double balance, double R1[9],
    double R2[9], double P1[12], double P2[12])
{
  double rvec[3], r_r[9], rt[9], t[3], uu[3], ww[3], wr[9], tnew[3];
  double nK1[9], nK2[9], fc_new, cc[2][2], nw, nt;
  int i;

  mat_to_rodrigues (R, rvec);
  for (i = 0; i < 3; i++)
    rvec[i] *= -0.5;
  rodrigues_to_mat (rvec, r_r);
  mat3_vec (r_r, T, t);
  uu[0] = t[0] > 0 ? 1 : -1;
  uu[1] = uu[2] = 0;
  ww[0] = t[1] * uu[2] - t[2] * uu[1];
  ww[1] = t[2] * uu[0] - t[0] * uu[2];
  ww[2] = t[0] * uu[1] - t[1] * uu[0];
  nw = sqrt (ww[0] * ww[0] + ww[1] * ww[1] + ww[2] * ww[2]);
  nt = sqrt (t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
  if (nw > 0.0 && nt > 0.0) {
    double f = acos (fabs (t[0]) / nt) / nw;
    for (i = 0; i < 3; i++)
      ww[i] *= f;
  }
  rodrigues_to_mat (ww, wr);
  mat3_transpose (r_r, rt);
  mat3_mul (wr, rt, R1);
  mat3_mul (wr, r_r, R2);
  mat3_vec (R2, T, tnew);

  mb_fisheye_new_camera_matrix (K1, D1, width, height, R1, balance, nK1);
  mb_fisheye_new_camera_matrix (K2, D2, width, height, R2, balance, nK2);
  fc_new = MIN (nK1[4], nK2[4]);
  cc[0][0] = cc[1][0] = (nK1[2] + nK2[2]) * 0.5;
  cc[0][1] = cc[1][1] = (nK1[5] + nK2[5]) * 0.5;

  memset (P1, 0, 12 * sizeof (double));
  P1[0] = P1[5] = fc_new;
  P1[2] = cc[0][0];
  P1[6] = cc[0][1];
  P1[10] = 1;
  memcpy (P2, P1, 12 * sizeof (double));
  P2[2] = cc[1][0];
  P2[6] = cc[1][1];
  P2[3] = tnew[0] * fc_new;
}

void
mb_optimal_new_camera_matrix (const double K[9], const double *D, int n_d,
    int width, int height, double alpha, double newK[9])
{
  RectF inner, outer;
  double fx0, fy0, cx0, cy0, fx1, fy1, cx1, cy1;

  get_rectangles (K, D, n_d, NULL, NULL, width, height, &inner, &outer);
  fx0 = (width - 1) / inner.w;
  fy0 = (height - 1) / inner.h;
  cx0 = -fx0 * inner.x;
  cy0 = -fy0 * inner.y;
  fx1 = (width - 1) / outer.w;
  fy1 = (height - 1) / outer.h;
  cx1 = -fx1 * outer.x;
  cy1 = -fy1 * outer.y;
  memcpy (newK, K, 9 * sizeof (double));
  newK[0] = fx0 * (1 - alpha) + fx1 * alpha;
  newK[4] = fy0 * (1 - alpha) + fy1 * alpha;
  newK[2] = cx0 * (1 - alpha) + cx1 * alpha;
  newK[5] = cy0 * (1 - alpha) + cy1 * alpha;
}

/* --------------------------------------------------------- per view */


static void
view_from_cam (const MbCamCalib * cam, MbViewParams * v)
{
  memset (v, 0, sizeof (*v));
  v->model = cam->model;
  memcpy (v->K, cam->K, sizeof (v->K));
  memcpy (v->D, cam->D, sizeof (v->D));
  v->n_d = cam->n_d;
  mat3_eye (v->R);
  memcpy (v->P, cam->K, sizeof (v->P));
}

int
mb_rect_views (const MbCalib * calib, int width, int height, double alpha,
    MbViewParams views[2], char **err)
{
  int i;

  *err = NULL;
  if (calib->n_cams < 1 || calib->n_cams > 2) {
    *err = g_strdup ("calibration describes no camera");
    return -1;
  }
  for (i = 0; i < calib->n_cams; i++)
    view_from_cam (&calib->cam[i], &views[i]);

  if (calib->n_cams == 2 && calib->cam[0].has_rect && calib->cam[1].has_rect) {
    for (i = 0; i < 2; i++) {
      memcpy (views[i].R, calib->cam[i].R, sizeof (views[i].R));
      p34_to_33 (calib->cam[i].P, views[i].P);
    }
    return 2;
  }
  if (calib->n_cams == 2 && calib->has_extrinsics) {
    double R1[9], R2[9], P1[12], P2[12];
    const MbCamCalib *a = &calib->cam[0], *b = &calib->cam[1];
    if ((a->model == MB_DIST_EQUIDISTANT) != (b->model == MB_DIST_EQUIDISTANT)) {
      *err = g_strdup ("the two cameras mix the equidistant (fisheye) model "
          "with another model; cannot rectify them as a pair");
      return -1;
    }
    if (a->model == MB_DIST_EQUIDISTANT)
      mb_fisheye_stereo_rectify (a->K, a->D, b->K, b->D, width, height,
          calib->R, calib->T, alpha < 0 ? 0.0 : alpha, R1, R2, P1, P2);
    else
      mb_stereo_rectify (a->K, a->D, a->n_d, b->K, b->D, b->n_d, width,
          height, calib->R, calib->T, alpha, R1, R2, P1, P2);
    memcpy (views[0].R, R1, sizeof (R1));
    memcpy (views[1].R, R2, sizeof (R2));
    p34_to_33 (P1, views[0].P);
    p34_to_33 (P2, views[1].P);
    return 2;
  }
  /* mono, or two cameras each undistorted on its own */
  for (i = 0; i < calib->n_cams; i++) {
    const MbCamCalib *cam = &calib->cam[i];
    if (cam->has_rect) {
      memcpy (views[i].R, cam->R, sizeof (views[i].R));
      p34_to_33 (cam->P, views[i].P);
    } else if (alpha >= 0) {
      if (cam->model == MB_DIST_EQUIDISTANT)
        mb_fisheye_new_camera_matrix (cam->K, cam->D, width, height,
            views[i].R, alpha, views[i].P);
      else
        mb_optimal_new_camera_matrix (cam->K, cam->D, cam->n_d, width,
            height, MIN (alpha, 1.0), views[i].P);
    }
  }
  return calib->n_cams;
}

/* ---------------------------------------------------------- the maps */

static inline void
store (MbRemapMap * m, size_t o, double u, double v)
{
  /* round to 1/32 pixel (half to even, like cvRound) and clamp far-away
   * points (they land in the border either way) */
  double su = u * MB_REMAP_TAB, sv = v * MB_REMAP_TAB;
  int iu, iv;
  const double lim = 32767.0 * MB_REMAP_TAB;

  if (!(su > -lim))
    su = -lim;
  if (!(su < lim))
    su = lim;
  if (!(sv > -lim))
    sv = -lim;
  if (!(sv < lim))
    sv = lim;
  iu = (int) lrint (su);
  iv = (int) lrint (sv);
  m->xy[2 * o] = (int16_t) (iu >> MB_REMAP_BITS);
  m->xy[2 * o + 1] = (int16_t) (iv >> MB_REMAP_BITS);
  m->idx[o] = (uint16_t) (((iv & (MB_REMAP_TAB - 1)) << MB_REMAP_BITS) |
      (iu & (MB_REMAP_TAB - 1)));
}

/* S * M where S maps luma coordinates to plane coordinates */
static void
to_plane (const double *M, int sub_x, int sub_y, double off_x, double off_y,
    double *out)
{
  double S[9] = { 1.0 / sub_x, 0, -off_x / sub_x, 0, 1.0 / sub_y,
    -off_y / sub_y, 0, 0, 1
  };
  mat3_mul (S, M, out);
}

int
mb_rect_build_map (const MbViewParams * view, int width, int height,
    int sub_x, int sub_y, double off_x, double off_y, MbRemapMap * map)
{
  double K[9], P[9], PR[9], ir[9];
  int i, j;

  if (sub_x < 1 || sub_y < 1)
    return -1;
  if (mb_remap_map_alloc (map, width, height) != 0)
    return -1;
  to_plane (view->K, sub_x, sub_y, off_x, off_y, K);
  to_plane (view->P, sub_x, sub_y, off_x, off_y, P);
  mat3_mul (P, view->R, PR);
  if (!mat3_inv (PR, ir)) {
    mb_remap_map_free (map);
    return -1;
  }

  if (view->model == MB_DIST_EQUIDISTANT) {
    const double *k = view->D;
    double f0 = K[0], f1 = K[4], c0 = K[2], c1 = K[5];
    for (i = 0; i < height; i++) {
      double _x = i * ir[1] + ir[2], _y = i * ir[4] + ir[5],
          _w = i * ir[7] + ir[8];
      size_t o = (size_t) i * width;
      for (j = 0; j < width; j++, o++) {
        double u, v;
        if (_w <= 0) {
          u = (_x > 0) ? -INFINITY : INFINITY;
          v = (_y > 0) ? -INFINITY : INFINITY;
        } else {
          double x = _x / _w, y = _y / _w;
          double r = sqrt (x * x + y * y);
          double theta = atan (r);
          double t2 = theta * theta, t4 = t2 * t2, t6 = t4 * t2, t8 = t4 * t4;
          double theta_d = theta * (1 + k[0] * t2 + k[1] * t4 + k[2] * t6 +
              k[3] * t8);
          double scale = (r == 0) ? 1.0 : theta_d / r;
          u = f0 * x * scale + c0;
          v = f1 * y * scale + c1;
        }
        store (map, o, u, v);
        _x += ir[0];
        _y += ir[3];
        _w += ir[6];
      }
    }
  } else {
    double k[14];
    double u0 = K[2], v0 = K[5], fx = K[0], fy = K[4];
    double k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4;
    pad_dist (view->model == MB_DIST_NONE ? NULL : view->D, view->n_d, k);
    k1 = k[0];
    k2 = k[1];
    p1 = k[2];
    p2 = k[3];
    k3 = k[4];
    k4 = k[5];
    k5 = k[6];
    k6 = k[7];
    s1 = k[8];
    s2 = k[9];
    s3 = k[10];
    s4 = k[11];
    for (i = 0; i < height; i++) {
      double _x = i * ir[1] + ir[2], _y = i * ir[4] + ir[5],
          _w = i * ir[7] + ir[8];
      size_t o = (size_t) i * width;
      for (j = 0; j < width; j++, o++) {
        double w = 1. / _w, x = _x * w, y = _y * w;
        double x2 = x * x, y2 = y * y;
        double r2 = x2 + y2, _2xy = 2 * x * y;
        double kr = (1 + ((k3 * r2 + k2) * r2 + k1) * r2) /
            (1 + ((k6 * r2 + k5) * r2 + k4) * r2);
        double xd = x * kr + p1 * _2xy + p2 * (r2 + 2 * x2) + s1 * r2 +
            s2 * r2 * r2;
        double yd = y * kr + p1 * (r2 + 2 * y2) + p2 * _2xy + s3 * r2 +
            s4 * r2 * r2;
        store (map, o, fx * xd + u0, fy * yd + v0);
        _x += ir[0];
        _y += ir[3];
        _w += ir[6];
      }
    }
  }
  return 0;
}
