/* Embedding example: convert a ROS1 bag to HDF5 from C, every topic aligned
 * to a reference topic, and follow the conversion through the elements' bus
 * messages.
 *
 *   rosbagsrc ─┬─ pad per topic ─┐           ┌─ membudget ─┐
 *              │                 ├ timealign ┼─ membudget ─┼─ hdf5sink
 *              └─ ...           ─┘           └─ ...       ─┘
 *
 * Build: built by meson as build/tools/example-convert (not installed), or
 *   cc convert.c -o example-convert $(pkg-config --cflags --libs gstreamer-1.0) -I<membound>/include
 * Run:
 *   GST_PLUGIN_PATH=build/gst build/tools/example-convert run.bag run.h5 /cam/image_raw/compressed
 *
 * What it shows:
 *   - rosbagsrc adds one src pad per topic (all pushed from ONE streaming
 *     thread); each is linked to a timealign request pad; timealign's src_N
 *     pads go through a membudget (each branch's own thread, all charging one
 *     shared budget) into an hdf5sink request pad whose `path` is the topic;
 *   - membudget-stats messages (held/in-flight bytes, shared budget use, RSS),
 *     hdf5sink-stats / hdf5sink-done (rows and bytes per stream) and
 *     timealign-stats (ticks, alignment error) read with the names from
 *     the headers in include/membound/;
 *   - errors end the run with the element's message and a non-zero exit.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>

#include <gst/gst.h>

#include <membound/hdf5sink.h>
#include <membound/membudget.h>
#include <membound/rosbagsrc.h>
#include <membound/timealign.h>

#define BUDGET_BYTES (64 * 1024 * 1024)

typedef struct
{
  GstElement *pipeline, *align, *sink;
  GMainLoop *loop;
  int exit_code;
} Conv;

/* Called for each topic pad of rosbagsrc (on its streaming thread). */
static void
on_topic_pad (GstElement * src, GstPad * pad, Conv * c)
{
  GstPad *align_sink, *align_src, *mb_sink, *mb_src, *h5_sink;
  GstElement *mb;
  gchar *name;
  const gchar *topic;
  GstStructure *info = NULL;
  GValue topics = G_VALUE_INIT;
  guint i;

  /* Which topic is this pad? rosbagsrc's topic-list maps topics to pads. */
  g_value_init (&topics, GST_TYPE_ARRAY);
  g_object_get_property (G_OBJECT (src), MB_ROSBAGSRC_PROP_TOPIC_LIST, &topics);
  for (i = 0; i < gst_value_array_get_size (&topics); i++) {
    const GstStructure *s =
        gst_value_get_structure (gst_value_array_get_value (&topics, i));
    if (g_strcmp0 (gst_structure_get_string (s, "pad-name"),
            GST_PAD_NAME (pad)) == 0)
      info = gst_structure_copy (s);
  }
  g_value_unset (&topics);
  topic = info ? gst_structure_get_string (info, "topic") : GST_PAD_NAME (pad);

  /* rosbagsrc pad -> timealign sink_N (timealign never blocks one input
   * waiting for another, so no queue is needed here) */
  align_sink = gst_element_request_pad_simple (c->align, "sink_%u");
  gst_pad_link (pad, align_sink);
  name = g_strdup_printf ("src_%s", GST_PAD_NAME (align_sink) + 5);
  align_src = gst_element_get_static_pad (c->align, name);
  g_free (name);

  /* timealign src_N -> membudget -> hdf5sink sink_M (path = topic) */
  mb = gst_element_factory_make ("membudget", NULL);
  g_object_set (mb, "budget", "example-convert", "budget-bytes",
      (guint64) BUDGET_BYTES, "stats-interval", (guint64) GST_SECOND, NULL);
  gst_bin_add (GST_BIN (c->pipeline), mb);
  h5_sink = gst_element_request_pad_simple (c->sink, "sink_%u");
  g_object_set (h5_sink, "path", topic, NULL);
  mb_sink = gst_element_get_static_pad (mb, "sink");
  mb_src = gst_element_get_static_pad (mb, "src");
  gst_pad_link (mb_src, h5_sink);
  gst_pad_link (align_src, mb_sink);
  gst_element_sync_state_with_parent (mb);
  g_print ("topic %s (%s) -> %s\n", topic,
      info ? gst_structure_get_string (info, "type") : "?", topic);

  gst_object_unref (mb_sink);
  gst_object_unref (mb_src);
  gst_object_unref (h5_sink);
  gst_object_unref (align_src);
  gst_object_unref (align_sink);
  if (info)
    gst_structure_free (info);
}

static void
print_streams (const GstStructure * s, const char *field, const char *key)
{
  const GValue *arr = gst_structure_get_value (s, field);
  guint i;

  if (arr == NULL || !GST_VALUE_HOLDS_ARRAY (arr))
    return;
  for (i = 0; i < gst_value_array_get_size (arr); i++) {
    const GstStructure *st =
        gst_value_get_structure (gst_value_array_get_value (arr, i));
    guint64 a = 0, b = 0;

    if (g_str_equal (field, MB_HDF5SINK_FIELD_STREAMS)) {
      gst_structure_get_uint64 (st, MB_HDF5SINK_FIELD_ROWS, &a);
      gst_structure_get_uint64 (st, MB_HDF5SINK_FIELD_BYTES, &b);
      g_print ("    %-34s %8" G_GUINT64_FORMAT " rows %12" G_GUINT64_FORMAT
          " bytes\n", gst_structure_get_string (st, key), a, b);
    } else {
      gst_structure_get_uint64 (st, "mean-error", &a);
      gst_structure_get_uint64 (st, "max-error", &b);
      g_print ("    %-34s |error| mean %.2f ms, max %.2f ms\n",
          gst_structure_get_string (st, key), a / 1e6, b / 1e6);
    }
  }
}

static gboolean
on_message (GstBus * bus, GstMessage * m, Conv * c)
{
  switch (GST_MESSAGE_TYPE (m)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (m);

      if (gst_structure_has_name (s, MB_MEMBUDGET_STATS_MESSAGE)) {
        guint64 held = 0, inflight = 0, used = 0, limit = 0, rss = 0;
        gst_structure_get_uint64 (s, MB_MEMBUDGET_FIELD_LEVEL_BYTES, &held);
        gst_structure_get_uint64 (s, MB_MEMBUDGET_FIELD_INFLIGHT_BYTES,
            &inflight);
        gst_structure_get_uint64 (s, MB_MEMBUDGET_FIELD_BUDGET_USED, &used);
        gst_structure_get_uint64 (s, MB_MEMBUDGET_FIELD_BUDGET_LIMIT, &limit);
        gst_structure_get_uint64 (s, MB_MEMBUDGET_FIELD_RSS, &rss);
        g_print ("%s: held %" G_GUINT64_FORMAT " B, in flight %"
            G_GUINT64_FORMAT " B, budget %.1f / %.1f MB, RSS %.1f MB\n",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), held, inflight, used / 1e6,
            limit / 1e6, rss / 1e6);
      } else if (gst_structure_has_name (s, MB_HDF5SINK_STATS_MESSAGE)) {
        guint64 rows = 0, bytes = 0;
        guint qb = 0;
        gst_structure_get_uint64 (s, MB_HDF5SINK_FIELD_ROWS, &rows);
        gst_structure_get_uint64 (s, MB_HDF5SINK_FIELD_BYTES, &bytes);
        gst_structure_get_uint (s, MB_HDF5SINK_FIELD_QUEUE_BUFFERS, &qb);
        g_print ("hdf5sink: %" G_GUINT64_FORMAT " rows, %.1f MB written, %u "
            "queued\n", rows, bytes / 1e6, qb);
      } else if (gst_structure_has_name (s, MB_HDF5SINK_DONE_MESSAGE)) {
        g_print ("hdf5sink finished %s:\n",
            gst_structure_get_string (s, MB_HDF5SINK_FIELD_LOCATION));
        print_streams (s, MB_HDF5SINK_FIELD_STREAMS, MB_HDF5SINK_FIELD_PATH);
      } else if (gst_structure_has_name (s, MB_TIMEALIGN_STATS_MESSAGE)) {
        guint64 out = 0, dropped = 0;
        gst_structure_get_uint64 (s, MB_TIMEALIGN_FIELD_TICKS_OUT, &out);
        gst_structure_get_uint64 (s, MB_TIMEALIGN_FIELD_TICKS_DROPPED,
            &dropped);
        g_print ("timealign: %" G_GUINT64_FORMAT " ticks, %" G_GUINT64_FORMAT
            " dropped\n", out, dropped);
        print_streams (s, MB_TIMEALIGN_FIELD_INPUTS, "topic");
      }
      break;
    }
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;
      gst_message_parse_warning (m, &err, NULL);
      g_printerr ("warning: %s\n", err->message);
      g_error_free (err);
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gst_message_parse_error (m, &err, NULL);
      g_printerr ("error from %s: %s\n", GST_OBJECT_NAME (GST_MESSAGE_SRC (m)),
          err->message);
      g_error_free (err);
      c->exit_code = 1;
      g_main_loop_quit (c->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (c->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  Conv c = { NULL, NULL, NULL, NULL, 0 };
  GstElement *src;
  GstBus *bus;

  gst_init (&argc, &argv);
  if (argc < 3 || argc > 4) {
    g_printerr ("usage: %s BAG OUT.h5 [REFERENCE_TOPIC]\n", argv[0]);
    return 2;
  }
  src = gst_element_factory_make ("rosbagsrc", NULL);
  c.align = gst_element_factory_make ("timealign", NULL);
  c.sink = gst_element_factory_make ("hdf5sink", NULL);
  if (!src || !c.align || !c.sink
      || !gst_registry_check_feature_version (gst_registry_get (), "membudget",
          0, 0, 0)) {
    g_printerr ("membound elements not found: set GST_PLUGIN_PATH to the "
        "build's gst/ directory\n");
    return 1;
  }
  c.pipeline = gst_pipeline_new ("convert");
  gst_bin_add_many (GST_BIN (c.pipeline), src, c.align, c.sink, NULL);
  /* each message pins its chunk until hdf5sink wrote its batch: keep enough
   * chunks in flight and batches short, or the source stalls */
  g_object_set (src, "location", argv[1], "chunks-in-flight", 16, NULL);
  g_object_set (c.sink, "batch-timeout", (guint64) (50 * GST_MSECOND), NULL);
  g_object_set (c.sink, "location", argv[2], "stats-interval",
      (guint64) GST_SECOND, NULL);
  gst_util_set_object_arg (G_OBJECT (c.sink), "mode", "overwrite");
  if (argc == 4)                /* else: the first pad is the reference */
    g_object_set (c.align, "reference", argv[3], NULL);
  g_object_set (c.align, "tolerance", (guint64) (20 * GST_MSECOND), NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_topic_pad), &c);

  c.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_pipeline_get_bus (GST_PIPELINE (c.pipeline));
  gst_bus_add_watch (bus, (GstBusFunc) on_message, &c);
  if (gst_element_set_state (c.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the reason is an error message on the bus */
    GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    if (m) {
      on_message (bus, m, &c);
      gst_message_unref (m);
    }
    c.exit_code = 1;
  } else {
    g_main_loop_run (c.loop);
  }
  gst_element_set_state (c.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (c.pipeline);
  g_main_loop_unref (c.loop);
  return c.exit_code;
}
