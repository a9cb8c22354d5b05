/* h5ros_dump: test tool for h5ros. Converts serialized ROS1 messages into
 * rows of the h5ros compound type and writes them as a 1-D dataset with
 * plain HDF5 calls, so python (h5py) can compare them with genpy.
 *
 *   h5ros_dump TYPE DEFINITION_FILE MESSAGES_FILE OUT.h5 DATASET [TEXT]
 *
 * MESSAGES_FILE holds records `u32 little-endian length | bytes`. Exit 0 on
 * success, 2 when a message is refused (index printed), 1 on other errors.
 * With TEXT, the dataset is read back through the HDF5 C API (the file's own
 * type, converted to the native type by HDF5: no h5ros code involved) and
 * every value is written one per line, `row.path=value`: integers in
 * decimal, floats as the hex of their little-endian bytes, strings as the
 * hex of their bytes, sequences with a `.len` line. This covers what h5py
 * cannot read (sequences of compounds holding strings, empty ones).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5ros.h"
#include "h5lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *
slurp (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf = NULL;
  long n;

  if (f == NULL)
    return NULL;
  if (fseek (f, 0, SEEK_END) == 0 && (n = ftell (f)) >= 0
      && fseek (f, 0, SEEK_SET) == 0) {
    buf = malloc ((size_t) n + 1);
    if (buf && fread (buf, 1, (size_t) n, f) != (size_t) n) {
      free (buf);
      buf = NULL;
    }
    if (buf) {
      buf[n] = 0;
      *len = (size_t) n;
    }
  }
  fclose (f);
  return buf;
}

static void
dump_value (FILE * out, const char *path, hid_t t, const uint8_t * p)
{
  char sub[1024];
  size_t i, n;

  switch (H5Tget_class (t)) {
    case H5T_INTEGER:{
      size_t sz = H5Tget_size (t);
      int sgn = H5Tget_sign (t) == H5T_SGN_2;
      if (sgn) {
        int64_t v = sz == 1 ? *(int8_t *) p : sz == 2 ? *(int16_t *) p :
            sz == 4 ? *(int32_t *) p : *(int64_t *) p;
        fprintf (out, "%s=%lld\n", path, (long long) v);
      } else {
        uint64_t v = sz == 1 ? *(uint8_t *) p : sz == 2 ? *(uint16_t *) p :
            sz == 4 ? *(uint32_t *) p : *(uint64_t *) p;
        fprintf (out, "%s=%llu\n", path, (unsigned long long) v);
      }
      break;
    }
    case H5T_FLOAT:
      fprintf (out, "%s=", path);
      for (i = 0; i < H5Tget_size (t); i++)
        fprintf (out, "%02x", p[i]);
      fprintf (out, "\n");
      break;
    case H5T_STRING:{
      const char *str;
      memcpy (&str, p, sizeof (str));
      fprintf (out, "%s=s", path);
      for (; str && *str; str++)
        fprintf (out, "%02x", (uint8_t) * str);
      fprintf (out, "\n");
      break;
    }
    case H5T_COMPOUND:
      n = (size_t) H5Tget_nmembers (t);
      for (i = 0; i < n; i++) {
        char *name = H5Tget_member_name (t, (unsigned) i);
        hid_t mt = H5Tget_member_type (t, (unsigned) i);
        snprintf (sub, sizeof (sub), "%s.%s", path, name);
        dump_value (out, sub, mt, p + H5Tget_member_offset (t, (unsigned) i));
        H5Tclose (mt);
        H5free_memory (name);
      }
      break;
    case H5T_ARRAY:{
      hsize_t dim;
      hid_t et = H5Tget_super (t);
      H5Tget_array_dims2 (t, &dim);
      for (i = 0; i < dim; i++) {
        snprintf (sub, sizeof (sub), "%s[%zu]", path, i);
        dump_value (out, sub, et, p + i * H5Tget_size (et));
      }
      H5Tclose (et);
      break;
    }
    case H5T_VLEN:{
      hvl_t v;
      hid_t et = H5Tget_super (t);
      memcpy (&v, p, sizeof (v));
      fprintf (out, "%s.len=%zu\n", path, v.len);
      for (i = 0; i < v.len; i++) {
        snprintf (sub, sizeof (sub), "%s[%zu]", path, i);
        dump_value (out, sub, et, (const uint8_t *) v.p + i * H5Tget_size (et));
      }
      H5Tclose (et);
      break;
    }
    default:
      fprintf (out, "%s=?\n", path);
      break;
  }
}

/* Reads DATASET of OUT.h5 back with its native type and dumps every row. */
static int
dump_text (const char *h5, const char *dataset, const char *text)
{
  hid_t file, dset, ftype, mtype, space;
  hssize_t n;
  size_t i, sz;
  uint8_t *buf;
  FILE *out = fopen (text, "w");
  char path[32];
  int ret = 0;

  if (out == NULL)
    return 1;
  file = H5Fopen (h5, H5F_ACC_RDONLY, H5P_DEFAULT);
  dset = H5Dopen2 (file, dataset, H5P_DEFAULT);
  ftype = H5Dget_type (dset);
  mtype = H5Tget_native_type (ftype, H5T_DIR_ASCEND);
  space = H5Dget_space (dset);
  n = H5Sget_simple_extent_npoints (space);
  sz = H5Tget_size (mtype);
  buf = calloc (n > 0 ? (size_t) n : 1, sz);
  if (n > 0 && H5Dread (dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    ret = 1;
  for (i = 0; ret == 0 && i < (size_t) n; i++) {
    snprintf (path, sizeof (path), "%zu", i);
    dump_value (out, path, mtype, buf + i * sz);
  }
  if (n > 0)
    H5Dvlen_reclaim (mtype, space, H5P_DEFAULT, buf);
  free (buf);
  H5Sclose (space);
  H5Tclose (mtype);
  H5Tclose (ftype);
  H5Dclose (dset);
  H5Fclose (file);
  fclose (out);
  return ret;
}

int
main (int argc, char **argv)
{
  char err[256];
  size_t def_len, msgs_len, off, n = 0, i, row_size;
  uint8_t *def, *msgs, *rows;
  MbRosSchema *schema;
  MbH5RosLayout *layout;
  hid_t file, space, dset, lcpl;
  hsize_t dims[1];
  int ret = 0;

  if (argc != 6 && argc != 7) {
    fprintf (stderr, "usage: %s TYPE DEFINITION MESSAGES OUT.h5 DATASET "
        "[TEXT]\n", argv[0]);
    return 1;
  }
  def = slurp (argv[2], &def_len);
  msgs = slurp (argv[3], &msgs_len);
  if (def == NULL || msgs == NULL) {
    fprintf (stderr, "cannot read inputs\n");
    return 1;
  }
  schema = mb_ros_schema_parse (argv[1], (const char *) def, def_len, err,
      sizeof (err));
  if (schema == NULL) {
    fprintf (stderr, "schema: %s\n", err);
    return 1;
  }
  layout = mb_h5ros_layout_new (schema, err, sizeof (err));
  if (layout == NULL) {
    fprintf (stderr, "layout: %s\n", err);
    return 1;
  }
  row_size = mb_h5ros_layout_row_size (layout);

  for (off = 0; off + 4 <= msgs_len; n++) {
    uint32_t l = msgs[off] | msgs[off + 1] << 8 | msgs[off + 2] << 16 |
        (uint32_t) msgs[off + 3] << 24;
    off += 4 + (size_t) l;
  }
  rows = calloc (n ? n : 1, row_size);
  for (off = 0, i = 0; i < n; i++) {
    uint32_t l = msgs[off] | msgs[off + 1] << 8 | msgs[off + 2] << 16 |
        (uint32_t) msgs[off + 3] << 24;
    if (off + 4 + l > msgs_len
        || mb_h5ros_layout_convert (layout, msgs + off + 4, l,
            rows + i * row_size) != 0) {
      printf ("refused %zu\n", i);
      n = i;
      ret = 2;
      break;
    }
    off += 4 + (size_t) l;
  }

  mb_h5_lock ();
  file = H5Fcreate (argv[4], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  dims[0] = n;
  space = H5Screate_simple (1, dims, NULL);
  lcpl = H5Pcreate (H5P_LINK_CREATE);
  H5Pset_create_intermediate_group (lcpl, 1);
  dset = H5Dcreate2 (file, argv[5], mb_h5ros_layout_type (layout), space,
      lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose (lcpl);
  if (file < 0 || dset < 0 || (n > 0 && H5Dwrite (dset,
              mb_h5ros_layout_type (layout), H5S_ALL, H5S_ALL, H5P_DEFAULT,
              rows) < 0)) {
    fprintf (stderr, "HDF5 write failed\n");
    ret = 1;
  }
  H5Dclose (dset);
  H5Sclose (space);
  H5Fclose (file);
  mb_h5_unlock ();

  for (i = 0; i < n; i++)
    mb_h5ros_layout_row_clear (layout, rows + i * row_size);
  free (rows);
  mb_h5ros_layout_free (layout);
  mb_ros_schema_free (schema);
  free (def);
  free (msgs);
  if (ret == 0 && argc == 7) {
    mb_h5_lock ();
    ret = dump_text (argv[4], argv[5], argv[6]);
    mb_h5_unlock ();
  }
  if (ret == 0)
    printf ("wrote %zu rows of %zu bytes\n", n, row_size);
  return ret;
}
