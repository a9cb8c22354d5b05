/* membound: rosbagsrc, a memory-bounded ROS1 bag source.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-rosbagsrc
 * @title: rosbagsrc
 *
 * Reads a ROS1 bag (format 2.0) chunk by chunk and turns each selected topic
 * into a GStreamer stream on its own "sometimes" src pad. Memory does not
 * depend on the bag's size or message count: opening reads only the bag
 * header, the connection records and the chunk index at the tail; chunks
 * are decompressed (none, bz2, lz4) into buffers of a bounded pool
 * (#GstRosbagSrc:chunks-in-flight) and every message leaves as a sub-buffer
 * sharing that chunk memory. When downstream holds on to buffers, the
 * source blocks instead of allocating more.
 *
 * Pads are named after the topic with '/' and '.' replaced by '_' and the
 * leading '/' dropped (`/cam_left/image_raw` → `cam_left_image_raw`), so
 * gst-launch-1.0 can link them by name. A #GstStreamCollection with one
 * #GstStream per topic is posted; its tags carry the topic, type and md5sum
 * (`ros-topic`, `ros-type`, `ros-md5sum`). `no-more-pads` follows once all
 * pads exist.
 *
 * Each buffer's PTS is the message time minus the bag's start time; a
 * #GstReferenceTimestampMeta with caps `timestamp/x-unix` holds the
 * absolute message time in nanoseconds. Buffers leave in non-decreasing
 * time order across all pads, also where chunk time ranges overlap. One
 * streaming thread feeds all pads, like any demuxer: a branch that blocks
 * (a sink synchronising to the clock, an encoder, a muxer waiting for
 * another input) stalls the others, so give each branch a `queue` when
 * branches are joined again downstream (muxers, timealign, compositor) or
 * when sinks sync to the clock.
 *
 * Caps with #GstRosbagSrc:decode=true: sensor_msgs/CompressedImage →
 * `image/jpeg` or `image/png`; sensor_msgs/Image → `video/x-raw` (rgb8,
 * bgr8, rgba8, bgra8, mono8, mono16, 8UC1, 16UC1, yuv422, yuv422_yuy2) or
 * `video/x-bayer` (bayer_*8, bayer_*16) with a #GstVideoMeta giving the
 * row stride (`step`); anything else → `application/x-ros1-message` with
 * fields `type`, `md5sum` and `message-definition`, the payload being the
 * serialized message exactly as in the bag. With decode=false every topic
 * is `application/x-ros1-message`.
 *
 * A bag whose recorder was killed (index_pos = 0) or that was truncated is
 * read by scanning its chunks up to the last complete one; a warning and a
 * `rosbagsrc-recovered` element message (fields `location`,
 * `unreadable-bytes`, `chunks`) say how many bytes at the end could not be
 * read. A chunk that cannot be decompressed is an error naming its file
 * offset, or, with #GstRosbagSrc:skip-corrupt, skipped with a warning and a
 * `rosbagsrc-chunk-skipped` message (`location`, `offset`, `reason`).
 *
 * Seeking in TIME (flushing or not, accurate, segment seeks) and position
 * and duration queries are supported.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 rosbagsrc location=sample.bag topics=/joint_states ! fakesink
 * ]| Reads one topic as application/x-ros1-message buffers.
 * |[
 * gst-launch-1.0 rosbagsrc location=sample.bag name=b \
 *     b.cam_left_image_raw_compressed ! queue ! jpegdec ! videoconvert ! autovideosink \
 *     b.joint_states ! queue ! fakesink
 * ]| Shows one camera and drains another topic.
 * |[
 * gst-launch-1.0 rosbagsrc location=big.bag start-time=10000000000 stop-time=20000000000 \
 *     topics=/camera/image_raw ! videoconvert ! jpegenc ! multifilesink location=f%05d.jpg
 * ]| Exports seconds 10 to 20 of an rgb8 Image topic as JPEG files.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrosbagsrc.h"
#include "rosimage.h"

#include <gst/video/video.h>
#include <membound/rosbagsrc.h>
#include <membound/rosmsg.h>
#include <string.h>

#include "common/mbcommon.h"

GST_DEBUG_CATEGORY_STATIC (rosbag_src_debug);
#define GST_CAT_DEFAULT rosbag_src_debug

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_TOPICS,
  PROP_START_TIME,
  PROP_STOP_TIME,
  PROP_TIMESTAMP,
  PROP_DECODE,
  PROP_CHUNKS_IN_FLIGHT,
  PROP_SKIP_CORRUPT,
  PROP_DURATION,
  PROP_START_TIMESTAMP,
  PROP_MESSAGE_COUNT,
  PROP_TOPIC_LIST,
};

#define DEFAULT_LOCATION NULL
#define DEFAULT_TOPICS NULL
#define DEFAULT_START_TIME 0
#define DEFAULT_STOP_TIME GST_CLOCK_TIME_NONE
#define DEFAULT_TIMESTAMP GST_ROSBAG_SRC_TIMESTAMP_RECORD
#define DEFAULT_DECODE TRUE
#define DEFAULT_CHUNKS_IN_FLIGHT 4
#define DEFAULT_SKIP_CORRUPT FALSE

#define MIN_POOL_SIZE (64 * 1024)

typedef enum
{
  KIND_RAW,
  KIND_IMAGE,
  KIND_COMPRESSED
} MessageKind;

struct _GstRosbagStream
{
  GstPad *pad;
  gchar *topic;
  GstStream *stream;
  GstTagList *tags;
  GstCaps *caps;                /* last caps sent */
  gboolean need_segment;
  gboolean discont;
  gboolean warned;
};

typedef struct
{
  GstBuffer *buf;
  GstMapInfo map;
} ChunkRef;

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("%s",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS (MB_ROS1_MESSAGE_CAPS "; image/jpeg; image/png; "
        "video/x-raw; video/x-bayer"));

GType
gst_rosbag_src_timestamp_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_ROSBAG_SRC_TIMESTAMP_RECORD,
        "Time the recorder stored with the message", "record"},
    {GST_ROSBAG_SRC_TIMESTAMP_HEADER,
        "The message's header.stamp (record time for messages without a Header)",
        "header"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstRosbagSrcTimestamp", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define gst_rosbag_src_parent_class parent_class
G_DEFINE_TYPE (GstRosbagSrc, gst_rosbag_src, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (rosbagsrc, "rosbagsrc", GST_RANK_NONE,
    GST_TYPE_ROSBAG_SRC);

static void gst_rosbag_src_finalize (GObject * object);
static void gst_rosbag_src_dispose (GObject * object);
static void free_old_streams (GstRosbagSrc * self);
static void gst_rosbag_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_rosbag_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_rosbag_src_change_state (GstElement * element,
    GstStateChange transition);
static gboolean gst_rosbag_src_send_event (GstElement * element,
    GstEvent * event);
static void gst_rosbag_src_loop (gpointer user_data);
static gboolean gst_rosbag_src_pad_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_rosbag_src_pad_query (GstPad * pad, GstObject * parent,
    GstQuery * query);

static void
gst_rosbag_src_class_init (GstRosbagSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (rosbag_src_debug, "rosbagsrc", 0,
      "ROS1 bag source");
  mb_tags_init ();

  gobject_class->dispose = gst_rosbag_src_dispose;
  gobject_class->finalize = gst_rosbag_src_finalize;
  gobject_class->set_property = gst_rosbag_src_set_property;
  gobject_class->get_property = gst_rosbag_src_get_property;

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Path of the ROS1 bag (format 2.0) to read", DEFAULT_LOCATION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TOPICS,
      g_param_spec_string ("topics", "Topics",
          "Comma-separated list of topics to read (empty = all topics)",
          DEFAULT_TOPICS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_START_TIME,
      g_param_spec_uint64 ("start-time", "Start time",
          "First message time to read, in ns relative to the bag's start "
          "time (inclusive)", 0, G_MAXUINT64, DEFAULT_START_TIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STOP_TIME,
      g_param_spec_uint64 ("stop-time", "Stop time",
          "Last message time to read, in ns relative to the bag's start time "
          "(inclusive; -1 = to the end)", 0, G_MAXUINT64, DEFAULT_STOP_TIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TIMESTAMP,
      g_param_spec_enum ("timestamp", "Timestamp",
          "Which time becomes PTS and the timestamp/x-unix reference time",
          GST_TYPE_ROSBAG_SRC_TIMESTAMP, DEFAULT_TIMESTAMP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_DECODE,
      g_param_spec_boolean ("decode", "Decode",
          "Map sensor_msgs/Image and CompressedImage to video/x-raw, "
          "video/x-bayer, image/jpeg, image/png (false = every topic as "
          "application/x-ros1-message)", DEFAULT_DECODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CHUNKS_IN_FLIGHT,
      g_param_spec_uint ("chunks-in-flight", "Chunks in flight",
          "Maximum number of decompressed chunks alive at once (being read, "
          "or referenced by buffers downstream); raised to the deepest "
          "overlap of chunk time ranges + 1 when a bag needs more", 1, 1024,
          DEFAULT_CHUNKS_IN_FLIGHT, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SKIP_CORRUPT,
      g_param_spec_boolean ("skip-corrupt", "Skip corrupt chunks",
          "Skip chunks that cannot be read, with a warning, instead of "
          "failing with an error", DEFAULT_SKIP_CORRUPT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_DURATION,
      g_param_spec_uint64 ("duration", "Duration",
          "Time from the bag's first to its last message, in ns "
          "(-1 = unknown: no location)", 0, G_MAXUINT64,
          GST_CLOCK_TIME_NONE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_START_TIMESTAMP,
      g_param_spec_uint64 ("start-timestamp", "Start timestamp",
          "Time of the bag's first message, in ns since the Unix epoch "
          "(0 = unknown)", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MESSAGE_COUNT,
      g_param_spec_uint64 ("message-count", "Message count",
          "Number of messages in the bag (all topics)", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TOPIC_LIST,
      gst_param_spec_array (MB_ROSBAGSRC_PROP_TOPIC_LIST, "Topic list",
          "Topics in the bag: one " MB_ROSBAGSRC_TOPIC_STRUCT " structure "
          "each, with topic, type, md5sum, count and pad-name",
          g_param_spec_boxed ("topic", "Topic", "One topic of the bag",
              GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS),
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "ROS1 bag source",
      "Source/File",
      "Reads ROS1 bags chunk by chunk with bounded memory, one stream per topic",
      "membound");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_rosbag_src_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_rosbag_src_send_event);

  gst_type_mark_as_plugin_api (GST_TYPE_ROSBAG_SRC_TIMESTAMP, 0);
}

static void
gst_rosbag_src_init (GstRosbagSrc * self)
{
  self->location = NULL;
  self->topics = NULL;
  self->start_time = DEFAULT_START_TIME;
  self->stop_time = DEFAULT_STOP_TIME;
  self->timestamp = DEFAULT_TIMESTAMP;
  self->decode = DEFAULT_DECODE;
  self->chunks_in_flight = DEFAULT_CHUNKS_IN_FLIGHT;
  self->skip_corrupt = DEFAULT_SKIP_CORRUPT;
  g_rec_mutex_init (&self->stream_lock);
  self->task = gst_task_new (gst_rosbag_src_loop, self, NULL);
  gst_object_set_name (GST_OBJECT (self->task), "rosbagsrc:task");
  gst_task_set_lock (self->task, &self->stream_lock);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
clear_info (GstRosbagSrc * self)
{
  guint i;

  for (i = 0; i < self->n_info_topics; i++)
    gst_structure_free (self->info_topics[i]);
  g_free (self->info_topics);
  self->info_topics = NULL;
  self->n_info_topics = 0;
  self->have_info = FALSE;
}

static void
gst_rosbag_src_dispose (GObject * object)
{
  free_old_streams (GST_ROSBAG_SRC (object));
  G_OBJECT_CLASS (parent_class)->dispose (object);
}

static void
gst_rosbag_src_finalize (GObject * object)
{
  GstRosbagSrc *self = GST_ROSBAG_SRC (object);

  clear_info (self);
  g_free (self->location);
  g_free (self->topics);
  gst_object_unref (self->task);
  g_rec_mutex_clear (&self->stream_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Pad name for a topic: no leading '/', every character other than
 * [A-Za-z0-9_-] becomes '_' (gst-launch forbids '/' and '.'). */
static gchar *
pad_name_for_topic (const gchar * topic)
{
  gchar *name, *p;

  while (*topic == '/')
    topic++;
  name = g_strdup (*topic ? topic : "topic");
  for (p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      *p = '_';
  return name;
}

/* Fills the read-only property cache from @bag. Call with the object lock. */
static void
fill_info (GstRosbagSrc * self, MbBag * bag)
{
  gsize i, j, n = mb_bag_n_connections (bag);
  GPtrArray *arr = g_ptr_array_new ();

  clear_info (self);
  self->have_info = TRUE;
  self->info_start = mb_bag_start_time (bag);
  self->info_duration = mb_bag_end_time (bag) - mb_bag_start_time (bag);
  self->info_count = mb_bag_message_count (bag);
  for (i = 0; i < n; i++) {
    const MbBagConnection *c = mb_bag_connection (bag, i);
    GstStructure *s = NULL;
    gchar *pad;

    for (j = 0; j < arr->len; j++) {
      GstStructure *o = g_ptr_array_index (arr, j);
      if (g_strcmp0 (gst_structure_get_string (o, "topic"), c->topic) == 0) {
        s = o;
        break;
      }
    }
    if (s) {
      guint64 cnt = 0;
      gst_structure_get_uint64 (s, "count", &cnt);
      gst_structure_set (s, "count", G_TYPE_UINT64, cnt + c->count, NULL);
      continue;
    }
    pad = pad_name_for_topic (c->topic);
    s = gst_structure_new (MB_ROSBAGSRC_TOPIC_STRUCT, "topic", G_TYPE_STRING,
        c->topic, "type", G_TYPE_STRING, c->type, "md5sum", G_TYPE_STRING,
        c->md5sum, "count", G_TYPE_UINT64, c->count, "pad-name",
        G_TYPE_STRING, pad, NULL);
    g_free (pad);
    g_ptr_array_add (arr, s);
  }
  self->n_info_topics = arr->len;
  self->info_topics = (GstStructure **) g_ptr_array_free (arr, FALSE);
}

/* Makes sure the read-only properties describe the current location
 * (opens the bag's summary when the element is not streaming). */
static void
ensure_info (GstRosbagSrc * self)
{
  gchar *loc;
  MbBag *bag;

  GST_OBJECT_LOCK (self);
  if (self->have_info || !self->location) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  loc = g_strdup (self->location);
  GST_OBJECT_UNLOCK (self);

  bag = mb_bag_open (loc, NULL, NULL, 0);
  if (bag) {
    GST_OBJECT_LOCK (self);
    if (g_strcmp0 (loc, self->location) == 0)
      fill_info (self, bag);
    GST_OBJECT_UNLOCK (self);
    mb_bag_close (bag);
  }
  g_free (loc);
}

static void
gst_rosbag_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRosbagSrc *self = GST_ROSBAG_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free (self->location);
      self->location = g_value_dup_string (value);
      clear_info (self);
      break;
    case PROP_TOPICS:
      g_free (self->topics);
      self->topics = g_value_dup_string (value);
      break;
    case PROP_START_TIME:
      self->start_time = g_value_get_uint64 (value);
      break;
    case PROP_STOP_TIME:
      self->stop_time = g_value_get_uint64 (value);
      break;
    case PROP_TIMESTAMP:
      self->timestamp = g_value_get_enum (value);
      break;
    case PROP_DECODE:
      self->decode = g_value_get_boolean (value);
      break;
    case PROP_CHUNKS_IN_FLIGHT:
      self->chunks_in_flight = g_value_get_uint (value);
      break;
    case PROP_SKIP_CORRUPT:
      self->skip_corrupt = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_rosbag_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRosbagSrc *self = GST_ROSBAG_SRC (object);

  if (prop_id >= PROP_DURATION)
    ensure_info (self);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_TOPICS:
      g_value_set_string (value, self->topics);
      break;
    case PROP_START_TIME:
      g_value_set_uint64 (value, self->start_time);
      break;
    case PROP_STOP_TIME:
      g_value_set_uint64 (value, self->stop_time);
      break;
    case PROP_TIMESTAMP:
      g_value_set_enum (value, self->timestamp);
      break;
    case PROP_DECODE:
      g_value_set_boolean (value, self->decode);
      break;
    case PROP_CHUNKS_IN_FLIGHT:
      g_value_set_uint (value, self->chunks_in_flight);
      break;
    case PROP_SKIP_CORRUPT:
      g_value_set_boolean (value, self->skip_corrupt);
      break;
    case PROP_DURATION:
      g_value_set_uint64 (value, self->have_info ? self->info_duration :
          GST_CLOCK_TIME_NONE);
      break;
    case PROP_START_TIMESTAMP:
      g_value_set_uint64 (value, self->have_info ? self->info_start : 0);
      break;
    case PROP_MESSAGE_COUNT:
      g_value_set_uint64 (value, self->have_info ? self->info_count : 0);
      break;
    case PROP_TOPIC_LIST:{
      guint i;
      for (i = 0; i < self->n_info_topics; i++) {
        GValue v = G_VALUE_INIT;
        g_value_init (&v, GST_TYPE_STRUCTURE);
        g_value_set_boxed (&v, self->info_topics[i]);
        gst_value_array_append_and_take_value (value, &v);
      }
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------ */
/* chunk buffers                                                       */

static void
chunk_release (void *user, void *ud)
{
  ChunkRef *c = user;

  gst_buffer_unmap (c->buf, &c->map);
  gst_buffer_unref (c->buf);
  g_free (c);
}

/* Sets the flushing flag, and the pool's, so that a streaming thread
 * waiting for a chunk buffer wakes up. */
static void
set_flushing (GstRosbagSrc * self, gboolean flushing)
{
  GST_OBJECT_LOCK (self);
  self->flushing = flushing;
  if (self->pool)
    gst_buffer_pool_set_flushing (self->pool, flushing);
  GST_OBJECT_UNLOCK (self);
}

/* A pool whose buffers hold at least @size bytes. A bigger chunk than the
 * current pool's size replaces the pool (its outstanding buffers are freed
 * when they come back). */
static gboolean
ensure_pool (GstRosbagSrc * self, gsize size)
{
  GstBufferPool *pool, *old;
  GstStructure *config;
  gsize psize = MIN_POOL_SIZE;

  if (self->pool && size <= self->pool_size)
    return TRUE;
  while (psize < size)
    psize *= 2;
  pool = gst_buffer_pool_new ();
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, NULL, (guint) psize, 0,
      self->pool_max);
  if (!gst_buffer_pool_set_config (pool, config) ||
      !gst_buffer_pool_set_active (pool, TRUE)) {
    gst_object_unref (pool);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "chunk pool: %u buffers of %" G_GSIZE_FORMAT
      " bytes", self->pool_max, psize);
  GST_OBJECT_LOCK (self);
  old = self->pool;
  self->pool = pool;
  self->pool_size = psize;
  if (self->flushing)
    gst_buffer_pool_set_flushing (pool, TRUE);
  GST_OBJECT_UNLOCK (self);
  if (old) {
    gst_buffer_pool_set_active (old, FALSE);
    gst_object_unref (old);
  }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* start / stop                                                        */

static void
stream_free (GstRosbagStream * s)
{
  g_free (s->topic);
  if (s->stream)
    gst_object_unref (s->stream);
  if (s->tags)
    gst_tag_list_unref (s->tags);
  gst_caps_replace (&s->caps, NULL);
  g_free (s);
}

/* Removes the pads kept from the previous run. */
static void
free_old_streams (GstRosbagSrc * self)
{
  guint i;

  for (i = 0; i < self->n_old_streams; i++) {
    GstRosbagStream *s = self->old_streams[i];
    if (s->pad) {
      gst_pad_set_active (s->pad, FALSE);
      gst_element_remove_pad (GST_ELEMENT (self), s->pad);
      gst_object_unref (s->pad);
    }
    stream_free (s);
  }
  g_free (self->old_streams);
  self->old_streams = NULL;
  self->n_old_streams = 0;
}

static gboolean
topic_in_list (gchar ** list, const gchar * topic)
{
  gchar **t;

  for (t = list; t && *t; t++)
    if (g_strcmp0 (g_strstrip (*t), topic) == 0)
      return TRUE;
  return FALSE;
}

static MessageKind
connection_kind (GstRosbagSrc * self, const MbBagConnection * c)
{
  if (!self->decode)
    return KIND_RAW;
  if (!strcmp (c->type, MB_ROS_IMAGE_TYPE) && !strcmp (c->md5sum,
          MB_ROS_IMAGE_MD5))
    return KIND_IMAGE;
  if (!strcmp (c->type, MB_ROS_COMPRESSED_IMAGE_TYPE) && !strcmp (c->md5sum,
          MB_ROS_COMPRESSED_IMAGE_MD5))
    return KIND_COMPRESSED;
  return KIND_RAW;
}

/* Per connection: kind and header-stamp access. Indexed like the bag's
 * connections; kept next to conn_stream. */
typedef struct
{
  MessageKind kind;
  MbRosSchema *schema;
  gboolean has_header;
} ConnInfo;

static ConnInfo *
conn_infos_new (GstRosbagSrc * self, MbBag * bag, gboolean want_header)
{
  gsize i, n = mb_bag_n_connections (bag);
  ConnInfo *ci = g_new0 (ConnInfo, n + 1);

  for (i = 0; i < n; i++) {
    const MbBagConnection *c = mb_bag_connection (bag, i);
    ci[i].kind = connection_kind (self, c);
    if (want_header) {
      ci[i].schema = mb_ros_schema_parse (c->type, c->message_definition,
          c->message_definition_len, NULL, 0);
      ci[i].has_header = ci[i].schema ?
          mb_ros_schema_has_header (ci[i].schema) :
          mb_ros_definition_has_header (c->message_definition);
    }
  }
  return ci;
}

static void
conn_infos_free (ConnInfo * ci, gsize n)
{
  gsize i;

  if (!ci)
    return;
  for (i = 0; i < n; i++)
    if (ci[i].schema)
      mb_ros_schema_free (ci[i].schema);
  g_free (ci);
}

/* Posts the error for a failed bag operation: @hint (may be NULL) goes into
 * the debug part of errors that are not about the file as a whole. */
static void
post_bag_error (GstRosbagSrc * self, MbBagResult res, const gchar * err,
    const gchar * hint)
{
  switch (res) {
    case MB_BAG_ERR_OPEN:
      if (!g_file_test (self->location, G_FILE_TEST_EXISTS))
        GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
            ("Could not open ROS bag \"%s\": no such file.", self->location),
            ("%s", err));
      else
        GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
            ("Could not open ROS bag \"%s\" for reading.", self->location),
            ("%s", err));
      break;
    case MB_BAG_ERR_READ:
      GST_ELEMENT_ERROR (self, RESOURCE, READ, ("%s", err), (NULL));
      break;
    case MB_BAG_ERR_NOMEM:
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("%s", err), (NULL));
      break;
    case MB_BAG_ERR_NOT_A_BAG:
    case MB_BAG_ERR_VERSION:
    case MB_BAG_ERR_UNSUPPORTED:
      GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE, ("%s", err), (NULL));
      break;
    case MB_BAG_ERR_COMPRESSION:
      GST_ELEMENT_ERROR (self, STREAM, CODEC_NOT_FOUND, ("%s", err), (NULL));
      break;
    default:
      GST_ELEMENT_ERROR (self, STREAM, DEMUX, ("%s", err), ("%s",
              hint ? hint : ""));
      break;
  }
}

static MbBagReader *
make_reader (GstRosbagSrc * self, guint64 rel_start, guint64 rel_stop)
{
  guint64 abs_start = self->bag_start + rel_start;
  guint64 abs_stop = rel_stop == GST_CLOCK_TIME_NONE ||
      rel_stop > G_MAXUINT64 - self->bag_start ? G_MAXUINT64 :
      self->bag_start + rel_stop;
  gsize i, n = mb_bag_n_connections (self->bag);
  guint8 *sel = g_new0 (guint8, n + 1);
  MbBagReader *r;

  for (i = 0; i < n; i++)
    sel[i] = self->conn_stream[i] >= 0;
  r = mb_bag_reader_new (self->bag, sel, abs_start, abs_stop, chunk_release,
      self);
  g_free (sel);
  return r;
}

static gboolean
gst_rosbag_src_start (GstRosbagSrc * self)
{
  gchar *loc, **topics = NULL;
  gchar err[MB_BAG_ERR_LEN];
  MbBagResult res;
  MbBag *bag;
  gsize i, j, n;
  GstStreamCollection *collection;
  gboolean want_header, any = FALSE, reuse;
  guint64 start_time, stop_time;
  guint cif;

  GST_OBJECT_LOCK (self);
  loc = g_strdup (self->location);
  if (self->topics && *self->topics)
    topics = g_strsplit (self->topics, ",", -1);
  start_time = self->start_time;
  stop_time = self->stop_time;
  want_header = self->timestamp == GST_ROSBAG_SRC_TIMESTAMP_HEADER;
  cif = self->chunks_in_flight;
  GST_OBJECT_UNLOCK (self);

  if (!loc || !*loc) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for reading."), ("location is not set"));
    g_free (loc);
    g_strfreev (topics);
    return FALSE;
  }
  bag = mb_bag_open (loc, &res, err, sizeof (err));
  if (!bag) {
    post_bag_error (self, res, err, NULL);
    g_free (loc);
    g_strfreev (topics);
    return FALSE;
  }
  GST_INFO_OBJECT (self, "opened %s: %s, %" G_GUINT64_FORMAT " messages, %"
      G_GSIZE_FORMAT " chunks, %" G_GSIZE_FORMAT " connections", loc,
      mb_bag_is_indexed (bag) ? "indexed" : "recovered by scanning",
      mb_bag_message_count (bag), mb_bag_n_chunks (bag),
      mb_bag_n_connections (bag));

  GST_OBJECT_LOCK (self);
  fill_info (self, bag);
  GST_OBJECT_UNLOCK (self);

  g_rec_mutex_lock (&self->stream_lock);
  self->bag = bag;
  self->bag_start = mb_bag_start_time (bag);
  self->bag_end = mb_bag_end_time (bag);
  n = mb_bag_n_connections (bag);
  self->conn_stream = g_new (gint, n + 1);
  self->conn_infos = conn_infos_new (self, bag, want_header);
  self->n_conns = n;

  /* one stream per selected topic, in connection order */
  for (i = 0; i < n; i++) {
    const MbBagConnection *c = mb_bag_connection (bag, i);
    self->conn_stream[i] = -1;
    if (topics && !topic_in_list (topics, c->topic))
      continue;
    if (c->count == 0 && mb_bag_is_indexed (bag))
      continue;
    for (j = 0; j < self->n_streams; j++)
      if (!strcmp (self->streams[j]->topic, c->topic))
        break;
    if (j == self->n_streams) {
      GstRosbagStream *s = g_new0 (GstRosbagStream, 1);
      s->topic = g_strdup (c->topic);
      self->streams = g_renew (GstRosbagStream *, self->streams,
          self->n_streams + 1);
      self->streams[self->n_streams++] = s;
    }
    self->conn_stream[i] = (gint) j;
    any = TRUE;
  }
  for (i = 0; topics && topics[i]; i++) {
    gboolean found = FALSE;
    for (j = 0; j < n; j++)
      if (!strcmp (mb_bag_connection (bag, j)->topic, topics[i]))
        found = TRUE;
    if (!found && *topics[i])
      GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
          ("Topic \"%s\" is not in ROS bag \"%s\".", topics[i], loc), (NULL));
  }
  g_strfreev (topics);
  if (!any) {
    g_rec_mutex_unlock (&self->stream_lock);
    if (mb_bag_message_count (bag) == 0)
      GST_ELEMENT_ERROR (self, STREAM, DEMUX,
          ("ROS bag \"%s\" holds no readable messages.", loc), (NULL));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("None of the requested topics is in ROS bag \"%s\".", loc), (NULL));
    g_free (loc);
    return FALSE;
  }

  /* segment from start-time / stop-time */
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  self->segment.start = start_time;
  self->segment.time = start_time;
  self->segment.position = start_time;
  /* stop-time is inclusive like rosbag's end_time; segments are half-open */
  self->segment.stop = GST_CLOCK_TIME_IS_VALID (stop_time) ?
      stop_time + 1 : GST_CLOCK_TIME_NONE;
  self->segment.duration = self->bag_end - self->bag_start;
  self->seqnum = gst_util_seqnum_next ();
  self->group_id = gst_util_group_id_next ();
  self->position = GST_CLOCK_TIME_NONE;

  self->reader = make_reader (self, start_time, stop_time);
  if (!self->reader) {
    g_rec_mutex_unlock (&self->stream_lock);
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Out of memory."), (NULL));
    g_free (loc);
    return FALSE;
  }
  {
    /* the merge needs as many chunks as overlap in time, plus the one
     * being filled; buffers downstream hold the rest */
    MbBagReader *all = make_reader (self, 0, GST_CLOCK_TIME_NONE);
    guint need = all ? (guint) mb_bag_reader_max_chunks (all) + 1 : 2;
    mb_bag_reader_free (all);
    if (need > cif)
      GST_INFO_OBJECT (self, "chunk time ranges overlap %u deep: %u chunks "
          "in flight instead of %u", need - 1, need, cif);
    self->pool_max = MAX (cif, need);
  }
  self->flowcombiner = gst_flow_combiner_new ();

  /* the same topics as in the previous run: keep those pads */
  reuse = self->n_old_streams == self->n_streams;
  for (i = 0; reuse && i < self->n_streams; i++)
    reuse = !strcmp (self->old_streams[i]->topic, self->streams[i]->topic);
  if (reuse) {
    for (i = 0; i < self->n_streams; i++) {
      self->streams[i]->pad = self->old_streams[i]->pad;
      self->old_streams[i]->pad = NULL;
    }
  }
  g_rec_mutex_unlock (&self->stream_lock);
  free_old_streams (self);
  g_rec_mutex_lock (&self->stream_lock);

  /* pads, stream collection */
  collection = gst_stream_collection_new (NULL);
  for (i = 0; i < self->n_streams; i++) {
    GstRosbagStream *s = self->streams[i];
    const MbBagConnection *c = NULL;
    gchar *name = pad_name_for_topic (s->topic), *sid;
    GstStreamType stype = GST_STREAM_TYPE_UNKNOWN;
    ConnInfo *ci = self->conn_infos;

    for (j = 0; j < n; j++)
      if (self->conn_stream[j] == (gint) i) {
        c = mb_bag_connection (bag, j);
        if (ci[j].kind != KIND_RAW)
          stype = GST_STREAM_TYPE_VIDEO;
        break;
      }
    /* unique pad names: two topics may sanitise to the same name */
    for (j = 0; !reuse && j < i; j++) {
      if (!strcmp (GST_PAD_NAME (self->streams[j]->pad), name)) {
        gchar *u = g_strdup_printf ("%s_%" G_GSIZE_FORMAT, name, i);
        g_free (name);
        name = u;
        j = (gsize) - 1;
      }
    }
    if (!reuse)
      s->pad = gst_pad_new_from_static_template (&src_template, name);
    g_free (name);
    s->tags = gst_tag_list_new (MB_TAG_ROS_TOPIC, s->topic, MB_TAG_ROS_TYPE,
        c->type, MB_TAG_ROS_MD5SUM, c->md5sum, NULL);
    gst_tag_list_set_scope (s->tags, GST_TAG_SCOPE_STREAM);
    sid = gst_pad_create_stream_id (s->pad, GST_ELEMENT (self), s->topic);
    s->stream = gst_stream_new (sid, NULL, stype, GST_STREAM_FLAG_NONE);
    gst_stream_set_tags (s->stream, s->tags);
    g_free (sid);
    gst_stream_collection_add_stream (collection, gst_object_ref (s->stream));
    s->need_segment = TRUE;
    s->discont = TRUE;
  }
  g_rec_mutex_unlock (&self->stream_lock);

  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_stream_collection (GST_OBJECT (self), collection));

  for (i = 0; i < self->n_streams; i++) {
    GstRosbagStream *s = self->streams[i];
    GstEvent *ev;

    gst_pad_set_event_function (s->pad, gst_rosbag_src_pad_event);
    gst_pad_set_query_function (s->pad, gst_rosbag_src_pad_query);
    gst_pad_use_fixed_caps (s->pad);
    gst_pad_set_active (s->pad, TRUE);
    ev = gst_event_new_stream_start (gst_stream_get_stream_id (s->stream));
    gst_event_set_group_id (ev, self->group_id);
    gst_event_set_stream (ev, s->stream);
    gst_pad_push_event (s->pad, ev);
    gst_pad_push_event (s->pad, gst_event_new_stream_collection (collection));
    gst_flow_combiner_add_pad (self->flowcombiner, s->pad);
    if (!reuse)
      gst_element_add_pad (GST_ELEMENT (self), gst_object_ref (s->pad));
  }
  gst_object_unref (collection);
  if (!reuse)
    gst_element_no_more_pads (GST_ELEMENT (self));

  if (!mb_bag_is_indexed (bag)) {
    guint64 lost = mb_bag_unreadable_bytes (bag);
    GST_ELEMENT_WARNING (self, STREAM, DEMUX,
        ("ROS bag \"%s\" has no usable index (recorder killed before closing,"
            " or file truncated): read by scanning its chunks; %"
            G_GUINT64_FORMAT " bytes at the end were unreadable.", loc, lost),
        ("%" G_GSIZE_FORMAT " complete chunks recovered",
            mb_bag_n_chunks (bag)));
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new (MB_ROSBAGSRC_MSG_RECOVERED, "location",
                G_TYPE_STRING, loc, "unreadable-bytes", G_TYPE_UINT64, lost,
                "chunks", G_TYPE_UINT, (guint) mb_bag_n_chunks (bag), NULL)));
  }
  g_free (loc);
  return TRUE;
}

/* Pauses the streaming task from inside the loop, unless stop() already
 * stopped it (a pause would override the stop and join would wait forever). */
static void
pause_task (GstRosbagSrc * self)
{
  GST_OBJECT_LOCK (self);
  if (!self->task_stopping)
    gst_task_pause (self->task);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_rosbag_src_stop (GstRosbagSrc * self)
{
  guint i;

  set_flushing (self, TRUE);
  GST_OBJECT_LOCK (self);
  self->task_stopping = TRUE;
  gst_task_stop (self->task);
  GST_OBJECT_UNLOCK (self);
  g_rec_mutex_lock (&self->stream_lock);
  g_rec_mutex_unlock (&self->stream_lock);
  gst_task_join (self->task);

  g_rec_mutex_lock (&self->stream_lock);
  mb_bag_reader_free (self->reader);
  self->reader = NULL;
  if (self->pool) {
    gst_buffer_pool_set_active (self->pool, FALSE);
    gst_object_unref (self->pool);
    self->pool = NULL;
    self->pool_size = 0;
  }
  /* the pads stay (deactivated), also in NULL, until the next start
   * decides whether the same topics come back: links made by the
   * application (gst-launch-1.0 name.pad syntax) survive state cycles */
  free_old_streams (self);
  for (i = 0; i < self->n_streams; i++)
    if (self->streams[i]->pad)
      gst_pad_set_active (self->streams[i]->pad, FALSE);
  self->old_streams = self->streams;
  self->n_old_streams = self->n_streams;
  self->streams = NULL;
  self->n_streams = 0;
  if (self->flowcombiner) {
    gst_flow_combiner_free (self->flowcombiner);
    self->flowcombiner = NULL;
  }
  conn_infos_free (self->conn_infos, self->n_conns);
  self->conn_infos = NULL;
  self->n_conns = 0;
  g_free (self->conn_stream);
  self->conn_stream = NULL;
  mb_bag_close (self->bag);
  self->bag = NULL;
  g_rec_mutex_unlock (&self->stream_lock);
}

static GstStateChangeReturn
gst_rosbag_src_change_state (GstElement * element, GstStateChange transition)
{
  GstRosbagSrc *self = GST_ROSBAG_SRC (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_rosbag_src_start (self)) {
        gst_rosbag_src_stop (self);
        return GST_STATE_CHANGE_FAILURE;
      }
      set_flushing (self, FALSE);
      GST_OBJECT_LOCK (self);
      self->task_stopping = FALSE;
      gst_task_start (self->task);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* unblock a streaming thread waiting for a chunk buffer */
      set_flushing (self, TRUE);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_rosbag_src_stop (self);
      break;
    default:
      break;
  }
  return ret;
}

/* ------------------------------------------------------------------ */
/* streaming                                                           */

static GstCaps *
raw_caps (const MbBagConnection * c)
{
  return gst_caps_new_simple (MB_ROS1_MESSAGE_CAPS, "type", G_TYPE_STRING,
      c->type, "md5sum", G_TYPE_STRING, c->md5sum, "message-definition",
      G_TYPE_STRING, c->message_definition, NULL);
}

/* Sends caps (when changed), segment and tags ahead of a buffer. */
static void
stream_prepare (GstRosbagSrc * self, GstRosbagStream * s, GstCaps * caps)
{
  if (caps && (!s->caps || !gst_caps_is_equal (caps, s->caps))) {
    gst_caps_replace (&s->caps, caps);
    gst_pad_push_event (s->pad, gst_event_new_caps (caps));
  }
  if (s->need_segment) {
    GstEvent *ev = gst_event_new_segment (&self->segment);
    gst_event_set_seqnum (ev, self->seqnum);
    gst_pad_push_event (s->pad, ev);
    gst_pad_push_event (s->pad, gst_event_new_tag (gst_tag_list_ref (s->tags)));
    s->need_segment = FALSE;
  }
}

static GstFlowReturn
push_message (GstRosbagSrc * self, const MbBagMessage * m)
{
  gsize ci = (gsize) (m->conn - mb_bag_connection (self->bag, 0));
  ConnInfo *info = &((ConnInfo *) self->conn_infos)[ci];
  GstRosbagStream *s = self->streams[self->conn_stream[ci]];
  ChunkRef *chunk = m->chunk_user;
  guint64 abs = m->time_ns;
  gsize offset = m->chunk_offset, size = m->len;
  GstCaps *caps = NULL;
  GstBuffer *buf;
  GstFlowReturn ret;
  GstClockTime pts;
  gboolean header_ts = info->has_header;
  uint64_t stamp = 0;
  const gchar *vformat = NULL;
  MbRosImage img;

  if (info->kind == KIND_IMAGE) {
    const char *media, *format;
    uint32_t bpp;

    if (mb_ros_image_parse (m->data, m->len, &img) != 0 ||
        mb_ros_image_format (img.encoding, img.encoding_len, img.is_bigendian,
            &media, &format, &bpp) != 0 || img.width == 0 || img.height == 0
        || (guint64) img.width * bpp > img.step) {
      if (!s->warned) {
        GST_ELEMENT_WARNING (self, STREAM, DECODE,
            ("Topic \"%s\" of \"%s\": a sensor_msgs/Image with an unsupported "
                "encoding or inconsistent size was sent as "
                "application/x-ros1-message.", s->topic, self->location),
            ("message at %" G_GUINT64_FORMAT, m->time_ns));
        s->warned = TRUE;
      }
      caps = raw_caps (m->conn);
    } else {
      caps = gst_caps_new_simple (media, "format", G_TYPE_STRING, format,
          "width", G_TYPE_INT, (gint) img.width, "height", G_TYPE_INT,
          (gint) img.height, "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
      if (!strcmp (media, "video/x-raw"))
        vformat = format;
      offset += img.data_offset;
      size = (gsize) img.height * img.step;
      stamp = img.stamp_ns;
      header_ts = TRUE;
    }
  } else if (info->kind == KIND_COMPRESSED) {
    MbRosCompressedImage cimg;
    const char *media = NULL;

    if (mb_ros_compressed_image_parse (m->data, m->len, &cimg) == 0)
      media = mb_ros_compressed_media (cimg.format, cimg.format_len);
    if (!media) {
      if (!s->warned) {
        GST_ELEMENT_WARNING (self, STREAM, DECODE,
            ("Topic \"%s\" of \"%s\": a sensor_msgs/CompressedImage that is "
                "neither jpeg nor png was sent as application/x-ros1-message.",
                s->topic, self->location),
            ("message at %" G_GUINT64_FORMAT, m->time_ns));
        s->warned = TRUE;
      }
      caps = raw_caps (m->conn);
    } else {
      caps = gst_caps_new_empty_simple (media);
      offset += cimg.data_offset;
      size = cimg.data_len;
      stamp = cimg.stamp_ns;
      header_ts = TRUE;
    }
  } else {
    caps = raw_caps (m->conn);
  }

  if (self->timestamp == GST_ROSBAG_SRC_TIMESTAMP_HEADER && header_ts) {
    if (info->kind == KIND_RAW || stamp == 0) {
      int64_t st;
      uint64_t ust;
      if (info->schema && mb_ros_header_stamp (info->schema, m->data, m->len,
              &st) == 0 && st > 0)
        abs = (guint64) st;
      else if (!info->schema &&
          mb_ros_header_stamp_peek (m->data, m->len, &ust) == 0)
        abs = ust;
    } else {
      abs = stamp;
    }
  }
  pts = abs > self->bag_start ? abs - self->bag_start : 0;

  stream_prepare (self, s, caps);
  gst_caps_unref (caps);

  buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      chunk->map.data, chunk->map.size, offset, size,
      gst_buffer_ref (chunk->buf), (GDestroyNotify) gst_buffer_unref);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = pts;
  mb_buffer_add_unix_time (buf, abs);
  if (vformat) {
    gsize voff[GST_VIDEO_MAX_PLANES] = { 0, };
    gint vstride[GST_VIDEO_MAX_PLANES] = { (gint) img.step, };
    gst_buffer_add_video_meta_full (buf, GST_VIDEO_FRAME_FLAG_NONE,
        gst_video_format_from_string (vformat), img.width, img.height, 1,
        voff, vstride);
  }
  if (s->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    s->discont = FALSE;
  }

  GST_OBJECT_LOCK (self);
  self->position = pts;
  GST_OBJECT_UNLOCK (self);

  GST_LOG_OBJECT (s->pad, "pushing %" G_GSIZE_FORMAT " bytes, pts %"
      GST_TIME_FORMAT, size, GST_TIME_ARGS (pts));
  ret = gst_pad_push (s->pad, buf);
  return gst_flow_combiner_update_pad_flow (self->flowcombiner, s->pad, ret);
}

/* Gives the reader a pooled buffer for its next chunk. Returns a flow
 * return; reader errors come back as GST_FLOW_CUSTOM_ERROR with *res and
 * @err set. */
static GstFlowReturn
supply_chunk (GstRosbagSrc * self, MbBagResult * res, gchar * err,
    gsize err_len)
{
  gsize size = mb_bag_reader_needed_size (self->reader);
  GstBuffer *buf = NULL;
  GstFlowReturn ret;
  ChunkRef *c;

  if (!ensure_pool (self, size)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not allocate a chunk buffer of %" G_GSIZE_FORMAT " bytes.",
            size), (NULL));
    return GST_FLOW_ERROR;
  }
  ret = gst_buffer_pool_acquire_buffer (self->pool, &buf, NULL);
  if (ret != GST_FLOW_OK)
    return ret == GST_FLOW_EOS ? GST_FLOW_FLUSHING : ret;
  c = g_new0 (ChunkRef, 1);
  c->buf = buf;
  if (!gst_buffer_map (buf, &c->map, GST_MAP_READWRITE)) {
    gst_buffer_unref (buf);
    g_free (c);
    return GST_FLOW_ERROR;
  }
  *res = mb_bag_reader_supply (self->reader, c->map.data, c->map.size, c,
      err, err_len);
  if (*res == MB_BAG_OK)
    return GST_FLOW_OK;
  chunk_release (c, self);
  return GST_FLOW_CUSTOM_ERROR;
}

/* Handles a reader error: skip the chunk (skip-corrupt) or fail. Returns
 * TRUE when streaming can go on. */
static gboolean
handle_bag_error (GstRosbagSrc * self, MbBagResult res, const gchar * err)
{
  gboolean skip;
  guint64 off = mb_bag_reader_needed_offset (self->reader);

  GST_OBJECT_LOCK (self);
  skip = self->skip_corrupt;
  GST_OBJECT_UNLOCK (self);

  if (skip && (res == MB_BAG_ERR_CORRUPT || res == MB_BAG_ERR_COMPRESSION)) {
    GST_ELEMENT_WARNING (self, STREAM, DEMUX,
        ("Skipped an unreadable chunk of ROS bag \"%s\".", self->location),
        ("%s", err));
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new (MB_ROSBAGSRC_MSG_CHUNK_SKIPPED, "location",
                G_TYPE_STRING, self->location, "offset", G_TYPE_UINT64, off,
                "reason", G_TYPE_STRING, err, NULL)));
    mb_bag_reader_skip (self->reader);
    return TRUE;
  }
  post_bag_error (self, res, err,
      "set skip-corrupt=true to skip unreadable chunks");
  return FALSE;
}

static void
push_eos (GstRosbagSrc * self)
{
  guint i;
  gboolean segment_done = (self->segment.flags & GST_SEEK_FLAG_SEGMENT) != 0;
  GstClockTime stop = self->segment.stop;

  if (segment_done) {
    GstMessage *msg;
    if (!GST_CLOCK_TIME_IS_VALID (stop))
      stop = self->bag_end - self->bag_start;
    msg = gst_message_new_segment_done (GST_OBJECT (self), GST_FORMAT_TIME,
        stop);
    gst_message_set_seqnum (msg, self->seqnum);
    gst_element_post_message (GST_ELEMENT (self), msg);
  }
  for (i = 0; i < self->n_streams; i++) {
    GstRosbagStream *s = self->streams[i];
    GstEvent *ev;

    stream_prepare (self, s, NULL);
    ev = segment_done ? gst_event_new_segment_done (GST_FORMAT_TIME, stop) :
        gst_event_new_eos ();
    gst_event_set_seqnum (ev, self->seqnum);
    gst_pad_push_event (s->pad, ev);
  }
}

static void
gst_rosbag_src_loop (gpointer user_data)
{
  GstRosbagSrc *self = user_data;
  MbBagMessage m;
  gchar err[MB_BAG_ERR_LEN];
  MbBagResult res;
  GstFlowReturn ret = GST_FLOW_OK;

  if (!self->reader) {
    pause_task (self);
    return;
  }
  err[0] = '\0';
  res = mb_bag_reader_next (self->reader, &m, err, sizeof (err));
  if (res == MB_BAG_NEED_BUFFER) {
    ret = supply_chunk (self, &res, err, sizeof (err));
    if (ret == GST_FLOW_OK)
      return;
    if (ret == GST_FLOW_FLUSHING)
      goto pause;
    if (ret == GST_FLOW_ERROR)
      goto pause_eos;
  }
  if (res < 0) {
    if (handle_bag_error (self, res, err))
      return;
    ret = GST_FLOW_ERROR;
    goto pause_eos;
  }
  if (res == MB_BAG_EOF) {
    GST_DEBUG_OBJECT (self, "end of the selected range");
    ret = GST_FLOW_EOS;
    goto pause_eos;
  }
  ret = push_message (self, &m);
  if (ret == GST_FLOW_OK)
    return;
  if (ret == GST_FLOW_EOS)
    goto pause_eos;
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    if (ret != GST_FLOW_FLUSHING)
      GST_ELEMENT_FLOW_ERROR (self, ret);
    if (ret != GST_FLOW_FLUSHING)
      goto pause_eos;
  }
  goto pause;

pause_eos:
  push_eos (self);
pause:
  GST_DEBUG_OBJECT (self, "pausing task: %s", gst_flow_get_name (ret));
  pause_task (self);
}

/* ------------------------------------------------------------------ */
/* seeking, queries                                                    */

static gboolean
gst_rosbag_src_do_seek (GstRosbagSrc * self, GstEvent * event)
{
  gdouble rate;
  GstFormat format;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  gint64 start, stop;
  gboolean flush;
  guint32 seqnum = gst_event_get_seqnum (event);
  guint i;
  guint64 prop_start, prop_stop, rel_start, rel_stop;
  GstSegment seg;

  gst_event_parse_seek (event, &rate, &format, &flags, &start_type, &start,
      &stop_type, &stop);
  if (format != GST_FORMAT_TIME) {
    GST_DEBUG_OBJECT (self, "can only seek in TIME");
    return FALSE;
  }
  if (rate != 1.0) {
    GST_DEBUG_OBJECT (self, "only rate 1.0 is supported");
    return FALSE;
  }
  if (!self->bag)
    return FALSE;
  if (seqnum == self->seqnum) {
    /* the same seek, arriving through another branch */
    return TRUE;
  }
  flush = (flags & GST_SEEK_FLAG_FLUSH) != 0;

  if (flush) {
    for (i = 0; i < self->n_streams; i++) {
      GstEvent *ev = gst_event_new_flush_start ();
      gst_event_set_seqnum (ev, seqnum);
      gst_pad_push_event (self->streams[i]->pad, ev);
    }
    set_flushing (self, TRUE);
  } else {
    pause_task (self);
  }

  g_rec_mutex_lock (&self->stream_lock);
  if (!self->bag) {
    g_rec_mutex_unlock (&self->stream_lock);
    return FALSE;
  }
  if (flush) {
    set_flushing (self, FALSE);
    for (i = 0; i < self->n_streams; i++) {
      GstEvent *ev = gst_event_new_flush_stop (TRUE);
      gst_event_set_seqnum (ev, seqnum);
      gst_pad_push_event (self->streams[i]->pad, ev);
    }
  }

  seg = self->segment;
  gst_segment_do_seek (&seg, rate, format, flags, start_type, start,
      stop_type, stop, NULL);
  GST_OBJECT_LOCK (self);
  prop_start = self->start_time;
  prop_stop = self->stop_time;
  GST_OBJECT_UNLOCK (self);
  if (seg.start < prop_start)
    seg.start = prop_start;
  if (GST_CLOCK_TIME_IS_VALID (prop_stop) &&
      (!GST_CLOCK_TIME_IS_VALID (seg.stop) || seg.stop > prop_stop + 1))
    seg.stop = prop_stop + 1;
  seg.time = seg.start;
  seg.position = seg.start;
  self->segment = seg;
  rel_start = seg.start;
  /* the segment's stop is exclusive, the reader's inclusive */
  rel_stop = GST_CLOCK_TIME_IS_VALID (seg.stop) ?
      (seg.stop > 0 ? seg.stop - 1 : 0) : GST_CLOCK_TIME_NONE;

  mb_bag_reader_free (self->reader);
  self->reader = make_reader (self, rel_start, rel_stop);
  self->seqnum = seqnum;
  for (i = 0; i < self->n_streams; i++) {
    self->streams[i]->need_segment = TRUE;
    self->streams[i]->discont = TRUE;
  }
  gst_flow_combiner_reset (self->flowcombiner);

  if (flags & GST_SEEK_FLAG_SEGMENT) {
    GstMessage *msg = gst_message_new_segment_start (GST_OBJECT (self),
        GST_FORMAT_TIME, seg.start);
    gst_message_set_seqnum (msg, seqnum);
    gst_element_post_message (GST_ELEMENT (self), msg);
  }
  GST_INFO_OBJECT (self, "seek to %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT,
      GST_TIME_ARGS (rel_start), GST_TIME_ARGS (rel_stop));
  GST_OBJECT_LOCK (self);
  self->position = rel_start;
  if (!self->task_stopping)
    gst_task_start (self->task);
  GST_OBJECT_UNLOCK (self);
  g_rec_mutex_unlock (&self->stream_lock);
  return TRUE;
}

static gboolean
gst_rosbag_src_pad_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstRosbagSrc *self = GST_ROSBAG_SRC (parent);
  gboolean ret;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEEK:
      ret = gst_rosbag_src_do_seek (self, event);
      break;
    case GST_EVENT_RECONFIGURE:
      ret = TRUE;
      break;
    default:
      ret = FALSE;
      break;
  }
  gst_event_unref (event);
  return ret;
}

static gboolean
gst_rosbag_src_send_event (GstElement * element, GstEvent * event)
{
  GstRosbagSrc *self = GST_ROSBAG_SRC (element);
  gboolean ret = FALSE;

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK)
    ret = gst_rosbag_src_do_seek (self, event);
  gst_event_unref (event);
  return ret;
}

static gboolean
gst_rosbag_src_pad_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstRosbagSrc *self = GST_ROSBAG_SRC (parent);
  GstFormat fmt;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_POSITION:{
      GstClockTime pos;
      gst_query_parse_position (query, &fmt, NULL);
      if (fmt != GST_FORMAT_TIME)
        return FALSE;
      GST_OBJECT_LOCK (self);
      pos = self->position;
      GST_OBJECT_UNLOCK (self);
      if (!GST_CLOCK_TIME_IS_VALID (pos))
        pos = 0;
      gst_query_set_position (query, GST_FORMAT_TIME, (gint64) pos);
      return TRUE;
    }
    case GST_QUERY_DURATION:{
      gboolean have;
      guint64 dur;
      gst_query_parse_duration (query, &fmt, NULL);
      if (fmt != GST_FORMAT_TIME)
        return FALSE;
      GST_OBJECT_LOCK (self);
      have = self->have_info;
      dur = self->info_duration;
      GST_OBJECT_UNLOCK (self);
      if (!have)
        return FALSE;
      gst_query_set_duration (query, GST_FORMAT_TIME, (gint64) dur);
      return TRUE;
    }
    case GST_QUERY_SEEKING:{
      gint64 dur;
      gst_query_parse_seeking (query, &fmt, NULL, NULL, NULL);
      if (fmt != GST_FORMAT_TIME) {
        gst_query_set_seeking (query, fmt, FALSE, -1, -1);
        return TRUE;
      }
      GST_OBJECT_LOCK (self);
      dur = self->have_info ? (gint64) self->info_duration : -1;
      GST_OBJECT_UNLOCK (self);
      gst_query_set_seeking (query, GST_FORMAT_TIME, TRUE, 0, dur);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}
