/* membound: names timealign shares with applications.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MEMBOUND_TIMEALIGN_H__
#define __MEMBOUND_TIMEALIGN_H__

/* Element message posted by timealign once, after it pushed EOS on every
 * src pad (and again after each flush that restarts the streams). Fields:
 *   ticks-out      guint64  ticks sent on the outputs
 *   ticks-dropped  guint64  ticks dropped on every output (drop policy)
 *   inputs         GstValueArray of GstStructure MB_TIMEALIGN_INPUT_STATS,
 *                  one per sink pad, in pad order. */
#define MB_TIMEALIGN_STATS_MESSAGE "timealign-stats"
#define MB_TIMEALIGN_FIELD_TICKS_OUT "ticks-out"
#define MB_TIMEALIGN_FIELD_TICKS_DROPPED "ticks-dropped"
#define MB_TIMEALIGN_FIELD_INPUTS "inputs"

/* Per-input structure in the `inputs` array. Fields:
 *   pad            string   sink pad name (sink_N; the output is src_N)
 *   topic          string   ROS topic from the stream tags, "" if none
 *   buffers-out    guint64  ticks this input sent a buffer for
 *   repeated       guint64  ... of which repeats (hold, or nearest picking
 *                           the same buffer again; flagged
 *                           MB_BUFFER_FLAG_REPEATED)
 *   interpolated   guint64  ... of which interpolated (linear)
 *   missed         guint64  ticks with nothing within tolerance
 *   gaps           guint64  GAP events sent
 *   overflow       guint64  buffers dropped because the window was full
 *   max-error      guint64  max |source time - tick| in ns
 *   mean-error     guint64  mean |source time - tick| in ns */
#define MB_TIMEALIGN_INPUT_STATS "timealign-input"

#endif /* __MEMBOUND_TIMEALIGN_H__ */
