/* GstCheck tests of hdf5sink: request pads, paths from properties and tags,
 * timestamps from metas and running time, raw frames, EOS message, errors,
 * backpressure that flushing and state changes undo, leaky drops.
 *
 * A slow disk is simulated by holding the process-wide HDF5 lock (this
 * executable exports mb_h5_lock, which the plugin then uses).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <hdf5.h>

#include <membound/hdf5sink.h>
#include "common/mbcommon.h"
#include "h5lock.h"

static gchar *tmpdir;
static GstElement *the_sink;    /* owned by the test, see make_sink */

static gchar *
tmp_file (const gchar * name)
{
  gchar *p = g_build_filename (tmpdir, name, NULL);
  g_unlink (p);
  return p;
}

static GstElement *
make_sink (const gchar * location, GstBus ** bus)
{
  GstElement *e = gst_element_factory_make ("hdf5sink", NULL);
  fail_unless (e != NULL);
  the_sink = gst_object_ref_sink (e);
  g_object_set (e, "location", location, "stats-interval", (guint64) 0, NULL);
  *bus = gst_bus_new ();
  gst_element_set_bus (e, *bus);
  return e;
}

/* Pops messages until one of @type (and @name for element messages). */
static GstMessage *
wait_message (GstBus * bus, GstMessageType type, const gchar * name)
{
  GstMessage *msg;

  while ((msg = gst_bus_timed_pop (bus, 20 * GST_SECOND))) {
    if (GST_MESSAGE_TYPE (msg) == type && (name == NULL ||
            gst_message_has_name (msg, name)))
      return msg;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && type !=
        GST_MESSAGE_ERROR) {
      GError *err;
      gchar *dbg;
      gst_message_parse_error (msg, &err, &dbg);
      fail ("unexpected error: %s (%s)", err->message, dbg);
    }
    gst_message_unref (msg);
  }
  fail ("no %s message", name ? name : gst_message_type_get_name (type));
  return NULL;
}

static GstBuffer *
payload (guint stream, guint i)
{
  gsize n = 50 + (i * 37 + stream * 11) % 300, k;
  guint8 *d = g_malloc (n);
  for (k = 0; k < n; k++)
    d[k] = (guint8) (stream * 100 + i * 3 + k);
  return gst_buffer_new_wrapped (d, n);
}

static void
check_vlen (hid_t f, const gchar * path, guint stream, guint rows)
{
  hid_t d = H5Dopen2 (f, path, H5P_DEFAULT);
  hid_t t = H5Tvlen_create (H5T_NATIVE_UINT8);
  hid_t s = H5Dget_space (d);
  hsize_t n;
  hvl_t *v;
  guint i;

  fail_unless (d >= 0, "no dataset %s", path);
  H5Sget_simple_extent_dims (s, &n, NULL);
  fail_unless_equals_int ((gint) n, rows);
  v = g_new0 (hvl_t, n);
  fail_unless (H5Dread (d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
  for (i = 0; i < n; i++) {
    GstBuffer *b = payload (stream, i);
    fail_unless (gst_buffer_memcmp (b, 0, v[i].p, v[i].len) == 0);
    fail_unless_equals_int ((gint) gst_buffer_get_size (b), (gint) v[i].len);
    gst_buffer_unref (b);
  }
  H5Dvlen_reclaim (t, s, H5P_DEFAULT, v);
  g_free (v);
  H5Sclose (s);
  H5Tclose (t);
  H5Dclose (d);
}

static void
read_i64 (hid_t f, const gchar * path, gint64 * out, guint rows)
{
  hid_t d = H5Dopen2 (f, path, H5P_DEFAULT);
  hid_t s = H5Dget_space (d);
  hsize_t n;

  fail_unless (d >= 0, "no dataset %s", path);
  H5Sget_simple_extent_dims (s, &n, NULL);
  fail_unless_equals_int ((gint) n, rows);
  fail_unless (H5Dread (d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
          out) >= 0);
  H5Sclose (s);
  H5Dclose (d);
}

GST_START_TEST (test_two_pads_eos)
{
  gchar *loc = tmp_file ("two.h5");
  GstBus *bus;
  GstElement *sink = make_sink (loc, &bus);
  GstHarness *h0, *h1;
  GstMessage *msg;
  const GstStructure *st;
  const GValue *streams;
  GstPad *pad1;
  gint64 ts[40];
  guint64 rows;
  guint i;
  hid_t f;

  h0 = gst_harness_new_with_element (sink, "sink_%u", NULL);
  h1 = gst_harness_new_with_element (sink, "sink_%u", NULL);
  pad1 = gst_element_get_static_pad (sink, "sink_1");
  fail_unless (pad1 != NULL);
  g_object_set (pad1, "path", "other/stream/", NULL);
  gst_object_unref (pad1);
  gst_harness_set_src_caps_str (h0, "image/jpeg");
  gst_harness_set_src_caps_str (h1, "application/octet-stream");
  mb_tags_init ();
  fail_unless (gst_harness_push_event (h0,
          gst_event_new_tag (gst_tag_list_new (MB_TAG_ROS_TOPIC,
                  "/cam/image/compressed", NULL))));

  for (i = 0; i < 40; i++) {
    GstBuffer *b = payload (0, i);
    mb_buffer_add_unix_time (b, 1700000000000000000ULL + i * 1000);
    if (i >= 30)                /* later rows carry a different capture time */
      mb_buffer_add_source_time (b, 1700000000000000000ULL + i * 1000 - 7);
    fail_unless_equals_int (gst_harness_push (h0, b), GST_FLOW_OK);
    if (i < 23) {
      b = payload (1, i);
      GST_BUFFER_PTS (b) = i * GST_MSECOND;
      fail_unless_equals_int (gst_harness_push (h1, b), GST_FLOW_OK);
    }
  }
  fail_unless (gst_harness_push_event (h0, gst_event_new_eos ()));
  fail_unless (gst_harness_push_event (h1, gst_event_new_eos ()));

  msg = wait_message (bus, GST_MESSAGE_ELEMENT, MB_HDF5SINK_DONE_MESSAGE);
  st = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_uint64 (st, MB_HDF5SINK_FIELD_ROWS, &rows));
  fail_unless_equals_int ((gint) rows, 63);
  fail_unless_equals_string (gst_structure_get_string (st,
          MB_HDF5SINK_FIELD_LOCATION), loc);
  streams = gst_structure_get_value (st, MB_HDF5SINK_FIELD_STREAMS);
  fail_unless_equals_int (gst_value_array_get_size (streams), 2);
  gst_message_unref (msg);
  msg = wait_message (bus, GST_MESSAGE_EOS, NULL);
  gst_message_unref (msg);

  /* the file is closed at EOS: readable while the element still exists */
  f = H5Fopen (loc, H5F_ACC_RDONLY, H5P_DEFAULT);
  fail_unless (f >= 0);
  check_vlen (f, "/cam/image/compressed/data", 0, 40);
  check_vlen (f, "/other/stream/data", 1, 23);
  read_i64 (f, "/cam/image/compressed/timestamp", ts, 40);
  for (i = 0; i < 40; i++)
    fail_unless_equals_int64 (ts[i], 1700000000000000000LL + i * 1000);
  read_i64 (f, "/cam/image/compressed/source_timestamp", ts, 40);
  for (i = 0; i < 40; i++)
    fail_unless_equals_int64 (ts[i], 1700000000000000000LL + i * 1000 -
        (i >= 30 ? 7 : 0));
  read_i64 (f, "/other/stream/timestamp", ts, 23);
  for (i = 0; i < 23; i++)
    fail_unless_equals_int64 (ts[i], (gint64) i * GST_MSECOND);
  fail_unless (H5Lexists (f, "/other/stream/source_timestamp",
          H5P_DEFAULT) == 0);
  fail_unless (H5Aexists_by_name (f, "/cam/image/compressed", "caps",
          H5P_DEFAULT) > 0);
  H5Fclose (f);

  /* after EOS more data is refused */
  fail_unless_equals_int (gst_harness_push (h0, payload (0, 99)),
      GST_FLOW_EOS);

  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h1);
  gst_harness_teardown (h0);
  gst_clear_object (&the_sink);
  gst_object_unref (bus);
  g_free (loc);
}

GST_END_TEST;

GST_START_TEST (test_raw_frames)
{
  gchar *loc = tmp_file ("raw.h5");
  GstBus *bus;
  GstElement *sink = make_sink (loc, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  GstVideoInfo info;
  GstMessage *msg;
  guint8 out[3 * 5 * 7 * 3];
  guint i, x, y;
  hid_t f, d;

  /* width 7 RGB: rows of 21 bytes padded to a stride of 24 */
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=7,height=5,framerate=30/1");
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 7, 5);
  fail_unless_equals_int (GST_VIDEO_INFO_PLANE_STRIDE (&info, 0), 24);
  for (i = 0; i < 3; i++) {
    GstBuffer *b = gst_buffer_new_allocate (NULL, info.size, NULL);
    GstMapInfo map;
    gst_buffer_map (b, &map, GST_MAP_WRITE);
    memset (map.data, 0xAB, map.size);
    for (y = 0; y < 5; y++)
      for (x = 0; x < 21; x++)
        map.data[y * 24 + x] = (guint8) (i * 70 + y * 21 + x);
    gst_buffer_unmap (b, &map);
    fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = wait_message (bus, GST_MESSAGE_EOS, NULL);
  gst_message_unref (msg);

  f = H5Fopen (loc, H5F_ACC_RDONLY, H5P_DEFAULT);
  fail_unless (f >= 0);
  d = H5Dopen2 (f, "/stream_0/data", H5P_DEFAULT);
  fail_unless (d >= 0);
  fail_unless (H5Dread (d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT,
          out) >= 0);
  for (i = 0; i < 3; i++)
    for (y = 0; y < 5; y++)
      for (x = 0; x < 21; x++)
        fail_unless_equals_int (out[(i * 5 + y) * 21 + x],
            (guint8) (i * 70 + y * 21 + x));
  H5Dclose (d);
  H5Fclose (f);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_clear_object (&the_sink);
  gst_object_unref (bus);
  g_free (loc);
}

GST_END_TEST;

GST_START_TEST (test_unstorable_caps)
{
  gchar *loc = tmp_file ("i420.h5");
  GstBus *bus;
  GstElement *sink = make_sink (loc, &bus);
  GstHarness *h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  GstCaps *caps = gst_caps_from_string ("video/x-raw,format=I420,width=8,"
      "height=8,framerate=1/1");
  GstMessage *msg;
  GError *err;
  gchar *dbg;

  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("s")));
  /* refused (the return value of a sticky push only says it was stored) */
  gst_harness_push_event (h, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  msg = wait_message (bus, GST_MESSAGE_ERROR, NULL);
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (strstr (err->message, loc) != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "I420") != NULL, "%s", err->message);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_clear_object (&the_sink);
  gst_object_unref (bus);
  g_free (loc);
}

GST_END_TEST;

static void
expect_open_failure (const gchar * loc, gint mode, const gchar * what)
{
  GstBus *bus;
  GstElement *sink = make_sink (loc, &bus);
  GstMessage *msg;
  GError *err;
  gchar *dbg;

  if (mode >= 0)
    gst_util_set_object_arg (G_OBJECT (sink), "mode",
        mode == 0 ? "create" : "append");
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = wait_message (bus, GST_MESSAGE_ERROR, NULL);
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_WRITE), "%s", err->message);
  fail_unless (strstr (err->message, loc) != NULL, "%s", err->message);
  fail_unless (strstr (err->message, what) != NULL, "%s", err->message);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_bus_set_flushing (bus, TRUE);
  gst_element_set_state (sink, GST_STATE_NULL);
  gst_clear_object (&the_sink);
  gst_object_unref (bus);
}

GST_START_TEST (test_open_errors)
{
  gchar *loc = tmp_file ("exists.h5");

  fail_unless (g_file_set_contents (loc, "x", 1, NULL));
  expect_open_failure (loc, 0, "exists");
  /* not an HDF5 file: append refuses it too */
  expect_open_failure (loc, 1, "could not open");
  expect_open_failure ("/nonexistent-dir/rec.h5", 0, "could not create");
  g_free (loc);
}

GST_END_TEST;

/* ---- slow disk: a thread holds the HDF5 lock until released ---- */

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean held, release;
  GThread *thread;
} Holder;

static gpointer
holder_thread (gpointer data)
{
  Holder *hd = data;

  mb_h5_lock ();
  g_mutex_lock (&hd->lock);
  hd->held = TRUE;
  g_cond_broadcast (&hd->cond);
  while (!hd->release)
    g_cond_wait (&hd->cond, &hd->lock);
  g_mutex_unlock (&hd->lock);
  mb_h5_unlock ();
  return NULL;
}

static Holder *
hold_h5 (void)
{
  Holder *hd = g_new0 (Holder, 1);
  g_mutex_init (&hd->lock);
  g_cond_init (&hd->cond);
  hd->thread = g_thread_new ("holder", holder_thread, hd);
  g_mutex_lock (&hd->lock);
  while (!hd->held)
    g_cond_wait (&hd->cond, &hd->lock);
  g_mutex_unlock (&hd->lock);
  return hd;
}

static void
release_h5 (Holder * hd)
{
  g_mutex_lock (&hd->lock);
  hd->release = TRUE;
  g_cond_broadcast (&hd->cond);
  g_mutex_unlock (&hd->lock);
  g_thread_join (hd->thread);
  g_mutex_clear (&hd->lock);
  g_cond_clear (&hd->cond);
  g_free (hd);
}

typedef struct
{
  GstHarness *h;
  guint n;
  volatile gint done;
  GstFlowReturn last;
} Pusher;

static gpointer
push_thread (gpointer data)
{
  Pusher *p = data;
  guint i;

  for (i = 0; i < p->n; i++) {
    p->last = gst_harness_push (p->h, payload (0, i));
    if (p->last != GST_FLOW_OK)
      break;
  }
  g_atomic_int_set (&p->done, 1);
  return NULL;
}

static GstHarness *
slow_setup (const gchar * name, GstBus ** bus, gboolean leaky)
{
  gchar *loc = tmp_file (name);
  GstElement *sink = make_sink (loc, bus);
  GstHarness *h;

  g_object_set (sink, "max-queue-buffers", 3, "batch-size", 1,
      "leaky", leaky, NULL);
  h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  g_free (loc);
  return h;
}

GST_START_TEST (test_backpressure_flush)
{
  GstBus *bus;
  GstHarness *h = slow_setup ("slow.h5", &bus, FALSE);
  Holder *hd = hold_h5 ();
  Pusher p = { h, 20, 0, GST_FLOW_OK };
  GThread *t = g_thread_new ("push", push_thread, &p);

  /* the writer is stuck on the "disk": the queue fills and blocks */
  g_usleep (300 * 1000);
  fail_if (g_atomic_int_get (&p.done), "push did not block on a full queue");
  /* FLUSH_START releases the blocked push */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_thread_join (t);
  fail_unless_equals_int (p.last, GST_FLOW_FLUSHING);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  }

  /* blocked again, then a state change to NULL must not deadlock */
  p.done = 0;
  p.last = GST_FLOW_OK;
  t = g_thread_new ("push", push_thread, &p);
  g_usleep (300 * 1000);
  fail_if (g_atomic_int_get (&p.done));
  {
    /* the writer finishes its current write when the disk comes back */
    GThread *rel = g_thread_new ("release", (GThreadFunc) release_h5, hd);
    fail_unless_equals_int (gst_element_set_state (h->element,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    g_thread_join (rel);
  }
  g_thread_join (t);
  fail_unless_equals_int (p.last, GST_FLOW_FLUSHING);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_clear_object (&the_sink);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_leaky)
{
  GstBus *bus;
  GstHarness *h = slow_setup ("leaky.h5", &bus, TRUE);
  Holder *hd = hold_h5 ();
  GstMessage *msg;
  guint64 dropped = 0, processed, qdropped;
  GstFormat fmt;
  guint i;

  for (i = 0; i < 20; i++)
    fail_unless_equals_int (gst_harness_push (h, payload (0, i)),
        GST_FLOW_OK);
  g_object_get (h->element, "dropped", &dropped, NULL);
  fail_unless (dropped >= 16, "dropped %" G_GUINT64_FORMAT, dropped);
  msg = wait_message (bus, GST_MESSAGE_QOS, NULL);
  gst_message_parse_qos_stats (msg, &fmt, &processed, &qdropped);
  fail_unless_equals_int (fmt, GST_FORMAT_BUFFERS);
  fail_unless (qdropped >= 1);
  gst_message_unref (msg);
  release_h5 (hd);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = wait_message (bus, GST_MESSAGE_ELEMENT, MB_HDF5SINK_DONE_MESSAGE);
  {
    guint64 rows, d2;
    const GstStructure *st = gst_message_get_structure (msg);
    gst_structure_get_uint64 (st, MB_HDF5SINK_FIELD_ROWS, &rows);
    gst_structure_get_uint64 (st, MB_HDF5SINK_FIELD_DROPPED, &d2);
    fail_unless_equals_int ((gint) (rows + d2), 20);
  }
  gst_message_unref (msg);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_clear_object (&the_sink);
  gst_object_unref (bus);
}

GST_END_TEST;

GST_START_TEST (test_stats_and_flush_messages)
{
  gchar *loc = tmp_file ("stats.h5");
  GstBus *bus;
  GstElement *sink = make_sink (loc, &bus);
  GstHarness *h;
  GstMessage *msg;
  const GstStructure *st;
  guint64 rows = 0, p99 = 0;
  guint i;

  g_object_set (sink, "stats-interval", 20 * GST_MSECOND, "flush-interval",
      (guint64) 0, NULL);
  h = gst_harness_new_with_element (sink, "sink_%u", NULL);
  gst_harness_set_src_caps_str (h, "application/octet-stream");
  for (i = 0; i < 12; i++)
    fail_unless_equals_int (gst_harness_push (h, payload (0, i)),
        GST_FLOW_OK);
  msg = wait_message (bus, GST_MESSAGE_ELEMENT, MB_HDF5SINK_FLUSHED_MESSAGE);
  st = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_uint64 (st, MB_HDF5SINK_FIELD_ROWS, &rows));
  fail_unless (rows >= 10);
  gst_message_unref (msg);
  msg = wait_message (bus, GST_MESSAGE_ELEMENT, MB_HDF5SINK_STATS_MESSAGE);
  st = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_field (st, MB_HDF5SINK_FIELD_QUEUE_BUFFERS));
  fail_unless (gst_structure_has_field (st, MB_HDF5SINK_FIELD_QUEUE_BYTES));
  fail_unless (gst_structure_get_uint64 (st, MB_HDF5SINK_FIELD_LATENCY_P99,
          &p99));
  fail_unless (gst_structure_has_field (st, MB_HDF5SINK_FIELD_STREAMS));
  gst_message_unref (msg);
  gst_bus_set_flushing (bus, TRUE);
  gst_harness_teardown (h);
  gst_clear_object (&the_sink);
  gst_object_unref (bus);
  g_free (loc);
}

GST_END_TEST;

static Suite *
hdf5sink_suite (void)
{
  Suite *s = suite_create ("hdf5sink");
  TCase *tc = tcase_create ("general");
  const gchar *base = g_getenv ("MB_TEST_TMPDIR");

  g_mkdir_with_parents (base ? base : g_get_tmp_dir (), 0755);
  tmpdir = g_build_filename (base ? base : g_get_tmp_dir (),
      "hdf5sink-XXXXXX", NULL);
  g_mkdtemp (tmpdir);
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_two_pads_eos);
  tcase_add_test (tc, test_raw_frames);
  tcase_add_test (tc, test_unstorable_caps);
  tcase_add_test (tc, test_open_errors);
  tcase_add_test (tc, test_backpressure_flush);
  tcase_add_test (tc, test_leaky);
  tcase_add_test (tc, test_stats_and_flush_messages);
  return s;
}

GST_CHECK_MAIN (hdf5sink);
