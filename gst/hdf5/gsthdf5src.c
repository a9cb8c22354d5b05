/* membound: hdf5src, plays an HDF5 dataset as a stream.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-hdf5src
 * @title: hdf5src
 * @see_also: hdf5sink, multifilesrc
 *
 * Plays one stream of an HDF5 file: a group written by hdf5sink (its `data`
 * dataset, the int64 `timestamp` dataset next to it and the `caps`
 * attribute), or any dataset that is either 1-D variable-length uint8 (one
 * blob per row, e.g. JPEG frames) or fixed-shape uint8/uint16 `[N, ...]`
 * (one frame per row, e.g. raw `[N, H, W, C]` video), with a `caps`
 * attribute on the dataset or its group, or the #GstHdf5Src:caps property.
 * Raw frames without caps get video/x-raw caps from their shape (`[N, H, W]`
 * GRAY8 / GRAY16_LE, `[N, H, W, 3]` RGB, or BGR when the attribute
 * `color_order` says so, `[N, H, W, 4]` RGBA). hdf5sink's ALOHA camera rows
 * (`/observations/images/<cam>`, zero-padded) are cut to their length in
 * `/compress_len` and timed from `/observations/timestamps/<cam>`.
 *
 * Timing: with a `timestamp` dataset the PTS of row i is `timestamp[i] -
 * timestamp[start-index]` and the stored value itself travels in a
 * GstReferenceTimestampMeta with caps `timestamp/x-unix` (a
 * `source_timestamp` dataset likewise as `timestamp/x-membound-source`), so
 * hdf5src ! hdf5sink writes the same timestamps back. Without timestamps
 * the caps framerate gives the times; without either, buffers carry no
 * timestamps and the stream can only be seeked by row.
 *
 * #GstHdf5Src:loop plays rows [start-index, stop-index) endlessly (frame
 * banks): each pass continues the previous one's timeline, the first row of
 * a pass coming one mean row interval after the last row of the previous
 * pass. TIME seeks (also into later passes when looping) go to the first
 * row at or after the target time; seeks in DEFAULT format go to a row
 * index (the buffer offset).
 *
 * Memory is bounded: rows are read #GstHdf5Src:batch-size at a time, and at
 * most #GstHdf5Src:max-buffers buffers exist at once (read ahead plus
 * downstream), raw frames from a buffer pool of that size, blobs wrapped
 * without a copy from HDF5's read buffer. Downstream elements that keep
 * more buffers than max-buffers stall the source.
 *
 * Errors (missing file, missing group or dataset, a dataset type that cannot
 * be played, frames that do not match the caps, read errors in a damaged or
 * truncated file) are posted as error messages naming the file and dataset.
 * HDF5 calls go through the process-wide lock shared with hdf5sink.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 hdf5src location=rec.h5 path=/cam_left ! jpegdec ! videoconvert ! autovideosink
 * ]| Plays the JPEG frames hdf5sink stored in group /cam_left at their
 * recorded pace.
 * |[
 * gst-launch-1.0 hdf5src location=bank.h5 path=/idle/data loop=true ! videoconvert ! autovideosink
 * ]| Loops a bank of raw `[N, H, W, 3]` frames endlessly.
 * |[
 * gst-launch-1.0 -e hdf5src location=rec.h5 path=/cam_left start-index=100 stop-index=200 ! hdf5sink location=clip.h5
 * ]| Copies rows 100 to 199 of a stream into a new file.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthdf5src.h"

#include <string.h>

#include "common/mbcommon.h"

GST_DEBUG_CATEGORY_STATIC (gst_hdf5_src_debug);
#define GST_CAT_DEFAULT gst_hdf5_src_debug

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_PATH,
  PROP_CAPS,
  PROP_LOOP,
  PROP_START_INDEX,
  PROP_STOP_INDEX,
  PROP_BATCH_SIZE,
  PROP_MAX_BUFFERS,
};

#define DEFAULT_LOCATION NULL
#define DEFAULT_PATH NULL
#define DEFAULT_LOOP FALSE
#define DEFAULT_START_INDEX 0
#define DEFAULT_STOP_INDEX -1
#define DEFAULT_BATCH_SIZE 8
#define DEFAULT_MAX_BUFFERS 32

/* rows of a single-row pass without framerate: 1/30 s */
#define SINGLE_ROW_PERIOD (GST_SECOND / 30)

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_hdf5_src_parent_class parent_class
G_DEFINE_TYPE (GstHdf5Src, gst_hdf5_src, GST_TYPE_BASE_SRC);
GST_ELEMENT_REGISTER_DEFINE (hdf5src, "hdf5src", GST_RANK_NONE,
    GST_TYPE_HDF5_SRC);

/* ------------------------------------------------------ blobs in flight */

/* Counts the blob buffers alive (read ahead or downstream); outlives the
 * element while such buffers exist. */
struct _GstHdf5SrcTracker
{
  gint ref;
  GMutex lock;
  GCond cond;
  guint in_flight;
  gboolean flushing;
};

typedef struct
{
  GstHdf5SrcTracker *tracker;
  gpointer data;
} BlobRef;

static GstHdf5SrcTracker *
tracker_new (void)
{
  GstHdf5SrcTracker *t = g_new0 (GstHdf5SrcTracker, 1);

  t->ref = 1;
  g_mutex_init (&t->lock);
  g_cond_init (&t->cond);
  return t;
}

static GstHdf5SrcTracker *
tracker_ref (GstHdf5SrcTracker * t)
{
  g_atomic_int_inc (&t->ref);
  return t;
}

static void
tracker_unref (GstHdf5SrcTracker * t)
{
  if (g_atomic_int_dec_and_test (&t->ref)) {
    g_mutex_clear (&t->lock);
    g_cond_clear (&t->cond);
    g_free (t);
  }
}

/* Waits until @n more buffers fit under @max; FALSE when flushing. */
static gboolean
tracker_reserve (GstHdf5SrcTracker * t, guint n, guint max)
{
  gboolean ok;

  g_mutex_lock (&t->lock);
  while (!t->flushing && t->in_flight + n > max)
    g_cond_wait (&t->cond, &t->lock);
  ok = !t->flushing;
  if (ok)
    t->in_flight += n;
  g_mutex_unlock (&t->lock);
  return ok;
}

static void
tracker_release (GstHdf5SrcTracker * t, guint n)
{
  g_mutex_lock (&t->lock);
  t->in_flight -= MIN (n, t->in_flight);
  g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->lock);
}

static void
tracker_set_flushing (GstHdf5SrcTracker * t, gboolean flushing)
{
  g_mutex_lock (&t->lock);
  t->flushing = flushing;
  g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->lock);
}

static void
blob_release (gpointer p)
{
  BlobRef *b = p;

  g_free (b->data);
  tracker_release (b->tracker, 1);
  tracker_unref (b->tracker);
  g_free (b);
}

static void *
blob_alloc (size_t size, void *ud)
{
  return g_malloc (size);
}

static void
blob_free (void *p, void *ud)
{
  g_free (p);
}

/* ----------------------------------------------------------- properties */

static void
gst_hdf5_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHdf5Src *src = GST_HDF5_SRC (object);

  GST_OBJECT_LOCK (src);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (src->location);
      src->location = g_value_dup_string (value);
      break;
    case PROP_PATH:
      g_free (src->path);
      src->path = g_value_dup_string (value);
      break;
    case PROP_CAPS:
      gst_caps_replace (&src->caps_prop, (GstCaps *) gst_value_get_caps (value));
      break;
    case PROP_LOOP:
      src->loop = g_value_get_boolean (value);
      break;
    case PROP_START_INDEX:
      src->start_index = g_value_get_uint64 (value);
      break;
    case PROP_STOP_INDEX:
      src->stop_index = g_value_get_int64 (value);
      break;
    case PROP_BATCH_SIZE:
      src->batch_size = g_value_get_uint (value);
      break;
    case PROP_MAX_BUFFERS:
      src->max_buffers = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (src);
}

static void
gst_hdf5_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHdf5Src *src = GST_HDF5_SRC (object);

  GST_OBJECT_LOCK (src);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, src->location);
      break;
    case PROP_PATH:
      g_value_set_string (value, src->path);
      break;
    case PROP_CAPS:
      gst_value_set_caps (value, src->caps_prop);
      break;
    case PROP_LOOP:
      g_value_set_boolean (value, src->loop);
      break;
    case PROP_START_INDEX:
      g_value_set_uint64 (value, src->start_index);
      break;
    case PROP_STOP_INDEX:
      g_value_set_int64 (value, src->stop_index);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, src->batch_size);
      break;
    case PROP_MAX_BUFFERS:
      g_value_set_uint (value, src->max_buffers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (src);
}

/* ---------------------------------------------------------------- setup */

/* video/x-raw caps from the shape of a frames dataset, or NULL. */
static GstCaps *
caps_from_shape (GstHdf5Src * src)
{
  const guint64 *dims = mb_h5_reader_dims (src->reader);
  int rank = mb_h5_reader_rank (src->reader);
  gsize sb = mb_h5_reader_sample_bytes (src->reader);
  const gchar *fmt = NULL;
  gchar *order;
  GstCaps *caps;
  guint64 c = rank == 4 ? dims[3] : 1;

  if (rank != 3 && rank != 4)
    return NULL;
  if (dims[1] == 0 || dims[2] == 0 || dims[1] > G_MAXINT || dims[2] > G_MAXINT)
    return NULL;
  order = mb_h5_reader_get_attr_string (src->reader, "color_order");
  if (c == 1)
    fmt = sb == 1 ? "GRAY8" : "GRAY16_LE";
  else if (c == 3 && sb == 1)
    fmt = order && g_ascii_strncasecmp (order, "BGR", 3) == 0 ? "BGR" : "RGB";
  else if (c == 4 && sb == 1)
    fmt = order && g_ascii_strncasecmp (order, "BGR", 3) == 0 ? "BGRA" :
        "RGBA";
  free (order);
  if (fmt == NULL)
    return NULL;
  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, fmt,
      "width", G_TYPE_INT, (gint) dims[2], "height", G_TYPE_INT,
      (gint) dims[1], "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
  return caps;
}

/* Checks raw video frames against the caps; decides the output size and
 * whether rows are spread to GstVideoInfo strides. */
static gboolean
setup_raw_video (GstHdf5Src * src, GstCaps * caps)
{
  GstVideoInfo *vi = &src->vinfo;
  gsize packed_stride, packed_size;

  if (!gst_video_info_from_caps (vi, caps))
    return FALSE;
  src->out_size = src->frame_bytes;
  if (GST_VIDEO_INFO_N_PLANES (vi) == 1) {
    packed_stride = (gsize) GST_VIDEO_INFO_WIDTH (vi) *
        GST_VIDEO_INFO_COMP_PSTRIDE (vi, 0);
    packed_size = packed_stride * GST_VIDEO_INFO_HEIGHT (vi);
    if (src->frame_bytes == packed_size) {
      src->repack = packed_stride != (gsize) GST_VIDEO_INFO_PLANE_STRIDE (vi, 0);
      src->out_size = MAX (packed_size, GST_VIDEO_INFO_SIZE (vi));
      return TRUE;
    }
  }
  return src->frame_bytes == GST_VIDEO_INFO_SIZE (vi);
}

/* Time of row @row relative to nothing (dataset value or framerate). */
static gboolean
row_time (GstHdf5Src * src, guint64 row, gint64 * t)
{
  if (src->has_ts)
    return mb_h5_reader_read_timestamps (src->reader, row, 1, t) == 0;
  if (GST_CLOCK_TIME_IS_VALID (src->frame_dur)) {
    *t = (gint64) (row * src->frame_dur);
    return TRUE;
  }
  return FALSE;
}

static void
post_read_error (GstHdf5Src * src)
{
  GST_ELEMENT_ERROR (src, RESOURCE, READ, ("Could not read \"%s\".",
          src->file), ("%s", mb_h5_reader_error (src->reader)));
}

static gboolean gst_hdf5_src_stop (GstBaseSrc * bsrc);

static gboolean
gst_hdf5_src_start (GstBaseSrc * bsrc)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);
  gchar *path, err[1024];
  GstCaps *caps_prop, *caps = NULL;
  MbH5ReaderErr code = MB_H5R_ERR_NONE;
  guint64 rows, start;
  gint64 stop;
  GstStructure *s;
  gint fps_n = 0, fps_d = 1;

  GST_OBJECT_LOCK (src);
  g_free (src->file);
  src->file = g_strdup (src->location);
  path = g_strdup (src->path);
  caps_prop = src->caps_prop ? gst_caps_ref (src->caps_prop) : NULL;
  start = src->start_index;
  stop = src->stop_index;
  src->batch = src->batch_size;
  src->looping = src->loop;
  src->max_in_flight = MAX (src->max_buffers, src->batch + 1);
  GST_OBJECT_UNLOCK (src);

  if (src->file == NULL || src->file[0] == '\0') {
    GST_ELEMENT_ERROR (src, RESOURCE, NOT_FOUND,
        ("No file name specified for reading."), (NULL));
    goto fail;
  }
  src->reader = mb_h5_reader_open (src->file, path, &code, err,
      sizeof (err));
  if (src->reader == NULL) {
    if (code == MB_H5R_ERR_NOT_FOUND
        && !g_file_test (src->file, G_FILE_TEST_EXISTS))
      GST_ELEMENT_ERROR (src, RESOURCE, NOT_FOUND,
          ("File \"%s\" does not exist.", src->file), ("%s", err));
    else if (code == MB_H5R_ERR_NOT_FOUND)
      GST_ELEMENT_ERROR (src, RESOURCE, NOT_FOUND,
          ("Could not find \"%s\" in \"%s\".", path ? path : "a data dataset",
              src->file), ("%s", err));
    else if (code == MB_H5R_ERR_TYPE)
      GST_ELEMENT_ERROR (src, STREAM, WRONG_TYPE,
          ("Cannot play the dataset in \"%s\".", src->file), ("%s", err));
    else
      GST_ELEMENT_ERROR (src, RESOURCE, OPEN_READ,
          ("Could not open \"%s\" for reading.", src->file), ("%s", err));
    goto fail;
  }
  src->kind = mb_h5_reader_kind (src->reader);
  src->frame_bytes = mb_h5_reader_frame_bytes (src->reader);
  src->out_size = src->frame_bytes;
  src->repack = FALSE;

  /* caps: property, attribute, or the shape of raw frames */
  if (caps_prop) {
    caps = gst_caps_ref (caps_prop);
  } else {
    gchar *str = mb_h5_reader_get_attr_string (src->reader, "caps");
    if (str) {
      caps = gst_caps_from_string (str);
      if (caps == NULL)
        GST_ELEMENT_ERROR (src, STREAM, FORMAT,
            ("Invalid caps attribute in \"%s\".", src->file),
            ("dataset %s: caps attribute \"%s\" does not parse",
                mb_h5_reader_data_path (src->reader), str));
      free (str);
      if (caps == NULL)
        goto fail;
    } else if (src->kind == MB_H5R_FRAMES) {
      caps = caps_from_shape (src);
    }
  }
  if (caps == NULL) {
    GST_ELEMENT_ERROR (src, STREAM, FORMAT,
        ("No caps for the dataset in \"%s\".", src->file),
        ("dataset %s has no caps attribute and its shape says nothing: "
            "set the caps property", mb_h5_reader_data_path (src->reader)));
    goto fail;
  }
  if (!gst_caps_is_fixed (caps)) {
    GST_ELEMENT_ERROR (src, STREAM, FORMAT,
        ("Caps for the dataset in \"%s\" are not fixed.", src->file),
        ("dataset %s: %" GST_PTR_FORMAT, mb_h5_reader_data_path (src->reader),
            caps));
    goto fail;
  }
  s = gst_caps_get_structure (caps, 0);
  if (src->kind == MB_H5R_FRAMES && gst_structure_has_name (s, "video/x-raw")
      && !setup_raw_video (src, caps)) {
    GST_ELEMENT_ERROR (src, STREAM, FORMAT,
        ("Frames in \"%s\" do not match their caps.", src->file),
        ("dataset %s: %" G_GSIZE_FORMAT " bytes per row, caps %"
            GST_PTR_FORMAT, mb_h5_reader_data_path (src->reader),
            src->frame_bytes, caps));
    goto fail;
  }

  /* rows and timing */
  rows = mb_h5_reader_rows (src->reader);
  src->end = stop < 0 ? rows : MIN ((guint64) stop, rows);
  src->first = MIN (start, src->end);
  if (start > src->end)
    GST_WARNING_OBJECT (src, "start-index %" G_GUINT64_FORMAT " beyond the "
        "%" G_GUINT64_FORMAT " rows played: nothing to play", start, src->end);
  src->has_ts = mb_h5_reader_has_timestamps (src->reader);
  src->has_src_ts = mb_h5_reader_has_source_timestamps (src->reader);
  src->frame_dur = GST_CLOCK_TIME_NONE;
  if (gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d)
      && fps_n > 0 && fps_d > 0)
    src->frame_dur = gst_util_uint64_scale_int (GST_SECOND, fps_d, fps_n);
  src->timed = src->has_ts || GST_CLOCK_TIME_IS_VALID (src->frame_dur);
  src->t0 = src->t_last = 0;
  src->period = 0;
  if (src->timed && src->end > src->first) {
    guint64 n = src->end - src->first;
    GstClockTime span, gap;

    if (!row_time (src, src->first, &src->t0)
        || !row_time (src, src->end - 1, &src->t_last)) {
      post_read_error (src);
      goto fail;
    }
    span = src->t_last > src->t0 ? (GstClockTime) (src->t_last - src->t0) : 0;
    if (n > 1)
      gap = span / (n - 1);
    else
      gap = GST_CLOCK_TIME_IS_VALID (src->frame_dur) ? src->frame_dur :
          SINGLE_ROW_PERIOD;
    src->period = span + MAX (gap, 1);
  }
  GST_INFO_OBJECT (src, "%s: %s rows [%" G_GUINT64_FORMAT ", %"
      G_GUINT64_FORMAT ") of %" G_GUINT64_FORMAT ", caps %" GST_PTR_FORMAT
      ", %s", src->file, mb_h5_reader_data_path (src->reader), src->first,
      src->end, rows, caps, src->has_ts ? "timestamps" :
      src->timed ? "framerate" : "untimed");

  src->ts_buf = g_new0 (gint64, src->batch + 1);
  src->src_ts_buf = g_new0 (gint64, src->batch + 1);
  src->blob_len = g_new0 (gsize, src->batch);
  src->padded = src->kind == MB_H5R_FRAMES
      && mb_h5_reader_has_row_lengths (src->reader);
  if (src->kind != MB_H5R_FRAMES) {
    /* blobs (vlen or packed) */
    src->blob_data = g_new0 (guint8 *, src->batch);
    src->tracker = tracker_new ();
  } else {
    GstStructure *config;

    src->pool = gst_buffer_pool_new ();
    config = gst_buffer_pool_get_config (src->pool);
    gst_buffer_pool_config_set_params (config, NULL, src->out_size, 0,
        src->max_in_flight);
    if (!gst_buffer_pool_set_config (src->pool, config)
        || !gst_buffer_pool_set_active (src->pool, TRUE)) {
      GST_ELEMENT_ERROR (src, RESOURCE, FAILED,
          ("Could not set up a buffer pool."), (NULL));
      goto fail;
    }
  }
  src->next = src->first;
  src->loop_count = 0;
  GST_OBJECT_LOCK (src);
  src->caps = caps;
  GST_OBJECT_UNLOCK (src);
  g_free (path);
  if (caps_prop)
    gst_caps_unref (caps_prop);
  return TRUE;

fail:
  if (caps)
    gst_caps_unref (caps);
  g_free (path);
  if (caps_prop)
    gst_caps_unref (caps_prop);
  gst_hdf5_src_stop (bsrc);
  return FALSE;
}

static void
clear_pending (GstHdf5Src * src)
{
  GstBuffer *b;

  while ((b = g_queue_pop_head (&src->pending)))
    gst_buffer_unref (b);
}

static gboolean
gst_hdf5_src_stop (GstBaseSrc * bsrc)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);

  clear_pending (src);
  if (src->pool) {
    gst_buffer_pool_set_active (src->pool, FALSE);
    gst_object_unref (src->pool);
    src->pool = NULL;
  }
  if (src->tracker) {
    tracker_unref (src->tracker);
    src->tracker = NULL;
  }
  g_clear_pointer (&src->ts_buf, g_free);
  g_clear_pointer (&src->src_ts_buf, g_free);
  g_clear_pointer (&src->blob_data, g_free);
  g_clear_pointer (&src->blob_len, g_free);
  GST_OBJECT_LOCK (src);
  gst_caps_replace (&src->caps, NULL);
  GST_OBJECT_UNLOCK (src);
  if (src->reader) {
    mb_h5_reader_close (src->reader);
    src->reader = NULL;
  }
  g_clear_pointer (&src->file, g_free);
  return TRUE;
}

static GstCaps *
gst_hdf5_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);
  GstCaps *caps = NULL;

  GST_OBJECT_LOCK (src);
  if (src->caps)
    caps = gst_caps_ref (src->caps);
  GST_OBJECT_UNLOCK (src);
  if (caps == NULL)
    caps = gst_pad_get_pad_template_caps (GST_BASE_SRC_PAD (bsrc));
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* ------------------------------------------------------------ streaming */

static gboolean
gst_hdf5_src_unlock (GstBaseSrc * bsrc)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);

  if (src->pool)
    gst_buffer_pool_set_flushing (src->pool, TRUE);
  if (src->tracker)
    tracker_set_flushing (src->tracker, TRUE);
  return TRUE;
}

static gboolean
gst_hdf5_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);

  if (src->pool)
    gst_buffer_pool_set_flushing (src->pool, FALSE);
  if (src->tracker)
    tracker_set_flushing (src->tracker, FALSE);
  return TRUE;
}

static void
spread_rows (GstHdf5Src * src, guint8 * data)
{
  GstVideoInfo *vi = &src->vinfo;
  gsize packed = (gsize) GST_VIDEO_INFO_WIDTH (vi) *
      GST_VIDEO_INFO_COMP_PSTRIDE (vi, 0);
  gsize stride = GST_VIDEO_INFO_PLANE_STRIDE (vi, 0);
  gint r;

  /* last row first: a row's target never overlaps earlier rows' sources */
  for (r = GST_VIDEO_INFO_HEIGHT (vi) - 1; r > 0; r--)
    memmove (data + r * stride, data + r * packed, packed);
}

static GstFlowReturn
read_frame (GstHdf5Src * src, guint64 row, GstBuffer ** out)
{
  GstBuffer *buf = NULL;
  GstMapInfo map = GST_MAP_INFO_INIT;
  GstFlowReturn ret;
  int rc;

  ret = gst_buffer_pool_acquire_buffer (src->pool, &buf, NULL);
  if (ret != GST_FLOW_OK)
    return ret;
  if (gst_buffer_get_size (buf) != src->out_size)       /* resized, reused */
    gst_buffer_set_size (buf, src->out_size);
  if (!gst_buffer_map (buf, &map, GST_MAP_WRITE) || map.size < src->out_size) {
    if (map.memory)
      gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (src, RESOURCE, FAILED, ("Could not map a buffer."),
        (NULL));
    return GST_FLOW_ERROR;
  }
  rc = mb_h5_reader_read_frame (src->reader, row, map.data);
  if (rc == 0 && src->repack)
    spread_rows (src, map.data);
  gst_buffer_unmap (buf, &map);
  if (rc != 0) {
    gst_buffer_unref (buf);
    post_read_error (src);
    return GST_FLOW_ERROR;
  }
  *out = buf;
  return GST_FLOW_OK;
}

static GstBuffer *
wrap_blob (GstHdf5Src * src, guint8 * data, gsize len)
{
  BlobRef *ref;

  if (len == 0 || data == NULL) {
    g_free (data);
    tracker_release (src->tracker, 1);
    return gst_buffer_new ();
  }
  ref = g_new (BlobRef, 1);
  ref->tracker = tracker_ref (src->tracker);
  ref->data = data;
  return gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, data, len, 0,
      len, ref, blob_release);
}

static void
stamp (GstHdf5Src * src, GstBuffer * buf, guint64 row, guint i, guint have)
{
  GstClockTime offset = src->loop_count * src->period;
  gint64 rel;

  GST_BUFFER_OFFSET (buf) = row;
  GST_BUFFER_OFFSET_END (buf) = row + 1;
  if (!src->timed)
    return;
  rel = MAX (src->ts_buf[i] - src->t0, 0);
  GST_BUFFER_PTS (buf) = offset + rel;
  if (i + 1 < have && src->ts_buf[i + 1] >= src->ts_buf[i])
    GST_BUFFER_DURATION (buf) = src->ts_buf[i + 1] - src->ts_buf[i];
  else if (row + 1 == src->end && src->period > (GstClockTime) rel)
    GST_BUFFER_DURATION (buf) = src->period - rel;
  if (src->has_ts)
    mb_buffer_add_unix_time (buf, src->ts_buf[i] + offset);
  if (src->has_src_ts)
    mb_buffer_add_source_time (buf, src->src_ts_buf[i] + offset);
}

static GstFlowReturn
read_batch (GstHdf5Src * src)
{
  guint n = (guint) MIN ((guint64) src->batch, src->end - src->next);
  guint have = n + (src->next + n < src->end ? 1 : 0), i;
  GstFlowReturn ret = GST_FLOW_OK;
  guint64 row0 = src->next;

  if (src->has_ts) {
    if (mb_h5_reader_read_timestamps (src->reader, row0, have,
            src->ts_buf) != 0)
      goto read_error;
  } else if (src->timed) {
    for (i = 0; i < have; i++)
      row_time (src, row0 + i, &src->ts_buf[i]);
  }
  if (src->has_src_ts && mb_h5_reader_read_source_timestamps (src->reader,
          row0, n, src->src_ts_buf) != 0)
    goto read_error;

  if (src->kind != MB_H5R_FRAMES) {
    if (!tracker_reserve (src->tracker, n, src->max_in_flight))
      return GST_FLOW_FLUSHING;
    if (mb_h5_reader_read_blobs (src->reader, row0, n, src->blob_data,
            src->blob_len, blob_alloc, blob_free, NULL) != 0) {
      tracker_release (src->tracker, n);
      goto read_error;
    }
    for (i = 0; i < n; i++) {
      GstBuffer *buf = wrap_blob (src, src->blob_data[i], src->blob_len[i]);
      stamp (src, buf, row0 + i, i, have);
      g_queue_push_tail (&src->pending, buf);
    }
    src->next = row0 + n;
    return GST_FLOW_OK;
  }

  if (src->padded && mb_h5_reader_read_row_lengths (src->reader, row0, n,
          src->blob_len) != 0)
    goto read_error;
  for (i = 0; i < n; i++) {
    GstBuffer *buf = NULL;

    ret = read_frame (src, row0 + i, &buf);
    if (ret != GST_FLOW_OK)
      break;
    if (src->padded)
      gst_buffer_resize (buf, 0, src->blob_len[i]);
    stamp (src, buf, row0 + i, i, have);
    g_queue_push_tail (&src->pending, buf);
    src->next = row0 + i + 1;
  }
  /* a flush interrupted the batch: the rows read so far stay queued */
  if (ret == GST_FLOW_FLUSHING && !g_queue_is_empty (&src->pending))
    return GST_FLOW_OK;
  return ret;

read_error:
  post_read_error (src);
  return GST_FLOW_ERROR;
}

static GstFlowReturn
gst_hdf5_src_create (GstBaseSrc * bsrc, guint64 offset, guint size,
    GstBuffer ** out)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);
  GstFlowReturn ret;

  if (g_queue_is_empty (&src->pending)) {
    if (src->next >= src->end) {
      if (!src->looping || src->end <= src->first)
        return GST_FLOW_EOS;
      src->loop_count++;
      src->next = src->first;
      GST_DEBUG_OBJECT (src, "pass %" G_GUINT64_FORMAT, src->loop_count);
    }
    ret = read_batch (src);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  *out = g_queue_pop_head (&src->pending);
  return GST_FLOW_OK;
}

/* --------------------------------------------------------------- seeking */

static gboolean
gst_hdf5_src_is_seekable (GstBaseSrc * bsrc)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);

  /* rows can always be sought by index; by time only when timed */
  return src->reader != NULL;
}

/* Seeks in DEFAULT format give a row index (as GST_BUFFER_OFFSET). basesrc
 * converts them here, before it stops the streaming thread, so the row is
 * only noted and resolved to its time in do_seek. */
static gboolean
gst_hdf5_src_prepare_seek_segment (GstBaseSrc * bsrc, GstEvent * event,
    GstSegment * segment)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);
  GstSeekType start_type, stop_type;
  GstSeekFlags flags;
  GstFormat format;
  gint64 start, stop;
  gdouble rate;

  gst_event_parse_seek (event, &rate, &format, &flags, &start_type, &start,
      &stop_type, &stop);
  if (format != GST_FORMAT_DEFAULT)
    return GST_BASE_SRC_CLASS (parent_class)->prepare_seek_segment (bsrc,
        event, segment);
  if (rate <= 0 || start_type != GST_SEEK_TYPE_SET || start < 0
      || (stop_type != GST_SEEK_TYPE_NONE && stop != -1)) {
    GST_WARNING_OBJECT (src, "only forward seeks to a row (start, no stop) "
        "are supported in DEFAULT format");
    return FALSE;
  }
  GST_OBJECT_LOCK (src);
  src->seek_row = start;
  GST_OBJECT_UNLOCK (src);
  gst_segment_do_seek (segment, rate, GST_FORMAT_TIME, flags,
      GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1, NULL);
  return TRUE;
}

static gboolean
gst_hdf5_src_do_seek (GstBaseSrc * bsrc, GstSegment * segment)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);
  GstClockTime target = segment->start, rel;
  guint64 lo, hi;
  gint64 seek_row;

  GST_OBJECT_LOCK (src);
  seek_row = src->seek_row;
  src->seek_row = -1;
  GST_OBJECT_UNLOCK (src);
  if (src->reader == NULL)
    return TRUE;
  clear_pending (src);
  src->loop_count = 0;
  src->next = src->first;
  if (seek_row >= 0) {
    gint64 t = src->t0;

    src->next = CLAMP ((guint64) seek_row, src->first, src->end);
    if (src->timed && src->next < src->end && !row_time (src, src->next, &t)) {
      post_read_error (src);
      return FALSE;
    }
    segment->start = segment->time = segment->position = MAX (t - src->t0, 0);
    GST_DEBUG_OBJECT (src, "seek to row %" G_GINT64_FORMAT ": row %"
        G_GUINT64_FORMAT, seek_row, src->next);
    return TRUE;
  }
  if (!GST_CLOCK_TIME_IS_VALID (target) || target == 0)
    return TRUE;
  if (!src->timed) {
    GST_WARNING_OBJECT (src, "rows have no times: seek by row (DEFAULT "
        "format) instead");
    return FALSE;
  }
  if (segment->rate < 0) {
    GST_WARNING_OBJECT (src, "reverse playback is not supported");
    return FALSE;
  }
  if (src->looping && src->period > 0) {
    src->loop_count = target / src->period;
    rel = target % src->period;
  } else {
    rel = target;
  }
  /* first row whose time is >= rel (rows in time order) */
  lo = src->first;
  hi = src->end;
  while (lo < hi) {
    guint64 mid = lo + (hi - lo) / 2;
    gint64 t;

    if (!row_time (src, mid, &t)) {
      post_read_error (src);
      return FALSE;
    }
    if (t - src->t0 < (gint64) rel)
      lo = mid + 1;
    else
      hi = mid;
  }
  src->next = lo;
  GST_DEBUG_OBJECT (src, "seek to %" GST_TIME_FORMAT ": row %" G_GUINT64_FORMAT
      ", pass %" G_GUINT64_FORMAT, GST_TIME_ARGS (target), lo, src->loop_count);
  return TRUE;
}

static gboolean
gst_hdf5_src_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstHdf5Src *src = GST_HDF5_SRC (bsrc);

  if (GST_QUERY_TYPE (query) == GST_QUERY_DURATION && src->reader) {
    GstFormat fmt;

    gst_query_parse_duration (query, &fmt, NULL);
    if (fmt == GST_FORMAT_TIME && src->timed) {
      gst_query_set_duration (query, fmt, src->looping ? GST_CLOCK_TIME_NONE :
          src->period);
      return TRUE;
    }
    if (fmt == GST_FORMAT_DEFAULT) {
      gst_query_set_duration (query, fmt, src->looping ? -1 :
          (gint64) (src->end - src->first));
      return TRUE;
    }
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query);
}

/* ------------------------------------------------------------ lifecycle */

static void
gst_hdf5_src_finalize (GObject * object)
{
  GstHdf5Src *src = GST_HDF5_SRC (object);

  g_free (src->location);
  g_free (src->path);
  gst_caps_replace (&src->caps_prop, NULL);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hdf5_src_class_init (GstHdf5SrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_hdf5_src_debug, "hdf5src", 0,
      "Plays HDF5 datasets");

  gobject_class->set_property = gst_hdf5_src_set_property;
  gobject_class->get_property = gst_hdf5_src_get_property;
  gobject_class->finalize = gst_hdf5_src_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "File Location",
          "HDF5 file to read", DEFAULT_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path",
          "Group holding a `data` dataset (as hdf5sink writes), or a dataset; "
          "NULL = the first group with a `data` dataset", DEFAULT_PATH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps",
          "Caps of the stream, overriding the `caps` attribute (NULL = use "
          "the attribute)", GST_TYPE_CAPS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LOOP,
      g_param_spec_boolean ("loop", "Loop",
          "Play the rows endlessly, timestamps continuing across passes",
          DEFAULT_LOOP, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_START_INDEX,
      g_param_spec_uint64 ("start-index", "Start index",
          "First row to play (rows)", 0, G_MAXUINT64, DEFAULT_START_INDEX,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STOP_INDEX,
      g_param_spec_int64 ("stop-index", "Stop index",
          "Row to stop before (rows, exclusive; -1 = play to the last row)",
          -1, G_MAXINT64, DEFAULT_STOP_INDEX,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Rows read from the file per read (rows)", 1, 4096,
          DEFAULT_BATCH_SIZE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MAX_BUFFERS,
      g_param_spec_uint ("max-buffers", "Max buffers",
          "Buffers alive at most, read ahead plus downstream (buffers; at "
          "least batch-size + 1 is used)", 2, G_MAXINT,
          DEFAULT_MAX_BUFFERS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "HDF5 source",
      "Source/File", "Plays a dataset of an HDF5 file (as written by "
      "hdf5sink) as a stream with its stored caps and timestamps",
      "membound project");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_hdf5_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_hdf5_src_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_hdf5_src_get_caps);
  basesrc_class->create = GST_DEBUG_FUNCPTR (gst_hdf5_src_create);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_hdf5_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_hdf5_src_unlock_stop);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_hdf5_src_is_seekable);
  basesrc_class->do_seek = GST_DEBUG_FUNCPTR (gst_hdf5_src_do_seek);
  basesrc_class->prepare_seek_segment =
      GST_DEBUG_FUNCPTR (gst_hdf5_src_prepare_seek_segment);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_hdf5_src_query);
}

static void
gst_hdf5_src_init (GstHdf5Src * src)
{
  src->location = g_strdup (DEFAULT_LOCATION);
  src->path = g_strdup (DEFAULT_PATH);
  src->loop = DEFAULT_LOOP;
  src->start_index = DEFAULT_START_INDEX;
  src->stop_index = DEFAULT_STOP_INDEX;
  src->batch_size = DEFAULT_BATCH_SIZE;
  src->max_buffers = DEFAULT_MAX_BUFFERS;
  src->seek_row = -1;
  g_queue_init (&src->pending);
  gst_base_src_set_format (GST_BASE_SRC (src), GST_FORMAT_TIME);
}
