/* Fuzz harness over the calibration parsers (OpenCV YAML/XML, ROS
 * camera_info, Kalibr) and, for inputs that parse, the rectification maths
 * and a small map build.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "calib.h"
#include "rectmap.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  MbCalib calib;
  MbViewParams views[2];
  char *err = NULL;
  int n, v;

  if (mb_calib_parse ((const char *) data, size, "fuzz", &calib, NULL,
          &err) != 0) {
    if (!err)
      abort ();                 /* every failure explains itself */
    g_free (err);
    return 0;
  }
  n = mb_rect_views (&calib, 32, 24, (size & 1) ? -1.0 : 0.5, views, &err);
  if (n < 0) {
    g_free (err);
    return 0;
  }
  for (v = 0; v < n; v++) {
    MbRemapMap map;
    if (mb_rect_build_map (&views[v], 32, 24, 1, 1, 0, 0, &map) == 0)
      mb_remap_map_free (&map);
    if (mb_rect_build_map (&views[v], 16, 12, 2, 2, 0.5, 0.5, &map) == 0)
      mb_remap_map_free (&map);
  }
  return 0;
}
