/* Unit tests of trend.c: slope accuracy, the whole-window rule (flat, step,
 * sawtooth, steady growth, growth that stops), and the fixed ring.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "trend.h"
#include "unit.h"

#define SEC INT64_C (1000000000)
#define MB (1024.0 * 1024.0)
/* 100 MB/hour in bytes per second */
#define THR (100.0 * MB / 3600.0)

static int
feed_and_check (MbTrend * t, int64_t from_s, int64_t to_s,
    double (*f) (double), int *ever)
{
  int64_t s;
  int last = 0;

  for (s = from_s; s <= to_s; s++) {
    mb_trend_add (t, s * SEC, (uint64_t) f ((double) s));
    last = mb_trend_leak_suspected (t, THR, NULL);
    if (last && ever)
      *ever = 1;
  }
  return last;
}

static double
flat (double s)
{
  return 500 * MB + ((int) s % 3) * 4096;       /* a little noise */
}

static double
leak (double s)
{
  return 500 * MB + s * (200.0 * MB / 3600.0);  /* 200 MB/hour */
}

static double
slow (double s)
{
  return 500 * MB + s * (50.0 * MB / 3600.0);   /* 50 MB/hour */
}

static double
step (double s)
{
  return s < 300 ? 500 * MB : 700 * MB; /* one cache fill at t = 300 s */
}

static double
sawtooth (double s)
{
  return 500 * MB + fmod (s, 100) * MB; /* pool fills and is trimmed */
}

static double
leak_then_stop (double s)
{
  return s < 600 ? leak (s) : leak (600);
}

static void
test_slope (void)
{
  MbTrend *t = mb_trend_new (64, 60 * SEC);
  int i, ok;

  CHECK (t != NULL);
  CHECK (mb_trend_new (4, SEC) == NULL);
  CHECK (mb_trend_new (64, 0) == NULL);
  CHECK (mb_trend_slope (t) == 0);
  for (i = 0; i <= 60; i++)
    mb_trend_add (t, i * SEC, 1000 + 250 * (uint64_t) i);
  CHECK (fabs (mb_trend_slope (t) - 250.0) < 1e-6);
  CHECK (mb_trend_full (t));
  CHECK (fabs (mb_trend_slope_range (t, 0, 10 * SEC, &ok) - 250.0) < 1e-6
      && ok);
  mb_trend_slope_range (t, 100 * SEC, 200 * SEC, &ok);
  CHECK (!ok);
  /* going backwards in time is ignored */
  CHECK (!mb_trend_add (t, 10 * SEC, 0));
  mb_trend_free (t);
}

static void
test_window_rules (void)
{
  MbTrend *t = mb_trend_new (256, 600 * SEC);
  int ever = 0;

  /* flat: never */
  CHECK (!feed_and_check (t, 0, 1800, flat, &ever));
  CHECK (!ever);

  /* steady 200 MB/h: only once the window is covered */
  mb_trend_reset (t, 600 * SEC);
  CHECK (!feed_and_check (t, 0, 590, leak, &ever));
  CHECK (!ever);
  CHECK (feed_and_check (t, 591, 700, leak, NULL));
  {
    double slope;
    CHECK (mb_trend_leak_suspected (t, THR, &slope));
    CHECK (fabs (slope * 3600.0 / MB - 200.0) < 1.0);
  }

  /* 50 MB/h is below the 100 MB/h threshold */
  mb_trend_reset (t, 600 * SEC);
  ever = 0;
  feed_and_check (t, 0, 1800, slow, &ever);
  CHECK (!ever);

  /* a single step raises the whole-window slope but not both halves */
  mb_trend_reset (t, 600 * SEC);
  ever = 0;
  feed_and_check (t, 0, 1800, step, &ever);
  CHECK (!ever);

  /* sawtooth: flat on average */
  mb_trend_reset (t, 600 * SEC);
  ever = 0;
  feed_and_check (t, 0, 1800, sawtooth, &ever);
  CHECK (!ever);

  /* a leak that stops clears after the window slides past it */
  mb_trend_reset (t, 600 * SEC);
  CHECK (feed_and_check (t, 0, 600, leak_then_stop, NULL));
  CHECK (!feed_and_check (t, 601, 1300, leak_then_stop, NULL));
  mb_trend_free (t);
}

static void
test_ring (void)
{
  MbTrend *t = mb_trend_new (16, 140 * SEC);
  int64_t s, first;
  int stored = 0;

  /* 1 s samples into a 16-slot ring over 140 s: 10 s spacing is kept */
  for (s = 0; s < 1000; s++)
    stored += mb_trend_add (t, s * SEC, (uint64_t) s);
  CHECK (mb_trend_count (t) <= 16);
  CHECK (stored < 120);
  CHECK (mb_trend_full (t));
  CHECK (mb_trend_span (t) >= 140 * SEC);
  CHECK (mb_trend_span (t) <= 160 * SEC);
  CHECK (mb_trend_first (t, &first, NULL));
  CHECK (first >= 999 * SEC - 160 * SEC);
  CHECK (fabs (mb_trend_slope (t) - 1.0) < 1e-9);
  mb_trend_free (t);
}

int
main (void)
{
  test_slope ();
  test_window_rules ();
  test_ring ();
  return unit_summary ();
}
