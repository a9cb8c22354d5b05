/* membound: linear interpolation for timealign (see interp.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "interp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The wire format is little endian; so is every platform we build for
 * (x86-64, aarch64). On a big-endian host interpolation is refused. */
static int
host_is_le (void)
{
  const uint16_t one = 1;
  return *(const uint8_t *) &one == 1;
}

static int16_t
lerp_s16 (int16_t a, int16_t b, double frac)
{
  double v = lrint ((double) a + frac * ((double) b - (double) a));
  if (v > 32767.0)
    v = 32767.0;
  if (v < -32768.0)
    v = -32768.0;
  return (int16_t) v;
}

int
mb_interp_audio (MbInterpSampleFormat fmt, const uint8_t * a, size_t alen,
    const uint8_t * b, size_t blen, double frac, uint8_t * out)
{
  size_t i, w = fmt == MB_INTERP_S16LE ? 2 : 4;

  if (alen != blen || alen % w != 0 || !host_is_le ())
    return -1;
  for (i = 0; i < alen; i += w) {
    if (fmt == MB_INTERP_S16LE) {
      int16_t x, y, z;
      memcpy (&x, a + i, 2);
      memcpy (&y, b + i, 2);
      z = lerp_s16 (x, y, frac);
      memcpy (out + i, &z, 2);
    } else {
      float x, y, z;
      memcpy (&x, a + i, 4);
      memcpy (&y, b + i, 4);
      z = (float) ((double) x + frac * ((double) y - (double) x));
      memcpy (out + i, &z, 4);
    }
  }
  return 0;
}

typedef struct {
  const MbRosField *field;
  MbRosPrimitive type;
  uint32_t count;
  size_t off;
} Region;

typedef struct {
  const uint8_t *base;
  Region *r;
  size_t n, cap;
  int oom;
} Collect;

static int
add_region (Collect * c, const MbRosField * f, uint32_t count,
    const uint8_t * p)
{
  if (f == NULL || (f->type != MB_ROS_FLOAT32 && f->type != MB_ROS_FLOAT64))
    return 0;
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 16;
    Region *nr = realloc (c->r, ncap * sizeof (Region));
    if (nr == NULL) {
      c->oom = 1;
      return 1;
    }
    c->r = nr;
    c->cap = ncap;
  }
  c->r[c->n].field = f;
  c->r[c->n].type = f->type;
  c->r[c->n].count = count;
  c->r[c->n].off = (size_t) (p - c->base);
  c->n++;
  return 0;
}

static int
on_scalar (void *ud, const MbRosField * f, uint32_t index, const uint8_t * p)
{
  (void) index;
  return add_region (ud, f, 1, p);
}

static int
on_prim_array (void *ud, const MbRosField * f, uint32_t count,
    const uint8_t * p)
{
  return add_region (ud, f, count, p);
}

static int
collect (const MbRosSchema * schema, const uint8_t * data, size_t len,
    Collect * c)
{
  MbRosVisitor v;
  size_t used = 0;

  memset (&v, 0, sizeof (v));
  v.scalar = on_scalar;
  v.prim_array = on_prim_array;
  memset (c, 0, sizeof (*c));
  c->base = data;
  if (mb_ros_walk (schema, data, len, &v, c, &used) != 0 || c->oom)
    return -1;
  return 0;
}

int
mb_interp_ros (const MbRosSchema * schema, const uint8_t * a, size_t alen,
    const uint8_t * b, size_t blen, double frac, uint8_t * out,
    size_t out_len)
{
  Collect ca, cb;
  const Collect *near;
  size_t i, k;
  int n_done = 0, ret = -1;

  if (schema == NULL || !host_is_le ())
    return -1;
  if (collect (schema, a, alen, &ca) != 0) {
    free (ca.r);
    return -1;
  }
  if (collect (schema, b, blen, &cb) != 0)
    goto out;
  if (ca.n != cb.n)
    goto out;
  for (i = 0; i < ca.n; i++)
    if (ca.r[i].field != cb.r[i].field)
      goto out;
  near = frac < 0.5 ? &ca : &cb;
  if (out_len != (frac < 0.5 ? alen : blen))
    goto out;
  for (i = 0; i < ca.n; i++) {
    const Region *ra = &ca.r[i], *rb = &cb.r[i], *rn = &near->r[i];
    if (ra->count != rb->count)
      continue;                 /* different lengths: keep the nearer one */
    for (k = 0; k < ra->count; k++) {
      if (ra->type == MB_ROS_FLOAT64) {
        double x, y, z;
        memcpy (&x, a + ra->off + 8 * k, 8);
        memcpy (&y, b + rb->off + 8 * k, 8);
        z = x + frac * (y - x);
        memcpy (out + rn->off + 8 * k, &z, 8);
      } else {
        float x, y, z;
        memcpy (&x, a + ra->off + 4 * k, 4);
        memcpy (&y, b + rb->off + 4 * k, 4);
        z = (float) ((double) x + frac * ((double) y - (double) x));
        memcpy (out + rn->off + 4 * k, &z, 4);
      }
    }
    n_done++;
  }
  ret = n_done;
out:
  free (ca.r);
  free (cb.r);
  return ret;
}
