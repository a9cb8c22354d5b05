/* Benchmark: stereorectify's remap kernel (single thread) on the maps of a
 * calibration, over a raw frame. Prints one JSON line with the median
 * ms/frame. Driven by bench/rectify/run (which times cv2.remap on the same
 * calibration in the same run).
 * Usage: bench-remap CALIB FORMAT(gray|rgb|rgbx|nv12) WIDTH HEIGHT VIEWS RAWFILE ITERS
 *   VIEWS = 1 (mono) or 2 (side by side; WIDTH is the whole frame)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "calib.h"
#include "rectmap.h"
#include "remap.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_ms (void)
{
  struct timespec ts;
  /* CPU time of this thread: robust against other load on the machine */
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  MbCalib calib;
  MbViewParams views[2];
  MbRemapMap maps[2][2];
  char *err = NULL, *raw = NULL;
  gsize raw_len;
  int W, H, nv, vw, cn, iters, i, v, nplanes;
  gboolean nv12;
  double *t;
  uint8_t *out, border[4] = { 0, 0, 0, 255 };

  if (argc != 8) {
    fprintf (stderr, "usage: %s CALIB FORMAT WIDTH HEIGHT VIEWS RAW ITERS\n",
        argv[0]);
    return 2;
  }
  W = atoi (argv[3]);
  H = atoi (argv[4]);
  nv = atoi (argv[5]);
  iters = atoi (argv[7]);
  nv12 = strcmp (argv[2], "nv12") == 0;
  cn = !strcmp (argv[2], "rgb") ? 3 : !strcmp (argv[2], "rgbx") ? 4 : 1;
  nplanes = nv12 ? 2 : 1;
  vw = W / nv;
  memset (maps, 0, sizeof (maps));
  if (mb_calib_load_file (argv[1], &calib, &err) != 0 ||
      mb_rect_views (&calib, vw, H, -1, views, &err) < 0) {
    fprintf (stderr, "%s\n", err);
    return 1;
  }
  for (v = 0; v < nv; v++) {
    mb_rect_build_map (&views[v], vw, H, 1, 1, 0, 0, &maps[v][0]);
    if (nv12)
      mb_rect_build_map (&views[v], vw / 2, H / 2, 2, 2, 0.5, 0.5,
          &maps[v][1]);
  }
  if (g_getenv ("MB_BENCH_DUMP_MAP")) {
    /* view 0, plane 0 map as int16 x,y pairs then uint16 indices, for the
     * driver to compare with OpenCV's CV_16SC2 + CV_16UC1 maps */
    FILE *f = fopen (g_getenv ("MB_BENCH_DUMP_MAP"), "wb");
    size_t np = (size_t) maps[0][0].width * maps[0][0].height;
    if (!f || fwrite (maps[0][0].xy, 4, np, f) != np ||
        fwrite (maps[0][0].idx, 2, np, f) != np) {
      fprintf (stderr, "cannot dump the map\n");
      return 1;
    }
    fclose (f);
  }
  if (!g_file_get_contents (argv[6], &raw, &raw_len, NULL) ||
      raw_len < (gsize) W * H * cn * (nv12 ? 3 : 2) / 2) {
    fprintf (stderr, "bad raw file\n");
    return 1;
  }
  out = malloc ((size_t) W * H * cn * 2);
  t = malloc (sizeof (double) * iters);
  for (i = -5; i < iters; i++) {
    double t0 = now_ms ();
    int p;
    for (p = 0; p < nplanes; p++) {
      int pcn = p ? 2 : cn, pw = p ? W / 2 : W, ph = p ? H / 2 : H;
      size_t off = p ? (size_t) W * H : 0;
      for (v = 0; v < nv; v++) {
        int pvw = pw / nv;
        MbPlane src = { (uint8_t *) raw + off + (size_t) v * pvw * pcn, pvw,
          ph, (ptrdiff_t) pw * pcn
        };
        MbPlane dst = { out + off + (size_t) v * pvw * pcn, pvw, ph,
          (ptrdiff_t) pw * pcn
        };
        mb_remap (&src, &dst, pcn, &maps[v][p], MB_INTERP_BILINEAR, border, 0,
            ph);
      }
    }
    if (i >= 0)
      t[i] = now_ms () - t0;
  }
  qsort (t, iters, sizeof (double), cmp_double);
  printf ("{\"median_ms\": %.4f, \"min_ms\": %.4f, \"impl\": \"%s\"}\n",
      t[iters / 2], t[0], mb_remap_impl ());
  free (out);
  free (t);
  g_free (raw);
  for (v = 0; v < nv; v++) {
    mb_remap_map_free (&maps[v][0]);
    mb_remap_map_free (&maps[v][1]);
  }
  return 0;
}
