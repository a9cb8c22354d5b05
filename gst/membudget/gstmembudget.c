/* membound: membudget, a queue that states a memory budget and keeps it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-membudget
 * @title: membudget
 *
 * membudget is a queue (one sink pad, one source pad, its own streaming
 * thread) that bounds memory, not only what it holds itself:
 *
 * - `max-size-buffers`, `max-size-bytes`, `max-size-time` bound what it
 *   queues, like queue's limits (0 = that limit off; full = any enabled
 *   limit reached).
 * - `max-inflight-bytes` bounds the bytes of buffers it has pushed
 *   downstream that are still alive anywhere: a buffer counts until it is
 *   freed or returns to its pool (a meta whose free function runs then). The
 *   streaming thread does not push while the limit is reached, so the queue
 *   fills and `policy` applies.
 * - `budget` names a byte budget shared by every membudget of the process
 *   with that name (`budget-bytes` sets its limit); each member charges the
 *   bytes it holds plus those it has in flight.
 * - `rss-limit` and the cgroup margin: a monitor thread reads the process
 *   RSS (/proc/self/statm) and the memory cgroup (v2 or v1, auto-detected)
 *   every `watch-interval`; above the limit the element behaves as if over
 *   budget (it queues at most one buffer) and posts a warning.
 * - A leak detector fits the slope of the anonymous RSS (page cache does
 *   not count) over `leak-window` and posts `membudget-leak-suspected` when
 *   it stays above `leak-threshold` for the whole window.
 * - `pool-buffers` answers ALLOCATION queries with a pool of at most N
 *   buffers, so the upstream source is held to N frames. Deadlock rule: N
 *   must be larger than everything that can hold buffers at once between the
 *   source and the point where they are freed (this element's
 *   `max-size-buffers`, in-flight buffers, sink `last-sample`, encoder
 *   lookahead, ...), or the source waits forever for a free buffer.
 *
 * When a limit is reached, `policy` decides: `block` (backpressure, nothing
 * lost), `drop-oldest` (drop queued buffers, oldest first) or `drop-newest`
 * (drop the incoming buffer). Every drop is counted (`dropped-buffers`,
 * `dropped-bytes`) and posted as a QoS message; the next buffer pushed gets
 * the DISCONT flag.
 *
 * ## Messages
 *
 * `membudget-stats` (every `stats-interval`, only when a value changed):
 * `level-bytes`, `level-buffers`, `level-time`, `inflight-bytes`,
 * `peak-level-bytes`, `peak-level-buffers`, `peak-inflight-bytes`,
 * `dropped-buffers`, `dropped-bytes`, `budget`, `budget-used`,
 * `budget-limit`, `rss`, `rss-anon`, `pss`, `cgroup-version`,
 * `cgroup-usage`, `cgroup-working-set`, `cgroup-limit`, `psi-some-avg10`,
 * `pressure`.
 *
 * `membudget-leak-suspected`: `slope` (bytes/hour, double), `threshold`,
 * `window`, `rss-anon-start`, `rss-anon`.
 *
 * The names are in `membound/membudget.h`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=300 ! video/x-raw,width=1280,height=720 ! \
 *     membudget max-inflight-bytes=67108864 stats-interval=1000000000 ! \
 *     identity sleep-time=20000 ! fakesink
 * ]| At most 64 MiB of frames alive downstream of membudget.
 * |[
 * gst-launch-1.0 -m audiotestsrc is-live=true samplesperbuffer=640 ! \
 *     membudget max-size-buffers=3 max-size-bytes=0 max-size-time=0 policy=drop-oldest ! \
 *     fakesink sync=true
 * ]| Keep at most 3 audio chunks, dropping the oldest; drops show as QoS.
 * |[
 * gst-launch-1.0 videotestsrc ! membudget budget=cams budget-bytes=268435456 ! fakesink \
 *     videotestsrc ! membudget budget=cams ! fakesink
 * ]| Two branches sharing one 256 MiB budget.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmembudget.h"

#include <malloc.h>
#include <string.h>
#include <gst/video/video.h>
#include <membound/membudget.h>

GST_DEBUG_CATEGORY_STATIC (membudget_debug);
#define GST_CAT_DEFAULT membudget_debug
GST_DEBUG_CATEGORY_STATIC (membudget_dataflow);

#define DEFAULT_MAX_SIZE_BUFFERS 200
#define DEFAULT_MAX_SIZE_BYTES (10 * 1024 * 1024)
#define DEFAULT_MAX_SIZE_TIME GST_SECOND
#define DEFAULT_MAX_INFLIGHT_BYTES 0
#define DEFAULT_BUDGET NULL
#define DEFAULT_BUDGET_BYTES 0
#define DEFAULT_POLICY GST_MEMBUDGET_POLICY_BLOCK
#define DEFAULT_WATCH_INTERVAL GST_SECOND
#define DEFAULT_RSS_LIMIT 0
#define DEFAULT_CGROUP_MARGIN 10
#define DEFAULT_TRIM FALSE
#define DEFAULT_LEAK_WINDOW (600 * GST_SECOND)
#define DEFAULT_LEAK_THRESHOLD (G_GUINT64_CONSTANT (100) * 1024 * 1024)
#define DEFAULT_STATS_INTERVAL GST_SECOND
#define DEFAULT_POOL_BUFFERS 0
#define DEFAULT_PROC_ROOT "/proc"
#define DEFAULT_FS_ROOT ""

/* malloc_trim after at least this many bytes were released */
#define TRIM_MIN_RELEASED (16 * 1024 * 1024)
/* smaps_rollup (ms at GB sizes) at most this often, monitor thread only */
#define ROLLUP_INTERVAL (10 * GST_SECOND)
/* a wait on a shared budget also wakes up this often (its releases may come
 * from any thread, without our lock) */
#define BUDGET_POLL_US (10 * G_TIME_SPAN_MILLISECOND)
#define TREND_CAPACITY 256
/* warn once when in-flight buffers are not released for this long */
#define STALL_WARN_US (5 * G_TIME_SPAN_SECOND)

enum
{
  PROP_0,
  PROP_MAX_SIZE_BUFFERS,
  PROP_MAX_SIZE_BYTES,
  PROP_MAX_SIZE_TIME,
  PROP_MAX_INFLIGHT_BYTES,
  PROP_BUDGET,
  PROP_BUDGET_BYTES,
  PROP_POLICY,
  PROP_WATCH_INTERVAL,
  PROP_RSS_LIMIT,
  PROP_CGROUP_MARGIN,
  PROP_TRIM,
  PROP_LEAK_WINDOW,
  PROP_LEAK_THRESHOLD,
  PROP_STATS_INTERVAL,
  PROP_POOL_BUFFERS,
  PROP_PROC_ROOT,
  PROP_FS_ROOT,
  PROP_CURRENT_LEVEL_BUFFERS,
  PROP_CURRENT_LEVEL_BYTES,
  PROP_CURRENT_LEVEL_TIME,
  PROP_CURRENT_INFLIGHT_BYTES,
  PROP_PEAK_LEVEL_BUFFERS,
  PROP_PEAK_LEVEL_BYTES,
  PROP_PEAK_INFLIGHT_BYTES,
  PROP_DROPPED_BUFFERS,
  PROP_DROPPED_BYTES,
  PROP_BUDGET_USED,
  PROP_RSS,
  PROP_RSS_ANON,
  PROP_CGROUP_VERSION,
  PROP_CGROUP_USAGE,
  PROP_CGROUP_LIMIT,
  PROP_PRESSURE,
};

/* ------------------------------------------------------------------------ */
/* in-flight tracking: a meta whose free function runs when the buffer is    */
/* freed or returns to its pool (pools drop non-POOLED metas on release)     */

struct _GstMembudgetTracker
{
  gint refcount;
  gint64 inflight;              /* atomic (__atomic builtins) */
  gint waiting;                 /* atomic: the owner waits for room */
  gint64 released;              /* atomic: bytes released since last trim */
  MbBudget *budget;             /* ref, may be NULL */
  GMutex lock;                  /* protects owner */
  GstMembudget *owner;
};

typedef struct
{
  GstMeta meta;
  GstMembudgetTracker *tracker;
  gsize size;
} GstMembudgetMeta;

#define ATOMIC_ADD(p, v) __atomic_add_fetch ((p), (v), __ATOMIC_SEQ_CST)
#define ATOMIC_GET(p) __atomic_load_n ((p), __ATOMIC_SEQ_CST)
#define ATOMIC_XCHG(p, v) __atomic_exchange_n ((p), (v), __ATOMIC_SEQ_CST)

static GstMembudgetTracker *
tracker_new (GstMembudget * owner, MbBudget * budget)
{
  GstMembudgetTracker *t = g_new0 (GstMembudgetTracker, 1);

  t->refcount = 1;
  t->budget = budget ? mb_budget_ref (budget) : NULL;
  g_mutex_init (&t->lock);
  t->owner = owner;
  return t;
}

static void
tracker_unref (GstMembudgetTracker * t)
{
  if (!g_atomic_int_dec_and_test (&t->refcount))
    return;
  if (t->budget)
    mb_budget_unref (t->budget);
  g_mutex_clear (&t->lock);
  g_free (t);
}

static void
tracker_detach (GstMembudgetTracker * t)
{
  g_mutex_lock (&t->lock);
  t->owner = NULL;
  g_mutex_unlock (&t->lock);
}

static void
tracker_release (GstMembudgetTracker * t, gsize size)
{
  ATOMIC_ADD (&t->inflight, -(gint64) size);
  ATOMIC_ADD (&t->released, (gint64) size);
  if (t->budget)
    mb_budget_release (t->budget, size);
  /* the owner sets `waiting` before re-reading `inflight` under its lock, so
   * either it sees our decrement or we see its flag */
  if (g_atomic_int_get (&t->waiting)) {
    g_mutex_lock (&t->lock);
    if (t->owner) {
      g_mutex_lock (&t->owner->lock);
      g_cond_signal (&t->owner->item_add);
      g_mutex_unlock (&t->owner->lock);
    }
    g_mutex_unlock (&t->lock);
  }
}

static GType
gst_membudget_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstMembudgetMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
gst_membudget_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstMembudgetMeta *m = (GstMembudgetMeta *) meta;

  m->tracker = NULL;
  m->size = 0;
  return TRUE;
}

static void
gst_membudget_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstMembudgetMeta *m = (GstMembudgetMeta *) meta;

  if (m->tracker) {
    tracker_release (m->tracker, m->size);
    tracker_unref (m->tracker);
    m->tracker = NULL;
  }
}

static const GstMetaInfo *
gst_membudget_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    /* no transform function: copies of the buffer do not carry it */
    const GstMetaInfo *mi =
        gst_meta_register (gst_membudget_meta_api_get_type (),
        "GstMembudgetMeta", sizeof (GstMembudgetMeta),
        gst_membudget_meta_init, gst_membudget_meta_free, NULL);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/* ------------------------------------------------------------------------ */

static GstStaticPadTemplate sinktemplate = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate srctemplate = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GType
gst_membudget_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MEMBUDGET_POLICY_BLOCK,
        "Block upstream until there is room (nothing is lost)", "block"},
    {GST_MEMBUDGET_POLICY_DROP_OLDEST,
        "Drop queued buffers, oldest first", "drop-oldest"},
    {GST_MEMBUDGET_POLICY_DROP_NEWEST,
        "Drop the incoming buffer", "drop-newest"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMembudgetPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define gst_membudget_parent_class parent_class
G_DEFINE_TYPE (GstMembudget, gst_membudget, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (membudget, "membudget", GST_RANK_NONE,
    GST_TYPE_MEMBUDGET);

static void gst_membudget_finalize (GObject * object);
static void gst_membudget_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_membudget_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_membudget_change_state (GstElement * element,
    GstStateChange transition);
static GstFlowReturn gst_membudget_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_membudget_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_membudget_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_membudget_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_membudget_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_membudget_src_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static gboolean gst_membudget_sink_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static void gst_membudget_loop (GstPad * pad);

#define RW_PLAYING (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_PLAYING)
#define RW_READY (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_READY)
#define RO (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)

static void
gst_membudget_class_init (GstMembudgetClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_membudget_finalize;
  gobject_class->set_property = gst_membudget_set_property;
  gobject_class->get_property = gst_membudget_get_property;

  g_object_class_install_property (gobject_class, PROP_MAX_SIZE_BUFFERS,
      g_param_spec_uint ("max-size-buffers", "Max. size (buffers)",
          "Max. number of buffers queued (0 = no limit)", 0, G_MAXUINT,
          DEFAULT_MAX_SIZE_BUFFERS, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_SIZE_BYTES,
      g_param_spec_uint64 ("max-size-bytes", "Max. size (bytes)",
          "Max. bytes queued (0 = no limit)", 0, G_MAXUINT64,
          DEFAULT_MAX_SIZE_BYTES, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_SIZE_TIME,
      g_param_spec_uint64 ("max-size-time", "Max. size (ns)",
          "Max. running time queued, in nanoseconds (0 = no limit)", 0,
          G_MAXUINT64, DEFAULT_MAX_SIZE_TIME, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_INFLIGHT_BYTES,
      g_param_spec_uint64 ("max-inflight-bytes", "Max. in-flight bytes",
          "Max. bytes of buffers pushed downstream that are still alive "
          "(freed or back in their pool releases them; 0 = no limit)", 0,
          G_MAXUINT64, DEFAULT_MAX_INFLIGHT_BYTES, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BUDGET,
      g_param_spec_string ("budget", "Budget",
          "Name of a byte budget shared by every membudget of the process "
          "with that name (held + in-flight bytes; NULL = none)",
          DEFAULT_BUDGET, RW_READY));
  g_object_class_install_property (gobject_class, PROP_BUDGET_BYTES,
      g_param_spec_uint64 ("budget-bytes", "Budget bytes",
          "Limit of the shared budget in bytes (the last member that sets it "
          "wins; 0 = leave it as set by another member, unlimited if none)",
          0, G_MAXUINT64, DEFAULT_BUDGET_BYTES, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_POLICY,
      g_param_spec_enum ("policy", "Policy",
          "What to do when a limit is reached", GST_TYPE_MEMBUDGET_POLICY,
          DEFAULT_POLICY, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_WATCH_INTERVAL,
      g_param_spec_uint64 ("watch-interval", "Watch interval",
          "Interval in ns between readings of process RSS, cgroup and PSI, "
          "which also drive rss-limit, the cgroup margin, trim and the leak "
          "detector (0 = no watching)", 0, G_MAXUINT64,
          DEFAULT_WATCH_INTERVAL, RW_READY));
  g_object_class_install_property (gobject_class, PROP_RSS_LIMIT,
      g_param_spec_uint64 ("rss-limit", "RSS limit",
          "Process RSS in bytes above which the policy applies as if over "
          "budget and a warning is posted (0 = no limit)", 0, G_MAXUINT64,
          DEFAULT_RSS_LIMIT, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_CGROUP_MARGIN,
      g_param_spec_uint ("cgroup-margin", "Cgroup margin",
          "Act like rss-limit when the cgroup's working set is within this "
          "percentage of its memory.high (else memory.max) (100 = off)",
          0, 100, DEFAULT_CGROUP_MARGIN, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TRIM,
      g_param_spec_boolean ("trim", "Trim",
          "Call malloc_trim(0) on the watch thread after at least 16 MiB "
          "were released", DEFAULT_TRIM, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LEAK_WINDOW,
      g_param_spec_uint64 ("leak-window", "Leak window",
          "Window in ns over which the anonymous RSS slope is fitted "
          "(0 = no leak detection)", 0, G_MAXUINT64, DEFAULT_LEAK_WINDOW,
          RW_READY));
  g_object_class_install_property (gobject_class, PROP_LEAK_THRESHOLD,
      g_param_spec_uint64 ("leak-threshold", "Leak threshold",
          "Anonymous RSS growth in bytes per hour that, sustained over the "
          "whole leak-window, posts membudget-leak-suspected", 1,
          G_MAXUINT64, DEFAULT_LEAK_THRESHOLD, RW_PLAYING));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint64 ("stats-interval", "Stats interval",
          "Interval in ns between membudget-stats element messages, posted "
          "only when a value changed (0 = none)", 0, G_MAXUINT64,
          DEFAULT_STATS_INTERVAL, RW_READY));
  g_object_class_install_property (gobject_class, PROP_POOL_BUFFERS,
      g_param_spec_uint ("pool-buffers", "Pool buffers",
          "Answer ALLOCATION queries with a pool of at most this many "
          "buffers; must exceed every buffer held downstream of the source "
          "or the pipeline deadlocks (0 = leave allocation alone)", 0,
          G_MAXUINT, DEFAULT_POOL_BUFFERS, RW_READY));
  g_object_class_install_property (gobject_class, PROP_PROC_ROOT,
      g_param_spec_string ("proc-root", "proc root",
          "Directory read instead of /proc (tests)", DEFAULT_PROC_ROOT,
          RW_READY));
  g_object_class_install_property (gobject_class, PROP_FS_ROOT,
      g_param_spec_string ("fs-root", "Filesystem root",
          "Prefix of the cgroup mount points found in mountinfo (tests)",
          DEFAULT_FS_ROOT, RW_READY));

  g_object_class_install_property (gobject_class, PROP_CURRENT_LEVEL_BUFFERS,
      g_param_spec_uint ("current-level-buffers", "Current level (buffers)",
          "Buffers queued", 0, G_MAXUINT, 0, RO));
  g_object_class_install_property (gobject_class, PROP_CURRENT_LEVEL_BYTES,
      g_param_spec_uint64 ("current-level-bytes", "Current level (bytes)",
          "Bytes queued", 0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_CURRENT_LEVEL_TIME,
      g_param_spec_uint64 ("current-level-time", "Current level (ns)",
          "Running time queued, in ns", 0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_CURRENT_INFLIGHT_BYTES,
      g_param_spec_uint64 ("current-inflight-bytes", "In-flight bytes",
          "Bytes pushed downstream and still alive", 0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_PEAK_LEVEL_BUFFERS,
      g_param_spec_uint ("peak-level-buffers", "Peak level (buffers)",
          "Most buffers queued at once since READY", 0, G_MAXUINT, 0, RO));
  g_object_class_install_property (gobject_class, PROP_PEAK_LEVEL_BYTES,
      g_param_spec_uint64 ("peak-level-bytes", "Peak level (bytes)",
          "Most bytes queued at once since READY", 0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_PEAK_INFLIGHT_BYTES,
      g_param_spec_uint64 ("peak-inflight-bytes", "Peak in-flight bytes",
          "Most bytes in flight at once since READY", 0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_DROPPED_BUFFERS,
      g_param_spec_uint64 ("dropped-buffers", "Dropped buffers",
          "Buffers dropped by the policy since READY", 0, G_MAXUINT64, 0,
          RO));
  g_object_class_install_property (gobject_class, PROP_DROPPED_BYTES,
      g_param_spec_uint64 ("dropped-bytes", "Dropped bytes",
          "Bytes dropped by the policy since READY", 0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_BUDGET_USED,
      g_param_spec_uint64 ("budget-used", "Budget used",
          "Bytes charged to the shared budget by all its members", 0,
          G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_RSS,
      g_param_spec_uint64 ("rss", "RSS", "Process RSS in bytes (last reading)",
          0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_RSS_ANON,
      g_param_spec_uint64 ("rss-anon", "Anonymous RSS",
          "Anonymous part of the process RSS in bytes (last reading)", 0,
          G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_CGROUP_VERSION,
      g_param_spec_int ("cgroup-version", "Cgroup version",
          "Memory cgroup found: 0 = none, 1 = v1, 2 = v2", 0, 2, 0, RO));
  g_object_class_install_property (gobject_class, PROP_CGROUP_USAGE,
      g_param_spec_uint64 ("cgroup-usage", "Cgroup usage",
          "Memory cgroup usage in bytes, page cache included (last reading)",
          0, G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_CGROUP_LIMIT,
      g_param_spec_uint64 ("cgroup-limit", "Cgroup limit",
          "Effective memory cgroup limit in bytes (0 = none)", 0,
          G_MAXUINT64, 0, RO));
  g_object_class_install_property (gobject_class, PROP_PRESSURE,
      g_param_spec_boolean ("pressure", "Pressure",
          "TRUE while over rss-limit or within the cgroup margin", FALSE,
          RO));

  gst_element_class_add_static_pad_template (element_class, &sinktemplate);
  gst_element_class_add_static_pad_template (element_class, &srctemplate);
  gst_element_class_set_static_metadata (element_class, "Memory budget",
      "Generic", "Queue that bounds held and in-flight bytes, shares named "
      "budgets, watches RSS/cgroup and detects leaks",
      "membound maintainers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_membudget_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_MEMBUDGET_POLICY, 0);

  GST_DEBUG_CATEGORY_INIT (membudget_debug, "membudget", 0, "membudget");
  GST_DEBUG_CATEGORY_INIT (membudget_dataflow, "membudget_dataflow", 0,
      "membudget per-buffer dataflow");
}

static void
gst_membudget_init (GstMembudget * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sinktemplate, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_membudget_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_membudget_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_membudget_sink_query));
  gst_pad_set_activatemode_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_membudget_sink_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&srctemplate, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_membudget_src_event));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_membudget_src_query));
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_membudget_src_activate_mode));
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  g_mutex_init (&self->lock);
  g_cond_init (&self->item_add);
  g_cond_init (&self->item_del);
  g_cond_init (&self->query_handled);
  g_mutex_init (&self->mon_lock);
  g_cond_init (&self->mon_cond);
  g_queue_init (&self->queue);
  self->srcresult = GST_FLOW_FLUSHING;
  gst_segment_init (&self->sink_segment, GST_FORMAT_TIME);
  gst_segment_init (&self->src_segment, GST_FORMAT_TIME);
  self->sinktime = self->srctime = GST_CLOCK_TIME_NONE;
  self->psi_some_avg10 = -1;

  self->max_size_buffers = DEFAULT_MAX_SIZE_BUFFERS;
  self->max_size_bytes = DEFAULT_MAX_SIZE_BYTES;
  self->max_size_time = DEFAULT_MAX_SIZE_TIME;
  self->max_inflight_bytes = DEFAULT_MAX_INFLIGHT_BYTES;
  self->budget_bytes = DEFAULT_BUDGET_BYTES;
  self->policy = DEFAULT_POLICY;
  self->watch_interval = DEFAULT_WATCH_INTERVAL;
  self->rss_limit = DEFAULT_RSS_LIMIT;
  self->cgroup_margin = DEFAULT_CGROUP_MARGIN;
  self->trim = DEFAULT_TRIM;
  self->leak_window = DEFAULT_LEAK_WINDOW;
  self->leak_threshold = DEFAULT_LEAK_THRESHOLD;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->pool_buffers = DEFAULT_POOL_BUFFERS;
  self->proc_root = g_strdup (DEFAULT_PROC_ROOT);
  self->fs_root = g_strdup (DEFAULT_FS_ROOT);
}

/* budget listener: runs under the budget's lock, possibly on any thread, so
 * it only wakes; waiters re-check with a bounded timed wait */
static void
budget_changed (void *user_data)
{
  GstMembudget *self = user_data;

  /* a futex wake costs a syscall: only when a chain waits on the budget */
  if (g_atomic_int_get (&self->budget_waiting))
    g_cond_broadcast (&self->item_del);
}

static void
gst_membudget_set_budget (GstMembudget * self, const gchar * name)
{
  MbBudget *old = self->budget;
  guint old_id = self->budget_listener;

  if (old) {
    mb_budget_remove_listener (old, old_id);
    mb_budget_unref (old);
  }
  self->budget = NULL;
  self->budget_listener = 0;
  g_free (self->budget_name);
  self->budget_name = g_strdup (name);
  if (name && name[0]) {
    self->budget = mb_budget_acquire (name);
    if (self->budget) {
      self->budget_listener = mb_budget_add_listener (self->budget,
          budget_changed, self);
      if (self->budget_bytes > 0)
        mb_budget_set_limit (self->budget, self->budget_bytes);
    }
  }
}

static void
gst_membudget_finalize (GObject * object)
{
  GstMembudget *self = GST_MEMBUDGET (object);

  gst_membudget_set_budget (self, NULL);
  if (self->tracker) {
    tracker_detach (self->tracker);
    tracker_unref (self->tracker);
  }
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->item_add);
  g_cond_clear (&self->item_del);
  g_cond_clear (&self->query_handled);
  g_mutex_clear (&self->mon_lock);
  g_cond_clear (&self->mon_cond);
  g_free (self->proc_root);
  g_free (self->fs_root);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ------------------------------------------------------------------------ */
/* levels                                                                    */

static guint64
inflight_locked (GstMembudget * self)
{
  gint64 v;

  if (self->tracker == NULL)
    return 0;
  v = ATOMIC_GET (&self->tracker->inflight);
  return v > 0 ? (guint64) v : 0;
}

static void
update_time_level (GstMembudget * self)
{
  if (self->level_buffers > 0 && GST_CLOCK_TIME_IS_VALID (self->sinktime)
      && GST_CLOCK_TIME_IS_VALID (self->srctime)
      && self->sinktime > self->srctime)
    self->level_time = self->sinktime - self->srctime;
  else
    self->level_time = 0;
}

static GstClockTime
buffer_running_time (GstSegment * seg, GstBuffer * buf, gboolean end)
{
  GstClockTime ts = GST_BUFFER_DTS_OR_PTS (buf);

  if (!GST_CLOCK_TIME_IS_VALID (ts) || seg->format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  if (end && GST_BUFFER_DURATION_IS_VALID (buf))
    ts += GST_BUFFER_DURATION (buf);
  return gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts);
}

static gboolean
is_full_locked (GstMembudget * self, gsize size, gboolean * charged)
{
  *charged = FALSE;
  self->budget_blocked = FALSE;
  /* under memory pressure nothing is buffered beyond one buffer: the
   * source runs at the pace of downstream (in flight stays bounded by
   * max-inflight-bytes only, since sinks keep their last buffer) */
  if (self->pressure && self->level_buffers > 0)
    return TRUE;
  if (self->max_size_buffers > 0
      && self->level_buffers >= self->max_size_buffers)
    return TRUE;
  if (self->max_size_bytes > 0 && self->level_bytes >= self->max_size_bytes)
    return TRUE;
  if (self->max_size_time > 0 && self->level_buffers > 0
      && self->level_time >= self->max_size_time)
    return TRUE;
  if (self->budget) {
    if (!mb_budget_try_charge (self->budget, size)) {
      self->budget_blocked = TRUE;
      return TRUE;
    }
    *charged = TRUE;
  }
  return FALSE;
}

typedef struct
{
  GstBuffer *buffer;
  GstClockTime running_time;
  GstClockTime stream_time;
  guint64 processed;
  guint64 dropped;
} DropRecord;

static void
record_drop_locked (GstMembudget * self, GstBuffer * buf, GSList ** drops)
{
  DropRecord *r = g_new0 (DropRecord, 1);
  GstClockTime ts = GST_BUFFER_PTS (buf);

  self->dropped_buffers++;
  self->dropped_bytes += gst_buffer_get_size (buf);
  r->buffer = buf;
  r->running_time = GST_CLOCK_TIME_NONE;
  r->stream_time = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID (ts)
      && self->sink_segment.format == GST_FORMAT_TIME) {
    r->running_time = gst_segment_to_running_time (&self->sink_segment,
        GST_FORMAT_TIME, ts);
    r->stream_time = gst_segment_to_stream_time (&self->sink_segment,
        GST_FORMAT_TIME, ts);
  }
  r->processed = self->processed;
  r->dropped = self->dropped_buffers;
  *drops = g_slist_prepend (*drops, r);
}

/* Posts one QoS message per drop and frees the dropped buffers. Called with
 * the lock released. */
static void
post_drops (GstMembudget * self, GSList * drops)
{
  GSList *l;

  drops = g_slist_reverse (drops);
  for (l = drops; l; l = l->next) {
    DropRecord *r = l->data;
    GstMessage *msg;

    GST_CAT_LOG_OBJECT (membudget_dataflow, self, "dropped %" GST_PTR_FORMAT,
        r->buffer);
    msg = gst_message_new_qos (GST_OBJECT_CAST (self), FALSE, r->running_time,
        r->stream_time, GST_BUFFER_PTS (r->buffer),
        GST_BUFFER_DURATION (r->buffer));
    gst_message_set_qos_stats (msg, GST_FORMAT_BUFFERS, r->processed,
        r->dropped);
    gst_element_post_message (GST_ELEMENT_CAST (self), msg);
    gst_buffer_unref (r->buffer);
    g_free (r);
  }
  g_slist_free (drops);
}

/* Removes the oldest queued buffer (events and queries stay). Returns FALSE
 * when no buffer is queued. */
static gboolean
drop_oldest_locked (GstMembudget * self, GSList ** drops)
{
  GList *l;

  for (l = self->queue.head; l; l = l->next) {
    if (GST_IS_BUFFER (l->data)) {
      GstBuffer *buf = l->data;
      gsize size = gst_buffer_get_size (buf);

      GstClockTime rt;

      g_queue_delete_link (&self->queue, l);
      self->level_buffers--;
      self->level_bytes -= size;
      /* what is queued now starts after the dropped buffer */
      rt = buffer_running_time (&self->sink_segment, buf, TRUE);
      if (GST_CLOCK_TIME_IS_VALID (rt))
        self->srctime = rt;
      update_time_level (self);
      if (self->budget)
        mb_budget_release (self->budget, size);
      record_drop_locked (self, buf, drops);
      /* the gap is before the buffer that now leaves first */
      self->discont = TRUE;
      return TRUE;
    }
  }
  return FALSE;
}

/* Takes every item out of the queue; buffers are returned in *items for
 * unreffing without the lock, queries are left to their waiting owner. */
static void
flush_locked (GstMembudget * self, GSList ** items)
{
  GstMiniObject *obj;

  while ((obj = g_queue_pop_head (&self->queue))) {
    if (GST_IS_BUFFER (obj)) {
      if (self->budget)
        mb_budget_release (self->budget, gst_buffer_get_size (GST_BUFFER
                (obj)));
      *items = g_slist_prepend (*items, obj);
    } else if (GST_IS_EVENT (obj)) {
      *items = g_slist_prepend (*items, obj);
    }
  }
  self->level_buffers = 0;
  self->level_bytes = 0;
  self->level_time = 0;
  self->sinktime = self->srctime = GST_CLOCK_TIME_NONE;
  gst_segment_init (&self->sink_segment, GST_FORMAT_TIME);
  gst_segment_init (&self->src_segment, GST_FORMAT_TIME);
  self->last_handled_query = NULL;
  g_cond_broadcast (&self->item_del);
  g_cond_broadcast (&self->query_handled);
}

static void
unref_items (GSList * items)
{
  g_slist_free_full (items, (GDestroyNotify) gst_mini_object_unref);
}

/* ------------------------------------------------------------------------ */
/* sink side                                                                 */

static GstFlowReturn
gst_membudget_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  GstMembudget *self = GST_MEMBUDGET (parent);
  gsize size = gst_buffer_get_size (buffer);
  GSList *drops = NULL;
  GstFlowReturn ret;
  gboolean charged;

  g_mutex_lock (&self->lock);
  if (self->srcresult != GST_FLOW_OK)
    goto out_flushing;
  if (self->eos)
    goto out_eos;

  GST_CAT_LOG_OBJECT (membudget_dataflow, self, "received %" GST_PTR_FORMAT,
      buffer);
  for (;;) {
    if (self->srcresult != GST_FLOW_OK)
      goto out_flushing;
    if (!is_full_locked (self, size, &charged))
      break;

    if (self->policy == GST_MEMBUDGET_POLICY_DROP_OLDEST
        && drop_oldest_locked (self, &drops))
      continue;
    if (self->policy != GST_MEMBUDGET_POLICY_BLOCK) {
      /* drop-newest, or drop-oldest with nothing older left to drop: the
       * gap is before the next buffer that comes in */
      record_drop_locked (self, buffer, &drops);
      self->tail_discont = TRUE;
      g_mutex_unlock (&self->lock);
      post_drops (self, drops);
      return GST_FLOW_OK;
    }

    GST_CAT_DEBUG_OBJECT (membudget_dataflow, self, "full, waiting "
        "(level %u buffers %" G_GUINT64_FORMAT " bytes, in flight %"
        G_GUINT64_FORMAT ")", self->level_buffers, self->level_bytes,
        inflight_locked (self));
    self->waiting_del = TRUE;
    if (self->budget_blocked) {
      g_atomic_int_set (&self->budget_waiting, 1);
      g_cond_wait_until (&self->item_del, &self->lock,
          g_get_monotonic_time () + BUDGET_POLL_US);
      g_atomic_int_set (&self->budget_waiting, 0);
    } else {
      g_cond_wait (&self->item_del, &self->lock);
    }
    self->waiting_del = FALSE;
  }

  if (self->tail_discont) {
    self->tail_discont = FALSE;
    buffer = gst_buffer_make_writable (buffer);
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
  }
  g_queue_push_tail (&self->queue, buffer);
  self->level_buffers++;
  self->level_bytes += size;
  if (self->level_buffers > self->peak_buffers)
    self->peak_buffers = self->level_buffers;
  if (self->level_bytes > self->peak_bytes)
    self->peak_bytes = self->level_bytes;
  {
    GstClockTime rt = buffer_running_time (&self->sink_segment, buffer, TRUE);
    if (GST_CLOCK_TIME_IS_VALID (rt)) {
      self->sinktime = rt;
      if (!GST_CLOCK_TIME_IS_VALID (self->srctime))
        self->srctime = buffer_running_time (&self->sink_segment, buffer,
            FALSE);
      update_time_level (self);
    }
  }
  if (self->waiting_add)
    g_cond_signal (&self->item_add);
  g_mutex_unlock (&self->lock);
  if (drops)
    post_drops (self, drops);
  return GST_FLOW_OK;

out_flushing:
  ret = self->srcresult;
  GST_CAT_LOG_OBJECT (membudget_dataflow, self, "refusing buffer: %s",
      gst_flow_get_name (ret));
  g_mutex_unlock (&self->lock);
  if (drops)
    post_drops (self, drops);
  gst_buffer_unref (buffer);
  return ret;

out_eos:
  g_mutex_unlock (&self->lock);
  if (drops)
    post_drops (self, drops);
  gst_buffer_unref (buffer);
  return GST_FLOW_EOS;
}

static gboolean
gst_membudget_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstMembudget *self = GST_MEMBUDGET (parent);
  GSList *items = NULL;
  gboolean restart = FALSE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      gst_pad_push_event (self->srcpad, event);
      g_mutex_lock (&self->lock);
      self->srcresult = GST_FLOW_FLUSHING;
      g_cond_broadcast (&self->item_add);
      g_cond_broadcast (&self->item_del);
      g_cond_broadcast (&self->query_handled);
      g_mutex_unlock (&self->lock);
      gst_pad_pause_task (self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      gst_pad_push_event (self->srcpad, event);
      g_mutex_lock (&self->lock);
      flush_locked (self, &items);
      self->srcresult = GST_FLOW_OK;
      self->eos = FALSE;
      self->eos_out = FALSE;
      g_mutex_unlock (&self->lock);
      unref_items (items);
      if (!gst_pad_is_active (self->srcpad)) {
        GST_INFO_OBJECT (self, "not restarting the task: src pad inactive");
        return TRUE;
      }
      return gst_pad_start_task (self->srcpad,
          (GstTaskFunction) gst_membudget_loop, self->srcpad, NULL);
    default:
      break;
  }

  if (!GST_EVENT_IS_SERIALIZED (event))
    return gst_pad_push_event (self->srcpad, event);

  g_mutex_lock (&self->lock);
  /* after EOS (ours or downstream's), a new stream or segment starts over,
   * like queue */
  if ((self->eos || self->srcresult == GST_FLOW_EOS)
      && (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START
          || GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT)) {
    GST_DEBUG_OBJECT (self, "%s after EOS: accepting data again",
        GST_EVENT_TYPE_NAME (event));
    self->eos = FALSE;
    if (self->srcresult == GST_FLOW_EOS || self->eos_out) {
      /* the task pushed the EOS, or is pushing it and will pause: it goes
       * on (or restarts) with this stream */
      if (self->srcresult == GST_FLOW_EOS)
        self->srcresult = GST_FLOW_OK;
      self->eos_out = FALSE;
      self->stream_gen++;
      restart = TRUE;
    }
  }
  if (self->srcresult != GST_FLOW_OK || self->eos) {
    GST_DEBUG_OBJECT (self, "refusing %" GST_PTR_FORMAT " (%s)", event,
        self->eos ? "EOS" : gst_flow_get_name (self->srcresult));
    g_mutex_unlock (&self->lock);
    gst_event_unref (event);
    return FALSE;
  }
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      self->eos = TRUE;
      break;
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->sink_segment);
      if (self->sink_segment.format != GST_FORMAT_TIME)
        self->sinktime = GST_CLOCK_TIME_NONE;
      break;
    default:
      break;
  }
  g_queue_push_tail (&self->queue, event);
  if (self->waiting_add)
    g_cond_signal (&self->item_add);
  g_mutex_unlock (&self->lock);
  if (restart)
    gst_pad_start_task (self->srcpad, (GstTaskFunction) gst_membudget_loop,
        self->srcpad, NULL);
  return TRUE;
}

static void
adjust_allocation (GstMembudget * self, GstQuery * query, guint n_max)
{
  guint i, n = gst_query_get_n_allocation_pools (query);
  GstCaps *caps = NULL;
  gboolean need_pool;

  for (i = 0; i < n; i++) {
    GstBufferPool *pool = NULL;
    guint size, min, max;

    gst_query_parse_nth_allocation_pool (query, i, &pool, &size, &min, &max);
    gst_query_set_nth_allocation_pool (query, i, pool, size, MIN (min, n_max),
        n_max);
    GST_DEBUG_OBJECT (self, "pool %u: max %u -> %u buffers", i, max, n_max);
    if (pool)
      gst_object_unref (pool);
  }
  if (n > 0)
    return;

  gst_query_parse_allocation (query, &caps, &need_pool);
  if (caps) {
    GstVideoInfo vinfo;
    if (gst_video_info_from_caps (&vinfo, caps) && vinfo.size > 0) {
      /* no pool offered downstream: let upstream make one, capped at N */
      gst_query_add_allocation_pool (query, NULL, (guint) vinfo.size, 0,
          n_max);
      GST_DEBUG_OBJECT (self, "proposing a pool of at most %u buffers of %"
          G_GSIZE_FORMAT " bytes", n_max, vinfo.size);
      return;
    }
  }
  GST_WARNING_OBJECT (self, "pool-buffers=%u not applied: buffer size "
      "unknown for caps %" GST_PTR_FORMAT, n_max, caps);
}

static gboolean
gst_membudget_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstMembudget *self = GST_MEMBUDGET (parent);
  gboolean res;
  guint pool_buffers;

  if (!GST_QUERY_IS_SERIALIZED (query))
    return gst_pad_query_default (pad, parent, query);

  g_mutex_lock (&self->lock);
  if (self->srcresult != GST_FLOW_OK) {
    g_mutex_unlock (&self->lock);
    return FALSE;
  }
  g_queue_push_tail (&self->queue, query);
  if (self->waiting_add)
    g_cond_signal (&self->item_add);
  /* when flushing, still wait for a query the task is answering: the
   * caller frees it once we return */
  while (self->last_handled_query != query && (self->srcresult == GST_FLOW_OK
          || self->query_in_progress == query))
    g_cond_wait (&self->query_handled, &self->lock);
  if (self->last_handled_query != query) {
    /* flushing: take it back if the task did not */
    g_queue_remove (&self->queue, query);
    g_mutex_unlock (&self->lock);
    return FALSE;
  }
  self->last_handled_query = NULL;
  res = self->last_query_result;
  pool_buffers = self->pool_buffers;
  g_mutex_unlock (&self->lock);

  if (GST_QUERY_TYPE (query) == GST_QUERY_ALLOCATION && pool_buffers > 0) {
    adjust_allocation (self, query, pool_buffers);
    res = TRUE;
  }
  return res;
}

static gboolean
gst_membudget_sink_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstMembudget *self = GST_MEMBUDGET (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock (&self->lock);
  if (active) {
    self->srcresult = GST_FLOW_OK;
    self->eos = FALSE;
  } else {
    self->srcresult = GST_FLOW_FLUSHING;
    g_cond_broadcast (&self->item_add);
    g_cond_broadcast (&self->item_del);
    g_cond_broadcast (&self->query_handled);
  }
  g_mutex_unlock (&self->lock);
  if (!active) {
    /* wait for a running chain function to bail out */
    GST_PAD_STREAM_LOCK (pad);
    GST_PAD_STREAM_UNLOCK (pad);
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* source side                                                               */

static void
gst_membudget_loop (GstPad * pad)
{
  GstMembudget *self = GST_MEMBUDGET (GST_PAD_PARENT (pad));
  GstMiniObject *item;
  GstMembudgetTracker *tracker = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean discont = FALSE;
  gsize size = 0;
  guint gen;

  g_mutex_lock (&self->lock);
  for (;;) {
    if (self->srcresult != GST_FLOW_OK)
      goto out_flushing;
    item = g_queue_peek_head (&self->queue);
    if (item == NULL) {
      self->waiting_add = TRUE;
      g_cond_wait (&self->item_add, &self->lock);
      self->waiting_add = FALSE;
      continue;
    }
    if (GST_IS_BUFFER (item) && self->tracker && self->max_inflight_bytes > 0) {
      guint64 limit = self->max_inflight_bytes;
      size = gst_buffer_get_size (GST_BUFFER (item));
      g_atomic_int_set (&self->tracker->waiting, 1);
      if (inflight_locked (self) > 0 && inflight_locked (self) + size > limit) {
        GST_CAT_LOG_OBJECT (membudget_dataflow, self, "in-flight limit: %"
            G_GUINT64_FORMAT " + %" G_GSIZE_FORMAT " > %" G_GUINT64_FORMAT,
            inflight_locked (self), size, limit);
        self->waiting_add = TRUE;
        if (!g_cond_wait_until (&self->item_add, &self->lock,
                g_get_monotonic_time () + STALL_WARN_US)
            && !self->stall_warned && inflight_locked (self) > 0) {
          guint64 held = inflight_locked (self);
          self->stall_warned = TRUE;
          g_mutex_unlock (&self->lock);
          GST_ELEMENT_WARNING (self, CORE, PAD,
              ("Downstream keeps %" G_GUINT64_FORMAT " bytes alive; "
                  "max-inflight-bytes (%" G_GUINT64_FORMAT ") leaves no room "
                  "for the next buffer (%" G_GSIZE_FORMAT " bytes)", held,
                  limit, size), ("stalled for 5 s waiting for in-flight "
                  "buffers to be released; raise max-inflight-bytes above "
                  "what downstream holds plus one buffer"));
          g_mutex_lock (&self->lock);
        }
        self->waiting_add = FALSE;
        if (self->tracker)
          g_atomic_int_set (&self->tracker->waiting, 0);
        continue;
      }
      g_atomic_int_set (&self->tracker->waiting, 0);
    }
    break;
  }

  item = g_queue_pop_head (&self->queue);
  gen = self->stream_gen;
  if (GST_IS_EVENT (item) && GST_EVENT_TYPE (item) == GST_EVENT_EOS)
    self->eos_out = TRUE;
  if (GST_IS_BUFFER (item)) {
    GstBuffer *buf = GST_BUFFER (item);
    GstClockTime rt;

    size = gst_buffer_get_size (buf);
    self->level_buffers--;
    self->level_bytes -= size;
    rt = buffer_running_time (&self->src_segment, buf, FALSE);
    if (GST_CLOCK_TIME_IS_VALID (rt)) {
      self->srctime = rt;
      update_time_level (self);
    }
    if (self->tracker) {
      guint64 inflight;
      tracker = self->tracker;
      g_atomic_int_inc (&tracker->refcount);
      ATOMIC_ADD (&tracker->inflight, (gint64) size);
      inflight = inflight_locked (self);
      if (inflight > self->peak_inflight)
        self->peak_inflight = inflight;
    }
    self->processed++;
    discont = self->discont;
    self->discont = FALSE;
  } else if (GST_IS_EVENT (item)) {
    GstEvent *ev = GST_EVENT (item);
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT) {
      gst_event_copy_segment (ev, &self->src_segment);
    }
  }
  if (self->waiting_del)
    g_cond_signal (&self->item_del);
  g_mutex_unlock (&self->lock);

  if (GST_IS_BUFFER (item)) {
    GstBuffer *buf = GST_BUFFER (item);
    GstMembudgetMeta *meta;

    if (tracker) {
      buf = gst_buffer_make_writable (buf);
      meta = (GstMembudgetMeta *) gst_buffer_add_meta (buf,
          gst_membudget_meta_get_info (), NULL);
      meta->tracker = tracker;
      meta->size = size;
      /* the held charge on the budget now travels with the meta */
    } else if (self->budget) {
      /* no tracker (cannot happen while the task runs) */
      mb_budget_release (self->budget, size);
    }
    if (discont) {
      buf = gst_buffer_make_writable (buf);
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    }
    GST_CAT_LOG_OBJECT (membudget_dataflow, self, "pushing %" GST_PTR_FORMAT,
        buf);
    ret = gst_pad_push (self->srcpad, buf);
  } else if (GST_IS_EVENT (item)) {
    GstEvent *ev = GST_EVENT (item);
    gboolean is_eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;

    gst_pad_push_event (self->srcpad, ev);
    if (is_eos)
      ret = GST_FLOW_EOS;
  } else if (GST_IS_QUERY (item)) {
    GstQuery *query = GST_QUERY (item);
    gboolean res;

    g_mutex_lock (&self->lock);
    self->query_in_progress = query;
    g_mutex_unlock (&self->lock);
    res = gst_pad_peer_query (self->srcpad, query);
    g_mutex_lock (&self->lock);
    self->query_in_progress = NULL;
    self->last_query_result = res;
    self->last_handled_query = query;
    g_cond_broadcast (&self->query_handled);
    g_mutex_unlock (&self->lock);
  }

  if (ret == GST_FLOW_OK)
    return;

  g_mutex_lock (&self->lock);
  if (ret == GST_FLOW_EOS && self->stream_gen != gen) {
    /* a STREAM_START or SEGMENT queued after this EOS while it was being
     * pushed: carry on with the new stream instead of pausing */
    g_mutex_unlock (&self->lock);
    return;
  }
  self->eos_out = FALSE;
  if (self->srcresult == GST_FLOW_OK)
    self->srcresult = ret;
  /* fall through with the lock held */

out_flushing:
  ret = self->srcresult;
  if (ret == GST_FLOW_EOS)
    self->eos = TRUE;
  g_cond_broadcast (&self->item_del);
  g_cond_broadcast (&self->query_handled);
  /* paused before the lock is released: a STREAM_START or SEGMENT after EOS
   * that restarts the task (sink side, after it sees srcresult) must come
   * after this pause, or the pause would undo its restart and leave the
   * new stream's data queued forever */
  gst_pad_pause_task (pad);
  g_mutex_unlock (&self->lock);
  GST_DEBUG_OBJECT (self, "paused task: %s", gst_flow_get_name (ret));
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
}

static gboolean
gst_membudget_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstMembudget *self = GST_MEMBUDGET (parent);

  return gst_pad_push_event (self->sinkpad, event);
}

static gboolean
gst_membudget_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstMembudget *self = GST_MEMBUDGET (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max;

    if (!gst_pad_peer_query (self->sinkpad, query))
      return FALSE;
    gst_query_parse_latency (query, &live, &min, &max);
    g_mutex_lock (&self->lock);
    if (self->policy == GST_MEMBUDGET_POLICY_BLOCK
        && GST_CLOCK_TIME_IS_VALID (max)) {
      /* like queue: blocking may add up to what we hold */
      if (self->max_size_time > 0)
        max += self->max_size_time;
      else
        max = GST_CLOCK_TIME_NONE;
    }
    g_mutex_unlock (&self->lock);
    gst_query_set_latency (query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
gst_membudget_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstMembudget *self = GST_MEMBUDGET (parent);
  GSList *items = NULL;
  gboolean res;

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    g_mutex_lock (&self->lock);
    self->srcresult = GST_FLOW_OK;
    self->eos = FALSE;
    g_mutex_unlock (&self->lock);
    return gst_pad_start_task (pad, (GstTaskFunction) gst_membudget_loop, pad,
        NULL);
  }
  g_mutex_lock (&self->lock);
  self->srcresult = GST_FLOW_FLUSHING;
  g_cond_broadcast (&self->item_add);
  g_cond_broadcast (&self->item_del);
  g_cond_broadcast (&self->query_handled);
  g_mutex_unlock (&self->lock);
  res = gst_pad_stop_task (pad);
  g_mutex_lock (&self->lock);
  flush_locked (self, &items);
  g_mutex_unlock (&self->lock);
  unref_items (items);
  return res;
}

/* ------------------------------------------------------------------------ */
/* monitor thread                                                            */

typedef struct
{
  guint64 watch_interval, stats_interval, leak_window, leak_threshold;
  guint64 rss_limit;
  guint cgroup_margin;
  gboolean trim;
} MonitorConfig;

static GstStructure *
build_stats_locked (GstMembudget * self)
{
  return gst_structure_new (MB_MEMBUDGET_STATS_MESSAGE,
      MB_MEMBUDGET_FIELD_LEVEL_BYTES, G_TYPE_UINT64, self->level_bytes,
      MB_MEMBUDGET_FIELD_LEVEL_BUFFERS, G_TYPE_UINT, self->level_buffers,
      MB_MEMBUDGET_FIELD_LEVEL_TIME, G_TYPE_UINT64, self->level_time,
      MB_MEMBUDGET_FIELD_INFLIGHT_BYTES, G_TYPE_UINT64, inflight_locked (self),
      MB_MEMBUDGET_FIELD_PEAK_LEVEL_BYTES, G_TYPE_UINT64, self->peak_bytes,
      MB_MEMBUDGET_FIELD_PEAK_LEVEL_BUFFERS, G_TYPE_UINT, self->peak_buffers,
      MB_MEMBUDGET_FIELD_PEAK_INFLIGHT_BYTES, G_TYPE_UINT64,
      self->peak_inflight,
      MB_MEMBUDGET_FIELD_DROPPED_BUFFERS, G_TYPE_UINT64, self->dropped_buffers,
      MB_MEMBUDGET_FIELD_DROPPED_BYTES, G_TYPE_UINT64, self->dropped_bytes,
      MB_MEMBUDGET_FIELD_BUDGET, G_TYPE_STRING,
      self->budget_name ? self->budget_name : "",
      MB_MEMBUDGET_FIELD_BUDGET_USED, G_TYPE_UINT64,
      self->budget ? mb_budget_get_used (self->budget) : 0,
      MB_MEMBUDGET_FIELD_BUDGET_LIMIT, G_TYPE_UINT64,
      self->budget ? mb_budget_get_limit (self->budget) : 0,
      MB_MEMBUDGET_FIELD_RSS, G_TYPE_UINT64, self->rss,
      MB_MEMBUDGET_FIELD_RSS_ANON, G_TYPE_UINT64, self->rss_anon,
      MB_MEMBUDGET_FIELD_PSS, G_TYPE_UINT64, self->pss,
      MB_MEMBUDGET_FIELD_CGROUP_VERSION, G_TYPE_INT, self->cgroup_version,
      MB_MEMBUDGET_FIELD_CGROUP_USAGE, G_TYPE_UINT64, self->cgroup_usage,
      MB_MEMBUDGET_FIELD_CGROUP_WORKING_SET, G_TYPE_UINT64,
      self->cgroup_working_set,
      MB_MEMBUDGET_FIELD_CGROUP_LIMIT, G_TYPE_UINT64, self->cgroup_limit,
      MB_MEMBUDGET_FIELD_PSI_SOME_AVG10, G_TYPE_DOUBLE, self->psi_some_avg10,
      MB_MEMBUDGET_FIELD_PRESSURE, G_TYPE_BOOLEAN, self->pressure, NULL);
}

static gpointer
gst_membudget_monitor (gpointer data)
{
  GstMembudget *self = data;
  MbProcmem *pm;
  MbTrend *trend = NULL;
  MonitorConfig cfg;
  GstStructure *last_stats = NULL;
  gint64 now, next_watch, next_stats, next_rollup = 0, start;
  gboolean leak_reported = FALSE;
  gchar *proc_root, *fs_root;

  g_mutex_lock (&self->lock);
  proc_root = g_strdup (self->proc_root);
  fs_root = g_strdup (self->fs_root);
  cfg.watch_interval = self->watch_interval;
  cfg.stats_interval = self->stats_interval;
  cfg.leak_window = self->leak_window;
  g_mutex_unlock (&self->lock);

  pm = mb_procmem_new (proc_root, fs_root);
  GST_INFO_OBJECT (self, "memory cgroup: v%d at '%s'",
      pm ? (int) mb_procmem_cgroup_version (pm) : 0,
      pm ? mb_procmem_cgroup_dir (pm) : "");
  if (cfg.watch_interval > 0 && cfg.leak_window > 0)
    trend = mb_trend_new (TREND_CAPACITY, (int64_t) cfg.leak_window);
  g_free (proc_root);
  g_free (fs_root);

  start = now = g_get_monotonic_time ();
  next_watch = now;
  next_stats = now + (gint64) (cfg.stats_interval / 1000);

  g_mutex_lock (&self->mon_lock);
  while (!self->mon_stop) {
    gint64 wake = G_MAXINT64;
    gboolean do_watch, do_stats;

    if (cfg.watch_interval > 0)
      wake = MIN (wake, next_watch);
    if (cfg.stats_interval > 0)
      wake = MIN (wake, next_stats);
    if (g_get_monotonic_time () < wake) {
      g_cond_wait_until (&self->mon_cond, &self->mon_lock, wake);
      continue;
    }
    g_mutex_unlock (&self->mon_lock);

    now = g_get_monotonic_time ();
    do_watch = cfg.watch_interval > 0 && now >= next_watch;
    do_stats = cfg.stats_interval > 0 && now >= next_stats;

    g_mutex_lock (&self->lock);
    cfg.leak_threshold = self->leak_threshold;
    cfg.rss_limit = self->rss_limit;
    cfg.cgroup_margin = self->cgroup_margin;
    cfg.trim = self->trim;
    g_mutex_unlock (&self->lock);

    if (do_watch) {
      MbStatm st = { 0, 0, 0, 0 };
      MbCgroupMem cg;
      MbPsi psi;
      MbRollup ru = { 0, 0, 0 };
      gboolean have_statm = FALSE, have_cg = FALSE, have_psi = FALSE;
      gboolean have_ru = FALSE;
      gboolean was_pressure, pressure;
      guint64 cg_ws = 0, cg_limit = 0;
      double slope = 0;
      gboolean leak = FALSE;
      uint64_t anon_start = 0;

      next_watch = now + (gint64) (cfg.watch_interval / 1000);
      if (pm) {
        have_statm = mb_procmem_read_statm (pm, &st);
        have_cg = mb_procmem_read_cgroup (pm, &cg);
        have_psi = mb_procmem_read_psi (pm, &psi);
        if (now >= next_rollup) {
          have_ru = mb_procmem_read_rollup (pm, &ru);
          next_rollup = now + ROLLUP_INTERVAL / 1000;
        }
      }
      if (have_cg) {
        cg_ws = mb_cgroup_working_set (&cg);
        cg_limit = mb_cgroup_effective_limit (&cg);
      }
      if (trend && have_statm) {
        mb_trend_add (trend, (now - start) * 1000, st.rss_anon);
        leak = mb_trend_leak_suspected (trend,
            (double) cfg.leak_threshold / 3600.0, &slope);
        mb_trend_first (trend, NULL, &anon_start);
      }

      g_mutex_lock (&self->lock);
      if (have_statm) {
        self->rss = st.rss;
        self->rss_anon = st.rss_anon;
      }
      if (have_ru)
        self->pss = ru.pss;
      self->cgroup_version = pm ? (gint) mb_procmem_cgroup_version (pm) : 0;
      if (have_cg) {
        self->cgroup_usage = cg.usage;
        self->cgroup_working_set = cg_ws;
        self->cgroup_limit = cg_limit;
      }
      self->psi_some_avg10 = have_psi ? psi.some_avg10 : -1;
      was_pressure = self->pressure;
      {
        gboolean over_rss = have_statm && cfg.rss_limit > 0;
        gboolean over_cg = have_cg && cg_limit > 0 && cfg.cgroup_margin < 100;
        guint64 cg_thr = over_cg ? cg_limit / 100 * (100 - cfg.cgroup_margin)
            : 0;
        /* 5 % hysteresis before the pressure clears */
        if (was_pressure) {
          over_rss = over_rss && st.rss >= cfg.rss_limit / 100 * 95;
          over_cg = over_cg && cg_ws >= cg_thr / 100 * 95;
        } else {
          over_rss = over_rss && st.rss >= cfg.rss_limit;
          over_cg = over_cg && cg_ws >= cg_thr;
        }
        pressure = over_rss || over_cg;
      }
      self->pressure = pressure;
      if (pressure != was_pressure) {
        g_cond_broadcast (&self->item_add);
        g_cond_broadcast (&self->item_del);
      }
      g_mutex_unlock (&self->lock);

      if (pressure && !was_pressure) {
        GST_ELEMENT_WARNING (self, RESOURCE, NO_SPACE_LEFT,
            ("Memory limit reached: applying policy as if over budget"),
            ("rss %" G_GUINT64_FORMAT " (rss-limit %" G_GUINT64_FORMAT
                "), cgroup v%d working set %" G_GUINT64_FORMAT " (limit %"
                G_GUINT64_FORMAT ", margin %u %%)", have_statm ? st.rss : 0,
                cfg.rss_limit, have_cg ? (int) cg.version : 0, cg_ws,
                cg_limit, cfg.cgroup_margin));
      } else if (!pressure && was_pressure) {
        GST_INFO_OBJECT (self, "memory pressure over");
      }

      if (leak && !leak_reported) {
        GstStructure *s = gst_structure_new (MB_MEMBUDGET_LEAK_MESSAGE,
            MB_MEMBUDGET_FIELD_SLOPE, G_TYPE_DOUBLE, slope * 3600.0,
            MB_MEMBUDGET_FIELD_THRESHOLD, G_TYPE_UINT64, cfg.leak_threshold,
            MB_MEMBUDGET_FIELD_WINDOW, G_TYPE_UINT64, cfg.leak_window,
            MB_MEMBUDGET_FIELD_RSS_ANON_START, G_TYPE_UINT64,
            (guint64) anon_start,
            MB_MEMBUDGET_FIELD_RSS_ANON, G_TYPE_UINT64, (guint64) st.rss_anon,
            NULL);
        GST_WARNING_OBJECT (self, "leak suspected: anonymous RSS grows %.0f "
            "bytes/hour", slope * 3600.0);
        gst_element_post_message (GST_ELEMENT_CAST (self),
            gst_message_new_element (GST_OBJECT_CAST (self), s));
        leak_reported = TRUE;
      } else if (leak_reported && slope * 3600.0 <= cfg.leak_threshold) {
        leak_reported = FALSE;
      }

      if (cfg.trim) {
        gint64 released;
        g_mutex_lock (&self->lock);
        released = self->tracker ? ATOMIC_GET (&self->tracker->released) : 0;
        if (released >= TRIM_MIN_RELEASED)
          ATOMIC_XCHG (&self->tracker->released, 0);
        g_mutex_unlock (&self->lock);
        if (released >= TRIM_MIN_RELEASED) {
          GST_DEBUG_OBJECT (self, "malloc_trim after %" G_GINT64_FORMAT
              " bytes released", released);
          malloc_trim (0);
        }
      }
    }

    if (do_stats) {
      GstStructure *s;
      next_stats = now + (gint64) (cfg.stats_interval / 1000);
      g_mutex_lock (&self->lock);
      s = build_stats_locked (self);
      g_mutex_unlock (&self->lock);
      if (last_stats == NULL || !gst_structure_is_equal (s, last_stats)) {
        if (last_stats)
          gst_structure_free (last_stats);
        last_stats = gst_structure_copy (s);
        gst_element_post_message (GST_ELEMENT_CAST (self),
            gst_message_new_element (GST_OBJECT_CAST (self), s));
      } else {
        gst_structure_free (s);
      }
    }
    g_mutex_lock (&self->mon_lock);
  }
  g_mutex_unlock (&self->mon_lock);

  if (last_stats)
    gst_structure_free (last_stats);
  mb_trend_free (trend);
  mb_procmem_free (pm);
  return NULL;
}

static void
start_monitor (GstMembudget * self)
{
  if (self->watch_interval == 0 && self->stats_interval == 0)
    return;
  self->mon_stop = FALSE;
  self->monitor = g_thread_new ("membudget-watch", gst_membudget_monitor,
      self);
}

static void
stop_monitor (GstMembudget * self)
{
  if (self->monitor == NULL)
    return;
  g_mutex_lock (&self->mon_lock);
  self->mon_stop = TRUE;
  g_cond_signal (&self->mon_cond);
  g_mutex_unlock (&self->mon_lock);
  g_thread_join (self->monitor);
  self->monitor = NULL;
}

/* ------------------------------------------------------------------------ */

static GstStateChangeReturn
gst_membudget_change_state (GstElement * element, GstStateChange transition)
{
  GstMembudget *self = GST_MEMBUDGET (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      g_mutex_lock (&self->lock);
      self->tracker = tracker_new (self, self->budget);
      self->peak_buffers = 0;
      self->peak_bytes = 0;
      self->peak_inflight = 0;
      self->processed = 0;
      self->dropped_buffers = 0;
      self->dropped_bytes = 0;
      self->discont = FALSE;
      self->tail_discont = FALSE;
      self->pressure = FALSE;
      self->stall_warned = FALSE;
      if (self->max_size_buffers == 0 && self->max_size_bytes == 0
          && self->max_size_time == 0 && self->budget == NULL
          && self->max_inflight_bytes == 0)
        GST_WARNING_OBJECT (self, "every limit is 0: nothing is bounded");
      GST_INFO_OBJECT (self, "limits: %u buffers, %" G_GUINT64_FORMAT
          " bytes, %" GST_TIME_FORMAT ", in flight %" G_GUINT64_FORMAT
          " bytes, budget '%s' (%" G_GUINT64_FORMAT " bytes), policy %d",
          self->max_size_buffers, self->max_size_bytes,
          GST_TIME_ARGS (self->max_size_time), self->max_inflight_bytes,
          GST_STR_NULL (self->budget_name),
          self->budget ? mb_budget_get_limit (self->budget) : 0, self->policy);
      g_mutex_unlock (&self->lock);
      start_monitor (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:{
      GstMembudgetTracker *t;
      stop_monitor (self);
      g_mutex_lock (&self->lock);
      t = self->tracker;
      self->tracker = NULL;
      g_mutex_unlock (&self->lock);
      if (t) {
        tracker_detach (t);
        tracker_unref (t);
      }
      break;
    }
    default:
      break;
  }
  return ret;
}

static void
gst_membudget_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMembudget *self = GST_MEMBUDGET (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_MAX_SIZE_BUFFERS:
      self->max_size_buffers = g_value_get_uint (value);
      break;
    case PROP_MAX_SIZE_BYTES:
      self->max_size_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_SIZE_TIME:
      self->max_size_time = g_value_get_uint64 (value);
      break;
    case PROP_MAX_INFLIGHT_BYTES:
      self->max_inflight_bytes = g_value_get_uint64 (value);
      break;
    case PROP_BUDGET:
      if (self->tracker) {
        /* buffers held and in flight are charged to the current budget */
        GST_WARNING_OBJECT (self, "budget can only change in NULL or READY");
        break;
      }
      gst_membudget_set_budget (self, g_value_get_string (value));
      break;
    case PROP_BUDGET_BYTES:
      self->budget_bytes = g_value_get_uint64 (value);
      if (self->budget && self->budget_bytes > 0)
        mb_budget_set_limit (self->budget, self->budget_bytes);
      break;
    case PROP_POLICY:
      self->policy = g_value_get_enum (value);
      break;
    case PROP_WATCH_INTERVAL:
      self->watch_interval = g_value_get_uint64 (value);
      break;
    case PROP_RSS_LIMIT:
      self->rss_limit = g_value_get_uint64 (value);
      break;
    case PROP_CGROUP_MARGIN:
      self->cgroup_margin = g_value_get_uint (value);
      break;
    case PROP_TRIM:
      self->trim = g_value_get_boolean (value);
      break;
    case PROP_LEAK_WINDOW:
      self->leak_window = g_value_get_uint64 (value);
      break;
    case PROP_LEAK_THRESHOLD:
      self->leak_threshold = g_value_get_uint64 (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint64 (value);
      break;
    case PROP_POOL_BUFFERS:
      self->pool_buffers = g_value_get_uint (value);
      break;
    case PROP_PROC_ROOT:
      g_free (self->proc_root);
      self->proc_root = g_value_dup_string (value);
      if (self->proc_root == NULL)
        self->proc_root = g_strdup (DEFAULT_PROC_ROOT);
      break;
    case PROP_FS_ROOT:
      g_free (self->fs_root);
      self->fs_root = g_value_dup_string (value);
      if (self->fs_root == NULL)
        self->fs_root = g_strdup (DEFAULT_FS_ROOT);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  /* limits may have grown: wake both sides to re-check */
  g_cond_broadcast (&self->item_add);
  g_cond_broadcast (&self->item_del);
  g_mutex_unlock (&self->lock);
}

static void
gst_membudget_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstMembudget *self = GST_MEMBUDGET (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_MAX_SIZE_BUFFERS:
      g_value_set_uint (value, self->max_size_buffers);
      break;
    case PROP_MAX_SIZE_BYTES:
      g_value_set_uint64 (value, self->max_size_bytes);
      break;
    case PROP_MAX_SIZE_TIME:
      g_value_set_uint64 (value, self->max_size_time);
      break;
    case PROP_MAX_INFLIGHT_BYTES:
      g_value_set_uint64 (value, self->max_inflight_bytes);
      break;
    case PROP_BUDGET:
      g_value_set_string (value, self->budget_name);
      break;
    case PROP_BUDGET_BYTES:
      g_value_set_uint64 (value, self->budget_bytes);
      break;
    case PROP_POLICY:
      g_value_set_enum (value, self->policy);
      break;
    case PROP_WATCH_INTERVAL:
      g_value_set_uint64 (value, self->watch_interval);
      break;
    case PROP_RSS_LIMIT:
      g_value_set_uint64 (value, self->rss_limit);
      break;
    case PROP_CGROUP_MARGIN:
      g_value_set_uint (value, self->cgroup_margin);
      break;
    case PROP_TRIM:
      g_value_set_boolean (value, self->trim);
      break;
    case PROP_LEAK_WINDOW:
      g_value_set_uint64 (value, self->leak_window);
      break;
    case PROP_LEAK_THRESHOLD:
      g_value_set_uint64 (value, self->leak_threshold);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint64 (value, self->stats_interval);
      break;
    case PROP_POOL_BUFFERS:
      g_value_set_uint (value, self->pool_buffers);
      break;
    case PROP_PROC_ROOT:
      g_value_set_string (value, self->proc_root);
      break;
    case PROP_FS_ROOT:
      g_value_set_string (value, self->fs_root);
      break;
    case PROP_CURRENT_LEVEL_BUFFERS:
      g_value_set_uint (value, self->level_buffers);
      break;
    case PROP_CURRENT_LEVEL_BYTES:
      g_value_set_uint64 (value, self->level_bytes);
      break;
    case PROP_CURRENT_LEVEL_TIME:
      g_value_set_uint64 (value, self->level_time);
      break;
    case PROP_CURRENT_INFLIGHT_BYTES:
      g_value_set_uint64 (value, inflight_locked (self));
      break;
    case PROP_PEAK_LEVEL_BUFFERS:
      g_value_set_uint (value, self->peak_buffers);
      break;
    case PROP_PEAK_LEVEL_BYTES:
      g_value_set_uint64 (value, self->peak_bytes);
      break;
    case PROP_PEAK_INFLIGHT_BYTES:
      g_value_set_uint64 (value, self->peak_inflight);
      break;
    case PROP_DROPPED_BUFFERS:
      g_value_set_uint64 (value, self->dropped_buffers);
      break;
    case PROP_DROPPED_BYTES:
      g_value_set_uint64 (value, self->dropped_bytes);
      break;
    case PROP_BUDGET_USED:
      g_value_set_uint64 (value,
          self->budget ? mb_budget_get_used (self->budget) : 0);
      break;
    case PROP_RSS:
      g_value_set_uint64 (value, self->rss);
      break;
    case PROP_RSS_ANON:
      g_value_set_uint64 (value, self->rss_anon);
      break;
    case PROP_CGROUP_VERSION:
      g_value_set_int (value, self->cgroup_version);
      break;
    case PROP_CGROUP_USAGE:
      g_value_set_uint64 (value, self->cgroup_usage);
      break;
    case PROP_CGROUP_LIMIT:
      g_value_set_uint64 (value, self->cgroup_limit);
      break;
    case PROP_PRESSURE:
      g_value_set_boolean (value, self->pressure);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}
