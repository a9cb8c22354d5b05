/* Test helper: prints, as JSON, the per-view rectification (R and the new
 * camera matrix P[:, 0:3]) stereorectify computes for a calibration, so the
 * Python oracle test can compare them with cv2.stereoRectify.
 * Usage: rectify-dump FILE|LEFT,RIGHT WIDTH HEIGHT ALPHA
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "calib.h"
#include "rectmap.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
  MbCalib calib;
  MbViewParams views[2];
  char *err = NULL, **files;
  int n, v, i, r;

  if (argc != 5) {
    fprintf (stderr, "usage: %s FILE|LEFT,RIGHT WIDTH HEIGHT ALPHA\n",
        argv[0]);
    return 2;
  }
  files = g_strsplit (argv[1], ",", 2);
  if (files[1])
    r = mb_calib_load_pair (files[0], files[1], &calib, &err);
  else
    r = mb_calib_load_file (files[0], &calib, &err);
  g_strfreev (files);
  if (r != 0) {
    fprintf (stderr, "%s\n", err);
    g_free (err);
    return 1;
  }
  n = mb_rect_views (&calib, atoi (argv[2]), atoi (argv[3]),
      g_ascii_strtod (argv[4], NULL), views, &err);
  if (n < 0) {
    fprintf (stderr, "%s\n", err);
    g_free (err);
    return 1;
  }
  printf ("{\"views\": [");
  for (v = 0; v < n; v++) {
    printf ("%s{\"R\": [", v ? ", " : "");
    for (i = 0; i < 9; i++)
      printf ("%s%.17g", i ? ", " : "", views[v].R[i]);
    printf ("], \"P\": [");
    for (i = 0; i < 9; i++)
      printf ("%s%.17g", i ? ", " : "", views[v].P[i]);
    printf ("]}");
  }
  printf ("]}\n");
  return 0;
}
