/* timealign benchmark: N inputs x M small buffers pushed from one thread in
 * time order (as rosbagsrc does), through timealign, compared in the same
 * run with the same flow through one `identity` per input, and with no
 * element at all (buffer creation + fakesink only).
 *
 * Usage: bench-timealign [buffers-per-input] [inputs] [cases, e.g. 0123]
 * Prints one markdown table row per case (see bench/timealign/run).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mbcommon.h"

#define MAXIN 8

/* CPU time of the whole process (the pushing thread and timealign's output
 * thread): other load on the machine inflates it less than wall time */
static gint64
cpu_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long
rss_kb (void)
{
  long pages = 0, rss = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (f) {
    if (fscanf (f, "%ld %ld", &pages, &rss) != 2)
      rss = 0;
    fclose (f);
  }
  return rss * (sysconf (_SC_PAGESIZE) / 1024);
}

typedef struct
{
  const gchar *name;
  gdouble ns_per_buffer;
  gdouble wall_ns_per_buffer;
  long rss_10, rss_50, rss_end;
  guint64 received;
} Result;

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

/* mode 0: no element, 1: identity per input, 2: timealign, 3: queue per
 * input (a thread boundary, as timealign's output task is) */
static void
run (gint mode, gint n_in, guint64 n_buf, Result * r)
{
  GstElement *pipe = gst_pipeline_new (NULL), *ta = NULL;
  GstPad *src[MAXIN];
  GstCaps *caps = gst_caps_new_empty_simple ("application/x-bench");
  GstSegment seg;
  guint64 i;
  gint received = 0;
  gint j;
  gint64 t0, t1, w0;
  GstClockTime period = GST_MSECOND;
  GstBus *bus;
  GstMessage *msg;

  if (mode == 2) {
    ta = gst_element_factory_make ("timealign", NULL);
    g_assert (ta);
    g_object_set (ta, "tolerance", (guint64) GST_MSECOND, NULL);
    gst_bin_add (GST_BIN (pipe), ta);
  }
  for (j = 0; j < n_in; j++) {
    GstElement *sink = gst_element_factory_make ("fakesink", NULL);
    GstPad *target, *sinkpad;
    gchar *name = g_strdup_printf ("src%d", j);

    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add (GST_BIN (pipe), sink);
    if (mode == 1 || mode == 3) {
      GstElement *id = gst_element_factory_make (mode == 1 ? "identity" :
          "queue", NULL);
      gst_bin_add (GST_BIN (pipe), id);
      gst_element_link (id, sink);
      target = gst_element_get_static_pad (id, "sink");
    } else if (mode == 2) {
      gchar *pn = g_strdup_printf ("src_%d", j);
      GstPad *out;
      target = gst_element_request_pad_simple (ta, "sink_%u");
      out = gst_element_get_static_pad (ta, pn);
      g_assert (gst_pad_link (out, gst_element_get_static_pad (sink,
                  "sink")) == GST_PAD_LINK_OK);
      gst_object_unref (out);
      g_free (pn);
    } else {
      target = gst_element_get_static_pad (sink, "sink");
    }
    sinkpad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_probe,
        &received, NULL);
    gst_object_unref (sinkpad);
    src[j] = gst_pad_new (name, GST_PAD_SRC);
    g_free (name);
    gst_pad_set_active (src[j], TRUE);
    g_assert (gst_pad_link (src[j], target) == GST_PAD_LINK_OK);
    gst_object_unref (target);
  }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  gst_segment_init (&seg, GST_FORMAT_TIME);
  for (j = 0; j < n_in; j++) {
    gst_pad_push_event (src[j], gst_event_new_stream_start ("bench"));
    gst_pad_push_event (src[j], gst_event_new_caps (caps));
    gst_pad_push_event (src[j], gst_event_new_segment (&seg));
  }

  w0 = g_get_monotonic_time ();
  t0 = cpu_ns ();
  for (i = 0; i < n_buf; i++) {
    for (j = 0; j < n_in; j++) {
      /* phases spread inside one period: in time order input by input */
      GstClockTime ts = i * period + j * period / (n_in + 1);
      GstBuffer *b = gst_buffer_new_allocate (NULL, 16, NULL);
      GST_BUFFER_PTS (b) = ts;
      mb_buffer_add_unix_time (b, G_GUINT64_CONSTANT (1700000000000000000) +
          ts);
      gst_pad_push (src[j], b);
    }
    if (i == n_buf / 10)
      r->rss_10 = rss_kb ();
    if (i == n_buf / 2)
      r->rss_50 = rss_kb ();
  }
  for (j = 0; j < n_in; j++)
    gst_pad_push_event (src[j], gst_event_new_eos ());
  /* until every sink has it (timealign pushes from its own thread) */
  bus = gst_element_get_bus (pipe);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS);
  g_assert (msg != NULL);
  gst_message_unref (msg);
  gst_object_unref (bus);
  t1 = cpu_ns ();
  r->wall_ns_per_buffer = (g_get_monotonic_time () - w0) * 1000.0 /
      (n_buf * n_in);
  r->rss_end = rss_kb ();
  r->ns_per_buffer = (t1 - t0) / (gdouble) (n_buf * n_in);
  r->received = (guint64) g_atomic_int_get (&received);

  gst_element_set_state (pipe, GST_STATE_NULL);
  for (j = 0; j < n_in; j++)
    gst_object_unref (src[j]);
  gst_object_unref (pipe);
  gst_caps_unref (caps);
}

int
main (int argc, char **argv)
{
  guint64 n_buf = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 1000000;
  gint n_in = argc > 2 ? atoi (argv[2]) : 3;
  /* optional: only these cases (digits 0-3), for profiling one of them */
  const gchar *only = argc > 3 ? argv[3] : "0123";
  const gchar *names[] = { "fakesink only (buffer creation)",
    "identity per input", "timealign", "queue per input"
  };
  Result res[4];
  gint m;

  gst_init (&argc, &argv);
  mb_tags_init ();
  if (n_in < 1 || n_in > MAXIN)
    n_in = 3;
  memset (res, 0, sizeof (res));
  /* three rounds, cases interleaved; keep each case's median round */
  {
    Result rounds[3][4];
    gint k;
    for (k = 0; k < 3; k++)
      for (m = 0; m < 4; m++) {
        memset (&rounds[k][m], 0, sizeof (Result));
        if (strchr (only, '0' + m))
          run (m, n_in, n_buf, &rounds[k][m]);
      }
    for (m = 0; m < 4; m++) {
      gdouble a = rounds[0][m].ns_per_buffer, b = rounds[1][m].ns_per_buffer,
          c = rounds[2][m].ns_per_buffer;
      gint med = (a <= b) == (b <= c) ? 1 : ((b <= a) == (a <= c) ? 0 : 2);
      res[m] = rounds[med][m];
      res[m].name = names[m];
    }
  }
  printf ("| case | CPU ns per input buffer, all threads (median of 3) | "
      "extra vs fakesink only | wall ns per input buffer | buffers out "
      "| RSS at 10 %% / 50 %% / end (MiB) |\n|---|---|---|---|---|---|\n");
  for (m = 0; m < 4; m++)
    printf ("| %s | %.0f | %+.0f | %.0f | %" G_GUINT64_FORMAT
        " | %.1f / %.1f / %.1f |\n",
        res[m].name, res[m].ns_per_buffer,
        res[m].ns_per_buffer - res[0].ns_per_buffer,
        res[m].wall_ns_per_buffer, res[m].received,
        res[m].rss_10 / 1024.0, res[m].rss_50 / 1024.0, res[m].rss_end / 1024.0);
  /* timealign must deliver every tick on every output */
  return !strchr (only, '2') || res[2].received == n_buf * n_in ? 0 : 1;
}
