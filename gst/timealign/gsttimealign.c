/* membound: timealign
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-timealign
 * @title: timealign
 *
 * Aligns any number of streams to a reference stream or to a fixed rate.
 * Every `sink_N` request pad has a matching `src_N` output carrying that
 * input's caps, so ordinary elements can follow each branch.
 *
 * Ticks come from the reference input (one tick per reference buffer; the
 * `reference` property names a pad such as `sink_1`, or a ROS topic matched
 * against the `ros-topic` stream tag; empty = the first pad), or, when `rate`
 * is set, from a fixed rate starting at the first time every input has data.
 * At each tick every other input contributes one buffer chosen by its pad's
 * `mode`:
 *
 * * `nearest`: the buffer closest to the tick within `tolerance`;
 * * `previous`: the newest buffer not after the tick, within `tolerance`;
 * * `linear`: a buffer interpolated between the two neighbours (float32 and
 *   float64 fields of `application/x-ros1-message`, S16LE/F32LE raw audio
 *   samples of equal-size buffers); other data falls back to nearest.
 *
 * When an input has nothing within tolerance, its pad's `policy` decides:
 * `drop` drops the tick on every output (and posts a QoS message, format
 * buffers, processed = ticks out, dropped = ticks dropped), `hold` repeats
 * the last buffer sent on that output, `gap` sends a GAP event on that
 * output only.
 *
 * Output buffers of tick i all have the same PTS (the tick's running time);
 * their `timestamp/x-unix` reference meta holds the tick's absolute time and
 * a `timestamp/x-membound-source` reference meta the capture time of the
 * buffer that was chosen (for linear: of the nearer neighbour). A buffer
 * sent again for a later tick has flag `MB_BUFFER_FLAG_REPEATED` (1 << 20).
 *
 * The element never blocks one input while waiting for another, so it works
 * when one streaming thread feeds every input (rosbagsrc): each input keeps
 * a window of buffers, bounded by `max-window`, and a tick is decided as
 * soon as the time order allows. When a window is full, the chain waits (at
 * most `latency`) if the inputs the oldest tick needs are fed by other
 * threads; if one of them
 * is fed by the same thread, it forces that tick with the data at hand, or,
 * with no tick pending, drops the window's oldest buffer (counted in the
 * pad's `overflow`). See docs/timealign.md. In a live pipeline a tick
 * is decided at the latest `latency` after its running time (plus upstream
 * latency). Decided ticks are pushed in order by the element's own output
 * thread (a GstTask; queue of at most 32 ticks and 16 MiB, inputs wait
 * while it is full; batches, so a tick may leave up to 1 ms after it was
 * decided), so an input's streaming thread never blocks in another input's
 * branch. Like a demuxer's outputs, branches that end in sinks which
 * preroll need a `queue` each.
 *
 * Right before it sends EOS on every output, the element posts an element message
 * `timealign-stats` (fields in include/membound/timealign.h): `ticks-out`,
 * `ticks-dropped` (guint64) and `inputs`, an array of `timealign-input`
 * structures with `pad`, `topic`, `buffers-out`, `repeated`, `interpolated`,
 * `missed`, `gaps`, `overflow`, `max-error` and `mean-error` (ns).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 timealign name=a \
 *   audiotestsrc num-buffers=100 samplesperbuffer=480 ! audio/x-raw,rate=48000 ! a.sink_0 \
 *   videotestsrc num-buffers=100 ! video/x-raw,framerate=30/1 ! a.sink_1 \
 *   a.src_0 ! queue ! fakesink  a.src_1 ! queue ! fakesink
 * ]| Each 10 ms audio buffer (sink_0, the reference) gets the nearest video
 * frame within the default 20 ms tolerance; a frame is sent again (flagged
 * repeated) for the ticks it is nearest to.
 * |[
 * gst-launch-1.0 -e rosbagsrc location=run.bag name=b timealign name=a \
 *   reference=/camera/image_raw sink_1::policy=hold \
 *   b.src_0 ! a.sink_0  b.src_1 ! a.sink_1 \
 *   a.src_0 ! queue ! fakesink  a.src_1 ! queue ! fakesink
 * ]| Aligns a joint-state topic to the camera frames of a bag.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "gsttimealign.h"
#include "interp.h"
#include "common/mbcommon.h"
#include <membound/membound.h>
#include <membound/timealign.h>

GST_DEBUG_CATEGORY_STATIC (gst_time_align_debug);
#define GST_CAT_DEFAULT gst_time_align_debug

#define DEFAULT_REFERENCE ""
#define DEFAULT_RATE_N 0
#define DEFAULT_RATE_D 1
#define DEFAULT_TOLERANCE (20 * GST_MSECOND)
#define DEFAULT_LATENCY (100 * GST_MSECOND)
#define DEFAULT_MAX_WINDOW MB_ALIGN_DEFAULT_MAX_WINDOW

#define DEFAULT_PAD_MODE MB_ALIGN_MODE_NEAREST
#define DEFAULT_PAD_POLICY MB_ALIGN_POLICY_DROP
#define DEFAULT_PAD_TOLERANCE (-1)

enum
{
  PROP_0,
  PROP_REFERENCE,
  PROP_RATE,
  PROP_TOLERANCE,
  PROP_LATENCY,
  PROP_MAX_WINDOW,
  PROP_TICKS_OUT,
  PROP_TICKS_DROPPED,
};

enum
{
  PROP_PAD_0,
  PROP_PAD_MODE,
  PROP_PAD_POLICY,
  PROP_PAD_TOLERANCE,
  PROP_PAD_BUFFERS_OUT,
  PROP_PAD_REPEATED,
  PROP_PAD_MISSED,
  PROP_PAD_OVERFLOW,
  PROP_PAD_MAX_ERROR,
  PROP_PAD_MEAN_ERROR,
};

typedef enum
{
  INTERP_NONE,
  INTERP_S16,
  INTERP_F32,
  INTERP_ROS
} InterpKind;

struct _GstTimeAlignPad
{
  GstPad parent;

  /* properties (element lock) */
  MbAlignMode mode;
  MbAlignPolicy policy;
  gint64 tolerance;

  /* runtime (element lock) */
  gint id;
  GstPad *srcpad;
  GstSegment segment;
  guint32 segment_seqnum;
  gboolean flushing;
  gchar *topic;
  InterpKind interp;
  MbRosSchema *schema;
  gboolean warned_interp;
  /* output side of the pair, under push_mutex (held by the output task
   * around a push on this output; never held by anything that waits for
   * this element) */
  GMutex push_mutex;
  gboolean need_segment;        /* send a segment before the next output */
  gint out_flushing;            /* atomic: flush-start sent on the output */
  guint epoch;                  /* +1 per flush-stop (push_mutex + lock) */
  GThread *thread;              /* thread that fed this input last (or presumed) */
  gboolean waiting;             /* its chain waits for room in the window */
};

/* One decided tick waiting to be pushed (below). */
typedef struct _OutTick OutTick;

/* A FIFO of ticks linked through OutTick.next: no allocation per tick, and
 * a whole queue moves to a batch at once. */
typedef struct
{
  OutTick *head, *tail;
  guint length;
} TickList;

struct _GstTimeAlign
{
  GstElement parent;

  GMutex lock;                  /* core, pads' runtime state, properties,
                                 * the output queue */
  GCond window_cond;            /* a window may have room / inputs moved */
  guint n_waiting;
  MbAlign *core;
  GPtrArray *pads;              /* GstTimeAlignPad * by id, NULL = free */
  GstFlowCombiner *flow;        /* outputs' flows (output task, lock) */
  GstFlowReturn srcresult;      /* combined flow of the last tick pushed */

  /* Output queue: ticks are decided under `lock` by whichever thread can
   * (an input's chain or EOS, the deadline thread, pad release, the output
   * task) and queued in order; only the output task pushes them, so no
   * input or application thread ever blocks in another pair's downstream.
   * Bounded: a decider waits for room (re-checking flushing) or leaves the
   * work to the task. */
  GstTask *task;
  GRecMutex task_lock;
  gboolean task_running;        /* between READY->PAUSED and PAUSED->READY */
  TickList out_queue;           /* oldest first */
  gsize queued_bytes;           /* payload of the buffers in out_queue */
  TickList spare_ticks;         /* cleared, for reuse */
  TickList pushed;              /* pushed, results not counted yet
                                 * (output task only) */
  GCond item_cond;              /* the task waits for a tick */
  gboolean task_waiting;         /* idle: wake it for any tick */
  gboolean task_gathering;      /* has ticks, waits a little for more */
  gboolean kick_task;           /* wake it (after unlocking when possible) */
  GCond space_cond;             /* deciders wait for room in the queue */
  guint n_space_waiting;
  GCond pushed_cond;            /* drain queries wait for earlier ticks */
  guint n_pushed_waiting;
  guint64 seq_queued, seq_pushed;       /* ticks queued / done by the task */
  gboolean need_process;        /* ticks may be decidable, the queue was full */
  gboolean task_pushing;        /* the task pushes a batch (until counted) */
  gboolean direct_pushing;      /* an input's thread pushes a batch itself */

  /* properties */
  gchar *reference;
  gint rate_n, rate_d;
  GstClockTime tolerance;
  GstClockTime latency;
  guint max_window;

  /* time metas (lock): our caps objects, and another producer's unix-time
   * caps object once recognised (a reference is kept, so that the pointer
   * cannot come back as other caps) */
  GstCaps *unix_caps, *source_caps, *foreign_unix_caps;

  /* running state */
  gboolean have_unix_offset;
  gint64 unix_offset;           /* unix ns - running time */
  gboolean eos_sent;            /* the EOS tick is decided */
  guint32 seek_seqnum;          /* last seek sent to the inputs */
  gboolean seek_ok;             /* ... and its result */
  gboolean ref_warned;

  /* live */
  gboolean live;
  GstClockTime upstream_latency;
  gboolean playing;
  GThread *timer;
  GCond timer_cond;
  gboolean timer_stop;
  GstClockID timer_id;
};

/* Most ticks waiting for the output task. Each holds one buffer or event
 * per output (references to buffers the windows hold anyway, or shallow
 * copies), so this and a byte limit bound the element's memory beyond the
 * windows (the task holds at most as much again while it pushes them). */
#define MAX_QUEUED_TICKS 32
#define MAX_QUEUED_BYTES (16 << 20)
/* A thread handoff per tick costs more than the tick itself (~20 us of CPU
 * on a loaded 2-vCPU VM), so the task, woken for a first tick, waits up to
 * GATHER_US for BATCH_TICKS of them before it pushes what it has, unless
 * something waits for it (a full queue, a drain query, EOS). */
#define BATCH_TICKS 16
#define GATHER_US 1000

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src_%u",
    GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);

G_DEFINE_TYPE (GstTimeAlignPad, gst_time_align_pad, GST_TYPE_PAD);

static void gst_time_align_child_proxy_init (gpointer g_iface,
    gpointer iface_data);

#define gst_time_align_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTimeAlign, gst_time_align, GST_TYPE_ELEMENT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_time_align_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (timealign, "timealign", GST_RANK_NONE,
    GST_TYPE_TIME_ALIGN);

GType
gst_time_align_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {MB_ALIGN_MODE_NEAREST, "Closest buffer within tolerance", "nearest"},
    {MB_ALIGN_MODE_PREVIOUS,
        "Newest buffer not after the tick, within tolerance (zero-order hold)",
        "previous"},
    {MB_ALIGN_MODE_LINEAR,
          "Interpolate float fields / audio samples between the two neighbours",
        "linear"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstTimeAlignMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_time_align_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {MB_ALIGN_POLICY_DROP, "Drop the tick on every output", "drop"},
    {MB_ALIGN_POLICY_HOLD, "Repeat the last buffer sent on this output",
        "hold"},
    {MB_ALIGN_POLICY_GAP, "Send a GAP event on this output only", "gap"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstTimeAlignPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------
 * core glue
 * ------------------------------------------------------------------------ */

static void *
core_ref (void *data, void *user)
{
  return gst_buffer_ref (GST_BUFFER_CAST (data));
}

static void
core_unref (void *data, void *user)
{
  gst_buffer_unref (GST_BUFFER_CAST (data));
}

static GQuark pair_quark_value;
#define pair_quark() pair_quark_value

static GstTimeAlignPad *
pad_by_id (GstTimeAlign * self, gint id)
{
  if (id < 0 || (guint) id >= self->pads->len)
    return NULL;
  return g_ptr_array_index (self->pads, id);
}

/* with self->lock */
static void
apply_pad_params (GstTimeAlign * self, GstTimeAlignPad * tp)
{
  gint64 tol = tp->tolerance >= 0 ? tp->tolerance : (gint64) self->tolerance;
  mb_align_set_input_mode (self->core, tp->id, tp->mode, tp->policy, tol);
}

static gboolean
topic_matches (const gchar * want, const gchar * topic)
{
  if (topic == NULL)
    return FALSE;
  while (*want == '/')
    want++;
  while (*topic == '/')
    topic++;
  return g_strcmp0 (want, topic) == 0;
}

/* with self->lock: maps the `reference` property onto an input id */
static void
resolve_reference (GstTimeAlign * self)
{
  gint ref = -2;                /* -2: unresolved */
  guint i;

  if (self->rate_n > 0) {
    mb_align_set_reference (self->core, -1);
    mb_align_set_rate (self->core, self->rate_n, self->rate_d);
    return;
  }
  mb_align_set_rate (self->core, 0, 1);
  if (self->reference == NULL || self->reference[0] == '\0') {
    for (i = 0; i < self->pads->len; i++)
      if (g_ptr_array_index (self->pads, i)) {
        ref = (gint) i;
        break;
      }
  } else {
    for (i = 0; i < self->pads->len; i++) {
      GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
      if (tp && (g_strcmp0 (GST_PAD_NAME (tp), self->reference) == 0 ||
              topic_matches (self->reference, tp->topic))) {
        ref = (gint) i;
        break;
      }
    }
  }
  if (ref != mb_align_get_reference (self->core))
    GST_DEBUG_OBJECT (self, "reference input: %d", ref);
  mb_align_set_reference (self->core, ref);
}

/* One output of a tick, built under the lock, pushed outside it. */
typedef struct
{
  GstPad *srcpad;               /* ref; its sink pad lives as long (qdata) */
  GstBuffer *buffer;
  GstEvent *event;
  GstFlowReturn flow;
  guint epoch;                  /* of its pad when decided: stale after a flush */
  /* srcpad == NULL: a dropped tick, reported with a QoS message */
  GstClockTime dropped_ts;
  guint64 processed, dropped;
} OutItem;

static void
out_item_clear (OutItem * o)
{
  gst_clear_object (&o->srcpad);
  gst_clear_buffer (&o->buffer);
  gst_clear_event (&o->event);
}

/* One decided tick (or the end of the stream) waiting to be pushed. */
struct _OutTick
{
  GArray *items;                /* OutItem, one per output (or a dropped tick) */
  guint64 seq;
  gsize bytes;                  /* payload of its buffers */
  gboolean eos;                 /* items are EOS events: post the stats first */
  gboolean warn_ref;            /* ... and warn that no input is the reference */
  OutTick *next;                /* in its TickList */
};

static void
tick_list_push (TickList * l, OutTick * t)
{
  t->next = NULL;
  if (l->tail)
    l->tail->next = t;
  else
    l->head = t;
  l->tail = t;
  l->length++;
}

static OutTick *
tick_list_pop (TickList * l)
{
  OutTick *t = l->head;

  if (t == NULL)
    return NULL;
  l->head = t->next;
  if (l->head == NULL)
    l->tail = NULL;
  l->length--;
  t->next = NULL;
  return t;
}

/* appends every tick of @from to @to, and empties @from */
static void
tick_list_move (TickList * from, TickList * to)
{
  if (from->head == NULL)
    return;
  if (to->tail)
    to->tail->next = from->head;
  else
    to->head = from->head;
  to->tail = from->tail;
  to->length += from->length;
  from->head = from->tail = NULL;
  from->length = 0;
}

/* Spare ticks kept for reuse: a tick and its item array are allocated
 * once, not once per tick. */
#define MAX_SPARE_TICKS 64

/* with self->lock */
static OutTick *
out_tick_new (GstTimeAlign * self)
{
  OutTick *t = tick_list_pop (&self->spare_ticks);

  if (t)
    return t;
  t = g_new0 (OutTick, 1);
  t->items = g_array_sized_new (FALSE, TRUE, sizeof (OutItem), 4);
  g_array_set_clear_func (t->items, (GDestroyNotify) out_item_clear);
  return t;
}

static void
out_tick_destroy (OutTick * t)
{
  g_array_free (t->items, TRUE);
  g_free (t);
}

/* with self->lock: clears @t and keeps it for reuse */
static void
out_tick_free (GstTimeAlign * self, OutTick * t)
{
  if (self->spare_ticks.length >= MAX_SPARE_TICKS) {
    out_tick_destroy (t);
    return;
  }
  g_array_set_size (t->items, 0);
  t->seq = 0;
  t->bytes = 0;
  t->eos = t->warn_ref = FALSE;
  tick_list_push (&self->spare_ticks, t);
}

/* Our metas share the static caps pointer: compare pointers first. Metas
 * that other code (another plugin, an application) created carry their own
 * caps object: those are told apart by the structure name, and a
 * field-less structure of the same name is the same caps, without a full
 * (costly) caps comparison per buffer. */
static gboolean
is_caps (GstCaps * have, GstCaps * want)
{
  const GstStructure *hs, *ws;

  if (have == want)
    return TRUE;
  if (gst_caps_get_size (have) != 1 || gst_caps_get_size (want) != 1)
    return gst_caps_is_equal (have, want);
  hs = gst_caps_get_structure (have, 0);
  ws = gst_caps_get_structure (want, 0);
  if (gst_structure_get_name_id (hs) != gst_structure_get_name_id (ws))
    return FALSE;
  if (gst_structure_n_fields (hs) == 0 && gst_structure_n_fields (ws) == 0)
    return gst_caps_features_is_equal (gst_caps_get_features (have, 0),
        gst_caps_get_features (want, 0));
  return gst_caps_is_equal (have, want);
}

/* with self->lock: does @have say `timestamp/x-unix`? Pointer compares in
 * the common case, one caps comparison per foreign caps object. */
static gboolean
is_unix_caps (GstTimeAlign * self, GstCaps * have)
{
  if (have == self->unix_caps || have == self->foreign_unix_caps)
    return TRUE;
  if (have == self->source_caps || !is_caps (have, self->unix_caps))
    return FALSE;
  gst_caps_replace (&self->foreign_unix_caps, have);
  return TRUE;
}

/* with self->lock: sets the tick time and the source time on a writable
 * buffer, reusing the time metas it carries (no allocation in the common
 * case). */
static void
set_time_metas (GstTimeAlign * self, GstBuffer * buf, guint64 tick_unix,
    guint64 src_unix)
{
  gpointer state = NULL;
  GstMeta *m;
  gboolean have_tick = FALSE, have_src = FALSE;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_REFERENCE_TIMESTAMP_META_API_TYPE))) {
    GstReferenceTimestampMeta *rm = (GstReferenceTimestampMeta *) m;
    if (!have_tick && is_unix_caps (self, rm->reference)) {
      rm->timestamp = tick_unix;
      rm->duration = GST_CLOCK_TIME_NONE;
      have_tick = TRUE;
    } else if (!have_src && (rm->reference == self->source_caps ||
            is_caps (rm->reference, self->source_caps))) {
      rm->timestamp = src_unix;
      rm->duration = GST_CLOCK_TIME_NONE;
      have_src = TRUE;
    }
  }
  if (!have_tick)
    gst_buffer_add_reference_timestamp_meta (buf, self->unix_caps, tick_unix,
        GST_CLOCK_TIME_NONE);
  if (!have_src)
    gst_buffer_add_reference_timestamp_meta (buf, self->source_caps,
        src_unix, GST_CLOCK_TIME_NONE);
}

/* with self->lock */
static gboolean
get_unix_time (GstTimeAlign * self, GstBuffer * buf, guint64 * ns)
{
  gpointer state = NULL;
  GstMeta *m;

  while ((m = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_REFERENCE_TIMESTAMP_META_API_TYPE))) {
    GstReferenceTimestampMeta *rm = (GstReferenceTimestampMeta *) m;
    if (GST_CLOCK_TIME_IS_VALID (rm->timestamp) &&
        is_unix_caps (self, rm->reference)) {
      *ns = rm->timestamp;
      return TRUE;
    }
  }
  return FALSE;
}

/* with self->lock */
static guint64
source_time (GstTimeAlign * self, GstBuffer * buf, gint64 rt)
{
  guint64 unix_ns;

  if (get_unix_time (self, buf, &unix_ns))
    return unix_ns;
  return (guint64) (rt + self->unix_offset);
}

/* with self->lock: linear interpolation into a new buffer, NULL = fall back */
static GstBuffer *
interpolate (GstTimeAlign * self, GstTimeAlignPad * tp, GstBuffer * a,
    GstBuffer * b, double frac)
{
  GstBuffer *near = frac < 0.5 ? a : b, *out = NULL;
  GstMapInfo ma, mb, mo;
  int r = -1;

  if (tp->interp == INTERP_NONE)
    return NULL;
  if (!gst_buffer_map (a, &ma, GST_MAP_READ))
    return NULL;
  if (!gst_buffer_map (b, &mb, GST_MAP_READ)) {
    gst_buffer_unmap (a, &ma);
    return NULL;
  }
  out = gst_buffer_new_allocate (NULL, near == a ? ma.size : mb.size, NULL);
  if (out && gst_buffer_map (out, &mo, GST_MAP_WRITE)) {
    if (tp->interp == INTERP_ROS) {
      memcpy (mo.data, near == a ? ma.data : mb.data, mo.size);
      r = mb_interp_ros (tp->schema, ma.data, ma.size, mb.data, mb.size, frac,
          mo.data, mo.size);
    } else {
      r = mb_interp_audio (tp->interp == INTERP_S16 ? MB_INTERP_S16LE :
          MB_INTERP_F32LE, ma.data, ma.size, mb.data, mb.size, frac, mo.data);
    }
    gst_buffer_unmap (out, &mo);
  }
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  if (r < 0) {
    GST_LOG_OBJECT (tp, "cannot interpolate, using the nearer buffer");
    gst_clear_buffer (&out);
    return NULL;
  }
  gst_buffer_copy_into (out, near, GST_BUFFER_COPY_FLAGS |
      GST_BUFFER_COPY_TIMESTAMPS | GST_BUFFER_COPY_META, 0, -1);
  return out;
}

/* with self->lock: turns a decided tick into output items */
static void
tick_to_outputs (GstTimeAlign * self, MbAlignTick * tick, GArray * outs)
{
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  guint64 tick_unix;
  gint ref = mb_align_get_reference (self->core);
  gboolean ref_unix = FALSE;
  guint64 unix_ns;
  gsize i;

  if (tick->dropped) {
    OutItem o = { NULL, NULL, NULL, GST_FLOW_OK, 0, tick->ts,
      mb_align_ticks_out (self->core), mb_align_ticks_dropped (self->core)
    };
    GST_LOG_OBJECT (self, "tick %" GST_TIME_FORMAT " dropped",
        GST_TIME_ARGS (tick->ts));
    g_array_append_val (outs, o);
    return;
  }
  if (!self->have_unix_offset) {
    /* no input carries an absolute time: anchor the ticks to the wall
     * clock at the first tick */
    self->unix_offset = g_get_real_time () * 1000 - tick->ts;
    self->have_unix_offset = TRUE;
  }
  if (ref >= 0 && (gsize) ref < tick->n_slots && tick->slots[ref].data &&
      get_unix_time (self, tick->slots[ref].data, &unix_ns)) {
    tick_unix = unix_ns;
    ref_unix = TRUE;
  } else
    tick_unix = (guint64) (tick->ts + self->unix_offset);
  if (self->rate_n > 0)
    duration = gst_util_uint64_scale_int (GST_SECOND, self->rate_d,
        self->rate_n);

  for (i = 0; i < tick->n_slots; i++) {
    MbAlignSlot *s = &tick->slots[i];
    GstTimeAlignPad *tp = pad_by_id (self, (gint) i);
    OutItem o = { NULL, NULL, NULL, GST_FLOW_OK, 0, 0, 0, 0 };
    GstBuffer *src = NULL, *out = NULL;
    gint64 src_rt = s->ts;
    guint64 src_unix = 0;

    if (tp == NULL || s->kind == MB_ALIGN_SLOT_NONE)
      continue;
    if (s->kind == MB_ALIGN_SLOT_GAP) {
      if (!gst_pad_has_current_caps (tp->srcpad))
        continue;               /* nothing ever flowed: no caps to go with */
      o.event = gst_event_new_gap (tick->ts, duration);
    } else if (s->kind == MB_ALIGN_SLOT_INTERP) {
      gboolean a_near = s->frac < 0.5;
      src = a_near ? s->data : s->data2;
      src_rt = a_near ? s->ts : s->ts2;
      out = interpolate (self, tp, s->data, s->data2, s->frac);
      if (out == NULL) {
        if (!tp->warned_interp) {
          GST_INFO_OBJECT (tp, "linear mode on data that cannot be "
              "interpolated: using the nearer neighbour");
          tp->warned_interp = TRUE;
        }
        out = gst_buffer_copy (src);
      }
    } else {
      /* zero-copy when nothing else holds the buffer (the reference's, or
       * an input's buffer the windows no longer need); else a shallow copy
       * sharing the memory */
      src = s->data;
      /* the reference's capture time is the tick's */
      src_unix = (gint) i == ref && ref_unix ? tick_unix :
          source_time (self, src, src_rt);
      s->data = NULL;
      out = gst_buffer_make_writable (src);
      src = NULL;
    }
    if (out) {
      if (src)
        src_unix = source_time (self, src, src_rt);
      GST_BUFFER_PTS (out) = tick->ts;
      GST_BUFFER_DTS (out) = GST_CLOCK_TIME_NONE;
      GST_BUFFER_DURATION (out) = duration;
      set_time_metas (self, out, tick_unix, src_unix);
      if (s->repeated)
        GST_BUFFER_FLAG_SET (out, MB_BUFFER_FLAG_REPEATED);
      else
        GST_BUFFER_FLAG_UNSET (out, MB_BUFFER_FLAG_REPEATED);
      o.buffer = out;
    }
    o.srcpad = gst_object_ref (tp->srcpad);
    o.epoch = tp->epoch;
    g_array_append_val (outs, o);
  }
  mb_align_tick_clear (self->core, tick);
}

static GstStructure *
stats_structure (GstTimeAlign * self)
{
  GstStructure *s;
  GValue arr = G_VALUE_INIT;
  guint i;

  g_value_init (&arr, GST_TYPE_ARRAY);
  g_mutex_lock (&self->lock);
  s = gst_structure_new (MB_TIMEALIGN_STATS_MESSAGE,
      MB_TIMEALIGN_FIELD_TICKS_OUT, G_TYPE_UINT64,
      mb_align_ticks_out (self->core), MB_TIMEALIGN_FIELD_TICKS_DROPPED,
      G_TYPE_UINT64, mb_align_ticks_dropped (self->core), NULL);
  for (i = 0; i < self->pads->len; i++) {
    GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
    MbAlignInputStats st;
    GValue v = G_VALUE_INIT;

    if (tp == NULL)
      continue;
    mb_align_get_input_stats (self->core, tp->id, &st);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new (MB_TIMEALIGN_INPUT_STATS,
            "pad", G_TYPE_STRING, GST_PAD_NAME (tp),
            "topic", G_TYPE_STRING, tp->topic ? tp->topic : "",
            "buffers-out", G_TYPE_UINT64, st.out,
            "repeated", G_TYPE_UINT64, st.repeated,
            "interpolated", G_TYPE_UINT64, st.interpolated,
            "missed", G_TYPE_UINT64, st.missed,
            "gaps", G_TYPE_UINT64, st.gaps,
            "overflow", G_TYPE_UINT64, st.overflow,
            "max-error", G_TYPE_UINT64, (guint64) st.max_err,
            "mean-error", G_TYPE_UINT64,
            (guint64) (st.n_err ? st.sum_err / st.n_err : 0), NULL));
    gst_value_array_append_and_take_value (&arr, &v);
  }
  g_mutex_unlock (&self->lock);
  gst_structure_take_value (s, MB_TIMEALIGN_FIELD_INPUTS, &arr);
  return s;
}

/* with self->lock: wakes every wait that re-checks state */
static void
wake_waiters (GstTimeAlign * self)
{
  if (self->live)
    g_cond_signal (&self->timer_cond);
  if (self->n_waiting)
    g_cond_broadcast (&self->window_cond);
  if (self->n_space_waiting)
    g_cond_broadcast (&self->space_cond);
  if (self->n_pushed_waiting)
    g_cond_broadcast (&self->pushed_cond);
  /* not a gathering task unless asked to: it has a deadline, and the
   * chains call this */
  if (self->kick_task || self->task_waiting || (self->task_gathering &&
          !self->task_running))
    g_cond_signal (&self->item_cond);
  self->kick_task = FALSE;
}

/* with self->lock: unlocks, then wakes the task if a tick asked for it (a
 * woken task would wait for the lock otherwise) */
static void
unlock_and_kick (GstTimeAlign * self)
{
  gboolean kick = self->kick_task;

  self->kick_task = FALSE;
  g_mutex_unlock (&self->lock);
  if (kick)
    g_cond_signal (&self->item_cond);
}

/* Who decides ticks: an input (waits for room in the output queue while
 * its pad is not flushing), the deadline thread (waits while it is not
 * stopped), or a thread that must never wait (pad release, the output task
 * itself): that one leaves the rest to the output task when the queue is
 * full. */
typedef enum
{
  DECIDER_INPUT,
  DECIDER_TIMER,
  DECIDER_NO_WAIT
} Decider;

/* with self->lock */
static gboolean
decider_stopped (GstTimeAlign * self, Decider who, GstTimeAlignPad * tp)
{
  if (!self->task_running)
    return TRUE;
  if (who == DECIDER_INPUT)
    return tp->flushing;
  return self->timer_stop || !self->playing;
}

/* with self->lock */
static gboolean
queue_has_room (GstTimeAlign * self)
{
  return self->out_queue.length < MAX_QUEUED_TICKS &&
      self->queued_bytes < MAX_QUEUED_BYTES;
}

/* with self->lock: TRUE when the output queue has room for one more tick;
 * FALSE when it is full and @who cannot wait or stopped meanwhile (a full
 * queue then leaves need_process set: the task decides what is left). */
static gboolean
wait_queue_room (GstTimeAlign * self, Decider who, GstTimeAlignPad * tp)
{
  while (!queue_has_room (self)) {
    if (who == DECIDER_NO_WAIT || decider_stopped (self, who, tp)) {
      self->need_process = TRUE;
      return FALSE;
    }
    if (self->task_gathering || self->kick_task)
      g_cond_signal (&self->item_cond);
    self->kick_task = FALSE;
    self->n_space_waiting++;
    g_cond_wait (&self->space_cond, &self->lock);
    self->n_space_waiting--;
  }
  return !(who != DECIDER_NO_WAIT && decider_stopped (self, who, tp));
}

/* with self->lock */
static void
queue_tick (GstTimeAlign * self, OutTick * t)
{
  guint i;

  for (i = 0; i < t->items->len; i++) {
    OutItem *o = &g_array_index (t->items, OutItem, i);
    if (o->buffer)
      t->bytes += gst_buffer_get_size (o->buffer);
  }
  self->queued_bytes += t->bytes;
  t->seq = ++self->seq_queued;
  tick_list_push (&self->out_queue, t);
  if (self->task_waiting || (self->task_gathering && (t->eos ||
              self->out_queue.length >= BATCH_TICKS ||
              self->queued_bytes >= MAX_QUEUED_BYTES / 2)))
    self->kick_task = TRUE;
}

/* with self->lock: the EOS tick, once the core is done */
static void
queue_eos (GstTimeAlign * self)
{
  OutTick *t = out_tick_new (self);
  guint i;

  self->eos_sent = TRUE;
  t->eos = TRUE;
  if (mb_align_get_reference (self->core) == -2 && self->reference &&
      self->reference[0] && !self->ref_warned) {
    self->ref_warned = TRUE;
    t->warn_ref = TRUE;
  }
  for (i = 0; i < self->pads->len; i++) {
    GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
    OutItem o = { NULL, NULL, NULL, GST_FLOW_OK, 0, 0, 0, 0 };

    if (tp == NULL || tp->srcpad == NULL)
      continue;
    o.srcpad = gst_object_ref (tp->srcpad);
    o.event = gst_event_new_eos ();
    o.epoch = tp->epoch;
    g_array_append_val (t->items, o);
  }
  queue_tick (self, t);
}

/* with self->lock: decides every tick the time order allows and queues it
 * for the output task; with a valid @now_rt first forces the pending ticks
 * whose live deadline passed. FALSE when @who stopped (or, for an input,
 * its pad flushes) before the work was done. */
static gboolean
decide (GstTimeAlign * self, Decider who, GstTimeAlignPad * tp,
    GstClockTime now_rt)
{
  MbAlignTick tick;
  gint64 ts;
  int r;

  if (who == DECIDER_NO_WAIT)
    self->need_process = FALSE;
  for (;;) {
    gboolean force = FALSE;

    if (!wait_queue_room (self, who, tp))
      return who == DECIDER_NO_WAIT;
    if (GST_CLOCK_TIME_IS_VALID (now_rt) && mb_align_pending (self->core, &ts)
        && (GstClockTime) ts + self->upstream_latency + self->latency <=
        now_rt)
      force = TRUE;
    r = mb_align_next (self->core, &tick, force);
    if (r == MB_ALIGN_NEXT_TICK) {
      OutTick *t = out_tick_new (self);
      if (force)
        GST_DEBUG_OBJECT (self, "live deadline: tick %" GST_TIME_FORMAT
            " decided (forced %d)", GST_TIME_ARGS (tick.ts), tick.forced);
      tick_to_outputs (self, &tick, t->items);
      queue_tick (self, t);
      continue;
    }
    if (r == MB_ALIGN_NEXT_DONE && !self->eos_sent)
      queue_eos (self);
    return TRUE;
  }
}

/* Output task: pushes the queued ticks in order. Only this thread pushes
 * data on the src pads, so a push blocked downstream (a full queue in
 * PAUSED) holds up nothing but the queue, which then makes the inputs wait
 * (backpressure, every wait re-checking flushing). */
static void
push_tick (GstTimeAlign * self, OutTick * t)
{
  guint i;

  if (t->warn_ref)
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("No input matches reference \"%s\"", self->reference),
        ("no sink pad is called so and no stream tag %s has that value",
            MB_TAG_ROS_TOPIC));
  if (t->eos)
    /* before the EOS, so that it is on the bus before the pipeline's EOS */
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), stats_structure (self)));

  for (i = 0; i < t->items->len; i++) {
    OutItem *o = &g_array_index (t->items, OutItem, i);
    GstTimeAlignPad *tp;

    if (o->srcpad == NULL) {
      /* a dropped tick: QoS message, as for any dropped buffer */
      GstMessage *qos = gst_message_new_qos (GST_OBJECT (self), self->live,
          o->dropped_ts, GST_CLOCK_TIME_NONE, o->dropped_ts,
          GST_CLOCK_TIME_NONE);
      gst_message_set_qos_stats (qos, GST_FORMAT_BUFFERS, o->processed,
          o->dropped);
      gst_element_post_message (GST_ELEMENT (self), qos);
      continue;
    }
    tp = gst_pad_get_element_private (o->srcpad);

    g_mutex_lock (&tp->push_mutex);
    if (o->epoch != tp->epoch || g_atomic_int_get (&tp->out_flushing)) {
      /* decided before a flush of this output, or the pad is released */
      o->flow = GST_FLOW_FLUSHING;
      g_mutex_unlock (&tp->push_mutex);
      continue;
    }
    if (tp->need_segment && (!t->eos || gst_pad_has_current_caps (o->srcpad))) {
      GstSegment seg;
      GstEvent *ev;

      gst_segment_init (&seg, GST_FORMAT_TIME);
      ev = gst_event_new_segment (&seg);
      if (tp->segment_seqnum != GST_SEQNUM_INVALID)
        gst_event_set_seqnum (ev, tp->segment_seqnum);
      tp->need_segment = FALSE;
      gst_pad_push_event (o->srcpad, ev);
    }
    if (o->buffer) {
      o->flow = gst_pad_push (o->srcpad, o->buffer);
      o->buffer = NULL;
    } else if (o->event) {
      gst_pad_push_event (o->srcpad, o->event);
      o->event = NULL;
    }
    g_mutex_unlock (&tp->push_mutex);
  }
}

/* with self->lock: someone waits for the task (do not gather) */
static gboolean
task_urgent (GstTimeAlign * self)
{
  OutTick *last = self->out_queue.tail;

  return self->n_space_waiting || self->n_pushed_waiting ||
      (last && last->eos) || self->out_queue.length >= BATCH_TICKS ||
      self->queued_bytes >= MAX_QUEUED_BYTES / 2;
}

/* with self->lock: counts the flows of the ticks pushed last (by the task
 * or by an input's thread) and frees them */
static void
account_pushed (GstTimeAlign * self, TickList * pushed)
{
  OutTick *t;
  guint i;

  if (pushed->head == NULL)
    return;
  while ((t = tick_list_pop (pushed))) {
    for (i = 0; i < t->items->len; i++) {
      OutItem *o = &g_array_index (t->items, OutItem, i);
      /* a flushing output is that pair's business, not the other inputs' */
      if (o->srcpad && !o->event && o->flow != GST_FLOW_FLUSHING)
        self->srcresult = gst_flow_combiner_update_pad_flow (self->flow,
            o->srcpad, o->flow);
    }
    self->seq_pushed = t->seq;
    out_tick_free (self, t);
  }
  if (self->n_pushed_waiting)
    g_cond_broadcast (&self->pushed_cond);
}

/* with self->lock: moves every queued tick to @batch, to be pushed outside
 * the lock; the deciders may fill the queue again meanwhile */
static void
take_queued (GstTimeAlign * self, TickList * batch)
{
  tick_list_move (&self->out_queue, batch);
  self->queued_bytes = 0;
  if (self->n_space_waiting)
    g_cond_broadcast (&self->space_cond);
}

static void
gst_time_align_loop (gpointer data)
{
  GstTimeAlign *self = data;
  gint64 gather_end = 0;
  OutTick *t;

  g_mutex_lock (&self->lock);
  /* one lock per batch: the last batch's results are counted here */
  account_pushed (self, &self->pushed);
  self->task_pushing = FALSE;
  for (;;) {
    if (!self->task_running) {
      /* stopping: gst_task_stop() was called before task_running was
       * cleared, so the task ends after this iteration */
      g_mutex_unlock (&self->lock);
      return;
    }
    if (self->need_process)
      /* a released pad or a decider that could not wait left ticks */
      decide (self, DECIDER_NO_WAIT, NULL, GST_CLOCK_TIME_NONE);
    if ((self->out_queue.head == NULL) || self->direct_pushing) {
      /* nothing to do, or an input's thread pushes (the queued ticks come
       * after its batch: it wakes us when it is done) */
      self->task_waiting = TRUE;
      g_cond_wait (&self->item_cond, &self->lock);
      self->task_waiting = FALSE;
      continue;
    }
    if (gather_end == 0 && !task_urgent (self)) {
      /* a first tick: let a few more come before waking up downstream */
      gather_end = g_get_monotonic_time () + GATHER_US;
      self->task_gathering = TRUE;
      while (!task_urgent (self) && self->task_running &&
          g_cond_wait_until (&self->item_cond, &self->lock, gather_end))
        /* until enough ticks, someone waiting, or gather_end */ ;
      self->task_gathering = FALSE;
      continue;
    }
    break;
  }
  self->kick_task = FALSE;
  self->task_pushing = TRUE;
  take_queued (self, &self->pushed);
  g_mutex_unlock (&self->lock);

  for (t = self->pushed.head; t; t = t->next)
    push_tick (self, t);
}

/* with self->lock: TRUE when every input is fed by @me, the calling
 * thread (one streaming thread feeds them all, as rosbagsrc does), and no
 * one else is pushing. That thread may then push the decided ticks itself,
 * as a demuxer does: should it block downstream, it holds up exactly what
 * the output task would (its queue fills and this same thread would wait
 * for room), and no other input's thread is involved. Saves a thread
 * hand-over per batch. */
static gboolean
can_push_here (GstTimeAlign * self, GThread * me)
{
  guint i;

  if (!self->task_running || self->task_pushing || self->direct_pushing ||
      (self->out_queue.head == NULL))
    return FALSE;
  for (i = 0; i < self->pads->len; i++) {
    GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
    if (tp && (tp->thread != me || tp->flushing))
      return FALSE;
  }
  return TRUE;
}

/* with self->lock, released meanwhile: the calling input's thread pushes
 * the queued ticks (can_push_here() said it may) */
static void
push_here (GstTimeAlign * self)
{
  TickList batch = { NULL, NULL, 0 };
  OutTick *t;

  self->direct_pushing = TRUE;
  self->kick_task = FALSE;
  take_queued (self, &batch);
  g_mutex_unlock (&self->lock);

  for (t = batch.head; t; t = t->next)
    push_tick (self, t);

  g_mutex_lock (&self->lock);
  account_pushed (self, &batch);
  self->direct_pushing = FALSE;
  /* ticks another thread (deadline, pad release) queued meanwhile */
  if ((!(self->out_queue.head == NULL) || self->need_process) &&
      self->task_waiting)
    self->kick_task = TRUE;
}

/* with self->lock: drops the queued ticks (stopping) */
static void
clear_out_queue (GstTimeAlign * self)
{
  OutTick *t;

  while ((t = tick_list_pop (&self->out_queue)))
    out_tick_free (self, t);
  while ((t = tick_list_pop (&self->pushed)))
    out_tick_free (self, t);
  self->queued_bytes = 0;
  self->seq_pushed = self->seq_queued;
  self->need_process = FALSE;
  self->task_pushing = FALSE;
  wake_waiters (self);
}

/* with self->lock: @thread waits here for room that is still not there */
static gboolean
thread_is_stuck (GstTimeAlign * self, GThread * thread)
{
  guint i;

  for (i = 0; i < self->pads->len; i++) {
    GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
    if (tp && tp->waiting && tp->thread == thread &&
        mb_align_window_len (self->core, tp->id) >= self->max_window)
      return TRUE;
  }
  return FALSE;
}

#define MAX_BLOCKERS 64

/* with self->lock. The window of @tp is full. When the inputs the oldest
 * tick waits for are fed by other threads that are not themselves waiting
 * here, waiting is safe and loses nothing: wait until the window has room.
 * When one of them is fed by this thread (one thread feeds every input),
 * waiting would deadlock: return and let the caller force the tick. An
 * input that never delivered anything is waited for at most
 * `latency`, then presumed to share this thread. Any wait lasts at most
 * `latency`: the other thread may be held up outside this element (an
 * application holding its source's stream lock, a stalled upstream), and
 * the tick is then forced. */
static void
wait_for_room (GstTimeAlign * self, GstTimeAlignPad * tp)
{
  GThread *me = g_thread_self ();
  gint64 end = g_get_monotonic_time () + (gint64) (self->latency / 1000);
  int ids[MAX_BLOCKERS];

  while (!tp->flushing && mb_align_has_input (self->core, tp->id) &&
      mb_align_window_len (self->core, tp->id) >= self->max_window) {
    int n = mb_align_blockers (self->core, ids, MAX_BLOCKERS), i;
    gboolean wait = n > 0 && n <= MAX_BLOCKERS, unknown = FALSE;

    for (i = 0; wait && i < n; i++) {
      GstTimeAlignPad *up = pad_by_id (self, ids[i]);
      if (up == NULL || up == tp)
        wait = FALSE;
      else if (up->thread == NULL)
        unknown = TRUE;
      else if (up->thread == me || thread_is_stuck (self, up->thread))
        wait = FALSE;
    }
    if (!wait)
      return;
    GST_LOG_OBJECT (tp, "window full, waiting for %d other input(s)", n);
    tp->waiting = TRUE;
    self->n_waiting++;
    if (!g_cond_wait_until (&self->window_cond, &self->lock, end)) {
      GST_DEBUG_OBJECT (tp, "waited `latency` for other inputs: forcing");
      for (i = 0; unknown && i < n; i++) {
        GstTimeAlignPad *up = pad_by_id (self, ids[i]);
        if (up && up->thread == NULL)
          up->thread = me;
      }
      self->n_waiting--;
      tp->waiting = FALSE;
      return;
    }
    self->n_waiting--;
    tp->waiting = FALSE;
  }
}

/* ------------------------------------------------------------------------
 * sink pads
 * ------------------------------------------------------------------------ */

static GstFlowReturn
gst_time_align_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstTimeAlign *self = GST_TIME_ALIGN (parent);
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (pad);
  GstClockTime ts = GST_BUFFER_PTS (buf);
  guint64 rt, unix_ns;
  GstFlowReturn ret;
  int pr;

  if (!GST_CLOCK_TIME_IS_VALID (ts))
    ts = GST_BUFFER_DTS (buf);
  if (!GST_CLOCK_TIME_IS_VALID (ts)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Buffer without timestamp on %s", GST_PAD_NAME (pad)),
        ("timealign needs a PTS or DTS on every buffer"));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }

  g_mutex_lock (&self->lock);
  tp->thread = g_thread_self ();
  if (!tp->flushing &&
      mb_align_window_len (self->core, tp->id) >= self->max_window)
    wait_for_room (self, tp);
  if (tp->flushing) {
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }
  if (self->eos_sent) {
    /* Every output already got EOS: the rest of this input is not needed,
     * tell upstream so it can stop reading. */
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buf);
    return GST_FLOW_EOS;
  }
  rt = gst_segment_to_running_time (&tp->segment, GST_FORMAT_TIME, ts);
  if (!GST_CLOCK_TIME_IS_VALID (rt)) {
    GST_LOG_OBJECT (pad, "buffer %" GST_TIME_FORMAT " outside the segment",
        GST_TIME_ARGS (ts));
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  if (!self->have_unix_offset && get_unix_time (self, buf, &unix_ns)) {
    self->unix_offset = (gint64) unix_ns - (gint64) rt;
    self->have_unix_offset = TRUE;
  }

  while ((pr = mb_align_push (self->core, tp->id, (gint64) rt, buf)) !=
      MB_ALIGN_OK) {
    MbAlignTick tick;

    if (pr != MB_ALIGN_FULL) {
      /* input released meanwhile, or out of memory */
      gst_buffer_unref (buf);
      break;
    }
    if (!queue_has_room (self)) {
      /* the window may have room once we waited: try again */
      if (!wait_queue_room (self, DECIDER_INPUT, tp)) {
        gst_buffer_unref (buf);
        goto flushing;
      }
      continue;
    }
    /* window full: decide the oldest tick with what we have, or make room */
    if (mb_align_next (self->core, &tick, 1) == MB_ALIGN_NEXT_TICK) {
      OutTick *t = out_tick_new (self);
      GST_DEBUG_OBJECT (pad, "window full: tick %" GST_TIME_FORMAT " forced",
          GST_TIME_ARGS (tick.ts));
      tick_to_outputs (self, &tick, t->items);
      queue_tick (self, t);
    } else {
      GST_DEBUG_OBJECT (pad, "window full, no tick pending: dropping the "
          "oldest buffer");
      mb_align_drop_oldest (self->core, tp->id);
    }
  }
  if (self->n_waiting)
    g_cond_broadcast (&self->window_cond);
  if (!decide (self, DECIDER_INPUT, tp, GST_CLOCK_TIME_NONE))
    goto flushing;
  if (self->n_waiting)
    g_cond_broadcast (&self->window_cond);
  if (self->live)
    g_cond_signal (&self->timer_cond);

  if (can_push_here (self, tp->thread))
    push_here (self);

  /* Downstream's answer comes from the last tick pushed (here or by the
   * output task): an error or every output not linked goes upstream; EOS
   * on an output does not stop the inputs (the others may still be
   * needed). */
  ret = self->srcresult;
  if (ret == GST_FLOW_EOS || ret == GST_FLOW_FLUSHING)
    ret = GST_FLOW_OK;
  unlock_and_kick (self);
  return ret;

flushing:
  wake_waiters (self);
  g_mutex_unlock (&self->lock);
  return GST_FLOW_FLUSHING;
}

static void
update_interp (GstTimeAlign * self, GstTimeAlignPad * tp, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);
  MbRosSchema *schema = NULL;
  InterpKind kind = INTERP_NONE;

  if (g_str_equal (name, "audio/x-raw")) {
    const gchar *fmt = gst_structure_get_string (s, "format");
    const gchar *layout = gst_structure_get_string (s, "layout");
    if (layout == NULL || g_str_equal (layout, "interleaved")) {
      if (g_strcmp0 (fmt, "S16LE") == 0)
        kind = INTERP_S16;
      else if (g_strcmp0 (fmt, "F32LE") == 0)
        kind = INTERP_F32;
    }
  } else if (g_str_equal (name, MB_ROS1_MESSAGE_CAPS)) {
    const gchar *type = gst_structure_get_string (s, "type");
    const gchar *def = gst_structure_get_string (s, "message-definition");
    char err[256] = "";

    if (type && def)
      schema = mb_ros_schema_parse (type, def, strlen (def), err, sizeof (err));
    if (schema)
      kind = INTERP_ROS;
    else if (tp->mode == MB_ALIGN_MODE_LINEAR)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("Cannot interpolate %s: bad ROS message definition",
              GST_PAD_NAME (tp)), ("type %s: %s", GST_STR_NULL (type), err));
  }
  g_mutex_lock (&self->lock);
  if (tp->schema)
    mb_ros_schema_free (tp->schema);
  tp->schema = schema;
  tp->interp = kind;
  tp->warned_interp = FALSE;
  g_mutex_unlock (&self->lock);
}

static gboolean
gst_time_align_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstTimeAlign *self = GST_TIME_ALIGN (parent);
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (pad);

  GST_LOG_OBJECT (pad, "event %" GST_PTR_FORMAT, event);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:{
      const GstSegment *seg;

      gst_event_parse_segment (event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("Segment on %s is not in TIME format", GST_PAD_NAME (pad)),
            ("got %s", gst_format_get_name (seg->format)));
        gst_event_unref (event);
        return FALSE;
      }
      g_mutex_lock (&self->lock);
      gst_segment_copy_into (seg, &tp->segment);
      tp->segment_seqnum = gst_event_get_seqnum (event);
      g_mutex_unlock (&self->lock);
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      update_interp (self, tp, caps);
      break;
    }
    case GST_EVENT_TAG:{
      GstTagList *tags;
      gchar *topic = NULL;

      gst_event_parse_tag (event, &tags);
      if (gst_tag_list_get_string (tags, MB_TAG_ROS_TOPIC, &topic)) {
        g_mutex_lock (&self->lock);
        g_free (tp->topic);
        tp->topic = topic;
        resolve_reference (self);
        g_mutex_unlock (&self->lock);
      }
      break;
    }
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->lock);
      tp->flushing = TRUE;
      wake_waiters (self);
      g_mutex_unlock (&self->lock);
      g_atomic_int_set (&tp->out_flushing, 1);
      /* the output may already be flushing (flushing seek sent from here) */
      gst_pad_event_default (pad, parent, event);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:{
      gboolean ret;
      GstPad *srcpad;

      /* push_mutex first: a push on this output in progress returns soon,
       * the flush-start went downstream before */
      g_mutex_lock (&tp->push_mutex);
      g_mutex_lock (&self->lock);
      mb_align_flush_input (self->core, tp->id);
      tp->flushing = FALSE;
      gst_segment_init (&tp->segment, GST_FORMAT_TIME);
      self->eos_sent = FALSE;
      gst_flow_combiner_reset (self->flow);
      self->srcresult = GST_FLOW_OK;
      tp->epoch++;
      srcpad = tp->srcpad ? gst_object_ref (tp->srcpad) : NULL;
      g_mutex_unlock (&self->lock);
      if (srcpad == NULL) {
        g_mutex_unlock (&tp->push_mutex);
        gst_event_unref (event);
        return FALSE;
      }
      ret = gst_pad_push_event (srcpad, event);
      tp->need_segment = TRUE;
      g_atomic_int_set (&tp->out_flushing, 0);
      g_mutex_unlock (&tp->push_mutex);
      gst_object_unref (srcpad);
      return ret;
    }
    case GST_EVENT_EOS:{
      gboolean ok;

      g_mutex_lock (&self->lock);
      mb_align_set_eos (self->core, tp->id);
      wake_waiters (self);
      /* FALSE when flushing: the EOS is dropped with the rest of the
       * stream */
      ok = decide (self, DECIDER_INPUT, tp, GST_CLOCK_TIME_NONE);
      wake_waiters (self);
      if (ok && can_push_here (self, g_thread_self ()))
        push_here (self);
      unlock_and_kick (self);
      gst_event_unref (event);
      return ok;
    }
    case GST_EVENT_GAP:
      /* absence of data is what the windows already express */
      gst_event_unref (event);
      return TRUE;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

/* A drain query stays behind the data decided before it: wait until the
 * output task pushed every tick queued so far, then forward it as usual.
 * Other queries (allocation included) go downstream at once, as before
 * the output task existed. */
static gboolean
gst_time_align_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstTimeAlign *self = GST_TIME_ALIGN (parent);
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (pad);

  if (GST_QUERY_TYPE (query) == GST_QUERY_DRAIN) {
    gboolean stopped;
    guint64 seq;

    g_mutex_lock (&self->lock);
    seq = self->seq_queued;
    if (self->seq_pushed < seq && self->task_gathering)
      g_cond_signal (&self->item_cond);
    while (self->seq_pushed < seq && !tp->flushing && self->task_running) {
      self->n_pushed_waiting++;
      g_cond_wait (&self->pushed_cond, &self->lock);
      self->n_pushed_waiting--;
    }
    stopped = tp->flushing;
    g_mutex_unlock (&self->lock);
    if (stopped) {
      GST_DEBUG_OBJECT (pad, "flushing: %" GST_PTR_FORMAT " refused", query);
      return FALSE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

/* Deactivation (state change to READY, pad release) stops this input's
 * waits before GstPad waits for its chain to return. */
static gboolean
gst_time_align_sink_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstTimeAlign *self = GST_TIME_ALIGN (parent);
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (pad);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock (&self->lock);
  tp->flushing = !active;
  wake_waiters (self);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static GstIterator *
gst_time_align_iterate_internal_links (GstPad * pad, GstObject * parent)
{
  GstTimeAlignPad *tp = gst_pad_get_element_private (pad);
  GstPad *other = NULL;
  GstIterator *it = NULL;
  GValue v = G_VALUE_INIT;

  if (tp == NULL || parent == NULL)
    return NULL;
  if (GST_PAD_IS_SINK (pad)) {
    GstTimeAlign *self = GST_TIME_ALIGN (parent);
    g_mutex_lock (&self->lock);
    other = tp->srcpad ? gst_object_ref (tp->srcpad) : NULL;
    g_mutex_unlock (&self->lock);
  } else {
    other = gst_object_ref (GST_PAD (tp));
  }
  if (other == NULL)
    return NULL;
  g_value_init (&v, GST_TYPE_PAD);
  g_value_take_object (&v, other);
  it = gst_iterator_new_single (GST_TYPE_PAD, &v);
  g_value_unset (&v);
  return it;
}

/* ------------------------------------------------------------------------
 * src pads
 * ------------------------------------------------------------------------ */

static gboolean
gst_time_align_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstTimeAlign *self = GST_TIME_ALIGN (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK) {
    /* one seek for every input, as the inputs share one timeline */
    GstSeekFlags flags;
    GPtrArray *sinks = g_ptr_array_new_with_free_func (gst_object_unref);
    GPtrArray *srcs = g_ptr_array_new_with_free_func (gst_object_unref);
    gboolean flush, ok = TRUE;
    guint i;

    gst_event_parse_seek (event, NULL, NULL, &flags, NULL, NULL, NULL, NULL);
    flush = (flags & GST_SEEK_FLAG_FLUSH) != 0;
    g_mutex_lock (&self->lock);
    if (gst_event_get_seqnum (event) == self->seek_seqnum) {
      /* A bin sends a seek to every sink, so the same seek comes back on
       * each output: the inputs have it already. */
      ok = self->seek_ok;
      g_mutex_unlock (&self->lock);
      g_ptr_array_unref (sinks);
      g_ptr_array_unref (srcs);
      GST_DEBUG_OBJECT (pad, "seek %u handled already",
          gst_event_get_seqnum (event));
      gst_event_unref (event);
      return ok;
    }
    self->seek_seqnum = gst_event_get_seqnum (event);
    self->seek_ok = TRUE;
    for (i = 0; i < self->pads->len; i++) {
      GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
      if (tp && tp->srcpad) {
        g_ptr_array_add (sinks, gst_object_ref (tp));
        g_ptr_array_add (srcs, gst_object_ref (tp->srcpad));
      }
    }
    g_mutex_unlock (&self->lock);

    /* Flush every output first, so that the output task returns from a
     * push blocked downstream (a full queue in PAUSED) and ticks decided
     * before the seek are dropped, whatever order the inputs' own flushes
     * come back in. */
    for (i = 0; flush && i < srcs->len; i++) {
      GstEvent *fs = gst_event_new_flush_start ();
      GstTimeAlignPad *tp = g_ptr_array_index (sinks, i);
      gst_event_set_seqnum (fs, gst_event_get_seqnum (event));
      g_atomic_int_set (&tp->out_flushing, 1);
      gst_pad_push_event (g_ptr_array_index (srcs, i), fs);
    }
    for (i = 0; i < sinks->len; i++) {
      if (!gst_pad_push_event (g_ptr_array_index (sinks, i),
              gst_event_ref (event))) {
        ok = FALSE;
        if (flush) {
          /* that upstream will not flush: end the flush we started */
          GstTimeAlignPad *tp = g_ptr_array_index (sinks, i);
          GstEvent *fs = gst_event_new_flush_stop (TRUE);
          gst_event_set_seqnum (fs, gst_event_get_seqnum (event));
          g_mutex_lock (&tp->push_mutex);
          gst_pad_push_event (g_ptr_array_index (srcs, i), fs);
          tp->need_segment = TRUE;
          g_atomic_int_set (&tp->out_flushing, 0);
          g_mutex_unlock (&tp->push_mutex);
        }
      }
    }
    ok = ok && sinks->len > 0;
    g_mutex_lock (&self->lock);
    if (self->seek_seqnum == gst_event_get_seqnum (event))
      self->seek_ok = ok;
    g_mutex_unlock (&self->lock);
    g_ptr_array_unref (sinks);
    g_ptr_array_unref (srcs);
    gst_event_unref (event);
    return ok;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_time_align_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstTimeAlign *self = GST_TIME_ALIGN (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstIterator *it = gst_element_iterate_sink_pads (GST_ELEMENT (self));
    GValue v = G_VALUE_INIT;
    gboolean live = FALSE, ok = TRUE;
    GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;

    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstPad *p = g_value_get_object (&v);
      GstQuery *q = gst_query_new_latency ();
      if (gst_pad_peer_query (p, q)) {
        gboolean l;
        GstClockTime mn, mx;
        gst_query_parse_latency (q, &l, &mn, &mx);
        if (l) {
          live = TRUE;
          min = MAX (min, mn);
          if (GST_CLOCK_TIME_IS_VALID (mx))
            max = GST_CLOCK_TIME_IS_VALID (max) ? MIN (max, mx) : mx;
        }
      } else {
        ok = FALSE;
      }
      gst_query_unref (q);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
    if (!ok)
      return FALSE;
    g_mutex_lock (&self->lock);
    self->live = live;
    self->upstream_latency = min;
    if (live) {
      min += self->latency;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += self->latency;
    }
    g_cond_signal (&self->timer_cond);
    g_mutex_unlock (&self->lock);
    GST_DEBUG_OBJECT (self, "latency: live %d min %" GST_TIME_FORMAT " max %"
        GST_TIME_FORMAT, live, GST_TIME_ARGS (min), GST_TIME_ARGS (max));
    gst_query_set_latency (query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

/* ------------------------------------------------------------------------
 * live deadline thread
 * ------------------------------------------------------------------------ */

static gpointer
timer_thread (gpointer data)
{
  GstTimeAlign *self = data;

  g_mutex_lock (&self->lock);
  while (!self->timer_stop) {
    GstClock *clock;
    GstClockTime base, now;
    GstClockID id;
    GstClockReturn cr;
    gint64 ts;

    if (!self->live || !self->playing || !mb_align_pending (self->core, &ts)) {
      g_cond_wait (&self->timer_cond, &self->lock);
      continue;
    }
    g_mutex_unlock (&self->lock);
    clock = gst_element_get_clock (GST_ELEMENT (self));
    base = gst_element_get_base_time (GST_ELEMENT (self));
    g_mutex_lock (&self->lock);
    if (clock == NULL) {
      g_cond_wait (&self->timer_cond, &self->lock);
      continue;
    }
    id = gst_clock_new_single_shot_id (clock,
        base + ts + self->upstream_latency + self->latency);
    self->timer_id = id;
    g_mutex_unlock (&self->lock);
    cr = gst_clock_id_wait (id, NULL);
    g_mutex_lock (&self->lock);
    self->timer_id = NULL;
    gst_clock_id_unref (id);
    if (self->timer_stop || cr == GST_CLOCK_UNSCHEDULED) {
      gst_object_unref (clock);
      continue;
    }
    g_mutex_unlock (&self->lock);

    now = gst_clock_get_time (clock) - base;
    gst_object_unref (clock);
    g_mutex_lock (&self->lock);
    if (self->playing) {
      /* the ticks it forces go to the output task, like any other */
      decide (self, DECIDER_TIMER, NULL, now);
      wake_waiters (self);
    }
  }
  g_mutex_unlock (&self->lock);
  return NULL;
}

static void
timer_start (GstTimeAlign * self)
{
  g_mutex_lock (&self->lock);
  self->timer_stop = FALSE;
  g_mutex_unlock (&self->lock);
  if (self->timer == NULL)
    self->timer = g_thread_new ("timealign-timer", timer_thread, self);
}

static void
timer_stop (GstTimeAlign * self)
{
  GThread *t;

  g_mutex_lock (&self->lock);
  self->timer_stop = TRUE;
  if (self->timer_id)
    gst_clock_id_unschedule (self->timer_id);
  g_cond_signal (&self->timer_cond);
  wake_waiters (self);
  t = self->timer;
  self->timer = NULL;
  g_mutex_unlock (&self->lock);
  if (t)
    g_thread_join (t);
}

/* ------------------------------------------------------------------------
 * request pads
 * ------------------------------------------------------------------------ */

static GstPad *
gst_time_align_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstTimeAlign *self = GST_TIME_ALIGN (element);
  GstTimeAlignPad *tp;
  GstPad *srcpad;
  gchar *sname, *rname;
  guint idx = 0;

  if (templ->direction != GST_PAD_SINK)
    return NULL;

  g_mutex_lock (&self->lock);
  if (name && sscanf (name, "sink_%u", &idx) == 1) {
    if (pad_by_id (self, (gint) idx) || idx > 65535) {
      g_mutex_unlock (&self->lock);
      GST_WARNING_OBJECT (self, "pad %s exists or is invalid", name);
      return NULL;
    }
  } else {
    for (idx = 0; idx < self->pads->len; idx++)
      if (g_ptr_array_index (self->pads, idx) == NULL)
        break;
  }
  sname = g_strdup_printf ("sink_%u", idx);
  rname = g_strdup_printf ("src_%u", idx);
  tp = g_object_new (GST_TYPE_TIME_ALIGN_PAD, "name", sname, "direction",
      GST_PAD_SINK, "template", templ, NULL);
  srcpad = gst_pad_new_from_static_template (&src_template, rname);
  g_free (sname);
  g_free (rname);

  tp->id = (gint) idx;
  /* tp->srcpad: no ref (the element owns it), read under self->lock and
   * cleared on release; the src pad keeps its sink pad alive for outputs
   * still being pushed */
  tp->srcpad = srcpad;
  g_object_set_qdata_full (G_OBJECT (srcpad), pair_quark (),
      gst_object_ref (tp), gst_object_unref);
  tp->segment_seqnum = GST_SEQNUM_INVALID;
  tp->need_segment = TRUE;
  gst_segment_init (&tp->segment, GST_FORMAT_TIME);
  gst_pad_set_element_private (GST_PAD (tp), tp);
  gst_pad_set_element_private (srcpad, tp);

  gst_pad_set_chain_function (GST_PAD (tp),
      GST_DEBUG_FUNCPTR (gst_time_align_chain));
  gst_pad_set_event_function (GST_PAD (tp),
      GST_DEBUG_FUNCPTR (gst_time_align_sink_event));
  gst_pad_set_query_function (GST_PAD (tp),
      GST_DEBUG_FUNCPTR (gst_time_align_sink_query));
  gst_pad_set_iterate_internal_links_function (GST_PAD (tp),
      GST_DEBUG_FUNCPTR (gst_time_align_iterate_internal_links));
  gst_pad_set_activatemode_function (GST_PAD (tp),
      GST_DEBUG_FUNCPTR (gst_time_align_sink_activate_mode));
  GST_PAD_SET_PROXY_CAPS (GST_PAD (tp));
  GST_PAD_SET_PROXY_ALLOCATION (GST_PAD (tp));

  gst_pad_set_event_function (srcpad,
      GST_DEBUG_FUNCPTR (gst_time_align_src_event));
  gst_pad_set_query_function (srcpad,
      GST_DEBUG_FUNCPTR (gst_time_align_src_query));
  gst_pad_set_iterate_internal_links_function (srcpad,
      GST_DEBUG_FUNCPTR (gst_time_align_iterate_internal_links));
  GST_PAD_SET_PROXY_CAPS (srcpad);
  GST_PAD_SET_PROXY_ALLOCATION (srcpad);

  if (idx >= self->pads->len)
    g_ptr_array_set_size (self->pads, idx + 1);
  g_ptr_array_index (self->pads, idx) = tp;
  mb_align_add_input_id (self->core, (gint) idx);
  apply_pad_params (self, tp);
  resolve_reference (self);
  gst_flow_combiner_add_pad (self->flow, srcpad);
  g_mutex_unlock (&self->lock);

  gst_element_add_pad (element, srcpad);
  gst_element_add_pad (element, GST_PAD (tp));
  gst_child_proxy_child_added (GST_CHILD_PROXY (element), G_OBJECT (tp),
      GST_OBJECT_NAME (tp));
  return GST_PAD (tp);
}

static void
gst_time_align_release_pad (GstElement * element, GstPad * pad)
{
  GstTimeAlign *self = GST_TIME_ALIGN (element);
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (pad);
  GstPad *srcpad;

  g_mutex_lock (&self->lock);
  srcpad = gst_object_ref (tp->srcpad);
  tp->srcpad = NULL;
  tp->flushing = TRUE;          /* its chain stops waiting, if it does */
  mb_align_remove_input (self->core, tp->id);
  g_ptr_array_index (self->pads, tp->id) = NULL;
  gst_flow_combiner_remove_pad (self->flow, srcpad);
  resolve_reference (self);
  /* The others may have been waiting for this input: decide what is now
   * decidable. Never wait here, nor push from this (application) thread:
   * the output task may be blocked downstream until the application changes
   * state; with its queue full, the task decides the rest itself. */
  if (self->task_running)
    decide (self, DECIDER_NO_WAIT, NULL, GST_CLOCK_TIME_NONE);
  wake_waiters (self);
  g_mutex_unlock (&self->lock);

  /* Flush the output branch: this input's upstream may be blocked in a
   * serialized query (allocation, drain) that went through this pair and
   * waits downstream (a queue in PAUSED). The output stays flushing: the
   * pad is going away. */
  g_atomic_int_set (&tp->out_flushing, 1);
  gst_pad_push_event (srcpad, gst_event_new_flush_start ());
  g_mutex_lock (&tp->push_mutex);
  gst_pad_push_event (srcpad, gst_event_new_flush_stop (TRUE));
  g_mutex_unlock (&tp->push_mutex);
  gst_pad_set_active (srcpad, FALSE);
  gst_element_remove_pad (element, srcpad);
  /* The sink pad is not deactivated here: that would wait for its
   * streaming thread, which may be blocked downstream in a serialized query
   * (PAUSED). Its chain sees tp->flushing and the removed input instead. */
  gst_child_proxy_child_removed (GST_CHILD_PROXY (element), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  gst_element_remove_pad (element, pad);
  gst_object_unref (srcpad);
}

/* GstChildProxy: sink pad properties from gst-launch (sink_1::policy=hold) */
static GObject *
gst_time_align_child_proxy_get_child_by_index (GstChildProxy * proxy,
    guint index)
{
  GstElement *element = GST_ELEMENT (proxy);
  GObject *obj;

  GST_OBJECT_LOCK (element);
  obj = g_list_nth_data (element->sinkpads, index);
  if (obj)
    gst_object_ref (obj);
  GST_OBJECT_UNLOCK (element);
  return obj;
}

static guint
gst_time_align_child_proxy_get_children_count (GstChildProxy * proxy)
{
  GstElement *element = GST_ELEMENT (proxy);
  guint count;

  GST_OBJECT_LOCK (element);
  count = element->numsinkpads;
  GST_OBJECT_UNLOCK (element);
  return count;
}

static void
gst_time_align_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index = gst_time_align_child_proxy_get_child_by_index;
  iface->get_children_count = gst_time_align_child_proxy_get_children_count;
}

/* ------------------------------------------------------------------------
 * element
 * ------------------------------------------------------------------------ */

static GstStateChangeReturn
gst_time_align_change_state (GstElement * element, GstStateChange transition)
{
  GstTimeAlign *self = GST_TIME_ALIGN (element);
  GstStateChangeReturn ret;
  guint i;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      g_mutex_lock (&self->lock);
      mb_align_reset (self->core);
      mb_align_reset_stats (self->core);
      self->eos_sent = FALSE;
      self->ref_warned = FALSE;
      self->have_unix_offset = FALSE;
      gst_flow_combiner_reset (self->flow);
      for (i = 0; i < self->pads->len; i++) {
        GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
        if (tp) {
          tp->flushing = FALSE;
          gst_segment_init (&tp->segment, GST_FORMAT_TIME);
          tp->need_segment = TRUE;
          tp->out_flushing = 0;
          tp->epoch++;
        }
      }
      clear_out_queue (self);
      self->srcresult = GST_FLOW_OK;
      self->task_running = TRUE;
      g_mutex_unlock (&self->lock);
      gst_task_start (self->task);
      timer_start (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      g_mutex_lock (&self->lock);
      self->playing = TRUE;
      g_cond_signal (&self->timer_cond);
      g_mutex_unlock (&self->lock);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_mutex_lock (&self->lock);
      self->playing = FALSE;
      if (self->timer_id)
        gst_clock_id_unschedule (self->timer_id);
      wake_waiters (self);
      g_mutex_unlock (&self->lock);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* stop first, then wake: the task ends after its current iteration
       * (a push in progress returns: downstream is READY already) */
      gst_task_stop (self->task);
      g_mutex_lock (&self->lock);
      self->task_running = FALSE;
      for (i = 0; i < self->pads->len; i++) {
        GstTimeAlignPad *tp = g_ptr_array_index (self->pads, i);
        if (tp)
          tp->flushing = TRUE;
      }
      wake_waiters (self);
      g_mutex_unlock (&self->lock);
      timer_stop (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    gst_task_join (self->task);
    g_mutex_lock (&self->lock);
    clear_out_queue (self);
    mb_align_reset (self->core);
    g_mutex_unlock (&self->lock);
  }
  return ret;
}

static void
gst_time_align_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTimeAlign *self = GST_TIME_ALIGN (object);
  guint i;

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_REFERENCE:
      g_free (self->reference);
      self->reference = g_value_dup_string (value);
      resolve_reference (self);
      break;
    case PROP_RATE:
      self->rate_n = gst_value_get_fraction_numerator (value);
      self->rate_d = gst_value_get_fraction_denominator (value);
      if (self->rate_n < 0 || self->rate_d <= 0) {
        self->rate_n = 0;
        self->rate_d = 1;
      }
      resolve_reference (self);
      break;
    case PROP_TOLERANCE:
      self->tolerance = g_value_get_uint64 (value);
      for (i = 0; i < self->pads->len; i++)
        if (g_ptr_array_index (self->pads, i))
          apply_pad_params (self, g_ptr_array_index (self->pads, i));
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint64 (value);
      break;
    case PROP_MAX_WINDOW:
      self->max_window = g_value_get_uint (value);
      mb_align_set_max_window (self->core, self->max_window);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
  if (prop_id == PROP_LATENCY)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
}

static void
gst_time_align_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstTimeAlign *self = GST_TIME_ALIGN (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_REFERENCE:
      g_value_set_string (value, self->reference);
      break;
    case PROP_RATE:
      gst_value_set_fraction (value, self->rate_n, self->rate_d);
      break;
    case PROP_TOLERANCE:
      g_value_set_uint64 (value, self->tolerance);
      break;
    case PROP_LATENCY:
      g_value_set_uint64 (value, self->latency);
      break;
    case PROP_MAX_WINDOW:
      g_value_set_uint (value, self->max_window);
      break;
    case PROP_TICKS_OUT:
      g_value_set_uint64 (value, mb_align_ticks_out (self->core));
      break;
    case PROP_TICKS_DROPPED:
      g_value_set_uint64 (value, mb_align_ticks_dropped (self->core));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_time_align_finalize (GObject * object)
{
  GstTimeAlign *self = GST_TIME_ALIGN (object);
  OutTick *t;

  mb_align_free (self->core);
  g_ptr_array_free (self->pads, TRUE);
  gst_flow_combiner_free (self->flow);
  gst_object_unref (self->task);
  g_rec_mutex_clear (&self->task_lock);
  g_free (self->reference);
  gst_clear_caps (&self->foreign_unix_caps);
  while ((t = tick_list_pop (&self->spare_ticks)))
    out_tick_destroy (t);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->item_cond);
  g_cond_clear (&self->space_cond);
  g_cond_clear (&self->pushed_cond);
  g_cond_clear (&self->timer_cond);
  g_cond_clear (&self->window_cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_time_align_class_init (GstTimeAlignClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_time_align_debug, "timealign", 0,
      "Align streams to a reference stream or a fixed rate");
  mb_tags_init ();
  pair_quark_value = g_quark_from_static_string ("timealign-pair");

  gobject_class->set_property = gst_time_align_set_property;
  gobject_class->get_property = gst_time_align_get_property;
  gobject_class->finalize = gst_time_align_finalize;

  g_object_class_install_property (gobject_class, PROP_REFERENCE,
      g_param_spec_string ("reference", "Reference",
          "Input whose buffers are the ticks: a sink pad name (sink_1) or a "
          "ROS topic matched against the ros-topic stream tag; empty = the "
          "first sink pad. Ignored when rate is set", DEFAULT_REFERENCE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RATE,
      gst_param_spec_fraction ("rate", "Rate",
          "Fixed tick rate in ticks per second, starting when every input "
          "has data (0/1 = ticks from the reference input)", 0, 1,
          G_MAXINT, 1, DEFAULT_RATE_N, DEFAULT_RATE_D,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TOLERANCE,
      g_param_spec_uint64 ("tolerance", "Tolerance",
          "Largest |buffer time - tick| in ns a buffer may be chosen with "
          "(pads with tolerance=-1 use this)", 0, G_MAXINT64,
          DEFAULT_TOLERANCE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint64 ("latency", "Latency",
          "How long in ns late inputs are waited for before a tick is "
          "decided with what is there: live, after the tick's running time "
          "(plus upstream latency); any pipeline, while a full window waits "
          "for inputs fed by other threads", 0, G_MAXINT64,
          DEFAULT_LATENCY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MAX_WINDOW,
      g_param_spec_uint ("max-window", "Max window",
          "Most buffers kept per input (>= 2). When full: wait if the "
          "inputs the oldest tick needs are fed by other threads, else force "
          "that tick, else drop the oldest buffer", 2, 1 << 20,
          DEFAULT_MAX_WINDOW, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TICKS_OUT,
      g_param_spec_uint64 ("ticks-out", "Ticks out",
          "Ticks sent on the outputs", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TICKS_DROPPED,
      g_param_spec_uint64 ("ticks-dropped", "Ticks dropped",
          "Ticks dropped on every output (an input with policy=drop had "
          "nothing within tolerance)", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &sink_template, GST_TYPE_TIME_ALIGN_PAD);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Time align",
      "Filter", "Aligns streams to a reference stream or a fixed rate; "
      "request sink_N gives a matching src_N",
      "membound <https://github.com/membound/membound>");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_time_align_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_time_align_release_pad);
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_time_align_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_TIME_ALIGN_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_TIME_ALIGN_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_TIME_ALIGN_POLICY, 0);
}

static void
gst_time_align_init (GstTimeAlign * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->item_cond);
  g_cond_init (&self->space_cond);
  g_cond_init (&self->pushed_cond);
  g_rec_mutex_init (&self->task_lock);
  self->task = gst_task_new (gst_time_align_loop, self, NULL);
  gst_task_set_lock (self->task, &self->task_lock);
  self->unix_caps = mb_unix_time_caps ();
  self->source_caps = mb_source_time_caps ();
  self->srcresult = GST_FLOW_OK;
  g_cond_init (&self->timer_cond);
  g_cond_init (&self->window_cond);
  self->core = mb_align_new (core_ref, core_unref, self);
  self->pads = g_ptr_array_new ();
  self->flow = gst_flow_combiner_new ();
  self->seek_seqnum = GST_SEQNUM_INVALID;
  self->reference = g_strdup (DEFAULT_REFERENCE);
  self->rate_n = DEFAULT_RATE_N;
  self->rate_d = DEFAULT_RATE_D;
  self->tolerance = DEFAULT_TOLERANCE;
  self->latency = DEFAULT_LATENCY;
  self->max_window = DEFAULT_MAX_WINDOW;
  self->upstream_latency = 0;
  mb_align_set_max_window (self->core, self->max_window);
  resolve_reference (self);
}

/* ------------------------------------------------------------------------
 * sink pad class
 * ------------------------------------------------------------------------ */

static GstTimeAlign *
pad_parent (GstTimeAlignPad * tp)
{
  GstObject *p = gst_object_get_parent (GST_OBJECT (tp));
  if (p && !GST_IS_TIME_ALIGN (p)) {
    gst_object_unref (p);
    return NULL;
  }
  return (GstTimeAlign *) p;
}

static void
gst_time_align_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (object);
  GstTimeAlign *self = pad_parent (tp);

  if (self)
    g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_PAD_MODE:
      tp->mode = g_value_get_enum (value);
      break;
    case PROP_PAD_POLICY:
      tp->policy = g_value_get_enum (value);
      break;
    case PROP_PAD_TOLERANCE:
      tp->tolerance = g_value_get_int64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  if (self) {
    apply_pad_params (self, tp);
    g_mutex_unlock (&self->lock);
    gst_object_unref (self);
  }
}

static void
gst_time_align_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (object);
  GstTimeAlign *self = pad_parent (tp);
  MbAlignInputStats st;

  memset (&st, 0, sizeof (st));
  if (self) {
    g_mutex_lock (&self->lock);
    mb_align_get_input_stats (self->core, tp->id, &st);
  }
  switch (prop_id) {
    case PROP_PAD_MODE:
      g_value_set_enum (value, tp->mode);
      break;
    case PROP_PAD_POLICY:
      g_value_set_enum (value, tp->policy);
      break;
    case PROP_PAD_TOLERANCE:
      g_value_set_int64 (value, tp->tolerance);
      break;
    case PROP_PAD_BUFFERS_OUT:
      g_value_set_uint64 (value, st.out);
      break;
    case PROP_PAD_REPEATED:
      g_value_set_uint64 (value, st.repeated);
      break;
    case PROP_PAD_MISSED:
      g_value_set_uint64 (value, st.missed);
      break;
    case PROP_PAD_OVERFLOW:
      g_value_set_uint64 (value, st.overflow);
      break;
    case PROP_PAD_MAX_ERROR:
      g_value_set_uint64 (value, (guint64) st.max_err);
      break;
    case PROP_PAD_MEAN_ERROR:
      g_value_set_uint64 (value,
          (guint64) (st.n_err ? st.sum_err / st.n_err : 0));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  if (self) {
    g_mutex_unlock (&self->lock);
    gst_object_unref (self);
  }
}

static void
gst_time_align_pad_finalize (GObject * object)
{
  GstTimeAlignPad *tp = GST_TIME_ALIGN_PAD (object);

  g_free (tp->topic);
  g_mutex_clear (&tp->push_mutex);
  if (tp->schema)
    mb_ros_schema_free (tp->schema);
  G_OBJECT_CLASS (gst_time_align_pad_parent_class)->finalize (object);
}

static void
gst_time_align_pad_class_init (GstTimeAlignPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = gst_time_align_pad_set_property;
  gobject_class->get_property = gst_time_align_pad_get_property;
  gobject_class->finalize = gst_time_align_pad_finalize;

  g_object_class_install_property (gobject_class, PROP_PAD_MODE,
      g_param_spec_enum ("mode", "Mode",
          "How this input's buffer for a tick is chosen",
          GST_TYPE_TIME_ALIGN_MODE, DEFAULT_PAD_MODE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PAD_POLICY,
      g_param_spec_enum ("policy", "Policy",
          "What happens at a tick when this input has nothing within "
          "tolerance", GST_TYPE_TIME_ALIGN_POLICY, DEFAULT_PAD_POLICY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PAD_TOLERANCE,
      g_param_spec_int64 ("tolerance", "Tolerance",
          "Largest |buffer time - tick| in ns for this input "
          "(-1 = the element's tolerance)", -1, G_MAXINT64,
          DEFAULT_PAD_TOLERANCE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_PAD_BUFFERS_OUT,
      g_param_spec_uint64 ("buffers-out", "Buffers out",
          "Ticks this input sent a buffer for", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PAD_REPEATED,
      g_param_spec_uint64 ("repeated", "Repeated",
          "Buffers sent again for a later tick (flagged repeated)", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PAD_MISSED,
      g_param_spec_uint64 ("missed", "Missed",
          "Ticks with nothing within tolerance on this input", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PAD_OVERFLOW,
      g_param_spec_uint64 ("overflow", "Overflow",
          "Buffers dropped because the window was full with no tick to "
          "decide", 0, G_MAXUINT64, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PAD_MAX_ERROR,
      g_param_spec_uint64 ("max-error", "Max error",
          "Largest |capture time - tick| in ns over the buffers sent", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PAD_MEAN_ERROR,
      g_param_spec_uint64 ("mean-error", "Mean error",
          "Mean |capture time - tick| in ns over the buffers sent", 0,
          G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void
gst_time_align_pad_init (GstTimeAlignPad * tp)
{
  g_mutex_init (&tp->push_mutex);
  tp->mode = DEFAULT_PAD_MODE;
  tp->policy = DEFAULT_PAD_POLICY;
  tp->tolerance = DEFAULT_PAD_TOLERANCE;
  tp->id = -1;
}
