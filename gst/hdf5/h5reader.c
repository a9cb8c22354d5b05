/* membound: HDF5 stream reader for hdf5src. Plain C.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5reader.h"
#include "h5lock.h"
#include "h5writer.h"

#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct _MbH5Reader
{
  char *file_name;
  char *data_path;
  char *parent_path;
  hid_t file, dset, memtype;    /* memtype: frames (LE) or vlen of base */
  hid_t ts, src_ts;             /* -1 when absent */
  hid_t offset_ds, size_ds;     /* MB_H5R_PACKED index */
  char *ts_path, *src_ts_path;
  hid_t clen;                   /* /compress_len, -1 when absent */
  uint64_t clen_index;
  MbH5ReaderKind kind;
  int rank;
  uint64_t dims[MB_H5R_MAX_RANK];
  uint64_t rows;
  uint64_t packed_bytes;        /* MB_H5R_PACKED: length of data */
  size_t sample_bytes, frame_bytes;
  MbH5ReaderErr code;
  char error[1024];
};

/* ------------------------------------------------------------- helpers */

static herr_t
walk_cb (unsigned n, const H5E_error2_t * e, void *ud)
{
  char *last = ud;

  if (e->desc && e->desc[0])
    snprintf (last, 160, "%s", e->desc);
  return 0;
}

/* The innermost description on the current HDF5 error stack ("" if none). */
static void
h5_detail (char *buf, size_t len)
{
  char last[160] = "";

  H5Ewalk2 (H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, last);
  snprintf (buf, len, "%s", last);
}

static void
set_error (MbH5Reader * r, const char *fmt, ...)
{
  char msg[300], detail[160];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof (msg), fmt, ap);
  va_end (ap);
  h5_detail (detail, sizeof (detail));
  snprintf (r->error, sizeof (r->error), "%s: %s%s%s%s", r->file_name, msg,
      detail[0] ? " (HDF5: " : "", detail, detail[0] ? ")" : "");
}

static char *
join_path (const char *a, const char *b)
{
  size_t la = strlen (a);
  char *s = malloc (la + strlen (b) + 2);

  if (s == NULL)
    return NULL;
  if (la > 0 && a[la - 1] == '/')
    sprintf (s, "%s%s", a, b);
  else
    sprintf (s, "%s/%s", a, b);
  return s;
}

static char *
parent_of (const char *path)
{
  const char *slash = strrchr (path, '/');
  char *p;

  if (slash == NULL || slash == path)
    return strdup ("/");
  p = strndup (path, (size_t) (slash - path));
  return p;
}

/* Non-zero when @path exists in @file as an object of type @type. Every
 * intermediate link is checked, so missing groups are not HDF5 errors. */
static int
object_is (hid_t file, const char *path, H5I_type_t type)
{
  char *copy = strdup (path), *p;
  hid_t obj;
  int ok = 1;

  if (copy == NULL)
    return 0;
  for (p = strchr (copy + 1, '/');; p = strchr (p + 1, '/')) {
    if (p)
      *p = '\0';
    if (strcmp (copy, "/") != 0 && copy[0]) {
      htri_t e;
      H5E_BEGIN_TRY {
        e = H5Lexists (file, copy, H5P_DEFAULT);
      } H5E_END_TRY;
      if (e <= 0) {
        ok = 0;
        break;
      }
    }
    if (p == NULL)
      break;
    *p = '/';
  }
  free (copy);
  if (!ok)
    return 0;
  H5E_BEGIN_TRY {
    obj = H5Oopen (file, path, H5P_DEFAULT);
  } H5E_END_TRY;
  if (obj < 0)
    return 0;
  ok = H5Iget_type (obj) == type;
  H5Oclose (obj);
  return ok;
}

typedef struct
{
  char *found;
} FindData;

static herr_t
find_cb (hid_t obj, const char *name, const H5O_info_t * info, void *ud)
{
  FindData *fd = ud;
  const char *base = strrchr (name, '/');

  base = base ? base + 1 : name;
  if (info->type == H5O_TYPE_DATASET && strcmp (base, "data") == 0) {
    fd->found = malloc (strlen (name) + 2);
    if (fd->found)
      sprintf (fd->found, "/%s", name);
    return 1;
  }
  return 0;
}

/* A 1-D 8-byte integer dataset at @p, else -1; *rows gets its length. */
static hid_t
open_int64_rows (MbH5Reader * r, const char *p, uint64_t *rows)
{
  hid_t d = -1, t, s;
  hsize_t dims[2];
  int ok = 0;

  if (p && object_is (r->file, p, H5I_DATASET)) {
    d = H5Dopen2 (r->file, p, H5P_DEFAULT);
    if (d >= 0) {
      t = H5Dget_type (d);
      s = H5Dget_space (d);
      if (H5Tget_class (t) == H5T_INTEGER && H5Tget_size (t) == 8
          && H5Sget_simple_extent_ndims (s) == 1) {
        H5Sget_simple_extent_dims (s, dims, NULL);
        *rows = dims[0];
        ok = 1;
      }
      H5Tclose (t);
      H5Sclose (s);
      if (!ok) {
        H5Dclose (d);
        d = -1;
      }
    }
  }
  return d;
}

/* The timestamps of the data: `<group>/<single>` (hdf5sink's default
 * layout), else `<group's parent>/<plural>/<data name>` (its ALOHA layout:
 * /observations/images/cam -> /observations/timestamps/cam). */
static hid_t
open_ts (MbH5Reader * r, const char *single, const char *plural,
    uint64_t *rows, char **path_out)
{
  char *p = join_path (r->parent_path, single), *gp, *q;
  const char *base = strrchr (r->data_path, '/') + 1;
  hid_t d = open_int64_rows (r, p, rows);

  if (d < 0 && strcmp (r->parent_path, "/") != 0) {
    free (p);
    gp = parent_of (r->parent_path);
    q = gp ? join_path (gp, plural) : NULL;
    p = q ? join_path (q, base) : NULL;
    free (gp);
    free (q);
    d = open_int64_rows (r, p, rows);
  }
  if (d >= 0)
    *path_out = p;
  else
    free (p);
  return d;
}

/* hdf5sink's ALOHA cameras: [N, max_bytes] zero-padded rows whose lengths
 * are row `compress_len_index` (attribute) of the float32 /compress_len. */
static void
open_row_lengths (MbH5Reader * r)
{
  hid_t a, d, t, s;
  hsize_t dims[2];
  int64_t idx = -1;
  htri_t has;

  if (r->kind != MB_H5R_FRAMES || r->rank != 2 || r->sample_bytes != 1)
    return;
  H5E_BEGIN_TRY {
    has = H5Aexists (r->dset, "compress_len_index");
  } H5E_END_TRY;
  if (has <= 0 || !object_is (r->file, "/compress_len", H5I_DATASET))
    return;
  a = H5Aopen (r->dset, "compress_len_index", H5P_DEFAULT);
  if (a < 0 || H5Aread (a, H5T_NATIVE_INT64, &idx) < 0)
    idx = -1;
  if (a >= 0)
    H5Aclose (a);
  d = H5Dopen2 (r->file, "/compress_len", H5P_DEFAULT);
  if (d < 0)
    return;
  t = H5Dget_type (d);
  s = H5Dget_space (d);
  if (idx >= 0 && H5Tget_class (t) == H5T_FLOAT
      && H5Sget_simple_extent_ndims (s) == 2) {
    H5Sget_simple_extent_dims (s, dims, NULL);
    if ((hsize_t) idx < dims[0]) {
      r->clen = d;
      r->clen_index = (uint64_t) idx;
      if (dims[1] < r->rows)
        r->rows = dims[1];
    }
  }
  H5Tclose (t);
  H5Sclose (s);
  if (r->clen < 0)
    H5Dclose (d);
}

/* ---------------------------------------------------------------- open */

static int
open_locked (MbH5Reader * r, const char *path)
{
  hid_t obj, ftype, space;
  hsize_t dims[MB_H5R_MAX_RANK];
  H5T_class_t cls;
  uint64_t ts_rows, flushed;
  int i;
  htri_t is_h5;

  if (access (r->file_name, R_OK) != 0) {
    snprintf (r->error, sizeof (r->error), "%s: cannot open: %s",
        r->file_name, strerror (errno));
    r->code = errno == ENOENT ? MB_H5R_ERR_NOT_FOUND : MB_H5R_ERR_OPEN;
    return -1;
  }
  H5E_BEGIN_TRY {
    is_h5 = H5Fis_hdf5 (r->file_name);
  } H5E_END_TRY;
  if (is_h5 <= 0) {
    snprintf (r->error, sizeof (r->error), "%s: not an HDF5 file",
        r->file_name);
    return -1;
  }
  H5E_BEGIN_TRY {
    r->file = H5Fopen (r->file_name, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (r->file < 0)            /* left open by an SWMR writer */
      r->file = H5Fopen (r->file_name, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ,
          H5P_DEFAULT);
  } H5E_END_TRY;
  if (r->file < 0) {
    char detail[160];
    h5_detail (detail, sizeof (detail));
    if (strstr (detail, "lock"))
      set_error (r, "cannot open HDF5 file: another process has it open for "
          "writing (wait until it is closed, or set "
          "HDF5_USE_FILE_LOCKING=FALSE to read it anyway)");
    else if (strstr (detail, "already open"))
      set_error (r, "cannot open HDF5 file: its write flags are set (if its "
          "writer died, run `h5clear -s` on it)");
    else
      set_error (r, "cannot open HDF5 file");
    return -1;
  }

  if (path == NULL || path[0] == '\0') {
    FindData fd = { NULL };
    H5E_BEGIN_TRY {
      H5Ovisit (r->file, H5_INDEX_NAME, H5_ITER_INC, find_cb, &fd);
    } H5E_END_TRY;
    if (fd.found == NULL) {
      set_error (r, "no `data` dataset in the file; set the path property");
      r->code = MB_H5R_ERR_NOT_FOUND;
      return -1;
    }
    r->data_path = fd.found;
  } else {
    char *p = path[0] == '/' ? strdup (path) : join_path ("/", path);
    size_t l;

    if (p == NULL)
      return -1;
    l = strlen (p);
    while (l > 1 && p[l - 1] == '/')
      p[--l] = '\0';
    if (object_is (r->file, p, H5I_GROUP)) {
      r->data_path = join_path (p, "data");
      free (p);
      if (!object_is (r->file, r->data_path, H5I_DATASET)) {
        set_error (r, "group %s has no `data` dataset", path);
        r->code = MB_H5R_ERR_NOT_FOUND;
        return -1;
      }
    } else if (object_is (r->file, p, H5I_DATASET)) {
      r->data_path = p;
    } else {
      free (p);
      set_error (r, "no group or dataset %s", path);
      r->code = MB_H5R_ERR_NOT_FOUND;
      return -1;
    }
  }
  r->parent_path = parent_of (r->data_path);

  r->dset = H5Dopen2 (r->file, r->data_path, H5P_DEFAULT);
  if (r->dset < 0) {
    set_error (r, "cannot open dataset %s", r->data_path);
    return -1;
  }
  obj = r->dset;
  ftype = H5Dget_type (obj);
  space = H5Dget_space (obj);
  r->rank = H5Sget_simple_extent_ndims (space);
  cls = H5Tget_class (ftype);
  if (r->rank >= 1 && r->rank <= MB_H5R_MAX_RANK) {
    H5Sget_simple_extent_dims (space, dims, NULL);
    for (i = 0; i < r->rank; i++)
      r->dims[i] = dims[i];
  }
  H5Sclose (space);

  if (cls == H5T_VLEN && r->rank == 1) {
    hid_t base = H5Tget_super (ftype);
    if (H5Tget_class (base) == H5T_INTEGER && H5Tget_size (base) == 1) {
      r->kind = MB_H5R_VLEN;
      r->memtype = H5Tvlen_create (base);
    }
    H5Tclose (base);
  } else if (cls == H5T_INTEGER && r->rank == 1 && H5Tget_size (ftype) == 1) {
    /* hdf5sink's packed blobs: bytes indexed by offset/size */
    char *op = join_path (r->parent_path, "offset");
    char *sp = join_path (r->parent_path, "size");
    uint64_t orows = 0, srows = 0;

    r->offset_ds = op ? open_int64_rows (r, op, &orows) : -1;
    r->size_ds = sp ? open_int64_rows (r, sp, &srows) : -1;
    free (op);
    free (sp);
    if (r->offset_ds >= 0 && r->size_ds >= 0) {
      r->kind = MB_H5R_PACKED;
      r->memtype = H5Tcopy (H5T_NATIVE_UINT8);
      r->packed_bytes = r->dims[0];
      r->dims[0] = orows < srows ? orows : srows;
    }
  } else if (cls == H5T_INTEGER && r->rank >= 2 && r->rank <= MB_H5R_MAX_RANK
      && (H5Tget_size (ftype) == 1 || H5Tget_size (ftype) == 2)) {
    int is_signed = H5Tget_sign (ftype) == H5T_SGN_2;
    r->kind = MB_H5R_FRAMES;
    r->sample_bytes = H5Tget_size (ftype);
    /* a predefined type equal to the stored one when it is little endian:
     * HDF5 then reads without a conversion pass */
    if (r->sample_bytes == 1)
      r->memtype = H5Tcopy (is_signed ? H5T_STD_I8LE : H5T_STD_U8LE);
    else
      r->memtype = H5Tcopy (is_signed ? H5T_STD_I16LE : H5T_STD_U16LE);
    r->frame_bytes = r->sample_bytes;
    for (i = 1; i < r->rank; i++)
      r->frame_bytes *= r->dims[i];
  }
  H5Tclose (ftype);
  if (r->memtype < 0) {
    set_error (r, "dataset %s has an unsupported type or shape (class %d, "
        "rank %d): expected 1-D variable-length uint8, 1-D uint8 with "
        "offset/size datasets beside it, or [N, ...] uint8/uint16",
        r->data_path, (int) cls, r->rank);
    r->code = MB_H5R_ERR_TYPE;
    return -1;
  }
  if (r->kind == MB_H5R_FRAMES && r->frame_bytes == 0) {
    set_error (r, "dataset %s has empty frames", r->data_path);
    r->code = MB_H5R_ERR_TYPE;
    return -1;
  }
  r->rows = r->dims[0];

  r->ts = open_ts (r, "timestamp", "timestamps", &ts_rows, &r->ts_path);
  if (r->ts >= 0 && ts_rows < r->rows)  /* cut short: play what is timed */
    r->rows = ts_rows;
  r->src_ts = open_ts (r, "source_timestamp", "source_timestamps", &ts_rows,
      &r->src_ts_path);
  if (r->src_ts >= 0 && ts_rows < r->rows) {
    H5Dclose (r->src_ts);
    r->src_ts = -1;
  }
  open_row_lengths (r);
  /* written by hdf5sink after each flush: rows past it were not complete
   * when the writer crashed or failed, and may read as empty rows */
  if (mb_h5_dataset_flushed_rows (r->dset, &flushed) == 0 &&
      flushed < r->rows)
    r->rows = flushed;
  return 0;
}

static void
close_locked (MbH5Reader * r)
{
  if (r->memtype >= 0)
    H5Tclose (r->memtype);
  if (r->ts >= 0)
    H5Dclose (r->ts);
  if (r->src_ts >= 0)
    H5Dclose (r->src_ts);
  if (r->offset_ds >= 0)
    H5Dclose (r->offset_ds);
  if (r->size_ds >= 0)
    H5Dclose (r->size_ds);
  if (r->clen >= 0)
    H5Dclose (r->clen);
  if (r->dset >= 0)
    H5Dclose (r->dset);
  if (r->file >= 0)
    H5Fclose (r->file);
}

static void
free_fields (MbH5Reader * r)
{
  free (r->file_name);
  free (r->data_path);
  free (r->parent_path);
  free (r->ts_path);
  free (r->src_ts_path);
  free (r);
}

MbH5Reader *
mb_h5_reader_open (const char *file, const char *path,
    MbH5ReaderErr * code, char *err, size_t err_len)
{
  MbH5Reader *r = calloc (1, sizeof (MbH5Reader));
  int ret;

  if (r == NULL || file == NULL) {
    if (err && err_len)
      snprintf (err, err_len, "%s", r ? "no file name" : "out of memory");
    if (code)
      *code = MB_H5R_ERR_NOT_FOUND;
    free (r);
    return NULL;
  }
  r->file = r->dset = r->memtype = r->ts = r->src_ts = r->clen = -1;
  r->offset_ds = r->size_ds = -1;
  r->file_name = strdup (file);
  mb_h5_lock ();
  ret = r->file_name ? open_locked (r, path) : -1;
  if (ret < 0)
    close_locked (r);
  mb_h5_unlock ();
  if (ret < 0) {
    if (code)
      *code = r->code ? r->code : MB_H5R_ERR_OPEN;
    if (err && err_len)
      snprintf (err, err_len, "%s", r->error[0] ? r->error : "out of memory");
    free_fields (r);
    return NULL;
  }
  return r;
}

void
mb_h5_reader_close (MbH5Reader * r)
{
  if (r == NULL)
    return;
  mb_h5_lock ();
  close_locked (r);
  mb_h5_unlock ();
  free_fields (r);
}

const char *
mb_h5_reader_error (const MbH5Reader * r)
{
  return r->error;
}

MbH5ReaderKind
mb_h5_reader_kind (const MbH5Reader * r)
{
  return r->kind;
}

const char *
mb_h5_reader_data_path (const MbH5Reader * r)
{
  return r->data_path;
}

uint64_t
mb_h5_reader_rows (const MbH5Reader * r)
{
  return r->rows;
}

int
mb_h5_reader_rank (const MbH5Reader * r)
{
  return r->rank;
}

const uint64_t *
mb_h5_reader_dims (const MbH5Reader * r)
{
  return r->dims;
}

size_t
mb_h5_reader_sample_bytes (const MbH5Reader * r)
{
  return r->sample_bytes;
}

size_t
mb_h5_reader_frame_bytes (const MbH5Reader * r)
{
  return r->frame_bytes;
}

int
mb_h5_reader_has_timestamps (const MbH5Reader * r)
{
  return r->ts >= 0;
}

int
mb_h5_reader_has_source_timestamps (const MbH5Reader * r)
{
  return r->src_ts >= 0;
}

/* ----------------------------------------------------------- attributes */

static char *
read_string_attr (hid_t obj, const char *name)
{
  hid_t attr, type, mem;
  char *out = NULL;
  htri_t exists;

  H5E_BEGIN_TRY {
    exists = H5Aexists (obj, name);
  } H5E_END_TRY;
  if (exists <= 0)
    return NULL;
  attr = H5Aopen (obj, name, H5P_DEFAULT);
  if (attr < 0)
    return NULL;
  type = H5Aget_type (attr);
  if (H5Tget_class (type) == H5T_STRING) {
    hid_t space = H5Aget_space (attr);
    if (H5Sget_simple_extent_npoints (space) == 1) {
      if (H5Tis_variable_str (type) > 0) {
        char *s = NULL;
        mem = H5Tcopy (H5T_C_S1);
        H5Tset_size (mem, H5T_VARIABLE);
        H5Tset_cset (mem, H5Tget_cset (type));
        if (H5Aread (attr, mem, &s) >= 0 && s) {
          out = strdup (s);
          H5free_memory (s);
        }
        H5Tclose (mem);
      } else {
        size_t sz = H5Tget_size (type);
        out = calloc (1, sz + 1);
        mem = H5Tcopy (H5T_C_S1);
        H5Tset_size (mem, sz + 1);
        if (out && H5Aread (attr, mem, out) < 0) {
          free (out);
          out = NULL;
        }
        H5Tclose (mem);
      }
    }
    H5Sclose (space);
  }
  H5Tclose (type);
  H5Aclose (attr);
  return out;
}

char *
mb_h5_reader_get_attr_string (MbH5Reader * r, const char *name)
{
  char *s;
  hid_t g;

  mb_h5_lock ();
  s = read_string_attr (r->dset, name);
  if (s == NULL) {
    H5E_BEGIN_TRY {
      g = H5Oopen (r->file, r->parent_path, H5P_DEFAULT);
    } H5E_END_TRY;
    if (g >= 0) {
      s = read_string_attr (g, name);
      H5Oclose (g);
    }
  }
  mb_h5_unlock ();
  return s;
}

/* ---------------------------------------------------------------- reads */

/* File space selecting rows [start, start+n) of @d (all other dims whole). */
static hid_t
row_space (hid_t d, uint64_t start, uint64_t n)
{
  hid_t s = H5Dget_space (d);
  hsize_t off[MB_H5R_MAX_RANK] = { 0 }, one[MB_H5R_MAX_RANK],
      block[MB_H5R_MAX_RANK];
  int rank = H5Sget_simple_extent_ndims (s), i;

  if (rank < 1 || rank > MB_H5R_MAX_RANK) {
    H5Sclose (s);
    return -1;
  }
  H5Sget_simple_extent_dims (s, block, NULL);
  for (i = 0; i < rank; i++)
    one[i] = 1;
  off[0] = start;
  block[0] = n;
  /* one block (not n x W x ... blocks of one element): HDF5's fast path */
  if (H5Sselect_hyperslab (s, H5S_SELECT_SET, off, NULL, one, block) < 0) {
    H5Sclose (s);
    return -1;
  }
  return s;
}

/* Reads rows [start, start + n) of @d (named @name in errors) into @buf, laid
 * out like the rows (a memory space of the dataset's rank: HDF5 then copies
 * whole blocks instead of mapping element by element). With a vlen @xfer,
 * what a failed read allocated is reclaimed. */
static int
read_rows (MbH5Reader * r, hid_t d, const char *name, hid_t memtype,
    hid_t xfer, uint64_t start, uint64_t n, void *buf)
{
  hsize_t mdims[MB_H5R_MAX_RANK];
  hid_t fs, ms = -1;
  herr_t st = -1;
  int rank;

  mb_h5_lock ();
  H5E_BEGIN_TRY {
    fs = row_space (d, start, n);
    if (fs >= 0 && (rank = H5Sget_simple_extent_ndims (fs)) > 0) {
      H5Sget_simple_extent_dims (fs, mdims, NULL);
      mdims[0] = n;
      ms = H5Screate_simple (rank, mdims, NULL);
    }
    if (ms >= 0)
      st = H5Dread (d, memtype, ms, fs, xfer, buf);
    if (st < 0) {
      set_error (r, "cannot read rows %llu..%llu of dataset %s",
          (unsigned long long) start, (unsigned long long) (start + n), name);
      if (ms >= 0 && xfer != H5P_DEFAULT)
        H5Dvlen_reclaim (memtype, ms, xfer, buf);
    }
    H5Sclose (fs);
    H5Sclose (ms);
  } H5E_END_TRY;
  mb_h5_unlock ();
  return st < 0 ? -1 : 0;
}

static int
read_ts (MbH5Reader * r, hid_t d, const char *name, uint64_t start, size_t n,
    int64_t * out)
{
  if (d < 0 || start + n > r->rows) {
    snprintf (r->error, sizeof (r->error), "%s: no rows %llu..%llu in %s",
        r->file_name, (unsigned long long) start,
        (unsigned long long) (start + n), name ? name : "(no timestamps)");
    return -1;
  }
  if (n == 0)
    return 0;
  return read_rows (r, d, name, H5T_NATIVE_INT64, H5P_DEFAULT, start, n, out);
}

int
mb_h5_reader_read_timestamps (MbH5Reader * r, uint64_t start, size_t n,
    int64_t * out)
{
  return read_ts (r, r->ts, r->ts_path, start, n, out);
}

int
mb_h5_reader_read_source_timestamps (MbH5Reader * r, uint64_t start,
    size_t n, int64_t * out)
{
  return read_ts (r, r->src_ts, r->src_ts_path, start, n, out);
}

int
mb_h5_reader_read_frame (MbH5Reader * r, uint64_t row, void *dst)
{
  if (r->kind != MB_H5R_FRAMES || row >= r->rows) {
    snprintf (r->error, sizeof (r->error), "%s: no row %llu in %s",
        r->file_name, (unsigned long long) row, r->data_path);
    return -1;
  }
  return read_rows (r, r->dset, r->data_path, r->memtype, H5P_DEFAULT, row,
      1, dst);
}

/* MB_H5R_PACKED: the index rows, checked against the data's length, then
 * one read per blob straight into its buffer. */
static int
read_packed (MbH5Reader * r, uint64_t start, size_t n, uint8_t ** data,
    size_t *len, MbH5Alloc alloc, MbH5Free free_fn, void *ud)
{
  int64_t *idx = calloc (2 * n, sizeof (int64_t));
  size_t i, done = 0;
  int ret = -1;

  if (idx == NULL) {
    snprintf (r->error, sizeof (r->error), "%s: out of memory", r->file_name);
    return -1;
  }
  mb_h5_lock ();
  if (read_rows (r, r->offset_ds, "offset", H5T_NATIVE_INT64, H5P_DEFAULT,
          start, n, idx) < 0 || read_rows (r, r->size_ds, "size",
          H5T_NATIVE_INT64, H5P_DEFAULT, start, n, idx + n) < 0)
    goto out;
  for (i = 0; i < n; i++) {
    int64_t o = idx[i], l = idx[n + i];
    if (o < 0 || l < 0 || (uint64_t) o > r->packed_bytes ||
        (uint64_t) l > r->packed_bytes - (uint64_t) o) {
      snprintf (r->error, sizeof (r->error), "%s: dataset %s: row %llu "
          "(offset %lld, size %lld) lies outside the %llu bytes of the data",
          r->file_name, r->data_path, (unsigned long long) (start + i),
          (long long) o, (long long) l, (unsigned long long) r->packed_bytes);
      goto out;
    }
  }
  for (done = 0; done < n; done++) {
    hsize_t off = (hsize_t) idx[done], cnt = (hsize_t) idx[n + done];
    hid_t fs, ms;
    herr_t st = -1;

    len[done] = (size_t) cnt;
    data[done] = NULL;
    if (cnt == 0)
      continue;
    data[done] = alloc ((size_t) cnt, ud);
    if (data[done] == NULL) {
      snprintf (r->error, sizeof (r->error), "%s: out of memory",
          r->file_name);
      goto out;
    }
    H5E_BEGIN_TRY {
      fs = H5Dget_space (r->dset);
      ms = H5Screate_simple (1, &cnt, NULL);
      if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab (fs, H5S_SELECT_SET,
              &off, NULL, &cnt, NULL) >= 0)
        st = H5Dread (r->dset, r->memtype, ms, fs, H5P_DEFAULT, data[done]);
      if (st < 0)
        set_error (r, "cannot read row %llu (bytes %llu..%llu) of dataset %s",
            (unsigned long long) (start + done), (unsigned long long) off,
            (unsigned long long) (off + cnt), r->data_path);
      H5Sclose (fs);
      H5Sclose (ms);
    } H5E_END_TRY;
    if (st < 0) {
      free_fn (data[done], ud);
      goto out;
    }
  }
  ret = 0;
out:
  mb_h5_unlock ();
  if (ret < 0) {
    for (i = 0; i < done; i++)
      if (data[i])
        free_fn (data[i], ud);
  }
  free (idx);
  return ret;
}

int
mb_h5_reader_read_blobs (MbH5Reader * r, uint64_t start, size_t n,
    uint8_t ** data, size_t *len, MbH5Alloc alloc, MbH5Free free_fn,
    void *ud)
{
  hid_t xfer;
  hvl_t *vl;
  size_t i;
  int ret = -1;

  if (r->kind == MB_H5R_PACKED && start + n <= r->rows)
    return n ? read_packed (r, start, n, data, len, alloc, free_fn, ud) : 0;
  if (r->kind != MB_H5R_VLEN || start + n > r->rows) {
    snprintf (r->error, sizeof (r->error), "%s: no rows %llu..%llu in %s",
        r->file_name, (unsigned long long) start,
        (unsigned long long) (start + n), r->data_path);
    return -1;
  }
  if (n == 0)
    return 0;
  vl = calloc (n, sizeof (hvl_t));
  if (vl == NULL) {
    snprintf (r->error, sizeof (r->error), "%s: out of memory", r->file_name);
    return -1;
  }
  mb_h5_lock ();
  xfer = H5Pcreate (H5P_DATASET_XFER);
  if (xfer >= 0 && H5Pset_vlen_mem_manager (xfer, alloc, ud, free_fn, ud) >= 0)
    ret = read_rows (r, r->dset, r->data_path, r->memtype, xfer, start, n, vl);
  else
    set_error (r, "cannot set up a vlen read of %s", r->data_path);
  if (xfer >= 0)
    H5Pclose (xfer);
  mb_h5_unlock ();
  if (ret == 0) {
    for (i = 0; i < n; i++) {
      data[i] = vl[i].p;
      len[i] = vl[i].len;
    }
  }
  free (vl);
  return ret;
}

int
mb_h5_reader_has_row_lengths (const MbH5Reader * r)
{
  return r->clen >= 0;
}

int
mb_h5_reader_read_row_lengths (MbH5Reader * r, uint64_t start, size_t n,
    size_t *out)
{
  hsize_t off[2], one[2] = { 1, 1 }, block[2];
  hid_t fs = -1, ms = -1;
  herr_t st = -1;
  float *v;
  size_t i;

  if (r->clen < 0 || start + n > r->rows) {
    snprintf (r->error, sizeof (r->error), "%s: no /compress_len rows "
        "%llu..%llu", r->file_name, (unsigned long long) start,
        (unsigned long long) (start + n));
    return -1;
  }
  if (n == 0)
    return 0;
  v = calloc (n, sizeof (float));
  if (v == NULL)
    return -1;
  off[0] = r->clen_index;
  off[1] = start;
  block[0] = 1;
  block[1] = n;
  mb_h5_lock ();
  H5E_BEGIN_TRY {
    fs = H5Dget_space (r->clen);
    ms = H5Screate_simple (2, block, NULL);
    if (fs >= 0 && ms >= 0
        && H5Sselect_hyperslab (fs, H5S_SELECT_SET, off, NULL, one, block) >= 0)
      st = H5Dread (r->clen, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, v);
    if (st < 0)
      set_error (r, "cannot read /compress_len[%llu, %llu..%llu]",
          (unsigned long long) r->clen_index, (unsigned long long) start,
          (unsigned long long) (start + n));
    H5Sclose (fs);
    H5Sclose (ms);
  } H5E_END_TRY;
  mb_h5_unlock ();
  for (i = 0; st >= 0 && i < n; i++)
    out[i] = v[i] <= 0 ? 0 : v[i] >= (float) r->frame_bytes ? r->frame_bytes :
        (size_t) v[i];
  free (v);
  return st < 0 ? -1 : 0;
}
