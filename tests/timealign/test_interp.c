/* Unit tests of timealign's interpolation helper (gst/timealign/interp.c).
 *
 * Random JointState messages are serialized here; the expected result is
 * built by serializing the nearer neighbour again with every array of equal
 * length replaced by a + f (b - a), and compared byte for byte.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "interp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
  fprintf (stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
  fprintf (stderr, __VA_ARGS__); fprintf (stderr, "\n"); } } while (0)

static const char *js_def =
    "Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n"
    "float64[] effort\n"
    "================================================================================\n"
    "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n";

static uint32_t rng = 99;
static uint32_t
rnd (void)
{
  rng = rng * 1664525u + 1013904223u;
  return rng >> 8;
}

typedef struct {
  uint8_t b[4096];
  size_t n;
} Buf;

static void
put (Buf * o, const void *p, size_t n)
{
  memcpy (o->b + o->n, p, n);
  o->n += n;
}

static void
put_u32 (Buf * o, uint32_t v)
{
  put (o, &v, 4);
}

typedef struct {
  uint32_t seq;
  char frame[16];
  int n_names;
  int n[3];
  double v[3][8];
} JS;

static void
serialize (const JS * m, Buf * o)
{
  int k, i;

  o->n = 0;
  put_u32 (o, m->seq);
  put_u32 (o, 1700000000);
  put_u32 (o, m->seq * 1000);
  put_u32 (o, (uint32_t) strlen (m->frame));
  put (o, m->frame, strlen (m->frame));
  put_u32 (o, (uint32_t) m->n_names);
  for (i = 0; i < m->n_names; i++) {
    put_u32 (o, 2);
    put (o, "jx", 2);
  }
  for (k = 0; k < 3; k++) {
    put_u32 (o, (uint32_t) m->n[k]);
    for (i = 0; i < m->n[k]; i++)
      put (o, &m->v[k][i], 8);
  }
}

static void
random_js (JS * m, const JS * like)
{
  int k, i, len = (int) (rnd () % 12);

  memset (m, 0, sizeof (*m));
  m->seq = rnd ();
  for (i = 0; i < len; i++)
    m->frame[i] = (char) ('a' + rnd () % 26);
  m->n_names = (int) (rnd () % 7);
  for (k = 0; k < 3; k++) {
    m->n[k] = like && rnd () % 4 ? like->n[k] : (int) (rnd () % 7);
    for (i = 0; i < m->n[k]; i++)
      m->v[k][i] = ((int) (rnd () % 20001) - 10000) / 7.0;
  }
}

static void
test_joint_state_random (const MbRosSchema * s)
{
  int it;

  for (it = 0; it < 2000; it++) {
    JS a, b, want;
    Buf ba, bb, bw, out;
    double frac = (rnd () % 999 + 1) / 1000.0;
    int k, i, r, equal_arrays = 0;
    const JS *near;

    random_js (&a, NULL);
    random_js (&b, &a);
    near = frac < 0.5 ? &a : &b;
    want = *near;
    for (k = 0; k < 3; k++) {
      if (a.n[k] != b.n[k])
        continue;
      equal_arrays++;
      for (i = 0; i < a.n[k]; i++)
        want.v[k][i] = a.v[k][i] + frac * (b.v[k][i] - a.v[k][i]);
    }
    serialize (&a, &ba);
    serialize (&b, &bb);
    serialize (&want, &bw);
    out = frac < 0.5 ? ba : bb;
    r = mb_interp_ros (s, ba.b, ba.n, bb.b, bb.n, frac, out.b, out.n);
    CHECK (r == equal_arrays, "iteration %d: %d fields interpolated, want %d",
        it, r, equal_arrays);
    CHECK (out.n == bw.n && memcmp (out.b, bw.b, bw.n) == 0,
        "iteration %d: bytes differ", it);
  }
}

static void
test_malformed (const MbRosSchema * s)
{
  JS a, b;
  Buf ba, bb, out;

  random_js (&a, NULL);
  a.n[0] = 3;
  random_js (&b, &a);
  serialize (&a, &ba);
  serialize (&b, &bb);
  out = ba;
  /* truncated neighbour */
  CHECK (mb_interp_ros (s, ba.b, ba.n, bb.b, bb.n - 1, 0.25, out.b, out.n) < 0,
      "truncated b accepted");
  CHECK (mb_interp_ros (s, ba.b, 3, bb.b, bb.n, 0.25, out.b, 3) < 0,
      "truncated a accepted");
  /* output length not the nearer one's */
  CHECK (mb_interp_ros (s, ba.b, ba.n, bb.b, bb.n, 0.25, out.b, out.n + 1) < 0,
      "wrong output length accepted");
  CHECK (mb_interp_ros (NULL, ba.b, ba.n, bb.b, bb.n, 0.25, out.b, out.n) < 0,
      "no schema accepted");
}

/* scalars, fixed arrays, float32, integers from the nearer; nested message
 * arrays of different lengths change the structure: refused */
static void
test_other_types (void)
{
  const char *def = "float32 a\nfloat32[] b\nfloat64[3] c\nint32 d\nP[] p\n"
      "================================================================================\n"
      "MSG: t/P\nfloat64 x\n";
  char err[256];
  MbRosSchema *s = mb_ros_schema_parse ("t/T", def, strlen (def), err,
      sizeof (err));
  Buf ba, bb, out;
  float fa = 1.0f, fb = 3.0f, f;
  double d, c;
  int32_t ia = 5, ib = 9, iv;
  int k;

  CHECK (s != NULL, "schema: %s", err);
  if (s == NULL)
    return;
  /* a: a=1, b=[1,2], c=[0,10,20], d=5, p=[x=1] ; b: a=3, b=[3,6], c=[10,20,30], d=9, p=[x=3] */
  ba.n = bb.n = 0;
  put (&ba, &fa, 4);
  put (&bb, &fb, 4);
  put_u32 (&ba, 2);
  put_u32 (&bb, 2);
  for (k = 1; k <= 2; k++) {
    float x = (float) k, y = (float) (3 * k);
    put (&ba, &x, 4);
    put (&bb, &y, 4);
  }
  for (k = 0; k < 3; k++) {
    double x = 10.0 * k, y = 10.0 * k + 10;
    put (&ba, &x, 8);
    put (&bb, &y, 8);
  }
  put (&ba, &ia, 4);
  put (&bb, &ib, 4);
  put_u32 (&ba, 1);
  put_u32 (&bb, 1);
  d = 1.0;
  put (&ba, &d, 8);
  d = 3.0;
  put (&bb, &d, 8);
  out = bb;
  CHECK (mb_interp_ros (s, ba.b, ba.n, bb.b, bb.n, 0.75, out.b, out.n) == 4,
      "4 float fields (a, b, c, p[0].x)");
  memcpy (&f, out.b, 4);
  CHECK (f == 2.5f, "a = %f", f);
  memcpy (&f, out.b + 8 + 4, 4);
  CHECK (f == 5.0f, "b[1] = %f", f);
  memcpy (&c, out.b + 16 + 16, 8);
  CHECK (c == 27.5, "c[2] = %f", c);
  memcpy (&iv, out.b + 40, 4);
  CHECK (iv == 9, "d from the nearer = %d", iv);
  memcpy (&d, out.b + 48, 8);
  CHECK (d == 2.5, "p[0].x = %f", d);
  /* b now has two P: structure differs */
  bb.n -= 12;
  put_u32 (&bb, 2);
  put (&bb, &d, 8);
  put (&bb, &d, 8);
  out = bb;
  CHECK (mb_interp_ros (s, ba.b, ba.n, bb.b, bb.n, 0.75, out.b, out.n) < 0,
      "different nested array lengths accepted");
  mb_ros_schema_free (s);
}

static void
test_audio (void)
{
  int16_t a[4] = { 0, -100, 1, 32767 }, b[4] = { 100, 100, 2, 32767 }, o[4];
  float fa[3] = { 0.0f, -1.0f, 0.5f }, fb[3] = { 1.0f, 1.0f, 0.5f }, fo[3];

  CHECK (mb_interp_audio (MB_INTERP_S16LE, (uint8_t *) a, 8, (uint8_t *) b, 8,
          0.25, (uint8_t *) o) == 0, "s16");
  CHECK (o[0] == 25 && o[1] == -50 && o[2] == 1 && o[3] == 32767,
      "s16 values %d %d %d %d", o[0], o[1], o[2], o[3]);
  CHECK (mb_interp_audio (MB_INTERP_S16LE, (uint8_t *) a, 8, (uint8_t *) b, 8,
          0.5, (uint8_t *) o) == 0 && o[2] == 2, "s16 rounding 1.5 -> %d", o[2]);
  CHECK (mb_interp_audio (MB_INTERP_F32LE, (uint8_t *) fa, 12, (uint8_t *) fb,
          12, 0.5, (uint8_t *) fo) == 0, "f32");
  CHECK (fo[0] == 0.5f && fo[1] == 0.0f && fo[2] == 0.5f, "f32 values");
  CHECK (mb_interp_audio (MB_INTERP_S16LE, (uint8_t *) a, 8, (uint8_t *) b, 6,
          0.5, (uint8_t *) o) < 0, "different sizes accepted");
  CHECK (mb_interp_audio (MB_INTERP_S16LE, (uint8_t *) a, 7, (uint8_t *) b, 7,
          0.5, (uint8_t *) o) < 0, "half sample accepted");
  CHECK (mb_interp_audio (MB_INTERP_F32LE, (uint8_t *) fa, 6, (uint8_t *) fb,
          6, 0.5, (uint8_t *) fo) < 0, "half float accepted");
}

int
main (void)
{
  char err[256];
  MbRosSchema *s = mb_ros_schema_parse ("sensor_msgs/JointState", js_def,
      strlen (js_def), err, sizeof (err));

  CHECK (s != NULL, "JointState schema: %s", err);
  if (s) {
    test_joint_state_random (s);
    test_malformed (s);
    mb_ros_schema_free (s);
  }
  test_other_types ();
  test_audio ();
  if (failures) {
    printf ("FAIL: %d check(s) failed\n", failures);
    return 1;
  }
  printf ("ok: interpolation\n");
  return 0;
}
