/* membound: memory trend over a sliding time window (plain C).
 *
 * Samples (time, bytes) go into a fixed-size ring that covers `window`
 * nanoseconds; samples arriving faster than the ring can hold are skipped,
 * so the memory used is fixed whatever the window and sampling rate. The
 * least-squares slope tells a steady leak from a flat process; a leak is
 * suspected only when the window is fully covered and the slope over the
 * whole window AND over each half of it stays above the threshold, so one
 * step (a cache filling once) or a pool sawtooth does not count.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_TREND_H__
#define __MB_TREND_H__

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct MbTrend MbTrend;

/* @capacity samples (>= 8), @window_ns > 0. */
MbTrend *mb_trend_new (unsigned capacity, int64_t window_ns);
void mb_trend_free (MbTrend * t);
/* Forgets all samples; a new window length may be given (> 0). */
void mb_trend_reset (MbTrend * t, int64_t window_ns);

/* Adds a sample; times must not go backwards (a sample older than the newest
 * is ignored). Returns 1 when stored, 0 when skipped. */
int mb_trend_add (MbTrend * t, int64_t t_ns, uint64_t bytes);

unsigned mb_trend_count (const MbTrend * t);
/* Time covered by the stored samples, ns. */
int64_t mb_trend_span (const MbTrend * t);
/* 1 when the stored samples cover the whole window. */
int mb_trend_full (const MbTrend * t);

/* Least-squares slope in bytes per second of the samples with
 * from_ns <= time <= to_ns; returns 0 (and *ok = 0) with < 2 samples. */
double mb_trend_slope_range (const MbTrend * t, int64_t from_ns,
    int64_t to_ns, int *ok);
/* Slope over all stored samples, bytes per second. */
double mb_trend_slope (const MbTrend * t);

/* 1 when a leak is suspected: window full, at least 6 samples, and the
 * slopes of the whole window and of both halves above @threshold_per_s
 * (bytes per second). *slope_out (may be NULL) gets the whole-window slope. */
int mb_trend_leak_suspected (const MbTrend * t, double threshold_per_s,
    double *slope_out);

/* Oldest and newest stored sample (0 when empty). */
int mb_trend_first (const MbTrend * t, int64_t * t_ns, uint64_t * bytes);
int mb_trend_last (const MbTrend * t, int64_t * t_ns, uint64_t * bytes);

#ifdef __cplusplus
}
#endif
#endif /* __MB_TREND_H__ */
