/* membound: memory trend over a sliding time window.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "trend.h"

#include <stdlib.h>

typedef struct
{
  int64_t t;
  uint64_t v;
} Sample;

struct MbTrend
{
  unsigned capacity;
  unsigned head;                /* index of the oldest sample */
  unsigned count;
  int64_t window;
  int64_t min_dt;
  Sample *s;
};

#define AT(tr, i) ((tr)->s[((tr)->head + (i)) % (tr)->capacity])

MbTrend *
mb_trend_new (unsigned capacity, int64_t window_ns)
{
  MbTrend *t;

  if (capacity < 8 || window_ns <= 0)
    return NULL;
  t = calloc (1, sizeof (*t));
  if (t == NULL)
    return NULL;
  t->s = calloc (capacity, sizeof (Sample));
  if (t->s == NULL) {
    free (t);
    return NULL;
  }
  t->capacity = capacity;
  mb_trend_reset (t, window_ns);
  return t;
}

void
mb_trend_free (MbTrend * t)
{
  if (t == NULL)
    return;
  free (t->s);
  free (t);
}

void
mb_trend_reset (MbTrend * t, int64_t window_ns)
{
  if (window_ns > 0)
    t->window = window_ns;
  /* capacity - 2 intervals cover the window, leaving room for the sample
   * just before the window start and the newest one */
  t->min_dt = t->window / (int64_t) (t->capacity - 2);
  t->head = 0;
  t->count = 0;
}

int
mb_trend_add (MbTrend * t, int64_t t_ns, uint64_t bytes)
{
  if (t->count > 0) {
    int64_t last = AT (t, t->count - 1).t;
    if (t_ns < last || t_ns - last < t->min_dt)
      return 0;
  }
  if (t->count == t->capacity) {
    t->head = (t->head + 1) % t->capacity;
    t->count--;
  }
  AT (t, t->count).t = t_ns;
  AT (t, t->count).v = bytes;
  t->count++;
  /* keep exactly one sample at or before (newest - window) */
  while (t->count >= 3 && t_ns - AT (t, 1).t >= t->window) {
    t->head = (t->head + 1) % t->capacity;
    t->count--;
  }
  return 1;
}

unsigned
mb_trend_count (const MbTrend * t)
{
  return t->count;
}

int64_t
mb_trend_span (const MbTrend * t)
{
  if (t->count < 2)
    return 0;
  return AT (t, t->count - 1).t - AT (t, 0).t;
}

int
mb_trend_full (const MbTrend * t)
{
  return t->count >= 2 && mb_trend_span (t) >= t->window;
}

double
mb_trend_slope_range (const MbTrend * t, int64_t from_ns, int64_t to_ns,
    int *ok)
{
  unsigned i, n = 0;
  double sx = 0, sy = 0, sxx = 0, sxy = 0, den;
  int64_t t0 = 0;
  uint64_t v0 = 0;

  for (i = 0; i < t->count; i++) {
    const Sample *p = &AT (t, i);
    double x, y;

    if (p->t < from_ns || p->t > to_ns)
      continue;
    if (n == 0) {
      t0 = p->t;
      v0 = p->v;
    }
    /* relative to the first sample keeps doubles exact enough */
    x = (double) (p->t - t0) / 1e9;
    y = (double) p->v - (double) v0;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    n++;
  }
  if (n < 2) {
    if (ok)
      *ok = 0;
    return 0;
  }
  den = n * sxx - sx * sx;
  if (den <= 0) {
    if (ok)
      *ok = 0;
    return 0;
  }
  if (ok)
    *ok = 1;
  return (n * sxy - sx * sy) / den;
}

double
mb_trend_slope (const MbTrend * t)
{
  return mb_trend_slope_range (t, INT64_MIN, INT64_MAX, NULL);
}

int
mb_trend_leak_suspected (const MbTrend * t, double threshold_per_s,
    double *slope_out)
{
  int ok_all, ok_a, ok_b;
  double all, a, b;
  int64_t first, last, mid;

  if (slope_out)
    *slope_out = 0;
  if (t->count < 2)
    return 0;
  all = mb_trend_slope_range (t, INT64_MIN, INT64_MAX, &ok_all);
  if (slope_out)
    *slope_out = all;
  if (!mb_trend_full (t) || t->count < 6 || !ok_all)
    return 0;
  first = AT (t, 0).t;
  last = AT (t, t->count - 1).t;
  mid = first + (last - first) / 2;
  a = mb_trend_slope_range (t, first, mid, &ok_a);
  b = mb_trend_slope_range (t, mid, last, &ok_b);
  return ok_a && ok_b && all > threshold_per_s && a > threshold_per_s
      && b > threshold_per_s;
}

int
mb_trend_first (const MbTrend * t, int64_t * t_ns, uint64_t * bytes)
{
  if (t->count == 0)
    return 0;
  if (t_ns)
    *t_ns = AT (t, 0).t;
  if (bytes)
    *bytes = AT (t, 0).v;
  return 1;
}

int
mb_trend_last (const MbTrend * t, int64_t * t_ns, uint64_t * bytes)
{
  if (t->count == 0)
    return 0;
  if (t_ns)
    *t_ns = AT (t, t->count - 1).t;
  if (bytes)
    *bytes = AT (t, t->count - 1).v;
  return 1;
}
