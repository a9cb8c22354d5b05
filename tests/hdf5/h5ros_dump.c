/* h5ros_dump: test tool for h5ros. Converts serialized ROS1 messages into
 * rows of the h5ros compound type and writes them as a 1-D dataset with
 * plain HDF5 calls, so python (h5py) can compare them with genpy.
 *
 *   h5ros_dump TYPE DEFINITION_FILE MESSAGES_FILE OUT.h5 DATASET
 *
 * MESSAGES_FILE holds records `u32 little-endian length | bytes`. Exit 0 on
 * success, 2 when a message is refused (index printed), 1 on other errors.
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

  if (argc != 6) {
    fprintf (stderr, "usage: %s TYPE DEFINITION MESSAGES OUT.h5 DATASET\n",
        argv[0]);
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
  if (ret == 0)
    printf ("wrote %zu rows of %zu bytes\n", n, row_size);
  return ret;
}
