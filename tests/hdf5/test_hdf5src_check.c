/* GstCheck tests for hdf5src: files written with plain HDF5 calls, played
 * through a GstHarness (payloads, timestamps, reference metas, loop, seek,
 * raw frames from the pool, errors). Run with GST_TRACERS=leaks by the
 * `leaks` test setup to catch leaked buffers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <hdf5.h>

#include "common/mbcommon.h"

#define T0 G_GINT64_CONSTANT (1700000000000000000)
#define N_ROWS 20
#define STEP (40 * GST_MSECOND)

static gchar *
tmp_path (const gchar * name)
{
  const gchar *dir = g_getenv ("MB_TEST_TMPDIR");
  gchar *d, *p;

  d = g_build_filename (dir ? dir : g_get_tmp_dir (), "hdf5src_check", NULL);
  g_mkdir_with_parents (d, 0755);
  p = g_build_filename (d, name, NULL);
  g_free (d);
  return p;
}

static void
write_string_attr (hid_t obj, const gchar * name, const gchar * value)
{
  hid_t t = H5Tcopy (H5T_C_S1), s = H5Screate (H5S_SCALAR), a;

  H5Tset_size (t, H5T_VARIABLE);
  a = H5Acreate2 (obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  fail_unless (H5Awrite (a, t, &value) >= 0);
  H5Aclose (a);
  H5Sclose (s);
  H5Tclose (t);
}

static guint8
blob_byte (guint row, guint i)
{
  return (guint8) (row * 31 + i * 7);
}

static gsize
blob_len (guint row)
{
  return 100 + row * 13;
}

/* /cam: vlen blobs + timestamps + caps; /bank: [N,4,6,3] uint8 frames
 * (stride 18 bytes, padded to 20 in GstVideoInfo). */
static gchar *
make_file (void)
{
  gchar *path = tmp_path ("check.h5");
  hid_t f, g, t, s, d;
  hsize_t dims[4] = { N_ROWS, 4, 6, 3 };
  hvl_t vl[N_ROWS];
  gint64 ts[N_ROWS];
  guint8 *frames = g_malloc (N_ROWS * 4 * 6 * 3);
  guint r, i;

  for (r = 0; r < N_ROWS; r++) {
    guint8 *b = g_malloc (blob_len (r));
    for (i = 0; i < blob_len (r); i++)
      b[i] = blob_byte (r, i);
    vl[r].len = blob_len (r);
    vl[r].p = b;
    ts[r] = T0 + r * STEP;
  }
  for (i = 0; i < N_ROWS * 4 * 6 * 3; i++)
    frames[i] = (guint8) (i * 3);

  f = H5Fcreate (path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  fail_unless (f >= 0);
  g = H5Gcreate2 (f, "cam", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  t = H5Tvlen_create (H5T_NATIVE_UINT8);
  s = H5Screate_simple (1, dims, NULL);
  d = H5Dcreate2 (g, "data", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  fail_unless (H5Dwrite (d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, vl) >= 0);
  H5Dclose (d);
  d = H5Dcreate2 (g, "timestamp", H5T_STD_I64LE, s, H5P_DEFAULT,
      H5P_DEFAULT, H5P_DEFAULT);
  fail_unless (H5Dwrite (d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
          ts) >= 0);
  H5Dclose (d);
  write_string_attr (g, "caps", "image/jpeg,framerate=25/1");
  H5Sclose (s);
  H5Tclose (t);
  H5Gclose (g);

  g = H5Gcreate2 (f, "bank", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  s = H5Screate_simple (4, dims, NULL);
  d = H5Dcreate2 (g, "data", H5T_STD_U8LE, s, H5P_DEFAULT, H5P_DEFAULT,
      H5P_DEFAULT);
  fail_unless (H5Dwrite (d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT,
          frames) >= 0);
  H5Dclose (d);
  write_string_attr (g, "caps",
      "video/x-raw,format=RGB,width=6,height=4,framerate=10/1");
  H5Sclose (s);
  H5Gclose (g);
  H5Fclose (f);

  for (r = 0; r < N_ROWS; r++)
    g_free (vl[r].p);
  g_free (frames);
  return path;
}

static GstHarness *
harness_for (const gchar * path, const gchar * group)
{
  GstHarness *h = gst_harness_new ("hdf5src");

  g_object_set (h->element, "location", path, "path", group, NULL);
  return h;
}

static void
check_blob (GstBuffer * buf, guint row, GstClockTime pts, guint64 unix_want)
{
  GstMapInfo map;
  guint64 unix_ns = 0;
  guint i;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_uint64 (map.size, blob_len (row));
  for (i = 0; i < map.size; i++)
    fail_unless (map.data[i] == blob_byte (row, i));
  gst_buffer_unmap (buf, &map);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), pts);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), row);
  fail_unless (mb_buffer_get_unix_time (buf, &unix_ns));
  fail_unless_equals_uint64 (unix_ns, unix_want);
}

GST_START_TEST (test_play_blobs)
{
  gchar *path = make_file ();
  GstHarness *h = harness_for (path, "/cam");
  guint r;

  g_object_set (h->element, "batch-size", 3, NULL);
  gst_harness_play (h);
  for (r = 0; r < N_ROWS; r++) {
    GstBuffer *buf = gst_harness_pull (h);
    check_blob (buf, r, r * STEP, T0 + r * STEP);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), STEP);
    gst_buffer_unref (buf);
  }
  fail_unless (gst_harness_try_pull (h) == NULL);
  gst_harness_teardown (h);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_loop_and_seek)
{
  gchar *path = make_file ();
  GstHarness *h = harness_for (path, "/cam");
  GstClockTime period = N_ROWS * STEP, target;
  GstBuffer *buf;
  guint i;

  g_object_set (h->element, "loop", TRUE, "start-index", (guint64) 2,
      "stop-index", (gint64) 6, NULL);
  gst_harness_play (h);
  /* rows 2..5, three passes, one STEP apart throughout */
  for (i = 0; i < 12; i++) {
    buf = gst_harness_pull (h);
    /* the unix meta is the stored time plus whole passes */
    check_blob (buf, 2 + i % 4, (i % 4) * STEP + (i / 4) * 4 * STEP,
        T0 + (2 + i % 4) * STEP + (i / 4) * 4 * STEP);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);

  /* seek into the second pass of the whole file */
  h = harness_for (path, "/cam");
  g_object_set (h->element, "loop", TRUE, NULL);
  gst_harness_play (h);
  buf = gst_harness_pull (h);
  gst_buffer_unref (buf);
  target = period + 7 * STEP + 1;
  fail_unless (gst_harness_push_upstream_event (h,
          gst_event_new_seek (1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
              GST_SEEK_TYPE_SET, target, GST_SEEK_TYPE_NONE, -1)));
  /* buffers queued in the harness before the flush: skip to the DISCONT */
  while (!GST_BUFFER_FLAG_IS_SET ((buf = gst_harness_pull (h)),
          GST_BUFFER_FLAG_DISCONT))
    gst_buffer_unref (buf);
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), 8);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), period + 8 * STEP);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_frames_pool)
{
  gchar *path = make_file ();
  GstHarness *h = harness_for (path, "/bank");
  GstBuffer *buf;
  GstMapInfo map;
  guint r, y, x;

  g_object_set (h->element, "batch-size", 4, "max-buffers", 6, NULL);
  gst_harness_play (h);
  for (r = 0; r < N_ROWS; r++) {
    buf = gst_harness_pull (h);
    fail_unless (buf->pool != NULL);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless_equals_uint64 (map.size, 4 * 20);
    for (y = 0; y < 4; y++)
      for (x = 0; x < 18; x++)
        fail_unless (map.data[y * 20 + x] ==
            (guint8) ((r * 72 + y * 18 + x) * 3));
    gst_buffer_unmap (buf, &map);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), r * GST_SECOND / 10);
    fail_if (mb_buffer_get_unix_time (buf, NULL));
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_missing_dataset)
{
  gchar *path = make_file ();
  GstElement *src = gst_element_factory_make ("hdf5src", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;

  gst_element_set_bus (src, bus);
  g_object_set (src, "location", path, "path", "/nope", NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, &dbg);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND));
  fail_unless (strstr (dbg, "/nope") != NULL && strstr (dbg, "check.h5"));
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_element_set_bus (src, NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  g_free (path);
}

GST_END_TEST;

static Suite *
hdf5src_suite (void)
{
  Suite *s = suite_create ("hdf5src");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_play_blobs);
  tcase_add_test (tc, test_loop_and_seek);
  tcase_add_test (tc, test_frames_pool);
  tcase_add_test (tc, test_missing_dataset);
  return s;
}

GST_CHECK_MAIN (hdf5src);
