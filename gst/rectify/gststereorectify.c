/* membound: stereorectify
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-stereorectify
 * @title: stereorectify
 *
 * Rectifies (or, for one camera, undistorts) raw video frames with the
 * calibration files people already have, without OpenCV:
 *
 * * OpenCV FileStorage YAML or XML as written by stereo calibration scripts
 *   (M1/D1/M2/D2 or K1/D1/K2/D2, R, T, optional R1/R2/P1/P2, image_width /
 *   image_height or imageSize), also split in two files as OpenCV's
 *   stereo_calib sample writes them (calibration=intrinsics.yml,extrinsics.yml),
 *   or a mono one (camera_matrix / distortion_coefficients, or
 *   cameraMatrix / distCoeffs);
 * * ROS camera_info YAML, one per camera (#GstStereoRectify:left-calibration
 *   and #GstStereoRectify:right-calibration), or one alone for mono
 *   undistortion;
 * * Kalibr camchain YAML (pinhole, radtan or equidistant, T_cn_cnm1).
 *
 * Distortion models: plumb_bob/radtan (k1 k2 p1 p2 [k3]),
 * rational_polynomial (8 coefficients), equidistant/fisheye (k1..k4). An
 * OpenCV file may add `distortion_model: fisheye` to mark fisheye
 * coefficients. When the file has no R1/R2/P1/P2, they are computed as
 * OpenCV's stereoRectify does with CALIB_ZERO_DISPARITY (fisheye::stereoRectify
 * for equidistant lenses) using #GstStereoRectify:alpha.
 *
 * A stereo frame carries both cameras side by side (left | right) or top
 * and bottom (left on top), see #GstStereoRectify:layout; caps with
 * multiview-flags=right-view-first swap the two. Maps are built
 * once per caps or calibration change in a compact fixed-point form
 * (integer source pixel plus a 1/32-pixel bilinear weight index) and
 * applied by SIMD kernels whose bilinear output equals OpenCV's
 * cv::remap(INTER_LINEAR, BORDER_CONSTANT). Chroma planes of NV12 and I420
 * use a half-resolution map derived from the same camera model, honouring
 * the caps' chroma-site (centred unless co-sited).
 *
 * Errors are posted before data flows: an unreadable or invalid calibration
 * when the element starts, an image size that does not match the
 * calibration when caps arrive. A calibration or alpha changed while
 * playing is applied between two frames.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,format=RGBx,width=2560,height=720 ! stereorectify calibration=stereo.yml ! videoconvert ! autovideosink
 * ]| Rectifies a side-by-side stereo stream with an OpenCV stereo calibration.
 * |[
 * gst-launch-1.0 -e v4l2src ! video/x-raw,width=2560,height=720 ! videoconvert ! video/x-raw,format=I420 ! stereorectify left-calibration=left.yaml right-calibration=right.yaml ! jpegenc ! multifilesink location=pair-%05d.jpg
 * ]| Rectifies a USB stereo camera with ROS camera_info files and stores JPEGs.
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=50 ! video/x-raw,format=GRAY8,width=1280,height=720 ! stereorectify calibration=camera_info.yaml layout=mono interpolation=nearest ! fakesink
 * ]| Undistorts one camera.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gststereorectify.h"
#include "rectmap.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_stereo_rectify_debug);
#define GST_CAT_DEFAULT gst_stereo_rectify_debug

#define DEFAULT_LAYOUT GST_STEREO_RECTIFY_LAYOUT_AUTO
#define DEFAULT_ALPHA -1.0
#define DEFAULT_INTERPOLATION GST_STEREO_RECTIFY_INTERPOLATION_BILINEAR
#define DEFAULT_BORDER_COLOR 0xff000000
#define DEFAULT_N_THREADS 1

enum
{
  PROP_0,
  PROP_CALIBRATION,
  PROP_LEFT_CALIBRATION,
  PROP_RIGHT_CALIBRATION,
  PROP_LAYOUT,
  PROP_ALPHA,
  PROP_INTERPOLATION,
  PROP_BORDER_COLOR,
  PROP_N_THREADS,
};

#define FORMATS "{ GRAY8, RGB, BGR, RGBA, BGRA, RGBx, BGRx, NV12, I420 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (FORMATS)));

#define GST_TYPE_STEREO_RECTIFY_LAYOUT (gst_stereo_rectify_layout_get_type ())
static GType
gst_stereo_rectify_layout_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STEREO_RECTIFY_LAYOUT_AUTO,
        "side-by-side or top-bottom from the caps' multiview-mode, else "
        "side-by-side for a stereo calibration and mono for one camera",
        "auto"},
    {GST_STEREO_RECTIFY_LAYOUT_MONO, "One camera per frame", "mono"},
    {GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE,
        "Left camera in the left half, right camera in the right half",
        "side-by-side"},
    {GST_STEREO_RECTIFY_LAYOUT_TOP_BOTTOM, "Left camera on top",
        "top-bottom"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStereoRectifyLayout", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_STEREO_RECTIFY_INTERPOLATION \
  (gst_stereo_rectify_interpolation_get_type ())
static GType
gst_stereo_rectify_interpolation_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STEREO_RECTIFY_INTERPOLATION_NEAREST, "Nearest source pixel",
        "nearest"},
    {GST_STEREO_RECTIFY_INTERPOLATION_BILINEAR,
        "Bilinear, 1/32 pixel (OpenCV INTER_LINEAR)", "bilinear"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStereoRectifyInterpolation",
        values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define gst_stereo_rectify_parent_class parent_class
G_DEFINE_TYPE (GstStereoRectify, gst_stereo_rectify, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (stereorectify, "stereorectify", GST_RANK_NONE,
    GST_TYPE_STEREO_RECTIFY);

static void gst_stereo_rectify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_stereo_rectify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static void gst_stereo_rectify_finalize (GObject * object);
static gboolean gst_stereo_rectify_start (GstBaseTransform * trans);
static gboolean gst_stereo_rectify_stop (GstBaseTransform * trans);
static gboolean gst_stereo_rectify_set_info (GstVideoFilter * filter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);
static GstFlowReturn gst_stereo_rectify_transform_frame (GstVideoFilter *
    filter, GstVideoFrame * in, GstVideoFrame * out);
static void job_func (gpointer data, gpointer user_data);

static void
gst_stereo_rectify_class_init (GstStereoRectifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_stereo_rectify_debug, "stereorectify", 0,
      "Stereo rectification and undistortion");

  gobject_class->set_property = gst_stereo_rectify_set_property;
  gobject_class->get_property = gst_stereo_rectify_get_property;
  gobject_class->finalize = gst_stereo_rectify_finalize;

  g_object_class_install_property (gobject_class, PROP_CALIBRATION,
      g_param_spec_string ("calibration", "Calibration",
          "Calibration file for the camera or the stereo pair: OpenCV "
          "FileStorage YAML/XML, ROS camera_info YAML (mono) or Kalibr "
          "camchain YAML; a comma-separated list merges files (OpenCV's "
          "intrinsics.yml,extrinsics.yml); takes precedence over "
          "left-/right-calibration",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LEFT_CALIBRATION,
      g_param_spec_string ("left-calibration", "Left calibration",
          "Calibration file of the left (or only) camera, e.g. a ROS "
          "camera_info YAML", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_RIGHT_CALIBRATION,
      g_param_spec_string ("right-calibration", "Right calibration",
          "Calibration file of the right camera, e.g. a ROS camera_info YAML",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LAYOUT,
      g_param_spec_enum ("layout", "Layout",
          "How the cameras share a frame (auto = the caps' multiview-mode "
          "when side-by-side or top-bottom, else by the calibration)",
          GST_TYPE_STEREO_RECTIFY_LAYOUT, DEFAULT_LAYOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_ALPHA,
      g_param_spec_double ("alpha", "Alpha",
          "Free scaling when rectification is computed (OpenCV's alpha, "
          "fisheye balance): 0 = only valid pixels, 1 = all source pixels, "
          "-1 = OpenCV's default (no scaling; mono: keep the camera matrix)",
          -1.0, 1.0, DEFAULT_ALPHA,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_INTERPOLATION,
      g_param_spec_enum ("interpolation", "Interpolation",
          "Interpolation of source pixels",
          GST_TYPE_STEREO_RECTIFY_INTERPOLATION, DEFAULT_INTERPOLATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BORDER_COLOR,
      g_param_spec_uint ("border-color", "Border color",
          "Colour of output pixels whose source is outside the image, as "
          "ARGB 0xAARRGGBB (converted to the stream's format)",
          0, G_MAXUINT32, DEFAULT_BORDER_COLOR,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_N_THREADS,
      g_param_spec_uint ("n-threads", "Threads",
          "Threads that remap row slices of each frame (1 = only the "
          "streaming thread, 0 = one per CPU core)",
          0, MB_RECTIFY_MAX_THREADS, DEFAULT_N_THREADS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Stereo rectification", "Filter/Effect/Video",
      "Rectifies stereo pairs and undistorts cameras from OpenCV, ROS "
      "camera_info or Kalibr calibration files",
      "membound developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_stereo_rectify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_stereo_rectify_stop);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_stereo_rectify_set_info);
  filter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_stereo_rectify_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_STEREO_RECTIFY_LAYOUT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STEREO_RECTIFY_INTERPOLATION, 0);
}

static void
gst_stereo_rectify_init (GstStereoRectify * self)
{
  self->layout = DEFAULT_LAYOUT;
  self->alpha = DEFAULT_ALPHA;
  self->interpolation = DEFAULT_INTERPOLATION;
  self->border_color = DEFAULT_BORDER_COLOR;
  self->n_threads = DEFAULT_N_THREADS;
  g_mutex_init (&self->job_lock);
  g_cond_init (&self->job_cond);
}

static void
free_maps (GstStereoRectify * self)
{
  gint v, p;
  for (v = 0; v < MB_RECTIFY_MAX_VIEWS; v++)
    for (p = 0; p < 2; p++)
      mb_remap_map_free (&self->maps[v][p]);
  self->maps_valid = FALSE;
}

static void
free_pool (GstStereoRectify * self)
{
  if (self->pool) {
    g_thread_pool_free (self->pool, FALSE, TRUE);
    self->pool = NULL;
    self->pool_threads = 0;
  }
}

static void
gst_stereo_rectify_finalize (GObject * object)
{
  GstStereoRectify *self = GST_STEREO_RECTIFY (object);

  free_pool (self);
  free_maps (self);
  g_free (self->calibration);
  g_free (self->left_calibration);
  g_free (self->right_calibration);
  g_free (self->calib_name);
  g_mutex_clear (&self->job_lock);
  g_cond_clear (&self->job_cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_stereo_rectify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstStereoRectify *self = GST_STEREO_RECTIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CALIBRATION:
      g_free (self->calibration);
      self->calibration = g_value_dup_string (value);
      self->calib_changed = TRUE;
      break;
    case PROP_LEFT_CALIBRATION:
      g_free (self->left_calibration);
      self->left_calibration = g_value_dup_string (value);
      self->calib_changed = TRUE;
      break;
    case PROP_RIGHT_CALIBRATION:
      g_free (self->right_calibration);
      self->right_calibration = g_value_dup_string (value);
      self->calib_changed = TRUE;
      break;
    case PROP_LAYOUT:
      self->layout = g_value_get_enum (value);
      break;
    case PROP_ALPHA:
      self->alpha = g_value_get_double (value);
      self->calib_changed = TRUE;
      break;
    case PROP_INTERPOLATION:
      self->interpolation = g_value_get_enum (value);
      break;
    case PROP_BORDER_COLOR:
      self->border_color = g_value_get_uint (value);
      break;
    case PROP_N_THREADS:
      self->n_threads = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_stereo_rectify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstStereoRectify *self = GST_STEREO_RECTIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CALIBRATION:
      g_value_set_string (value, self->calibration);
      break;
    case PROP_LEFT_CALIBRATION:
      g_value_set_string (value, self->left_calibration);
      break;
    case PROP_RIGHT_CALIBRATION:
      g_value_set_string (value, self->right_calibration);
      break;
    case PROP_LAYOUT:
      g_value_set_enum (value, self->layout);
      break;
    case PROP_ALPHA:
      g_value_set_double (value, self->alpha);
      break;
    case PROP_INTERPOLATION:
      g_value_set_enum (value, self->interpolation);
      break;
    case PROP_BORDER_COLOR:
      g_value_set_uint (value, self->border_color);
      break;
    case PROP_N_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Loads the calibration named by the properties (read under the lock, the
 * files read without it). Posts the error itself. */
static gboolean
load_calibration (GstStereoRectify * self)
{
  gchar *both, *left, *right, *err = NULL;
  MbCalib calib;
  int r;

  GST_OBJECT_LOCK (self);
  both = g_strdup (self->calibration);
  left = g_strdup (self->left_calibration);
  right = g_strdup (self->right_calibration);
  self->calib_changed = FALSE;
  GST_OBJECT_UNLOCK (self);

  g_free (self->calib_name);
  self->calib_name = NULL;
  self->have_calib = FALSE;

  if (both && *both) {
    r = mb_calib_load_file (both, &calib, &err);
    self->calib_name = g_strdup (both);
  } else if (left && *left && right && *right) {
    r = mb_calib_load_pair (left, right, &calib, &err);
    self->calib_name = g_strdup_printf ("%s' and '%s", left, right);
  } else if (left && *left) {
    r = mb_calib_load_file (left, &calib, &err);
    self->calib_name = g_strdup (left);
  } else {
    r = -1;
    err = g_strdup (right && *right ? "right-calibration is set without "
        "left-calibration" : "no calibration file set (set 'calibration', "
        "or 'left-calibration' and 'right-calibration')");
  }

  if (r != 0) {
    /* a missing file is RESOURCE/NOT_FOUND, bad content RESOURCE/SETTINGS */
    gboolean missing = FALSE;
    const gchar *names[] = { both, left, right };
    guint i;
    for (i = 0; i < G_N_ELEMENTS (names); i++) {
      gchar **parts;
      guint k;
      if (!names[i] || !*names[i] || (i > 0 && both && *both) ||
          g_file_test (names[i], G_FILE_TEST_EXISTS))
        continue;
      /* a missing name, or a list (a,b) with a missing member */
      parts = g_strsplit (names[i], ",", 8);
      for (k = 0; parts[k]; k++)
        if (!g_file_test (parts[k], G_FILE_TEST_EXISTS))
          missing = TRUE;
      g_strfreev (parts);
    }
    if (missing)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Cannot use the calibration: %s", err), ("calibration=%s "
              "left-calibration=%s right-calibration=%s", GST_STR_NULL (both),
              GST_STR_NULL (left), GST_STR_NULL (right)));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Cannot use the calibration: %s", err), ("calibration=%s "
              "left-calibration=%s right-calibration=%s", GST_STR_NULL (both),
              GST_STR_NULL (left), GST_STR_NULL (right)));
  } else {
    self->calib = calib;
    self->have_calib = TRUE;
    GST_INFO_OBJECT (self, "loaded calibration '%s': %d camera(s)",
        self->calib_name, calib.n_cams);
  }
  g_free (err);
  g_free (both);
  g_free (left);
  g_free (right);
  return r == 0;
}

static gboolean
gst_stereo_rectify_start (GstBaseTransform * trans)
{
  GstStereoRectify *self = GST_STEREO_RECTIFY (trans);

  free_maps (self);
  return load_calibration (self);
}

static gboolean
gst_stereo_rectify_stop (GstBaseTransform * trans)
{
  GstStereoRectify *self = GST_STEREO_RECTIFY (trans);

  free_pool (self);
  free_maps (self);
  self->have_calib = FALSE;
  return TRUE;
}

static const gchar *
layout_nick (GstStereoRectifyLayout l)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek
      (GST_TYPE_STEREO_RECTIFY_LAYOUT), l);
  return v ? v->value_nick : "?";
}

/* Builds the maps for @info from the loaded calibration; posts errors. */
static gboolean
build_maps (GstStereoRectify * self, const GstVideoInfo * info)
{
  GstStereoRectifyLayout layout;
  GstVideoMultiviewMode mv = GST_VIDEO_INFO_MULTIVIEW_MODE (info);
  gint W = GST_VIDEO_INFO_WIDTH (info), H = GST_VIDEO_INFO_HEIGHT (info);
  gboolean subsampled = GST_VIDEO_INFO_N_PLANES (info) > 1;
  MbViewParams views[2];
  gdouble alpha;
  gchar *err = NULL;
  gint n, v, i;
  gdouble off_x, off_y;
  GstVideoChromaSite site = GST_VIDEO_INFO_CHROMA_SITE (info);

  free_maps (self);
  if (!self->have_calib)
    return FALSE;

  GST_OBJECT_LOCK (self);
  layout = self->layout;
  alpha = self->alpha;
  GST_OBJECT_UNLOCK (self);

  if (mv != GST_VIDEO_MULTIVIEW_MODE_NONE &&
      mv != GST_VIDEO_MULTIVIEW_MODE_MONO &&
      mv != GST_VIDEO_MULTIVIEW_MODE_SIDE_BY_SIDE &&
      mv != GST_VIDEO_MULTIVIEW_MODE_TOP_BOTTOM) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Caps multiview-mode '%s' is not supported (side-by-side, "
            "top-bottom or mono)", GST_STR_NULL
            (gst_video_multiview_mode_to_caps_string (mv))), (NULL));
    return FALSE;
  }
  if (layout == GST_STEREO_RECTIFY_LAYOUT_AUTO) {
    if (mv == GST_VIDEO_MULTIVIEW_MODE_SIDE_BY_SIDE)
      layout = GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE;
    else if (mv == GST_VIDEO_MULTIVIEW_MODE_TOP_BOTTOM)
      layout = GST_STEREO_RECTIFY_LAYOUT_TOP_BOTTOM;
    else
      /* "mono" in caps is what most sources say by default (videotestsrc,
       * videoconvert), so it does not override a stereo calibration */
      layout = self->calib.n_cams == 2 ?
          GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE :
          GST_STEREO_RECTIFY_LAYOUT_MONO;
  }

  self->view_w = W;
  self->view_h = H;
  self->n_views = 1;
  if (layout == GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE) {
    self->view_w = W / 2;
    self->n_views = 2;
  } else if (layout == GST_STEREO_RECTIFY_LAYOUT_TOP_BOTTOM) {
    self->view_h = H / 2;
    self->n_views = 2;
  }
  self->layout_used = layout;
  /* caps may say the right camera comes first (left half / top) */
  self->right_first = self->n_views == 2 &&
      (GST_VIDEO_INFO_MULTIVIEW_FLAGS (info) &
      GST_VIDEO_MULTIVIEW_FLAGS_RIGHT_VIEW_FIRST);

  if (self->n_views == 2 && self->calib.n_cams != 2) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Calibration '%s' describes one camera, but the layout is %s",
            self->calib_name, layout_nick (layout)),
        ("set layout=mono or give a stereo calibration"));
    return FALSE;
  }
  if (self->n_views == 2 && (layout == GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE
          ? W : H) % (subsampled ? 4 : 2) != 0) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Frame size %dx%d cannot be split into two %s views%s", W, H,
            layout_nick (layout), subsampled ? " with whole chroma samples" :
            ""), (NULL));
    return FALSE;
  }
  for (i = 0; i < self->n_views; i++) {
    const MbCamCalib *cam = &self->calib.cam[i];
    if (cam->width && (cam->width != self->view_w ||
            cam->height != self->view_h)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("Calibration '%s' is for %dx%d images, but the %s camera's "
              "image is %dx%d (caps %dx%d, layout %s)", self->calib_name,
              cam->width, cam->height, i == 0 ? "left" : "right",
              self->view_w, self->view_h, W, H, layout_nick (layout)),
          (NULL));
      return FALSE;
    }
  }

  n = mb_rect_views (&self->calib, self->view_w, self->view_h, alpha, views,
      &err);
  if (n < 0) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Calibration '%s': %s", self->calib_name, err), (NULL));
    g_free (err);
    return FALSE;
  }

  off_x = (site & GST_VIDEO_CHROMA_SITE_H_COSITED) ? 0.0 : 0.5;
  off_y = (site & GST_VIDEO_CHROMA_SITE_V_COSITED) ? 0.0 : 0.5;
  /* maps[v] is for frame region v (left half / top first) */
  for (v = 0; v < self->n_views; v++) {
    const MbViewParams *cv = &views[self->right_first ? 1 - v : v];
    if (mb_rect_build_map (cv, self->view_w, self->view_h, 1, 1, 0, 0,
            &self->maps[v][0]) != 0 || (subsampled &&
            mb_rect_build_map (cv, (self->view_w + 1) / 2,
                (self->view_h + 1) / 2, 2, 2, off_x, off_y,
                &self->maps[v][1]) != 0)) {
      GST_ELEMENT_ERROR (self, STREAM, FORMAT,
          ("Calibration '%s': cannot build the rectification map (singular "
              "projection or out of memory)", self->calib_name), (NULL));
      free_maps (self);
      return FALSE;
    }
    GST_DEBUG_OBJECT (self, "region %d: P = [%g %g %g; %g %g %g]", v,
        cv->P[0], cv->P[1], cv->P[2], cv->P[3], cv->P[4], cv->P[5]);
  }
  GST_INFO_OBJECT (self, "maps built: layout %s%s, %d view(s) of %dx%d, "
      "kernel %s", layout_nick (layout), self->right_first ?
      " (right view first)" : "", self->n_views, self->view_w, self->view_h,
      mb_remap_impl ());
  self->maps_valid = TRUE;
  return TRUE;
}

static gboolean
gst_stereo_rectify_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstStereoRectify *self = GST_STEREO_RECTIFY (filter);
  gboolean changed;

  GST_OBJECT_LOCK (self);
  changed = self->calib_changed;
  GST_OBJECT_UNLOCK (self);
  if ((changed || !self->have_calib) && !load_calibration (self))
    return FALSE;
  return build_maps (self, in_info);
}

/* ------------------------------------------------------------ frames */

typedef struct
{
  MbPlane src, dst;
  const MbRemapMap *map;
  gint cn;
  guint8 border[4];
} PlaneJob;

struct _MbRectifyJob
{
  GstStereoRectify *self;
  PlaneJob planes[MB_RECTIFY_MAX_VIEWS * 3];
  gint n_planes;
  MbInterp interp;
  guint n_slices;
  guint slice;
};

static void
run_slice (const MbRectifyJob * job, guint slice)
{
  gint i;
  for (i = 0; i < job->n_planes; i++) {
    const PlaneJob *p = &job->planes[i];
    gint h = p->map->height;
    gint r0 = (gint) ((gint64) h * slice / job->n_slices);
    gint r1 = (gint) ((gint64) h * (slice + 1) / job->n_slices);
    mb_remap (&p->src, (MbPlane *) & p->dst, p->cn, p->map, job->interp,
        p->border, r0, r1);
  }
}

static void
job_func (gpointer data, gpointer user_data)
{
  MbRectifyJob *job = data;
  GstStereoRectify *self = job->self;

  run_slice (job, job->slice);
  g_mutex_lock (&self->job_lock);
  if (--self->jobs_left == 0)
    g_cond_signal (&self->job_cond);
  g_mutex_unlock (&self->job_lock);
}

static guint8
clamp_u8 (gdouble v)
{
  return (guint8) CLAMP (v + 0.5, 0.0, 255.0);
}

/* Border bytes for each plane of @info from ARGB. */
static void
border_bytes (const GstVideoInfo * info, guint argb, guint8 out[3][4])
{
  const GstVideoFormatInfo *f = info->finfo;
  guint a = (argb >> 24) & 0xff, r = (argb >> 16) & 0xff, g =
      (argb >> 8) & 0xff, b = argb & 0xff;

  memset (out, 0xff, 3 * 4);
  if (GST_VIDEO_FORMAT_INFO_IS_RGB (f)) {
    out[0][f->poffset[GST_VIDEO_COMP_R]] = r;
    out[0][f->poffset[GST_VIDEO_COMP_G]] = g;
    out[0][f->poffset[GST_VIDEO_COMP_B]] = b;
    if (GST_VIDEO_FORMAT_INFO_HAS_ALPHA (f))
      out[0][f->poffset[GST_VIDEO_COMP_A]] = a;
  } else {
    gdouble Kr, Kb, ey, pb, pr;
    gboolean full = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
    if (!gst_video_color_matrix_get_Kr_Kb (info->colorimetry.matrix, &Kr,
            &Kb)) {
      Kr = 0.299;
      Kb = 0.114;
    }
    ey = (Kr * r + (1 - Kr - Kb) * g + Kb * b) / 255.0;
    pb = (b / 255.0 - ey) / (2 * (1 - Kb));
    pr = (r / 255.0 - ey) / (2 * (1 - Kr));
    if (GST_VIDEO_INFO_FORMAT (info) == GST_VIDEO_FORMAT_GRAY8) {
      out[0][0] = clamp_u8 (255.0 * ey);
    } else {
      guint8 y = full ? clamp_u8 (255.0 * ey) : clamp_u8 (16 + 219.0 * ey);
      guint8 u = clamp_u8 (128 + (full ? 255.0 : 224.0) * pb);
      guint8 v = clamp_u8 (128 + (full ? 255.0 : 224.0) * pr);
      out[0][0] = y;
      if (GST_VIDEO_INFO_FORMAT (info) == GST_VIDEO_FORMAT_NV12) {
        out[1][0] = u;
        out[1][1] = v;
      } else {
        out[1][0] = u;
        out[2][0] = v;
      }
    }
  }
}

static GstFlowReturn
gst_stereo_rectify_transform_frame (GstVideoFilter * filter,
    GstVideoFrame * in, GstVideoFrame * out)
{
  GstStereoRectify *self = GST_STEREO_RECTIFY (filter);
  const GstVideoInfo *info = &in->info;
  MbRectifyJob job, jobs[MB_RECTIFY_MAX_THREADS];
  guint8 border[3][4];
  gboolean changed;
  guint argb, n_threads, t;
  gint v, p, n_planes = GST_VIDEO_FRAME_N_PLANES (in);

  GST_OBJECT_LOCK (self);
  changed = self->calib_changed;
  argb = self->border_color;
  n_threads = self->n_threads;
  job.interp = self->interpolation == GST_STEREO_RECTIFY_INTERPOLATION_NEAREST
      ? MB_INTERP_NEAREST : MB_INTERP_BILINEAR;
  GST_OBJECT_UNLOCK (self);

  if (changed) {
    GST_INFO_OBJECT (self, "calibration or alpha changed, rebuilding maps");
    if (!load_calibration (self) || !build_maps (self, &filter->in_info))
      return GST_FLOW_ERROR;
  }
  if (!self->maps_valid) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("No rectification map"),
        ("transform called before caps were set"));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  border_bytes (info, argb, border);
  job.self = self;
  job.n_planes = 0;
  for (v = 0; v < self->n_views; v++) {
    for (p = 0; p < n_planes; p++) {
      PlaneJob *pj = &job.planes[job.n_planes++];
      gint cn = GST_VIDEO_FRAME_COMP_PSTRIDE (in, p == 2 ? 2 : p);
      gint pw = GST_VIDEO_FRAME_COMP_WIDTH (in, p == 2 ? 2 : p);
      gint ph = GST_VIDEO_FRAME_COMP_HEIGHT (in, p == 2 ? 2 : p);
      gint vw = self->layout_used == GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE ?
          pw / 2 : pw;
      gint vh = self->layout_used == GST_STEREO_RECTIFY_LAYOUT_TOP_BOTTOM ?
          ph / 2 : ph;
      gsize in_off, out_off;
      gint in_stride = GST_VIDEO_FRAME_PLANE_STRIDE (in, p);
      gint out_stride = GST_VIDEO_FRAME_PLANE_STRIDE (out, p);

      if (self->layout_used == GST_STEREO_RECTIFY_LAYOUT_SIDE_BY_SIDE) {
        in_off = out_off = (gsize) v * vw * cn;
      } else {
        in_off = (gsize) v * vh * in_stride;
        out_off = (gsize) v * vh * out_stride;
      }
      pj->cn = cn;
      pj->map = &self->maps[v][p == 0 ? 0 : 1];
      pj->src.data = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (in, p) + in_off;
      pj->src.width = vw;
      pj->src.height = vh;
      pj->src.stride = in_stride;
      pj->dst.data = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (out, p) + out_off;
      pj->dst.width = vw;
      pj->dst.height = vh;
      pj->dst.stride = out_stride;
      memcpy (pj->border, border[p], 4);
      if (pj->map->width != vw || pj->map->height != vh) {
        GST_ELEMENT_ERROR (self, CORE, FAILED, ("Internal error"),
            ("plane %d: map %dx%d for a %dx%d view", p, pj->map->width,
                pj->map->height, vw, vh));
        return GST_FLOW_ERROR;
      }
    }
  }

  if (n_threads == 0)
    n_threads = g_get_num_processors ();
  n_threads = CLAMP (n_threads, 1, MB_RECTIFY_MAX_THREADS);
  job.n_slices = n_threads;

  if (n_threads > 1) {
    if (!self->pool || self->pool_threads != n_threads - 1) {
      GError *gerr = NULL;
      free_pool (self);
      self->pool = g_thread_pool_new (job_func, NULL, n_threads - 1, TRUE,
          &gerr);
      if (!self->pool) {
        GST_WARNING_OBJECT (self, "cannot start %u threads (%s), remapping "
            "in the streaming thread", n_threads - 1,
            gerr ? gerr->message : "?");
        g_clear_error (&gerr);
        job.n_slices = 1;
        run_slice (&job, 0);
        return GST_FLOW_OK;
      }
      self->pool_threads = n_threads - 1;
    }
    g_mutex_lock (&self->job_lock);
    self->jobs_left = n_threads - 1;
    g_mutex_unlock (&self->job_lock);
    for (t = 1; t < n_threads; t++) {
      jobs[t] = job;
      jobs[t].slice = t;
      g_thread_pool_push (self->pool, &jobs[t], NULL);
    }
    run_slice (&job, 0);
    g_mutex_lock (&self->job_lock);
    while (self->jobs_left > 0)
      g_cond_wait (&self->job_cond, &self->job_lock);
    g_mutex_unlock (&self->job_lock);
  } else {
    run_slice (&job, 0);
  }
  return GST_FLOW_OK;
}
