/* membound: tick decision core of timealign.
 *
 * Plain C, no GStreamer types. Each input keeps a window of
 * (timestamp, opaque pointer) items in non-decreasing timestamp order; ticks
 * come from a reference input (one tick per reference item) or from a fixed
 * rate. mb_align_next() decides the oldest tick as soon as the time order
 * allows it, i.e. when no item that can still arrive on any input could
 * change the selection, or at once when forced (window full, live deadline).
 *
 * Ownership: the core holds one reference per stored item (the caller's
 * reference passed to mb_align_push()); every pointer handed out in an
 * MbAlignTick is a new reference obtained with the ref function, which the
 * caller releases. The free function releases the core's own references.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_ALIGN_H__
#define __MB_ALIGN_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  MB_ALIGN_MODE_NEAREST = 0,    /* closest item within tolerance */
  MB_ALIGN_MODE_PREVIOUS = 1,   /* newest item not after the tick */
  MB_ALIGN_MODE_LINEAR = 2      /* the two neighbours, interpolated by caller */
} MbAlignMode;

typedef enum {
  MB_ALIGN_POLICY_DROP = 0,     /* drop the tick on every output */
  MB_ALIGN_POLICY_HOLD = 1,     /* repeat the last item sent on this input */
  MB_ALIGN_POLICY_GAP = 2       /* a gap on this output only */
} MbAlignPolicy;

typedef enum {
  MB_ALIGN_SLOT_NONE = 0,       /* no such input, or the tick was dropped */
  MB_ALIGN_SLOT_ITEM,           /* data = the selected item */
  MB_ALIGN_SLOT_INTERP,         /* data, data2 = neighbours, frac in (0,1) */
  MB_ALIGN_SLOT_GAP             /* nothing: gap on this output */
} MbAlignSlotKind;

typedef struct {
  MbAlignSlotKind kind;
  void *data;                   /* new reference (ITEM, INTERP) */
  void *data2;                  /* new reference (INTERP) */
  double frac;                  /* INTERP: (tick - ts) / (ts2 - ts) */
  int64_t ts;                   /* timestamp of data */
  int64_t ts2;                  /* timestamp of data2 (INTERP) */
  int repeated;                 /* data was already handed out for an earlier tick */
  int held;                     /* ITEM produced by the hold policy */
} MbAlignSlot;

typedef struct {
  int64_t ts;                   /* tick time */
  int dropped;                  /* 1: dropped on every output (all slots NONE) */
  int forced;                   /* decided before every input could be sure */
  size_t n_slots;               /* = mb_align_n_inputs() */
  MbAlignSlot *slots;           /* indexed by input id; owned by the core,
                                 * valid until the next mb_align_next() */
} MbAlignTick;

typedef struct {
  uint64_t pushed;              /* items accepted */
  uint64_t out;                 /* ticks this input contributed data to */
  uint64_t repeated;            /* ... of which repeats of an earlier item */
  uint64_t interpolated;        /* ... of which interpolated */
  uint64_t missed;              /* ticks with nothing within tolerance */
  uint64_t gaps;                /* gaps sent (gap policy, or hold with nothing held) */
  uint64_t overflow;            /* items dropped because the window was full */
  uint64_t clamped;             /* items whose timestamp went backwards (clamped) */
  uint64_t n_err;               /* number of errors summed in sum_err */
  int64_t max_err;              /* max |item ts - tick| in ns over outputs */
  double sum_err;               /* sum of |item ts - tick| in ns */
} MbAlignInputStats;

typedef void (*MbAlignFreeFunc) (void *data, void *user);
typedef void *(*MbAlignRefFunc) (void *data, void *user);

typedef struct _MbAlign MbAlign;

#define MB_ALIGN_DEFAULT_MAX_WINDOW 64

MbAlign *mb_align_new (MbAlignRefFunc ref, MbAlignFreeFunc unref, void *user);
void mb_align_free (MbAlign * a);

/* Inputs are numbered from 0; a removed id is reused by the next add.
 * Returns the id, or -1 on allocation failure. */
int mb_align_add_input (MbAlign * a);
/* Adds input @id (and any lower unused ids as unused slots) if missing. */
int mb_align_add_input_id (MbAlign * a, int id);
void mb_align_remove_input (MbAlign * a, int id);
size_t mb_align_n_inputs (const MbAlign * a);
int mb_align_has_input (const MbAlign * a, int id);

void mb_align_set_input_mode (MbAlign * a, int id, MbAlignMode mode,
    MbAlignPolicy policy, int64_t tolerance_ns);

/* Reference input id, or -1 for fixed-rate ticks (see set_rate). */
void mb_align_set_reference (MbAlign * a, int id);
int mb_align_get_reference (const MbAlign * a);
/* Ticks at t0 + i * den / num seconds, t0 = the first time every input has
 * data (max of their first timestamps). num = 0 disables. */
void mb_align_set_rate (MbAlign * a, int64_t num, int64_t den);
/* Max items per input window (>= 2). */
void mb_align_set_max_window (MbAlign * a, size_t max_window);

#define MB_ALIGN_OK 0
#define MB_ALIGN_FULL 1

/* Stores an item. Returns MB_ALIGN_FULL (and keeps nothing) when the
 * window already holds max-window items: the caller then forces ticks with
 * mb_align_next(a, tick, 1) and, when that decides nothing, makes room with
 * mb_align_drop_oldest(). A timestamp older than the input's newest one is
 * clamped to it (counted in stats.clamped). */
int mb_align_push (MbAlign * a, int id, int64_t ts, void *data);
void mb_align_drop_oldest (MbAlign * a, int id);
size_t mb_align_window_len (const MbAlign * a, int id);

/* No more items on @id until mb_align_flush_input(). */
void mb_align_set_eos (MbAlign * a, int id);
int mb_align_is_eos (const MbAlign * a, int id);
/* Empties @id's window, clears its EOS and held item. When @id is the
 * reference, or ticks run at a fixed rate, the tick clock restarts too. */
void mb_align_flush_input (MbAlign * a, int id);
/* Flushes every input and restarts the tick clock; stats are kept. */
void mb_align_reset (MbAlign * a);
void mb_align_reset_stats (MbAlign * a);

#define MB_ALIGN_NEXT_NONE 0    /* nothing decidable yet */
#define MB_ALIGN_NEXT_TICK 1    /* *tick filled */
#define MB_ALIGN_NEXT_DONE (-1) /* finished: EOS on every output */

/* Decides the oldest pending tick. With @force, decides it with the data at
 * hand even when an input could still deliver a better item (only when a
 * tick is pending, see mb_align_pending()). */
int mb_align_next (MbAlign * a, MbAlignTick * tick, int force);
/* Releases the references of a tick's slots (convenience for callers that
 * do not keep them). */
void mb_align_tick_clear (MbAlign * a, MbAlignTick * tick);

/* 1 and *ts = time of the oldest tick that exists but is not decided yet. */
int mb_align_pending (const MbAlign * a, int64_t * ts);
int mb_align_is_done (const MbAlign * a);

/* Inputs whose data is still needed before the oldest tick can be decided
 * without forcing (the reference when it has no item, inputs without data
 * before a fixed-rate start, inputs not yet past the tick). Writes up to
 * @max ids and returns how many there are (0 when nothing is awaited). */
int mb_align_blockers (MbAlign * a, int *ids, int max);

uint64_t mb_align_ticks_out (const MbAlign * a);
uint64_t mb_align_ticks_dropped (const MbAlign * a);
void mb_align_get_input_stats (const MbAlign * a, int id, MbAlignInputStats * st);

#ifdef __cplusplus
}
#endif
#endif /* __MB_ALIGN_H__ */
