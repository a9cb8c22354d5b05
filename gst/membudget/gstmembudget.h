/* membound: membudget, a queue that states a memory budget and keeps it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_MEMBUDGET_H__
#define __GST_MEMBUDGET_H__

#include <gst/gst.h>

#include "budget.h"
#include "procmem.h"
#include "trend.h"

G_BEGIN_DECLS

#define GST_TYPE_MEMBUDGET (gst_membudget_get_type ())
G_DECLARE_FINAL_TYPE (GstMembudget, gst_membudget, GST, MEMBUDGET, GstElement)

#define GST_TYPE_MEMBUDGET_POLICY (gst_membudget_policy_get_type ())
GType gst_membudget_policy_get_type (void);

typedef enum
{
  GST_MEMBUDGET_POLICY_BLOCK = 0,
  GST_MEMBUDGET_POLICY_DROP_OLDEST = 1,
  GST_MEMBUDGET_POLICY_DROP_NEWEST = 2
} GstMembudgetPolicy;

/* Tracks the bytes a membudget passed downstream that are still alive; one
 * reference per in-flight buffer (through its meta), so it outlives the
 * element when buffers do. */
typedef struct _GstMembudgetTracker GstMembudgetTracker;

struct _GstMembudget
{
  GstElement element;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* everything below is protected by lock unless noted */
  GMutex lock;
  GCond item_add;               /* data queued, or in-flight room */
  GCond item_del;               /* room in the queue / budget / pressure off */
  GCond query_handled;
  gboolean waiting_add;
  gboolean waiting_del;
  GstFlowReturn srcresult;
  gboolean eos_out;              /* the task took the EOS and will pause */
  guint stream_gen;              /* bumped when a new stream restarts the task */
  gboolean eos;
  GQueue queue;                 /* GstBuffer / GstEvent / GstQuery */
  GstQuery *last_handled_query;
  GstQuery *query_in_progress;  /* being answered by the task */
  gboolean last_query_result;
  gboolean discont;             /* next pushed buffer gets DISCONT */
  gboolean tail_discont;        /* next queued buffer gets DISCONT */
  gboolean stall_warned;

  GstSegment sink_segment;
  GstSegment src_segment;
  GstClockTime sinktime;
  GstClockTime srctime;

  guint level_buffers;
  guint64 level_bytes;
  guint64 level_time;
  guint peak_buffers;
  guint64 peak_bytes;
  guint64 peak_inflight;
  guint64 processed;
  guint64 dropped_buffers;
  guint64 dropped_bytes;

  GstMembudgetTracker *tracker;
  MbBudget *budget;
  guint budget_listener;
  gboolean budget_blocked;
  gint budget_waiting;          /* atomic: read by the budget listener */

  /* readings of the monitor thread */
  gboolean pressure;
  guint64 rss;
  guint64 rss_anon;
  guint64 pss;
  gint cgroup_version;
  guint64 cgroup_usage;
  guint64 cgroup_working_set;
  guint64 cgroup_limit;
  gdouble psi_some_avg10;

  /* properties */
  guint max_size_buffers;
  guint64 max_size_bytes;
  guint64 max_size_time;
  guint64 max_inflight_bytes;
  gchar *budget_name;
  guint64 budget_bytes;
  GstMembudgetPolicy policy;
  guint64 watch_interval;
  guint64 rss_limit;
  guint cgroup_margin;
  gboolean trim;
  guint64 leak_window;
  guint64 leak_threshold;
  guint64 stats_interval;
  guint pool_buffers;
  gchar *proc_root;
  gchar *fs_root;

  /* monitor thread; mon_lock protects mon_stop */
  GThread *monitor;
  GMutex mon_lock;
  GCond mon_cond;
  gboolean mon_stop;
};

GST_ELEMENT_REGISTER_DECLARE (membudget);

G_END_DECLS

#endif /* __GST_MEMBUDGET_H__ */
