/* membound: stereorectify, stereo rectification and undistortion.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_STEREO_RECTIFY_H__
#define __GST_STEREO_RECTIFY_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "calib.h"
#include "remap.h"

G_BEGIN_DECLS

#define GST_TYPE_STEREO_RECTIFY (gst_stereo_rectify_get_type ())
G_DECLARE_FINAL_TYPE (GstStereoRectify, gst_stereo_rectify, GST,
    STEREO_RECTIFY, GstVideoFilter)

/**
 * GstStereoRectifyLayout:
 * @GST_STEREO_RECTIFY_LAYOUT_AUTO: from the caps' multiview-mode when it is
 *   side-by-side or top-bottom, else side-by-side for a stereo calibration
 *   and mono for a single camera
 * @GST_STEREO_RECTIFY_LAYOUT_MONO: one camera per frame
 * @GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE: left camera in the left half,
 *   right camera in the right half
 * @GST_STEREO_RECTIFY_LAYOUT_TOP_BOTTOM: left camera on top
 */
typedef enum
{
  GST_STEREO_RECTIFY_LAYOUT_AUTO,
  GST_STEREO_RECTIFY_LAYOUT_MONO,
  GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE,
  GST_STEREO_RECTIFY_LAYOUT_TOP_BOTTOM,
} GstStereoRectifyLayout;

/**
 * GstStereoRectifyInterpolation:
 * @GST_STEREO_RECTIFY_INTERPOLATION_NEAREST: nearest source pixel
 * @GST_STEREO_RECTIFY_INTERPOLATION_BILINEAR: bilinear, 1/32 pixel
 *   (OpenCV INTER_LINEAR)
 */
typedef enum
{
  GST_STEREO_RECTIFY_INTERPOLATION_NEAREST,
  GST_STEREO_RECTIFY_INTERPOLATION_BILINEAR,
} GstStereoRectifyInterpolation;

#define MB_RECTIFY_MAX_VIEWS 2
#define MB_RECTIFY_MAX_THREADS 16

typedef struct _MbRectifyJob MbRectifyJob;

struct _GstStereoRectify
{
  GstVideoFilter parent;

  /* properties, under the object lock */
  gchar *calibration;
  gchar *left_calibration;
  gchar *right_calibration;
  GstStereoRectifyLayout layout;
  gdouble alpha;
  GstStereoRectifyInterpolation interpolation;
  guint border_color;
  guint n_threads;
  gboolean calib_changed;       /* maps must be rebuilt before the next frame */

  /* streaming thread only */
  MbCalib calib;
  gboolean have_calib;
  gchar *calib_name;            /* file name(s) for messages */
  GstStereoRectifyLayout layout_used;
  gint n_views;
  gint view_w, view_h;
  gboolean right_first;         /* caps: right camera in region 0 */
  MbRemapMap maps[MB_RECTIFY_MAX_VIEWS][2];     /* [view][luma, chroma] */
  gboolean maps_valid;

  /* row-slice workers */
  GThreadPool *pool;
  guint pool_threads;
  GMutex job_lock;
  GCond job_cond;
  gint jobs_left;
};

GST_ELEMENT_REGISTER_DECLARE (stereorectify);

G_END_DECLS

#endif /* __GST_STEREO_RECTIFY_H__ */
