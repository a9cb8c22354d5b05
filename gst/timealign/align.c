/* membound: tick decision core of timealign (see align.h).
 *
 * Selection rules at tick T for an input with tolerance tol (ties between
 * items at the same distance go to the later item):
 *  - nearest:  argmin |ts - T| if that distance <= tol;
 *  - previous: the last item with ts <= T if T - ts <= tol;
 *  - linear:   a = last item with ts <= T, b = first item with ts >= T;
 *              a.ts == T -> a; both within tol -> interpolate; else nearest.
 * A tick is decidable for an input when it is EOS, or when its newest item
 * proves that no later item can change the choice: nearest needs
 * newest - T > min(tol, distance of the current best), previous and linear
 * need newest > T. Ticks only move forward, so on every push and after
 * every tick each window (the reference's aside) drops the items that no
 * tick still to come can select: all but the last item with ts <= the
 * oldest possible next tick (see tick_floor()). A window therefore only
 * fills with items after that tick, and a tick forced by a full window has
 * been passed by that input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "align.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  int64_t ts;
  uint64_t seq;
  void *data;
} Item;

typedef struct {
  int used;
  MbAlignMode mode;
  MbAlignPolicy policy;
  int64_t tol;
  Item *buf;
  size_t cap, head, n;
  int eos;
  int has_newest;
  int64_t newest_ts;
  int has_first;
  int64_t first_ts;
  uint64_t next_seq;
  /* last item handed out (hold policy, repeat detection) */
  int has_last;
  void *last_data;
  int64_t last_ts;
  uint64_t last_seq;
  /* holds data from before another input's flush restarted the ticks */
  int stale;
  /* flushed, and no tick decided since (n_decided == flushed_at) */
  int flushed;
  uint64_t flushed_at;
  MbAlignInputStats st;
} Input;

typedef struct {
  int found;                    /* something within tolerance */
  size_t k, k2;                 /* selected index (and second for interp) */
  int interp;
  int decidable;
} Sel;

struct _MbAlign {
  MbAlignRefFunc ref;
  MbAlignFreeFunc unref;
  void *user;
  Input *in;
  size_t n_in;
  int ref_id;
  int64_t rate_num, rate_den;
  size_t max_window;
  /* fixed-rate tick clock */
  int have_t0;
  int64_t t0;
  uint64_t tick_idx;
  int64_t next_tick;            /* = rate_tick (tick_idx), set by set_tick () */
  size_t n_stale;               /* inputs with stale = 1 */
  uint64_t n_decided;           /* ticks decided so far (never reset) */
  uint64_t ticks_out, ticks_dropped;
  MbAlignSlot *slots;
  Sel *sels;
  size_t slots_cap;
  /* Input (index + 1) that made the last unforced mb_align_next() find its
   * tick undecidable, 0 = none. Only an item on that input or a change of
   * anything else (every other call that modifies the core clears it) can
   * make the tick decidable: until then mb_align_next() answers at once. */
  int blocked;
};

#define W(in, i) ((in)->buf[((in)->head + (i)) % (in)->cap])

static int64_t rate_tick (const MbAlign * a, uint64_t idx);

/* Moves the fixed-rate clock to tick @idx (one division per tick, not one
 * per item: the next tick time is read on every push). */
static void
set_tick (MbAlign * a, uint64_t idx)
{
  a->tick_idx = idx;
  a->next_tick = a->rate_num > 0 ? rate_tick (a, idx) : a->t0;
}

static int64_t
abs64 (int64_t v)
{
  return v < 0 ? -v : v;
}

MbAlign *
mb_align_new (MbAlignRefFunc ref, MbAlignFreeFunc unref, void *user)
{
  MbAlign *a = calloc (1, sizeof (MbAlign));

  if (a == NULL)
    return NULL;
  a->ref = ref;
  a->unref = unref;
  a->user = user;
  a->ref_id = 0;
  a->max_window = MB_ALIGN_DEFAULT_MAX_WINDOW;
  return a;
}

static void
release (MbAlign * a, void *data)
{
  if (data && a->unref)
    a->unref (data, a->user);
}

static void *
take_ref (MbAlign * a, void *data)
{
  return (data && a->ref) ? a->ref (data, a->user) : data;
}

static void
input_clear (MbAlign * a, Input * in)
{
  if (in->stale) {
    in->stale = 0;
    a->n_stale--;
  }
  while (in->n > 0) {
    release (a, in->buf[in->head].data);
    in->head = (in->head + 1) % in->cap;
    in->n--;
  }
  in->head = 0;
  if (in->last_data)
    release (a, in->last_data);
  in->has_last = 0;
  in->last_data = NULL;
  in->eos = 0;
  in->has_newest = 0;
  in->has_first = 0;
}

void
mb_align_free (MbAlign * a)
{
  size_t i;

  if (a == NULL)
    return;
  for (i = 0; i < a->n_in; i++) {
    input_clear (a, &a->in[i]);
    free (a->in[i].buf);
  }
  free (a->in);
  free (a->slots);
  free (a->sels);
  free (a);
}

static Input *
get_in (const MbAlign * a, int id)
{
  if (id < 0 || (size_t) id >= a->n_in || !a->in[id].used)
    return NULL;
  return &a->in[id];
}

int
mb_align_add_input_id (MbAlign * a, int id)
{
  Input *in;

  a->blocked = 0;
  if (id < 0)
    return -1;
  if ((size_t) id >= a->n_in) {
    size_t n = (size_t) id + 1;
    Input *ni = realloc (a->in, n * sizeof (Input));
    MbAlignSlot *ns;
    Sel *ss;

    if (ni == NULL)
      return -1;
    memset (ni + a->n_in, 0, (n - a->n_in) * sizeof (Input));
    a->in = ni;
    a->n_in = n;
    if (n > a->slots_cap) {
      ns = realloc (a->slots, n * sizeof (MbAlignSlot));
      if (ns == NULL)
        return -1;
      a->slots = ns;
      ss = realloc (a->sels, n * sizeof (Sel));
      if (ss == NULL)
        return -1;
      a->sels = ss;
      a->slots_cap = n;
    }
  }
  in = &a->in[id];
  if (in->used)
    return id;
  free (in->buf);
  memset (in, 0, sizeof (Input));
  in->used = 1;
  in->mode = MB_ALIGN_MODE_NEAREST;
  in->policy = MB_ALIGN_POLICY_DROP;
  in->tol = 20000000;
  return id;
}

int
mb_align_add_input (MbAlign * a)
{
  size_t i;

  for (i = 0; i < a->n_in; i++)
    if (!a->in[i].used)
      break;
  return mb_align_add_input_id (a, (int) i);
}

void
mb_align_remove_input (MbAlign * a, int id)
{
  Input *in = get_in (a, id);

  a->blocked = 0;
  if (in == NULL)
    return;
  input_clear (a, in);
  free (in->buf);
  memset (in, 0, sizeof (Input));
}

size_t
mb_align_n_inputs (const MbAlign * a)
{
  return a->n_in;
}

int
mb_align_has_input (const MbAlign * a, int id)
{
  return get_in (a, id) != NULL;
}

void
mb_align_set_input_mode (MbAlign * a, int id, MbAlignMode mode,
    MbAlignPolicy policy, int64_t tolerance_ns)
{
  Input *in = get_in (a, id);

  a->blocked = 0;
  if (in == NULL)
    return;
  in->mode = mode;
  in->policy = policy;
  in->tol = tolerance_ns < 0 ? 0 : tolerance_ns;
}

void
mb_align_set_reference (MbAlign * a, int id)
{
  a->blocked = 0;
  a->ref_id = id;
}

int
mb_align_get_reference (const MbAlign * a)
{
  return a->ref_id;
}

void
mb_align_set_rate (MbAlign * a, int64_t num, int64_t den)
{
  a->blocked = 0;
  a->rate_num = (num > 0 && den > 0) ? num : 0;
  a->rate_den = den > 0 ? den : 1;
  set_tick (a, a->tick_idx);
}

void
mb_align_set_max_window (MbAlign * a, size_t max_window)
{
  a->blocked = 0;
  a->max_window = max_window < 2 ? 2 : max_window;
}

static int
rate_mode (const MbAlign * a)
{
  return a->ref_id < 0 && a->rate_num > 0;
}

static void
pop_front (MbAlign * a, Input * in, int free_it)
{
  if (free_it)
    release (a, in->buf[in->head].data);
  in->head = (in->head + 1) % in->cap;
  in->n--;
}

/* Drops the items that no tick at or after @floor_ts can select: all but
 * the last item with ts <= floor_ts (nearest, previous and linear alike).
 * In nearest mode that last item goes too once the item after it is at
 * least as near to @floor_ts (ties go to the later item): for every later
 * tick it is farther still, so it can never be selected again. Releasing it
 * as soon as possible lets the element hand the buffer out without a
 * copy. */
static void
prune (Input * in, int64_t floor_ts, MbAlign * a)
{
  while (in->n >= 2 && W (in, 1).ts <= floor_ts)
    pop_front (a, in, 1);
  if (in->mode == MB_ALIGN_MODE_NEAREST && in->n >= 2 &&
      W (in, 0).ts <= floor_ts &&
      floor_ts - W (in, 0).ts >= W (in, 1).ts - floor_ts)
    pop_front (a, in, 1);
}

/* A lower bound of every tick still to be decided: the oldest reference
 * item (or, with none queued, the newest one seen: later items are clamped
 * to it), the next fixed-rate tick, or before the rate clock starts the
 * largest first timestamp seen (the clock starts at the largest first
 * timestamp of all inputs). Returns 0 when there is no bound yet, or while
 * an input still holds data from before another input's flush (stale). */
static int
tick_floor (MbAlign * a, int64_t * floor_ts)
{
  size_t i;
  int any = 0;

  if (a->n_stale > 0)
    return 0;
  if (a->ref_id >= 0) {
    const Input *r = get_in (a, a->ref_id);
    if (r == NULL)
      return 0;
    if (r->n > 0) {
      *floor_ts = W (r, 0).ts;
      return 1;
    }
    if (!r->has_newest)
      return 0;
    *floor_ts = r->newest_ts;
    return 1;
  }
  if (!rate_mode (a))
    return 0;
  if (a->have_t0) {
    *floor_ts = a->next_tick;
    return 1;
  }
  for (i = 0; i < a->n_in; i++) {
    const Input *in = &a->in[i];
    if (in->used && in->has_first && (!any || in->first_ts > *floor_ts)) {
      *floor_ts = in->first_ts;
      any = 1;
    }
  }
  return any;
}

/* Releases, on every input but the reference, the items no future tick can
 * select, so that a window only fills with items after the next tick.
 * Returns 0 when there is no next tick to prune against. */
static int
prune_all (MbAlign * a)
{
  int64_t floor_ts = 0;
  size_t i;

  if (!tick_floor (a, &floor_ts))
    return 0;
  for (i = 0; i < a->n_in; i++) {
    Input *in = &a->in[i];
    if (in->used && (int) i != a->ref_id)
      prune (in, floor_ts, a);
  }
  return 1;
}

int
mb_align_push (MbAlign * a, int id, int64_t ts, void *data)
{
  Input *in = get_in (a, id);
  Item *it;

  if (in == NULL)
    return -1;
  /* an item on the input the pending tick waits for may decide it */
  if (a->blocked == id + 1)
    a->blocked = 0;
  if (in->n >= a->max_window) {
    /* the next tick may have moved (flush, forced start) since the last
     * prune: release what it made useless before refusing the item */
    a->blocked = 0;
    prune_all (a);
    if (in->n >= a->max_window)
      return MB_ALIGN_FULL;
  }
  if (in->n == in->cap) {
    size_t ncap = in->cap ? in->cap * 2 : 8;
    Item *nb;
    size_t i;

    if (ncap > a->max_window)
      ncap = a->max_window;
    nb = malloc (ncap * sizeof (Item));
    if (nb == NULL)
      return -1;
    for (i = 0; i < in->n; i++)
      nb[i] = W (in, i);
    free (in->buf);
    in->buf = nb;
    in->cap = ncap;
    in->head = 0;
  }
  if (in->has_newest && ts < in->newest_ts) {
    ts = in->newest_ts;
    in->st.clamped++;
  }
  it = &in->buf[(in->head + in->n) % in->cap];
  it->ts = ts;
  it->seq = in->next_seq++;
  it->data = data;
  in->n++;
  in->has_newest = 1;
  in->newest_ts = ts;
  if (!in->has_first) {
    in->has_first = 1;
    in->first_ts = ts;
  }
  in->st.pushed++;
  /* The new item may make this window's older items useless. It moves the
   * next possible tick only on the reference, or as a first item before
   * the rate clock starts: then every window is pruned. */
  if (id == a->ref_id) {
    /* the oldest reference item is the next tick: it changed only if the
     * reference was empty */
    if (in->n == 1)
      prune_all (a);
  } else if (rate_mode (a) && !a->have_t0) {
    prune_all (a);
  } else if (in->n >= 2) {
    int64_t floor_ts = 0;
    if (tick_floor (a, &floor_ts))
      prune (in, floor_ts, a);
  }
  return MB_ALIGN_OK;
}

void
mb_align_drop_oldest (MbAlign * a, int id)
{
  Input *in = get_in (a, id);

  a->blocked = 0;
  if (in == NULL || in->n == 0)
    return;
  pop_front (a, in, 1);
  in->st.overflow++;
}

size_t
mb_align_window_len (const MbAlign * a, int id)
{
  Input *in = get_in (a, id);
  return in ? in->n : 0;
}

void
mb_align_set_eos (MbAlign * a, int id)
{
  Input *in = get_in (a, id);

  a->blocked = 0;
  if (in)
    in->eos = 1;
}

int
mb_align_is_eos (const MbAlign * a, int id)
{
  Input *in = get_in (a, id);
  return in ? in->eos : 0;
}

static void
restart_clock (MbAlign * a)
{
  a->have_t0 = 0;
  set_tick (a, 0);
}

void
mb_align_flush_input (MbAlign * a, int id)
{
  Input *in = get_in (a, id);

  a->blocked = 0;
  if (in == NULL)
    return;
  input_clear (a, in);
  if (id == a->ref_id || a->ref_id < 0) {
    size_t i;
    restart_clock (a);
    /* The other inputs' data may come from before a seek that has not
     * reached them yet: until they flush too, they must not make this
     * input's new data look useless (no pruning ahead of the ticks). An
     * input flushed since the last tick was decided is taken as flushed
     * by the same seek. */
    in->flushed = 1;
    in->flushed_at = a->n_decided;
    for (i = 0; i < a->n_in; i++) {
      Input *o = &a->in[i];
      if (o->used && o != in && !o->stale && (o->has_first || o->n > 0)
          && !(o->flushed && o->flushed_at == a->n_decided)) {
        o->stale = 1;
        a->n_stale++;
      }
    }
  }
}

void
mb_align_reset (MbAlign * a)
{
  size_t i;

  a->blocked = 0;
  for (i = 0; i < a->n_in; i++)
    if (a->in[i].used)
      input_clear (a, &a->in[i]);
  restart_clock (a);
}

void
mb_align_reset_stats (MbAlign * a)
{
  size_t i;

  for (i = 0; i < a->n_in; i++)
    memset (&a->in[i].st, 0, sizeof (MbAlignInputStats));
  a->ticks_out = a->ticks_dropped = 0;
}

static int64_t
rate_tick (const MbAlign * a, uint64_t idx)
{
  __int128 off = (__int128) idx * a->rate_den * 1000000000 / a->rate_num;
  return a->t0 + (int64_t) off;
}

/* Starts the fixed-rate clock once every input has data or is EOS. */
static int
rate_try_t0 (MbAlign * a, int force)
{
  size_t i;
  int any = 0;
  int64_t t0 = 0;

  if (a->have_t0)
    return 1;
  for (i = 0; i < a->n_in; i++) {
    Input *in = &a->in[i];
    if (!in->used)
      continue;
    if (in->has_first) {
      if (!any || in->first_ts > t0)
        t0 = in->first_ts;
      any = 1;
    } else if (!in->eos && !force) {
      return 0;
    }
  }
  if (!any)
    return 0;
  a->have_t0 = 1;
  a->t0 = t0;
  set_tick (a, 0);
  return 1;
}

static int
all_eos (const MbAlign * a, int64_t * max_newest, int *have_newest)
{
  size_t i;
  int used = 0;

  *have_newest = 0;
  for (i = 0; i < a->n_in; i++) {
    const Input *in = &a->in[i];
    if (!in->used)
      continue;
    used = 1;
    if (!in->eos)
      return 0;
    if (in->has_newest && (!*have_newest || in->newest_ts > *max_newest)) {
      *max_newest = in->newest_ts;
      *have_newest = 1;
    }
  }
  return used;
}

int
mb_align_is_done (const MbAlign * a)
{
  int64_t max_newest = 0;
  int have_newest;

  if (a->ref_id >= 0 && get_in (a, a->ref_id)) {
    const Input *r = &a->in[a->ref_id];
    return r->eos && r->n == 0;
  }
  if (!all_eos (a, &max_newest, &have_newest))
    return 0;
  if (!rate_mode (a) || !have_newest)
    return 1;
  if (!a->have_t0)
    return 0;
  return a->next_tick > max_newest;
}

/* Oldest tick that exists; for rate mode it must also have been reached by
 * some input (or @force). */
static int
tick_time (MbAlign * a, int64_t * ts, int force)
{
  size_t i;

  if (a->ref_id >= 0) {
    Input *r = get_in (a, a->ref_id);
    if (r == NULL || r->n == 0)
      return 0;
    *ts = W (r, 0).ts;
    return 1;
  }
  if (!rate_mode (a) || !rate_try_t0 (a, force))
    return 0;
  *ts = a->next_tick;
  if (force)
    return 1;
  for (i = 0; i < a->n_in; i++) {
    Input *in = &a->in[i];
    if (in->used && (in->eos || (in->has_newest && in->newest_ts >= *ts)))
      return 1;
  }
  return 0;
}

int
mb_align_pending (const MbAlign * a, int64_t * ts)
{
  int64_t t = 0;

  if (mb_align_is_done (a))
    return 0;
  if (a->ref_id >= 0) {
    Input *r = get_in (a, a->ref_id);
    if (r == NULL || r->n == 0)
      return 0;
    t = W (r, 0).ts;
  } else if (rate_mode (a) && a->have_t0) {
    t = a->next_tick;
  } else if (rate_mode (a)) {
    /* not every input has data yet: a forced start would tick at the
     * largest first timestamp among those that have */
    size_t i;
    int any = 0;
    for (i = 0; i < a->n_in; i++) {
      const Input *in = &a->in[i];
      if (in->used && in->has_first && (!any || in->first_ts > t)) {
        t = in->first_ts;
        any = 1;
      }
    }
    if (!any)
      return 0;
  } else {
    return 0;
  }
  if (ts)
    *ts = t;
  return 1;
}

static void
select_item (const Input * in, int64_t T, Sel * s)
{
  size_t i, a_idx = 0, b_idx = 0;
  int have_a = 0, have_b = 0;
  int64_t best_d = -1;
  size_t best = 0;

  memset (s, 0, sizeof (*s));
  for (i = 0; i < in->n; i++) {
    int64_t ts = W (in, i).ts;
    int64_t d = abs64 (ts - T);
    if (best_d < 0 || d <= best_d) {
      best_d = d;
      best = i;
    }
    if (ts <= T) {
      a_idx = i;
      have_a = 1;
    }
    if (ts >= T && !have_b) {
      b_idx = i;
      have_b = 1;
    }
  }

  switch (in->mode) {
    case MB_ALIGN_MODE_PREVIOUS:
      if (have_a && T - W (in, a_idx).ts <= in->tol) {
        s->found = 1;
        s->k = a_idx;
      }
      s->decidable = in->eos || (in->has_newest && in->newest_ts > T);
      break;
    case MB_ALIGN_MODE_LINEAR:
      s->decidable = in->eos || (in->has_newest && in->newest_ts > T);
      if (have_a && W (in, a_idx).ts == T) {
        s->found = 1;
        s->k = a_idx;
        break;
      }
      if (have_a && have_b && T - W (in, a_idx).ts <= in->tol
          && W (in, b_idx).ts - T <= in->tol) {
        s->found = 1;
        s->interp = 1;
        s->k = a_idx;
        s->k2 = b_idx;
        break;
      }
      /* falls back to nearest, with nearest's rule */
      if (best_d >= 0 && best_d <= in->tol) {
        s->found = 1;
        s->k = best;
      }
      s->decidable = in->eos || (in->has_newest
          && in->newest_ts - T > (s->found ? best_d : in->tol));
      break;
    case MB_ALIGN_MODE_NEAREST:
    default:{
      int64_t need = in->tol;
      if (best_d >= 0 && best_d <= in->tol) {
        s->found = 1;
        s->k = best;
        need = best_d;
      }
      s->decidable = in->eos || (in->has_newest && in->newest_ts - T > need);
      break;
    }
  }
}

static void
set_last (MbAlign * a, Input * in, const Item * it)
{
  if (in->has_last && in->last_seq == it->seq)
    return;
  if (in->last_data)
    release (a, in->last_data);
  /* only the hold policy needs the item itself later; the others only
   * remember which item it was (so the caller may own the only reference) */
  in->last_data = in->policy == MB_ALIGN_POLICY_HOLD ?
      take_ref (a, it->data) : NULL;
  in->last_ts = it->ts;
  in->last_seq = it->seq;
  in->has_last = 1;
}

static void
note_err (Input * in, int64_t err)
{
  err = abs64 (err);
  if (err > in->st.max_err)
    in->st.max_err = err;
  in->st.sum_err += (double) err;
  in->st.n_err++;
}

static void
emit_item (MbAlign * a, Input * in, const Item * it, int64_t T,
    MbAlignSlot * slot)
{
  slot->kind = MB_ALIGN_SLOT_ITEM;
  slot->data = take_ref (a, it->data);
  slot->ts = it->ts;
  slot->repeated = in->has_last && in->last_seq == it->seq;
  set_last (a, in, it);
  in->st.out++;
  if (slot->repeated)
    in->st.repeated++;
  note_err (in, it->ts - T);
}

int
mb_align_next (MbAlign * a, MbAlignTick * tick, int force)
{
  int64_t T;
  size_t i;
  int dropped = 0, forced = 0;
  Sel *sels;
  Input *r = NULL;

  memset (tick, 0, sizeof (*tick));
  if (a->blocked && !force)
    /* nothing changed for the input the tick waits for */
    return MB_ALIGN_NEXT_NONE;
  a->blocked = 0;
  if (mb_align_is_done (a))
    return MB_ALIGN_NEXT_DONE;
  if (!tick_time (a, &T, force))
    return MB_ALIGN_NEXT_NONE;
  if (a->ref_id >= 0)
    r = get_in (a, a->ref_id);

  /* Selection is computed into the slots array first (kind NONE). */
  sels = a->sels;
  for (i = 0; i < a->n_in; i++) {
    Input *in = &a->in[i];
    if (!in->used || in == r)
      continue;
    select_item (in, T, &sels[i]);
    if (!sels[i].decidable) {
      if (!force) {
        a->blocked = (int) i + 1;
        return MB_ALIGN_NEXT_NONE;
      }
      forced = 1;
    }
  }
  for (i = 0; i < a->n_in; i++) {
    Input *in = &a->in[i];
    if (!in->used || in == r)
      continue;
    if (!sels[i].found) {
      in->st.missed++;
      if (in->policy == MB_ALIGN_POLICY_DROP)
        dropped = 1;
    }
  }

  memset (a->slots, 0, a->n_in * sizeof (MbAlignSlot));
  tick->ts = T;
  tick->forced = forced;
  tick->n_slots = a->n_in;
  tick->slots = a->slots;
  tick->dropped = dropped;

  if (dropped) {
    a->ticks_dropped++;
  } else {
    a->ticks_out++;
    for (i = 0; i < a->n_in; i++) {
      Input *in = &a->in[i];
      MbAlignSlot *slot = &a->slots[i];
      Sel *s = &sels[i];

      if (!in->used)
        continue;
      if (in == r) {
        Item it = W (r, 0);
        emit_item (a, in, &it, T, slot);
        continue;
      }
      if (s->found && s->interp) {
        Item ia = W (in, s->k), ib = W (in, s->k2);
        int64_t da = T - ia.ts, db = ib.ts - T;
        slot->kind = MB_ALIGN_SLOT_INTERP;
        slot->data = take_ref (a, ia.data);
        slot->data2 = take_ref (a, ib.data);
        slot->ts = ia.ts;
        slot->ts2 = ib.ts;
        slot->frac = (double) da / (double) (ib.ts - ia.ts);
        /* the nearer neighbour (later on ties) stands for the pair */
        set_last (a, in, db <= da ? &ib : &ia);
        in->st.out++;
        in->st.interpolated++;
        note_err (in, db <= da ? db : da);
      } else if (s->found) {
        Item it = W (in, s->k);
        emit_item (a, in, &it, T, slot);
      } else if (in->policy == MB_ALIGN_POLICY_HOLD && in->last_data) {
        slot->kind = MB_ALIGN_SLOT_ITEM;
        slot->data = take_ref (a, in->last_data);
        slot->ts = in->last_ts;
        slot->repeated = 1;
        slot->held = 1;
        in->st.out++;
        in->st.repeated++;
        note_err (in, in->last_ts - T);
      } else {
        slot->kind = MB_ALIGN_SLOT_GAP;
        in->st.gaps++;
      }
    }
  }
  a->n_decided++;
  /* advance the tick clock, then keep only what later ticks can use */
  if (r)
    pop_front (a, r, 1);
  else
    set_tick (a, a->tick_idx + 1);
  if (!prune_all (a)) {
    for (i = 0; i < a->n_in; i++) {
      Input *in = &a->in[i];
      if (in->used && in != r)
        prune (in, T, a);
    }
  }
  return MB_ALIGN_NEXT_TICK;
}

int
mb_align_blockers (MbAlign * a, int *ids, int max)
{
  int n = 0;
  size_t i;
  int64_t T;
  Input *r = NULL;

  if (mb_align_is_done (a))
    return 0;
  if (a->ref_id >= 0) {
    r = get_in (a, a->ref_id);
    if (r == NULL)
      return 0;
    if (r->n == 0) {
      if (r->eos)
        return 0;
      if (max > 0)
        ids[0] = a->ref_id;
      return 1;
    }
    T = W (r, 0).ts;
  } else if (rate_mode (a)) {
    if (!a->have_t0) {
      for (i = 0; i < a->n_in; i++) {
        Input *in = &a->in[i];
        if (in->used && !in->has_first && !in->eos) {
          if (n < max)
            ids[n] = (int) i;
          n++;
        }
      }
      return n;
    }
    T = a->next_tick;
  } else {
    return 0;
  }
  for (i = 0; i < a->n_in; i++) {
    Input *in = &a->in[i];
    Sel s;
    if (!in->used || in == r)
      continue;
    select_item (in, T, &s);
    if (!s.decidable) {
      if (n < max)
        ids[n] = (int) i;
      n++;
    }
  }
  return n;
}

void
mb_align_tick_clear (MbAlign * a, MbAlignTick * tick)
{
  size_t i;

  for (i = 0; i < tick->n_slots; i++) {
    MbAlignSlot *s = &tick->slots[i];
    release (a, s->data);
    release (a, s->data2);
    s->data = s->data2 = NULL;
    s->kind = MB_ALIGN_SLOT_NONE;
  }
}

uint64_t
mb_align_ticks_out (const MbAlign * a)
{
  return a->ticks_out;
}

uint64_t
mb_align_ticks_dropped (const MbAlign * a)
{
  return a->ticks_dropped;
}

void
mb_align_get_input_stats (const MbAlign * a, int id, MbAlignInputStats * st)
{
  Input *in = get_in (a, id);

  if (in)
    *st = in->st;
  else
    memset (st, 0, sizeof (*st));
}
