/* membound: bus messages posted by the membudget element.
 *
 * Applications match element messages by structure name and read the fields
 * below with gst_structure_get_* (types given in brackets).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MEMBOUND_MEMBUDGET_H__
#define __MEMBOUND_MEMBUDGET_H__

/* Element message posted every `stats-interval`, only when a value changed
 * since the previous one. Fields: */
#define MB_MEMBUDGET_STATS_MESSAGE "membudget-stats"
/* [guint64] bytes of buffers queued inside the element */
#define MB_MEMBUDGET_FIELD_LEVEL_BYTES "level-bytes"
/* [guint] buffers queued inside the element */
#define MB_MEMBUDGET_FIELD_LEVEL_BUFFERS "level-buffers"
/* [guint64] running time spanned by the queued buffers, ns */
#define MB_MEMBUDGET_FIELD_LEVEL_TIME "level-time"
/* [guint64] bytes pushed downstream that are still alive */
#define MB_MEMBUDGET_FIELD_INFLIGHT_BYTES "inflight-bytes"
/* [guint64]/[guint]/[guint64] high-water marks since the last READY */
#define MB_MEMBUDGET_FIELD_PEAK_LEVEL_BYTES "peak-level-bytes"
#define MB_MEMBUDGET_FIELD_PEAK_LEVEL_BUFFERS "peak-level-buffers"
#define MB_MEMBUDGET_FIELD_PEAK_INFLIGHT_BYTES "peak-inflight-bytes"
/* [guint64] buffers / bytes dropped by the drop policies */
#define MB_MEMBUDGET_FIELD_DROPPED_BUFFERS "dropped-buffers"
#define MB_MEMBUDGET_FIELD_DROPPED_BYTES "dropped-bytes"
/* [string] shared budget name ("" when none), [guint64] its bytes in use
 * (held + in flight, all members), its limit (0 = unlimited) */
#define MB_MEMBUDGET_FIELD_BUDGET "budget"
#define MB_MEMBUDGET_FIELD_BUDGET_USED "budget-used"
#define MB_MEMBUDGET_FIELD_BUDGET_LIMIT "budget-limit"
/* [guint64] process resident set size and its anonymous part, bytes */
#define MB_MEMBUDGET_FIELD_RSS "rss"
#define MB_MEMBUDGET_FIELD_RSS_ANON "rss-anon"
/* [guint64] proportional set size from smaps_rollup, read at most every
 * 10 s on the watch thread (0 until read) */
#define MB_MEMBUDGET_FIELD_PSS "pss"
/* [gint] 0 = no memory cgroup found, 1 = cgroup v1, 2 = cgroup v2 */
#define MB_MEMBUDGET_FIELD_CGROUP_VERSION "cgroup-version"
/* [guint64] cgroup usage (includes page cache), working set (usage minus
 * inactive file pages) and effective limit (memory.high, else memory.max;
 * v1: soft limit, else limit; 0 = none) */
#define MB_MEMBUDGET_FIELD_CGROUP_USAGE "cgroup-usage"
#define MB_MEMBUDGET_FIELD_CGROUP_WORKING_SET "cgroup-working-set"
#define MB_MEMBUDGET_FIELD_CGROUP_LIMIT "cgroup-limit"
/* [gdouble] PSI memory "some" avg10 in percent, -1 when not readable */
#define MB_MEMBUDGET_FIELD_PSI_SOME_AVG10 "psi-some-avg10"
/* [gboolean] TRUE while over `rss-limit` or within the cgroup margin */
#define MB_MEMBUDGET_FIELD_PRESSURE "pressure"

/* Element message posted once when the anonymous-RSS trend has stayed above
 * `leak-threshold` for a whole `leak-window` (posted again only after the
 * trend fell below the threshold). Fields: */
#define MB_MEMBUDGET_LEAK_MESSAGE "membudget-leak-suspected"
/* [gdouble] fitted slope of anonymous RSS, bytes per hour */
#define MB_MEMBUDGET_FIELD_SLOPE "slope"
/* [guint64] the threshold that was exceeded, bytes per hour */
#define MB_MEMBUDGET_FIELD_THRESHOLD "threshold"
/* [guint64] the window the slope was fitted over, ns */
#define MB_MEMBUDGET_FIELD_WINDOW "window"
/* [guint64] anonymous RSS at the first and the last sample, bytes */
#define MB_MEMBUDGET_FIELD_RSS_ANON_START "rss-anon-start"
/* (and MB_MEMBUDGET_FIELD_RSS_ANON for the last sample) */

#endif /* __MEMBOUND_MEMBUDGET_H__ */
