/* membound: hdf5sink, streaming crash-tolerant HDF5 recorder.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-hdf5sink
 * @title: hdf5sink
 *
 * Records any number of streams into one HDF5 file while they play, with
 * bounded memory and periodic flushes so that a killed recorder leaves a
 * readable file. Each request pad `sink_%u` is one stream.
 *
 * ## Default layout (`layout=default`)
 * One group per stream (pad property `path`; default: the stream's
 * `ros-topic` tag, else `/stream_N`) with `data`, `timestamp` (int64 ns: the
 * `timestamp/x-unix` reference timestamp when present, else the running
 * time, -1 without PTS), `source_timestamp` (int64 ns, only when buffers
 * carry an original capture time different from `timestamp`) and the
 * attributes `caps` (+ `ros_type`, `ros_md5sum`, `ros_message_definition`,
 * `color_order`):
 *
 * - image/jpeg, image/png and any other bytes: `data` is 1-D variable-length
 *   uint8, one element per buffer, byte-exact.
 * - video/x-raw GRAY8, GRAY16_LE, RGB, BGR, RGBA, BGRA, RGBx, BGRx: `data`
 *   is uint8 (uint16 for GRAY16_LE) [N, H, W] or [N, H, W, C], one frame per
 *   chunk, strides removed, optional deflate + shuffle (`compression`). With
 *   `jpeg-quality` > 0 (8-bit formats, plus I420 and NV12), each frame is
 *   encoded with TurboJPEG (4:2:0, true RGB order, `color_order` = "RGB")
 *   by worker threads and stored in the variable-length layout. I420 and
 *   NV12 are encoded straight from their planes (no RGB conversion;
 *   video-range input is expanded to JPEG's full range, the input's
 *   colorimetry is kept in `source_colorimetry`).
 * - application/x-ros1-message: a compound dataset built from the message
 *   definition, `f['/joint_states/data']['position'][i]` works in h5py.
 *
 * ## Packed blobs (pad property `blob-layout=packed`)
 * Streams stored as blobs (the vlen cases above) go instead into one 1-D
 * uint8 `data` holding every buffer back to back, indexed by int64 `offset`
 * and `size` [N] (group attribute `layout` = "packed"): row i is
 * `data[offset[i]:offset[i] + size[i]]`. Each blob is written once, from the
 * buffer's memory to its place in the file (about plain fwrite speed); the
 * index rows are appended after their bytes, so every flushed row is
 * readable after a crash. hdf5src plays both layouts.
 *
 * ## ALOHA layout (`layout=aloha`)
 * Pad property `aloha-role` maps streams: cameras to
 * `/observations/images/<aloha-name>` as zero-padded JPEG rows
 * uint8 [N, aloha-max-bytes] (+ a row of float32 `/compress_len` [cams, N]),
 * joint vectors to `/observations/qpos|qvel|effort`, `/action`,
 * `/base_action` float32 [N, D] (from ROS messages: field `aloha-field`, or
 * from buffers of packed little-endian float32, float64 when the caps say
 * `format=F64LE`); per-stream timestamps in
 * `/observations/timestamps/<name>`; root attributes `sim` and `compress`.
 *
 * ## Memory, threads, backpressure
 * All pads feed one bounded queue (`max-queue-buffers`, `max-queue-bytes`)
 * drained by one writer thread that makes every HDF5 call (under the
 * process-wide HDF5 lock shared with hdf5src). A full queue blocks the
 * pushing pad (nothing lost) or, with `leaky`, drops the buffer (counted,
 * QoS message). Unlike an aggregator, no pad ever waits for another pad, so
 * a single upstream thread feeding all pads (a demuxer, rosbagsrc) cannot
 * deadlock. Flushing pads and state changes wake blocked pushes.
 *
 * ## Durability
 * The file is flushed (H5Fflush) every `flush-interval` (and fsynced with
 * `fsync`). After SIGKILL the file opens in h5py without h5clear and holds
 * every row counted in the last `hdf5sink-flushed` message; each stream's
 * `data` carries that count as its int64 `flushed_rows` attribute (rows past
 * it may be incomplete after a crash or a write error: read up to it, as
 * hdf5src does). See docs/hdf5sink.md.
 *
 * ## Messages
 * Element messages `hdf5sink-stats` (every `stats-interval`),
 * `hdf5sink-flushed` (after each flush) and `hdf5sink-done` (when EOS on all
 * pads closed the file, before EOS), fields in include/membound/hdf5sink.h:
 * `location`, `rows`, `bytes`, `dropped`, `streams` (array of `stream`
 * structures with `path`, `rows`, `bytes`, `dropped`), and for stats
 * `queue-buffers`, `queue-bytes`, `write-latency-p50`, `write-latency-p99`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=300 ! video/x-raw,format=RGB,width=640,height=480 ! hdf5sink location=rec.h5 jpeg-quality=85
 * ]|
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=300 pattern=pinwheel ! video/x-raw,format=I420,width=2560,height=720 ! stereorectify calibration=pipelines/calib/stereo-1280x720.yml ! hdf5sink location=stereo.h5 jpeg-quality=85
 * ]|
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=100 ! video/x-raw,format=GRAY8,width=320,height=240 ! hdf5sink location=raw.h5 mode=overwrite compression=1 sink_0::path=/cam0
 * ]|
 * |[
 * gst-launch-1.0 -e videotestsrc num-buffers=300 ! jpegenc ! hdf5sink location=packed.h5 sink_0::blob-layout=packed
 * ]|
 * |[
 * gst-launch-1.0 -e hdf5sink name=s location=episode_0.hdf5 layout=aloha \
 *     sink_0::aloha-name=cam_high sink_1::aloha-role=qpos \
 *   videotestsrc num-buffers=50 ! video/x-raw,format=I420,width=640,height=480 ! jpegenc ! s.sink_0 \
 *   filesrc location=qpos.bin blocksize=56 ! application/octet-stream ! s.sink_1
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <gst/video/video.h>

#include "gsthdf5sink.h"
#include "h5writer.h"
#include "common/mbcommon.h"
#include <membound/hdf5sink.h>

#ifdef HAVE_H5ROS
#include "h5ros.h"
#endif

GST_DEBUG_CATEGORY_STATIC (gst_hdf5_sink_debug);
#define GST_CAT_DEFAULT gst_hdf5_sink_debug

#define RAW_FORMATS "{ GRAY8, GRAY16_LE, RGB, BGR, RGBA, BGRA, RGBx, BGRx }"
/* with jpeg-quality > 0: the 8-bit ones, plus YUV 4:2:0 encoded from its
 * planes */
#define JPEG_FORMATS \
    "{ I420, NV12, GRAY8, RGB, BGR, RGBA, BGRA, RGBx, BGRx }"

#define DEFAULT_LOCATION NULL
#define DEFAULT_MODE GST_HDF5_SINK_MODE_CREATE
#define DEFAULT_LAYOUT GST_HDF5_SINK_LAYOUT_DEFAULT
#define DEFAULT_MAX_QUEUE_BYTES (128 * 1024 * 1024)
#define DEFAULT_MAX_QUEUE_BUFFERS 500
#define DEFAULT_BATCH_SIZE 10
#define DEFAULT_BATCH_TIMEOUT (500 * GST_MSECOND)
#define DEFAULT_LEAKY FALSE
#define DEFAULT_FLUSH_INTERVAL GST_SECOND
#define DEFAULT_FSYNC FALSE
#define DEFAULT_COMPRESSION 0
#define DEFAULT_JPEG_QUALITY 0
#define DEFAULT_JPEG_THREADS 0
#define DEFAULT_STATS_INTERVAL GST_SECOND

#define DEFAULT_PAD_PATH NULL
#define DEFAULT_ALOHA_ROLE GST_HDF5_SINK_ALOHA_ROLE_CAMERA
#define DEFAULT_ALOHA_NAME NULL
#define DEFAULT_ALOHA_MAX_BYTES (256 * 1024)
#define DEFAULT_ALOHA_FIELD NULL
#define DEFAULT_BLOB_LAYOUT GST_HDF5_SINK_BLOB_LAYOUT_VLEN

#define MAX_POP 1024
/* A buffer up to this size that shares a memory at least UNPIN_RATIO times
 * larger is copied when queued (see unpin_small ()) */
#define UNPIN_MAX_BYTES (64 * 1024)
#define UNPIN_RATIO 4
#define LAT_SAMPLES 1024

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_MODE,
  PROP_LAYOUT,
  PROP_MAX_QUEUE_BYTES,
  PROP_MAX_QUEUE_BUFFERS,
  PROP_BATCH_SIZE,
  PROP_BATCH_TIMEOUT,
  PROP_LEAKY,
  PROP_FLUSH_INTERVAL,
  PROP_FSYNC,
  PROP_COMPRESSION,
  PROP_JPEG_QUALITY,
  PROP_JPEG_THREADS,
  PROP_STATS_INTERVAL,
  PROP_DROPPED
};

enum
{
  PROP_PAD_0,
  PROP_PAD_PATH,
  PROP_PAD_ALOHA_ROLE,
  PROP_PAD_ALOHA_NAME,
  PROP_PAD_ALOHA_MAX_BYTES,
  PROP_PAD_ALOHA_FIELD,
  PROP_PAD_BLOB_LAYOUT
};

/* How a stream's buffers are stored; fixed at the caps event, shared
 * (refcounted, immutable) by the queued items. */
typedef enum
{
  FMT_BYTES,
  FMT_RAW,
  FMT_RAW_JPEG,
  FMT_ROS
} FmtKind;

typedef struct
{
  FmtKind kind;
  GstVideoInfo vinfo;           /* FMT_RAW, FMT_RAW_JPEG */
  MbJpegPixel jpeg_pixel;
  const gchar *color_order;
  gchar *caps_str;
  gchar *ros_type, *ros_md5sum, *ros_definition;
  gboolean f64;                 /* packed float64 vectors (aloha) */
} Fmt;

static void
fmt_clear (Fmt * f)
{
  g_free (f->caps_str);
  g_free (f->ros_type);
  g_free (f->ros_md5sum);
  g_free (f->ros_definition);
}

static Fmt *
fmt_ref (Fmt * f)
{
  return g_atomic_rc_box_acquire (f);
}

static void
fmt_unref (Fmt * f)
{
  g_atomic_rc_box_release_full (f, (GDestroyNotify) fmt_clear);
}

/* Storage-relevant equality (caps changes that keep it are fine). */
static gboolean
fmt_same_storage (const Fmt * a, const Fmt * b)
{
  if (a->kind != b->kind)
    return FALSE;
  if (a->kind == FMT_RAW || a->kind == FMT_RAW_JPEG)
    return GST_VIDEO_INFO_FORMAT (&a->vinfo) == GST_VIDEO_INFO_FORMAT (&b->vinfo)
        && GST_VIDEO_INFO_WIDTH (&a->vinfo) == GST_VIDEO_INFO_WIDTH (&b->vinfo)
        && GST_VIDEO_INFO_HEIGHT (&a->vinfo) ==
        GST_VIDEO_INFO_HEIGHT (&b->vinfo);
  if (a->kind == FMT_ROS)
    return g_strcmp0 (a->ros_md5sum, b->ros_md5sum) == 0 &&
        g_strcmp0 (a->ros_type, b->ros_type) == 0;
  return a->f64 == b->f64;
}

typedef enum
{
  ITEM_BUFFER,
  ITEM_FINALIZE
} ItemType;

typedef enum
{
  ITEM_READY,
  ITEM_NEED_ENCODE,
  ITEM_ENCODING
} ItemState;

typedef struct
{
  ItemType type;
  ItemState state;
  gboolean discarded;
  GstHdf5SinkPad *pad;
  GstBuffer *buf;
  Fmt *fmt;
  gint64 ts, src_ts;
  gboolean has_src;
  gsize bytes;
  gint64 queued_at;
  guint32 seqnum;
  guint8 *jpeg;
  gsize jpeg_len;
  gchar *error;
} Item;

static void
item_free (Item * it)
{
  if (it->pad)
    gst_object_unref (it->pad);
  if (it->buf)
    gst_buffer_unref (it->buf);
  if (it->fmt)
    fmt_unref (it->fmt);
  mb_jpeg_free (it->jpeg);
  g_free (it->error);
  g_free (it);
}

struct _GstHdf5SinkPad
{
  GstPad parent;

  guint index;

  /* properties, object lock */
  gchar *path;
  GstHdf5SinkAlohaRole aloha_role;
  gchar *aloha_name;
  guint aloha_max_bytes;
  gchar *aloha_field;
  GstHdf5SinkBlobLayout blob_layout;
  gchar *tag_topic, *tag_type, *tag_md5sum, *tag_definition;

  /* streaming thread only */
  GstSegment segment;

  /* element qlock */
  Fmt *fmt;
  gboolean flushing, eos;
  guint queued;
  guint64 processed, dropped;

  /* writer thread only */
  MbH5Stream *stream;
  Fmt *wfmt;
  gchar *wpath;
  guint64 rows, bytes;
#ifdef HAVE_H5ROS
  MbRosSchema *ros_schema;
  MbH5RosLayout *ros_layout;
#endif
  gint vec_dims;                /* aloha vectors from ROS: -1 until known */
};

struct _GstHdf5Sink
{
  GstElement parent;

  /* properties, object lock */
  gchar *location;
  GstHdf5SinkMode mode;
  GstHdf5SinkLayout layout;
  guint64 batch_timeout;
  guint batch_size;
  gboolean leaky;
  guint64 flush_interval;
  gboolean fsync;
  gint compression;
  gint jpeg_quality;
  guint jpeg_threads;
  guint64 stats_interval;
  guint next_pad_index;

  /* queue: qlock */
  GMutex qlock;
  GCond cond_writer;            /* items, encodes done, stop */
  GCond cond_space;             /* space freed, flushing, error */
  GCond cond_work;              /* frames to encode */
  GCond cond_open;              /* writer opened the file (or failed) */
  GQueue queue;
  guint q_buffers;
  guint64 q_bytes;
  guint64 max_queue_bytes;
  guint max_queue_buffers;
  gboolean batch_ready;
  /* a push found the queue full: the writer goes without waiting for a
   * full batch or batch-timeout (large frames: fewer than batch-size fit) */
  gboolean space_wanted;
  gboolean flushing;            /* going down from PAUSED */
  gboolean stop;                /* writer: drain and close */
  gboolean workers_stop;
  gboolean write_error;
  gboolean finalize_queued;
  gboolean finished;
  gboolean open_done;
  gchar *open_error;
  gint open_errno;
  guint64 dropped;
  GThread *writer;
  GPtrArray *workers;

  /* writer thread only */
  MbH5Writer *w;
  gchar *wlocation;
  GstHdf5SinkLayout wlayout;
  gint wcompression, wjpeg_quality;
  GList *wpads;
  GHashTable *wpaths;
  gboolean dirty;
  gboolean aloha_compress;
  gint64 last_flush, next_stats;
  gint64 last_trim;
  guint64 lat[LAT_SAMPLES];
  guint n_lat;
  guint64 flushed_rows;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS_ANY);

static GstStaticCaps raw_caps =
GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (RAW_FORMATS));
static GstStaticCaps jpeg_caps =
GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (JPEG_FORMATS));

G_DEFINE_TYPE (GstHdf5SinkPad, gst_hdf5_sink_pad, GST_TYPE_PAD);

static void gst_hdf5_sink_child_proxy_init (gpointer g_iface,
    gpointer iface_data);

#define gst_hdf5_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstHdf5Sink, gst_hdf5_sink, GST_TYPE_ELEMENT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_hdf5_sink_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (hdf5sink, "hdf5sink", GST_RANK_NONE,
    GST_TYPE_HDF5_SINK);

/* ---- enums ---- */

#define GST_TYPE_HDF5_SINK_MODE (gst_hdf5_sink_mode_get_type ())
static GType
gst_hdf5_sink_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_HDF5_SINK_MODE_CREATE, "Create a new file, fail if it exists",
        "create"},
    {GST_HDF5_SINK_MODE_OVERWRITE, "Replace an existing file", "overwrite"},
    {GST_HDF5_SINK_MODE_APPEND,
        "Append rows to the streams of an existing file (create if missing)",
        "append"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHdf5SinkMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_HDF5_SINK_LAYOUT (gst_hdf5_sink_layout_get_type ())
static GType
gst_hdf5_sink_layout_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_HDF5_SINK_LAYOUT_DEFAULT,
        "One group per stream with data and timestamp datasets", "default"},
    {GST_HDF5_SINK_LAYOUT_ALOHA,
        "ALOHA/ACT episode: /observations/images/<cam>, qpos, /action",
        "aloha"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHdf5SinkLayout", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_HDF5_SINK_ALOHA_ROLE (gst_hdf5_sink_aloha_role_get_type ())
static GType
gst_hdf5_sink_aloha_role_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_HDF5_SINK_ALOHA_ROLE_CAMERA, "Camera: /observations/images/<name>",
        "camera"},
    {GST_HDF5_SINK_ALOHA_ROLE_QPOS, "Joint positions: /observations/qpos",
        "qpos"},
    {GST_HDF5_SINK_ALOHA_ROLE_QVEL, "Joint velocities: /observations/qvel",
        "qvel"},
    {GST_HDF5_SINK_ALOHA_ROLE_EFFORT, "Joint efforts: /observations/effort",
        "effort"},
    {GST_HDF5_SINK_ALOHA_ROLE_ACTION, "Action: /action", "action"},
    {GST_HDF5_SINK_ALOHA_ROLE_BASE_ACTION, "Mobile base action: /base_action",
        "base-action"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHdf5SinkAlohaRole", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_HDF5_SINK_BLOB_LAYOUT (gst_hdf5_sink_blob_layout_get_type ())
static GType
gst_hdf5_sink_blob_layout_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_HDF5_SINK_BLOB_LAYOUT_VLEN,
        "data: variable-length uint8, one element per buffer", "vlen"},
    {GST_HDF5_SINK_BLOB_LAYOUT_PACKED,
        "data: uint8 bytes of all buffers back to back, indexed by int64 "
          "offset and size", "packed"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHdf5SinkBlobLayout", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ---- pad ---- */

static void
gst_hdf5_sink_pad_finalize (GObject * object)
{
  GstHdf5SinkPad *pad = GST_HDF5_SINK_PAD (object);

  g_free (pad->path);
  g_free (pad->aloha_name);
  g_free (pad->aloha_field);
  g_free (pad->tag_topic);
  g_free (pad->tag_type);
  g_free (pad->tag_md5sum);
  g_free (pad->tag_definition);
  if (pad->fmt)
    fmt_unref (pad->fmt);
  if (pad->wfmt)
    fmt_unref (pad->wfmt);
  g_free (pad->wpath);
#ifdef HAVE_H5ROS
  if (pad->ros_layout)
    mb_h5ros_layout_free (pad->ros_layout);
  if (pad->ros_schema)
    mb_ros_schema_free (pad->ros_schema);
#endif
  G_OBJECT_CLASS (gst_hdf5_sink_pad_parent_class)->finalize (object);
}

static void
gst_hdf5_sink_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHdf5SinkPad *pad = GST_HDF5_SINK_PAD (object);

  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PROP_PAD_PATH:
      g_free (pad->path);
      pad->path = g_value_dup_string (value);
      break;
    case PROP_PAD_ALOHA_ROLE:
      pad->aloha_role = g_value_get_enum (value);
      break;
    case PROP_PAD_ALOHA_NAME:
      g_free (pad->aloha_name);
      pad->aloha_name = g_value_dup_string (value);
      break;
    case PROP_PAD_ALOHA_MAX_BYTES:
      pad->aloha_max_bytes = g_value_get_uint (value);
      break;
    case PROP_PAD_ALOHA_FIELD:
      g_free (pad->aloha_field);
      pad->aloha_field = g_value_dup_string (value);
      break;
    case PROP_PAD_BLOB_LAYOUT:
      pad->blob_layout = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (pad);
}

static void
gst_hdf5_sink_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHdf5SinkPad *pad = GST_HDF5_SINK_PAD (object);

  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PROP_PAD_PATH:
      g_value_set_string (value, pad->path);
      break;
    case PROP_PAD_ALOHA_ROLE:
      g_value_set_enum (value, pad->aloha_role);
      break;
    case PROP_PAD_ALOHA_NAME:
      g_value_set_string (value, pad->aloha_name);
      break;
    case PROP_PAD_ALOHA_MAX_BYTES:
      g_value_set_uint (value, pad->aloha_max_bytes);
      break;
    case PROP_PAD_ALOHA_FIELD:
      g_value_set_string (value, pad->aloha_field);
      break;
    case PROP_PAD_BLOB_LAYOUT:
      g_value_set_enum (value, pad->blob_layout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (pad);
}

static void
gst_hdf5_sink_pad_class_init (GstHdf5SinkPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_hdf5_sink_pad_finalize;
  gobject_class->set_property = gst_hdf5_sink_pad_set_property;
  gobject_class->get_property = gst_hdf5_sink_pad_get_property;

  g_object_class_install_property (gobject_class, PROP_PAD_PATH,
      g_param_spec_string ("path", "Path",
          "HDF5 group of this stream (default layout; NULL = the ros-topic "
          "tag, else /stream_N). Fixed at the first buffer",
          DEFAULT_PAD_PATH, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PAD_ALOHA_ROLE,
      g_param_spec_enum ("aloha-role", "ALOHA role",
          "What this stream is in layout=aloha", GST_TYPE_HDF5_SINK_ALOHA_ROLE,
          DEFAULT_ALOHA_ROLE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PAD_ALOHA_NAME,
      g_param_spec_string ("aloha-name", "ALOHA camera name",
          "Camera name in layout=aloha (/observations/images/<name>; NULL = "
          "the last component of path, else cam_N)", DEFAULT_ALOHA_NAME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PAD_ALOHA_MAX_BYTES,
      g_param_spec_uint ("aloha-max-bytes", "ALOHA row size",
          "Bytes per zero-padded JPEG row in layout=aloha (a larger frame is "
          "an error)", 1024, G_MAXINT32, DEFAULT_ALOHA_MAX_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PAD_ALOHA_FIELD,
      g_param_spec_string ("aloha-field", "ALOHA field",
          "float64[] field of a ROS message stored as the vector in "
          "layout=aloha (NULL = position, velocity or effort by role)",
          DEFAULT_ALOHA_FIELD, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PAD_BLOB_LAYOUT,
      g_param_spec_enum ("blob-layout", "Blob layout",
          "How a stream stored as byte blobs (JPEG, PNG, jpeg-quality output, "
          "other bytes) is laid out in layout=default: vlen rows, or packed "
          "bytes + offset/size index (fastest). Fixed at the first buffer",
          GST_TYPE_HDF5_SINK_BLOB_LAYOUT, DEFAULT_BLOB_LAYOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

static void
gst_hdf5_sink_pad_init (GstHdf5SinkPad * pad)
{
  pad->aloha_role = DEFAULT_ALOHA_ROLE;
  pad->aloha_max_bytes = DEFAULT_ALOHA_MAX_BYTES;
  pad->blob_layout = DEFAULT_BLOB_LAYOUT;
  pad->vec_dims = -1;
  gst_segment_init (&pad->segment, GST_FORMAT_TIME);
}

/* ---- queue helpers (qlock held) ---- */

static gboolean
queue_full (GstHdf5Sink * self, gsize incoming)
{
  if (self->max_queue_buffers && self->q_buffers >= self->max_queue_buffers)
    return TRUE;
  if (self->max_queue_bytes && self->q_bytes > 0 &&
      self->q_bytes + incoming > self->max_queue_bytes)
    return TRUE;
  return FALSE;
}

/* Raw frames waiting for or in the JPEG workers reach this many per worker
 * before pushes wait (or drop with leaky): such a small bound is reached in
 * the first seconds, so the frames alive (and allocated upstream) stop
 * growing early, whatever max-queue-bytes allows */
#define RAW_FRAMES_PER_WORKER 2

static gboolean
raw_frames_full (GstHdf5Sink * self)
{
  guint n = 0, max;
  GList *l;

  max = RAW_FRAMES_PER_WORKER * (self->workers ? self->workers->len : 1);
  for (l = self->queue.head; l && n < max; l = l->next) {
    Item *it = l->data;
    if (it->state == ITEM_NEED_ENCODE || it->state == ITEM_ENCODING)
      n++;
  }
  return n >= max;
}

/* Removes everything queued (after a write error). Items being encoded are
 * left to their worker. */
static void
discard_queue_locked (GstHdf5Sink * self)
{
  Item *it;

  while ((it = g_queue_pop_head (&self->queue))) {
    if (it->pad)
      it->pad->queued = 0;
    if (it->state == ITEM_ENCODING)
      it->discarded = TRUE;
    else
      item_free (it);
  }
  self->q_buffers = 0;
  self->q_bytes = 0;
  g_cond_broadcast (&self->cond_space);
}

/* ---- caps → Fmt ---- */

static Fmt *
fmt_from_caps (GstHdf5Sink * self, GstHdf5SinkPad * pad, GstCaps * caps,
    gchar ** error)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);
  Fmt *f = g_atomic_rc_box_new0 (Fmt);
  gint quality;

  GST_OBJECT_LOCK (self);
  quality = self->jpeg_quality;
  GST_OBJECT_UNLOCK (self);

  f->caps_str = gst_caps_to_string (caps);
  if (g_str_equal (name, "video/x-raw")) {
    if (!gst_video_info_from_caps (&f->vinfo, caps) ||
        !gst_caps_can_intersect (caps,
            gst_static_caps_get (quality > 0 ? &jpeg_caps : &raw_caps))) {
      *error = g_strdup_printf ("cannot store %s (raw video formats: "
          RAW_FORMATS "; with jpeg-quality > 0: " JPEG_FORMATS ")",
          f->caps_str);
      fmt_unref (f);
      return NULL;
    }
    f->kind = FMT_RAW;
    switch (GST_VIDEO_INFO_FORMAT (&f->vinfo)) {
      case GST_VIDEO_FORMAT_GRAY8:
        f->jpeg_pixel = MB_JPEG_GRAY;
        f->color_order = "GRAY";
        break;
      case GST_VIDEO_FORMAT_GRAY16_LE:
        f->color_order = "GRAY";
        break;
      case GST_VIDEO_FORMAT_RGB:
        f->jpeg_pixel = MB_JPEG_RGB;
        f->color_order = "RGB";
        break;
      case GST_VIDEO_FORMAT_BGR:
        f->jpeg_pixel = MB_JPEG_BGR;
        f->color_order = "BGR";
        break;
      case GST_VIDEO_FORMAT_RGBA:
        f->jpeg_pixel = MB_JPEG_RGBA;
        f->color_order = "RGBA";
        break;
      case GST_VIDEO_FORMAT_BGRA:
        f->jpeg_pixel = MB_JPEG_BGRA;
        f->color_order = "BGRA";
        break;
      case GST_VIDEO_FORMAT_RGBx:
        f->jpeg_pixel = MB_JPEG_RGBX;
        f->color_order = "RGBx";
        break;
      case GST_VIDEO_FORMAT_BGRx:
        f->jpeg_pixel = MB_JPEG_BGRX;
        f->color_order = "BGRx";
        break;
      case GST_VIDEO_FORMAT_I420:      /* jpeg-quality > 0 only */
        f->jpeg_pixel = MB_JPEG_I420;
        break;
      case GST_VIDEO_FORMAT_NV12:
        f->jpeg_pixel = MB_JPEG_NV12;
        break;
      default:
        break;
    }
    if (quality > 0 && GST_VIDEO_INFO_FORMAT (&f->vinfo) !=
        GST_VIDEO_FORMAT_GRAY16_LE) {
      f->kind = FMT_RAW_JPEG;
      f->color_order = f->jpeg_pixel == MB_JPEG_GRAY ? "GRAY" : "RGB";
    }
  } else if (g_str_equal (name, MB_ROS1_MESSAGE_CAPS)) {
    f->kind = FMT_ROS;
    f->ros_type = g_strdup (gst_structure_get_string (s, "type"));
    f->ros_md5sum = g_strdup (gst_structure_get_string (s, "md5sum"));
    f->ros_definition =
        g_strdup (gst_structure_get_string (s, "message-definition"));
    GST_OBJECT_LOCK (pad);
    if (!f->ros_type)
      f->ros_type = g_strdup (pad->tag_type);
    if (!f->ros_md5sum)
      f->ros_md5sum = g_strdup (pad->tag_md5sum);
    if (!f->ros_definition)
      f->ros_definition = g_strdup (pad->tag_definition);
    GST_OBJECT_UNLOCK (pad);
  } else {
    const gchar *format = gst_structure_get_string (s, "format");
    f->kind = FMT_BYTES;
    f->f64 = format && g_str_equal (format, "F64LE");
  }
  return f;
}

/* ---- streaming thread ---- */

/* A queued buffer waits up to batch-timeout for its batch. When it is a
 * small view into a much larger memory (rosbagsrc's messages are sub-buffers
 * of a whole chunk from its bounded pool) it would keep that memory from
 * going back upstream all that time, and a few sparse streams would stall
 * the source: give such a buffer its own copy of its bytes instead. */
static GstBuffer *
unpin_small (GstBuffer * buf)
{
  gsize size = gst_buffer_get_size (buf);
  GstMemory *mem;
  GstBuffer *copy;

  if (size > UNPIN_MAX_BYTES || gst_buffer_n_memory (buf) != 1)
    return buf;
  mem = gst_buffer_peek_memory (buf, 0);
  if (mem->maxsize / UNPIN_RATIO < size)
    return buf;
  copy = gst_buffer_copy_deep (buf);
  gst_buffer_unref (buf);
  return copy;
}

static GstFlowReturn
gst_hdf5_sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstHdf5Sink *self = GST_HDF5_SINK (parent);
  GstHdf5SinkPad *spad = GST_HDF5_SINK_PAD (pad);
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean leaky, dropped = FALSE;
  guint batch_size;
  guint64 unix_ns, processed = 0, ndropped = 0;
  GstClockTime t;
  Item *it;

  buf = unpin_small (buf);
  it = g_new0 (Item, 1);
  it->type = ITEM_BUFFER;
  it->buf = buf;
  it->bytes = gst_buffer_get_size (buf);
  if (mb_buffer_get_unix_time (buf, &unix_ns)) {
    it->ts = (gint64) unix_ns;
  } else {
    t = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) :
        GST_BUFFER_DTS (buf);
    if (spad->segment.format == GST_FORMAT_TIME)
      t = gst_segment_to_running_time (&spad->segment, GST_FORMAT_TIME, t);
    else
      t = GST_CLOCK_TIME_NONE;  /* e.g. a BYTES segment from filesrc */
    it->ts = GST_CLOCK_TIME_IS_VALID (t) ? (gint64) t : -1;
  }
  if (mb_buffer_get_source_time (buf, &unix_ns)) {
    it->src_ts = (gint64) unix_ns;
    it->has_src = TRUE;
  }

  GST_OBJECT_LOCK (self);
  leaky = self->leaky;
  batch_size = self->batch_size;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->qlock);
  if (spad->fmt == NULL) {
    /* No caps (filesrc and other ANY sources): opaque bytes. */
    spad->fmt = g_atomic_rc_box_new0 (Fmt);
    spad->fmt->kind = FMT_BYTES;
    spad->fmt->caps_str = g_strdup ("ANY");
  }
  it->fmt = fmt_ref (spad->fmt);
  it->state = it->fmt->kind == FMT_RAW_JPEG ? ITEM_NEED_ENCODE : ITEM_READY;
  for (;;) {
    if (self->flushing || spad->flushing) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
    if (self->write_error) {
      ret = GST_FLOW_ERROR;
      break;
    }
    if (self->finished || spad->eos) {
      ret = GST_FLOW_EOS;
      break;
    }
    if (!queue_full (self, it->bytes) && (it->state != ITEM_NEED_ENCODE ||
            !raw_frames_full (self)))
      break;
    self->space_wanted = TRUE;
    g_cond_signal (&self->cond_writer);
    if (leaky) {
      spad->dropped++;
      self->dropped++;
      processed = spad->processed;
      ndropped = spad->dropped;
      dropped = TRUE;
      break;
    }
    g_cond_wait (&self->cond_space, &self->qlock);
  }
  if (ret != GST_FLOW_OK || dropped) {
    g_mutex_unlock (&self->qlock);
    if (dropped) {
      GstMessage *msg;
      GstClockTime pts = GST_BUFFER_PTS (it->buf);
      gboolean timed = spad->segment.format == GST_FORMAT_TIME;

      GST_DEBUG_OBJECT (pad, "queue full, dropping buffer (%" G_GUINT64_FORMAT
          " dropped)", ndropped);
      msg = gst_message_new_qos (GST_OBJECT (self), FALSE,
          timed ? gst_segment_to_running_time (&spad->segment,
              GST_FORMAT_TIME, pts) : GST_CLOCK_TIME_NONE,
          timed ? gst_segment_to_stream_time (&spad->segment,
              GST_FORMAT_TIME, pts) : GST_CLOCK_TIME_NONE,
          pts, GST_BUFFER_DURATION (it->buf));
      gst_message_set_qos_stats (msg, GST_FORMAT_BUFFERS, processed, ndropped);
      gst_element_post_message (GST_ELEMENT (self), msg);
    }
    item_free (it);
    return ret;
  }
  it->pad = gst_object_ref (spad);
  it->queued_at = g_get_monotonic_time ();
  g_queue_push_tail (&self->queue, it);
  self->q_buffers++;
  self->q_bytes += it->bytes;
  spad->queued++;
  spad->processed++;
  if (it->state == ITEM_NEED_ENCODE)
    g_cond_signal (&self->cond_work);
  if (spad->queued >= batch_size)
    self->batch_ready = TRUE;
  if (self->batch_ready || self->q_buffers == 1 || queue_full (self, 0))
    g_cond_signal (&self->cond_writer);
  g_mutex_unlock (&self->qlock);
  return GST_FLOW_OK;
}

/* qlock held: every sink pad got EOS (or was never fed and got EOS). */
static gboolean
all_pads_eos_locked (GstHdf5Sink * self)
{
  GList *l;
  gboolean all = TRUE;

  GST_OBJECT_LOCK (self);
  if (GST_ELEMENT (self)->sinkpads == NULL)
    all = FALSE;
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    if (!GST_HDF5_SINK_PAD (l->data)->eos)
      all = FALSE;
  }
  GST_OBJECT_UNLOCK (self);
  return all;
}

static void
queue_finalize_if_done_locked (GstHdf5Sink * self, guint32 seqnum)
{
  Item *it;

  if (self->finalize_queued || !all_pads_eos_locked (self))
    return;
  it = g_new0 (Item, 1);
  it->type = ITEM_FINALIZE;
  it->seqnum = seqnum;
  it->queued_at = g_get_monotonic_time ();
  g_queue_push_tail (&self->queue, it);
  self->finalize_queued = TRUE;
  g_cond_signal (&self->cond_writer);
}

static const gchar *
role_nick (GstHdf5SinkAlohaRole role)
{
  GEnumClass *klass = g_type_class_ref (GST_TYPE_HDF5_SINK_ALOHA_ROLE);
  GEnumValue *v = g_enum_get_value (klass, role);
  const gchar *nick = v ? v->value_nick : "?";
  g_type_class_unref (klass);
  return nick;
}

static gboolean
gst_hdf5_sink_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstHdf5Sink *self = GST_HDF5_SINK (parent);
  GstHdf5SinkPad *spad = GST_HDF5_SINK_PAD (pad);
  gboolean ret = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gchar *error = NULL;
      Fmt *fmt;
      GstHdf5SinkLayout layout;
      GstHdf5SinkAlohaRole role;

      gst_event_parse_caps (event, &caps);
      fmt = fmt_from_caps (self, spad, caps, &error);
      GST_OBJECT_LOCK (self);
      layout = self->layout;
      GST_OBJECT_UNLOCK (self);
      GST_OBJECT_LOCK (spad);
      role = spad->aloha_role;
      GST_OBJECT_UNLOCK (spad);
      if (fmt && layout == GST_HDF5_SINK_LAYOUT_ALOHA) {
        gboolean camera = role == GST_HDF5_SINK_ALOHA_ROLE_CAMERA;
        if (camera && fmt->kind == FMT_ROS) {
          error = g_strdup_printf ("ALOHA cameras take image/jpeg or "
              "video/x-raw, not %s", fmt->caps_str);
        } else if (!camera && (fmt->kind == FMT_RAW ||
                fmt->kind == FMT_RAW_JPEG)) {
          error = g_strdup_printf ("ALOHA %s takes ROS messages or packed "
              "float vectors, not %s", role_nick (role), fmt->caps_str);
        }
#ifndef HAVE_H5ROS
        else if (!camera && fmt->kind == FMT_ROS) {
          error = g_strdup ("ROS message support is not built in");
        }
#endif
        if (error) {
          fmt_unref (fmt);
          fmt = NULL;
        }
      }
      if (fmt == NULL) {
        gchar *loc;
        GST_OBJECT_LOCK (self);
        loc = g_strdup (self->location);
        GST_OBJECT_UNLOCK (self);
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("Cannot store the stream of pad %s in HDF5 file \"%s\": %s",
                GST_PAD_NAME (pad), GST_STR_NULL (loc), error), (NULL));
        g_free (loc);
        g_free (error);
        ret = FALSE;
      } else {
        g_mutex_lock (&self->qlock);
        if (spad->fmt)
          fmt_unref (spad->fmt);
        spad->fmt = fmt;
        g_mutex_unlock (&self->qlock);
      }
      gst_event_unref (event);
      break;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &spad->segment);
      gst_event_unref (event);
      break;
    case GST_EVENT_TAG:{
      GstTagList *tags;
      gchar *v;

      gst_event_parse_tag (event, &tags);
      GST_OBJECT_LOCK (spad);
      if (gst_tag_list_get_string (tags, MB_TAG_ROS_TOPIC, &v)) {
        g_free (spad->tag_topic);
        spad->tag_topic = v;
      }
      if (gst_tag_list_get_string (tags, MB_TAG_ROS_TYPE, &v)) {
        g_free (spad->tag_type);
        spad->tag_type = v;
      }
      if (gst_tag_list_get_string (tags, MB_TAG_ROS_MD5SUM, &v)) {
        g_free (spad->tag_md5sum);
        spad->tag_md5sum = v;
      }
      if (gst_tag_list_get_string (tags, MB_TAG_ROS_MESSAGE_DEFINITION, &v)) {
        g_free (spad->tag_definition);
        spad->tag_definition = v;
      }
      GST_OBJECT_UNLOCK (spad);
      gst_event_unref (event);
      break;
    }
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->qlock);
      spad->flushing = TRUE;
      g_cond_broadcast (&self->cond_space);
      g_mutex_unlock (&self->qlock);
      gst_event_unref (event);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->qlock);
      spad->flushing = FALSE;
      spad->eos = FALSE;
      g_mutex_unlock (&self->qlock);
      gst_segment_init (&spad->segment, GST_FORMAT_TIME);
      gst_event_unref (event);
      break;
    case GST_EVENT_EOS:
      g_mutex_lock (&self->qlock);
      spad->eos = TRUE;
      queue_finalize_if_done_locked (self, gst_event_get_seqnum (event));
      g_mutex_unlock (&self->qlock);
      gst_event_unref (event);
      break;
    default:
      ret = gst_pad_event_default (pad, parent, event);
      break;
  }
  return ret;
}

static gboolean
gst_hdf5_sink_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *result;
      guint i;
      gint quality;

      /* ANY, except that raw video is limited to the formats we store, so
       * that upstream negotiates one of them. */
      GST_OBJECT_LOCK (parent);
      quality = GST_HDF5_SINK (parent)->jpeg_quality;
      GST_OBJECT_UNLOCK (parent);
      gst_query_parse_caps (query, &filter);
      if (filter == NULL || gst_caps_is_any (filter)) {
        result = gst_caps_new_any ();
      } else {
        GstCaps *raw = gst_static_caps_get (quality > 0 ? &jpeg_caps :
            &raw_caps);
        result = gst_caps_new_empty ();
        for (i = 0; i < gst_caps_get_size (filter); i++) {
          GstCaps *one = gst_caps_copy_nth (filter, i);
          if (gst_structure_has_name (gst_caps_get_structure (one, 0),
                  "video/x-raw")) {
            GstCaps *tmp = gst_caps_intersect (one, raw);
            gst_caps_unref (one);
            one = tmp;
          }
          result = gst_caps_merge (result, one);
        }
        gst_caps_unref (raw);
      }
      gst_query_set_caps_result (query, result);
      gst_caps_unref (result);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:
      /* Everything reaches the caps event, which posts an error naming the
       * file and what cannot be stored. */
      gst_query_set_accept_caps_result (query, TRUE);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* ---- writer thread ---- */

static void
post_structure (GstHdf5Sink * self, GstStructure * s)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

static GstStructure *
writer_summary (GstHdf5Sink * self, const gchar * name)
{
  GValue arr = G_VALUE_INIT;
  guint64 rows = 0, bytes = 0, dropped;
  GstStructure *s;
  GList *l;

  g_value_init (&arr, GST_TYPE_ARRAY);
  g_mutex_lock (&self->qlock);
  dropped = self->dropped;
  for (l = self->wpads; l; l = l->next) {
    GstHdf5SinkPad *pad = l->data;
    GValue v = G_VALUE_INIT;
    GstStructure *st = gst_structure_new ("stream",
        MB_HDF5SINK_FIELD_PATH, G_TYPE_STRING, pad->wpath,
        MB_HDF5SINK_FIELD_ROWS, G_TYPE_UINT64, pad->rows,
        MB_HDF5SINK_FIELD_BYTES, G_TYPE_UINT64, pad->bytes,
        MB_HDF5SINK_FIELD_DROPPED, G_TYPE_UINT64, pad->dropped, NULL);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    gst_value_set_structure (&v, st);
    gst_structure_free (st);
    gst_value_array_append_and_take_value (&arr, &v);
    rows += pad->rows;
    bytes += pad->bytes;
  }
  g_mutex_unlock (&self->qlock);
  s = gst_structure_new (name,
      MB_HDF5SINK_FIELD_LOCATION, G_TYPE_STRING, self->wlocation,
      MB_HDF5SINK_FIELD_ROWS, G_TYPE_UINT64, rows,
      MB_HDF5SINK_FIELD_BYTES, G_TYPE_UINT64, bytes,
      MB_HDF5SINK_FIELD_DROPPED, G_TYPE_UINT64, dropped, NULL);
  gst_structure_take_value (s, MB_HDF5SINK_FIELD_STREAMS, &arr);
  return s;
}

/* Stops recording after a failure: nothing more reaches the file. */
static void
writer_fail (GstHdf5Sink * self, gboolean format_error, gint err_no,
    const gchar * msg)
{
  /* Post our error first, before the chain functions see write_error and
   * return GST_FLOW_ERROR: upstream then posts its generic "Internal data
   * stream error", and applications show only the first error. */
  GST_WARNING_OBJECT (self, "recording stopped: %s", msg);
  if (format_error) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Cannot store stream in HDF5 file: %s", msg), (NULL));
  } else if (err_no == ENOSPC || err_no == EFBIG || err_no == EDQUOT) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("No space left to write HDF5 file: %s", msg),
        ("errno %d; rows up to the last hdf5sink-flushed message are "
            "readable", err_no));
  } else {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write HDF5 file: %s", msg),
        ("errno %d; rows up to the last hdf5sink-flushed message are "
            "readable", err_no));
  }
  g_mutex_lock (&self->qlock);
  self->write_error = TRUE;
  discard_queue_locked (self);
  g_mutex_unlock (&self->qlock);
  if (self->w) {
    GList *l;
    for (l = self->wpads; l; l = l->next)
      GST_HDF5_SINK_PAD (l->data)->stream = NULL;
    /* Bad input leaves the file intact: close it properly. After an I/O
     * error nothing more may reach the file. */
    if (mb_h5_writer_is_broken (self->w))
      mb_h5_writer_abort (self->w);
    else
      mb_h5_writer_close (self->w, NULL, 0);
    self->w = NULL;
  }
}

static gchar *
normalize_path (const gchar * in)
{
  GString *s = g_string_new (NULL);
  gchar **parts = g_strsplit (in, "/", -1);
  gchar **p;

  for (p = parts; *p; p++) {
    if (**p == '\0' || g_str_equal (*p, "."))
      continue;
    g_string_append_c (s, '/');
    g_string_append (s, *p);
  }
  g_strfreev (parts);
  return g_string_free (s, FALSE);
}

static const gchar *
last_component (const gchar * path)
{
  const gchar *p = strrchr (path, '/');
  return p ? p + 1 : path;
}

#ifdef HAVE_H5ROS
typedef struct
{
  const MbRosField *target;
  const guint8 *p;
  guint32 count;
  MbRosPrimitive type;
} VecFind;

static int
vec_prim_array (void *ud, const MbRosField * f, uint32_t count,
    const uint8_t * p)
{
  VecFind *vf = ud;
  if (f == vf->target) {
    vf->p = p;
    vf->count = count;
    vf->type = f->type;
  }
  return 0;
}

/* The float array field @pad->aloha_field (or the role's default) of one
 * message, as packed float64 into @out (g_malloc'd). */
static gboolean
ros_vector (GstHdf5SinkPad * pad, const guint8 * data, gsize len,
    gdouble ** out, guint * n)
{
  static const MbRosVisitor visitor = { NULL, vec_prim_array, NULL, NULL,
    NULL, NULL, NULL
  };
  const MbRosMsgType *root = mb_ros_schema_root (pad->ros_schema);
  const gchar *name;
  VecFind vf = { NULL, NULL, 0, MB_ROS_FLOAT64 };
  guint i;
  gsize k;

  GST_OBJECT_LOCK (pad);
  name = pad->aloha_field;
  if (name == NULL) {
    name = pad->aloha_role == GST_HDF5_SINK_ALOHA_ROLE_QVEL ? "velocity" :
        pad->aloha_role == GST_HDF5_SINK_ALOHA_ROLE_EFFORT ? "effort" :
        "position";
  }
  for (k = 0; k < root->n_fields; k++) {
    if (g_str_equal (root->fields[k].name, name))
      vf.target = &root->fields[k];
  }
  GST_OBJECT_UNLOCK (pad);
  if (vf.target == NULL || (vf.target->type != MB_ROS_FLOAT64 &&
          vf.target->type != MB_ROS_FLOAT32) ||
      vf.target->array_len == MB_ROS_NOT_ARRAY)
    return FALSE;
  if (mb_ros_walk (pad->ros_schema, data, len, &visitor, &vf, NULL) != 0)
    return FALSE;
  *out = g_new (gdouble, vf.count ? vf.count : 1);
  for (i = 0; i < vf.count; i++) {
    if (vf.type == MB_ROS_FLOAT64) {
      memcpy (&(*out)[i], vf.p + i * 8, 8);
    } else {
      gfloat fv;
      memcpy (&fv, vf.p + i * 4, 4);
      (*out)[i] = fv;
    }
  }
  *n = vf.count;
  return TRUE;
}
#endif

/* Creates the datasets of @pad's stream from its first item. */
static gboolean
writer_create_stream (GstHdf5Sink * self, GstHdf5SinkPad * pad, Item * first,
    gchar ** error, gboolean * format_error)
{
  MbH5StreamSpec spec;
  Fmt *fmt = first->fmt;
  gchar *path = NULL, *data_path = NULL, *ts_path = NULL, *src_path = NULL;
  gchar *attr_path = NULL, *name = NULL;
  gchar *offset_path = NULL, *size_path = NULL;
  GstHdf5SinkAlohaRole role;
  GstHdf5SinkBlobLayout blob_layout;
  guint max_bytes;
  gboolean ok = FALSE;

  memset (&spec, 0, sizeof (spec));
  spec.row_type = -1;
  *format_error = TRUE;

  GST_OBJECT_LOCK (pad);
  if (pad->path)
    path = g_strdup (pad->path);
  else if (pad->tag_topic)
    path = g_strdup (pad->tag_topic);
  role = pad->aloha_role;
  name = g_strdup (pad->aloha_name);
  max_bytes = pad->aloha_max_bytes;
  blob_layout = pad->blob_layout;
  GST_OBJECT_UNLOCK (pad);

  if (self->wlayout == GST_HDF5_SINK_LAYOUT_DEFAULT) {
    gchar *norm;
    if (path == NULL)
      path = g_strdup_printf ("/stream_%u", pad->index);
    norm = normalize_path (path);
    g_free (path);
    path = norm;
    if (*path == '\0') {
      *error = g_strdup_printf ("pad %s: empty path", GST_PAD_NAME (pad));
      goto done;
    }
    data_path = g_strconcat (path, "/data", NULL);
    ts_path = g_strconcat (path, "/timestamp", NULL);
    src_path = g_strconcat (path, "/source_timestamp", NULL);
    attr_path = g_strdup (path);
  } else if (role == GST_HDF5_SINK_ALOHA_ROLE_CAMERA) {
    if (name == NULL || *name == '\0') {
      g_free (name);
      name = path ? g_strdup (last_component (path)) :
          g_strdup_printf ("cam_%u", pad->index);
    }
    g_free (path);
    path = g_strconcat ("/observations/images/", name, NULL);
    data_path = g_strdup (path);
    attr_path = g_strdup (path);
    ts_path = g_strconcat ("/observations/timestamps/", name, NULL);
    src_path = g_strconcat ("/observations/source_timestamps/", name, NULL);
  } else {
    static const gchar *paths[] = { NULL, "/observations/qpos",
      "/observations/qvel", "/observations/effort", "/action", "/base_action"
    };
    static const gchar *names[] = { NULL, "qpos", "qvel", "effort", "action",
      "base_action"
    };
    g_free (path);
    path = g_strdup (paths[role]);
    data_path = g_strdup (path);
    attr_path = g_strdup (path);
    ts_path = g_strconcat ("/observations/timestamps/", names[role], NULL);
    src_path = g_strconcat ("/observations/source_timestamps/", names[role],
        NULL);
  }
  if (g_hash_table_contains (self->wpaths, data_path)) {
    *error = g_strdup_printf ("pad %s: %s is already written by another pad",
        GST_PAD_NAME (pad), data_path);
    goto done;
  }

  spec.data_path = data_path;
  spec.ts_path = ts_path;
  spec.src_ts_path = src_path;
  spec.attr_path = attr_path;

  if (self->wlayout == GST_HDF5_SINK_LAYOUT_ALOHA &&
      role != GST_HDF5_SINK_ALOHA_ROLE_CAMERA) {
    spec.kind = MB_H5S_VECTOR;
    if (fmt->kind == FMT_ROS) {
#ifdef HAVE_H5ROS
      char err[256];
      gdouble *v = NULL;
      guint n = 0;
      GstMapInfo map;
      pad->ros_schema = mb_ros_schema_parse (fmt->ros_type,
          fmt->ros_definition ? fmt->ros_definition : "",
          fmt->ros_definition ? strlen (fmt->ros_definition) : 0, err,
          sizeof (err));
      if (pad->ros_schema == NULL) {
        *error = g_strdup_printf ("%s: ROS definition of %s: %s", data_path,
            GST_STR_NULL (fmt->ros_type), err);
        goto done;
      }
      if (!gst_buffer_map (first->buf, &map, GST_MAP_READ))
        goto done;
      if (!ros_vector (pad, map.data, map.size, &v, &n) || n == 0) {
        gst_buffer_unmap (first->buf, &map);
        g_free (v);
        *error = g_strdup_printf ("%s: no float array field for %s in %s",
            data_path, role_nick (role), GST_STR_NULL (fmt->ros_type));
        goto done;
      }
      gst_buffer_unmap (first->buf, &map);
      g_free (v);
      spec.dims = n;
      spec.input_f64 = 1;
#endif
    } else {
      spec.input_f64 = fmt->f64;
      spec.dims = first->bytes / (fmt->f64 ? 8 : 4);
      if (spec.dims == 0 || first->bytes % (fmt->f64 ? 8 : 4)) {
        *error = g_strdup_printf ("%s: buffer of %" G_GSIZE_FORMAT " bytes is "
            "not a packed float%s vector", data_path, first->bytes,
            fmt->f64 ? "64" : "32");
        goto done;
      }
    }
    pad->vec_dims = spec.dims;
  } else if (fmt->kind == FMT_RAW) {
    const GstVideoFormatInfo *fi = fmt->vinfo.finfo;
    spec.kind = MB_H5S_FRAMES;
    spec.width = GST_VIDEO_INFO_WIDTH (&fmt->vinfo);
    spec.height = GST_VIDEO_INFO_HEIGHT (&fmt->vinfo);
    spec.channels = GST_VIDEO_INFO_COMP_PSTRIDE (&fmt->vinfo, 0) /
        (GST_VIDEO_FORMAT_INFO_DEPTH (fi, 0) > 8 ? 2 : 1);
    spec.sample_bytes = GST_VIDEO_FORMAT_INFO_DEPTH (fi, 0) > 8 ? 2 : 1;
    spec.deflate = self->wcompression;
  } else if (self->wlayout == GST_HDF5_SINK_LAYOUT_ALOHA) {
    spec.kind = MB_H5S_PADDED;
    spec.max_bytes = max_bytes;
  } else if (fmt->kind == FMT_ROS) {
#ifdef HAVE_H5ROS
    char err[256];
    pad->ros_schema = mb_ros_schema_parse (fmt->ros_type,
        fmt->ros_definition ? fmt->ros_definition : "",
        fmt->ros_definition ? strlen (fmt->ros_definition) : 0, err,
        sizeof (err));
    if (pad->ros_schema)
      pad->ros_layout = mb_h5ros_layout_new (pad->ros_schema, err,
          sizeof (err));
    if (pad->ros_layout == NULL) {
      *error = g_strdup_printf ("%s: ROS definition of %s: %s", data_path,
          GST_STR_NULL (fmt->ros_type), err);
      goto done;
    }
    spec.kind = MB_H5S_COMPOUND;
    spec.row_type = mb_h5ros_layout_type (pad->ros_layout);
    spec.row_size = mb_h5ros_layout_row_size (pad->ros_layout);
#else
    spec.kind = MB_H5S_VLEN;
#endif
  } else {
    spec.kind = MB_H5S_VLEN;
  }
  if (spec.kind == MB_H5S_VLEN &&
      blob_layout == GST_HDF5_SINK_BLOB_LAYOUT_PACKED) {
    /* the blobs back to back in data, indexed by offset and size */
    spec.kind = MB_H5S_PACKED;
    offset_path = g_strconcat (path, "/offset", NULL);
    size_path = g_strconcat (path, "/size", NULL);
    spec.offset_path = offset_path;
    spec.size_path = size_path;
  }

  *format_error = FALSE;
  pad->stream = mb_h5_writer_add_stream (self->w, &spec);
  if (pad->stream == NULL) {
    *error = g_strdup (mb_h5_writer_error (self->w));
    goto done;
  }
  mb_h5_stream_set_attr_string (pad->stream, "caps", fmt->caps_str);
  if (spec.kind == MB_H5S_PACKED)
    mb_h5_stream_set_attr_string (pad->stream, "layout", "packed");
  if (fmt->color_order)
    mb_h5_stream_set_attr_string (pad->stream, "color_order",
        fmt->color_order);
  if (fmt->kind == FMT_RAW_JPEG) {
    mb_h5_stream_set_attr_string (pad->stream, "encoder",
        "libjpeg-turbo TurboJPEG 4:2:0");
    mb_h5_stream_set_attr_int (pad->stream, "jpeg_quality",
        self->wjpeg_quality);
    if (fmt->jpeg_pixel == MB_JPEG_I420 || fmt->jpeg_pixel == MB_JPEG_NV12) {
      /* the planes are encoded as they are (limited range expanded): a
       * reader needing exact colours of a non-BT.601 source knows it */
      gchar *c = gst_video_colorimetry_to_string (&fmt->vinfo.colorimetry);
      mb_h5_stream_set_attr_string (pad->stream, "source_colorimetry",
          c ? c : "unknown");
      g_free (c);
    }
  }
  if (fmt->kind == FMT_ROS) {
    mb_h5_stream_set_attr_string (pad->stream, "ros_type", fmt->ros_type);
    mb_h5_stream_set_attr_string (pad->stream, "ros_md5sum", fmt->ros_md5sum);
    mb_h5_stream_set_attr_string (pad->stream, "ros_message_definition",
        fmt->ros_definition);
#ifndef HAVE_H5ROS
    mb_h5_stream_set_attr_string (pad->stream, "encoding", "ros1");
#endif
  }
  if (spec.kind == MB_H5S_PADDED && !self->aloha_compress) {
    self->aloha_compress = TRUE;
    mb_h5_writer_set_root_attr_bool (self->w, "compress", 1);
  }
  pad->wfmt = fmt_ref (fmt);
  pad->wpath = g_strdup (path);
  pad->rows = mb_h5_stream_rows (pad->stream);
  g_hash_table_add (self->wpaths, g_strdup (data_path));
  self->wpads = g_list_append (self->wpads, gst_object_ref (pad));
  ok = TRUE;

done:
  g_free (path);
  g_free (name);
  g_free (data_path);
  g_free (ts_path);
  g_free (src_path);
  g_free (attr_path);
  g_free (offset_path);
  g_free (size_path);
  return ok;
}

static void
record_latency (GstHdf5Sink * self, guint64 ns)
{
  self->lat[self->n_lat % LAT_SAMPLES] = ns;
  self->n_lat++;
}

/* Writes @n items of one pad as one batch. FALSE after a failure (already
 * reported). */
static gboolean
writer_write_batch (GstHdf5Sink * self, GstHdf5SinkPad * pad, Item ** items,
    guint n)
{
  MbH5Row *rows;
  GstVideoFrame *frames = NULL;
  GstMapInfo *maps;
  gboolean *mapped, *fmapped;
  guint8 *ros_rows = NULL;
  gdouble **vecs = NULL;
  gsize row_size = 0;
  gchar *error = NULL;
  gboolean format_error = FALSE, ok = TRUE;
  guint64 bytes = 0;
  gint64 t0;
  guint i;

  if (pad->stream == NULL && !writer_create_stream (self, pad, items[0],
          &error, &format_error)) {
    writer_fail (self, format_error, 0, error);
    g_free (error);
    return FALSE;
  }

  rows = g_new0 (MbH5Row, n);
  maps = g_new0 (GstMapInfo, n);
  mapped = g_new0 (gboolean, n);
  fmapped = g_new0 (gboolean, n);
  if (pad->wfmt->kind == FMT_RAW)
    frames = g_new0 (GstVideoFrame, n);
#ifdef HAVE_H5ROS
  if (pad->ros_layout && pad->vec_dims < 0) {
    row_size = mb_h5ros_layout_row_size (pad->ros_layout);
    ros_rows = g_malloc0 (row_size * n);
  }
  if (pad->ros_schema && pad->vec_dims >= 0)
    vecs = g_new0 (gdouble *, n);
#endif

  for (i = 0; i < n && ok; i++) {
    Item *it = items[i];
    MbH5Row *r = &rows[i];

    r->timestamp = it->ts;
    r->source_timestamp = it->src_ts;
    r->has_source_timestamp = it->has_src;
    if (!fmt_same_storage (pad->wfmt, it->fmt)) {
      error = g_strdup_printf ("%s: caps changed from %s to %s, which cannot "
          "go into the same dataset", pad->wpath, pad->wfmt->caps_str,
          it->fmt->caps_str);
      format_error = TRUE;
      ok = FALSE;
      break;
    }
    if (it->error) {
      error = g_strdup_printf ("%s: %s", pad->wpath, it->error);
      format_error = TRUE;
      ok = FALSE;
      break;
    }
    switch (pad->wfmt->kind) {
      case FMT_RAW:
        if (!gst_video_frame_map (&frames[i], &it->fmt->vinfo, it->buf,
                GST_MAP_READ)) {
          error = g_strdup_printf ("%s: could not map frame", pad->wpath);
          ok = FALSE;
          break;
        }
        fmapped[i] = TRUE;
        r->data = GST_VIDEO_FRAME_PLANE_DATA (&frames[i], 0);
        r->stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frames[i], 0);
        r->size = frames[i].map[0].size -
            GST_VIDEO_INFO_PLANE_OFFSET (&frames[i].info, 0);
        bytes += (gsize) GST_VIDEO_INFO_COMP_PSTRIDE (&it->fmt->vinfo, 0) *
            GST_VIDEO_INFO_WIDTH (&it->fmt->vinfo) *
            GST_VIDEO_INFO_HEIGHT (&it->fmt->vinfo);
        break;
      case FMT_RAW_JPEG:
        r->data = it->jpeg;
        r->size = it->jpeg_len;
        bytes += it->jpeg_len;
        break;
      default:
        if (!gst_buffer_map (it->buf, &maps[i], GST_MAP_READ)) {
          error = g_strdup_printf ("%s: could not map buffer", pad->wpath);
          ok = FALSE;
          break;
        }
        mapped[i] = TRUE;
        r->data = maps[i].data;
        r->size = maps[i].size;
        bytes += maps[i].size;
#ifdef HAVE_H5ROS
        if (ros_rows) {
          if (mb_h5ros_layout_convert (pad->ros_layout, maps[i].data,
                  maps[i].size, ros_rows + i * row_size) < 0) {
            error = g_strdup_printf ("%s: message %" G_GUINT64_FORMAT " of "
                "%" G_GSIZE_FORMAT " bytes does not match the definition of "
                "%s", pad->wpath, pad->rows + i, maps[i].size,
                GST_STR_NULL (pad->wfmt->ros_type));
            format_error = TRUE;
            ok = FALSE;
            break;
          }
          r->data = ros_rows + i * row_size;
          r->size = row_size;
        } else if (vecs) {
          guint cnt = 0;
          if (!ros_vector (pad, maps[i].data, maps[i].size, &vecs[i], &cnt)
              || (gint) cnt != pad->vec_dims) {
            error = g_strdup_printf ("%s: message %" G_GUINT64_FORMAT " has "
                "%u values, expected %d", pad->wpath, pad->rows + i, cnt,
                pad->vec_dims);
            format_error = TRUE;
            ok = FALSE;
            break;
          }
          r->data = (const guint8 *) vecs[i];
          r->size = cnt * sizeof (gdouble);
        }
#endif
        break;
    }
  }

  if (ok) {
    t0 = g_get_monotonic_time ();
    if (mb_h5_stream_append (pad->stream, rows, n) < 0) {
      error = g_strdup (mb_h5_writer_error (self->w));
      ok = FALSE;
    } else {
      record_latency (self, (g_get_monotonic_time () - t0) * 1000);
      pad->rows += n;
      pad->bytes += bytes;
      self->dirty = TRUE;
    }
  }

  for (i = 0; i < n; i++) {
    if (fmapped[i])
      gst_video_frame_unmap (&frames[i]);
    if (mapped[i])
      gst_buffer_unmap (items[i]->buf, &maps[i]);
#ifdef HAVE_H5ROS
    if (ros_rows)
      mb_h5ros_layout_row_clear (pad->ros_layout, ros_rows + i * row_size);
    if (vecs)
      g_free (vecs[i]);
#endif
  }
  g_free (ros_rows);
  g_free (vecs);
  g_free (frames);
  g_free (maps);
  g_free (mapped);
  g_free (fmapped);
  g_free (rows);

  if (!ok) {
    gint err_no = self->w ? mb_h5_writer_errno (self->w) : 0;
    writer_fail (self, format_error, err_no, error);
    g_free (error);
  }
  return ok;
}

static void
writer_close (GstHdf5Sink * self)
{
  char err[1024];
  GList *l;

  gboolean do_fsync;

  if (self->w == NULL)
    return;
  GST_OBJECT_LOCK (self);
  do_fsync = self->fsync;
  GST_OBJECT_UNLOCK (self);
  /* with fsync, the closed file is on the disk too */
  if (do_fsync && mb_h5_writer_flush (self->w, TRUE) < 0) {
    gchar *msg = g_strdup (mb_h5_writer_error (self->w));
    writer_fail (self, FALSE, mb_h5_writer_errno (self->w), msg);
    g_free (msg);
    return;
  }
  for (l = self->wpads; l; l = l->next)
    GST_HDF5_SINK_PAD (l->data)->stream = NULL;
  if (mb_h5_writer_close (self->w, err, sizeof (err)) < 0) {
    self->w = NULL;
    writer_fail (self, FALSE, ENOSPC, err);
  }
  self->w = NULL;
}

static void
writer_process (GstHdf5Sink * self, GPtrArray * items)
{
  guint i, j, n = items->len;
  Item **group = g_new (Item *, n);
  gboolean *done = g_new0 (gboolean, n);

  for (i = 0; i < n && self->w; i++) {
    Item *it = g_ptr_array_index (items, i);
    guint k = 0;

    if (done[i] || it->type != ITEM_BUFFER)
      continue;
    for (j = i; j < n; j++) {
      Item *o = g_ptr_array_index (items, j);
      if (!done[j] && o->type == ITEM_BUFFER && o->pad == it->pad) {
        group[k++] = o;
        done[j] = TRUE;
      }
    }
    if (!writer_write_batch (self, it->pad, group, k))
      break;
  }

  for (i = 0; i < n; i++) {
    Item *it = g_ptr_array_index (items, i);
    if (it->type == ITEM_FINALIZE) {
      GstMessage *eos;
      if (self->w) {
        writer_close (self);
        if (!self->write_error)
          post_structure (self, writer_summary (self,
                  MB_HDF5SINK_DONE_MESSAGE));
      }
      g_mutex_lock (&self->qlock);
      self->finished = TRUE;
      g_cond_broadcast (&self->cond_space);
      g_mutex_unlock (&self->qlock);
      if (!self->write_error) {
        eos = gst_message_new_eos (GST_OBJECT (self));
        gst_message_set_seqnum (eos, it->seqnum);
        gst_element_post_message (GST_ELEMENT (self), eos);
      }
    }
  }
  g_free (group);
  g_free (done);
}

static int
cmp_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;
  return x < y ? -1 : x > y;
}

/* Periodic flush and stats (no lock held). */
static void
writer_housekeeping (GstHdf5Sink * self)
{
  gint64 now = g_get_monotonic_time ();
  guint64 flush_interval, stats_interval;
  gboolean do_fsync;

  if (self->w == NULL)
    return;
  GST_OBJECT_LOCK (self);
  flush_interval = self->flush_interval;
  stats_interval = self->stats_interval;
  do_fsync = self->fsync;
  GST_OBJECT_UNLOCK (self);

  if (self->dirty && (flush_interval == 0 ||
          now >= self->last_flush + (gint64) (flush_interval / 1000))) {
    if (mb_h5_writer_flush (self->w, do_fsync) < 0) {
      gchar *msg = g_strdup (mb_h5_writer_error (self->w));
      writer_fail (self, FALSE, mb_h5_writer_errno (self->w), msg);
      g_free (msg);
      return;
    }
    self->dirty = FALSE;
    self->last_flush = g_get_monotonic_time ();
#ifdef __GLIBC__
    /* Hand the pages freed since the last flush back to the kernel (all
     * malloc arenas: the JPEG workers allocate the encoded frames in theirs,
     * this thread frees them), at most once a second. Without it RSS keeps
     * the highest fragmentation reached as a step of several MB. */
    if (self->last_flush >= self->last_trim + G_USEC_PER_SEC) {
      malloc_trim (0);
      self->last_trim = self->last_flush;
    }
#endif
    post_structure (self, writer_summary (self, MB_HDF5SINK_FLUSHED_MESSAGE));
  }
  if (stats_interval > 0 && now >= self->next_stats) {
    GstStructure *s = writer_summary (self, MB_HDF5SINK_STATS_MESSAGE);
    guint n = MIN (self->n_lat, LAT_SAMPLES);
    guint64 p50 = 0, p99 = 0, qbytes;
    guint qbuf;

    if (n > 0) {
      guint64 *sorted = g_memdup2 (self->lat, n * sizeof (guint64));
      qsort (sorted, n, sizeof (guint64), cmp_u64);
      p50 = sorted[(n - 1) / 2];
      p99 = sorted[MIN (n - 1, (n * 99 + 99) / 100 - 1)];
      g_free (sorted);
    }
    g_mutex_lock (&self->qlock);
    qbuf = self->q_buffers;
    qbytes = self->q_bytes;
    g_mutex_unlock (&self->qlock);
    gst_structure_set (s, MB_HDF5SINK_FIELD_QUEUE_BUFFERS, G_TYPE_UINT, qbuf,
        MB_HDF5SINK_FIELD_QUEUE_BYTES, G_TYPE_UINT64, qbytes,
        MB_HDF5SINK_FIELD_LATENCY_P50, G_TYPE_UINT64, p50,
        MB_HDF5SINK_FIELD_LATENCY_P99, G_TYPE_UINT64, p99, NULL);
    self->n_lat = 0;
    self->next_stats = now + (gint64) (stats_interval / 1000);
    post_structure (self, s);
  }
}

/* qlock held: a pad has a full batch waiting. */
static gboolean
any_batch_ready_locked (GstHdf5Sink * self, guint batch_size)
{
  GList *l;
  gboolean ready = FALSE;

  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next)
    if (GST_HDF5_SINK_PAD (l->data)->queued >= batch_size)
      ready = TRUE;
  GST_OBJECT_UNLOCK (self);
  return ready;
}

static gpointer
gst_hdf5_sink_writer_thread (gpointer data)
{
  GstHdf5Sink *self = data;
  char err[1024];
  GstHdf5SinkMode mode;
  MbH5Writer *w;

  GST_OBJECT_LOCK (self);
  mode = self->mode;
  GST_OBJECT_UNLOCK (self);
  w = mb_h5_writer_open (self->wlocation, (MbH5WriterMode) mode, err,
      sizeof (err));
  if (w) {
    GEnumClass *klass = g_type_class_ref (GST_TYPE_HDF5_SINK_LAYOUT);
    mb_h5_writer_set_root_attr_string (w, "writer", "membound hdf5sink "
        VERSION);
    mb_h5_writer_set_root_attr_string (w, "layout",
        g_enum_get_value (klass, self->wlayout)->value_nick);
    g_type_class_unref (klass);
    if (self->wlayout == GST_HDF5_SINK_LAYOUT_ALOHA) {
      mb_h5_writer_set_root_attr_bool (w, "sim", 0);
      mb_h5_writer_set_root_attr_bool (w, "compress", 0);
    }
  }
  g_mutex_lock (&self->qlock);
  self->w = w;
  self->open_done = TRUE;
  if (!w)
    self->open_error = g_strdup (err);
  g_cond_broadcast (&self->cond_open);
  if (!w) {
    g_mutex_unlock (&self->qlock);
    return NULL;
  }
  self->last_flush = self->next_stats = g_get_monotonic_time ();

  for (;;) {
    Item *head = g_queue_peek_head (&self->queue);
    gint64 now = g_get_monotonic_time (), deadline = G_MAXINT64;
    guint64 batch_timeout, flush_interval, stats_interval;
    guint batch_size;
    gboolean go;

    if (head == NULL && self->stop)
      break;
    GST_OBJECT_LOCK (self);
    batch_timeout = self->batch_timeout;
    batch_size = self->batch_size;
    flush_interval = self->flush_interval;
    stats_interval = self->stats_interval;
    GST_OBJECT_UNLOCK (self);

    go = head && (self->stop || self->batch_ready || self->finalize_queued
        || queue_full (self, 0) || self->space_wanted ||
        now >= head->queued_at + (gint64) (batch_timeout / 1000));
    if (go) {
      GPtrArray *popped = g_ptr_array_new ();
      Item *it;
      guint i;

      while (popped->len < MAX_POP &&
          (it = g_queue_peek_head (&self->queue)) &&
          it->state == ITEM_READY) {
        g_queue_pop_head (&self->queue);
        g_ptr_array_add (popped, it);
        if (it->pad)
          it->pad->queued--;
        if (it->type == ITEM_FINALIZE)
          break;
      }
      if (popped->len == 0) {
        /* head still being encoded */
        g_ptr_array_free (popped, TRUE);
        g_cond_wait (&self->cond_writer, &self->qlock);
        continue;
      }
      self->batch_ready = any_batch_ready_locked (self, batch_size);
      self->space_wanted = FALSE;
      g_mutex_unlock (&self->qlock);

      writer_process (self, popped);

      g_mutex_lock (&self->qlock);
      if (!self->write_error) {
        for (i = 0; i < popped->len; i++) {
          it = g_ptr_array_index (popped, i);
          if (it->type == ITEM_BUFFER) {
            self->q_buffers--;
            self->q_bytes -= it->bytes;
          }
        }
      }
      g_cond_broadcast (&self->cond_space);
      g_mutex_unlock (&self->qlock);
      g_ptr_array_foreach (popped, (GFunc) item_free, NULL);
      g_ptr_array_free (popped, TRUE);
      writer_housekeeping (self);
      g_mutex_lock (&self->qlock);
      continue;
    }

    if (head)
      deadline = head->queued_at + (gint64) (batch_timeout / 1000);
    if (self->w && self->dirty)
      deadline = MIN (deadline, self->last_flush +
          (gint64) (flush_interval / 1000));
    if (self->w && stats_interval > 0)
      deadline = MIN (deadline, self->next_stats);
    if (deadline <= now) {
      g_mutex_unlock (&self->qlock);
      writer_housekeeping (self);
      g_mutex_lock (&self->qlock);
      /* housekeeping moved its deadlines; avoid spinning on a dead writer */
      if (self->w == NULL && !head && !self->stop)
        g_cond_wait (&self->cond_writer, &self->qlock);
      continue;
    }
    if (deadline == G_MAXINT64)
      g_cond_wait (&self->cond_writer, &self->qlock);
    else
      g_cond_wait_until (&self->cond_writer, &self->qlock, deadline);
  }
  g_mutex_unlock (&self->qlock);

  /* Stopped without EOS: everything queued was written; close properly. */
  if (self->w) {
    writer_housekeeping (self);
    writer_close (self);
  }
  return NULL;
}

static gpointer
gst_hdf5_sink_encode_thread (gpointer data)
{
  GstHdf5Sink *self = data;
  MbJpegEncoder *enc = mb_jpeg_encoder_new ();
  gint quality = self->wjpeg_quality;

  g_mutex_lock (&self->qlock);
  while (!self->workers_stop) {
    Item *it = NULL;
    GList *l;
    GstVideoFrame frame;
    guint8 *out = NULL;
    size_t out_len = 0;
    char err[256] = "";
    int r = -1;

    for (l = self->queue.head; l; l = l->next) {
      Item *c = l->data;
      if (c->state == ITEM_NEED_ENCODE) {
        it = c;
        break;
      }
    }
    if (it == NULL) {
      g_cond_wait (&self->cond_work, &self->qlock);
      continue;
    }
    it->state = ITEM_ENCODING;
    g_mutex_unlock (&self->qlock);

    if (enc == NULL) {
      g_strlcpy (err, "could not create a TurboJPEG encoder", sizeof (err));
    } else if (gst_video_frame_map (&frame, &it->fmt->vinfo, it->buf,
            GST_MAP_READ)) {
      MbJpegPixel px = it->fmt->jpeg_pixel;
      if (px == MB_JPEG_I420 || px == MB_JPEG_NV12) {
        /* zero-copy from the planes (strides from the video meta) */
        const guint8 *planes[3] = { NULL, NULL, NULL };
        int strides[3] = { 0, 0, 0 };
        guint p;
        for (p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
          planes[p] = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
          strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
        }
        r = mb_jpeg_encode_yuv (enc, planes, strides,
            GST_VIDEO_FRAME_WIDTH (&frame), GST_VIDEO_FRAME_HEIGHT (&frame),
            px, GST_VIDEO_INFO_COLORIMETRY (&it->fmt->vinfo).range !=
            GST_VIDEO_COLOR_RANGE_0_255, quality, &out, &out_len, err,
            sizeof (err));
      } else {
        r = mb_jpeg_encode (enc, GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
            GST_VIDEO_FRAME_WIDTH (&frame),
            GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
            GST_VIDEO_FRAME_HEIGHT (&frame), px, quality, &out, &out_len, err,
            sizeof (err));
      }
      gst_video_frame_unmap (&frame);
    } else {
      g_strlcpy (err, "could not map the frame", sizeof (err));
    }

    g_mutex_lock (&self->qlock);
    if (it->discarded) {
      mb_jpeg_free (out);
      item_free (it);
      continue;
    }
    if (r == 0) {
      it->jpeg = out;
      it->jpeg_len = out_len;
    } else {
      it->error = g_strdup (err);
    }
    it->state = ITEM_READY;
    /* the raw frame goes back upstream now; the item counts its JPEG */
    gst_buffer_replace (&it->buf, NULL);
    self->q_bytes -= it->bytes;
    it->bytes = out_len;
    self->q_bytes += it->bytes;
    g_cond_signal (&self->cond_writer);
    g_cond_broadcast (&self->cond_space);
  }
  g_mutex_unlock (&self->qlock);
  mb_jpeg_encoder_free (enc);
  return NULL;
}

/* ---- element ---- */

static void
reset_pads (GstHdf5Sink * self)
{
  GList *l;

  g_list_free_full (self->wpads, gst_object_unref);
  self->wpads = NULL;
  g_hash_table_remove_all (self->wpaths);
  GST_OBJECT_LOCK (self);
  for (l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    GstHdf5SinkPad *pad = l->data;
    pad->eos = FALSE;
    pad->flushing = FALSE;
    pad->queued = 0;
    pad->stream = NULL;
    pad->rows = pad->bytes = 0;
    pad->vec_dims = -1;
    if (pad->wfmt)
      fmt_unref (pad->wfmt);
    pad->wfmt = NULL;
    g_clear_pointer (&pad->wpath, g_free);
#ifdef HAVE_H5ROS
    g_clear_pointer (&pad->ros_layout, mb_h5ros_layout_free);
    g_clear_pointer (&pad->ros_schema, mb_ros_schema_free);
#endif
  }
  GST_OBJECT_UNLOCK (self);
}

static void
stop_threads (GstHdf5Sink * self)
{
  guint i;

  if (self->writer) {
    g_mutex_lock (&self->qlock);
    self->stop = TRUE;
    g_cond_signal (&self->cond_writer);
    g_mutex_unlock (&self->qlock);
    g_thread_join (self->writer);
    self->writer = NULL;
  }
  if (self->workers) {
    g_mutex_lock (&self->qlock);
    self->workers_stop = TRUE;
    g_cond_broadcast (&self->cond_work);
    g_mutex_unlock (&self->qlock);
    for (i = 0; i < self->workers->len; i++)
      g_thread_join (g_ptr_array_index (self->workers, i));
    g_ptr_array_free (self->workers, TRUE);
    self->workers = NULL;
  }
  g_mutex_lock (&self->qlock);
  discard_queue_locked (self);
  g_mutex_unlock (&self->qlock);
  if (self->w) {
    mb_h5_writer_abort (self->w);
    self->w = NULL;
  }
  reset_pads (self);
}

static gboolean
start_threads (GstHdf5Sink * self)
{
  guint i, n_workers;
  gchar *error;

  GST_OBJECT_LOCK (self);
  g_free (self->wlocation);
  self->wlocation = g_strdup (self->location);
  self->wlayout = self->layout;
  self->wcompression = self->compression;
  self->wjpeg_quality = self->jpeg_quality;
  n_workers = self->jpeg_threads ? self->jpeg_threads :
      MAX (1, g_get_num_processors ());
  GST_OBJECT_UNLOCK (self);

  if (self->wlocation == NULL || *self->wlocation == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for writing."), (NULL));
    return FALSE;
  }

  g_mutex_lock (&self->qlock);
  self->flushing = FALSE;
  self->stop = FALSE;
  self->workers_stop = FALSE;
  self->write_error = FALSE;
  self->finalize_queued = FALSE;
  self->finished = FALSE;
  self->open_done = FALSE;
  self->batch_ready = FALSE;
  self->space_wanted = FALSE;
  self->dropped = 0;
  g_clear_pointer (&self->open_error, g_free);
  g_mutex_unlock (&self->qlock);
  self->dirty = FALSE;
  self->aloha_compress = FALSE;
  self->n_lat = 0;

  if (self->wjpeg_quality > 0) {
    self->workers = g_ptr_array_new ();
    for (i = 0; i < n_workers; i++)
      g_ptr_array_add (self->workers, g_thread_new ("hdf5sink-jpeg",
              gst_hdf5_sink_encode_thread, self));
  }
  self->writer = g_thread_new ("hdf5sink-writer", gst_hdf5_sink_writer_thread,
      self);

  g_mutex_lock (&self->qlock);
  while (!self->open_done)
    g_cond_wait (&self->cond_open, &self->qlock);
  error = g_steal_pointer (&self->open_error);
  g_mutex_unlock (&self->qlock);

  if (error) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open HDF5 file \"%s\" for writing: %s", self->wlocation,
            error), (NULL));
    g_free (error);
    stop_threads (self);
    return FALSE;
  }
  return TRUE;
}

static GstStateChangeReturn
gst_hdf5_sink_change_state (GstElement * element, GstStateChange transition)
{
  GstHdf5Sink *self = GST_HDF5_SINK (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start_threads (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* Wake pushes blocked on a full queue before the pads deactivate. */
      g_mutex_lock (&self->qlock);
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond_space);
      g_mutex_unlock (&self->qlock);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      stop_threads (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_threads (self);
      break;
    default:
      break;
  }
  return ret;
}

static GstPad *
gst_hdf5_sink_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstHdf5Sink *self = GST_HDF5_SINK (element);
  GstHdf5SinkPad *pad;
  guint index;
  gchar *pad_name;

  GST_OBJECT_LOCK (self);
  if (name && sscanf (name, "sink_%u", &index) == 1) {
    if (index >= self->next_pad_index)
      self->next_pad_index = index + 1;
  } else {
    index = self->next_pad_index++;
  }
  GST_OBJECT_UNLOCK (self);

  pad_name = g_strdup_printf ("sink_%u", index);
  pad = g_object_new (GST_TYPE_HDF5_SINK_PAD, "name", pad_name, "direction",
      GST_PAD_SINK, "template", templ, NULL);
  g_free (pad_name);
  pad->index = index;
  gst_pad_set_chain_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_hdf5_sink_chain));
  gst_pad_set_event_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_hdf5_sink_sink_event));
  gst_pad_set_query_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_hdf5_sink_sink_query));
  if (!gst_element_add_pad (element, GST_PAD (pad))) {
    gst_object_unref (pad);
    return NULL;
  }
  /* pad properties given on the launch line (sink_0::path=...) */
  gst_child_proxy_child_added (GST_CHILD_PROXY (element), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  return GST_PAD (pad);
}

static void
gst_hdf5_sink_release_pad (GstElement * element, GstPad * pad)
{
  GstHdf5Sink *self = GST_HDF5_SINK (element);

  g_mutex_lock (&self->qlock);
  GST_HDF5_SINK_PAD (pad)->flushing = TRUE;
  g_cond_broadcast (&self->cond_space);
  g_mutex_unlock (&self->qlock);

  gst_child_proxy_child_removed (GST_CHILD_PROXY (element), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  gst_element_remove_pad (element, pad);

  /* The remaining pads may all be at EOS now. */
  g_mutex_lock (&self->qlock);
  if (self->writer && !self->finished)
    queue_finalize_if_done_locked (self, gst_util_seqnum_next ());
  g_mutex_unlock (&self->qlock);
}

/* GstChildProxy: the sink pads, so that gst-launch can set pad properties */
static GObject *
gst_hdf5_sink_child_proxy_get_child_by_index (GstChildProxy * proxy,
    guint index)
{
  GstHdf5Sink *self = GST_HDF5_SINK (proxy);
  GObject *obj;

  GST_OBJECT_LOCK (self);
  obj = g_list_nth_data (GST_ELEMENT (self)->sinkpads, index);
  if (obj)
    gst_object_ref (obj);
  GST_OBJECT_UNLOCK (self);
  return obj;
}

static guint
gst_hdf5_sink_child_proxy_get_children_count (GstChildProxy * proxy)
{
  GstHdf5Sink *self = GST_HDF5_SINK (proxy);
  guint count;

  GST_OBJECT_LOCK (self);
  count = GST_ELEMENT (self)->numsinkpads;
  GST_OBJECT_UNLOCK (self);
  return count;
}

static void
gst_hdf5_sink_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index = gst_hdf5_sink_child_proxy_get_child_by_index;
  iface->get_children_count = gst_hdf5_sink_child_proxy_get_children_count;
}

static void
gst_hdf5_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHdf5Sink *self = GST_HDF5_SINK (object);

  switch (prop_id) {
    case PROP_MAX_QUEUE_BYTES:
      g_mutex_lock (&self->qlock);
      self->max_queue_bytes = g_value_get_uint64 (value);
      g_cond_broadcast (&self->cond_space);
      g_mutex_unlock (&self->qlock);
      return;
    case PROP_MAX_QUEUE_BUFFERS:
      g_mutex_lock (&self->qlock);
      self->max_queue_buffers = g_value_get_uint (value);
      g_cond_broadcast (&self->cond_space);
      g_mutex_unlock (&self->qlock);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_LAYOUT:
      self->layout = g_value_get_enum (value);
      break;
    case PROP_BATCH_SIZE:
      self->batch_size = g_value_get_uint (value);
      break;
    case PROP_BATCH_TIMEOUT:
      self->batch_timeout = g_value_get_uint64 (value);
      break;
    case PROP_LEAKY:
      self->leaky = g_value_get_boolean (value);
      break;
    case PROP_FLUSH_INTERVAL:
      self->flush_interval = g_value_get_uint64 (value);
      break;
    case PROP_FSYNC:
      self->fsync = g_value_get_boolean (value);
      break;
    case PROP_COMPRESSION:
      self->compression = g_value_get_int (value);
      break;
    case PROP_JPEG_QUALITY:
      self->jpeg_quality = g_value_get_int (value);
      break;
    case PROP_JPEG_THREADS:
      self->jpeg_threads = g_value_get_uint (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_hdf5_sink_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstHdf5Sink *self = GST_HDF5_SINK (object);

  switch (prop_id) {
    case PROP_MAX_QUEUE_BYTES:
      g_mutex_lock (&self->qlock);
      g_value_set_uint64 (value, self->max_queue_bytes);
      g_mutex_unlock (&self->qlock);
      return;
    case PROP_MAX_QUEUE_BUFFERS:
      g_mutex_lock (&self->qlock);
      g_value_set_uint (value, self->max_queue_buffers);
      g_mutex_unlock (&self->qlock);
      return;
    case PROP_DROPPED:
      g_mutex_lock (&self->qlock);
      g_value_set_uint64 (value, self->dropped);
      g_mutex_unlock (&self->qlock);
      return;
    default:
      break;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_LAYOUT:
      g_value_set_enum (value, self->layout);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    case PROP_BATCH_TIMEOUT:
      g_value_set_uint64 (value, self->batch_timeout);
      break;
    case PROP_LEAKY:
      g_value_set_boolean (value, self->leaky);
      break;
    case PROP_FLUSH_INTERVAL:
      g_value_set_uint64 (value, self->flush_interval);
      break;
    case PROP_FSYNC:
      g_value_set_boolean (value, self->fsync);
      break;
    case PROP_COMPRESSION:
      g_value_set_int (value, self->compression);
      break;
    case PROP_JPEG_QUALITY:
      g_value_set_int (value, self->jpeg_quality);
      break;
    case PROP_JPEG_THREADS:
      g_value_set_uint (value, self->jpeg_threads);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint64 (value, self->stats_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_hdf5_sink_finalize (GObject * object)
{
  GstHdf5Sink *self = GST_HDF5_SINK (object);

  g_free (self->location);
  g_free (self->wlocation);
  g_free (self->open_error);
  g_hash_table_unref (self->wpaths);
  g_mutex_clear (&self->qlock);
  g_cond_clear (&self->cond_writer);
  g_cond_clear (&self->cond_space);
  g_cond_clear (&self->cond_work);
  g_cond_clear (&self->cond_open);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hdf5_sink_class_init (GstHdf5SinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_hdf5_sink_debug, "hdf5sink", 0,
      "HDF5 recorder");
  mb_tags_init ();
  mb_h5_writer_global_init ();

  gobject_class->set_property = gst_hdf5_sink_set_property;
  gobject_class->get_property = gst_hdf5_sink_get_property;
  gobject_class->finalize = gst_hdf5_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "File Location",
          "HDF5 file to write", DEFAULT_LOCATION,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "What to do with an existing file", GST_TYPE_HDF5_SINK_MODE,
          DEFAULT_MODE, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LAYOUT,
      g_param_spec_enum ("layout", "Layout",
          "Dataset layout of the file", GST_TYPE_HDF5_SINK_LAYOUT,
          DEFAULT_LAYOUT, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Max queue bytes",
          "Bytes queued for and being written by the writer thread before "
          "pushes block or drop (0 = no byte limit)", 0, G_MAXUINT64,
          DEFAULT_MAX_QUEUE_BYTES, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BUFFERS,
      g_param_spec_uint ("max-queue-buffers", "Max queue buffers",
          "Buffers queued for and being written by the writer thread before "
          "pushes block or drop", 1, G_MAXUINT, DEFAULT_MAX_QUEUE_BUFFERS,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Buffers of one stream appended with one write (a batch closes at "
          "this size or after batch-timeout)", 1, 65535, DEFAULT_BATCH_SIZE,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BATCH_TIMEOUT,
      g_param_spec_uint64 ("batch-timeout", "Batch timeout",
          "Longest time in ns a buffer waits for its batch to fill", 0,
          G_MAXUINT64, DEFAULT_BATCH_TIMEOUT, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LEAKY,
      g_param_spec_boolean ("leaky", "Leaky",
          "Drop buffers when the queue is full (counted in dropped, QoS "
          "messages) instead of blocking", DEFAULT_LEAKY,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_FLUSH_INTERVAL,
      g_param_spec_uint64 ("flush-interval", "Flush interval",
          "Flush the file at most this often in ns while rows are pending; "
          "rows flushed survive a killed process (0 = after every batch)", 0,
          G_MAXUINT64, DEFAULT_FLUSH_INTERVAL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_FSYNC,
      g_param_spec_boolean ("fsync", "fsync",
          "fsync the file after each flush (survives power loss, slower)",
          DEFAULT_FSYNC, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_COMPRESSION,
      g_param_spec_int ("compression", "Compression",
          "Deflate level (with shuffle) for raw video frames (0 = off)", 0, 9,
          DEFAULT_COMPRESSION, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_JPEG_QUALITY,
      g_param_spec_int ("jpeg-quality", "JPEG quality",
          "Encode 8-bit raw video with TurboJPEG 4:2:0 at this quality "
          "(0 = store raw frames)", 0, 100, DEFAULT_JPEG_QUALITY,
          rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_JPEG_THREADS,
      g_param_spec_uint ("jpeg-threads", "JPEG threads",
          "JPEG encoding threads (0 = one per CPU core)", 0, 64,
          DEFAULT_JPEG_THREADS, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint64 ("stats-interval", "Stats interval",
          "Post an hdf5sink-stats element message every this many ns "
          "(0 = never)", 0, G_MAXUINT64, DEFAULT_STATS_INTERVAL,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DROPPED,
      g_param_spec_uint64 ("dropped", "Dropped",
          "Buffers dropped because the queue was full (leaky)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_HDF5_SINK_PAD);
  gst_element_class_set_static_metadata (element_class, "HDF5 sink",
      "Sink/File",
      "Records streams into an HDF5 file with bounded memory and periodic "
      "flushes", "membound");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_hdf5_sink_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_hdf5_sink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_hdf5_sink_release_pad);

  gst_type_mark_as_plugin_api (GST_TYPE_HDF5_SINK_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HDF5_SINK_LAYOUT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HDF5_SINK_ALOHA_ROLE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HDF5_SINK_BLOB_LAYOUT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_HDF5_SINK_PAD, 0);
}

static void
gst_hdf5_sink_init (GstHdf5Sink * self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  self->mode = DEFAULT_MODE;
  self->layout = DEFAULT_LAYOUT;
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->max_queue_buffers = DEFAULT_MAX_QUEUE_BUFFERS;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->batch_timeout = DEFAULT_BATCH_TIMEOUT;
  self->leaky = DEFAULT_LEAKY;
  self->flush_interval = DEFAULT_FLUSH_INTERVAL;
  self->fsync = DEFAULT_FSYNC;
  self->compression = DEFAULT_COMPRESSION;
  self->jpeg_quality = DEFAULT_JPEG_QUALITY;
  self->jpeg_threads = DEFAULT_JPEG_THREADS;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  g_mutex_init (&self->qlock);
  g_cond_init (&self->cond_writer);
  g_cond_init (&self->cond_space);
  g_cond_init (&self->cond_work);
  g_cond_init (&self->cond_open);
  g_queue_init (&self->queue);
  self->wpaths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}
