/* membound: rosbagsrc, a memory-bounded ROS1 bag source.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_ROSBAG_SRC_H__
#define __GST_ROSBAG_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstflowcombiner.h>

#include "bag.h"

G_BEGIN_DECLS

#define GST_TYPE_ROSBAG_SRC (gst_rosbag_src_get_type ())
G_DECLARE_FINAL_TYPE (GstRosbagSrc, gst_rosbag_src, GST, ROSBAG_SRC, GstElement)

/**
 * GstRosbagSrcTimestamp:
 * @GST_ROSBAG_SRC_TIMESTAMP_RECORD: the time the recorder stored in the bag
 * @GST_ROSBAG_SRC_TIMESTAMP_HEADER: the message's header.stamp where it has
 *   a std_msgs/Header (record time otherwise)
 */
typedef enum
{
  GST_ROSBAG_SRC_TIMESTAMP_RECORD,
  GST_ROSBAG_SRC_TIMESTAMP_HEADER,
} GstRosbagSrcTimestamp;

#define GST_TYPE_ROSBAG_SRC_TIMESTAMP (gst_rosbag_src_timestamp_get_type ())
GType gst_rosbag_src_timestamp_get_type (void);

typedef struct _GstRosbagStream GstRosbagStream;

struct _GstRosbagSrc
{
  GstElement parent;

  /* properties, GST_OBJECT_LOCK */
  gchar *location;
  gchar *topics;
  guint64 start_time;
  guint64 stop_time;
  GstRosbagSrcTimestamp timestamp;
  gboolean decode;
  guint chunks_in_flight;
  gboolean skip_corrupt;

  /* bag summary for the read-only properties, GST_OBJECT_LOCK */
  gboolean have_info;
  guint64 info_duration;
  guint64 info_start;
  guint64 info_count;
  GstStructure **info_topics;
  guint n_info_topics;

  /* streaming state: created in READY->PAUSED; the reader, segment and
   * streams are used under stream_lock (the task's lock) */
  GRecMutex stream_lock;
  GstTask *task;
  MbBag *bag;
  MbBagReader *reader;
  GstBufferPool *pool;
  gsize pool_size;
  guint pool_max;
  GstFlowCombiner *flowcombiner;
  GstRosbagStream **streams;
  guint n_streams;
  GstRosbagStream **old_streams;  /* pads kept from the previous run */
  guint n_old_streams;
  gint *conn_stream;            /* connection index -> stream index or -1 */
  gpointer conn_infos;          /* per connection: kind, header schema */
  gsize n_conns;
  guint64 bag_start;            /* absolute ns */
  guint64 bag_end;
  GstSegment segment;
  guint32 seqnum;
  guint group_id;
  gboolean posted_recovered;
  gboolean segment_pending;
  GstClockTime position;
  gboolean flushing;            /* GST_OBJECT_LOCK */
  gboolean task_stopping;       /* GST_OBJECT_LOCK */
};

GST_ELEMENT_REGISTER_DECLARE (rosbagsrc);

G_END_DECLS

#endif /* __GST_ROSBAG_SRC_H__ */
