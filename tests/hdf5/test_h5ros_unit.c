/* Unit tests for h5ros (plain C): compound layout of a JointState, field
 * values of a hand-serialized message, refusal of every truncated prefix,
 * trailing bytes and bad counts, definitions that cannot be stored.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5ros.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(c) do { if (!(c)) { failures++; \
      fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static const char JOINT_STATE_DEF[] =
    "Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n"
    "float64[] effort\n"
    "================================================================================\n"
    "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n";

static const char FIXED_DEF[] =
    "duration d\nbool[3] flags\nstring[2] pair\nint16 x\nuint8[4] quad\n";

typedef struct
{
  uint8_t b[512];
  size_t n;
} Buf;

static void
put (Buf * b, const void *p, size_t n)
{
  memcpy (b->b + b->n, p, n);
  b->n += n;
}

static void
put_u32 (Buf * b, uint32_t v)
{
  uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 };
  put (b, x, 4);
}

static void
put_str (Buf * b, const char *s)
{
  put_u32 (b, (uint32_t) strlen (s));
  put (b, s, strlen (s));
}

static void
put_f64 (Buf * b, double d)
{
  put (b, &d, 8);               /* little-endian host */
}

/* JointState: seq 7, stamp 1700000000.5, frame "base", names a/bc,
 * position {1.5, -2}, velocity {}, effort {3}. */
static void
joint_state (Buf * b)
{
  b->n = 0;
  put_u32 (b, 7);
  put_u32 (b, 1700000000);
  put_u32 (b, 500000000);
  put_str (b, "base");
  put_u32 (b, 2);
  put_str (b, "a");
  put_str (b, "bc");
  put_u32 (b, 2);
  put_f64 (b, 1.5);
  put_f64 (b, -2.0);
  put_u32 (b, 0);
  put_u32 (b, 1);
  put_f64 (b, 3.0);
}

static size_t
member_offset (hid_t t, const char *name, hid_t * mtype)
{
  int i = H5Tget_member_index (t, name);
  CHECK (i >= 0);
  if (i < 0)
    return 0;
  if (mtype)
    *mtype = H5Tget_member_type (t, (unsigned) i);
  return H5Tget_member_offset (t, (unsigned) i);
}

static void
test_joint_state (void)
{
  char err[200];
  MbRosSchema *schema = mb_ros_schema_parse ("sensor_msgs/JointState",
      JOINT_STATE_DEF, strlen (JOINT_STATE_DEF), err, sizeof (err));
  MbH5RosLayout *l;
  hid_t t, ht, pt;
  size_t hoff, off;
  uint8_t *row;
  Buf b;
  hvl_t v;
  char *s;
  int64_t stamp;
  size_t cut;

  CHECK (schema != NULL);
  if (schema == NULL)
    return;
  l = mb_h5ros_layout_new (schema, err, sizeof (err));
  CHECK (l != NULL);
  if (l == NULL)
    return;
  t = mb_h5ros_layout_type (l);
  CHECK (H5Tget_class (t) == H5T_COMPOUND);
  CHECK (H5Tget_nmembers (t) == 5);
  CHECK (H5Tget_size (t) == mb_h5ros_layout_row_size (l));

  hoff = member_offset (t, "header", &ht);
  CHECK (H5Tget_class (ht) == H5T_COMPOUND);
  off = member_offset (ht, "stamp", &pt);
  CHECK (H5Tget_class (pt) == H5T_INTEGER && H5Tget_size (pt) == 8);
  H5Tclose (pt);
  member_offset (t, "name", &pt);
  CHECK (H5Tget_class (pt) == H5T_VLEN);
  H5Tclose (pt);

  row = malloc (mb_h5ros_layout_row_size (l));
  joint_state (&b);
  CHECK (mb_h5ros_layout_convert (l, b.b, b.n, row) == 0);
  memcpy (&stamp, row + hoff + off, 8);
  CHECK (stamp == 1700000000500000000LL);
  memcpy (&s, row + hoff + member_offset (ht, "frame_id", NULL), sizeof (s));
  CHECK (s && strcmp (s, "base") == 0);
  memcpy (&v, row + member_offset (t, "name", NULL), sizeof (v));
  CHECK (v.len == 2 && strcmp (((char **) v.p)[1], "bc") == 0);
  memcpy (&v, row + member_offset (t, "position", NULL), sizeof (v));
  CHECK (v.len == 2 && ((double *) v.p)[1] == -2.0);
  memcpy (&v, row + member_offset (t, "velocity", NULL), sizeof (v));
  CHECK (v.len == 0 && v.p == NULL);
  memcpy (&v, row + member_offset (t, "effort", NULL), sizeof (v));
  CHECK (v.len == 1 && ((double *) v.p)[0] == 3.0);
  mb_h5ros_layout_row_clear (l, row);
  mb_h5ros_layout_row_clear (l, row);   /* zeroed: no double free */

  /* every truncated prefix and one trailing byte are refused */
  for (cut = 0; cut < b.n; cut++)
    CHECK (mb_h5ros_layout_convert (l, b.b, cut, row) == -1);
  b.b[b.n++] = 0;
  CHECK (mb_h5ros_layout_convert (l, b.b, b.n, row) == -1);
  /* an absurd array count */
  joint_state (&b);
  b.b[4 + 8 + 4 + 4] = 0xff;    /* name count low byte: 255 names */
  CHECK (mb_h5ros_layout_convert (l, b.b, b.n, row) == -1);

  H5Tclose (ht);
  free (row);
  mb_h5ros_layout_free (l);
  mb_ros_schema_free (schema);
}

static void
test_fixed (void)
{
  char err[200];
  MbRosSchema *schema = mb_ros_schema_parse ("t/Fixed", FIXED_DEF,
      strlen (FIXED_DEF), err, sizeof (err));
  MbH5RosLayout *l;
  hid_t t, m;
  uint8_t *row;
  Buf b = {.n = 0 };
  int64_t d;
  char *pair[2];
  hsize_t dim;

  CHECK (schema != NULL);
  if (schema == NULL)
    return;
  l = mb_h5ros_layout_new (schema, err, sizeof (err));
  CHECK (l != NULL);
  if (l == NULL)
    return;
  t = mb_h5ros_layout_type (l);
  member_offset (t, "pair", &m);
  CHECK (H5Tget_class (m) == H5T_ARRAY);
  H5Tget_array_dims2 (m, &dim);
  CHECK (dim == 2);
  H5Tclose (m);

  put_u32 (&b, (uint32_t) - 2);         /* duration -2 s + 0.25 s */
  put_u32 (&b, 250000000);
  put (&b, "\1\0\1", 3);
  put_str (&b, "left");
  put_str (&b, "");
  put (&b, "\xfe\xff", 2);      /* int16 -2 */
  put (&b, "\1\2\3\4", 4);
  row = malloc (mb_h5ros_layout_row_size (l));
  CHECK (mb_h5ros_layout_convert (l, b.b, b.n, row) == 0);
  memcpy (&d, row + member_offset (t, "d", NULL), 8);
  CHECK (d == -1750000000LL);
  memcpy (pair, row + member_offset (t, "pair", NULL), sizeof (pair));
  CHECK (strcmp (pair[0], "left") == 0 && strcmp (pair[1], "") == 0);
  CHECK (row[member_offset (t, "flags", NULL) + 2] == 1);
  CHECK (row[member_offset (t, "quad", NULL) + 3] == 4);
  mb_h5ros_layout_row_clear (l, row);
  free (row);
  mb_h5ros_layout_free (l);
  mb_ros_schema_free (schema);
}

static void
test_refused_definitions (void)
{
  char err[200] = "";
  MbRosSchema *schema = mb_ros_schema_parse ("std_msgs/Empty", "", 0, err,
      sizeof (err));
  MbH5RosLayout *l;

  if (schema) {
    l = mb_h5ros_layout_new (schema, err, sizeof (err));
    CHECK (l == NULL);
    CHECK (strstr (err, "no fields") != NULL);
    mb_ros_schema_free (schema);
  }
  CHECK (mb_h5ros_layout_new (NULL, err, sizeof (err)) == NULL);
}

int
main (void)
{
  test_joint_state ();
  test_fixed ();
  test_refused_definitions ();
  printf ("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
  return failures ? 1 : 0;
}
