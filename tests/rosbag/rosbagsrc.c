/* GstCheck tests of rosbagsrc's element behaviour: sometimes pads and
 * events, zero-copy sub-buffers of pooled chunk memory, blocking when
 * downstream holds buffers (bounded pool), seeking through a harness,
 * state cycling and errors. Bags are written at test time by
 * tests/data/make_bag.py (python3-rosbag).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <membound/membound.h>
#include <membound/rosbagsrc.h>

#include "common/mbcommon.h"

static gchar *bag_path;

static gchar *
make_bag (const gchar * name, const gchar * extra)
{
  const gchar *tmp = g_getenv ("MB_TEST_TMPDIR");
  gchar *dir = g_build_filename (tmp ? tmp : g_get_tmp_dir (), "rosbagsrc-check",
      NULL);
  gchar *path = g_build_filename (dir, name, NULL);
  gchar *cmd;
  gint status = 1;

  g_mkdir_with_parents (dir, 0755);
  cmd = g_strdup_printf ("/usr/bin/python3 %s/tests/data/make_bag.py -o %s %s",
      MB_SOURCE_ROOT, path, extra);
  /* runs outside a test case: plain asserts */
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  g_free (cmd);
  g_free (dir);
  return path;
}

static GstElement *
new_src (const gchar * topics, guint chunks)
{
  GstElement *e = gst_element_factory_make ("rosbagsrc", NULL);
  fail_unless (e != NULL);
  g_object_set (e, "location", bag_path, "topics", topics, "decode", FALSE,
      "chunks-in-flight", chunks, NULL);
  return e;
}

static void
pad_added (GstElement * e, GstPad * pad, GstHarness * h)
{
  const gchar *want = g_object_get_data (G_OBJECT (e), "want-pad");
  if (!g_strcmp0 (GST_PAD_NAME (pad), want))
    gst_harness_add_element_src_pad (h, pad);
}

/* A harness on the sometimes pad @pad_name of @e (linked when it appears). */
static GstHarness *
harness_on (GstElement * e, const gchar * pad_name)
{
  GstHarness *h = gst_harness_new_with_element (e, NULL, NULL);
  g_object_set_data_full (G_OBJECT (e), "want-pad", g_strdup (pad_name),
      g_free);
  g_signal_connect (e, "pad-added", G_CALLBACK (pad_added), h);
  return h;
}

static guint64
bag_count (const gchar * topic)
{
  GstElement *e = new_src (NULL, 4);
  GValue arr = G_VALUE_INIT;
  guint i;
  guint64 n = 0;

  g_object_get_property (G_OBJECT (e), "topic-list", &arr);
  for (i = 0; i < gst_value_array_get_size (&arr); i++) {
    const GstStructure *s =
        gst_value_get_structure (gst_value_array_get_value (&arr, i));
    if (!g_strcmp0 (gst_structure_get_string (s, "topic"), topic))
      gst_structure_get_uint64 (s, "count", &n);
  }
  g_value_unset (&arr);
  gst_object_unref (e);
  return n;
}

GST_START_TEST (test_sometimes_pad_events)
{
  GstElement *e = new_src ("/joint_states", 4);
  GstHarness *h = harness_on (e, "joint_states");
  GstEvent *ev;
  GstBuffer *buf;
  GstCaps *caps;
  const GstStructure *s;
  guint64 unix_ns, start;
  GstTagList *tags = NULL;
  gchar *topic = NULL;
  GstMemory *mem;

  gst_harness_play (h);
  buf = gst_harness_pull (h);
  fail_unless (buf != NULL);

  /* sticky events replayed in their defined order */
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CAPS);
  gst_event_parse_caps (ev, &caps);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_has_name (s, MB_ROS1_MESSAGE_CAPS));
  fail_unless_equals_string (gst_structure_get_string (s, "type"),
      "sensor_msgs/JointState");
  fail_unless_equals_string (gst_structure_get_string (s, "md5sum"),
      "3066dcd76a6cfaef579bd0f34173e9fd");
  fail_unless (strstr (gst_structure_get_string (s, "message-definition"),
          "float64[] position") != NULL);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_SEGMENT);
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_COLLECTION);
  {
    GstStreamCollection *coll = NULL;
    GstTagList *stags;
    gst_event_parse_stream_collection (ev, &coll);
    fail_unless_equals_int (gst_stream_collection_get_size (coll), 1);
    stags = gst_stream_get_tags (gst_stream_collection_get_stream (coll, 0));
    fail_unless (gst_tag_list_get_string (stags, MB_TAG_ROS_MD5SUM, &topic));
    fail_unless_equals_string (topic, "3066dcd76a6cfaef579bd0f34173e9fd");
    g_free (topic);
    gst_tag_list_unref (stags);
    gst_object_unref (coll);
  }
  gst_event_unref (ev);
  ev = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_TAG);
  gst_event_parse_tag (ev, &tags);
  fail_unless (gst_tag_list_get_string (tags, MB_TAG_ROS_TOPIC, &topic));
  fail_unless_equals_string (topic, "/joint_states");
  g_free (topic);
  gst_event_unref (ev);

  /* first message: PTS 0, absolute time in the reference meta */
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 0);
  fail_unless (mb_buffer_get_unix_time (buf, &unix_ns));
  g_object_get (e, "start-timestamp", &start, NULL);
  fail_unless_equals_uint64 (unix_ns, start);
  /* zero-copy: a small view into a (pooled) chunk-sized memory */
  mem = gst_buffer_peek_memory (buf, 0);
  fail_unless (mem->maxsize >= 65536 && mem->size < 1000);
  fail_unless (GST_MEMORY_IS_READONLY (mem));
  gst_buffer_unref (buf);

  gst_harness_teardown (h);
  gst_object_unref (e);
}

GST_END_TEST;

/* Downstream keeps every buffer: the source must stop once all pooled chunk
 * buffers are referenced, and go on when they are released. */
GST_START_TEST (test_blocks_when_downstream_holds)
{
  GstElement *e = new_src ("/joint_states_hf", 2);
  GstHarness *h = harness_on (e, "joint_states_hf");
  guint64 total = bag_count ("/joint_states_hf");
  guint n1, n2, got = 0;
  GstBuffer *buf;

  fail_unless (total > 400);
  gst_harness_play (h);
  g_usleep (400 * 1000);
  n1 = gst_harness_buffers_received (h);
  g_usleep (300 * 1000);
  n2 = gst_harness_buffers_received (h);
  GST_INFO ("received %u then %u of %" G_GUINT64_FORMAT, n1, n2, total);
  fail_unless (n1 > 0, "nothing arrived");
  fail_unless (n1 == n2 && n1 < total / 2,
      "source did not block: %u -> %u of %" G_GUINT64_FORMAT, n1, n2, total);

  /* releasing buffers lets it go on, up to the end */
  while ((buf = gst_harness_pull (h))) {
    gst_buffer_unref (buf);
    if (++got == total)
      break;
  }
  fail_unless_equals_uint64 (got, total);
  gst_harness_teardown (h);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_seek_through_harness)
{
  GstElement *e = new_src ("/joint_states", 4);
  GstHarness *h = harness_on (e, "joint_states");
  GstBuffer *buf;
  GstEvent *ev;
  gboolean flush_start = FALSE, flush_stop = FALSE, segment = FALSE;
  const GstSegment *seg;

  gst_harness_play (h);
  buf = gst_harness_pull (h);
  gst_buffer_unref (buf);
  fail_unless (gst_harness_push_upstream_event (h,
          gst_event_new_seek (1.0, GST_FORMAT_TIME,
              GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET,
              500 * GST_MSECOND, GST_SEEK_TYPE_NONE, -1)));
  /* the first buffer after the flush is marked DISCONT and is the first
   * message at >= 0.5 s (buffers queued before the seek come first) */
  do {
    buf = gst_harness_pull (h);
    fail_unless (buf != NULL);
    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
      break;
    gst_buffer_unref (buf);
  } while (TRUE);
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_START)
      flush_start = TRUE;
    if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_STOP)
      flush_stop = TRUE;
    if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT && flush_stop) {
      gst_event_parse_segment (ev, &seg);
      fail_unless_equals_uint64 (seg->start, 500 * GST_MSECOND);
      segment = TRUE;
    }
    gst_event_unref (ev);
  }
  fail_unless (flush_start && flush_stop && segment);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 500 * GST_MSECOND);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  GstElement *pipe = gst_parse_launch ("rosbagsrc name=s ! fakesink", NULL);
  GstElement *s = gst_bin_get_by_name (GST_BIN (pipe), "s");
  gint i;

  g_object_set (s, "location", bag_path, "topics", "/joint_states", NULL);
  for (i = 0; i < 5; i++) {
    fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    g_usleep (i * 20000);
    fail_unless (gst_element_set_state (pipe, GST_STATE_PAUSED) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless (gst_element_set_state (pipe, GST_STATE_NULL) ==
        GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref (s);
  gst_object_unref (pipe);
}

GST_END_TEST;

GST_START_TEST (test_missing_file_error)
{
  GstElement *e = gst_element_factory_make ("rosbagsrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (e, bus);
  g_object_set (e, "location", "/nonexistent/dir/x.bag", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND));
  fail_unless (strstr (err->message, "/nonexistent/dir/x.bag") != NULL);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
rosbagsrc_suite (void)
{
  Suite *s = suite_create ("rosbagsrc");
  TCase *tc = tcase_create ("general");

  if (!bag_path)
    bag_path = make_bag ("joints.bag",
        "--preset joints --duration 2 --chunk-size 4000");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_sometimes_pad_events);
  tcase_add_test (tc, test_blocks_when_downstream_holds);
  tcase_add_test (tc, test_seek_through_harness);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_missing_file_error);
  return s;
}

GST_CHECK_MAIN (rosbagsrc);
