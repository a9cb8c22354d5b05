/* Oracle check for gst/common/rosmsg.c, driven by rosmsg_oracle.py.
 *
 * For every case NAME listed in DIR/cases.txt: parses DIR/NAME.def for the
 * type in DIR/NAME.type, walks DIR/NAME.bin and renders every field in the
 * same text form as the genpy-side dump in DIR/NAME.expect, which must match
 * line for line. Also checks header stamp, fixed_size, consumed bytes, and
 * that every truncated prefix of the bytes is rejected as malformed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <membound/rosmsg.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  char *buf;
  size_t len, cap;
  char path[64][512];           /* prefix stack: "" or "a.b[2]." */
  int depth;
} Dump;

static void
emit (Dump * d, const char *fmt, ...) __attribute__((format (printf, 2, 3)));

static void
emit (Dump * d, const char *fmt, ...)
{
  va_list ap;
  int n;

  for (;;) {
    va_start (ap, fmt);
    n = vsnprintf (d->buf + d->len, d->cap - d->len, fmt, ap);
    va_end (ap);
    if ((size_t) n < d->cap - d->len)
      break;
    d->cap = d->cap * 2 + (size_t) n + 64;
    d->buf = realloc (d->buf, d->cap);
  }
  d->len += (size_t) n;
}

static const char *
prefix (Dump * d)
{
  return d->path[d->depth];
}

static void
fmt_prim (Dump * d, MbRosPrimitive t, const uint8_t * p)
{
  uint64_t u = 0;
  size_t i, sz = mb_ros_primitive_size (t);

  for (i = 0; i < sz && i < 8; i++)
    u |= (uint64_t) p[i] << (8 * i);
  switch (t) {
    case MB_ROS_BOOL:
    case MB_ROS_UINT8:
    case MB_ROS_UINT16:
    case MB_ROS_UINT32:
    case MB_ROS_UINT64:
      emit (d, "%" PRIu64, u);
      break;
    case MB_ROS_INT8:
      emit (d, "%d", (int) (int8_t) u);
      break;
    case MB_ROS_INT16:
      emit (d, "%d", (int) (int16_t) u);
      break;
    case MB_ROS_INT32:
      emit (d, "%" PRId32, (int32_t) u);
      break;
    case MB_ROS_INT64:
      emit (d, "%" PRId64, (int64_t) u);
      break;
    case MB_ROS_FLOAT32:{
      float f;
      uint32_t u32 = (uint32_t) u;
      memcpy (&f, &u32, 4);
      emit (d, "%.17g", (double) f);
      break;
    }
    case MB_ROS_FLOAT64:{
      double f;
      memcpy (&f, &u, 8);
      emit (d, "%.17g", f);
      break;
    }
    case MB_ROS_TIME:
      emit (d, "%" PRIu32 ":%" PRIu32, (uint32_t) u, (uint32_t) (u >> 32));
      break;
    case MB_ROS_DURATION:
      emit (d, "%" PRId32 ":%" PRId32, (int32_t) (uint32_t) u,
          (int32_t) (uint32_t) (u >> 32));
      break;
    default:
      emit (d, "?");
  }
}

static int
on_scalar (void *ud, const MbRosField * f, uint32_t index, const uint8_t * p)
{
  Dump *d = ud;

  if (f->array_len != MB_ROS_NOT_ARRAY) {
    fprintf (stderr, "scalar callback for array field %s\n", f->name);
    return 5;
  }
  (void) index;
  emit (d, "%s%s = ", prefix (d), f->name);
  fmt_prim (d, f->type, p);
  emit (d, "\n");
  return 0;
}

static int
on_prim_array (void *ud, const MbRosField * f, uint32_t count,
    const uint8_t * p)
{
  Dump *d = ud;
  uint32_t i;
  size_t sz = mb_ros_primitive_size (f->type);

  emit (d, "%s%s.len = %" PRIu32 "\n", prefix (d), f->name, count);
  if (f->type == MB_ROS_UINT8) {
    emit (d, "%s%s = x:", prefix (d), f->name);
    for (i = 0; i < count; i++)
      emit (d, "%02x", p[i]);
    emit (d, "\n");
    return 0;
  }
  for (i = 0; i < count; i++) {
    emit (d, "%s%s[%" PRIu32 "] = ", prefix (d), f->name, i);
    fmt_prim (d, f->type, p + i * sz);
    emit (d, "\n");
  }
  return 0;
}

static int
on_string (void *ud, const MbRosField * f, uint32_t index, const char *s,
    uint32_t len)
{
  Dump *d = ud;
  uint32_t i;

  if (f->array_len == MB_ROS_NOT_ARRAY)
    emit (d, "%s%s = s:", prefix (d), f->name);
  else
    emit (d, "%s%s[%" PRIu32 "] = s:", prefix (d), f->name, index);
  for (i = 0; i < len; i++)
    emit (d, "%02x", (uint8_t) s[i]);
  emit (d, "\n");
  return 0;
}

static int
on_array_begin (void *ud, const MbRosField * f, uint32_t count)
{
  Dump *d = ud;

  emit (d, "%s%s.len = %" PRIu32 "\n", prefix (d), f->name, count);
  return 0;
}

static int
on_message_begin (void *ud, const MbRosField * f, uint32_t index,
    const MbRosMsgType * t)
{
  Dump *d = ud;

  (void) t;
  if (d->depth + 1 >= 64)
    return 6;
  {
    char tmp[512];
    if (!f)
      snprintf (tmp, sizeof (tmp), "%s", prefix (d));
    else if (f->array_len == MB_ROS_NOT_ARRAY)
      snprintf (tmp, sizeof (tmp), "%s%s.", prefix (d), f->name);
    else
      snprintf (tmp, sizeof (tmp), "%s%s[%" PRIu32 "].", prefix (d), f->name,
          index);
    memcpy (d->path[d->depth + 1], tmp, sizeof (tmp));
  }
  d->depth++;
  return 0;
}

static int
on_message_end (void *ud, const MbRosField * f, const MbRosMsgType * t)
{
  Dump *d = ud;

  (void) f;
  (void) t;
  d->depth--;
  return 0;
}

static const MbRosVisitor visitor = {
  on_scalar, on_prim_array, on_string, on_array_begin, NULL,
  on_message_begin, on_message_end
};

static char *
read_all (const char *dir, const char *name, const char *ext, size_t *len)
{
  char path[4096];
  FILE *f;
  char *buf;
  long n;

  snprintf (path, sizeof (path), "%s/%s%s", dir, name, ext);
  f = fopen (path, "rb");
  if (!f) {
    perror (path);
    exit (2);
  }
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc ((size_t) n + 1);
  if (n > 0 && fread (buf, 1, (size_t) n, f) != (size_t) n) {
    perror (path);
    exit (2);
  }
  buf[n] = '\0';
  fclose (f);
  if (len)
    *len = (size_t) n;
  return buf;
}

static int
run_case (const char *dir, const char *name)
{
  size_t def_len, bin_len, consumed, exp_len, k;
  char *type = read_all (dir, name, ".type", NULL);
  char *def = read_all (dir, name, ".def", &def_len);
  uint8_t *bin = (uint8_t *) read_all (dir, name, ".bin", &bin_len);
  char *expect = read_all (dir, name, ".expect", &exp_len);
  char err[256];
  MbRosSchema *s;
  Dump d;
  int r, fails = 0;
  int64_t stamp = 0;

  memset (&d, 0, sizeof (d));
  s = mb_ros_schema_parse (type, def, def_len, err, sizeof (err));
  if (!s) {
    fprintf (stderr, "FAIL %s: parse error: %s\n", name, err);
    fails++;
    goto out;
  }
  if (mb_ros_schema_has_header (s)) {
    if (mb_ros_header_stamp (s, bin, bin_len, &stamp) != 0) {
      fprintf (stderr, "FAIL %s: header stamp\n", name);
      fails++;
    }
    emit (&d, "@stamp_ns = %" PRId64 "\n", stamp);
  } else {
    if (mb_ros_header_stamp (s, bin, bin_len, &stamp) != -1) {
      fprintf (stderr, "FAIL %s: header stamp without header\n", name);
      fails++;
    }
    emit (&d, "@noheader\n");
  }
  emit (&d, "@fixed_size = %zu\n", mb_ros_schema_root (s)->fixed_size);
  /* first pass without callbacks, for consumed */
  r = mb_ros_walk (s, bin, bin_len, NULL, NULL, &consumed);
  if (r != 0) {
    fprintf (stderr, "FAIL %s: walk returned %d\n", name, r);
    fails++;
  }
  emit (&d, "@consumed = %zu\n", consumed);
  r = mb_ros_walk (s, bin, bin_len, &visitor, &d, &consumed);
  if (r != 0 || d.depth != 0) {
    fprintf (stderr, "FAIL %s: walk returned %d (depth %d)\n", name, r,
        d.depth);
    fails++;
  }
  if (d.len != exp_len || memcmp (d.buf, expect, exp_len) != 0) {
    char path[4096];
    FILE *f;
    snprintf (path, sizeof (path), "%s/%s.got", dir, name);
    f = fopen (path, "w");
    if (f) {
      fwrite (d.buf, 1, d.len, f);
      fclose (f);
    }
    fprintf (stderr, "FAIL %s: dump differs: diff %s/%s.expect %s\n", name,
        dir, name, path);
    fails++;
  }
  /* every strict prefix must be rejected, never read out of bounds: copy
   * into an exact-size heap buffer so sanitizers see overreads */
  for (k = 0; k < bin_len; k++) {
    uint8_t *cut = malloc (k ? k : 1);
    memcpy (cut, bin, k);
    d.depth = 0;
    d.len = 0;
    r = mb_ros_walk (s, cut, k, &visitor, &d, &consumed);
    free (cut);
    if (r != MB_ROS_WALK_MALFORMED) {
      fprintf (stderr, "FAIL %s: prefix of %zu/%zu bytes gave %d\n", name, k,
          bin_len, r);
      fails++;
      break;
    }
    if (consumed > k) {
      fprintf (stderr, "FAIL %s: consumed %zu > %zu\n", name, consumed, k);
      fails++;
      break;
    }
  }

out:
  printf ("%s %s\n", fails ? "FAIL" : "ok  ", name);
  mb_ros_schema_free (s);
  free (type);
  free (def);
  free (bin);
  free (expect);
  free (d.buf);
  return fails;
}

int
main (int argc, char **argv)
{
  char *list, *line, *save = NULL;
  int passed = 0, failed = 0;

  if (argc != 2) {
    fprintf (stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  list = read_all (argv[1], "cases", ".txt", NULL);
  for (line = strtok_r (list, "\n", &save); line;
      line = strtok_r (NULL, "\n", &save)) {
    if (run_case (argv[1], line))
      failed++;
    else
      passed++;
  }
  free (list);
  printf ("%d passed, %d failed\n", passed, failed);
  return failed || !passed ? 1 : 0;
}
