/* GstHarness tests of timealign: synthetic streams (jitter, missing frames,
 * different rates, late start, an input ending early, flush mid-stream),
 * all fed from the test's one thread, each compared with a brute-force
 * expectation computed here over the whole streams.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <math.h>
#include <string.h>

#include <membound/membound.h>
#include <membound/timealign.h>
#include "common/mbcommon.h"

#define MAXIN 4
#define MAXN 2000
#define UNIX_BASE G_GUINT64_CONSTANT (1700000000000000000)
#define MS GST_MSECOND

typedef enum
{ NEAREST, PREVIOUS, LINEAR } Mode;
typedef enum
{ DROP, HOLD, GAP } Policy;

typedef struct
{
  gint n;
  GstClockTime ts[MAXN];
  Mode mode;
  Policy policy;
  GstClockTime tol;
} Stream;

/* ---- stream generation --------------------------------------------- */

static void
gen (Stream * s, GstClockTime start, GstClockTime period, GstClockTime dur,
    GstClockTime jitter, gint miss_every, GRand * r)
{
  GstClockTime t;
  gint i = 0;
  GstClockTime prev = 0;

  s->n = 0;
  for (t = start; t < start + dur && s->n < MAXN; t += period, i++) {
    GstClockTime ts = t;
    if (miss_every > 0 && i % miss_every == miss_every - 1)
      continue;                 /* missing frame */
    if (jitter)
      ts += g_rand_int_range (r, 0, (gint32) jitter);
    if (s->n > 0 && ts < prev)
      ts = prev;
    s->ts[s->n++] = ts;
    prev = ts;
  }
}

/* ---- brute force -------------------------------------------------- */

typedef struct
{
  GstClockTime ts;
  gboolean dropped;
  gint idx[MAXIN];              /* item index, -1 = gap */
  gboolean rep[MAXIN];
} Exp;

static GstClockTime
dist (GstClockTime a, GstClockTime b)
{
  return a > b ? a - b : b - a;
}

/* index chosen for tick T, -1 if nothing within tolerance (whole stream) */
static gint
choose (const Stream * s, GstClockTime T)
{
  gint i, best = -1, prev = -1;

  for (i = 0; i < s->n; i++) {
    if (best < 0 || dist (s->ts[i], T) <= dist (s->ts[best], T))
      best = i;
    if (s->ts[i] <= T)
      prev = i;
  }
  if (s->mode == PREVIOUS)
    return (prev >= 0 && T - s->ts[prev] <= s->tol) ? prev : -1;
  return (best >= 0 && dist (s->ts[best], T) <= s->tol) ? best : -1;
}

static gint
expect (const Stream * st, gint n_in, gint ref, gint rate_n, gint rate_d,
    Exp * out)
{
  GstClockTime ticks[MAXN];
  gint n_ticks = 0, t, j, n = 0, last[MAXIN];

  if (ref >= 0) {
    for (t = 0; t < st[ref].n; t++)
      ticks[n_ticks++] = st[ref].ts[t];
  } else {
    GstClockTime t0 = 0, end = 0;
    for (j = 0; j < n_in; j++) {
      t0 = MAX (t0, st[j].ts[0]);
      end = MAX (end, st[j].ts[st[j].n - 1]);
    }
    for (t = 0;; t++) {
      GstClockTime T = t0 + gst_util_uint64_scale (t, GST_SECOND * rate_d,
          rate_n);
      if (T > end || n_ticks == MAXN)
        break;
      ticks[n_ticks++] = T;
    }
  }
  for (j = 0; j < MAXIN; j++)
    last[j] = -1;
  for (t = 0; t < n_ticks; t++) {
    Exp *e = &out[n++];
    gint k[MAXIN];
    memset (e, 0, sizeof (*e));
    e->ts = ticks[t];
    for (j = 0; j < n_in; j++) {
      k[j] = j == ref ? t : choose (&st[j], ticks[t]);
      if (k[j] < 0 && st[j].policy == DROP)
        e->dropped = TRUE;
    }
    if (e->dropped)
      continue;
    for (j = 0; j < n_in; j++) {
      if (k[j] >= 0) {
        e->idx[j] = k[j];
        e->rep[j] = last[j] == k[j];
        last[j] = k[j];
      } else if (st[j].policy == HOLD && last[j] >= 0) {
        e->idx[j] = last[j];
        e->rep[j] = TRUE;
      } else {
        e->idx[j] = -1;
      }
    }
  }
  return n;
}

/* ---- harness plumbing ------------------------------------------------ */

typedef struct
{
  GstElement *el;
  GstHarness *h[MAXIN];
  gint n_in;
} Fixture;

static void
fixture_setup (Fixture * f, gint n_in, const gchar * props)
{
  gint j;

  f->n_in = n_in;
  f->el = gst_element_factory_make ("timealign", NULL);
  fail_unless (f->el != NULL);
  if (props) {
    gchar *desc = g_strdup_printf ("timealign %s", props);
    gst_object_unref (f->el);
    f->el = gst_parse_launch (desc, NULL);
    g_free (desc);
    fail_unless (f->el != NULL);
  }
  for (j = 0; j < n_in; j++) {
    gchar *sink = g_strdup_printf ("sink_%d", j);
    gchar *src = g_strdup_printf ("src_%d", j);
    f->h[j] = gst_harness_new_with_element (f->el, sink, src);
    g_free (sink);
    g_free (src);
  }
}

static void
fixture_start (Fixture * f, const gchar * caps)
{
  gint j;

  for (j = 0; j < f->n_in; j++)
    gst_harness_set_src_caps_str (f->h[j], caps);
  fail_unless (gst_element_set_state (f->el, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
}

static void
fixture_teardown (Fixture * f)
{
  gint j;

  for (j = 0; j < f->n_in; j++)
    gst_harness_teardown (f->h[j]);
  gst_object_unref (f->el);
}

static void
set_pad (Fixture * f, gint j, const Stream * s)
{
  gchar *name = g_strdup_printf ("sink_%d", j);
  GstPad *pad = gst_element_get_static_pad (f->el, name);
  const gchar *modes[] = { "nearest", "previous", "linear" };
  const gchar *pols[] = { "drop", "hold", "gap" };

  fail_unless (pad != NULL);
  gst_util_set_object_arg (G_OBJECT (pad), "mode", modes[s->mode]);
  gst_util_set_object_arg (G_OBJECT (pad), "policy", pols[s->policy]);
  g_object_set (pad, "tolerance", (gint64) s->tol, NULL);
  gst_object_unref (pad);
  g_free (name);
}

static GstBuffer *
make_buffer (gint j, gint idx, GstClockTime ts)
{
  guint32 id = (guint32) (j << 24 | idx);
  GstBuffer *b = gst_buffer_new_memdup (&id, sizeof (id));
  GST_BUFFER_PTS (b) = ts;
  mb_buffer_add_unix_time (b, UNIX_BASE + ts);
  return b;
}

/* Pushes every stream in global time order from this one thread, as
 * rosbagsrc does; stops each stream after @upto items (-1 = all). */
static void
push_ordered (Fixture * f, Stream * st, gint * pos, gint upto)
{
  for (;;) {
    gint j, pick = -1;
    for (j = 0; j < f->n_in; j++) {
      gint lim = upto < 0 ? st[j].n : MIN (upto, st[j].n);
      if (pos[j] < lim && (pick < 0 || st[j].ts[pos[j]] <
              st[pick].ts[pos[pick]]))
        pick = j;
    }
    if (pick < 0)
      return;
    fail_unless_equals_int (gst_harness_push (f->h[pick],
            make_buffer (pick, pos[pick], st[pick].ts[pos[pick]])),
        GST_FLOW_OK);
    pos[pick]++;
  }
}

/* Outputs leave from the element's output task: wait until it pushed
 * everything decided so far (a serialized query waits for that). */
static void
sync_outputs (Fixture * f)
{
  GstQuery *q = gst_query_new_drain ();
  gst_pad_peer_query (f->h[0]->srcpad, q);
  gst_query_unref (q);
}

/* ... and after EOS on the inputs: until EOS arrived on @h (the last thing
 * the task sends on each output), at most 10 s */
static void
wait_eos (GstHarness * h)
{
  gint i;
  GstEvent *ev = NULL;

  for (i = 0; i < 10000 && ev == NULL; i++) {
    ev = gst_pad_get_sticky_event (h->sinkpad, GST_EVENT_EOS, 0);
    if (ev == NULL)
      g_usleep (1000);
  }
  fail_unless (ev != NULL, "no EOS on the output");
  gst_event_unref (ev);
}

static void
push_eos_all (Fixture * f)
{
  gint j;
  for (j = 0; j < f->n_in; j++)
    fail_unless (gst_harness_push_event (f->h[j], gst_event_new_eos ()));
  for (j = 0; j < f->n_in; j++)
    wait_eos (f->h[j]);
}

typedef struct
{
  GstClockTime pts;
  gint idx;
  guint64 src_time, tick_unix;
  gboolean rep;
} Got;

static gint
pull_all (GstHarness * h, Got * got, gint max)
{
  gint n = 0;
  GstBuffer *b;

  while ((b = gst_harness_try_pull (h)) != NULL) {
    guint32 id = 0;
    fail_unless (n < max);
    gst_buffer_extract (b, 0, &id, 4);
    got[n].pts = GST_BUFFER_PTS (b);
    got[n].idx = (gint) (id & 0xffffff);
    got[n].rep = GST_BUFFER_FLAG_IS_SET (b, MB_BUFFER_FLAG_REPEATED);
    fail_unless (mb_buffer_get_source_time (b, &got[n].src_time));
    fail_unless (mb_buffer_get_unix_time (b, &got[n].tick_unix));
    gst_buffer_unref (b);
    n++;
  }
  return n;
}

/* GAP events received, in order; other events skipped */
static gint
pull_gaps (GstHarness * h, GstClockTime * gaps, gint max)
{
  GstEvent *ev;
  gint n = 0;

  while ((ev = gst_harness_try_pull_event (h)) != NULL) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP) {
      GstClockTime ts, dur;
      gst_event_parse_gap (ev, &ts, &dur);
      fail_unless (n < max);
      gaps[n++] = ts;
    }
    gst_event_unref (ev);
  }
  return n;
}

static Got got[MAXIN][MAXN];
static Exp exp_ticks[MAXN];
static GstClockTime gaps[MAXIN][MAXN];

/* Compares what each output received with the brute force, from expected
 * tick @from on. */
static void
check_outputs (Fixture * f, Stream * st, gint ref, Exp * e, gint n_exp,
    gint from)
{
  gint j, t;

  for (j = 0; j < f->n_in; j++) {
    gint n_got = pull_all (f->h[j], got[j], MAXN);
    gint n_gap = pull_gaps (f->h[j], gaps[j], MAXN);
    gint gi = 0, ggap = 0;

    for (t = from; t < n_exp; t++) {
      if (e[t].dropped)
        continue;
      if (e[t].idx[j] < 0) {
        fail_unless (ggap < n_gap, "input %d: missing GAP at tick %d (%"
            GST_TIME_FORMAT ")", j, t, GST_TIME_ARGS (e[t].ts));
        fail_unless_equals_uint64 (gaps[j][ggap], e[t].ts);
        ggap++;
        continue;
      }
      fail_unless (gi < n_got, "input %d: only %d buffers, tick %d (%"
          GST_TIME_FORMAT ") expected idx %d", j, n_got, t,
          GST_TIME_ARGS (e[t].ts), e[t].idx[j]);
      fail_unless_equals_uint64 (got[j][gi].pts, e[t].ts);
      fail_unless (got[j][gi].idx == e[t].idx[j],
          "input %d tick %d (%" GST_TIME_FORMAT "): got item %d, expected %d",
          j, t, GST_TIME_ARGS (e[t].ts), got[j][gi].idx, e[t].idx[j]);
      fail_unless_equals_int (got[j][gi].rep, e[t].rep[j]);
      fail_unless_equals_uint64 (got[j][gi].src_time,
          UNIX_BASE + st[j].ts[e[t].idx[j]]);
      /* tick's absolute time: the reference buffer's, or derived */
      fail_unless_equals_uint64 (got[j][gi].tick_unix, UNIX_BASE + e[t].ts);
      gi++;
    }
    fail_unless_equals_int (n_got, gi);
    fail_unless_equals_int (n_gap, ggap);
  }
}

static void
run_case (Stream * st, gint n_in, gint ref, gint rate_n, gint rate_d,
    const gchar * props)
{
  Fixture f;
  gint pos[MAXIN] = { 0 }, j, n_exp, n_out = 0, n_drop = 0;
  guint64 ticks_out, ticks_dropped;

  n_exp = expect (st, n_in, ref, rate_n, rate_d, exp_ticks);
  fixture_setup (&f, n_in, props);
  for (j = 0; j < n_in; j++)
    set_pad (&f, j, &st[j]);
  fixture_start (&f, "application/x-test");
  push_ordered (&f, st, pos, -1);
  push_eos_all (&f);
  check_outputs (&f, st, ref, exp_ticks, n_exp, 0);
  for (j = 0; j < n_exp; j++) {
    if (exp_ticks[j].dropped)
      n_drop++;
    else
      n_out++;
  }
  g_object_get (f.el, "ticks-out", &ticks_out, "ticks-dropped",
      &ticks_dropped, NULL);
  fail_unless_equals_uint64 (ticks_out, n_out);
  fail_unless_equals_uint64 (ticks_dropped, n_drop);
  for (j = 0; j < n_in; j++) {
    GstEvent *ev = gst_harness_try_pull_event (f.h[j]);
    gst_clear_event (&ev);
  }
  fixture_teardown (&f);
}

static Stream st[MAXIN];

/* 30 Hz jittered reference, 100 Hz with missing frames (nearest, drop),
 * 500 Hz (previous, hold) */
GST_START_TEST (test_jitter_rates_missing)
{
  GRand *r = g_rand_new_with_seed (1);

  gen (&st[0], 0, 33333333, 3 * GST_SECOND, 4 * MS, 0, r);
  gen (&st[1], 2 * MS, 10 * MS, 3 * GST_SECOND, 3 * MS, 7, r);
  gen (&st[2], 1 * MS, 2 * MS, 3 * GST_SECOND, 500 * GST_USECOND, 0, r);
  st[1].mode = NEAREST;
  st[1].policy = DROP;
  st[1].tol = 4 * MS;
  st[2].mode = PREVIOUS;
  st[2].policy = HOLD;
  st[2].tol = 1 * MS;
  run_case (st, 3, 0, 0, 1, NULL);
  g_rand_free (r);
}

GST_END_TEST;

/* input 1 starts 0.5 s late (gap policy), input 2 ends after 1 s of 3
 * (hold), input 3 ends after 2 s (drop) */
GST_START_TEST (test_late_start_early_end)
{
  GRand *r = g_rand_new_with_seed (2);

  gen (&st[0], 0, 40 * MS, 3 * GST_SECOND, 2 * MS, 0, r);
  gen (&st[1], 500 * MS, 20 * MS, 2500 * MS, 2 * MS, 0, r);
  gen (&st[2], 0, 25 * MS, 1 * GST_SECOND, 1 * MS, 0, r);
  gen (&st[3], 0, 10 * MS, 2 * GST_SECOND, 1 * MS, 5, r);
  st[1].mode = NEAREST;
  st[1].policy = GAP;
  st[1].tol = 15 * MS;
  st[2].mode = NEAREST;
  st[2].policy = HOLD;
  st[2].tol = 15 * MS;
  st[3].mode = NEAREST;
  st[3].policy = DROP;
  st[3].tol = 6 * MS;
  run_case (st, 4, 0, 0, 1, NULL);
  g_rand_free (r);
}

GST_END_TEST;

/* the reference is the second pad, picked by name */
GST_START_TEST (test_reference_by_name)
{
  GRand *r = g_rand_new_with_seed (3);

  gen (&st[0], 0, 7 * MS, 2 * GST_SECOND, 3 * MS, 4, r);
  gen (&st[1], 3 * MS, 50 * MS, 2 * GST_SECOND, 5 * MS, 0, r);
  st[0].mode = PREVIOUS;
  st[0].policy = GAP;
  st[0].tol = 10 * MS;
  run_case (st, 2, 1, 0, 1, "reference=sink_1");
  g_rand_free (r);
}

GST_END_TEST;

/* fixed 25/1 rate, starting when every input has data */
GST_START_TEST (test_fixed_rate)
{
  GRand *r = g_rand_new_with_seed (4);

  gen (&st[0], 100 * MS, 33 * MS, 2 * GST_SECOND, 3 * MS, 0, r);
  gen (&st[1], 0, 10 * MS, 2 * GST_SECOND, 3 * MS, 9, r);
  gen (&st[2], 250 * MS, 5 * MS, 1500 * MS, 1 * MS, 0, r);
  st[0].mode = NEAREST;
  st[0].policy = HOLD;
  st[0].tol = 17 * MS;
  st[1].mode = PREVIOUS;
  st[1].policy = DROP;
  st[1].tol = 10 * MS;
  st[2].mode = NEAREST;
  st[2].policy = GAP;
  st[2].tol = 3 * MS;
  run_case (st, 3, -1, 25, 1, "rate=25/1");
  g_rand_free (r);
}

GST_END_TEST;

/* Tiny window, one thread, an input that stays silent for a long time:
 * no deadlock, the window bound holds (forced ticks). */
GST_START_TEST (test_one_thread_small_window)
{
  Fixture f;
  gint i, n_out = 0;
  GstBuffer *b;
  GstPad *pad;
  guint64 missed;

  fixture_setup (&f, 3, "max-window=4");
  pad = gst_element_get_static_pad (f.el, "sink_1");
  gst_util_set_object_arg (G_OBJECT (pad), "policy", "gap");
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (f.el, "sink_2");
  gst_util_set_object_arg (G_OBJECT (pad), "policy", "hold");
  fixture_start (&f, "application/x-test");
  /* sink_1 sends one buffer at 0 then nothing until 10 s; sink_2 one at 0 */
  gst_harness_push (f.h[1], make_buffer (1, 0, 0));
  gst_harness_push (f.h[2], make_buffer (2, 0, 0));
  for (i = 0; i < 300; i++)
    fail_unless_equals_int (gst_harness_push (f.h[0],
            make_buffer (0, i, i * 10 * MS)), GST_FLOW_OK);
  /* ticks were forced while sink_1 said nothing: 300 - 4 decided */
  sync_outputs (&f);
  while ((b = gst_harness_try_pull (f.h[0])) != NULL) {
    n_out++;
    gst_buffer_unref (b);
  }
  fail_unless (n_out >= 295, "only %d ticks out", n_out);
  /* sink_2 holds its only buffer: every later tick repeats it */
  g_object_get (pad, "repeated", &missed, NULL);
  fail_unless (missed >= 290, "repeated %" G_GUINT64_FORMAT, missed);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (f.el, "sink_0");
  g_object_get (pad, "overflow", &missed, NULL);
  fail_unless_equals_uint64 (missed, 0);
  gst_object_unref (pad);
  push_eos_all (&f);
  fixture_teardown (&f);
}

GST_END_TEST;

/* Flush mid-stream (as after a flushing seek upstream): outputs before the
 * flush are a prefix of the brute force over the first streams, outputs
 * after it equal the brute force over the new streams. A seek on a src pad
 * goes upstream on every sink pad. */
GST_START_TEST (test_flush_seek)
{
  Fixture f;
  GRand *r = g_rand_new_with_seed (5);
  gint pos[MAXIN] = { 0 }, j, t, n_exp;
  static Stream st2[MAXIN];
  GstEvent *seek;
  GstSegment seg;

  gen (&st[0], 0, 33 * MS, 2 * GST_SECOND, 3 * MS, 0, r);
  gen (&st[1], 0, 10 * MS, 2 * GST_SECOND, 2 * MS, 6, r);
  st[1].mode = NEAREST;
  st[1].policy = GAP;
  st[1].tol = 5 * MS;
  st2[0] = st[0];
  st2[1] = st[1];
  gen (&st2[0], 0, 40 * MS, 1 * GST_SECOND, 3 * MS, 0, r);
  gen (&st2[1], 5 * MS, 10 * MS, 1 * GST_SECOND, 2 * MS, 4, r);

  fixture_setup (&f, 2, NULL);
  set_pad (&f, 1, &st[1]);
  fixture_start (&f, "application/x-test");
  push_ordered (&f, st, pos, 30);
  sync_outputs (&f);

  /* what came out so far is a prefix of the expectation */
  n_exp = expect (st, 2, 0, 0, 1, exp_ticks);
  for (j = 0; j < 2; j++) {
    gint n = pull_all (f.h[j], got[j], MAXN), gi = 0;
    gint ng = pull_gaps (f.h[j], gaps[j], MAXN), gg = 0;
    for (t = 0; t < n_exp && (gi < n || gg < ng); t++) {
      if (exp_ticks[t].idx[j] < 0) {
        fail_unless (gg < ng);
        fail_unless_equals_uint64 (gaps[j][gg], exp_ticks[t].ts);
        gg++;
      } else {
        fail_unless (gi < n);
        fail_unless_equals_int (got[j][gi].idx, exp_ticks[t].idx[j]);
        gi++;
      }
    }
    fail_unless (n > 0);
  }

  /* a seek on src_0 reaches every upstream */
  seek = gst_event_new_seek (1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
      GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1);
  fail_unless (gst_harness_push_upstream_event (f.h[0], seek));
  for (j = 0; j < 2; j++) {
    GstEvent *ev;
    gboolean seen = FALSE;
    while ((ev = gst_harness_try_pull_upstream_event (f.h[j])) != NULL) {
      if (GST_EVENT_TYPE (ev) == GST_EVENT_SEEK)
        seen = TRUE;
      gst_event_unref (ev);
    }
    fail_unless (seen, "seek did not reach input %d", j);
  }
  /* upstream reacts: flush + new segment on every input */
  gst_segment_init (&seg, GST_FORMAT_TIME);
  for (j = 0; j < 2; j++) {
    fail_unless (gst_harness_push_event (f.h[j], gst_event_new_flush_start ()));
    fail_unless (gst_harness_push_event (f.h[j],
            gst_event_new_flush_stop (TRUE)));
    fail_unless (gst_harness_push_event (f.h[j],
            gst_event_new_segment (&seg)));
    pos[j] = 0;
  }
  /* drop everything received up to here (flush events etc.) */
  for (j = 0; j < 2; j++) {
    pull_all (f.h[j], got[j], MAXN);
    pull_gaps (f.h[j], gaps[j], MAXN);
  }
  push_ordered (&f, st2, pos, -1);
  push_eos_all (&f);
  n_exp = expect (st2, 2, 0, 0, 1, exp_ticks);
  check_outputs (&f, st2, 0, exp_ticks, n_exp, 0);
  fixture_teardown (&f);
  g_rand_free (r);
}

GST_END_TEST;

/* The reference chosen by ROS topic from the stream tags. */
GST_START_TEST (test_reference_by_topic)
{
  Fixture f;
  GstTagList *tags;
  GstBuffer *b;
  guint32 id;

  mb_tags_init ();
  fixture_setup (&f, 2, "reference=/camera/image_raw");
  fixture_start (&f, "application/x-test");
  tags = gst_tag_list_new (MB_TAG_ROS_TOPIC, "/camera/image_raw", NULL);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
  gst_harness_push_event (f.h[1], gst_event_new_tag (tags));
  gst_harness_push (f.h[0], make_buffer (0, 0, 0));
  gst_harness_push (f.h[0], make_buffer (0, 1, 10 * MS));
  gst_harness_push (f.h[0], make_buffer (0, 2, 20 * MS));
  gst_harness_push (f.h[1], make_buffer (1, 0, 12 * MS));
  push_eos_all (&f);
  /* one tick, at the camera's time; sink_0's buffer nearest 12 ms = 10 ms */
  b = gst_harness_pull (f.h[0]);
  gst_buffer_extract (b, 0, &id, 4);
  fail_unless_equals_int (id & 0xffffff, 1);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 12 * MS);
  gst_buffer_unref (b);
  fail_unless (gst_harness_try_pull (f.h[0]) == NULL);
  fixture_teardown (&f);
}

GST_END_TEST;

/* EOS: one stats message, EOS on every output. */
GST_START_TEST (test_eos_message)
{
  Fixture f;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const GstStructure *s;
  const GValue *inputs;
  guint64 v;
  gint j;

  fixture_setup (&f, 2, NULL);
  gst_element_set_bus (f.el, bus);
  fixture_start (&f, "application/x-test");
  gst_harness_push (f.h[0], make_buffer (0, 0, 0));
  gst_harness_push (f.h[1], make_buffer (1, 0, 5 * MS));
  gst_harness_push (f.h[0], make_buffer (0, 1, 100 * MS));
  push_eos_all (&f);
  /* the dropped tick (sink_1 has nothing near 100 ms) was reported */
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_QOS);
  fail_unless (msg != NULL);
  {
    GstFormat fmt;
    guint64 processed, dropped;
    gst_message_parse_qos_stats (msg, &fmt, &processed, &dropped);
    fail_unless_equals_int (fmt, GST_FORMAT_BUFFERS);
    fail_unless_equals_uint64 (dropped, 1);
  }
  gst_message_unref (msg);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_name (s, MB_TIMEALIGN_STATS_MESSAGE));
  fail_unless (gst_structure_get_uint64 (s, MB_TIMEALIGN_FIELD_TICKS_OUT, &v));
  fail_unless_equals_uint64 (v, 1);
  fail_unless (gst_structure_get_uint64 (s, MB_TIMEALIGN_FIELD_TICKS_DROPPED,
          &v));
  fail_unless_equals_uint64 (v, 1);
  inputs = gst_structure_get_value (s, MB_TIMEALIGN_FIELD_INPUTS);
  fail_unless_equals_int (gst_value_array_get_size (inputs), 2);
  s = gst_value_get_structure (gst_value_array_get_value (inputs, 1));
  fail_unless (gst_structure_get_uint64 (s, "max-error", &v));
  fail_unless_equals_uint64 (v, 5 * MS);
  gst_message_unref (msg);
  for (j = 0; j < 2; j++) {
    GstEvent *ev;
    gboolean eos = FALSE;
    while ((ev = gst_harness_try_pull_event (f.h[j])) != NULL) {
      eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
      gst_event_unref (ev);
    }
    fail_unless (eos, "no EOS on src_%d", j);
  }
  gst_element_set_bus (f.el, NULL);
  gst_object_unref (bus);
  fixture_teardown (&f);
}

GST_END_TEST;

/* gst-launch syntax for pad properties (GstChildProxy), set once the
 * request pad exists. */
GST_START_TEST (test_pad_props_from_launch)
{
  Fixture f;
  GstPad *pad;
  gint policy, mode;
  gint64 tol;

  fixture_setup (&f, 2, "sink_1::policy=hold sink_1::mode=previous "
      "sink_1::tolerance=5000000");
  pad = gst_element_get_static_pad (f.el, "sink_1");
  g_object_get (pad, "policy", &policy, "mode", &mode, "tolerance", &tol,
      NULL);
  fail_unless_equals_int (policy, 1);
  fail_unless_equals_int (mode, 1);
  fail_unless_equals_int64 (tol, 5 * MS);
  gst_object_unref (pad);
  fixture_teardown (&f);
}

GST_END_TEST;

/* A buffer without timestamp is an error naming the pad. */
GST_START_TEST (test_no_timestamp)
{
  Fixture f;
  GstBuffer *b;

  fixture_setup (&f, 1, NULL);
  fixture_start (&f, "application/x-test");
  b = gst_buffer_new_allocate (NULL, 4, NULL);
  fail_unless_equals_int (gst_harness_push (f.h[0], b), GST_FLOW_ERROR);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ---- linear ------------------------------------------------------------ */

static const gchar *js_def =
    "Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n"
    "float64[] effort\n"
    "================================================================================\n"
    "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n";

static void
put_u32 (GByteArray * a, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (a, (guint8 *) & v, 4);
}

static void
put_str (GByteArray * a, const gchar * s)
{
  put_u32 (a, strlen (s));
  g_byte_array_append (a, (const guint8 *) s, strlen (s));
}

static void
put_f64s (GByteArray * a, const gdouble * v, gint n)
{
  gint i;
  put_u32 (a, n);
  for (i = 0; i < n; i++)
    g_byte_array_append (a, (const guint8 *) &v[i], 8);
}

/* JointState with 3 joints; effort has @n_effort values */
static GstBuffer *
joint_state (guint32 seq, GstClockTime ts, gdouble base, gint n_effort)
{
  GByteArray *a = g_byte_array_new ();
  gdouble pos[3], vel[3], eff[3];
  gint i;
  GstBuffer *b;

  for (i = 0; i < 3; i++) {
    pos[i] = base + i;
    vel[i] = -base * (i + 1);
    eff[i] = base * 10;
  }
  put_u32 (a, seq);
  put_u32 (a, (guint32) (ts / GST_SECOND));
  put_u32 (a, (guint32) (ts % GST_SECOND));
  put_str (a, seq % 2 ? "odd" : "even_frame");
  put_u32 (a, 3);
  put_str (a, "j1");
  put_str (a, "j2");
  put_str (a, "j3");
  put_f64s (a, pos, 3);
  put_f64s (a, vel, 3);
  put_f64s (a, eff, n_effort);
  b = gst_buffer_new_wrapped (a->data, a->len);
  g_byte_array_free (a, FALSE);
  GST_BUFFER_PTS (b) = ts;
  return b;
}

/* offsets in joint_state() output */
static gdouble
read_f64 (GstBuffer * b, gsize off)
{
  gdouble v;
  gst_buffer_extract (b, off, &v, 8);
  return v;
}

GST_START_TEST (test_linear_joint_state)
{
  Fixture f;
  GstCaps *caps;
  GstPad *pad;
  gint i;
  GstBuffer *b;
  const gdouble base[4] = { 1.0, 2.0, 4.0, 8.0 };

  fixture_setup (&f, 2, NULL);
  pad = gst_element_get_static_pad (f.el, "sink_1");
  gst_util_set_object_arg (G_OBJECT (pad), "mode", "linear");
  g_object_set (pad, "tolerance", (gint64) (20 * MS), NULL);
  gst_object_unref (pad);
  gst_harness_set_src_caps_str (f.h[0], "application/x-test");
  caps = gst_caps_new_simple (MB_ROS1_MESSAGE_CAPS, "type", G_TYPE_STRING,
      "sensor_msgs/JointState", "md5sum", G_TYPE_STRING,
      "3066dcd76a6cfaef579bd0f34173e9fd", "message-definition", G_TYPE_STRING,
      js_def, NULL);
  gst_harness_set_src_caps (f.h[1], caps);
  fail_unless (gst_element_set_state (f.el, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  /* joint states at 0, 10, 20, 30 ms (the 30 ms one has 2 efforts) */
  for (i = 0; i < 4; i++)
    gst_harness_push (f.h[1], joint_state (i, i * 10 * MS, base[i],
            i == 3 ? 2 : 3));
  /* ticks at 2.5 ms (f=.25 between 0 and 1), 17 ms (f=.7 between 1 and 2),
   * 20 ms (exact), 26 ms (f=.6, effort lengths differ) */
  gst_harness_push (f.h[0], make_buffer (0, 0, 2500 * GST_USECOND));
  gst_harness_push (f.h[0], make_buffer (0, 1, 17 * MS));
  gst_harness_push (f.h[0], make_buffer (0, 2, 20 * MS));
  gst_harness_push (f.h[0], make_buffer (0, 3, 26 * MS));
  push_eos_all (&f);

  {
    /* header 4+8+(4+len) ; names 4 + 3*(4+2) = 22 */
    const gdouble fr[4] = { 0.25, 0.7, 0.0, 0.6 };
    const gint lo[4] = { 0, 1, 2, 2 };
    for (i = 0; i < 4; i++) {
      gint near = fr[i] < 0.5 ? lo[i] : lo[i] + 1;
      gsize hdr = 12 + 4 + (near % 2 ? 3 : 10);
      gsize pos_off = hdr + 22 + 4, vel_off = pos_off + 24 + 4;
      gsize eff_off = vel_off + 24 + 4;
      gdouble a = base[lo[i]], bb = base[lo[i] + 1 > 3 ? 3 : lo[i] + 1];
      gdouble want_pos = (a + fr[i] * (bb - a));
      guint32 seq;
      guint64 src;

      b = gst_harness_pull (f.h[1]);
      gst_buffer_extract (b, 0, &seq, 4);
      fail_unless_equals_int (seq, near);
      fail_unless (fabs (read_f64 (b, pos_off) - want_pos) < 1e-12,
          "tick %d: position %f, want %f", i, read_f64 (b, pos_off), want_pos);
      fail_unless (fabs (read_f64 (b, pos_off + 16) - (want_pos + 2)) < 1e-12);
      fail_unless (fabs (read_f64 (b, vel_off + 8) - (-2 * want_pos)) < 1e-12);
      if (i == 3) {
        /* effort arrays of different length: the nearer one's (2 values) */
        fail_unless_equals_int (gst_buffer_get_size (b), eff_off + 16);
        fail_unless (read_f64 (b, eff_off) == base[3] * 10);
      } else {
        fail_unless (fabs (read_f64 (b, eff_off) - 10 * want_pos) < 1e-9);
      }
      fail_unless (mb_buffer_get_source_time (b, &src));
      gst_buffer_unref (b);
    }
  }
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_linear_audio)
{
  Fixture f;
  GstPad *pad;
  GstBuffer *b;
  gint16 x[4] = { 0, 100, -100, 32767 }, y[4] = { 100, 300, 100, 32767 };
  gint16 out[4];

  fixture_setup (&f, 2, NULL);
  pad = gst_element_get_static_pad (f.el, "sink_1");
  gst_util_set_object_arg (G_OBJECT (pad), "mode", "linear");
  gst_object_unref (pad);
  gst_harness_set_src_caps_str (f.h[0], "application/x-test");
  gst_harness_set_src_caps_str (f.h[1],
      "audio/x-raw,format=S16LE,layout=interleaved,rate=8000,channels=1");
  fail_unless (gst_element_set_state (f.el, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  b = gst_buffer_new_memdup (x, sizeof (x));
  GST_BUFFER_PTS (b) = 0;
  gst_harness_push (f.h[1], b);
  b = gst_buffer_new_memdup (y, sizeof (y));
  GST_BUFFER_PTS (b) = 10 * MS;
  gst_harness_push (f.h[1], b);
  gst_harness_push (f.h[0], make_buffer (0, 0, 3 * MS));
  push_eos_all (&f);
  b = gst_harness_pull (f.h[1]);
  gst_buffer_extract (b, 0, out, 8);
  fail_unless_equals_int (out[0], 30);
  fail_unless_equals_int (out[1], 160);
  fail_unless_equals_int (out[2], -40);
  fail_unless_equals_int (out[3], 32767);
  gst_buffer_unref (b);
  fixture_teardown (&f);
}

GST_END_TEST;

/* Live: a tick waits at most `latency` for a silent input, then is decided
 * by the deadline thread. */
GST_START_TEST (test_live_latency)
{
  Fixture f;
  GstPad *pad;
  GstBuffer *b;
  GstClock *clock;
  GstQuery *q;
  GstTestClock *tc;

  fixture_setup (&f, 2, "latency=50000000");
  pad = gst_element_get_static_pad (f.el, "sink_1");
  gst_util_set_object_arg (G_OBJECT (pad), "policy", "gap");
  gst_object_unref (pad);
  gst_harness_use_testclock (f.h[0]);
  gst_harness_set_upstream_latency (f.h[0], 0);
  gst_harness_set_upstream_latency (f.h[1], 0);
  clock = gst_element_get_clock (f.el);
  tc = GST_TEST_CLOCK (clock);
  gst_element_set_base_time (f.el, 0);
  gst_element_set_start_time (f.el, GST_CLOCK_TIME_NONE);
  fixture_start (&f, "application/x-test");
  q = gst_query_new_latency ();
  pad = gst_element_get_static_pad (f.el, "src_0");
  fail_unless (gst_pad_query (pad, q));
  gst_object_unref (pad);
  {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency (q, &live, &min, &max);
    fail_unless (live);
    fail_unless_equals_uint64 (min, 50 * MS);
  }
  gst_query_unref (q);
  gst_harness_push (f.h[0], make_buffer (0, 0, 100 * MS));
  /* nothing yet: sink_1 might still deliver */
  fail_unless (gst_harness_try_pull (f.h[0]) == NULL);
  /* the deadline thread waits for 100 ms + 50 ms */
  {
    GstClockID id;
    gst_test_clock_wait_for_next_pending_id (tc, &id);
    fail_unless_equals_uint64 (gst_clock_id_get_time (id), 150 * MS);
    gst_clock_id_unref (id);
  }
  fail_unless (gst_harness_crank_single_clock_wait (f.h[0]));
  b = gst_harness_pull (f.h[0]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 100 * MS);
  gst_buffer_unref (b);
  gst_object_unref (clock);
  push_eos_all (&f);
  fixture_teardown (&f);
}

GST_END_TEST;

/* Two inputs fed by two threads, one far ahead: the window never overflows
 * and nothing is lost (the fast thread waits for the slow one). */
typedef struct
{
  GstHarness *h;
  gint j, n;
  GstClockTime period;
} Feeder;

static gpointer
feeder (gpointer data)
{
  Feeder *fd = data;
  gint i;

  for (i = 1; i < fd->n; i++)
    gst_harness_push (fd->h, make_buffer (fd->j, i, i * fd->period));
  gst_harness_push_event (fd->h, gst_event_new_eos ());
  return NULL;
}

GST_START_TEST (test_two_threads)
{
  Fixture f;
  GThread *t0, *t1;
  GstPad *pad;
  guint64 overflow, out;
  Feeder slow, fast;

  /* latency bounds the wait for the other thread: generous for slow CI */
  fixture_setup (&f, 2, "max-window=8 latency=10000000000");
  fixture_start (&f, "application/x-test");
  gst_harness_set_drop_buffers (f.h[0], TRUE);
  gst_harness_set_drop_buffers (f.h[1], TRUE);
  slow.h = f.h[0];
  slow.j = 0;
  slow.n = 300;
  slow.period = 10 * MS;
  fast.h = f.h[1];
  fast.j = 1;
  fast.n = 1000;
  fast.period = 3 * MS;
  /* first buffers from here, so each input has been seen once */
  gst_harness_push (f.h[0], make_buffer (0, 0, 0));
  gst_harness_push (f.h[1], make_buffer (1, 0, 0));
  t1 = g_thread_new ("fast", feeder, &fast);
  g_usleep (50000);
  t0 = g_thread_new ("slow", feeder, &slow);
  g_thread_join (t0);
  g_thread_join (t1);
  pad = gst_element_get_static_pad (f.el, "sink_1");
  g_object_get (pad, "overflow", &overflow, "buffers-out", &out, NULL);
  gst_object_unref (pad);
  fail_unless_equals_uint64 (overflow, 0);
  fail_unless_equals_uint64 (out, 300);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ---- one thread feeding every input pushes the outputs itself ------- */

static GstPadProbeReturn
record_thread (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GThread **other = data;

  if (g_thread_self () != other[0])
    other[1] = g_thread_self ();
  return GST_PAD_PROBE_OK;
}

/* When one streaming thread feeds every input (rosbagsrc), that thread
 * pushes the decided ticks itself, as a demuxer does: every output buffer
 * is pushed from it, and is downstream when its push into timealign
 * returns (no hand-over to the output task, issue 5 benchmark). */
GST_START_TEST (test_one_thread_pushes_outputs)
{
  Fixture f;
  GThread *seen[MAXIN][2];
  gint i, j, n_out = 0;
  GstBuffer *b;

  fixture_setup (&f, 3, NULL);
  fixture_start (&f, "application/x-test");
  for (j = 0; j < 3; j++) {
    seen[j][0] = g_thread_self ();
    seen[j][1] = NULL;
    gst_pad_add_probe (f.h[j]->sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
        record_thread, seen[j], NULL);
  }
  for (i = 0; i < 200; i++) {
    for (j = 0; j < 3; j++)
      fail_unless_equals_int (gst_harness_push (f.h[j], make_buffer (j, i,
                  i * 10 * MS + j * MS)), GST_FLOW_OK);
    /* tick i - 1 is decided by sink_0's buffer i (nothing nearer can come)
     * and must be out already, without waiting for any other thread */
    while ((b = gst_harness_try_pull (f.h[0])) != NULL) {
      n_out++;
      gst_buffer_unref (b);
    }
    fail_unless (n_out >= i, "tick %d not out when the push returned "
        "(%d out)", i - 1, n_out);
  }
  for (j = 0; j < 3; j++)
    fail_unless (seen[j][1] == NULL, "src_%d pushed from another thread", j);
  push_eos_all (&f);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ---- pad release while PAUSED with a full branch (issue 9) ----------- */

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
  GstElement *el;
  GstPad *pad;                  /* release it (el = timealign) */
  GstElement *pipeline;         /* or set el to NULL and remove it from here */
  GstState state;               /* or set el to this state */
} Job;

static gpointer
job_thread (gpointer data)
{
  Job *j = data;

  if (j->pad) {
    gst_element_release_request_pad (j->el, j->pad);
  } else if (j->pipeline) {
    gst_element_set_locked_state (j->el, TRUE);
    gst_element_set_state (j->el, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (j->pipeline), j->el);
  } else {
    gst_element_set_state (j->el, j->state);
  }
  g_mutex_lock (&j->lock);
  j->done = TRUE;
  g_cond_signal (&j->cond);
  g_mutex_unlock (&j->lock);
  return NULL;
}

/* Runs @j in a thread; fails unless it returns within @ms. On a hang the
 * thread is left behind (the forked test process fails and exits). */
static void
run_within (Job * j, gint ms, const gchar * what)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  GThread *t;
  gboolean done;

  g_mutex_init (&j->lock);
  g_cond_init (&j->cond);
  j->done = FALSE;
  t = g_thread_new ("job", job_thread, j);
  g_mutex_lock (&j->lock);
  while (!j->done && g_cond_wait_until (&j->cond, &j->lock, end))
    /* until done or @ms passed */ ;
  done = j->done;
  g_mutex_unlock (&j->lock);
  fail_unless (done, "%s did not return within %d ms", what, ms);
  g_thread_join (t);
  g_mutex_clear (&j->lock);
  g_cond_clear (&j->cond);
}

static GstPadProbeReturn
count_pushes (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

/* Two pairs. src_0's branch is a 1-buffer queue before a prerolled sink in
 * PAUSED, so it fills and stays full; sink_1 is fed at a lower rate than
 * the reference sink_0 (and `latency` is long), so sink_1's buffers are
 * what completes the ticks. Releasing the fed sink_1, then stopping its
 * source, then the pipeline, must each return within a second: nothing may
 * wait for a push blocked on the other branch (before the output task,
 * sink_1's thread pushed the ticks itself and stayed blocked in src_0's
 * queue, so stopping its source hung). */
GST_START_TEST (test_release_paused_full_branch)
{
  GstElement *pipeline, *ta, *v1;
  GstPad *pad, *probe_pad;
  gint pushed = 0, before, round;
  Job j;

  pipeline = gst_parse_launch ("timealign name=ta latency=10000000000 "
      "videotestsrc name=v0 ! video/x-raw,width=16,height=12,framerate=30/1 "
      "! ta.sink_0 "
      "videotestsrc name=v1 ! video/x-raw,width=16,height=12,framerate=5/1 "
      "! ta.sink_1 "
      "ta.src_0 ! queue name=q0 max-size-buffers=1 max-size-bytes=0 "
      "max-size-time=0 ! fakesink "
      "ta.src_1 ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 "
      "! fakesink", NULL);
  fail_unless (pipeline != NULL);
  ta = gst_bin_get_by_name (GST_BIN (pipeline), "ta");
  v1 = gst_bin_get_by_name (GST_BIN (pipeline), "v1");
  probe_pad = gst_element_get_static_pad (ta, "src_0");
  gst_pad_add_probe (probe_pad, GST_PAD_PROBE_TYPE_BUFFER, count_pushes,
      &pushed, NULL);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  /* wait until src_0's branch is full and stays so (no push for 100 ms) */
  for (round = 0; round < 100; round++) {
    before = g_atomic_int_get (&pushed);
    g_usleep (100000);
    if (before > 0 && g_atomic_int_get (&pushed) == before)
      break;
  }
  fail_unless (round < 100, "src_0's branch never filled up");

  pad = gst_element_get_static_pad (ta, "sink_1");
  fail_unless (pad != NULL);
  memset (&j, 0, sizeof (j));
  j.el = ta;
  j.pad = pad;
  run_within (&j, 1000, "gst_element_release_request_pad");
  gst_object_unref (pad);

  memset (&j, 0, sizeof (j));
  j.el = v1;
  j.pipeline = pipeline;
  run_within (&j, 1000, "stopping the released input's source");

  memset (&j, 0, sizeof (j));
  j.el = pipeline;
  j.state = GST_STATE_NULL;
  run_within (&j, 1000, "setting the pipeline to NULL");

  gst_object_unref (probe_pad);
  gst_object_unref (v1);
  gst_object_unref (ta);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
timealign_suite (void)
{
  Suite *s = suite_create ("timealign");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_jitter_rates_missing);
  tcase_add_test (tc, test_late_start_early_end);
  tcase_add_test (tc, test_reference_by_name);
  tcase_add_test (tc, test_fixed_rate);
  tcase_add_test (tc, test_one_thread_small_window);
  tcase_add_test (tc, test_flush_seek);
  tcase_add_test (tc, test_reference_by_topic);
  tcase_add_test (tc, test_eos_message);
  tcase_add_test (tc, test_no_timestamp);
  tcase_add_test (tc, test_pad_props_from_launch);
  tcase_add_test (tc, test_linear_joint_state);
  tcase_add_test (tc, test_linear_audio);
  tcase_add_test (tc, test_live_latency);
  tcase_add_test (tc, test_two_threads);
  tcase_add_test (tc, test_one_thread_pushes_outputs);
  tcase_add_test (tc, test_release_paused_full_branch);
  return s;
}

GST_CHECK_MAIN (timealign);
