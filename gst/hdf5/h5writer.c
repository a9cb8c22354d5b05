/* membound: streaming HDF5 writer for hdf5sink. Plain C, no GStreamer types.
 *
 * Layout of one stream (paths chosen by the caller):
 *   data_path        chunked, unlimited first dimension, see MbH5StreamKind
 *   ts_path          int64 [N] ns
 *   src_ts_path      int64 [N] ns, created the first time a row carries a
 *                    source time different from its timestamp (earlier rows
 *                    are back-filled with their timestamp)
 * PACKED streams store every blob back to back in one 1-D uint8 `data`
 * dataset plus two int64 [N] index datasets (offset, size): row i is
 * data[offset[i] : offset[i] + size[i]].
 * PADDED streams also own one row of the file-wide /compress_len float32
 * [cams, N] (ALOHA), their row index is the data attribute
 * `compress_len_index`.
 *
 * A batch appends with one H5Dset_extent per dataset; VLEN, VECTOR,
 * COMPOUND data and the timestamps with one H5Dwrite per dataset; FRAMES and
 * PADDED rows are chunk-sized and go out with one H5Dwrite_chunk per row
 * (no copy when the frame is packed), or one H5Dwrite per frame when
 * deflate is on. PACKED blobs go from the caller's memory to their chunk's
 * file address with pwrite (see write_packed), then the index rows.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5writer.h"
#include "h5lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <turbojpeg.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ERR_LEN 1024
/* File space reserved ahead of the HDF5 allocation end (see reserve()). */
#define RESERVE_MARGIN (1024 * 1024)
#define RESERVE_STEP (16 * 1024 * 1024)
#define TS_CHUNK 1024
#define CLEN_CHUNK 1024
/* PACKED byte dataset chunk: large, so that a blob rarely spans two */
#define PACKED_CHUNK (4 * 1024 * 1024)

struct _MbH5Stream
{
  MbH5Writer *w;
  MbH5Stream *next;
  MbH5StreamKind kind;
  char *data_path, *ts_path, *src_ts_path, *attr_path;
  hid_t data, ts, src_ts;       /* src_ts < 0 until first needed */
  hid_t vlen_type;              /* VLEN memory type */
  hid_t mem_type;               /* FRAMES / COMPOUND memory type (not owned for COMPOUND) */
  uint64_t rows;
  uint64_t flushed_attr;        /* value of the data's flushed_rows attribute */
  int reopened;
  /* FRAMES */
  uint32_t height, width, channels, sample_bytes;
  size_t row_bytes, frame_bytes;
  int deflate;
  /* PADDED */
  size_t max_bytes;
  int clen_index;
  size_t last_len;
  int zeroed;
  /* VECTOR */
  uint32_t dims;
  int input_f64;
  /* COMPOUND */
  size_t row_size;
  /* PACKED */
  char *offset_path, *size_path;
  hid_t offset_ds, size_ds;
  uint64_t byte_pos;            /* bytes in data (its extent) */
  uint64_t chunk_bytes;
  uint64_t cur_chunk;           /* chunk whose file address is cached */
  haddr_t chunk_addr;
  /* scratch, grown as needed */
  uint8_t *scratch;
  size_t scratch_len;
  int64_t *ts_buf;
  size_t ts_buf_len;
};

struct _MbH5Writer
{
  char *path;
  hid_t file;
  MbH5WriterMode mode;
  int broken;
  int soft;                     /* last error left the file intact */
  int no_reserve;               /* fallocate not supported here */
  int sys_errno;
  char err[ERR_LEN];
  MbH5Stream *streams;
  hid_t clen;                   /* /compress_len, < 0 until an ALOHA camera */
  int n_clen;
};

/* ---- helpers ---- */

static void
wlock (void)
{
  mb_h5_lock ();
  /* Errors are reported through mb_h5_writer_error, not printed. The auto
   * setting is per thread in the thread-safe library. */
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
}

static void
wunlock (void)
{
  mb_h5_unlock ();
}

typedef struct
{
  char desc[512];
  int got;
} WalkData;

static herr_t
walk_cb (unsigned n, const H5E_error2_t * e, void *ud)
{
  WalkData *wd = ud;

  /* Walking upward, the first entry is where the error was detected. */
  if (!wd->got && e->desc) {
    snprintf (wd->desc, sizeof (wd->desc), "%s", e->desc);
    wd->got = 1;
  }
  return 0;
}

/* Records "<file>: <dataset>: <what>: <innermost HDF5 message>". */
static void
set_error (MbH5Writer * w, const char *object, const char *fmt, ...)
{
  WalkData wd;
  char what[256];
  va_list ap;
  int saved_errno = errno;
  const char *p;

  va_start (ap, fmt);
  vsnprintf (what, sizeof (what), fmt, ap);
  va_end (ap);

  memset (&wd, 0, sizeof (wd));
  H5Ewalk2 (H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &wd);
  H5Eclear2 (H5E_DEFAULT);

  w->sys_errno = 0;
  if ((p = strstr (wd.desc, "errno = ")) != NULL)
    w->sys_errno = atoi (p + 8);
  if (w->sys_errno == 0 && wd.got)
    w->sys_errno = saved_errno;

  snprintf (w->err, sizeof (w->err), "%s%s%s: %s%s%s", w->path,
      object ? ": dataset " : "", object ? object : "", what,
      wd.got ? ": " : "", wd.got ? wd.desc : "");
}

static int
grow (void **buf, size_t *len, size_t need)
{
  void *n;

  if (*len >= need)
    return 0;
  n = realloc (*buf, need);
  if (n == NULL)
    return -1;
  *buf = n;
  *len = need;
  return 0;
}

/* Non-zero when every component of @path exists as a link in @file. */
static int
path_exists (hid_t file, const char *path)
{
  char buf[1024];
  char *p;
  int ok = 1;

  if (strlen (path) >= sizeof (buf))
    return 0;
  strcpy (buf, path);
  p = buf + 1;
  while (ok) {
    char *slash = strchr (p, '/');
    if (slash)
      *slash = '\0';
    if (*p && H5Lexists (file, buf, H5P_DEFAULT) <= 0)
      ok = 0;
    if (!slash)
      break;
    *slash = '/';
    p = slash + 1;
  }
  return ok;
}

static hid_t
make_lcpl (void)
{
  hid_t lcpl = H5Pcreate (H5P_LINK_CREATE);
  H5Pset_create_intermediate_group (lcpl, 1);
  return lcpl;
}

/* Creates @path with 0 rows (unlimited) and the given chunk shape; @dcpl
 * (closed here) may carry more settings. */
static hid_t
create_rows (hid_t file, const char *path, hid_t type, int rank,
    const hsize_t * dims_tail, const hsize_t * chunk, hid_t dcpl)
{
  hsize_t dims[4], maxdims[4];
  hid_t space, lcpl, d;
  int i;

  dims[0] = 0;
  maxdims[0] = H5S_UNLIMITED;
  for (i = 1; i < rank; i++)
    dims[i] = maxdims[i] = dims_tail[i - 1];
  space = H5Screate_simple (rank, dims, maxdims);
  H5Pset_chunk (dcpl, rank, chunk);
  lcpl = make_lcpl ();
  d = H5Dcreate2 (file, path, type, space, lcpl, dcpl, H5P_DEFAULT);
  H5Pclose (lcpl);
  H5Pclose (dcpl);
  H5Sclose (space);
  return d;
}

static hid_t
create_extendible (hid_t file, const char *path, hid_t type, int rank,
    const hsize_t * dims_tail, const hsize_t * chunk, int deflate)
{
  hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);

  if (deflate > 0) {
    H5Pset_shuffle (dcpl);
    H5Pset_deflate (dcpl, (unsigned) deflate);
  }
  return create_rows (file, path, type, rank, dims_tail, chunk, dcpl);
}

static int
dataset_rows (hid_t d, int *rank, hsize_t * dims)
{
  hid_t space = H5Dget_space (d);
  int r;

  if (space < 0)
    return -1;
  r = H5Sget_simple_extent_ndims (space);
  if (r < 1 || r > 4) {
    H5Sclose (space);
    return -1;
  }
  H5Sget_simple_extent_dims (space, dims, NULL);
  H5Sclose (space);
  *rank = r;
  return 0;
}

/* Extends @d along dim 0 to @total rows and writes @n rows from @buf at
 * row @first (all dims beyond 0 taken whole). */
static herr_t
append_rows (hid_t d, hid_t mem_type, uint64_t first, size_t n,
    const void *buf)
{
  hsize_t dims[4], start[4] = { 0 }, count[4];
  hid_t fspace, mspace;
  herr_t r;
  int rank, i;

  if (dataset_rows (d, &rank, dims) < 0)
    return -1;
  dims[0] = first + n;
  if (H5Dset_extent (d, dims) < 0)
    return -1;
  fspace = H5Dget_space (d);
  start[0] = first;
  count[0] = n;
  for (i = 1; i < rank; i++)
    count[i] = dims[i];
  H5Sselect_hyperslab (fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  mspace = H5Screate_simple (rank, count, NULL);
  r = H5Dwrite (d, mem_type, mspace, fspace, H5P_DEFAULT, buf);
  H5Sclose (mspace);
  H5Sclose (fspace);
  return r;
}

static int
set_extent_rows (hid_t d, uint64_t rows)
{
  hsize_t dims[4];
  int rank;

  if (dataset_rows (d, &rank, dims) < 0)
    return -1;
  dims[0] = rows;
  return H5Dset_extent (d, dims) < 0 ? -1 : 0;
}

static int
write_attr (hid_t obj, const char *name, hid_t type, const void *value)
{
  hid_t space, a;
  herr_t r;

  if (H5Aexists (obj, name) > 0)
    H5Adelete (obj, name);
  space = H5Screate (H5S_SCALAR);
  a = H5Acreate2 (obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Sclose (space);
  if (a < 0)
    return -1;
  r = H5Awrite (a, type, value);
  H5Aclose (a);
  return r < 0 ? -1 : 0;
}

/* Every data dataset carries an int64 attribute FLUSHED_ROWS: the rows
 * known to be complete in the file. It is rewritten only right after a
 * successful flush, then flushed itself, so the value on disk never counts a
 * row whose bytes are not there. After a write error or a crash the extent
 * can be larger (an object header evicted from HDF5's cache between two
 * flushes carries the new extent), and the rows past the attribute may read
 * as errors or as empty rows; readers (hdf5src, append mode) stop at it. */
#define FLUSHED_ROWS "flushed_rows"

int
mb_h5_dataset_flushed_rows (hid_t d, uint64_t * rows)
{
  int64_t v = -1;
  hid_t a;

  if (H5Aexists (d, FLUSHED_ROWS) <= 0)
    return -1;
  a = H5Aopen (d, FLUSHED_ROWS, H5P_DEFAULT);
  if (a < 0)
    return -1;
  if (H5Aread (a, H5T_NATIVE_INT64, &v) < 0 || v < 0) {
    H5Aclose (a);
    return -1;
  }
  H5Aclose (a);
  *rows = (uint64_t) v;
  return 0;
}

/* with the lock: rewrites the attribute in place (created the first time) */
static int
write_flushed_rows (MbH5Stream * s, uint64_t rows)
{
  int64_t v = (int64_t) rows;
  hid_t a, space;
  herr_t r;

  if (H5Aexists (s->data, FLUSHED_ROWS) > 0) {
    a = H5Aopen (s->data, FLUSHED_ROWS, H5P_DEFAULT);
  } else {
    space = H5Screate (H5S_SCALAR);
    a = H5Acreate2 (s->data, FLUSHED_ROWS, H5T_STD_I64LE, space, H5P_DEFAULT,
        H5P_DEFAULT);
    H5Sclose (space);
  }
  if (a < 0)
    return -1;
  r = H5Awrite (a, H5T_NATIVE_INT64, &v);
  H5Aclose (a);
  if (r < 0)
    return -1;
  s->flushed_attr = rows;
  return 0;
}

/* with the lock: TRUE when a stream has rows its attribute does not count */
static int
flushed_rows_behind (const MbH5Writer * w)
{
  const MbH5Stream *s;

  for (s = w->streams; s; s = s->next)
    if (s->rows != s->flushed_attr)
      return 1;
  return 0;
}

/* with the lock, right after the rows were flushed: brings every stream's
 * attribute up to its rows. 0 / -1 (error set) */
static int
write_flushed_rows_all (MbH5Writer * w)
{
  MbH5Stream *s;

  for (s = w->streams; s; s = s->next)
    if (s->rows != s->flushed_attr && write_flushed_rows (s, s->rows) < 0) {
      set_error (w, s->data_path, "could not write attribute " FLUSHED_ROWS);
      return -1;
    }
  return 0;
}

static int
attr_string (hid_t obj, const char *name, const char *value)
{
  hid_t t = H5Tcopy (H5T_C_S1);
  int r;

  H5Tset_size (t, H5T_VARIABLE);
  H5Tset_cset (t, H5T_CSET_UTF8);
  r = write_attr (obj, name, t, &value);
  H5Tclose (t);
  return r;
}

/* ---- file ---- */

void
mb_h5_writer_global_init (void)
{
  mb_h5_lock ();
  /* FUNC_ENTER_API_NOINIT: does not initialize the library itself. */
  H5dont_atexit ();
  /* The library keeps freed blocks on free lists, by default up to 16 MiB
   * for blocks of every size seen (each vlen blob size is another one):
   * bound them (global / per list, regular, array, block). */
  H5set_free_list_limits (1 << 20, 1 << 16, 1 << 20, 1 << 16, 2 << 20,
      1 << 18);
  mb_h5_unlock ();
}

#define MDC_INITIAL_SIZE (2 * 1024 * 1024)

static hid_t
make_fapl (int clear_flags)
{
  hid_t fapl = H5Pcreate (H5P_FILE_ACCESS);
  H5AC_cache_config_t mdc;

  H5Pset_fclose_degree (fapl, H5F_CLOSE_STRONG);
  /* Bounded metadata cache: vlen rows live in global heap collections that
   * pass through it; the adaptive default may grow to 32 MiB per file. */
  mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  if (H5Pget_mdc_config (fapl, &mdc) >= 0) {
    mdc.set_initial_size = 1;
    mdc.initial_size = MDC_INITIAL_SIZE;
    mdc.min_size = 1024 * 1024;
    mdc.max_size = 4 * 1024 * 1024;
    H5Pset_mdc_config (fapl, &mdc);
  }
  if (clear_flags) {
    /* What `h5clear -s` does: the file-access property that makes H5Fopen
     * clear the superblock status flags a dead libver-latest/SWMR writer
     * left behind. */
    hbool_t clear = 1;
    H5Pset (fapl, "clear_status_flags", &clear);
  }
  return fapl;
}

MbH5Writer *
mb_h5_writer_open (const char *path, MbH5WriterMode mode, char *err,
    size_t err_len)
{
  MbH5Writer *w;
  hid_t fapl;
  int exists;

  if (path == NULL || *path == '\0') {
    if (err && err_len)
      snprintf (err, err_len, "no file name given");
    return NULL;
  }
  w = calloc (1, sizeof (MbH5Writer));
  w->path = strdup (path);
  w->mode = mode;
  w->file = -1;
  w->clen = -1;
  exists = access (path, F_OK) == 0;

  wlock ();
  fapl = make_fapl (0);
  if (mode == MB_H5W_CREATE && exists) {
    snprintf (w->err, sizeof (w->err), "%s: file exists (set mode=overwrite "
        "or mode=append)", path);
    w->sys_errno = EEXIST;
  } else if (mode == MB_H5W_APPEND && exists) {
    w->file = H5Fopen (path, H5F_ACC_RDWR, fapl);
    if (w->file < 0) {
      hid_t fapl2 = make_fapl (1);
      H5Eclear2 (H5E_DEFAULT);
      w->file = H5Fopen (path, H5F_ACC_RDWR, fapl2);
      H5Pclose (fapl2);
    }
    if (w->file < 0)
      set_error (w, NULL, "could not open the file for appending");
  } else {
    w->file = H5Fcreate (path, mode == MB_H5W_CREATE ? H5F_ACC_EXCL :
        H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (w->file < 0)
      set_error (w, NULL, "could not create the file");
  }
  H5Pclose (fapl);
  if (w->file >= 0 && mode == MB_H5W_APPEND && exists &&
      path_exists (w->file, "/compress_len")) {
    w->clen = H5Dopen2 (w->file, "/compress_len", H5P_DEFAULT);
    if (w->clen >= 0) {
      hsize_t dims[4];
      int rank;
      if (dataset_rows (w->clen, &rank, dims) == 0 && rank == 2)
        w->n_clen = (int) dims[0];
    }
  }
  wunlock ();

  if (w->file < 0) {
    if (err && err_len)
      snprintf (err, err_len, "%s", w->err);
    free (w->path);
    free (w);
    return NULL;
  }
  return w;
}

const char *
mb_h5_writer_error (const MbH5Writer * w)
{
  return w->err;
}

int
mb_h5_writer_errno (const MbH5Writer * w)
{
  return w->sys_errno;
}

int
mb_h5_writer_is_broken (const MbH5Writer * w)
{
  return w->broken;
}

int
mb_h5_writer_set_root_attr_string (MbH5Writer * w, const char *name,
    const char *value)
{
  int r;

  wlock ();
  r = attr_string (w->file, name, value);
  if (r < 0)
    set_error (w, "/", "could not write attribute %s", name);
  wunlock ();
  return r;
}

int
mb_h5_writer_set_root_attr_bool (MbH5Writer * w, const char *name, int value)
{
  /* h5py's bool: an int8 enum with FALSE = 0 and TRUE = 1. */
  hid_t t;
  int8_t v = value ? 1 : 0, k;
  int r;

  wlock ();
  t = H5Tenum_create (H5T_NATIVE_INT8);
  k = 0;
  H5Tenum_insert (t, "FALSE", &k);
  k = 1;
  H5Tenum_insert (t, "TRUE", &k);
  r = write_attr (w->file, name, t, &v);
  H5Tclose (t);
  if (r < 0)
    set_error (w, "/", "could not write attribute %s", name);
  wunlock ();
  return r;
}

/* ---- streams ---- */

static void
stream_free (MbH5Stream * s)
{
  if (s->data >= 0)
    H5Dclose (s->data);
  if (s->ts >= 0)
    H5Dclose (s->ts);
  if (s->src_ts >= 0)
    H5Dclose (s->src_ts);
  if (s->offset_ds >= 0)
    H5Dclose (s->offset_ds);
  if (s->size_ds >= 0)
    H5Dclose (s->size_ds);
  if (s->vlen_type >= 0)
    H5Tclose (s->vlen_type);
  if (s->kind == MB_H5S_FRAMES && s->mem_type >= 0)
    H5Tclose (s->mem_type);
  free (s->data_path);
  free (s->ts_path);
  free (s->src_ts_path);
  free (s->attr_path);
  free (s->offset_path);
  free (s->size_path);
  free (s->scratch);
  free (s->ts_buf);
  free (s);
}

/* Checks an existing data dataset against the spec (APPEND mode). */
static int
check_existing (MbH5Stream * s)
{
  hsize_t dims[4];
  int rank, ok = 1;
  hid_t t = H5Dget_type (s->data);

  if (t < 0 || dataset_rows (s->data, &rank, dims) < 0)
    return 0;
  switch (s->kind) {
    case MB_H5S_VLEN:
      ok = rank == 1 && H5Tget_class (t) == H5T_VLEN;
      break;
    case MB_H5S_FRAMES:
      ok = rank == (s->channels > 1 ? 4 : 3) && dims[1] == s->height &&
          dims[2] == s->width && (rank == 3 || dims[3] == s->channels) &&
          H5Tget_class (t) == H5T_INTEGER && H5Tget_size (t) == s->sample_bytes;
      break;
    case MB_H5S_PADDED:
      ok = rank == 2 && dims[1] == s->max_bytes && H5Tget_size (t) == 1;
      break;
    case MB_H5S_VECTOR:
      ok = rank == 2 && dims[1] == s->dims && H5Tget_class (t) == H5T_FLOAT;
      break;
    case MB_H5S_COMPOUND:
      ok = rank == 1 && H5Tequal (t, s->mem_type) > 0;
      break;
    case MB_H5S_PACKED:{
      /* only what create_packed makes: chunks allocated with the extent,
       * no filters (write_packed writes to the chunks' addresses) */
      hid_t dcpl = H5Dget_create_plist (s->data);
      H5D_alloc_time_t at = H5D_ALLOC_TIME_DEFAULT;
      hsize_t chunk = 0;

      ok = rank == 1 && H5Tget_class (t) == H5T_INTEGER &&
          H5Tget_size (t) == 1 && dcpl >= 0 &&
          H5Pget_layout (dcpl) == H5D_CHUNKED &&
          H5Pget_chunk (dcpl, 1, &chunk) == 1 && chunk > 0 &&
          H5Pget_alloc_time (dcpl, &at) >= 0 && at == H5D_ALLOC_TIME_EARLY &&
          H5Pget_nfilters (dcpl) == 0;
      s->chunk_bytes = chunk;
      if (dcpl >= 0)
        H5Pclose (dcpl);
      break;
    }
  }
  H5Tclose (t);
  return ok;
}

/* PACKED byte dataset: chunks are allocated when the extent grows
 * (H5D_ALLOC_TIME_EARLY) and never filled, so their file addresses are
 * known right after H5Dset_extent and write_packed can put the blob bytes
 * there straight from the caller's memory. */
static hid_t
create_packed (hid_t file, const char *path)
{
  hsize_t chunk = PACKED_CHUNK;
  hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);

  H5Pset_alloc_time (dcpl, H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time (dcpl, H5D_FILL_TIME_NEVER);
  return create_rows (file, path, H5T_STD_U8LE, 1, NULL, &chunk, dcpl);
}

/* Opens (APPEND mode, existing) or creates an int64 [N] PACKED index. */
static hid_t
open_or_create_index (MbH5Stream * s, const char *path, int existed)
{
  hsize_t chunk = TS_CHUNK;

  if (existed) {
    hid_t d, t;
    int ok;
    if (!path_exists (s->w->file, path))
      return -1;
    d = H5Dopen2 (s->w->file, path, H5P_DEFAULT);
    t = d >= 0 ? H5Dget_type (d) : -1;
    ok = t >= 0 && H5Tget_class (t) == H5T_INTEGER && H5Tget_size (t) == 8;
    if (t >= 0)
      H5Tclose (t);
    if (!ok && d >= 0) {
      H5Dclose (d);
      d = -1;
    }
    return d;
  }
  return create_extendible (s->w->file, path, H5T_STD_I64LE, 1, NULL, &chunk,
      0);
}

static hid_t
open_or_create_ts (MbH5Writer * w, const char *path, int *existed)
{
  hsize_t chunk = TS_CHUNK;

  *existed = 0;
  if (w->mode == MB_H5W_APPEND && path_exists (w->file, path)) {
    *existed = 1;
    return H5Dopen2 (w->file, path, H5P_DEFAULT);
  }
  return create_extendible (w->file, path, H5T_STD_I64LE, 1, NULL, &chunk, 0);
}

MbH5Stream *
mb_h5_writer_add_stream (MbH5Writer * w, const MbH5StreamSpec * spec)
{
  MbH5Stream *s;
  hid_t file_type = -1;
  hsize_t tail[3], chunk[4];
  int rank = 1, existed = 0, ts_existed = 0;
  const char *fail = NULL;

  if (w->broken)
    return NULL;
  s = calloc (1, sizeof (MbH5Stream));
  s->w = w;
  s->kind = spec->kind;
  s->data_path = strdup (spec->data_path);
  s->ts_path = strdup (spec->ts_path);
  s->src_ts_path = strdup (spec->src_ts_path ? spec->src_ts_path : "");
  s->attr_path = strdup (spec->attr_path ? spec->attr_path : spec->data_path);
  s->data = s->ts = s->src_ts = s->vlen_type = s->mem_type = -1;
  s->offset_ds = s->size_ds = -1;
  s->offset_path = strdup (spec->offset_path ? spec->offset_path : "");
  s->size_path = strdup (spec->size_path ? spec->size_path : "");
  s->chunk_bytes = PACKED_CHUNK;
  s->cur_chunk = UINT64_MAX;
  s->height = spec->height;
  s->width = spec->width;
  s->channels = spec->channels ? spec->channels : 1;
  s->sample_bytes = spec->sample_bytes ? spec->sample_bytes : 1;
  s->row_bytes = (size_t) s->width * s->channels * s->sample_bytes;
  s->frame_bytes = s->row_bytes * s->height;
  s->deflate = spec->deflate;
  s->max_bytes = spec->max_bytes;
  s->dims = spec->dims;
  s->input_f64 = spec->input_f64;
  s->row_size = spec->row_size;
  s->clen_index = -1;

  wlock ();
  switch (s->kind) {
    case MB_H5S_VLEN:
      s->vlen_type = H5Tvlen_create (H5T_NATIVE_UINT8);
      file_type = H5Tcopy (s->vlen_type);
      chunk[0] = 256;
      break;
    case MB_H5S_FRAMES:
      if (s->frame_bytes == 0 || (s->sample_bytes != 1 && s->sample_bytes != 2)) {
        fail = "unsupported frame shape";
        break;
      }
      file_type = H5Tcopy (s->sample_bytes == 2 ? H5T_STD_U16LE : H5T_STD_U8LE);
      s->mem_type = H5Tcopy (file_type);
      rank = s->channels > 1 ? 4 : 3;
      tail[0] = s->height;
      tail[1] = s->width;
      tail[2] = s->channels;
      chunk[0] = 1;
      chunk[1] = s->height;
      chunk[2] = s->width;
      chunk[3] = s->channels;
      break;
    case MB_H5S_PADDED:
      if (s->max_bytes == 0) {
        fail = "max_bytes is 0";
        break;
      }
      file_type = H5Tcopy (H5T_STD_U8LE);
      rank = 2;
      tail[0] = s->max_bytes;
      chunk[0] = 1;
      chunk[1] = s->max_bytes;
      break;
    case MB_H5S_VECTOR:
      if (s->dims == 0) {
        fail = "vector of 0 elements";
        break;
      }
      file_type = H5Tcopy (H5T_IEEE_F32LE);
      rank = 2;
      tail[0] = s->dims;
      chunk[0] = s->dims < 4096 ? 16384 / (s->dims * 4) + 1 : 1;
      chunk[1] = s->dims;
      break;
    case MB_H5S_PACKED:
      if (*s->offset_path == '\0' || *s->size_path == '\0') {
        fail = "no offset/size dataset paths";
        break;
      }
      file_type = H5Tcopy (H5T_STD_U8LE);
      chunk[0] = PACKED_CHUNK;
      break;
    case MB_H5S_COMPOUND:
      if (spec->row_type < 0 || s->row_size == 0) {
        fail = "no row type";
        break;
      }
      s->mem_type = spec->row_type;
      file_type = H5Tcopy (spec->row_type);
      chunk[0] = s->row_size < 65536 ? 65536 / s->row_size : 1;
      if (chunk[0] > 1024)
        chunk[0] = 1024;
      break;
  }
  if (fail) {
    snprintf (w->err, sizeof (w->err), "%s: dataset %s: %s", w->path,
        s->data_path, fail);
    goto error;
  }

  if (w->mode == MB_H5W_APPEND && path_exists (w->file, s->data_path)) {
    existed = 1;
    s->reopened = 1;
    s->data = H5Dopen2 (w->file, s->data_path, H5P_DEFAULT);
    if (s->data < 0) {
      set_error (w, s->data_path, "could not open the existing dataset");
      goto error;
    }
    if (!check_existing (s)) {
      snprintf (w->err, sizeof (w->err), "%s: dataset %s: exists with a "
          "different type or shape than this stream, cannot append",
          w->path, s->data_path);
      goto error;
    }
  } else {
    if (s->kind == MB_H5S_PACKED)
      s->data = create_packed (w->file, s->data_path);
    else
      s->data = create_extendible (w->file, s->data_path, file_type, rank,
          tail, chunk, s->kind == MB_H5S_FRAMES ? s->deflate : 0);
    if (s->data < 0) {
      set_error (w, s->data_path, "could not create the dataset");
      goto error;
    }
  }
  if (s->kind == MB_H5S_PACKED) {
    s->offset_ds = open_or_create_index (s, s->offset_path, existed);
    if (s->offset_ds < 0) {
      set_error (w, s->offset_path, existed ? "missing or not int64 (the "
          "index of the packed data)" : "could not create the dataset");
      goto error;
    }
    s->size_ds = open_or_create_index (s, s->size_path, existed);
    if (s->size_ds < 0) {
      set_error (w, s->size_path, existed ? "missing or not int64 (the "
          "index of the packed data)" : "could not create the dataset");
      goto error;
    }
  }
  s->ts = open_or_create_ts (w, s->ts_path, &ts_existed);
  if (s->ts < 0) {
    set_error (w, s->ts_path, "could not create the dataset");
    goto error;
  }
  if (*s->src_ts_path && w->mode == MB_H5W_APPEND &&
      path_exists (w->file, s->src_ts_path))
    s->src_ts = H5Dopen2 (w->file, s->src_ts_path, H5P_DEFAULT);

  if (existed) {
    /* After a crash the datasets may differ by a batch: keep the rows that
     * are complete in all of them. */
    hsize_t dims[4];
    int r;
    uint64_t rows;

    dataset_rows (s->data, &r, dims);
    rows = dims[0];
    if (s->kind == MB_H5S_PACKED) {
      /* data is bytes: the rows are the index's; bytes past the last
       * complete row (a batch cut by a crash) are left unreferenced and
       * new blobs go after them */
      s->byte_pos = dims[0];
      dataset_rows (s->offset_ds, &r, dims);
      rows = dims[0];
      dataset_rows (s->size_ds, &r, dims);
      if (dims[0] < rows)
        rows = dims[0];
    }
    if (ts_existed) {
      dataset_rows (s->ts, &r, dims);
      if (dims[0] < rows)
        rows = dims[0];
    } else {
      rows = 0;
    }
    {
      /* rows past the last flush of a crashed or failed writer are cut */
      uint64_t flushed;
      if (mb_h5_dataset_flushed_rows (s->data, &flushed) == 0 &&
          flushed < rows)
        rows = flushed;
    }
    if (s->src_ts >= 0) {
      dataset_rows (s->src_ts, &r, dims);
      if (dims[0] < rows)
        rows = dims[0];
      set_extent_rows (s->src_ts, rows);
    }
    if (s->kind == MB_H5S_PACKED) {
      set_extent_rows (s->offset_ds, rows);
      set_extent_rows (s->size_ds, rows);
      if (rows > 0) {
        /* new bytes go after the last row even if data's extent was
         * flushed shorter than the index (not seen, but cheap to rule out) */
        int64_t o = 0, l = 0;
        hsize_t at = rows - 1, one = 1;
        hid_t fs = H5Dget_space (s->offset_ds), ms = H5Screate_simple (1,
            &one, NULL);
        H5Sselect_hyperslab (fs, H5S_SELECT_SET, &at, NULL, &one, NULL);
        H5Dread (s->offset_ds, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &o);
        H5Dread (s->size_ds, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &l);
        H5Sclose (ms);
        H5Sclose (fs);
        if (o >= 0 && l >= 0 && (uint64_t) (o + l) > s->byte_pos)
          s->byte_pos = (uint64_t) (o + l);
      }
    } else {
      set_extent_rows (s->data, rows);
    }
    set_extent_rows (s->ts, rows);
    s->rows = rows;
  }

  if (s->kind == MB_H5S_PADDED) {
    if (existed && H5Aexists (s->data, "compress_len_index") > 0) {
      hid_t a = H5Aopen (s->data, "compress_len_index", H5P_DEFAULT);
      int64_t v = -1;
      H5Aread (a, H5T_NATIVE_INT64, &v);
      H5Aclose (a);
      s->clen_index = (int) v;
    }
    if (w->clen < 0) {
      hsize_t cdims[2] = { 0, 0 }, cmax[2] = { H5S_UNLIMITED, H5S_UNLIMITED };
      hsize_t cchunk[2] = { 1, CLEN_CHUNK };
      hid_t space = H5Screate_simple (2, cdims, cmax);
      hid_t dcpl = H5Pcreate (H5P_DATASET_CREATE);
      H5Pset_chunk (dcpl, 2, cchunk);
      w->clen = H5Dcreate2 (w->file, "/compress_len", H5T_IEEE_F32LE, space,
          H5P_DEFAULT, dcpl, H5P_DEFAULT);
      H5Pclose (dcpl);
      H5Sclose (space);
      if (w->clen < 0) {
        set_error (w, "/compress_len", "could not create the dataset");
        goto error;
      }
    }
    if (s->clen_index < 0) {
      int64_t v = w->n_clen;
      s->clen_index = w->n_clen++;
      if (write_attr (s->data, "compress_len_index", H5T_NATIVE_INT64, &v) < 0) {
        set_error (w, s->data_path, "could not write attribute");
        goto error;
      }
    }
  }
  if (write_flushed_rows (s, s->rows) < 0) {
    set_error (w, s->data_path, "could not write attribute " FLUSHED_ROWS);
    goto error;
  }
  if (file_type >= 0)
    H5Tclose (file_type);
  wunlock ();

  s->next = w->streams;
  w->streams = s;
  return s;

error:
  if (file_type >= 0)
    H5Tclose (file_type);
  stream_free (s);
  wunlock ();
  return NULL;
}

int
mb_h5_stream_set_attr_string (MbH5Stream * s, const char *name,
    const char *value)
{
  hid_t obj;
  int r = -1;

  if (s->reopened)
    return 0;
  wlock ();
  obj = H5Oopen (s->w->file, s->attr_path, H5P_DEFAULT);
  if (obj >= 0) {
    r = attr_string (obj, name, value ? value : "");
    H5Oclose (obj);
  }
  if (r < 0)
    set_error (s->w, s->attr_path, "could not write attribute %s", name);
  wunlock ();
  return r;
}

int
mb_h5_stream_set_attr_int (MbH5Stream * s, const char *name, int64_t value)
{
  hid_t obj;
  int r = -1;

  if (s->reopened)
    return 0;
  wlock ();
  obj = H5Oopen (s->w->file, s->attr_path, H5P_DEFAULT);
  if (obj >= 0) {
    r = write_attr (obj, name, H5T_NATIVE_INT64, &value);
    H5Oclose (obj);
  }
  if (r < 0)
    set_error (s->w, s->attr_path, "could not write attribute %s", name);
  wunlock ();
  return r;
}

uint64_t
mb_h5_stream_rows (const MbH5Stream * s)
{
  return s->rows;
}

const char *
mb_h5_stream_path (const MbH5Stream * s)
{
  return s->data_path;
}

static int
write_frames (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  hsize_t dims[4] = { s->rows + n, s->height, s->width, s->channels };
  size_t i, y;

  if (H5Dset_extent (s->data, dims) < 0) {
    set_error (w, s->data_path, "could not extend the dataset");
    return -1;
  }
  for (i = 0; i < n; i++) {
    const MbH5Row *r = &rows[i];
    size_t stride = r->stride ? r->stride : s->row_bytes;
    const uint8_t *src = r->data;
    hsize_t off[4] = { s->rows + i, 0, 0, 0 };
    herr_t hr;

    if (stride < s->row_bytes || r->size < stride * (s->height - 1) + s->row_bytes) {
      snprintf (w->err, sizeof (w->err), "%s: dataset %s: frame of %zu bytes "
          "(stride %zu) is too small for %ux%u", w->path, s->data_path,
          r->size, stride, s->width, s->height);
      w->sys_errno = 0;
      w->soft = 1;
      return -1;
    }
    if (stride != s->row_bytes) {
      if (grow ((void **) &s->scratch, &s->scratch_len, s->frame_bytes) < 0)
        goto oom;
      for (y = 0; y < s->height; y++)
        memcpy (s->scratch + y * s->row_bytes, src + y * stride, s->row_bytes);
      src = s->scratch;
    }
    if (s->deflate > 0) {
      hsize_t start[4] = { s->rows + i, 0, 0, 0 };
      hsize_t count[4] = { 1, s->height, s->width, s->channels };
      int rank = s->channels > 1 ? 4 : 3;
      hid_t fspace = H5Dget_space (s->data);
      hid_t mspace = H5Screate_simple (rank, count, NULL);
      H5Sselect_hyperslab (fspace, H5S_SELECT_SET, start, NULL, count, NULL);
      hr = H5Dwrite (s->data, s->mem_type, mspace, fspace, H5P_DEFAULT, src);
      H5Sclose (mspace);
      H5Sclose (fspace);
    } else {
      hr = H5Dwrite_chunk (s->data, H5P_DEFAULT, 0, off, s->frame_bytes, src);
    }
    if (hr < 0) {
      set_error (w, s->data_path, "could not write frame %llu",
          (unsigned long long) (s->rows + i));
      return -1;
    }
  }
  return 0;
oom:
  snprintf (w->err, sizeof (w->err), "%s: dataset %s: out of memory",
      w->path, s->data_path);
  return -1;
}

static int
write_padded (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  hsize_t dims[2] = { s->rows + n, s->max_bytes };
  hsize_t cdims[2], cstart[2], ccount[2];
  float *lens;
  size_t i;
  int rank;
  hid_t fspace, mspace;
  herr_t hr;

  for (i = 0; i < n; i++) {
    if (rows[i].size > s->max_bytes) {
      snprintf (w->err, sizeof (w->err), "%s: dataset %s: frame %llu has %zu "
          "bytes, more than the row size %zu (raise aloha-max-bytes)",
          w->path, s->data_path, (unsigned long long) (s->rows + i),
          rows[i].size, s->max_bytes);
      w->sys_errno = 0;
      w->soft = 1;
      return -1;
    }
  }
  if (grow ((void **) &s->scratch, &s->scratch_len, s->max_bytes +
          n * sizeof (float)) < 0) {
    snprintf (w->err, sizeof (w->err), "%s: dataset %s: out of memory",
        w->path, s->data_path);
    return -1;
  }
  if (!s->zeroed) {
    memset (s->scratch, 0, s->max_bytes);
    s->last_len = 0;
    s->zeroed = 1;
  }
  if (H5Dset_extent (s->data, dims) < 0) {
    set_error (w, s->data_path, "could not extend the dataset");
    return -1;
  }
  for (i = 0; i < n; i++) {
    hsize_t off[2] = { s->rows + i, 0 };
    size_t len = rows[i].size;

    /* The row buffer past last_len is kept zero. */
    memcpy (s->scratch, rows[i].data, len);
    if (s->last_len > len)
      memset (s->scratch + len, 0, s->last_len - len);
    s->last_len = len;
    if (H5Dwrite_chunk (s->data, H5P_DEFAULT, 0, off, s->max_bytes,
            s->scratch) < 0) {
      set_error (w, s->data_path, "could not write row %llu",
          (unsigned long long) (s->rows + i));
      return -1;
    }
  }

  /* /compress_len[clen_index, rows..rows+n] */
  lens = (float *) (s->scratch + s->max_bytes);
  for (i = 0; i < n; i++)
    lens[i] = (float) rows[i].size;
  if (dataset_rows (w->clen, &rank, cdims) < 0)
    goto clen_error;
  if (cdims[0] < (hsize_t) s->clen_index + 1)
    cdims[0] = s->clen_index + 1;
  if (cdims[1] < s->rows + n)
    cdims[1] = s->rows + n;
  if (H5Dset_extent (w->clen, cdims) < 0)
    goto clen_error;
  cstart[0] = s->clen_index;
  cstart[1] = s->rows;
  ccount[0] = 1;
  ccount[1] = n;
  fspace = H5Dget_space (w->clen);
  H5Sselect_hyperslab (fspace, H5S_SELECT_SET, cstart, NULL, ccount, NULL);
  mspace = H5Screate_simple (2, ccount, NULL);
  hr = H5Dwrite (w->clen, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, lens);
  H5Sclose (mspace);
  H5Sclose (fspace);
  if (hr < 0)
    goto clen_error;
  return 0;

clen_error:
  set_error (w, "/compress_len", "could not append");
  return -1;
}

static int
write_vector (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  size_t in_bytes = (size_t) s->dims * (s->input_f64 ? 8 : 4);
  size_t i, k;
  float *out;

  if (grow ((void **) &s->scratch, &s->scratch_len,
          n * s->dims * sizeof (float)) < 0) {
    snprintf (w->err, sizeof (w->err), "%s: dataset %s: out of memory",
        w->path, s->data_path);
    return -1;
  }
  out = (float *) s->scratch;
  for (i = 0; i < n; i++) {
    if (rows[i].size != in_bytes) {
      snprintf (w->err, sizeof (w->err), "%s: dataset %s: row %llu has %zu "
          "bytes, expected %zu (%u x %s)", w->path, s->data_path,
          (unsigned long long) (s->rows + i), rows[i].size, in_bytes,
          s->dims, s->input_f64 ? "float64" : "float32");
      w->sys_errno = 0;
      w->soft = 1;
      return -1;
    }
    for (k = 0; k < s->dims; k++) {
      if (s->input_f64) {
        double d;
        memcpy (&d, rows[i].data + k * 8, 8);
        out[i * s->dims + k] = (float) d;
      } else {
        memcpy (&out[i * s->dims + k], rows[i].data + k * 4, 4);
      }
    }
  }
  if (append_rows (s->data, H5T_NATIVE_FLOAT, s->rows, n, out) < 0) {
    set_error (w, s->data_path, "could not append");
    return -1;
  }
  return 0;
}

static int
write_vlen (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  hvl_t *v;
  size_t i;

  if (grow ((void **) &s->scratch, &s->scratch_len, n * sizeof (hvl_t)) < 0) {
    snprintf (w->err, sizeof (w->err), "%s: dataset %s: out of memory",
        w->path, s->data_path);
    return -1;
  }
  v = (hvl_t *) s->scratch;
  for (i = 0; i < n; i++) {
    v[i].len = rows[i].size;
    v[i].p = (void *) rows[i].data;
  }
  if (append_rows (s->data, s->vlen_type, s->rows, n, v) < 0) {
    set_error (w, s->data_path, "could not append");
    return -1;
  }
  return 0;
}

/* Writes @len bytes at byte @pos of the PACKED data dataset, whose extent
 * already covers them (so their chunks are allocated): one pwrite per chunk
 * touched, from @src to the chunk's file address. HDF5 holds no copy of
 * these chunks (it never reads or writes them itself: no cache, no sieve
 * buffer, no fill), so this is the same write H5Dwrite would make for an
 * uncached chunk, without its per-call selection work. */
static int
packed_write_bytes (MbH5Stream * s, int fd, const uint8_t * src, size_t len,
    uint64_t pos, uint64_t row)
{
  MbH5Writer *w = s->w;

  while (len > 0) {
    uint64_t ci = pos / s->chunk_bytes;
    uint64_t in = pos - ci * s->chunk_bytes;
    size_t n = len;
    ssize_t k;

    if (ci != s->cur_chunk) {
      hsize_t coord = ci * s->chunk_bytes, csize = 0;
      unsigned mask = 0;
      haddr_t addr = HADDR_UNDEF;
      if (H5Dget_chunk_info_by_coord (s->data, &coord, &mask, &addr,
              &csize) < 0 || addr == HADDR_UNDEF) {
        set_error (w, s->data_path, "chunk %llu of row %llu is not allocated",
            (unsigned long long) ci, (unsigned long long) row);
        return -1;
      }
      s->cur_chunk = ci;
      s->chunk_addr = addr;
    }
    if (n > s->chunk_bytes - in)
      n = s->chunk_bytes - in;
    k = pwrite (fd, src, n, (off_t) (s->chunk_addr + in));
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0) {
      int e = k < 0 ? errno : EIO;
      snprintf (w->err, sizeof (w->err), "%s: dataset %s: could not write "
          "row %llu: %s", w->path, s->data_path, (unsigned long long) row,
          strerror (e));
      w->sys_errno = e;
      return -1;
    }
    src += k;
    pos += k;
    len -= k;
  }
  return 0;
}

/* PACKED: extends data by the batch's bytes, writes every blob from its
 * row's memory, then appends the index rows, so that every index row
 * (flushed or not) points at bytes already written. */
static int
write_packed (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  uint64_t pos = s->byte_pos, total = 0;
  int64_t *offs, *sizes;
  int *fd = NULL;
  hsize_t ext;
  size_t i;

  for (i = 0; i < n; i++)
    total += rows[i].size;
  if (grow ((void **) &s->scratch, &s->scratch_len,
          2 * n * sizeof (int64_t)) < 0) {
    snprintf (w->err, sizeof (w->err), "%s: dataset %s: out of memory",
        w->path, s->data_path);
    return -1;
  }
  offs = (int64_t *) s->scratch;
  sizes = offs + n;
  if (H5Fget_vfd_handle (w->file, H5P_DEFAULT, (void **) &fd) < 0 || !fd) {
    set_error (w, s->data_path, "no file descriptor");
    return -1;
  }
  ext = pos + total;
  if (total > 0 && H5Dset_extent (s->data, &ext) < 0) {
    set_error (w, s->data_path, "could not extend the dataset");
    return -1;
  }
  for (i = 0; i < n; i++) {
    if (packed_write_bytes (s, *fd, rows[i].data, rows[i].size, pos,
            s->rows + i) < 0)
      return -1;
    offs[i] = (int64_t) pos;
    sizes[i] = (int64_t) rows[i].size;
    pos += rows[i].size;
  }
  if (append_rows (s->offset_ds, H5T_NATIVE_INT64, s->rows, n, offs) < 0) {
    set_error (w, s->offset_path, "could not append");
    return -1;
  }
  if (append_rows (s->size_ds, H5T_NATIVE_INT64, s->rows, n, sizes) < 0) {
    set_error (w, s->size_path, "could not append");
    return -1;
  }
  s->byte_pos = pos;
  return 0;
}

static int
write_compound (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  size_t i;

  if (grow ((void **) &s->scratch, &s->scratch_len, n * s->row_size) < 0) {
    snprintf (w->err, sizeof (w->err), "%s: dataset %s: out of memory",
        w->path, s->data_path);
    return -1;
  }
  for (i = 0; i < n; i++)
    memcpy (s->scratch + i * s->row_size, rows[i].data, s->row_size);
  if (append_rows (s->data, s->mem_type, s->rows, n, s->scratch) < 0) {
    set_error (w, s->data_path, "could not append");
    return -1;
  }
  return 0;
}

static int
write_timestamps (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  size_t i;
  int need_src = 0;

  if (grow ((void **) &s->ts_buf, &s->ts_buf_len, n * sizeof (int64_t)) < 0)
    return -1;
  for (i = 0; i < n; i++) {
    s->ts_buf[i] = rows[i].timestamp;
    if (rows[i].has_source_timestamp &&
        rows[i].source_timestamp != rows[i].timestamp)
      need_src = 1;
  }
  if (append_rows (s->ts, H5T_NATIVE_INT64, s->rows, n, s->ts_buf) < 0) {
    set_error (w, s->ts_path, "could not append");
    return -1;
  }

  if (need_src && s->src_ts < 0 && *s->src_ts_path) {
    int existed;
    /* Created on first use; earlier rows get their own timestamp. */
    s->src_ts = open_or_create_ts (w, s->src_ts_path, &existed);
    if (s->src_ts < 0) {
      set_error (w, s->src_ts_path, "could not create the dataset");
      return -1;
    }
    if (s->rows > 0) {
      int64_t *old = malloc (s->rows * sizeof (int64_t));
      hsize_t start = 0, count = s->rows;
      hid_t fspace = H5Dget_space (s->ts), mspace;
      herr_t hr;

      if (old == NULL) {
        H5Sclose (fspace);
        return -1;
      }
      H5Sselect_hyperslab (fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
      mspace = H5Screate_simple (1, &count, NULL);
      hr = H5Dread (s->ts, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT, old);
      H5Sclose (mspace);
      H5Sclose (fspace);
      if (hr >= 0)
        hr = append_rows (s->src_ts, H5T_NATIVE_INT64, 0, s->rows, old);
      free (old);
      if (hr < 0) {
        set_error (w, s->src_ts_path, "could not back-fill");
        return -1;
      }
    }
  }
  if (s->src_ts >= 0) {
    for (i = 0; i < n; i++)
      s->ts_buf[i] = rows[i].has_source_timestamp ?
          rows[i].source_timestamp : rows[i].timestamp;
    if (append_rows (s->src_ts, H5T_NATIVE_INT64, s->rows, n, s->ts_buf) < 0) {
      set_error (w, s->src_ts_path, "could not append");
      return -1;
    }
  }
  return 0;
}

/* Makes sure the file has disk space for @need more bytes past the HDF5
 * allocation end before the library writes them: a full disk (ENOSPC) or a
 * file size limit (EFBIG) then shows up here, outside HDF5, and the file can
 * still be flushed and closed cleanly (every write HDF5 makes afterwards
 * lands in space that is already allocated). HDF5 1.10.8 cannot recover
 * from a failed flush, which is why the space is claimed beforehand. */
static int
reserve (MbH5Writer * w, uint64_t need)
{
  int *fd = NULL;
  haddr_t eoa = 0;
  struct stat st;
  uint64_t want;

  if (w->no_reserve)
    return 0;
  if (H5Fget_vfd_handle (w->file, H5P_DEFAULT, (void **) &fd) < 0 || !fd ||
      H5Fget_eoa (w->file, &eoa) < 0 || fstat (*fd, &st) < 0) {
    w->no_reserve = 1;
    return 0;
  }
  want = eoa + need + RESERVE_MARGIN;
  if ((uint64_t) st.st_size >= want)
    return 0;
  want = eoa + need + RESERVE_STEP;
  if (fallocate (*fd, 0, st.st_size, want - st.st_size) < 0 &&
      fallocate (*fd, 0, st.st_size, eoa + need + RESERVE_MARGIN -
          st.st_size) < 0) {
    int e = errno;
    if (e == EOPNOTSUPP || e == ENOSYS) {
      w->no_reserve = 1;
      return 0;
    }
    w->sys_errno = e;
    return -1;
  }
  return 0;
}

static uint64_t
batch_bytes (const MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  uint64_t b = 64 * 1024 + n * 64;
  size_t i;

  /* PACKED: the extent change allocates the chunks it newly covers */
  if (s->kind == MB_H5S_PACKED) {
    uint64_t total = 0, alloc_end;
    for (i = 0; i < n; i++)
      total += rows[i].size;
    alloc_end = (s->byte_pos + s->chunk_bytes - 1) / s->chunk_bytes *
        s->chunk_bytes;
    if (s->byte_pos + total > alloc_end)
      b += (s->byte_pos + total - alloc_end + s->chunk_bytes - 1) /
          s->chunk_bytes * s->chunk_bytes;
    return b + n * 16;
  }
  for (i = 0; i < n; i++) {
    switch (s->kind) {
      case MB_H5S_FRAMES:
        b += s->frame_bytes;
        break;
      case MB_H5S_PADDED:
        b += s->max_bytes + 4;
        break;
      case MB_H5S_COMPOUND:
        b += s->row_size + 4096;
        break;
      default:
        b += rows[i].size + 32;
        break;
    }
  }
  return b;
}

int
mb_h5_stream_append (MbH5Stream * s, const MbH5Row * rows, size_t n)
{
  MbH5Writer *w = s->w;
  int r = -1;

  if (w->broken)
    return -1;
  if (n == 0)
    return 0;
  w->soft = 0;
  wlock ();
  if (reserve (w, batch_bytes (s, rows, n)) < 0) {
    snprintf (w->err, sizeof (w->err), "%s: dataset %s: no space for %zu "
        "more rows: %s", w->path, s->data_path, n, strerror (w->sys_errno));
    w->soft = 1;
    wunlock ();
    return -1;
  }
  switch (s->kind) {
    case MB_H5S_VLEN:
      r = write_vlen (s, rows, n);
      break;
    case MB_H5S_FRAMES:
      r = write_frames (s, rows, n);
      break;
    case MB_H5S_PADDED:
      r = write_padded (s, rows, n);
      break;
    case MB_H5S_VECTOR:
      r = write_vector (s, rows, n);
      break;
    case MB_H5S_COMPOUND:
      r = write_compound (s, rows, n);
      break;
    case MB_H5S_PACKED:
      r = write_packed (s, rows, n);
      break;
  }
  if (r == 0)
    r = write_timestamps (s, rows, n);
  if (r == 0)
    s->rows += n;
  else if (!w->soft)
    w->broken = 1;
  wunlock ();
  return r;
}

/* with the lock: H5Fflush, then fsync when asked. 0 / -1 (error set) */
static int
flush_file (MbH5Writer * w, int do_fsync)
{
  if (H5Fflush (w->file, H5F_SCOPE_GLOBAL) < 0) {
    set_error (w, NULL, "could not flush");
    return -1;
  }
  if (H5Fincrement_filesize (w->file, 1) < 0) {
    /* Moves the end of allocation past everything flushed, so that no
     * flushed block (a global heap collection holding vlen rows) is
     * extended in place afterwards: a crash or write error before the next
     * flush could otherwise leave its header claiming more than the flushed
     * superblock's end of file ("actual len exceeds EOA") and make the
     * flushed rows unreadable. Costs one byte per flush. */
    set_error (w, NULL, "could not flush");
    return -1;
  }
  if (do_fsync) {
    int *fd = NULL;
    if (H5Fget_vfd_handle (w->file, H5P_DEFAULT, (void **) &fd) < 0 ||
        fd == NULL || fsync (*fd) < 0) {
      int e = errno;
      snprintf (w->err, sizeof (w->err), "%s: fsync failed: %s", w->path,
          strerror (e));
      w->sys_errno = e;
      return -1;
    }
  }
  return 0;
}

/* with the lock, right after a flush: HDF5 puts a new vlen row into any
 * global heap collection in memory that still has room (a collection
 * doubles when it grows at the end of the file, so most have room for more
 * rows), which rewrites that collection with rows already flushed in it: a
 * torn write there (I/O error, power loss) makes the flushed rows unreadable
 * (HDF5 1.10.8 even loops forever parsing such a collection). A collection
 * leaves that list when it leaves the metadata cache, so every (clean, just
 * flushed) entry is evicted: the cache is shrunk to its minimum, an object
 * header is looked up so that the cache makes room, and the size is put
 * back. New rows then go to new collections. */
static void
seal_heaps (MbH5Writer * w)
{
  H5AC_cache_config_t c, small;
  MbH5Stream *s;
  H5O_info_t oi;

  for (s = w->streams; s; s = s->next)
    if (s->kind == MB_H5S_VLEN || s->kind == MB_H5S_COMPOUND)
      break;
  if (!s)
    return;
  c.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  if (H5Fget_mdc_config (w->file, &c) < 0)
    return;
  small = c;
  small.set_initial_size = 1;
  small.initial_size = small.min_size = small.max_size = 1024;
  small.incr_mode = H5C_incr__off;
  small.flash_incr_mode = H5C_flash_incr__off;
  small.decr_mode = H5C_decr__off;
  if (H5Fset_mdc_config (w->file, &small) < 0)
    return;
  H5Oget_info2 (s->data, &oi, H5O_INFO_BASIC);
  c.set_initial_size = 1;
  c.initial_size = MDC_INITIAL_SIZE;
  H5Fset_mdc_config (w->file, &c);
}

int
mb_h5_writer_flush (MbH5Writer * w, int do_fsync)
{
  int r;

  if (w->broken)
    return -1;
  wlock ();
  /* the rows first, then the attributes that count them (FLUSHED_ROWS) */
  r = flush_file (w, do_fsync);
  if (r == 0 && flushed_rows_behind (w)) {
    r = write_flushed_rows_all (w);
    if (r == 0)
      r = flush_file (w, do_fsync);
  }
  if (r == 0)
    seal_heaps (w);
  if (r < 0)
    w->broken = 1;
  wunlock ();
  return r;
}

static void
close_objects (MbH5Writer * w)
{
  MbH5Stream *s, *next;

  for (s = w->streams; s; s = next) {
    next = s->next;
    stream_free (s);
  }
  w->streams = NULL;
  if (w->clen >= 0)
    H5Dclose (w->clen);
  w->clen = -1;
}

int
mb_h5_writer_close (MbH5Writer * w, char *err, size_t err_len)
{
  int r = 0;

  if (w->broken) {
    if (err && err_len)
      snprintf (err, err_len, "%s", w->err);
    mb_h5_writer_abort (w);
    return -1;
  }
  wlock ();
  /* as in a flush: the rows reach the file before the attributes that
   * count them, which the close then writes */
  if (flushed_rows_behind (w) && (flush_file (w, 0) < 0 ||
          write_flushed_rows_all (w) < 0))
    r = -1;
  if (r < 0) {
    /* the file is as the last flush left it */
    w->broken = 1;
    wunlock ();
    if (err && err_len)
      snprintf (err, err_len, "%s", w->err);
    mb_h5_writer_abort (w);
    return -1;
  }
  close_objects (w);
  if (H5Fclose (w->file) < 0) {
    set_error (w, NULL, "could not close the file");
    r = -1;
  } else if (!w->no_reserve) {
    /* Give back the space reserved past the end (HDF5 only truncates when
     * its own idea of the end of file differs). */
    hid_t f = H5Fopen (w->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    haddr_t eoa = 0;
    if (f >= 0) {
      H5Fget_eoa (f, &eoa);
      H5Fclose (f);
      if (eoa > 0 && truncate (w->path, eoa) < 0)
        eoa = 0;
    }
  }
  wunlock ();
  if (r < 0 && err && err_len)
    snprintf (err, err_len, "%s", w->err);
  free (w->path);
  free (w);
  return r;
}

void
mb_h5_writer_abort (MbH5Writer * w)
{
  int *fd = NULL;

  wlock ();
  /* Point the library's descriptor at /dev/null so that nothing it still
   * has cached (metadata, chunks) reaches the file: the file stays exactly
   * as the last successful write left it, like after a crash, while the
   * library's close succeeds (writes vanish) and releases everything. */
  if (H5Fget_vfd_handle (w->file, H5P_DEFAULT, (void **) &fd) >= 0 && fd) {
    int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
    if (nul >= 0) {
      dup2 (nul, *fd);
      close (nul);
    }
  }
  close_objects (w);
  if (w->broken) {
    /* HDF5 1.10.8 cannot close a file after a failed flush (its metadata
     * cache reports "slist already enabled?") and a failed H5Fclose leaves
     * a half-destroyed id that crashes the library's exit handler. So the
     * file id is left open (its descriptor now on /dev/null), a bounded
     * leak after an I/O error; the library closes it at exit. */
  } else {
    H5Fclose (w->file);
  }
  H5Eclear2 (H5E_DEFAULT);
  wunlock ();
  free (w->path);
  free (w);
}

/* ---- JPEG ---- */

struct _MbJpegEncoder
{
  tjhandle tj;
  /* One worst-case output buffer per encoder, allocated once for the frame
   * size and reused (TJFLAG_NOREALLOC): without it TurboJPEG allocates a
   * worst-case buffer (several MB at 2560x720) per frame in the worker
   * thread's malloc arena, which the writer thread frees later. */
  unsigned char *buf;
  unsigned long buf_size;
  /* YUV scratch planes (NV12 de-interleaving, range expansion), allocated
   * once for the frame size: Y, then U, then V. */
  uint8_t *yuv;
  size_t yuv_size;
};

MbJpegEncoder *
mb_jpeg_encoder_new (void)
{
  MbJpegEncoder *e = calloc (1, sizeof (MbJpegEncoder));

  e->tj = tjInitCompress ();
  if (e->tj == NULL) {
    free (e);
    return NULL;
  }
  return e;
}

void
mb_jpeg_encoder_free (MbJpegEncoder * e)
{
  if (e == NULL)
    return;
  tjDestroy (e->tj);
  if (e->buf)
    tjFree (e->buf);
  free (e->yuv);
  free (e);
}

/* Makes e->buf hold a worst-case JPEG of width x height. */
static int
jpeg_ensure_buf (MbJpegEncoder * e, int width, int height, int samp,
    char *err, size_t err_len)
{
  unsigned long need = tjBufSize (width, height, samp);

  if (width <= 0 || height <= 0 || need == (unsigned long) -1) {
    if (err && err_len)
      snprintf (err, err_len, "JPEG encoding failed: bad frame size %dx%d",
          width, height);
    return -1;
  }
  if (e->buf == NULL || e->buf_size != need) {
    if (e->buf)
      tjFree (e->buf);
    e->buf = tjAlloc ((int) need);
    e->buf_size = e->buf ? need : 0;
    if (e->buf == NULL) {
      if (err && err_len)
        snprintf (err, err_len, "JPEG encoding failed: out of memory");
      return -1;
    }
  }
  return 0;
}

/* After a TurboJPEG call returning @r: the exact-size copy of e->buf is
 * what travels to the writer thread. */
static int
jpeg_finish (MbJpegEncoder * e, int r, unsigned long len, uint8_t ** out,
    size_t *out_len, char *err, size_t err_len)
{
  uint8_t *copy;

  if (r < 0) {
    if (err && err_len)
      snprintf (err, err_len, "JPEG encoding failed: %s",
          tjGetErrorStr2 (e->tj));
    return -1;
  }
  copy = malloc (len ? len : 1);
  if (copy == NULL) {
    if (err && err_len)
      snprintf (err, err_len, "JPEG encoding failed: out of memory");
    return -1;
  }
  memcpy (copy, e->buf, len);
  *out = copy;
  *out_len = len;
  return 0;
}

int
mb_jpeg_encode (MbJpegEncoder * e, const uint8_t * src, int width, int pitch,
    int height, MbJpegPixel fmt, int quality, uint8_t ** out, size_t *out_len,
    char *err, size_t err_len)
{
  static const int pf[] = { TJPF_GRAY, TJPF_RGB, TJPF_BGR, TJPF_RGBX,
    TJPF_BGRX, TJPF_XRGB, TJPF_XBGR, TJPF_RGBA, TJPF_BGRA
  };
  int samp = fmt == MB_JPEG_GRAY ? TJSAMP_GRAY : TJSAMP_420;
  unsigned long len;
  int r;

  if ((int) fmt < 0 || fmt > MB_JPEG_BGRA) {
    if (err && err_len)
      snprintf (err, err_len, "JPEG encoding failed: not a packed format");
    return -1;
  }
  if (jpeg_ensure_buf (e, width, height, samp, err, err_len) < 0)
    return -1;
  len = e->buf_size;
  r = tjCompress2 (e->tj, src, width, pitch, height, pf[fmt], &e->buf, &len,
      samp, quality, TJFLAG_NOREALLOC);
  return jpeg_finish (e, r, len, out, out_len, err, err_len);
}

/* Video range (BT.601/709: Y 16-235, Cb/Cr 16-240 around 128) to JPEG's
 * (JFIF) full range, in 16-bit fixed point (identical in the SIMD and the
 * scalar code; within 1 of the exact rounding):
 *   y' = min (255, (max (y - 16, 0) * 149 + 64) >> 7)      149/128 ~ 255/219
 *   c' = clamp (128 + floor (((c - 128) * 146 + 64) / 128)) 146/128 ~ 255/224 */
static inline uint8_t
expand_y (uint8_t y)
{
  int v = y > 16 ? (y - 16) * 149 + 64 : 64;
  v >>= 7;
  return v > 255 ? 255 : (uint8_t) v;
}

static inline uint8_t
expand_c (uint8_t c)
{
  /* + 256 * 128 keeps the shifted value non-negative: floor division */
  int v = (((c - 128) * 146 + 64 + 32768) >> 7) - 256 + 128;
  return v < 0 ? 0 : v > 255 ? 255 : (uint8_t) v;
}

#ifdef __SSE2__
static inline __m128i
expand_y16 (__m128i v)          /* 8 x u16 (y - 16 saturated) */
{
  return _mm_srli_epi16 (_mm_add_epi16 (_mm_mullo_epi16 (v,
              _mm_set1_epi16 (149)), _mm_set1_epi16 (64)), 7);
}

static inline __m128i
expand_c16 (__m128i v)          /* 8 x u16 chroma */
{
  __m128i t = _mm_mullo_epi16 (_mm_sub_epi16 (v, _mm_set1_epi16 (128)),
      _mm_set1_epi16 (146));
  t = _mm_srai_epi16 (_mm_add_epi16 (t, _mm_set1_epi16 (64)), 7);
  return _mm_add_epi16 (t, _mm_set1_epi16 (128));
}
#endif

static void
expand_y_row (const uint8_t * s, uint8_t * d, int n)
{
  int x = 0;
#ifdef __SSE2__
  const __m128i z = _mm_setzero_si128 (), k16 = _mm_set1_epi8 (16);
  for (; x + 16 <= n; x += 16) {
    __m128i v = _mm_subs_epu8 (_mm_loadu_si128 ((const __m128i *) (s + x)),
        k16);
    __m128i lo = expand_y16 (_mm_unpacklo_epi8 (v, z));
    __m128i hi = expand_y16 (_mm_unpackhi_epi8 (v, z));
    _mm_storeu_si128 ((__m128i *) (d + x), _mm_packus_epi16 (lo, hi));
  }
#endif
  for (; x < n; x++)
    d[x] = expand_y (s[x]);
}

static void
expand_c_row (const uint8_t * s, uint8_t * d, int n)
{
  int x = 0;
#ifdef __SSE2__
  const __m128i z = _mm_setzero_si128 ();
  for (; x + 16 <= n; x += 16) {
    __m128i v = _mm_loadu_si128 ((const __m128i *) (s + x));
    __m128i lo = expand_c16 (_mm_unpacklo_epi8 (v, z));
    __m128i hi = expand_c16 (_mm_unpackhi_epi8 (v, z));
    _mm_storeu_si128 ((__m128i *) (d + x), _mm_packus_epi16 (lo, hi));
  }
#endif
  for (; x < n; x++)
    d[x] = expand_c (s[x]);
}

/* NV12's interleaved UV row of @n pairs into U and V, expanded or not. */
static void
split_uv_row (const uint8_t * s, uint8_t * u, uint8_t * v, int n, int expand)
{
  int x = 0;
#ifdef __SSE2__
  const __m128i lo8 = _mm_set1_epi16 (0xff);
  for (; x + 16 <= n; x += 16) {
    __m128i a = _mm_loadu_si128 ((const __m128i *) (s + 2 * x));
    __m128i b = _mm_loadu_si128 ((const __m128i *) (s + 2 * x + 16));
    __m128i ua = _mm_and_si128 (a, lo8), ub = _mm_and_si128 (b, lo8);
    __m128i va = _mm_srli_epi16 (a, 8), vb = _mm_srli_epi16 (b, 8);
    if (expand) {
      ua = expand_c16 (ua);
      ub = expand_c16 (ub);
      va = expand_c16 (va);
      vb = expand_c16 (vb);
    }
    _mm_storeu_si128 ((__m128i *) (u + x), _mm_packus_epi16 (ua, ub));
    _mm_storeu_si128 ((__m128i *) (v + x), _mm_packus_epi16 (va, vb));
  }
#endif
  for (; x < n; x++) {
    u[x] = expand ? expand_c (s[2 * x]) : s[2 * x];
    v[x] = expand ? expand_c (s[2 * x + 1]) : s[2 * x + 1];
  }
}

int
mb_jpeg_encode_yuv (MbJpegEncoder * e, const uint8_t * const planes[3],
    const int strides[3], int width, int height, MbJpegPixel fmt,
    int limited_range, int quality, uint8_t ** out, size_t *out_len,
    char *err, size_t err_len)
{
  const unsigned char *src[3];
  int st[3];
  int cw = (width + 1) / 2, ch = (height + 1) / 2;
  int yw = cw * 2, yh = ch * 2;
  int x, y, r;
  unsigned long len;

  if (fmt != MB_JPEG_I420 && fmt != MB_JPEG_NV12) {
    if (err && err_len)
      snprintf (err, err_len, "JPEG encoding failed: not a YUV 4:2:0 format");
    return -1;
  }
  if (jpeg_ensure_buf (e, width, height, TJSAMP_420, err, err_len) < 0)
    return -1;

  for (x = 0; x < 3; x++) {
    src[x] = planes[x];
    st[x] = strides[x];
  }
  /* TurboJPEG reads the Y plane as (width, height) rounded up to even (the
   * 4:2:0 MCU): an odd frame's Y goes through the scratch plane with its
   * last column and row repeated, so nothing past the frame is read. */
  if (limited_range || fmt == MB_JPEG_NV12 || yw != width || yh != height) {
    int copy_y = limited_range || yw != width || yh != height;
    int copy_c = limited_range || fmt == MB_JPEG_NV12;
    size_t ysz = copy_y ? (size_t) yw * yh : 0;
    size_t need = ysz + (copy_c ? 2 * (size_t) cw * ch : 0);
    uint8_t *py, *pu, *pv;

    if (e->yuv == NULL || e->yuv_size < need) {
      free (e->yuv);
      e->yuv = malloc (need);
      e->yuv_size = e->yuv ? need : 0;
      if (e->yuv == NULL) {
        if (err && err_len)
          snprintf (err, err_len, "JPEG encoding failed: out of memory");
        return -1;
      }
    }
    py = e->yuv;
    pu = py + ysz;
    pv = pu + (size_t) cw * ch;
    if (copy_y) {
      for (y = 0; y < yh; y++) {
        const uint8_t *s = planes[0] + (size_t) (y < height ? y : height - 1)
            * strides[0];
        uint8_t *d = py + (size_t) y * yw;
        if (limited_range)
          expand_y_row (s, d, width);
        else
          memcpy (d, s, width);
        if (yw != width)
          d[width] = d[width - 1];
      }
      src[0] = py;
      st[0] = yw;
    }
    if (copy_c) {
      for (y = 0; y < ch; y++) {
        uint8_t *du = pu + (size_t) y * cw, *dv = pv + (size_t) y * cw;
        if (fmt == MB_JPEG_NV12) {
          split_uv_row (planes[1] + (size_t) y * strides[1], du, dv, cw,
              limited_range);
        } else {
          expand_c_row (planes[1] + (size_t) y * strides[1], du, cw);
          expand_c_row (planes[2] + (size_t) y * strides[2], dv, cw);
        }
      }
      src[1] = pu;
      src[2] = pv;
      st[1] = st[2] = cw;
    }
  }
  len = e->buf_size;
  r = tjCompressFromYUVPlanes (e->tj, src, width, st, height, TJSAMP_420,
      &e->buf, &len, quality, TJFLAG_NOREALLOC);
  return jpeg_finish (e, r, len, out, out_len, err, err_len);
}

void
mb_jpeg_free (uint8_t * buf)
{
  free (buf);
}
