/* Unit tests of the timealign decision core (gst/timealign/align.c).
 *
 * Random streams (different rates, jitter, missing items, late starts,
 * early ends, duplicates) are fed in many interleavings; every tick is
 * compared with a brute-force oracle that scans each whole stream.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "align.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; \
  fprintf (stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
  fprintf (stderr, __VA_ARGS__); fprintf (stderr, "\n"); } } while (0)

#define MAXIN 5
#define MAXN 2600               /* items per stream (5 s at 500 Hz) */
#define N_SMALL 400             /* items of the 500 Hz stream in the window test */

typedef struct {
  int input, idx, refs;
} Obj;

typedef struct {
  int n;
  int64_t ts[MAXN];
  Obj obj[MAXN];
  MbAlignMode mode;
  MbAlignPolicy policy;
  int64_t tol;
} Stream;

static void *
ref_obj (void *d, void *u)
{
  (void) u;
  (void) u;
  ((Obj *) d)->refs++;
  return d;
}

static void
unref_obj (void *d, void *u)
{
  Obj *o = d;

  (void) u;
  if (o->refs <= 0) {
    failures++;
    fprintf (stderr, "unref of dead object %d/%d\n", o->input, o->idx);
  }
  o->refs--;
}

static uint32_t rng_state = 12345;
static uint32_t
rnd (void)
{
  rng_state = rng_state * 1103515245u + 12345u;
  return (rng_state >> 8) & 0xffffff;
}

static int64_t
rnd_range (int64_t lo, int64_t hi)
{
  return lo + (int64_t) (rnd () % (uint32_t) (hi - lo + 1));
}

/* ---- brute-force oracle --------------------------------------------- */

typedef struct {
  int64_t ts;
  int dropped;
  int kind[MAXIN];              /* MbAlignSlotKind */
  int idx[MAXIN], idx2[MAXIN];
  int repeated[MAXIN];
} ExpTick;

static int64_t
absd (int64_t v)
{
  return v < 0 ? -v : v;
}

/* returns 1 and item index/indices when something is found */
static int
oracle_select (const Stream * s, int64_t T, int *k, int *k2, int *interp)
{
  int i, best = -1, a = -1, b = -1;

  *interp = 0;
  for (i = 0; i < s->n; i++) {
    if (best < 0 || absd (s->ts[i] - T) <= absd (s->ts[best] - T))
      best = i;
    if (s->ts[i] <= T)
      a = i;
    if (s->ts[i] >= T && b < 0)
      b = i;
  }
  switch (s->mode) {
    case MB_ALIGN_MODE_PREVIOUS:
      if (a >= 0 && T - s->ts[a] <= s->tol) {
        *k = a;
        return 1;
      }
      return 0;
    case MB_ALIGN_MODE_LINEAR:
      if (a >= 0 && s->ts[a] == T) {
        *k = a;
        return 1;
      }
      if (a >= 0 && b >= 0 && T - s->ts[a] <= s->tol && s->ts[b] - T <= s->tol) {
        *k = a;
        *k2 = b;
        *interp = 1;
        return 1;
      }
      /* else nearest */
      /* fall through */
    default:
      if (best >= 0 && absd (s->ts[best] - T) <= s->tol) {
        *k = best;
        return 1;
      }
      return 0;
  }
}

static int
oracle (Stream * st, int n_in, int ref, int64_t num, int64_t den,
    ExpTick * out, int max_out)
{
  int64_t ticks[4 * MAXN];
  int n_ticks = 0, t, j, n_out = 0;
  int last[MAXIN];

  if (ref >= 0) {
    for (t = 0; t < st[ref].n; t++)
      ticks[n_ticks++] = st[ref].ts[t];
  } else {
    int64_t t0 = INT64_MIN, end = INT64_MIN;
    for (j = 0; j < n_in; j++) {
      if (st[j].n == 0)
        continue;
      if (st[j].ts[0] > t0)
        t0 = st[j].ts[0];
      if (st[j].ts[st[j].n - 1] > end)
        end = st[j].ts[st[j].n - 1];
    }
    for (t = 0; t0 != INT64_MIN && n_ticks < 4 * MAXN; t++) {
      int64_t T = t0 + (int64_t) t *den * 1000000000 / num;
      if (T > end)
        break;
      ticks[n_ticks++] = T;
    }
  }
  for (j = 0; j < n_in; j++)
    last[j] = -1;

  for (t = 0; t < n_ticks && n_out < max_out; t++) {
    ExpTick *e = &out[n_out++];
    int64_t T = ticks[t];
    int found[MAXIN], k[MAXIN], k2[MAXIN], interp[MAXIN];

    memset (e, 0, sizeof (*e));
    e->ts = T;
    for (j = 0; j < n_in; j++) {
      if (j == ref)
        continue;
      found[j] = oracle_select (&st[j], T, &k[j], &k2[j], &interp[j]);
      if (!found[j] && st[j].policy == MB_ALIGN_POLICY_DROP)
        e->dropped = 1;
    }
    if (e->dropped)
      continue;
    for (j = 0; j < n_in; j++) {
      if (j == ref) {
        e->kind[j] = MB_ALIGN_SLOT_ITEM;
        e->idx[j] = t;
        last[j] = t;
        continue;
      }
      if (found[j] && interp[j]) {
        int64_t da = T - st[j].ts[k[j]], db = st[j].ts[k2[j]] - T;
        e->kind[j] = MB_ALIGN_SLOT_INTERP;
        e->idx[j] = k[j];
        e->idx2[j] = k2[j];
        last[j] = db <= da ? k2[j] : k[j];
      } else if (found[j]) {
        e->kind[j] = MB_ALIGN_SLOT_ITEM;
        e->idx[j] = k[j];
        e->repeated[j] = last[j] == k[j];
        last[j] = k[j];
      } else if (st[j].policy == MB_ALIGN_POLICY_HOLD && last[j] >= 0) {
        e->kind[j] = MB_ALIGN_SLOT_ITEM;
        e->idx[j] = last[j];
        e->repeated[j] = 1;
      } else {
        e->kind[j] = MB_ALIGN_SLOT_GAP;
      }
    }
  }
  return n_out;
}

/* ---- running the core ------------------------------------------------ */

typedef struct {
  ExpTick got[4 * MAXN];
  int n_got;
  int max_window_seen;
} Run;

static void
collect (MbAlign * a, Run * run, int n_in, int force)
{
  MbAlignTick tick;
  int r, j;

  while ((r = mb_align_next (a, &tick, force)) == MB_ALIGN_NEXT_TICK) {
    ExpTick *e = &run->got[run->n_got++];
    memset (e, 0, sizeof (*e));
    e->ts = tick.ts;
    e->dropped = tick.dropped;
    for (j = 0; j < n_in; j++) {
      MbAlignSlot *s = &tick.slots[j];
      e->kind[j] = s->kind;
      if (s->data)
        e->idx[j] = ((Obj *) s->data)->idx;
      if (s->data2)
        e->idx2[j] = ((Obj *) s->data2)->idx;
      e->repeated[j] = s->repeated;
    }
    mb_align_tick_clear (a, &tick);
    if (force)
      break;
  }
}

static int
compare (const ExpTick * exp, int n_exp, const Run * run, int n_in,
    const char *what)
{
  int t, j, bad = 0;

  if (n_exp != run->n_got) {
    fprintf (stderr, "%s: %d ticks expected, got %d\n", what, n_exp, run->n_got);
    failures++;
    return 1;
  }
  for (t = 0; t < n_exp && !bad; t++) {
    const ExpTick *e = &exp[t], *g = &run->got[t];
    if (e->ts != g->ts || e->dropped != g->dropped) {
      fprintf (stderr, "%s: tick %d: ts %lld/%lld dropped %d/%d\n", what, t,
          (long long) e->ts, (long long) g->ts, e->dropped, g->dropped);
      bad = 1;
      break;
    }
    for (j = 0; j < n_in; j++) {
      if (e->kind[j] != g->kind[j] ||
          (e->kind[j] == MB_ALIGN_SLOT_ITEM && (e->idx[j] != g->idx[j]
                  || e->repeated[j] != g->repeated[j])) ||
          (e->kind[j] == MB_ALIGN_SLOT_INTERP && (e->idx[j] != g->idx[j]
                  || e->idx2[j] != g->idx2[j]))) {
        fprintf (stderr, "%s: tick %d (ts %lld) input %d: kind %d/%d idx %d/%d "
            "idx2 %d/%d rep %d/%d\n", what, t, (long long) e->ts, j,
            e->kind[j], g->kind[j], e->idx[j], g->idx[j], e->idx2[j],
            g->idx2[j], e->repeated[j], g->repeated[j]);
        bad = 1;
      }
    }
  }
  if (bad)
    failures++;
  return bad;
}

static void
make_stream (Stream * s, int j)
{
  int64_t period = rnd_range (1, 40) * 1000000;
  int64_t start = rnd_range (0, 200) * 1000000;        /* late start */
  int64_t jitter = rnd_range (0, period / 3);
  int n = (int) rnd_range (0, 120), i, m = 0;
  int miss_pct = (int) rnd_range (0, 30);
  int64_t prev = INT64_MIN;

  for (i = 0; i < n; i++) {
    int64_t ts = start + i * period + rnd_range (-jitter, jitter);
    if ((int) (rnd () % 100) < miss_pct)
      continue;                 /* missing frame */
    if (rnd () % 50 == 0 && prev != INT64_MIN)
      ts = prev;                /* duplicate timestamp */
    if (ts < prev)
      ts = prev;
    s->ts[m] = ts;
    s->obj[m].input = j;
    s->obj[m].idx = m;
    s->obj[m].refs = 1;
    prev = ts;
    m++;
  }
  s->n = m;
  s->mode = (MbAlignMode) (rnd () % 3);
  s->policy = (MbAlignPolicy) (rnd () % 3);
  s->tol = rnd_range (0, 30) * 1000000;
}

/* Feeds all streams; order 0 = global time order (one streaming thread),
 * 1 = random interleaving (independent threads). */
static void
feed (MbAlign * a, Stream * st, int n_in, int order, Run * run)
{
  int pos[MAXIN] = { 0 }, j, remaining = 0, eos_sent[MAXIN] = { 0 };

  for (j = 0; j < n_in; j++)
    remaining += st[j].n + 1;   /* +1 for the EOS */
  while (remaining > 0) {
    int pick = -1;
    if (order == 0) {
      for (j = 0; j < n_in; j++) {
        if (pos[j] < st[j].n && (pick < 0 || pos[pick] >= st[pick].n
                || st[j].ts[pos[j]] < st[pick].ts[pos[pick]]))
          pick = j;
      }
      if (pick < 0) {
        for (j = 0; j < n_in; j++)
          if (!eos_sent[j]) {
            pick = j;
            break;
          }
      }
    } else {
      do
        pick = (int) (rnd () % n_in);
      while (eos_sent[pick]);
    }
    if (pos[pick] < st[pick].n) {
      int r = mb_align_push (a, pick, st[pick].ts[pos[pick]],
          &st[pick].obj[pos[pick]]);
      CHECK (r == MB_ALIGN_OK, "push failed (window full?) input %d", pick);
      if (r != MB_ALIGN_OK)
        st[pick].obj[pos[pick]].refs--;
      pos[pick]++;
    } else {
      mb_align_set_eos (a, pick);
      eos_sent[pick] = 1;
    }
    remaining--;
    for (j = 0; j < n_in; j++)
      if ((int) mb_align_window_len (a, j) > run->max_window_seen)
        run->max_window_seen = (int) mb_align_window_len (a, j);
    collect (a, run, n_in, 0);
  }
}

static void
test_random (int iterations)
{
  static Stream st[MAXIN];
  static ExpTick exp[4 * MAXN];
  static Run run;
  int it;

  for (it = 0; it < iterations; it++) {
    int n_in = (int) rnd_range (1, MAXIN), j, order, n_exp, ref;
    int64_t num = 0, den = 1;
    char what[64];

    for (j = 0; j < n_in; j++)
      make_stream (&st[j], j);
    ref = (int) (rnd () % (n_in + 1)) - 1;
    if (ref < 0) {
      num = rnd_range (5, 100);
      den = rnd_range (1, 3);
    }
    n_exp = oracle (st, n_in, ref, num, den, exp, 4 * MAXN);

    for (order = 0; order < 3; order++) {
      MbAlign *a = mb_align_new (ref_obj, unref_obj, NULL);
      MbAlignTick tick;
      for (j = 0; j < n_in; j++) {
        int k;
        for (k = 0; k < st[j].n; k++)
          st[j].obj[k].refs = 1;
        CHECK (mb_align_add_input (a) == j, "input id");
        mb_align_set_input_mode (a, j, st[j].mode, st[j].policy, st[j].tol);
      }
      mb_align_set_reference (a, ref);
      mb_align_set_rate (a, num, den);
      mb_align_set_max_window (a, MAXN + 1);
      memset (&run, 0, sizeof (run));
      feed (a, st, n_in, order == 0 ? 0 : 1, &run);
      CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_DONE,
          "not done after EOS on every input (iteration %d)", it);
      snprintf (what, sizeof (what), "iteration %d order %d ref %d", it,
          order, ref);
      if (compare (exp, n_exp, &run, n_in, what) && getenv ("ALIGN_DEBUG")) {
        int k;
        for (j = 0; j < n_in; j++) {
          fprintf (stderr, "input %d mode %d policy %d tol %lld:", j,
              st[j].mode, st[j].policy, (long long) st[j].tol);
          for (k = 0; k < st[j].n; k++)
            fprintf (stderr, " %d:%lld", k, (long long) st[j].ts[k]);
          fprintf (stderr, "\n");
        }
      }
      mb_align_free (a);
      for (j = 0; j < n_in; j++) {
        int k;
        for (k = 0; k < st[j].n; k++)
          CHECK (st[j].obj[k].refs == 0, "%s: refcount of %d/%d is %d", what,
              j, k, st[j].obj[k].refs);
      }
    }
  }
}

/* In time order (one streaming thread), windows stay small on their own. */
static void
test_window_small_when_ordered (void)
{
  static Stream st[3];
  static Run run;
  int j, k;
  int64_t periods[3] = { 33333333, 10000000, 2000000 };
  MbAlign *a = mb_align_new (ref_obj, unref_obj, NULL);

  for (j = 0; j < 3; j++) {
    st[j].n = j == 2 ? N_SMALL : (int) (N_SMALL * periods[2] / periods[j]);
    for (k = 0; k < st[j].n; k++) {
      st[j].ts[k] = k * periods[j] + (k % 3) * 1000000;
      st[j].obj[k].input = j;
      st[j].obj[k].idx = k;
      st[j].obj[k].refs = 1;
    }
    mb_align_add_input (a);
    mb_align_set_input_mode (a, j, MB_ALIGN_MODE_NEAREST, MB_ALIGN_POLICY_DROP,
        20000000);
  }
  mb_align_set_reference (a, 0);
  memset (&run, 0, sizeof (run));
  feed (a, st, 3, 0, &run);
  /* 500 Hz input vs 30 Hz ticks: the next reference item is unknown until
   * it arrives, so a window holds the items since the last tick (~17) plus
   * the one before it and jitter; items that no later tick can select are
   * released on every push (19 measured; 25 before that) */
  CHECK (run.max_window_seen <= 20, "max window %d", run.max_window_seen);
  CHECK (mb_align_ticks_out (a) + mb_align_ticks_dropped (a) == (uint64_t) st[0].n,
      "ticks %llu", (unsigned long long) mb_align_ticks_out (a));
  mb_align_free (a);
}

/* A full window forces the oldest tick; with no tick pending the caller
 * drops the oldest item. Nothing leaks, the bound holds. */
static void
test_full_window (void)
{
  static Obj objs[200];
  MbAlign *a = mb_align_new (ref_obj, unref_obj, NULL);
  MbAlignTick tick;
  MbAlignInputStats st;
  int k, forced = 0;

  mb_align_add_input (a);
  mb_align_add_input (a);
  mb_align_set_reference (a, 0);
  mb_align_set_max_window (a, 4);
  mb_align_set_input_mode (a, 1, MB_ALIGN_MODE_NEAREST, MB_ALIGN_POLICY_GAP,
      1000);
  /* input 1 delivers 100 items before the reference says anything */
  for (k = 0; k < 100; k++) {
    objs[k].input = 1;
    objs[k].idx = k;
    objs[k].refs = 1;
    while (mb_align_push (a, 1, k * 1000, &objs[k]) == MB_ALIGN_FULL) {
      if (mb_align_next (a, &tick, 1) == MB_ALIGN_NEXT_TICK) {
        mb_align_tick_clear (a, &tick);
        forced++;
      } else {
        mb_align_drop_oldest (a, 1);
      }
    }
    CHECK (mb_align_window_len (a, 1) <= 4, "window %zu",
        mb_align_window_len (a, 1));
  }
  CHECK (forced == 0, "no tick can be forced without a reference item");
  mb_align_get_input_stats (a, 1, &st);
  CHECK (st.overflow == 96, "overflow %llu", (unsigned long long) st.overflow);
  /* now the reference: input 0 gets items while input 1 is silent */
  for (k = 100; k < 200; k++) {
    objs[k].input = 0;
    objs[k].idx = k;
    objs[k].refs = 1;
    while (mb_align_push (a, 0, 200000 + (k - 100) * 1000, &objs[k]) ==
        MB_ALIGN_FULL) {
      CHECK (mb_align_next (a, &tick, 1) == MB_ALIGN_NEXT_TICK, "force");
      CHECK (tick.forced && tick.slots[1].kind == MB_ALIGN_SLOT_GAP,
          "forced gap");
      mb_align_tick_clear (a, &tick);
      forced++;
    }
  }
  CHECK (forced == 96, "forced %d", forced);
  mb_align_free (a);
  for (k = 0; k < 200; k++)
    CHECK (objs[k].refs == 0, "refs of %d: %d", k, objs[k].refs);
}

/* Feeds in global time order (one streaming thread) like the element does:
 * a full window forces the oldest tick, or drops the oldest item when no
 * tick is pending. Decided ticks are collected as they come. */
static void
feed_forcing (MbAlign * a, Stream * st, int n_in, Run * run, int *n_forced)
{
  int pos[MAXIN] = { 0 }, j, pick;

  for (;;) {
    pick = -1;
    for (j = 0; j < n_in; j++)
      if (pos[j] < st[j].n && (pick < 0
              || st[j].ts[pos[j]] < st[pick].ts[pos[pick]]))
        pick = j;
    if (pick < 0)
      break;
    while (mb_align_push (a, pick, st[pick].ts[pos[pick]],
            &st[pick].obj[pos[pick]]) == MB_ALIGN_FULL) {
      int before = run->n_got;
      collect (a, run, n_in, 1);
      if (run->n_got > before)
        (*n_forced)++;
      else
        mb_align_drop_oldest (a, pick);
    }
    pos[pick]++;
    for (j = 0; j < n_in; j++)
      if ((int) mb_align_window_len (a, j) > run->max_window_seen)
        run->max_window_seen = (int) mb_align_window_len (a, j);
    collect (a, run, n_in, 0);
  }
  for (j = 0; j < n_in; j++) {
    mb_align_set_eos (a, j);
    collect (a, run, n_in, 0);
  }
}

/* Issue 5: `rate=5/1` with JointState-like inputs at 100 Hz and 500 Hz gave
 * 1 tick out and 15 dropped. The 500 Hz window (64 items = 128 ms) filled
 * long before the next 200 ms tick could be decided, and the full window
 * forced that tick before any input had reached it. Every tick must match
 * the brute-force oracle, none may be forced and nothing may overflow. */
static void
test_slow_ticks_fast_inputs (const char *what, int64_t rate_num, int ref,
    const int64_t * periods, int n_in, MbAlignMode mode, int max_window)
{
  static Stream st[MAXIN];
  static ExpTick exp[4 * MAXN];
  static Run run;
  MbAlign *a = mb_align_new (ref_obj, unref_obj, NULL);
  MbAlignTick tick;
  MbAlignInputStats ist;
  int j, k, n_exp, n_forced = 0;
  const int64_t span = 5000000000LL;    /* 5 s of data */

  for (j = 0; j < n_in; j++) {
    Stream *s = &st[j];
    s->n = (int) (span / periods[j]);
    if (s->n > MAXN)
      s->n = MAXN;
    for (k = 0; k < s->n; k++) {
      /* small deterministic jitter (< a tenth of the period), start offsets */
      s->ts[k] = 1000000000LL + j * 3000000 + k * periods[j] +
          ((k * 7 + j) % 5 - 2) * (periods[j] / 25 < 400000 ?
          periods[j] / 25 : 400000);
      s->obj[k].input = j;
      s->obj[k].idx = k;
      s->obj[k].refs = 1;
    }
    s->mode = mode;
    s->policy = MB_ALIGN_POLICY_DROP;
    s->tol = 20000000;
    CHECK (mb_align_add_input (a) == j, "%s: input id", what);
    mb_align_set_input_mode (a, j, s->mode, s->policy, s->tol);
  }
  mb_align_set_reference (a, ref);
  mb_align_set_rate (a, ref < 0 ? rate_num : 0, 1);
  mb_align_set_max_window (a, (size_t) max_window);
  n_exp = oracle (st, n_in, ref, rate_num, 1, exp, 4 * MAXN);

  memset (&run, 0, sizeof (run));
  feed_forcing (a, st, n_in, &run, &n_forced);
  CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_DONE, "%s: not done",
      what);
  compare (exp, n_exp, &run, n_in, what);
  CHECK (n_exp >= (ref < 0 ? 4 * rate_num : 24), "%s: only %d ticks expected",
      what, n_exp);
  for (k = 0; k < n_exp; k++)
    CHECK (!exp[k].dropped, "%s: the oracle drops tick %d", what, k);
  CHECK (mb_align_ticks_dropped (a) == 0, "%s: %llu ticks dropped", what,
      (unsigned long long) mb_align_ticks_dropped (a));
  CHECK (n_forced == 0, "%s: %d ticks forced by a full window", what,
      n_forced);
  CHECK (run.max_window_seen <= max_window, "%s: window %d", what,
      run.max_window_seen);
  /* With a reference, the next tick is unknown until its item arrives: a
   * window that spans less than the reference period fills in between and
   * drops its oldest items (counted as overflow), which a time-ordered feed
   * never needs again. At a fixed rate the next tick is known: no drop. */
  for (j = 0; j < n_in && ref < 0; j++) {
    mb_align_get_input_stats (a, j, &ist);
    CHECK (ist.overflow == 0, "%s: input %d overflow %llu", what, j,
        (unsigned long long) ist.overflow);
  }
  mb_align_free (a);
  for (j = 0; j < n_in; j++)
    for (k = 0; k < st[j].n; k++)
      CHECK (st[j].obj[k].refs == 0, "%s: refcount of %d/%d is %d", what, j,
          k, st[j].obj[k].refs);
}

static void
test_issue5 (void)
{
  const int64_t joints[2] = { 10000000, 2000000 };      /* 100 Hz, 500 Hz */
  const int64_t with_ref[3] = { 200000000, 10000000, 2000000 };

  test_slow_ticks_fast_inputs ("rate 5/1 nearest window 64", 5, -1, joints, 2,
      MB_ALIGN_MODE_NEAREST, 64);
  test_slow_ticks_fast_inputs ("rate 5/1 previous window 64", 5, -1, joints,
      2, MB_ALIGN_MODE_PREVIOUS, 64);
  test_slow_ticks_fast_inputs ("rate 5/1 linear window 64", 5, -1, joints, 2,
      MB_ALIGN_MODE_LINEAR, 64);
  test_slow_ticks_fast_inputs ("rate 5/1 nearest window 8", 5, -1, joints, 2,
      MB_ALIGN_MODE_NEAREST, 8);
  test_slow_ticks_fast_inputs ("rate 2/1 linear window 4", 2, -1, joints, 2,
      MB_ALIGN_MODE_LINEAR, 4);
  test_slow_ticks_fast_inputs ("rate 10/1 nearest window 64", 10, -1, joints,
      2, MB_ALIGN_MODE_NEAREST, 64);
  test_slow_ticks_fast_inputs ("5 Hz reference nearest window 64", 0, 0,
      with_ref, 3, MB_ALIGN_MODE_NEAREST, 64);
}

/* A core with two inputs; objects @o[0..n) live (one reference each, which
 * a push hands over to the core). */
static MbAlign *
new_two_inputs (Obj * o, int n)
{
  MbAlign *a = mb_align_new (ref_obj, unref_obj, NULL);
  int k;

  for (k = 0; k < n; k++) {
    o[k].idx = k;
    o[k].refs = 1;
  }
  mb_align_add_input (a);
  mb_align_add_input (a);
  return a;
}

/* Flushing the reference restarts the ticks; hold forgets its item. */
static void
test_flush (void)
{
  static Obj o[8];
  MbAlign *a = new_two_inputs (o, 8);
  MbAlignTick tick;
  int k;

  mb_align_set_input_mode (a, 1, MB_ALIGN_MODE_NEAREST, MB_ALIGN_POLICY_HOLD,
      5);
  mb_align_push (a, 1, 100, &o[0]);
  mb_align_push (a, 0, 100, &o[1]);
  mb_align_push (a, 1, 200, &o[2]);
  CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_TICK, "tick");
  CHECK (tick.slots[1].data == &o[0], "nearest");
  mb_align_tick_clear (a, &tick);
  mb_align_flush_input (a, 1);
  mb_align_flush_input (a, 0);
  CHECK (o[0].refs == 0 && o[2].refs == 0, "flush released");
  /* seek back: earlier times again, nothing held any more */
  mb_align_push (a, 0, 50, &o[3]);
  mb_align_push (a, 1, 500, &o[4]);
  CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_TICK, "tick after flush");
  CHECK (tick.slots[1].kind == MB_ALIGN_SLOT_GAP, "hold with nothing held -> gap");
  mb_align_tick_clear (a, &tick);
  mb_align_set_eos (a, 0);
  CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_DONE, "done");
  mb_align_free (a);
  for (k = 0; k < 5; k++)
    CHECK (o[k].refs == 0, "refs %d = %d", k, o[k].refs);
}

/* A core with two inputs ticking at a fixed 10 Hz; objects @o[0..n) live. */
static MbAlign *
new_two_inputs_10hz (Obj * o, int n)
{
  MbAlign *a = new_two_inputs (o, n);

  mb_align_set_reference (a, -1);
  mb_align_set_rate (a, 10, 1);
  return a;
}

/* Fixed rate, flush-seek reaching the inputs one after the other: input 0
 * flushes and gets data from the new position while input 1 still holds
 * data from before the seek. That stale data must not prune input 0's new
 * items (it would look like a later start); once input 1 flushes too, ticks
 * restart from the new position with input 0's first item. */
static void
test_rate_flush_one_input_first (void)
{
  static Obj o[40];
  MbAlign *a = new_two_inputs_10hz (o, 40);
  MbAlignTick tick;
  int k, n = 0;

  mb_align_set_max_window (a, 16);
  for (k = 0; k < 4; k++) {
    mb_align_push (a, 0, 1000000000LL + k * 1000000, &o[n++]);
    mb_align_push (a, 1, 1000000000LL + k * 1000000, &o[n++]);
  }
  mb_align_flush_input (a, 0);
  for (k = 0; k < 6; k++)
    mb_align_push (a, 0, k * 2000000, &o[n++]);
  CHECK (mb_align_window_len (a, 0) == 6, "new items pruned by stale data: "
      "window %zu", mb_align_window_len (a, 0));
  mb_align_flush_input (a, 1);
  mb_align_push (a, 1, 0, &o[n++]);
  mb_align_push (a, 1, 30000000, &o[n++]);
  CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_TICK && tick.ts == 0
      && tick.slots[0].data == &o[8] && tick.slots[1].data == &o[14],
      "first tick after the seek");
  mb_align_tick_clear (a, &tick);
  /* input 0's items before the next tick (100 ms) are gone: all but its
   * last by the time order, and the last (10 ms) as well, since 150 ms is
   * nearer to every tick from 100 ms on (nearest mode) */
  mb_align_push (a, 0, 150000000, &o[n++]);
  CHECK (mb_align_window_len (a, 0) == 1, "window after the tick %zu",
      mb_align_window_len (a, 0));
  mb_align_free (a);
  for (k = 0; k < n; k++)
    CHECK (o[k].refs == 0, "refs %d = %d", k, o[k].refs);
}

/* Nearest mode releases an item as soon as the next one is at least as
 * near to the next tick (ties go to the later item), so the tick just
 * decided holds the only reference to it (the element then hands the
 * buffer out without a copy). Previous and linear mode keep it: a later
 * tick may still select it or interpolate from it. */
static void
test_nearest_releases_early (void)
{
  /* second item of input 1, and whether the first survives the tick */
  static const struct
  {
    MbAlignMode mode;
    int64_t second;
    size_t window;
  } cases[] = {
    {MB_ALIGN_MODE_NEAREST, 12, 1},     /* 10-3 = 7 >= 12-10 = 2 */
    {MB_ALIGN_MODE_NEAREST, 17, 1},     /* tie: the later item wins */
    {MB_ALIGN_MODE_NEAREST, 18, 2},     /* 7 < 8: 3 may be nearest at 10 */
    {MB_ALIGN_MODE_PREVIOUS, 12, 2},
    {MB_ALIGN_MODE_LINEAR, 12, 2},
  };
  size_t c;

  for (c = 0; c < sizeof (cases) / sizeof (cases[0]); c++) {
    static Obj o[4];
    MbAlign *a = new_two_inputs (o, 4);
    MbAlignTick tick;
    int k;

    mb_align_set_reference (a, 0);
    mb_align_set_input_mode (a, 1, cases[c].mode, MB_ALIGN_POLICY_DROP, 5);
    /* reference at 4 and 10, input 1 at 3 and cases[c].second */
    mb_align_push (a, 0, 4, &o[0]);
    mb_align_push (a, 1, 3, &o[1]);
    mb_align_push (a, 0, 10, &o[2]);
    mb_align_push (a, 1, cases[c].second, &o[3]);
    CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_TICK && tick.ts == 4
        && tick.slots[1].data == &o[1], "case %zu: first tick", c);
    CHECK (mb_align_window_len (a, 1) == cases[c].window,
        "case %zu: window %zu, expected %zu", c, mb_align_window_len (a, 1),
        cases[c].window);
    CHECK (o[1].refs == (cases[c].window == 1 ? 1 : 2),
        "case %zu: refs on the selected item %d", c, o[1].refs);
    mb_align_tick_clear (a, &tick);
    mb_align_free (a);
    for (k = 0; k < 4; k++)
      CHECK (o[k].refs == 0, "case %zu: refs %d = %d", c, k, o[k].refs);
  }
}

/* Stats: max and mean |error| per input. */
static void
test_stats (void)
{
  static Obj o[8];
  MbAlign *a = mb_align_new (NULL, NULL, NULL);
  MbAlignTick tick;
  MbAlignInputStats st;

  mb_align_add_input (a);
  mb_align_add_input (a);
  mb_align_push (a, 0, 1000, &o[0]);
  mb_align_push (a, 0, 2000, &o[1]);
  mb_align_push (a, 0, 3000, &o[2]);
  mb_align_push (a, 1, 1010, &o[3]);
  mb_align_push (a, 1, 1970, &o[4]);
  mb_align_push (a, 1, 9000, &o[5]);
  mb_align_set_input_mode (a, 1, MB_ALIGN_MODE_NEAREST, MB_ALIGN_POLICY_DROP,
      100);
  while (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_TICK);
  CHECK (mb_align_ticks_out (a) == 2 && mb_align_ticks_dropped (a) == 1,
      "out %llu dropped %llu", (unsigned long long) mb_align_ticks_out (a),
      (unsigned long long) mb_align_ticks_dropped (a));
  mb_align_get_input_stats (a, 1, &st);
  CHECK (st.max_err == 30 && st.n_err == 2 && st.sum_err == 40.0
      && st.missed == 1, "max %lld n %llu sum %f", (long long) st.max_err,
      (unsigned long long) st.n_err, st.sum_err);
  mb_align_free (a);
}

/* Fixed rate with an input that never delivers (live, dead camera): the
 * first tick exists once forced (deadline), at the others' first time. */
static void
test_rate_dead_input (void)
{
  static Obj o[4];
  MbAlign *a = new_two_inputs_10hz (o, 4);
  MbAlignTick tick;
  int64_t ts = -1;
  int k;

  mb_align_set_input_mode (a, 1, MB_ALIGN_MODE_NEAREST, MB_ALIGN_POLICY_GAP,
      1000);
  mb_align_push (a, 0, 5000, &o[0]);
  mb_align_push (a, 0, 100005000, &o[1]);
  CHECK (mb_align_next (a, &tick, 0) == MB_ALIGN_NEXT_NONE, "waits for input 1");
  CHECK (mb_align_pending (a, &ts) && ts == 5000, "pending at %lld",
      (long long) ts);
  CHECK (mb_align_next (a, &tick, 1) == MB_ALIGN_NEXT_TICK && tick.ts == 5000
      && tick.slots[0].kind == MB_ALIGN_SLOT_ITEM
      && tick.slots[1].kind == MB_ALIGN_SLOT_GAP, "forced first tick");
  mb_align_tick_clear (a, &tick);
  mb_align_free (a);
  for (k = 0; k < 2; k++)
    CHECK (o[k].refs == 0, "refs %d = %d", k, o[k].refs);
}

int
main (int argc, char **argv)
{
  int iterations = argc > 1 ? atoi (argv[1]) : 400;

  test_stats ();
  test_nearest_releases_early ();
  test_rate_dead_input ();
  test_flush ();
  test_rate_flush_one_input_first ();
  test_full_window ();
  test_window_small_when_ordered ();
  test_issue5 ();
  test_random (iterations);
  if (failures) {
    printf ("FAIL: %d check(s) failed\n", failures);
    return 1;
  }
  printf ("ok: align core, %d random cases x 3 interleavings\n", iterations);
  return 0;
}
