/* Unit tests of hdf5sink's packed blob layout in the plain-C core: the
 * writer (h5writer.c, MB_H5S_PACKED) and the reader behind hdf5src
 * (h5reader.c, MB_H5R_PACKED), without GStreamer: rows of every size
 * (empty, crossing chunks, larger than a chunk) read back byte-exact through
 * both the reader and plain HDF5 calls, append/reopen, a writer that dies
 * after a flush (abort: the file stays as the last writes left it), an
 * index pointing outside the data, and an append onto a vlen dataset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "h5reader.h"
#include "h5writer.h"

#define MIB (1024 * 1024)

static gchar *tmpdir;

static gchar *
tmp_path (const gchar * name)
{
  gchar *p = g_build_filename (tmpdir, name, NULL);
  g_unlink (p);
  return p;
}

/* Row @i: size from @sizes, bytes a function of (i, k). */
static guint8 *
make_blob (guint i, gsize n)
{
  guint8 *b = g_malloc (n ? n : 1);
  gsize k;

  for (k = 0; k < n; k++)
    b[k] = (guint8) (i * 131 + k * 7 + (k >> 12));
  return b;
}

static const gsize sizes[] = {
  100000, 0, 1, 3 * MIB + 5, 2 * MIB, 4 * MIB, 5 * MIB + 17, 99999, 7, 0,
  123456, 4 * MIB - 1, 2
};

#define N_SIZES G_N_ELEMENTS (sizes)

static MbH5Writer *
open_stream (const gchar * path, MbH5WriterMode mode, MbH5Stream ** s)
{
  MbH5StreamSpec spec;
  char err[512];
  MbH5Writer *w = mb_h5_writer_open (path, mode, err, sizeof (err));

  g_assert_nonnull (w);
  memset (&spec, 0, sizeof (spec));
  spec.kind = MB_H5S_PACKED;
  spec.data_path = "/cam/data";
  spec.ts_path = "/cam/timestamp";
  spec.src_ts_path = "/cam/source_timestamp";
  spec.attr_path = "/cam";
  spec.offset_path = "/cam/offset";
  spec.size_path = "/cam/size";
  spec.row_type = -1;
  *s = mb_h5_writer_add_stream (w, &spec);
  if (*s == NULL)
    g_error ("%s", mb_h5_writer_error (w));
  return w;
}

/* Appends rows [first, first + n) of sizes[] (cycled) in batches of 3. */
static void
append_rows (MbH5Stream * s, MbH5Writer * w, guint first, guint n)
{
  guint i, k;

  for (i = first; i < first + n; i += 3) {
    MbH5Row rows[3];
    guint8 *bufs[3];
    guint m = MIN (3, first + n - i);

    memset (rows, 0, sizeof (rows));
    for (k = 0; k < m; k++) {
      gsize len = sizes[(i + k) % N_SIZES];
      bufs[k] = make_blob (i + k, len);
      rows[k].data = bufs[k];
      rows[k].size = len;
      rows[k].timestamp = 1000 * (gint64) (i + k);
    }
    if (mb_h5_stream_append (s, rows, m) < 0)
      g_error ("%s", mb_h5_writer_error (w));
    for (k = 0; k < m; k++)
      g_free (bufs[k]);
  }
}

static gpointer
alloc_cb (size_t size, gpointer ud)
{
  return g_malloc (size ? size : 1);
}

static void
free_cb (gpointer p, gpointer ud)
{
  g_free (p);
}

/* Reads @path back with h5reader: @n rows, each byte-exact, timestamps. */
static void
check_file (const gchar * path, guint n)
{
  char err[512];
  MbH5ReaderErr code;
  MbH5Reader *r = mb_h5_reader_open (path, "/cam", &code, err, sizeof (err));
  guint i;

  if (r == NULL)
    g_error ("%s", err);
  g_assert_cmpint (mb_h5_reader_kind (r), ==, MB_H5R_PACKED);
  g_assert_cmpuint (mb_h5_reader_rows (r), ==, n);
  g_assert_true (mb_h5_reader_has_timestamps (r));
  for (i = 0; i < n; i += 4) {
    guint8 *data[4];
    size_t len[4];
    gint64 ts[4];
    guint m = MIN (4, n - i), k;

    g_assert_cmpint (mb_h5_reader_read_blobs (r, i, m, data, len, alloc_cb,
            free_cb, NULL), ==, 0);
    g_assert_cmpint (mb_h5_reader_read_timestamps (r, i, m, ts), ==, 0);
    for (k = 0; k < m; k++) {
      gsize want = sizes[(i + k) % N_SIZES];
      guint8 *exp = make_blob (i + k, want);
      g_assert_cmpuint (len[k], ==, want);
      if (want)
        g_assert_true (memcmp (data[k], exp, want) == 0);
      g_assert_cmpint (ts[k], ==, 1000 * (gint64) (i + k));
      g_free (exp);
      g_free (data[k]);
    }
  }
  /* past the end */
  {
    guint8 *d;
    size_t l;
    g_assert_cmpint (mb_h5_reader_read_blobs (r, n, 1, &d, &l, alloc_cb,
            free_cb, NULL), ==, -1);
  }
  mb_h5_reader_close (r);
}

/* Plain HDF5: index consistency and the attribute-free layout. */
static void
check_index (const gchar * path, guint n)
{
  hid_t f = H5Fopen (path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d, s;
  hsize_t dims;
  gint64 *off = g_new0 (gint64, n + 1), *len = g_new0 (gint64, n + 1);
  guint i;

  g_assert_cmpint (f, >=, 0);
  d = H5Dopen2 (f, "/cam/offset", H5P_DEFAULT);
  g_assert_cmpint (H5Dread (d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
          H5P_DEFAULT, off), >=, 0);
  H5Dclose (d);
  d = H5Dopen2 (f, "/cam/size", H5P_DEFAULT);
  g_assert_cmpint (H5Dread (d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
          H5P_DEFAULT, len), >=, 0);
  H5Dclose (d);
  d = H5Dopen2 (f, "/cam/data", H5P_DEFAULT);
  s = H5Dget_space (d);
  H5Sget_simple_extent_dims (s, &dims, NULL);
  H5Sclose (s);
  H5Dclose (d);
  for (i = 0; i < n; i++) {
    g_assert_cmpint (len[i], ==, (gint64) sizes[i % N_SIZES]);
    g_assert_cmpint (off[i] + len[i], <=, (gint64) dims);
    if (i > 0)
      g_assert_cmpint (off[i], ==, off[i - 1] + len[i - 1]);
  }
  H5Fclose (f);
  g_free (off);
  g_free (len);
}

static void
test_rows (void)
{
  gchar *path = tmp_path ("rows.h5");
  MbH5Stream *s;
  MbH5Writer *w = open_stream (path, MB_H5W_CREATE, &s);
  char err[512];

  append_rows (s, w, 0, 2 * N_SIZES);
  g_assert_cmpuint (mb_h5_stream_rows (s), ==, 2 * N_SIZES);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  check_index (path, 2 * N_SIZES);
  check_file (path, 2 * N_SIZES);
  g_free (path);
}

static void
test_append (void)
{
  gchar *path = tmp_path ("append.h5");
  MbH5Stream *s;
  MbH5Writer *w = open_stream (path, MB_H5W_CREATE, &s);
  char err[512];

  append_rows (s, w, 0, 5);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  w = open_stream (path, MB_H5W_APPEND, &s);
  g_assert_cmpuint (mb_h5_stream_rows (s), ==, 5);
  append_rows (s, w, 5, 9);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  check_index (path, 14);
  check_file (path, 14);
  g_free (path);
}

/* A writer that dies after a flush: abort() leaves the file as the last
 * writes left it (like SIGKILL); the flushed rows read back, and an append
 * run continues after them. */
static void
test_abort_after_flush (void)
{
  gchar *path = tmp_path ("abort.h5");
  MbH5Stream *s;
  MbH5Writer *w = open_stream (path, MB_H5W_CREATE, &s);
  char err[512];

  append_rows (s, w, 0, 8);
  g_assert_cmpint (mb_h5_writer_flush (w, 0), ==, 0);
  append_rows (s, w, 8, 6);     /* not flushed */
  mb_h5_writer_abort (w);
  check_file (path, 8);
  check_index (path, 8);

  w = open_stream (path, MB_H5W_APPEND, &s);
  g_assert_cmpuint (mb_h5_stream_rows (s), ==, 8);
  append_rows (s, w, 8, 4);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  /* the unflushed batch's bytes may sit between rows 7 and 8: only the
   * rows are checked, not contiguity */
  check_file (path, 12);
  g_free (path);
}

static void
test_bad_index (void)
{
  gchar *path = tmp_path ("bad.h5");
  MbH5Stream *s;
  MbH5Writer *w = open_stream (path, MB_H5W_CREATE, &s);
  char err[512];
  MbH5ReaderErr code;
  MbH5Reader *r;
  hid_t f, d;
  gint64 big = 1 << 30;
  hsize_t one = 1, at = 2;
  hid_t fs, ms;
  guint8 *data[3];
  size_t len[3];

  append_rows (s, w, 0, 3);
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  /* row 2's size now runs past the end of data */
  f = H5Fopen (path, H5F_ACC_RDWR, H5P_DEFAULT);
  d = H5Dopen2 (f, "/cam/size", H5P_DEFAULT);
  fs = H5Dget_space (d);
  H5Sselect_hyperslab (fs, H5S_SELECT_SET, &at, NULL, &one, NULL);
  ms = H5Screate_simple (1, &one, NULL);
  g_assert_cmpint (H5Dwrite (d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &big),
      >=, 0);
  H5Sclose (ms);
  H5Sclose (fs);
  H5Dclose (d);
  H5Fclose (f);

  r = mb_h5_reader_open (path, "/cam", &code, err, sizeof (err));
  g_assert_nonnull (r);
  g_assert_cmpint (mb_h5_reader_read_blobs (r, 0, 2, data, len, alloc_cb,
          free_cb, NULL), ==, 0);
  g_free (data[0]);
  g_free (data[1]);
  g_assert_cmpint (mb_h5_reader_read_blobs (r, 0, 3, data, len, alloc_cb,
          free_cb, NULL), ==, -1);
  g_assert_nonnull (strstr (mb_h5_reader_error (r), "bad.h5"));
  g_assert_nonnull (strstr (mb_h5_reader_error (r), "/cam/data: row 2"));
  g_assert_nonnull (strstr (mb_h5_reader_error (r), "lies outside"));
  mb_h5_reader_close (r);
  g_free (path);
}

static void
test_append_onto_vlen (void)
{
  gchar *path = tmp_path ("vlen.h5");
  MbH5StreamSpec spec;
  char err[512];
  MbH5Writer *w = mb_h5_writer_open (path, MB_H5W_CREATE, err, sizeof (err));
  MbH5Stream *s;

  memset (&spec, 0, sizeof (spec));
  spec.kind = MB_H5S_VLEN;
  spec.data_path = "/cam/data";
  spec.ts_path = "/cam/timestamp";
  spec.attr_path = "/cam";
  spec.row_type = -1;
  g_assert_nonnull (mb_h5_writer_add_stream (w, &spec));
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);

  w = mb_h5_writer_open (path, MB_H5W_APPEND, err, sizeof (err));
  spec.kind = MB_H5S_PACKED;
  spec.offset_path = "/cam/offset";
  spec.size_path = "/cam/size";
  s = mb_h5_writer_add_stream (w, &spec);
  g_assert_null (s);
  g_assert_nonnull (strstr (mb_h5_writer_error (w), "vlen.h5"));
  g_assert_nonnull (strstr (mb_h5_writer_error (w), "/cam/data"));
  g_assert_nonnull (strstr (mb_h5_writer_error (w), "different type"));
  g_assert_cmpint (mb_h5_writer_close (w, err, sizeof (err)), ==, 0);
  g_free (path);
}

int
main (int argc, char **argv)
{
  const gchar *base = g_getenv ("MB_TEST_TMPDIR");
  int ret;

  g_test_init (&argc, &argv, NULL);
  mb_h5_writer_global_init ();
  tmpdir = g_build_filename (base ? base : g_get_tmp_dir (),
      "h5packed-XXXXXX", NULL);
  g_mkdir_with_parents (base ? base : g_get_tmp_dir (), 0755);
  g_assert_nonnull (g_mkdtemp (tmpdir));

  g_test_add_func ("/h5packed/rows", test_rows);
  g_test_add_func ("/h5packed/append", test_append);
  g_test_add_func ("/h5packed/abort-after-flush", test_abort_after_flush);
  g_test_add_func ("/h5packed/bad-index", test_bad_index);
  g_test_add_func ("/h5packed/append-onto-vlen", test_append_onto_vlen);
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
