/* membound-convert: convert ROS1 bags to HDF5 with bounded memory.
 *
 * For each bag it builds
 *
 *   rosbagsrc ─┬─ sink_0 ┐           ┌ src_0 ─ membudget ─┐
 *              ├─ sink_1 ┤ timealign ├ src_1 ─ membudget ─┤ hdf5sink
 *              └─ ...    ┘           └ ...   ─ membudget ─┘
 *
 * (timealign only with --align-to / --rate), runs up to --jobs pipelines at
 * once in this process, all membudgets sharing one named budget, prints a
 * progress bar (or plain lines), and a summary table at the end built from
 * the elements' bus messages and read-only properties.
 *
 * Option parsing, input discovery and text formatting are plain C in
 * mbconvert.c (unit tested in tests/pipelines/test_mbconvert.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <glib-unix.h>
#include <gst/gst.h>

#include <membound/hdf5sink.h>
#include <membound/rosbagsrc.h>
#include <membound/timealign.h>

#include "mbconvert.h"

#define BUDGET_NAME "membound-convert"

typedef enum
{
  JOB_PENDING,
  JOB_RUNNING,
  JOB_DONE,
  JOB_SKIPPED,
  JOB_FAILED
} JobState;

typedef struct _App App;

typedef struct
{
  App *app;
  const MbcInput *in;
  char *out, *partial, *display;
  JobState state;
  GstElement *pipeline, *src, *align, *sink;
  guint bus_watch;
  gint64 t_start, t_end;        /* monotonic µs */
  guint64 duration;             /* bag duration, ns (0 = unknown) */
  double fraction;
  char *error;
  GMutex lock;                  /* branch count (pad-added runs on the
                                 * streaming thread) */
  int n_branches;
  gboolean have_ticks;
  guint64 ticks_out, ticks_dropped;
  GHashTable *sink_pads;        /* topic -> hdf5sink pad requested up front */
  gchar *generic_error;         /* a flow error waiting for its reason */
  guint error_timeout;
} Job;

struct _App
{
  MbcOptions opt;
  MbcInput *inputs;
  int n_inputs;
  Job *jobs;
  int next, running, finished;
  GMainLoop *loop;
  MbcTable table;
  gint64 t0;
  guint64 last_rchar, first_rchar;
  gint64 last_rchar_t;
  gboolean average;             /* final report: average rate */
  double mb_per_s;
  gboolean bar;                 /* progress bar (tty) */
  gboolean plain;               /* plain progress lines */
  gboolean bar_shown;
  guint64 peak_rss;
  gboolean interrupted;
};

/* ---- process figures ---- */

static guint64
read_rss (void)
{
  FILE *f = fopen ("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;

  if (f == NULL)
    return 0;
  if (fscanf (f, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  fclose (f);
  return (guint64) resident * (guint64) sysconf (_SC_PAGESIZE);
}

static guint64
read_peak_rss (void)
{
  struct rusage ru;

  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return 0;
  return (guint64) ru.ru_maxrss * 1024u;
}

/* Bytes read by this process through read()/pread() (bag bytes, mostly). */
static gboolean
read_rchar (guint64 * rchar)
{
  FILE *f = fopen ("/proc/self/io", "r");
  char line[128];
  gboolean ok = FALSE;

  if (f == NULL)
    return FALSE;
  while (fgets (line, sizeof (line), f) != NULL) {
    unsigned long long v;
    if (sscanf (line, "rchar: %llu", &v) == 1) {
      *rchar = v;
      ok = TRUE;
      break;
    }
  }
  fclose (f);
  return ok;
}

/* ---- helpers ---- */

static GstElement *
make_element (const char *factory, const char *name, GError ** err)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e == NULL)
    g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "element '%s' not found (membound plugin not built with it, or not "
        "on GST_PLUGIN_PATH; see --plugin-path)", factory);
  return e;
}

/* Sets @prop from a string if the object has it; TRUE if set. */
static gboolean
try_set (gpointer obj, const char *prop, const char *value)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (obj), prop) == NULL)
    return FALSE;
  return gst_util_set_object_arg (G_OBJECT (obj), prop, value), TRUE;
}

/* Sets the first of @props (NULL-terminated) the object has; error if none. */
static gboolean
set_one_of (gpointer obj, const char *const *props, const char *value,
    const char *what, GError ** err)
{
  int i;

  for (i = 0; props[i] != NULL; i++)
    if (try_set (obj, props[i], value))
      return TRUE;
  g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
      "%s has no property for %s (tried '%s')",
      GST_OBJECT_NAME (obj), what, props[0]);
  return FALSE;
}

static void
job_fail (Job * j, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
progress_clear (App * app)
{
  if (app->bar_shown) {
    fprintf (stderr, "\r\033[K");
    fflush (stderr);
    app->bar_shown = FALSE;
  }
}

/* ---- branches ---- */

/* Links @pad (a rosbagsrc src pad, or a timealign src pad) through a
 * membudget into a new hdf5sink request pad. */
static gboolean
link_branch (Job * j, GstPad * pad, const gchar * topic, GError ** err)
{
  App *app = j->app;
  GstElement *mb;
  GstPad *mbsink, *mbsrc, *sinkpad;
  GstPadLinkReturn lr;
  char budget[32];

  mb = make_element ("membudget", NULL, err);
  if (mb == NULL)
    return FALSE;
  g_snprintf (budget, sizeof (budget), "%" G_GUINT64_FORMAT,
      app->opt.budget_bytes);
  /* One budget shared by every branch of every job in this process; the
   * element's own queue limits (queue-like defaults) stay as they are. */
  {
    static const char *const name_props[] = { "budget", NULL };
    static const char *const limit_props[] = { "budget-bytes", NULL };
    if (!set_one_of (mb, name_props, BUDGET_NAME, "the budget name", err)
        || !set_one_of (mb, limit_props, budget, "the byte budget", err)) {
      gst_object_unref (gst_object_ref_sink (mb));
      return FALSE;
    }
  }
  try_set (mb, "policy", "block");

  gst_bin_add (GST_BIN (j->pipeline), mb);
  /* the pad requested (with path and aloha-role) before the pipeline
   * started: pad properties are fixed once data flows */
  g_mutex_lock (&j->lock);
  sinkpad = topic ? g_hash_table_lookup (j->sink_pads, topic) : NULL;
  if (sinkpad != NULL) {
    gst_object_ref (sinkpad);
    g_hash_table_remove (j->sink_pads, topic);
  }
  g_mutex_unlock (&j->lock);
  if (sinkpad == NULL)
    sinkpad = gst_element_request_pad_simple (j->sink, "sink_%u");
  if (sinkpad == NULL) {
    g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
        "hdf5sink refused a new sink pad");
    return FALSE;
  }
  mbsink = gst_element_get_static_pad (mb, "sink");
  mbsrc = gst_element_get_static_pad (mb, "src");
  lr = gst_pad_link (mbsrc, sinkpad);
  if (lr == GST_PAD_LINK_OK)
    lr = gst_pad_link (pad, mbsink);
  gst_object_unref (mbsink);
  gst_object_unref (mbsrc);
  gst_object_unref (sinkpad);
  if (lr != GST_PAD_LINK_OK) {
    g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
        "cannot link %s:%s to hdf5sink: %s", GST_DEBUG_PAD_NAME (pad),
        gst_pad_link_get_name (lr));
    return FALSE;
  }
  gst_element_sync_state_with_parent (mb);
  g_mutex_lock (&j->lock);
  j->n_branches++;
  g_mutex_unlock (&j->lock);
  return TRUE;
}

static void
post_branch_error (Job * j, GstElement * from, GError * err)
{
  /* Runs on a streaming thread: report through the bus. */
  gst_element_post_message (from, gst_message_new_error (GST_OBJECT (from),
          err, "membound-convert could not build a branch"));
  g_error_free (err);
}

/* rosbagsrc added all its pads: hdf5sink pads requested for topics that got
 * none would wait for data forever; release them. */
static void
on_no_more_pads (GstElement * src, Job * j)
{
  GList *pads, *l;

  g_mutex_lock (&j->lock);
  pads = g_hash_table_get_values (j->sink_pads);
  for (l = pads; l != NULL; l = l->next)
    gst_object_ref (l->data);
  g_hash_table_remove_all (j->sink_pads);
  g_mutex_unlock (&j->lock);
  for (l = pads; l != NULL; l = l->next) {
    GST_INFO_OBJECT (j->sink, "releasing unused pad %s",
        GST_PAD_NAME (l->data));
    gst_element_release_request_pad (j->sink, l->data);
    gst_object_unref (l->data);
  }
  g_list_free (pads);
}

/* The topic rosbagsrc gives the pad named @pad_name (newly allocated). */
static gchar *
topic_of_pad (GstElement * src, const gchar * pad_name)
{
  GValue topics = G_VALUE_INIT;
  gchar *topic = NULL;
  guint i;

  g_value_init (&topics, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), MB_ROSBAGSRC_PROP_TOPIC_LIST,
      &topics);
  for (i = 0; i < gst_value_array_get_size (&topics) && topic == NULL; i++) {
    const GstStructure *s =
        gst_value_get_structure (gst_value_array_get_value (&topics, i));
    if (g_strcmp0 (gst_structure_get_string (s, "pad-name"), pad_name) == 0)
      topic = g_strdup (gst_structure_get_string (s, "topic"));
  }
  g_value_unset (&topics);
  return topic;
}

static void
on_src_pad_added (GstElement * src, GstPad * pad, Job * j)
{
  GError *err = NULL;
  gchar *topic;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  topic = topic_of_pad (src, GST_PAD_NAME (pad));

  if (j->align == NULL) {
    if (!link_branch (j, pad, topic, &err))
      post_branch_error (j, src, err);
    g_free (topic);
    return;
  }

  /* rosbagsrc pushes every topic from its one streaming thread; timealign
   * never blocks one input waiting for another, so no queue is needed in
   * front of it (a branch that can block — a sink waiting for preroll, a
   * muxer — would need one). */
  {
    GstPad *asink = gst_element_request_pad_simple (j->align, "sink_%u");
    GstPad *asrc;
    gchar *srcname;

    if (asink == NULL) {
      g_set_error (&err, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
          "timealign refused a new sink pad");
      post_branch_error (j, src, err);
      g_free (topic);
      return;
    }
    if (gst_pad_link (pad, asink) != GST_PAD_LINK_OK) {
      g_set_error (&err, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
          "cannot link %s:%s to timealign", GST_DEBUG_PAD_NAME (pad));
      gst_object_unref (asink);
      post_branch_error (j, src, err);
      g_free (topic);
      return;
    }
    /* The paired src pad: sink_N → src_N. */
    srcname = g_strdup (GST_PAD_NAME (asink));
    memcpy (srcname, "src_", 4);
    memmove (srcname + 3, srcname + 4, strlen (srcname + 4) + 1);
    asrc = gst_element_get_static_pad (j->align, srcname);
    if (asrc == NULL) {
      g_set_error (&err, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
          "timealign did not add %s with %s", srcname, GST_PAD_NAME (asink));
      post_branch_error (j, j->align, err);
    } else {
      if (!link_branch (j, asrc, topic, &err))
        post_branch_error (j, j->align, err);
      gst_object_unref (asrc);
    }
    g_free (srcname);
    gst_object_unref (asink);
  }
  g_free (topic);
}

/* ---- bus ---- */

static const char *
struct_topic (const GstStructure * s)
{
  static const char *const keys[] = { "path", "topic", "pad", NULL };
  int i;

  for (i = 0; keys[i]; i++) {
    const char *v = gst_structure_get_string (s, keys[i]);
    if (v != NULL && *v != '\0')
      return v;
  }
  return NULL;
}

static gboolean
get_int64_any (const GstStructure * s, const char *const *keys, gint64 * out)
{
  int i;

  for (i = 0; keys[i]; i++) {
    const GValue *v = gst_structure_get_value (s, keys[i]);
    if (v == NULL)
      continue;
    if (G_VALUE_HOLDS_UINT64 (v)) {
      *out = (gint64) g_value_get_uint64 (v);
      return TRUE;
    } else if (G_VALUE_HOLDS_INT64 (v)) {
      *out = g_value_get_int64 (v);
      return TRUE;
    } else if (G_VALUE_HOLDS_UINT (v)) {
      *out = g_value_get_uint (v);
      return TRUE;
    } else if (G_VALUE_HOLDS_INT (v)) {
      *out = g_value_get_int (v);
      return TRUE;
    } else if (G_VALUE_HOLDS_DOUBLE (v)) {
      *out = (gint64) g_value_get_double (v);
      return TRUE;
    }
  }
  return FALSE;
}

/* Absorbs one per-stream structure of an hdf5sink or timealign report. */
static void
absorb_stream (Job * j, const GstStructure * s, gboolean from_sink)
{
  static const char *const rows_k[] = { "rows", NULL };
  static const char *const bytes_k[] = { "bytes", NULL };
  static const char *const dropped_k[] = { "missed", NULL };
  static const char *const errmean_k[] = { "mean-error", NULL };
  static const char *const errmax_k[] = { "max-error", NULL };
  const char *topic = struct_topic (s);
  MbcRow *r;
  gint64 v;

  if (topic == NULL)
    topic = gst_structure_get_name (s);
  r = mbc_table_row (&j->app->table, j->display, topic);
  if (from_sink) {
    if (get_int64_any (s, rows_k, &v))
      r->rows = v;
    if (get_int64_any (s, bytes_k, &v))
      r->bytes = v;
  } else {
    if (get_int64_any (s, dropped_k, &v))
      r->dropped = v;
    if (get_int64_any (s, errmean_k, &v))
      r->err_mean_ms = v / 1e6;
    if (get_int64_any (s, errmax_k, &v))
      r->err_max_ms = v / 1e6;
  }
}

/* hdf5sink's EOS report and timealign's EOS stats: a structure holding
 * either per-stream sub-structures (a list/array of GstStructure) or
 * "<stream>" fields of type GstStructure. */
static gboolean
absorb_field (GQuark field, const GValue * v, gpointer user_data)
{
  gpointer *args = user_data;
  Job *j = args[0];
  gboolean from_sink = GPOINTER_TO_INT (args[1]);

  if (GST_VALUE_HOLDS_STRUCTURE (v)) {
    absorb_stream (j, gst_value_get_structure (v), from_sink);
  } else if (GST_VALUE_HOLDS_LIST (v) || GST_VALUE_HOLDS_ARRAY (v)) {
    guint i, n = GST_VALUE_HOLDS_LIST (v) ? gst_value_list_get_size (v) :
        gst_value_array_get_size (v);
    for (i = 0; i < n; i++) {
      const GValue *e = GST_VALUE_HOLDS_LIST (v) ?
          gst_value_list_get_value (v, i) : gst_value_array_get_value (v, i);
      if (GST_VALUE_HOLDS_STRUCTURE (e))
        absorb_stream (j, gst_value_get_structure (e), from_sink);
    }
  }
  (void) field;
  return TRUE;
}

static void
absorb_report (Job * j, const GstStructure * s, gboolean from_sink)
{
  gpointer args[2] = { j, GINT_TO_POINTER (from_sink) };
  gst_structure_foreach (s, absorb_field, args);
}

static void start_more (App * app);

static void
job_finish (Job * j)
{
  App *app = j->app;

  if (j->bus_watch) {
    g_source_remove (j->bus_watch);
    j->bus_watch = 0;
  }
  if (j->error_timeout) {
    g_source_remove (j->error_timeout);
    j->error_timeout = 0;
  }
  if (j->pipeline) {
    gst_element_set_state (j->pipeline, GST_STATE_NULL);
    if (j->sink_pads != NULL)
      g_hash_table_destroy (j->sink_pads);
    j->sink_pads = NULL;
    gst_clear_object (&j->src);
    gst_clear_object (&j->align);
    gst_clear_object (&j->sink);
    gst_clear_object (&j->pipeline);
  }
  j->t_end = g_get_monotonic_time ();
  if (j->state == JOB_RUNNING) {
    if (rename (j->partial, j->out) != 0)
      job_fail (j, "cannot rename %s to %s: %s", j->partial, j->out,
          g_strerror (errno));
    else
      j->state = JOB_DONE;
  }
  app->running--;
  app->finished++;
  start_more (app);
}

static void
job_fail (Job * j, const char *fmt, ...)
{
  va_list ap;

  if (j->error == NULL) {
    va_start (ap, fmt);
    j->error = g_strdup_vprintf (fmt, ap);
    va_end (ap);
    mbc_one_line (j->error, 400);
  }
  j->state = JOB_FAILED;
}

/* No specific error followed a generic one: report the generic one. */
static gboolean
on_error_timeout (gpointer user_data)
{
  Job *j = user_data;

  j->error_timeout = 0;
  job_fail (j, "%s", j->generic_error);
  job_finish (j);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Job *j = user_data;
  App *app = j->app;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL;
      gboolean generic;

      gst_message_parse_error (msg, &err, &dbg);
      /* "Internal data stream error" is what an element posts when the
       * element downstream returned an error: the reason comes from that
       * element, maybe a moment later (another thread). Wait briefly for
       * it and report it instead. */
      generic = g_error_matches (err, GST_STREAM_ERROR,
          GST_STREAM_ERROR_FAILED);
      if (generic && j->generic_error == NULL) {
        j->generic_error = g_strdup_printf ("%s: %s",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
        j->error_timeout = g_timeout_add (300, on_error_timeout, j);
      } else if (!generic) {
        job_fail (j, "%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
            err->message);
      }
      if (dbg != NULL)
        g_debug ("%s: %s", j->display, dbg);
      g_clear_error (&err);
      g_free (dbg);
      if (generic)
        break;
      if (j->error_timeout) {
        g_source_remove (j->error_timeout);
        j->error_timeout = 0;
      }
      j->bus_watch = 0;
      job_finish (j);
      return G_SOURCE_REMOVE;
    }
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      progress_clear (app);
      fprintf (stderr, "membound-convert: warning: %s: %s\n", j->display,
          err->message);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      const char *name = gst_structure_get_name (s);

      if (GST_MESSAGE_SRC (msg) == GST_OBJECT (j->sink)
          && strcmp (name, MB_HDF5SINK_DONE_MESSAGE) == 0) {
        absorb_report (j, s, TRUE);
      } else if (j->align && GST_MESSAGE_SRC (msg) == GST_OBJECT (j->align)
          && strcmp (name, MB_TIMEALIGN_STATS_MESSAGE) == 0) {
        absorb_report (j, s, FALSE);
        gst_structure_get_uint64 (s, MB_TIMEALIGN_FIELD_TICKS_OUT,
            &j->ticks_out);
        gst_structure_get_uint64 (s, MB_TIMEALIGN_FIELD_TICKS_DROPPED,
            &j->ticks_dropped);
        j->have_ticks = TRUE;
      }
      break;
    }
    case GST_MESSAGE_EOS:
      if (j->generic_error != NULL)
        job_fail (j, "%s", j->generic_error);
      j->bus_watch = 0;
      job_finish (j);
      return G_SOURCE_REMOVE;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- jobs ---- */

static gboolean
topic_selected (const MbcOptions * o, const char *topic)
{
  gchar **sel;
  gboolean found = FALSE;
  int i;

  if (o->topics == NULL || *o->topics == '\0')
    return TRUE;
  sel = g_strsplit (o->topics, ",", -1);
  for (i = 0; sel[i] != NULL && !found; i++)
    found = g_str_equal (g_strstrip (sel[i]), topic);
  g_strfreev (sel);
  return found;
}

/* Requests one hdf5sink pad per converted topic while the pipeline is not
 * running, with its `path` (the topic) and, for --layout aloha, its
 * `aloha-role`: pad properties cannot change once data flows. */
static gboolean
request_sink_pads (Job * j, GError ** err)
{
  const MbcOptions *o = &j->app->opt;
  GValue topics = G_VALUE_INIT;
  guint i, n;

  j->sink_pads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      gst_object_unref);
  g_value_init (&topics, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (j->src), MB_ROSBAGSRC_PROP_TOPIC_LIST,
      &topics);
  n = gst_value_array_get_size (&topics);
  for (i = 0; i < n; i++) {
    const GstStructure *s =
        gst_value_get_structure (gst_value_array_get_value (&topics, i));
    const char *topic = gst_structure_get_string (s, "topic");
    const char *role;
    GstPad *pad;

    if (topic == NULL || !topic_selected (o, topic)
        || g_hash_table_contains (j->sink_pads, topic))
      continue;
    pad = gst_element_request_pad_simple (j->sink, "sink_%u");
    if (pad == NULL)
      continue;
    g_object_set (pad, "path", topic, NULL);
    role = mbc_aloha_role (o, topic);
    if (role == NULL && o->layout != NULL && strcmp (o->layout, "aloha") == 0) {
      /* a camera: /cam_high/image_raw/compressed -> cam_high (the last
       * component, hdf5sink's default, is often "compressed" for all) */
      gchar **parts = g_strsplit (topic[0] == '/' ? topic + 1 : topic, "/", 2);
      if (parts[0] != NULL && parts[0][0] != '\0')
        try_set (pad, "aloha-name", parts[0]);
      g_strfreev (parts);
    }
    if (role != NULL && !try_set (pad, "aloha-role", role)) {
      g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
          "hdf5sink pads have no aloha-role property");
      gst_object_unref (pad);
      g_value_unset (&topics);
      return FALSE;
    }
    g_hash_table_insert (j->sink_pads, g_strdup (topic), pad);
  }
  g_value_unset (&topics);
  for (i = 0; i < o->n_aloha_roles; i++) {
    gchar *t = g_strndup (o->aloha_roles[i],
        strchr (o->aloha_roles[i], '=') - o->aloha_roles[i]);
    gboolean known = g_hash_table_contains (j->sink_pads, t);
    if (!known && n > 0) {
      g_set_error (err, GST_CORE_ERROR, GST_CORE_ERROR_PAD,
          "--aloha-role: topic %s is not converted from this bag", t);
      g_free (t);
      return FALSE;
    }
    g_free (t);
  }
  return TRUE;
}

static gboolean
job_build (Job * j, GError ** err)
{
  App *app = j->app;
  MbcOptions *o = &app->opt;
  GstBus *bus;

  j->pipeline = gst_pipeline_new (NULL);
  j->src = make_element ("rosbagsrc", "src", err);
  if (j->src == NULL)
    return FALSE;
  j->sink = make_element ("hdf5sink", "sink", err);
  if (j->sink == NULL)
    return FALSE;
  if (o->align_to != NULL || o->rate_num > 0) {
    j->align = make_element ("timealign", "align", err);
    if (j->align == NULL)
      return FALSE;
  }
  /* keep our own refs */
  gst_object_ref (j->src);
  gst_object_ref (j->sink);
  gst_bin_add_many (GST_BIN (j->pipeline), j->src, j->sink, NULL);
  if (j->align) {
    gst_object_ref (j->align);
    gst_bin_add (GST_BIN (j->pipeline), j->align);
  }

  g_object_set (j->src, "location", j->in->path, NULL);
  /* Messages leave rosbagsrc as sub-buffers pinning their chunk, and
   * hdf5sink keeps a buffer until its batch is written (batch-size buffers
   * or batch-timeout). With rosbagsrc's default 4 chunks in flight, a topic
   * that has one message per chunk stalls the source until the batch timer
   * fires (measured: 6 messages/s). More chunks in flight and a short batch
   * timeout keep data moving; memory stays bounded by both. */
  try_set (j->src, "chunks-in-flight", "16");
  try_set (j->sink, "batch-timeout", "50000000");
  if (o->topics != NULL)
    g_object_set (j->src, "topics", o->topics, NULL);
  g_object_set (j->sink, "location", j->partial, NULL);
  if (!request_sink_pads (j, err))
    return FALSE;
  if (o->layout != NULL) {
    static const char *const p[] = { "layout", NULL };
    if (!set_one_of (j->sink, p, o->layout, "--layout", err))
      return FALSE;
  }
  if (o->jpeg_quality >= 0) {
    static const char *const p[] = { "jpeg-quality", NULL };
    char q[16];
    g_snprintf (q, sizeof (q), "%d", o->jpeg_quality);
    if (!set_one_of (j->sink, p, q, "--jpeg-quality", err))
      return FALSE;
  }
  if (j->align) {
    if (o->align_to != NULL) {
      static const char *const p[] = { "reference", "reference-topic",
        "reference-pad", NULL
      };
      if (!set_one_of (j->align, p, o->align_to, "--align-to", err))
        return FALSE;
    } else {
      static const char *const p[] = { "rate", NULL };
      char r[64];
      g_snprintf (r, sizeof (r), "%d/%d", o->rate_num, o->rate_den);
      if (!set_one_of (j->align, p, r, "--rate", err))
        return FALSE;
    }
    if (o->tolerance_ns >= 0) {
      static const char *const p[] = { "tolerance", NULL };
      char t[32];
      g_snprintf (t, sizeof (t), "%" G_GINT64_FORMAT, o->tolerance_ns);
      if (!set_one_of (j->align, p, t, "--tolerance", err))
        return FALSE;
    }
  }
  g_signal_connect (j->src, "pad-added", G_CALLBACK (on_src_pad_added), j);
  g_signal_connect (j->src, "no-more-pads", G_CALLBACK (on_no_more_pads), j);

  bus = gst_pipeline_get_bus (GST_PIPELINE (j->pipeline));
  j->bus_watch = gst_bus_add_watch (bus, on_bus, j);
  gst_object_unref (bus);
  return TRUE;
}

static void
job_start (Job * j)
{
  App *app = j->app;
  GError *err = NULL;
  struct stat st;

  app->running++;
  j->state = JOB_RUNNING;
  j->t_start = g_get_monotonic_time ();

  if (!app->opt.force && stat (j->out, &st) == 0) {
    j->state = JOB_SKIPPED;
    app->running--;
    app->finished++;
    return;
  }
  if (mbc_make_parent_dirs (j->out) != 0) {
    job_fail (j, "cannot create the directory for %s: %s", j->out,
        g_strerror (errno));
    app->running--;
    app->finished++;
    return;
  }
  unlink (j->partial);

  if (!job_build (j, &err)) {
    job_fail (j, "%s", err->message);
    g_clear_error (&err);
    job_finish (j);             /* tears down what was built */
    return;
  }
  if (gst_element_set_state (j->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message on the bus carries the reason */
    GstBus *bus = gst_pipeline_get_bus (GST_PIPELINE (j->pipeline));
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (m != NULL) {
      GError *e = NULL;
      gst_message_parse_error (m, &e, NULL);
      job_fail (j, "%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (m)),
          e->message);
      g_clear_error (&e);
      gst_message_unref (m);
    } else {
      job_fail (j, "the pipeline did not start");
    }
    gst_object_unref (bus);
    job_finish (j);
    return;
  }
  g_object_get (j->src, "duration", &j->duration, NULL);
}

static void
start_more (App * app)
{
  while (app->running < app->opt.jobs && app->next < app->n_inputs
      && !app->interrupted)
    job_start (&app->jobs[app->next++]);
  if (app->running == 0 && (app->next >= app->n_inputs || app->interrupted))
    g_main_loop_quit (app->loop);
}

/* ---- progress ---- */

static void
progress_compute (App * app, MbcProgress * p)
{
  double sum = 0;
  int i;
  guint64 rchar;
  gint64 now = g_get_monotonic_time ();

  memset (p, 0, sizeof (*p));
  for (i = 0; i < app->n_inputs; i++) {
    Job *j = &app->jobs[i];

    if (j->state == JOB_RUNNING && j->src != NULL) {
      gint64 pos = -1;
      if (j->duration == 0 || j->duration == GST_CLOCK_TIME_NONE)
        g_object_get (j->src, "duration", &j->duration, NULL);
      if (j->duration > 0 && j->duration != GST_CLOCK_TIME_NONE
          && gst_element_query_position (j->src,
              GST_FORMAT_TIME, &pos) && pos >= 0)
        j->fraction = CLAMP ((double) pos / (double) j->duration, 0.0, 1.0);
      sum += j->fraction;
      p->running++;
      if (p->current == NULL)
        p->current = j->in->path;
    } else if (j->state != JOB_PENDING) {
      sum += 1.0;
      p->done++;
    }
  }
  p->total = app->n_inputs;
  p->fraction = app->n_inputs ? sum / app->n_inputs : 1.0;
  p->rss_bytes = read_rss ();
  if (p->rss_bytes > app->peak_rss)
    app->peak_rss = p->rss_bytes;
  p->elapsed_s = (now - app->t0) / 1e6;
  if (read_rchar (&rchar)) {
    if (app->average && now > app->t0)
      app->mb_per_s = (rchar - app->first_rchar) / 1e6 /
          ((now - app->t0) / 1e6);
    else if (app->last_rchar_t != 0 && now > app->last_rchar_t)
      app->mb_per_s = (rchar - app->last_rchar) / 1e6 /
          ((now - app->last_rchar_t) / 1e6);
    app->last_rchar = rchar;
    app->last_rchar_t = now;
  }
  p->mb_per_s = app->mb_per_s;
}

static gboolean
on_progress (gpointer user_data)
{
  App *app = user_data;
  MbcProgress p;
  char line[512];

  progress_compute (app, &p);
  if (app->bar) {
    mbc_format_progress (&p, 30, line, sizeof (line));
    fprintf (stderr, "\r\033[K%s", line);
    app->bar_shown = TRUE;
  } else if (app->plain) {
    mbc_format_progress_plain (&p, line, sizeof (line));
    fprintf (stderr, "%s\n", line);
  }
  fflush (stderr);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_sigint (gpointer user_data)
{
  App *app = user_data;
  int i;

  app->interrupted = TRUE;
  for (i = 0; i < app->n_inputs; i++) {
    Job *j = &app->jobs[i];
    if (j->state == JOB_RUNNING && j->pipeline != NULL) {
      job_fail (j, "interrupted");
      job_finish (j);
    }
  }
  start_more (app);
  return G_SOURCE_CONTINUE;
}

/* ---- main ---- */

static void
find_build_plugin (void)
{
  /* Run from a build tree (build/tools/membound-convert): load the plugin
   * next door (build/gst/) so no GST_PLUGIN_PATH is needed. */
  gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *dir, *gstdir, *so;

  if (exe == NULL)
    return;
  dir = g_path_get_dirname (exe);
  gstdir = g_build_filename (dir, "..", "gst", NULL);
  so = g_build_filename (gstdir, "libgstmembound.so", NULL);
  if (g_file_test (so, G_FILE_TEST_EXISTS)
      && gst_registry_find_plugin (gst_registry_get (), "membound") == NULL)
    gst_registry_scan_path (gst_registry_get (), gstdir);
  g_free (so);
  g_free (gstdir);
  g_free (dir);
  g_free (exe);
}

int
main (int argc, char **argv)
{
  App app;
  char err[512];
  int i, n_failed = 0, n_done = 0, n_skipped = 0, ret = 0;
  guint progress_id = 0;

  memset (&app, 0, sizeof (app));
  if (mbc_options_parse (&app.opt, argc, argv, err, sizeof (err)) < 0) {
    fprintf (stderr, "membound-convert: %s (see --help)\n", err);
    return 2;
  }
  if (app.opt.show_help) {
    fputs (mbc_usage (), stdout);
    mbc_options_clear (&app.opt);
    return 0;
  }
  if (app.opt.show_version) {
    printf ("membound-convert %s\n", VERSION);
    mbc_options_clear (&app.opt);
    return 0;
  }

  app.n_inputs = mbc_find_inputs (app.opt.inputs, app.opt.n_inputs,
      &app.inputs, err, sizeof (err));
  if (app.n_inputs < 0) {
    fprintf (stderr, "membound-convert: %s\n", err);
    mbc_options_clear (&app.opt);
    return 1;
  }
  if (app.n_inputs == 0) {
    fprintf (stderr, "membound-convert: no .bag file found in the input\n");
    mbc_options_clear (&app.opt);
    return 1;
  }

  gst_init (NULL, NULL);
  if (app.opt.plugin_path != NULL)
    gst_registry_scan_path (gst_registry_get (), app.opt.plugin_path);
  else
    find_build_plugin ();
  {
    static const char *const needed[] = { "rosbagsrc", "hdf5sink",
      "membudget", NULL
    };
    GstElementFactory *f;
    for (i = 0; needed[i] != NULL; i++) {
      f = gst_element_factory_find (needed[i]);
      if (f == NULL) {
        fprintf (stderr, "membound-convert: element '%s' not found (membound "
            "plugin not built with it, or not on GST_PLUGIN_PATH; see "
            "--plugin-path)\n", needed[i]);
        ret = 1;
        goto out;
      }
      gst_object_unref (f);
    }
    if (app.opt.align_to != NULL || app.opt.rate_num > 0) {
      f = gst_element_factory_find ("timealign");
      if (f == NULL) {
        fprintf (stderr, "membound-convert: element 'timealign' not found "
            "(needed by --align-to/--rate)\n");
        ret = 1;
        goto out;
      }
      gst_object_unref (f);
    }
  }

  app.jobs = g_new0 (Job, app.n_inputs);
  for (i = 0; i < app.n_inputs; i++) {
    Job *j = &app.jobs[i];
    j->app = &app;
    j->in = &app.inputs[i];
    j->out = mbc_output_path (app.opt.output_dir, j->in);
    j->partial = mbc_partial_path (j->out);
    j->display = g_path_get_basename (j->in->path);
    g_mutex_init (&j->lock);
  }

  if (!app.opt.quiet) {
    MbcProgressMode m = app.opt.progress;
    if (m == MBC_PROGRESS_AUTO)
      m = isatty (STDERR_FILENO) ? MBC_PROGRESS_BAR : MBC_PROGRESS_PLAIN;
    app.bar = (m == MBC_PROGRESS_BAR);
    app.plain = (m == MBC_PROGRESS_PLAIN);
  }

  app.loop = g_main_loop_new (NULL, FALSE);
  app.t0 = g_get_monotonic_time ();
  read_rchar (&app.first_rchar);
  if (app.bar || app.plain)
    progress_id = g_timeout_add ((guint) (app.bar ? 250 :
            app.opt.progress_interval * 1000), on_progress, &app);
  g_unix_signal_add (SIGINT, on_sigint, &app);
  g_unix_signal_add (SIGTERM, on_sigint, &app);
  start_more (&app);
  if (app.running > 0 || app.next < app.n_inputs)
    g_main_loop_run (app.loop);
  if (progress_id)
    g_source_remove (progress_id);
  if (app.bar || app.plain) {
    app.average = TRUE;         /* the last line: averages over the run */
    on_progress (&app);
    progress_clear (&app);
  }

  {
    guint64 peak = MAX (read_peak_rss (), app.peak_rss);
    char peak_s[32];

    for (i = 0; i < app.n_inputs; i++) {
      Job *j = &app.jobs[i];
      switch (j->state) {
        case JOB_DONE:
          n_done++;
          break;
        case JOB_SKIPPED:
          n_skipped++;
          break;
        case JOB_FAILED:
          n_failed++;
          break;
        default:
          break;
      }
    }
    if (!app.opt.quiet) {
      MbcTable t = { NULL, 0, 0 };
      char *txt;

      /* table ordered by job, then by stream as reported */
      for (i = 0; i < app.n_inputs; i++) {
        Job *j = &app.jobs[i];
        size_t k;
        gboolean any = FALSE;
        for (k = 0; k < app.table.n_rows; k++) {
          MbcRow *r = &app.table.rows[k];
          if (strcmp (r->bag, j->display) == 0 && j->state == JOB_DONE) {
            mbc_table_add (&t, r->bag, r->stream, r->rows, r->bytes,
                r->dropped, r->err_mean_ms, r->err_max_ms);
            any = TRUE;
          }
        }
        if (!any)
          mbc_table_add (&t, j->display, j->state == JOB_SKIPPED ?
              "(skipped: output exists, use --force)" : j->state ==
              JOB_FAILED ? "(failed)" : "-", -1, -1, -1, -1, -1);
      }
      txt = mbc_table_format (&t);
      fputs (txt, stdout);
      g_free (txt);
      mbc_table_clear (&t);
      for (i = 0; i < app.n_inputs; i++) {
        Job *j = &app.jobs[i];
        if (j->state != JOB_DONE)
          continue;
        printf ("%s -> %s  %.2f s", j->display, j->out,
            (j->t_end - j->t_start) / 1e6);
        if (j->have_ticks)
          printf ("  ticks: %" G_GUINT64_FORMAT " out, %" G_GUINT64_FORMAT
              " dropped", j->ticks_out, j->ticks_dropped);
        printf ("\n");
      }
      mbc_format_bytes (peak, peak_s, sizeof (peak_s));
      printf ("%d converted, %d skipped, %d failed in %.2f s; peak RSS %s\n",
          n_done, n_skipped, n_failed, (g_get_monotonic_time () - app.t0) /
          1e6, peak_s);
      fflush (stdout);
    }
    for (i = 0; i < app.n_inputs; i++) {
      Job *j = &app.jobs[i];
      if (j->state == JOB_FAILED)
        fprintf (stderr, "membound-convert: %s failed: %s\n", j->in->path,
            j->error ? j->error : "unknown error");
      else if (j->state == JOB_PENDING && app.interrupted)
        n_failed++;
    }
    if (n_failed > 0)
      ret = 1;
  }

  for (i = 0; i < app.n_inputs; i++) {
    Job *j = &app.jobs[i];
    g_free (j->out);
    g_free (j->partial);
    g_free (j->display);
    g_free (j->error);
    g_free (j->generic_error);
    g_mutex_clear (&j->lock);
  }
  g_free (app.jobs);
  g_main_loop_unref (app.loop);
  mbc_table_clear (&app.table);
out:
  mbc_inputs_free (app.inputs, (size_t) app.n_inputs);
  mbc_options_clear (&app.opt);
  gst_deinit ();
  return ret;
}
