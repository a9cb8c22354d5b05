/* Unit tests for gst/common/rosmsg.c: grammar, name resolution, layout
 * helpers, malformed definitions and malformed/absurd serialized data.
 * The field-by-field comparison against genpy lives in rosmsg_oracle.py.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <membound/rosmsg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_passed, n_failed, cur_failed;

#define CHECK(cond) do { \
    if (!(cond)) { \
      fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      cur_failed = 1; \
    } \
  } while (0)

#define RUN(fn) do { \
    cur_failed = 0; \
    fn (); \
    printf ("%s %s\n", cur_failed ? "FAIL" : "ok  ", #fn); \
    if (cur_failed) n_failed++; else n_passed++; \
  } while (0)

#define SEP "================================================================================\n"

static const char header_block[] = SEP "MSG: std_msgs/Header\n"
    "# Standard metadata for higher-level stamped data types.\n"
    "uint32 seq\n" "time stamp\n" "string frame_id\n";

static MbRosSchema *
parse (const char *type, const char *def, char *err, size_t err_len)
{
  return mb_ros_schema_parse (type, def, strlen (def), err, err_len);
}

static MbRosSchema *
parse_ok (const char *type, const char *def)
{
  char err[256];
  MbRosSchema *s = parse (type, def, err, sizeof (err));
  if (!s)
    fprintf (stderr, "unexpected parse error: %s\n", err);
  return s;
}

/* Expects a parse error whose message contains @needle. */
static void
expect_error (const char *type, const char *def, const char *needle)
{
  char err[256];
  MbRosSchema *s = parse (type, def, err, sizeof (err));

  if (s) {
    fprintf (stderr, "definition accepted but should fail (%s):\n%s\n", needle,
        def);
    cur_failed = 1;
    mb_ros_schema_free (s);
    return;
  }
  if (!strstr (err, needle)) {
    fprintf (stderr, "error \"%s\" does not mention \"%s\"\n", err, needle);
    cur_failed = 1;
  }
}

static void
test_image (void)
{
  char def[2048];
  MbRosSchema *s;
  const MbRosMsgType *t, *h;
  size_t off = 99, idx = 99;

  snprintf (def, sizeof (def),
      "# This message contains an uncompressed image\n"
      "Header header        # Header timestamp\n"
      "\n"
      "uint32 height         # image height\n"
      "uint32 width\n"
      "string encoding       # Encoding of pixels -- channel meaning\n"
      "uint8 is_bigendian\n" "uint32 step\n" "uint8[] data\n%s", header_block);
  s = parse_ok ("sensor_msgs/Image", def);
  CHECK (s != NULL);
  if (!s)
    return;
  t = mb_ros_schema_root (s);
  CHECK (strcmp (t->name, "sensor_msgs/Image") == 0);
  CHECK (t->n_fields == 7);
  CHECK (t->fixed_size == 0);
  CHECK (!mb_ros_type_is_fixed (t));
  CHECK (mb_ros_type_min_size (t) == 16 + 4 + 4 + 4 + 1 + 4 + 4);
  CHECK (mb_ros_schema_has_header (s));
  CHECK (t->fields[0].type == MB_ROS_MESSAGE);
  h = t->fields[0].msg;
  CHECK (h && strcmp (h->name, "std_msgs/Header") == 0);
  CHECK (h == mb_ros_schema_find_type (s, "std_msgs/Header"));
  CHECK (mb_ros_schema_find_type (s, "nope/Nope") == NULL);
  CHECK (t->fields[6].type == MB_ROS_UINT8);
  CHECK (t->fields[6].array_len == MB_ROS_VAR_ARRAY);
  CHECK (strcmp (t->fields[6].name, "data") == 0);
  CHECK (mb_ros_type_find_field (t, "step", &idx) == &t->fields[5] && idx == 5);
  CHECK (mb_ros_type_find_field (t, "nope", NULL) == NULL);
  /* header is not fixed: no constant offsets after it */
  CHECK (mb_ros_field_offset (t, 0, &off) == 0 && off == 0);
  CHECK (mb_ros_field_offset (t, 1, &off) == -1);
  CHECK (mb_ros_field_offset (h, 1, &off) == 0 && off == 4);
  CHECK (mb_ros_field_offset (h, 2, &off) == 0 && off == 12);
  CHECK (mb_ros_field_offset (h, 3, &off) == -1);

  {
    /* header seq=1 stamp=(5, 7) frame "ab", 1x2 mono8 */
    static const uint8_t msg[] = {
      1, 0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 'a', 'b',
      1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 'm', 'o', 'n', 'o', '8',
      0, 2, 0, 0, 0, 2, 0, 0, 0, 0xaa, 0xbb
    };
    int64_t ns = 0;
    size_t consumed = 0;
    CHECK (mb_ros_header_stamp (s, msg, sizeof (msg), &ns) == 0);
    CHECK (ns == 5000000007LL);
    CHECK (mb_ros_header_stamp (s, msg, 11, &ns) == -1);
    CHECK (mb_ros_walk (s, msg, sizeof (msg), NULL, NULL, &consumed) == 0);
    CHECK (consumed == sizeof (msg));
    /* trailing bytes are left over, not an error */
    {
      uint8_t longer[sizeof (msg) + 3];
      memcpy (longer, msg, sizeof (msg));
      memset (longer + sizeof (msg), 0, 3);
      CHECK (mb_ros_walk (s, longer, sizeof (longer), NULL, NULL,
              &consumed) == 0);
      CHECK (consumed == sizeof (msg));
    }
  }
  mb_ros_schema_free (s);
}

static void
test_fixed_pose (void)
{
  const char *def = "Point position\nQuaternion orientation\n" SEP
      "MSG: geometry_msgs/Point\nfloat64 x\nfloat64 y\nfloat64 z\n" SEP
      "MSG: geometry_msgs/Quaternion\nfloat64 x\nfloat64 y\nfloat64 z\n"
      "float64 w\n";
  MbRosSchema *s = parse_ok ("geometry_msgs/Pose", def);
  const MbRosMsgType *t;
  size_t off = 0;

  CHECK (s != NULL);
  if (!s)
    return;
  t = mb_ros_schema_root (s);
  CHECK (t->fixed_size == 56);
  CHECK (mb_ros_type_is_fixed (t));
  CHECK (!mb_ros_schema_has_header (s));
  CHECK (mb_ros_field_offset (t, 1, &off) == 0 && off == 24);
  CHECK (mb_ros_field_fixed_size (&t->fields[1]) == 32);
  CHECK (t->fields[1].msg->fixed_size == 32);
  CHECK (mb_ros_walk (s, (const uint8_t *) "", 0, NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  mb_ros_schema_free (s);
}

static void
test_constants_and_aliases (void)
{
  const char *def =
      "# constants are not fields\n"
      "int32 FOO=1\n"
      "int32 BAR = -2   # spaced\n"
      "string NAME=some text # with = and # chars\n"
      "string EMPTY=\n"
      "uint8 FLAG=7\r\n"
      "char c\r\n"
      "byte b\n"
      "  \t  \n"
      "time[2] t2   # fixed array of time\n"
      "duration d\n"
      "bool[4] flags\n" "string[3] names\n" "int16 x # trailing = comment\n";
  MbRosSchema *s = parse_ok ("a/Consts", def);
  const MbRosMsgType *t;

  CHECK (s != NULL);
  if (!s)
    return;
  t = mb_ros_schema_root (s);
  CHECK (t->n_fields == 7);
  CHECK (strcmp (t->fields[0].name, "c") == 0);
  CHECK (t->fields[0].type == MB_ROS_UINT8);
  CHECK (t->fields[1].type == MB_ROS_INT8);
  CHECK (t->fields[2].type == MB_ROS_TIME && t->fields[2].array_len == 2);
  CHECK (t->fields[3].type == MB_ROS_DURATION);
  CHECK (t->fields[4].type == MB_ROS_BOOL && t->fields[4].array_len == 4);
  CHECK (t->fields[5].type == MB_ROS_STRING && t->fields[5].array_len == 3);
  CHECK (strcmp (t->fields[6].name, "x") == 0);
  CHECK (t->fixed_size == 0);
  CHECK (mb_ros_type_min_size (t) == 1 + 1 + 16 + 8 + 4 + 12 + 2);
  CHECK (mb_ros_field_offset (t, 5, NULL) == 0);
  CHECK (mb_ros_field_offset (t, 6, NULL) == -1);
  mb_ros_schema_free (s);
}

static void
test_resolution (void)
{
  /* b/Sub comes first, but a/Root's own package wins for "Sub"; "Other"
   * exists only in c/; "Header" means std_msgs/Header even in package a. */
  char def[2048];
  MbRosSchema *s;
  const MbRosMsgType *t;

  snprintf (def, sizeof (def),
      "Header header\nSub s\nOther o\nb/Sub bs\nSub[] many\n" SEP
      "MSG: b/Sub\nfloat64 y\n" SEP "MSG: a/Sub\nint8 x\nOther o\n" SEP
      "MSG: c/Other\nuint16 z\n" SEP "MSG: a/Header\nint64 wrong\n%s",
      header_block);
  s = parse_ok ("a/Root", def);
  CHECK (s != NULL);
  if (!s)
    return;
  t = mb_ros_schema_root (s);
  CHECK (t->n_fields == 5);
  CHECK (strcmp (t->fields[0].msg->name, "std_msgs/Header") == 0);
  CHECK (mb_ros_schema_has_header (s));
  CHECK (strcmp (t->fields[1].msg->name, "a/Sub") == 0);
  CHECK (strcmp (t->fields[2].msg->name, "c/Other") == 0);
  CHECK (strcmp (t->fields[3].msg->name, "b/Sub") == 0);
  CHECK (t->fields[4].msg == t->fields[1].msg);
  CHECK (t->fields[4].array_len == MB_ROS_VAR_ARRAY);
  /* a/Sub's Other: not in package a, so the c/ one */
  CHECK (strcmp (t->fields[1].msg->fields[1].msg->name, "c/Other") == 0);
  CHECK (t->fields[1].msg->fixed_size == 3);
  /* the same type reached twice is parsed once */
  CHECK (t->fields[2].msg == t->fields[1].msg->fields[1].msg);
  mb_ros_schema_free (s);

  /* a Header first field that is not std_msgs/Header layout: no header */
  s = parse_ok ("a/R", "a/Header h\n" SEP "MSG: a/Header\nint64 x\n");
  CHECK (s && !mb_ros_schema_has_header (s));
  mb_ros_schema_free (s);
  /* Header not first: no header */
  {
    char d2[1024];
    snprintf (d2, sizeof (d2), "int8 a\nHeader header\n%s", header_block);
    s = parse_ok ("a/R", d2);
    CHECK (s && !mb_ros_schema_has_header (s));
    CHECK (s && mb_ros_header_stamp (s, (const uint8_t *) "0123456789abcdef",
            16, NULL) == -1);
    mb_ros_schema_free (s);
  }
  /* empty definition = empty message (std_msgs/Empty) */
  s = parse_ok ("std_msgs/Empty", "");
  CHECK (s && mb_ros_schema_root (s)->n_fields == 0);
  CHECK (s && mb_ros_type_is_fixed (mb_ros_schema_root (s)));
  CHECK (s && mb_ros_walk (s, NULL, 0, NULL, NULL, NULL) == 0);
  mb_ros_schema_free (s);
  /* unused blocks with unknown types are not parsed */
  s = parse_ok ("a/R", "int8 a\n" SEP "MSG: z/Unused\nnope/Nope n\n");
  CHECK (s != NULL);
  mb_ros_schema_free (s);
}

static void
test_malformed_definitions (void)
{
  char deep[16384];
  size_t i, n = 0;

  expect_error ("a/R", "Nope n\n", "unknown type \"Nope\"");
  expect_error ("a/R", "b/Nope n\n", "unknown type \"b/Nope\"");
  expect_error ("a/R", "Header h\n", "unknown type \"Header\"");
  expect_error ("a/R", "R self\n", "recursive");
  expect_error ("a/R", "a/B b\n" SEP "MSG: a/B\nR back\n", "recursive");
  expect_error ("a/R", "B[] kids\n" SEP "MSG: a/B\nR[] back\n", "recursive");
  expect_error ("a/R", "uint8[0] a\n", "array length");
  expect_error ("a/R", "uint8[2147483648] a\n", "array length");
  expect_error ("a/R", "uint8[99999999999999999999] a\n", "array length");
  expect_error ("a/R", "uint8[x] a\n", "array length");
  expect_error ("a/R", "uint8[-1] a\n", "array length");
  expect_error ("a/R", "uint8[ a\n", "malformed array type");
  expect_error ("a/R", "uint8[]] a\n", "array length");
  expect_error ("a/R", "[] a\n", "missing type name");
  expect_error ("a/R", "uint8\n", "expected \"type name\"");
  expect_error ("a/R", "uint8 a b\n", "expected \"type name\"");
  expect_error ("a/R", "uint8 1a\n", "invalid field name");
  expect_error ("a/R", "uint8 a-b\n", "invalid field name");
  expect_error ("a/R", "foo!bar a\n", "invalid type name");
  expect_error ("a/R", "a//b a\n", "invalid type name");
  expect_error ("a/R", "int8 a\n" SEP, "without a MSG: block");
  expect_error ("a/R", "int8 a\n" SEP "int8 b\n", "expected \"MSG: pkg/Type\"");
  expect_error ("a/R", "int8 a\n" SEP "MSG: NoPackage\n", "invalid message type");
  expect_error ("a/R", "int8 a\n" SEP "MSG: \n", "invalid message type");
  expect_error ("a/R", "B b\n" SEP "MSG: a/B\nint8 x\n" SEP "MSG: a/B\n",
      "defined twice");
  expect_error ("a/R", "time T=1\n", "not a valid constant type");
  expect_error ("a/R", "a/B B=1\n", "not a valid constant type");
  expect_error ("a/R", "int32 =1\n", "constant without a name");
  expect_error ("a/R", "int32 A B=1\n", "invalid constant name");
  expect_error ("", "int8 a\n", "invalid root type name");
  expect_error (NULL, "int8 a\n", "invalid root type name");
  /* sizes that overflow are rejected, not wrapped */
  expect_error ("a/R", "B[2147483647] b\n" SEP "MSG: a/B\nC[2147483647] c\n"
      SEP "MSG: a/C\nfloat64[2147483647] x\n", "too large");
  {
    static const char with_nul[] = "int8 a\n\0int8 b\n";
    char err[128];
    CHECK (mb_ros_schema_parse ("a/R", with_nul, sizeof (with_nul) - 1, err,
            sizeof (err)) == NULL);
    CHECK (strstr (err, "NUL") != NULL);
    /* err may be NULL */
    CHECK (mb_ros_schema_parse ("a/R", "Nope n", 6, NULL, 0) == NULL);
  }

  /* nesting deeper than the limit: T0 -> T1 -> ... -> T99 */
  n += (size_t) snprintf (deep + n, sizeof (deep) - n, "T1 t\n");
  for (i = 1; i < 100; i++)
    n += (size_t) snprintf (deep + n, sizeof (deep) - n,
        SEP "MSG: a/T%zu\nT%zu t\n", i, i + 1);
  n += (size_t) snprintf (deep + n, sizeof (deep) - n,
      SEP "MSG: a/T100\nint8 x\n");
  expect_error ("a/T0", deep, "nested deeper");

  /* the same through a type already parsed: T1..T60 is a chain of height
   * 60 parsed first; U1..U5 then wrap T1 again (height 65) */
  n = 0;
  n += (size_t) snprintf (deep + n, sizeof (deep) - n, "T1 t\nU1 u\n");
  for (i = 1; i < 60; i++)
    n += (size_t) snprintf (deep + n, sizeof (deep) - n,
        SEP "MSG: a/T%zu\nT%zu t\n", i, i + 1);
  n += (size_t) snprintf (deep + n, sizeof (deep) - n,
      SEP "MSG: a/T60\nint8 x\n");
  for (i = 1; i < 5; i++)
    n += (size_t) snprintf (deep + n, sizeof (deep) - n,
        SEP "MSG: a/U%zu\nU%zu u\n", i, i + 1);
  n += (size_t) snprintf (deep + n, sizeof (deep) - n,
      SEP "MSG: a/U5\nT1 t\n");
  expect_error ("a/T0", deep, "nested deeper");
  /* one level less (root height 64) is fine */
  {
    char *ok = strdup (deep);
    char *u5 = strstr (ok, "MSG: a/U3\nU4 u");
    MbRosSchema *s;
    CHECK (u5 != NULL);
    if (u5) {
      memcpy (u5, "MSG: a/U3\nT1 t", strlen ("MSG: a/U3\nT1 t"));
      s = parse_ok ("a/T0", ok);
      CHECK (s != NULL);
      mb_ros_schema_free (s);
    }
    free (ok);
  }
}

static int
stop_scalar (void *ud, const MbRosField * f, uint32_t index, const uint8_t * p)
{
  int *calls = ud;
  (*calls)++;
  return strcmp (f->name, "b") == 0 ? 42 : 0;
}

static int
count_msg (void *ud, const MbRosField * f, uint32_t index,
    const MbRosMsgType * t)
{
  (*(uint64_t *) ud)++;
  return 0;
}

static void
test_walk_malformed (void)
{
  MbRosSchema *s;
  uint8_t buf[64];
  size_t consumed = 0;

  /* absurd counts are rejected before anything is visited */
  s = parse_ok ("a/R", "uint8[] data\n");
  memset (buf, 0xff, sizeof (buf));
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, &consumed) ==
      MB_ROS_WALK_MALFORMED);
  CHECK (consumed <= sizeof (buf));
  memset (buf, 0, sizeof (buf));
  buf[0] = 60;
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, &consumed) == 0);
  CHECK (consumed == 64);
  buf[0] = 61;
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  mb_ros_schema_free (s);

  s = parse_ok ("a/R", "float64[] v\n");
  memset (buf, 0, sizeof (buf));
  buf[0] = 8;                   /* 8 doubles need 64 bytes, 60 remain */
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  buf[0] = 0;
  buf[3] = 0x20;                /* count * 8 overflows 32 bits */
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  mb_ros_schema_free (s);

  s = parse_ok ("a/R", "string[] names\n");
  memset (buf, 0, sizeof (buf));
  buf[0] = 16;                  /* 16 strings need >= 64 bytes */
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  buf[0] = 15;
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) == 0);
  buf[4] = 57;                  /* first string longer than what is left */
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  mb_ros_schema_free (s);

  s = parse_ok ("a/R", "B[] items\n" SEP "MSG: a/B\nuint32 a\nuint32 b\n");
  memset (buf, 0, sizeof (buf));
  buf[0] = 8;                   /* 8 * 8 > 60 */
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  buf[0] = 7;
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, &consumed) == 0);
  CHECK (consumed == 60);
  {
    /* a callback's non-zero value stops the walk and is returned */
    MbRosVisitor v = { 0 };
    int calls = 0;
    v.scalar = stop_scalar;
    CHECK (mb_ros_walk (s, buf, sizeof (buf), &v, &calls, NULL) == 42);
    CHECK (calls == 2);
  }
  mb_ros_schema_free (s);

  /* arrays of empty messages: huge counts are rejected, the walk stays
   * bounded even for nested fixed arrays of them */
  s = parse_ok ("a/R", "std_msgs/Empty[] e\n" SEP "MSG: std_msgs/Empty\n");
  memset (buf, 0, sizeof (buf));
  buf[0] = 0xff;
  buf[1] = 0xff;
  CHECK (mb_ros_walk (s, buf, sizeof (buf), NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  buf[0] = 10;
  buf[1] = 0;
  {
    uint64_t msgs = 0;
    MbRosVisitor v = { 0 };
    v.message_begin = count_msg;
    CHECK (mb_ros_walk (s, buf, sizeof (buf), &v, &msgs, &consumed) == 0);
    CHECK (msgs == 11);
    CHECK (consumed == 4);
  }
  mb_ros_schema_free (s);
  s = parse_ok ("a/R", "A[100000] a\n" SEP "MSG: a/A\nB[100000] b\n" SEP
      "MSG: a/B\nC[100000] c\n" SEP "MSG: a/C\n");
  CHECK (s && mb_ros_schema_root (s)->fixed_size == 0);
  CHECK (s && mb_ros_type_is_fixed (mb_ros_schema_root (s)));
  {
    static uint8_t big[200000];
    CHECK (mb_ros_walk (s, big, sizeof (big), NULL, NULL, NULL) ==
        MB_ROS_WALK_MALFORMED);
  }
  mb_ros_schema_free (s);

  /* the step budget never stops a valid message: 2M one-byte elements
   * reached through five wrapper levels each (6 steps per byte) */
  s = parse_ok ("a/R", "B[] items\n" SEP "MSG: a/B\nC c\n" SEP
      "MSG: a/C\nD d\n" SEP "MSG: a/D\nE e\n" SEP "MSG: a/E\nF f\n" SEP
      "MSG: a/F\nbool x\n");
  {
    size_t n = 2u << 20;
    uint8_t *big = calloc (1, n + 4);
    big[0] = (uint8_t) n;
    big[1] = (uint8_t) (n >> 8);
    big[2] = (uint8_t) (n >> 16);
    CHECK (s && mb_ros_walk (s, big, n + 4, NULL, NULL, &consumed) == 0);
    CHECK (consumed == n + 4);
    free (big);
  }
  mb_ros_schema_free (s);

  /* NULL data with a length, NULL schema */
  CHECK (mb_ros_walk (NULL, buf, 4, NULL, NULL, NULL) ==
      MB_ROS_WALK_MALFORMED);
  s = parse_ok ("a/R", "int8 a\n");
  CHECK (mb_ros_walk (s, NULL, 4, NULL, NULL, NULL) == MB_ROS_WALK_MALFORMED);
  mb_ros_schema_free (s);
  mb_ros_schema_free (NULL);
}

static void
test_primitives (void)
{
  CHECK (mb_ros_primitive_size (MB_ROS_BOOL) == 1);
  CHECK (mb_ros_primitive_size (MB_ROS_UINT16) == 2);
  CHECK (mb_ros_primitive_size (MB_ROS_FLOAT32) == 4);
  CHECK (mb_ros_primitive_size (MB_ROS_INT64) == 8);
  CHECK (mb_ros_primitive_size (MB_ROS_TIME) == 8);
  CHECK (mb_ros_primitive_size (MB_ROS_DURATION) == 8);
  CHECK (mb_ros_primitive_size (MB_ROS_STRING) == 0);
  CHECK (mb_ros_primitive_size (MB_ROS_MESSAGE) == 0);
  CHECK (strcmp (mb_ros_primitive_name (MB_ROS_FLOAT64), "float64") == 0);
  CHECK (strcmp (mb_ros_primitive_name (MB_ROS_DURATION), "duration") == 0);
}

int
main (void)
{
  RUN (test_image);
  RUN (test_fixed_pose);
  RUN (test_constants_and_aliases);
  RUN (test_resolution);
  RUN (test_malformed_definitions);
  RUN (test_walk_malformed);
  RUN (test_primitives);
  printf ("%d passed, %d failed\n", n_passed, n_failed);
  return n_failed ? 1 : 0;
}
