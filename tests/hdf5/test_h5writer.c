/* Unit tests of the plain-C HDF5 writer behind hdf5sink (h5writer.c):
 * every layout read back with plain HDF5 calls, append/reopen, errors that
 * name the file and dataset, and a write failure (RLIMIT_FSIZE) that leaves
 * every flushed row readable.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "h5writer.h"

static gchar *tmpdir;

static gchar *
tmp_path (const gchar * name)
{
  gchar *p = g_build_filename (tmpdir, name, NULL);
  g_unlink (p);
  return p;
}

static hsize_t
rows_of (hid_t f, const char *path, int *rank, hsize_t * dims)
{
  hid_t d = H5Dopen2 (f, path, H5P_DEFAULT);
  hid_t s;
  hsize_t local[4];
  int r;

  g_assert_cmpint (d, >=, 0);
  s = H5Dget_space (d);
  r = H5Sget_simple_extent_ndims (s);
  H5Sget_simple_extent_dims (s, dims ? dims : local, NULL);
  if (rank)
    *rank = r;
  H5Sclose (s);
  H5Dclose (d);
  return dims ? dims[0] : local[0];
}

static void
read_i64 (hid_t f, const char *path, gint64 * out)
{
  hid_t d = H5Dopen2 (f, path, H5P_DEFAULT);
  g_assert_cmpint (H5Dread (d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
          H5P_DEFAULT, out), >=, 0);
  H5Dclose (d);
}

static guint8 *
blob (guint i, gsize * len)
{
  gsize n = 100 + (i * 7919) % 5000, k;
  guint8 *b = g_malloc (n);
  for (k = 0; k < n; k++)
    b[k] = (guint8) (i * 31 + k * 7);
  *len = n;
  return b;
}

static void
test_vlen_and_timestamps (void)
{
  gchar *path = tmp_path ("vlen.h5");
  char err[512];
  MbH5Writer *w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  MbH5StreamSpec spec = { 0 };
  MbH5Stream *s;
  MbH5Row rows[10] = { {0} };
  guint8 *blobs[25];
  gsize lens[25];
  gint64 ts[25], src[25];
  hvl_t v[25];
  guint i, b;
  hid_t f, d, t;

  g_assert_nonnull (w);
  spec.kind = MB_H5S_VLEN;
  spec.data_path = "/cam/compressed/data";
  spec.ts_path = "/cam/compressed/timestamp";
  spec.src_ts_path = "/cam/compressed/source_timestamp";
  spec.attr_path = "/cam/compressed";
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (s);
  g_assert_cmpint (mb_h5_stream_set_attr_string (s, "caps", "image/jpeg"), ==,
      0);
  for (i = 0; i < 25; i++)
    blobs[i] = blob (i, &lens[i]);
  /* batches of 10, 10, 5; rows from 12 on carry a different source time */
  for (b = 0; b < 25; b += 10) {
    guint n = MIN (10, 25 - b);
    for (i = 0; i < n; i++) {
      rows[i].data = blobs[b + i];
      rows[i].size = lens[b + i];
      rows[i].timestamp = 1000 * (b + i);
      rows[i].has_source_timestamp = b + i >= 12;
      rows[i].source_timestamp = b + i >= 12 ? 5 + 1000 * (b + i) : 0;
    }
    g_assert_cmpint (mb_h5_stream_append (s, rows, n), ==, 0);
  }
  g_assert_cmpuint (mb_h5_stream_rows (s), ==, 25);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);

  f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (f, >=, 0);
  g_assert_cmpuint (rows_of (f, "/cam/compressed/data", NULL, NULL), ==, 25);
  d = H5Dopen2 (f, "/cam/compressed/data", H5P_DEFAULT);
  t = H5Tvlen_create (H5T_NATIVE_UINT8);
  g_assert_cmpint (H5Dread (d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), >=, 0);
  for (i = 0; i < 25; i++) {
    g_assert_cmpuint (v[i].len, ==, lens[i]);
    g_assert_cmpint (memcmp (v[i].p, blobs[i], lens[i]), ==, 0);
  }
  {
    hid_t sp = H5Dget_space (d);
    H5Dvlen_reclaim (t, sp, H5P_DEFAULT, v);
    H5Sclose (sp);
  }
  H5Tclose (t);
  H5Dclose (d);
  read_i64 (f, "/cam/compressed/timestamp", ts);
  read_i64 (f, "/cam/compressed/source_timestamp", src);
  for (i = 0; i < 25; i++) {
    g_assert_cmpint (ts[i], ==, 1000 * i);
    /* back-filled with the timestamp before the first differing row */
    g_assert_cmpint (src[i], ==, i >= 12 ? 5 + 1000 * i : 1000 * i);
  }
  g_assert_cmpint (H5Aexists_by_name (f, "/cam/compressed", "caps",
          H5P_DEFAULT), >, 0);
  H5Fclose (f);
  for (i = 0; i < 25; i++)
    g_free (blobs[i]);
  g_free (path);
}

static void
test_frames_strided (void)
{
  gchar *path = tmp_path ("frames.h5");
  char err[512];
  MbH5Writer *w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  MbH5StreamSpec spec = { 0 };
  MbH5Stream *s;
  const guint W = 5, H = 3, C = 3, stride = 16;
  guint8 frames[4][16 * 3];
  guint8 out[4 * 3 * 5 * 3];
  MbH5Row rows[4] = { {0} };
  hsize_t dims[4];
  int rank, deflate;
  guint i, x, y, c;

  for (deflate = 0; deflate <= 1; deflate++) {
    if (deflate) {
      g_free (path);
      path = tmp_path ("frames_deflate.h5");
      w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
    }
    g_assert_nonnull (w);
    spec.kind = MB_H5S_FRAMES;
    spec.data_path = "/cam0/data";
    spec.ts_path = "/cam0/timestamp";
    spec.width = W;
    spec.height = H;
    spec.channels = C;
    spec.sample_bytes = 1;
    spec.deflate = deflate ? 4 : 0;
    s = mb_h5_writer_add_stream (w, &spec);
    g_assert_nonnull (s);
    memset (frames, 0xEE, sizeof (frames));   /* padding must not leak */
    for (i = 0; i < 4; i++) {
      for (y = 0; y < H; y++)
        for (x = 0; x < W * C; x++)
          frames[i][y * stride + x] = (guint8) (i * 50 + y * 15 + x);
      rows[i].data = frames[i];
      rows[i].size = sizeof (frames[i]);
      rows[i].stride = stride;
      rows[i].timestamp = i;
    }
    g_assert_cmpint (mb_h5_stream_append (s, rows, 2), ==, 0);
    g_assert_cmpint (mb_h5_stream_append (s, rows + 2, 2), ==, 0);
    g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);

    {
      hid_t f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
      hid_t d;
      g_assert_cmpuint (rows_of (f, "/cam0/data", &rank, dims), ==, 4);
      g_assert_cmpint (rank, ==, 4);
      g_assert_cmpuint (dims[1], ==, H);
      g_assert_cmpuint (dims[2], ==, W);
      g_assert_cmpuint (dims[3], ==, C);
      d = H5Dopen2 (f, "/cam0/data", H5P_DEFAULT);
      g_assert_cmpint (H5Dread (d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL,
              H5P_DEFAULT, out), >=, 0);
      H5Dclose (d);
      H5Fclose (f);
    }
    for (i = 0; i < 4; i++)
      for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
          for (c = 0; c < C; c++)
            g_assert_cmpuint (out[((i * H + y) * W + x) * C + c], ==,
                frames[i][y * stride + x * C + c]);
  }
  g_free (path);
}

static void
test_padded_and_vector (void)
{
  gchar *path = tmp_path ("aloha.h5");
  char err[512];
  MbH5Writer *w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  MbH5StreamSpec spec = { 0 };
  MbH5Stream *cam0, *cam1, *qpos;
  MbH5Row rows[6] = { {0} };
  guint8 *blobs[6];
  gsize lens[6];
  guint8 *padded;
  float clen[2][6], q[6][3];
  double qin[6][3];
  hsize_t dims[4];
  int rank;
  guint i, k;
  hid_t f, d;

  g_assert_nonnull (w);
  spec.kind = MB_H5S_PADDED;
  spec.max_bytes = 8192;
  spec.data_path = "/observations/images/cam_high";
  spec.ts_path = "/observations/timestamps/cam_high";
  cam0 = mb_h5_writer_add_stream (w, &spec);
  spec.data_path = "/observations/images/cam_low";
  spec.ts_path = "/observations/timestamps/cam_low";
  cam1 = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (cam0);
  g_assert_nonnull (cam1);
  memset (&spec, 0, sizeof (spec));
  spec.kind = MB_H5S_VECTOR;
  spec.data_path = "/observations/qpos";
  spec.ts_path = "/observations/timestamps/qpos";
  spec.dims = 3;
  spec.input_f64 = 1;
  qpos = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (qpos);

  /* blobs shrink and grow so stale padding would show */
  for (i = 0; i < 6; i++) {
    blobs[i] = blob (5 - i + (i == 3 ? 9 : 0), &lens[i]);
    rows[i].data = blobs[i];
    rows[i].size = lens[i];
    rows[i].timestamp = i;
    for (k = 0; k < 3; k++)
      qin[i][k] = i + k / 10.0;
  }
  g_assert_cmpint (mb_h5_stream_append (cam0, rows, 4), ==, 0);
  g_assert_cmpint (mb_h5_stream_append (cam0, rows + 4, 2), ==, 0);
  g_assert_cmpint (mb_h5_stream_append (cam1, rows, 3), ==, 0);
  for (i = 0; i < 6; i++) {
    rows[i].data = (const guint8 *) qin[i];
    rows[i].size = sizeof (qin[i]);
  }
  g_assert_cmpint (mb_h5_stream_append (qpos, rows, 6), ==, 0);
  /* too large for the row: an error naming file and dataset */
  {
    guint8 big[9000] = { 0 };
    MbH5Row r = { big, sizeof (big), 0, 0, 0, 0 };
    g_assert_cmpint (mb_h5_stream_append (cam1, &r, 1), ==, -1);
    g_assert_nonnull (strstr (mb_h5_writer_error (w), path));
    g_assert_nonnull (strstr (mb_h5_writer_error (w),
            "/observations/images/cam_low"));
    /* bad input does not break the file */
    g_assert_false (mb_h5_writer_is_broken (w));
  }
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);

  f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (f, >=, 0);
  g_assert_cmpuint (rows_of (f, "/observations/images/cam_high", &rank, dims),
      ==, 6);
  g_assert_cmpint (rank, ==, 2);
  g_assert_cmpuint (dims[1], ==, 8192);
  padded = g_malloc (6 * 8192);
  d = H5Dopen2 (f, "/observations/images/cam_high", H5P_DEFAULT);
  g_assert_cmpint (H5Dread (d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL,
          H5P_DEFAULT, padded), >=, 0);
  H5Dclose (d);
  for (i = 0; i < 6; i++) {
    g_assert_cmpint (memcmp (padded + i * 8192, blobs[i], lens[i]), ==, 0);
    for (k = lens[i]; k < 8192; k++)
      g_assert_cmpuint (padded[i * 8192 + k], ==, 0);
  }
  g_free (padded);
  g_assert_cmpuint (rows_of (f, "/compress_len", &rank, dims), ==, 2);
  g_assert_cmpuint (dims[1], ==, 6);
  d = H5Dopen2 (f, "/compress_len", H5P_DEFAULT);
  H5Dread (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, clen);
  H5Dclose (d);
  for (i = 0; i < 6; i++) {
    g_assert_cmpfloat (clen[0][i], ==, (float) lens[i]);
    g_assert_cmpfloat (clen[1][i], ==, i < 3 ? (float) lens[i] : 0.0f);
  }
  g_assert_cmpuint (rows_of (f, "/observations/qpos", &rank, dims), ==, 6);
  d = H5Dopen2 (f, "/observations/qpos", H5P_DEFAULT);
  H5Dread (d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, q);
  H5Dclose (d);
  for (i = 0; i < 6; i++)
    for (k = 0; k < 3; k++)
      g_assert_cmpfloat (q[i][k], ==, (float) qin[i][k]);
  H5Fclose (f);
  for (i = 0; i < 6; i++)
    g_free (blobs[i]);
  g_free (path);
}

static void
test_modes (void)
{
  gchar *path = tmp_path ("modes.h5");
  char err[512];
  MbH5Writer *w;
  MbH5StreamSpec spec = { 0 };
  MbH5Stream *s;
  guint8 data[4] = { 1, 2, 3, 4 };
  MbH5Row r = { data, 4, 0, 7, 0, 0 };

  spec.kind = MB_H5S_VLEN;
  spec.data_path = "/s/data";
  spec.ts_path = "/s/timestamp";
  w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_cmpint (mb_h5_stream_append (s, &r, 1), ==, 0);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);

  /* create refuses an existing file, naming it */
  g_assert_null (mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err)));
  g_assert_nonnull (strstr (err, path));
  g_assert_nonnull (strstr (err, "exists"));

  /* append extends the same datasets */
  w = mb_h5_writer_open (path, MB_H5W_APPEND, err, sizeof (err));
  g_assert_nonnull (w);
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (s);
  g_assert_cmpuint (mb_h5_stream_rows (s), ==, 1);
  g_assert_cmpint (mb_h5_stream_append (s, &r, 1), ==, 0);
  /* a different kind on an existing dataset is refused */
  spec.kind = MB_H5S_VECTOR;
  spec.dims = 2;
  g_assert_null (mb_h5_writer_add_stream (w, &spec));
  g_assert_nonnull (strstr (mb_h5_writer_error (w), "/s/data"));
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  {
    hid_t f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
    g_assert_cmpuint (rows_of (f, "/s/data", NULL, NULL), ==, 2);
    g_assert_cmpuint (rows_of (f, "/s/timestamp", NULL, NULL), ==, 2);
    H5Fclose (f);
  }

  /* overwrite starts over */
  spec.kind = MB_H5S_VLEN;
  w = mb_h5_writer_open (path, MB_H5W_OVERWRITE, err, sizeof (err));
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_cmpuint (mb_h5_stream_rows (s), ==, 0);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);

  /* unwritable location */
  g_assert_null (mb_h5_writer_open ("/nonexistent-dir/x.h5", MB_H5W_CREATE,
          err, sizeof (err)));
  g_assert_nonnull (strstr (err, "/nonexistent-dir/x.h5"));
  g_free (path);
}

/* A libver-latest writer that died leaves status flags that make a plain
 * H5Fopen fail; APPEND clears them like `h5clear -s`. */
static void
test_append_clears_status_flags (void)
{
  gchar *path = tmp_path ("stale.h5");
  char err[512];
  MbH5Writer *w;
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0) {
    hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);
    hid_t f;
    H5Pset_libver_bounds (fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    f = H5Fcreate (path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f < 0 || H5Fflush (f, H5F_SCOPE_GLOBAL) < 0)
      _exit (1);
    /* a writer that dies: no H5Fclose, the flags stay set (and no exit
     * handler runs, valgrind's leak check included) */
    raise (SIGKILL);
  }
  {
    int status;
    g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
    g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  }
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  {
    hid_t f = H5Fopen (path, H5F_ACC_RDWR, H5P_DEFAULT);
    g_assert_cmpint (f, <, 0);  /* the situation we fix */
  }
  w = mb_h5_writer_open (path, MB_H5W_APPEND, err, sizeof (err));
  if (w == NULL)
    g_error ("append failed: %s", err);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  g_free (path);
}

/* A write failure (file size limit → EFBIG, like a full disk) gives an error
 * naming file and dataset; everything flushed before stays readable. */
static void
test_write_failure_keeps_flushed_rows (void)
{
  gchar *path = tmp_path ("full.h5");
  char err[512];
  MbH5Writer *w;
  MbH5StreamSpec spec = { 0 };
  MbH5Stream *s;
  struct rlimit old, lim;
  guint8 *blobs[4000];
  gsize lens[4000];
  guint i, flushed = 0, written = 0;
  int failed = 0;
  hid_t f, d, t;
  hvl_t *v;
  hsize_t n;

  signal (SIGXFSZ, SIG_IGN);
  w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  spec.kind = MB_H5S_VLEN;
  spec.data_path = "/big/data";
  spec.ts_path = "/big/timestamp";
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (s);
  g_assert_cmpint (mb_h5_writer_flush (w, 0), ==, 0);

  getrlimit (RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 20 * 1024 * 1024;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
  for (i = 0; i < 4000 && !failed; i++) {
    MbH5Row r = { 0 };
    blobs[i] = blob (i, &lens[i]);
    lens[i] += 3000;
    blobs[i] = g_realloc (blobs[i], lens[i]);
    memset (blobs[i] + lens[i] - 3000, i, 3000);
    r.data = blobs[i];
    r.size = lens[i];
    r.timestamp = i;
    if (mb_h5_stream_append (s, &r, 1) < 0) {
      failed = 1;
      break;
    }
    written++;
    if (i % 10 == 9) {
      if (mb_h5_writer_flush (w, i % 200 == 199) < 0) {
        failed = 1;
        break;
      }
      flushed = written;
    }
  }
  g_assert_true (failed);
  g_assert_cmpuint (flushed, >, 20);
  g_assert_nonnull (strstr (mb_h5_writer_error (w), path));
  g_assert_nonnull (strstr (mb_h5_writer_error (w), "/big/data"));
  g_assert_cmpint (mb_h5_writer_errno (w), ==, EFBIG);
  /* space is claimed before HDF5 writes: the file closes cleanly with every
   * accepted row, even under the limit */
  g_assert_false (mb_h5_writer_is_broken (w));
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  setrlimit (RLIMIT_FSIZE, &old);
  flushed = written;

  f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  g_assert_cmpint (f, >=, 0);
  n = rows_of (f, "/big/data", NULL, NULL);
  g_assert_cmpuint (n, >=, flushed);
  v = g_new0 (hvl_t, n);
  d = H5Dopen2 (f, "/big/data", H5P_DEFAULT);
  t = H5Tvlen_create (H5T_NATIVE_UINT8);
  {
    hsize_t start = 0, count = flushed;
    hid_t fs = H5Dget_space (d), ms = H5Screate_simple (1, &count, NULL);
    H5Sselect_hyperslab (fs, H5S_SELECT_SET, &start, NULL, &count, NULL);
    if (H5Dread (d, t, ms, fs, H5P_DEFAULT, v) < 0) {
      H5Eprint2 (H5E_DEFAULT, stderr);
      g_error ("reading %u flushed rows of %llu failed", flushed, (unsigned long long) n);
    }
    for (i = 0; i < flushed; i++) {
      g_assert_cmpuint (v[i].len, ==, lens[i]);
      g_assert_cmpint (memcmp (v[i].p, blobs[i], lens[i]), ==, 0);
    }
    H5Dvlen_reclaim (t, ms, H5P_DEFAULT, v);
    H5Sclose (ms);
    H5Sclose (fs);
  }
  H5Tclose (t);
  H5Dclose (d);
  H5Fclose (f);
  g_free (v);
  for (i = 0; i <= written && i < 4000; i++)
    g_free (blobs[i]);
  g_free (path);
}

/* The whole file, as the bytes a crash right now would leave. */
static guint8 *
file_bytes (const gchar * path, gsize * len)
{
  gchar *b = NULL;
  g_assert_true (g_file_get_contents (path, &b, len, NULL));
  return (guint8 *) b;
}

/* Rows flushed sit in global heap collections (GCOL blocks) that HDF5 would
 * reuse for later rows when they have room (a collection doubles when it
 * grows at the end of the file: 3 rows of 10 kB leave room for a fourth),
 * rewriting the flushed rows with them; a torn write there loses them.
 * After a flush no collection holding flushed rows may change. */
static void
test_flushed_heaps_unchanged (void)
{
  gchar *path = tmp_path ("sealed.h5");
  char err[512];
  MbH5Writer *w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  MbH5StreamSpec spec = { 0 };
  MbH5Stream *s;
  MbH5Row rows[3] = { {0} };
  guint8 *snap[6], *fin;
  gsize snap_len[6], fin_len, k;
  guint8 data[3][10000];
  guint i, round, n_gcol = 0;

  g_assert_nonnull (w);
  spec.kind = MB_H5S_VLEN;
  spec.data_path = "/b/data";
  spec.ts_path = "/b/timestamp";
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (s);
  for (round = 0; round < 6; round++) {
    for (i = 0; i < 3; i++) {
      for (k = 0; k < sizeof (data[i]); k++)
        data[i][k] = (guint8) (round * 3 + i + k * 13);
      rows[i].data = data[i];
      rows[i].size = sizeof (data[i]);
      rows[i].timestamp = round * 3 + i;
    }
    g_assert_cmpint (mb_h5_stream_append (s, rows, 3), ==, 0);
    g_assert_cmpint (mb_h5_writer_flush (w, 0), ==, 0);
    snap[round] = file_bytes (path, &snap_len[round]);
  }
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  fin = file_bytes (path, &fin_len);

  for (round = 0; round < 6; round++) {
    const guint8 *b = snap[round];
    for (k = 0; k + 16 <= snap_len[round]; k++) {
      guint64 size;
      if (memcmp (b + k, "GCOL", 4) != 0)
        continue;
      memcpy (&size, b + k + 8, 8);     /* little endian host */
      g_assert_cmpuint (k + size, <=, snap_len[round]);
      g_assert_cmpuint (k + size, <=, fin_len);
      if (memcmp (b + k, fin + k, size) != 0)
        g_error ("the collection at %" G_GSIZE_FORMAT " (%" G_GUINT64_FORMAT
            " bytes) flushed after round %u changed afterwards", k, size,
            round);
      n_gcol++;
    }
  }
  g_assert_cmpuint (n_gcol, >=, 6);
  for (round = 0; round < 6; round++)
    g_free (snap[round]);
  g_free (fin);
  g_free (path);
}

static gint64
flushed_attr (const gchar * path, const char *dset)
{
  hid_t f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d, a;
  gint64 v = -1;

  g_assert_cmpint (f, >=, 0);
  d = H5Dopen2 (f, dset, H5P_DEFAULT);
  a = H5Aopen (d, "flushed_rows", H5P_DEFAULT);
  g_assert_cmpint (a, >=, 0);
  g_assert_cmpint (H5Aread (a, H5T_NATIVE_INT64, &v), >=, 0);
  H5Aclose (a);
  H5Dclose (d);
  H5Fclose (f);
  return v;
}

/* data's flushed_rows attribute counts the rows flushed (written after the
 * rows themselves); append mode cuts rows past it, as a crashed writer
 * leaves them */
static void
test_flushed_rows_attribute (void)
{
  gchar *path = tmp_path ("flushed-rows.h5");
  char err[512];
  MbH5Writer *w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  MbH5StreamSpec spec = { 0 };
  MbH5Stream *s;
  guint8 data[4] = { 1, 2, 3, 4 };
  MbH5Row r = { data, 4, 0, 7, 0, 0 };
  guint i;

  g_assert_nonnull (w);
  spec.kind = MB_H5S_VLEN;
  spec.data_path = "/s/data";
  spec.ts_path = "/s/timestamp";
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (s);
  for (i = 0; i < 5; i++)
    g_assert_cmpint (mb_h5_stream_append (s, &r, 1), ==, 0);
  g_assert_cmpint (mb_h5_writer_flush (w, 1), ==, 0);
  for (i = 0; i < 3; i++)
    g_assert_cmpint (mb_h5_stream_append (s, &r, 1), ==, 0);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  g_assert_cmpint (flushed_attr (path, "/s/data"), ==, 8);

  /* a writer that died after flushing 6 of the 8 rows */
  {
    hid_t f = H5Fopen (path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2 (f, "/s/data", H5P_DEFAULT);
    hid_t a = H5Aopen (d, "flushed_rows", H5P_DEFAULT);
    gint64 six = 6;
    g_assert_cmpint (H5Awrite (a, H5T_NATIVE_INT64, &six), >=, 0);
    H5Aclose (a);
    H5Dclose (d);
    H5Fclose (f);
  }
  w = mb_h5_writer_open (path, MB_H5W_APPEND, err, sizeof (err));
  g_assert_nonnull (w);
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_nonnull (s);
  g_assert_cmpuint (mb_h5_stream_rows (s), ==, 6);
  g_assert_cmpint (mb_h5_stream_append (s, &r, 1), ==, 0);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  {
    hid_t f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
    g_assert_cmpuint (rows_of (f, "/s/data", NULL, NULL), ==, 7);
    g_assert_cmpuint (rows_of (f, "/s/timestamp", NULL, NULL), ==, 7);
    H5Fclose (f);
  }
  g_assert_cmpint (flushed_attr (path, "/s/data"), ==, 7);
  g_free (path);
}

static void
test_jpeg (void)
{
  MbJpegEncoder *e = mb_jpeg_encoder_new ();
  guint8 img[16 * 8 * 3];
  guint8 *out = NULL;
  size_t len = 0;
  char err[256];

  memset (img, 0x80, sizeof (img));
  g_assert_nonnull (e);
  g_assert_cmpint (mb_jpeg_encode (e, img, 16, 0, 8, MB_JPEG_RGB, 85, &out,
          &len, err, sizeof (err)), ==, 0);
  g_assert_cmpuint (len, >, 100);
  g_assert_cmpuint (out[0], ==, 0xFF);
  g_assert_cmpuint (out[1], ==, 0xD8);
  mb_jpeg_free (out);
  mb_jpeg_encoder_free (e);
}

int
main (int argc, char **argv)
{
  const gchar *base = g_getenv ("MB_TEST_TMPDIR");
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_build_filename (base ? base : g_get_tmp_dir (),
      "h5writer-XXXXXX", NULL);
  g_mkdir_with_parents (base ? base : g_get_tmp_dir (), 0755);
  g_assert_nonnull (g_mkdtemp (tmpdir));

  g_test_add_func ("/h5writer/vlen", test_vlen_and_timestamps);
  g_test_add_func ("/h5writer/frames", test_frames_strided);
  g_test_add_func ("/h5writer/aloha", test_padded_and_vector);
  g_test_add_func ("/h5writer/modes", test_modes);
  g_test_add_func ("/h5writer/stale-flags", test_append_clears_status_flags);
  g_test_add_func ("/h5writer/write-failure",
      test_write_failure_keeps_flushed_rows);
  g_test_add_func ("/h5writer/flushed-heaps", test_flushed_heaps_unchanged);
  g_test_add_func ("/h5writer/flushed-rows", test_flushed_rows_attribute);
  g_test_add_func ("/h5writer/jpeg", test_jpeg);
  ret = g_test_run ();
  if (ret == 0) {
    gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmpdir);
    g_free (cmd);
  }
  g_free (tmpdir);
  return ret;
}
