/* membound: names of the bus messages hdf5sink posts and of their fields,
 * for applications. All are element messages (GST_MESSAGE_ELEMENT) whose
 * structure has the name below. See docs/hdf5sink.md.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MEMBOUND_HDF5SINK_H__
#define __MEMBOUND_HDF5SINK_H__

/* Posted every `stats-interval` while the file is open. */
#define MB_HDF5SINK_STATS_MESSAGE "hdf5sink-stats"
/* Posted after each periodic flush: every row counted in it is durable
 * against process death (SIGKILL, crash). */
#define MB_HDF5SINK_FLUSHED_MESSAGE "hdf5sink-flushed"
/* Posted once when EOS on all pads has finalized (flushed + closed) the
 * file, right before the EOS message. */
#define MB_HDF5SINK_DONE_MESSAGE "hdf5sink-done"

/* Fields common to the three messages. */
#define MB_HDF5SINK_FIELD_LOCATION "location"     /* string: the file */
#define MB_HDF5SINK_FIELD_ROWS "rows"             /* guint64: rows in all streams */
#define MB_HDF5SINK_FIELD_BYTES "bytes"           /* guint64: payload bytes in all streams */
#define MB_HDF5SINK_FIELD_DROPPED "dropped"       /* guint64: buffers dropped (leaky) */
/* GstValueArray of GstStructure "stream" with fields
 * MB_HDF5SINK_FIELD_PATH, _ROWS, _BYTES, _DROPPED (one per stream). */
#define MB_HDF5SINK_FIELD_STREAMS "streams"
#define MB_HDF5SINK_FIELD_PATH "path"             /* string: the stream's group or dataset */

/* hdf5sink-stats only. */
#define MB_HDF5SINK_FIELD_QUEUE_BUFFERS "queue-buffers"   /* guint: buffers queued */
#define MB_HDF5SINK_FIELD_QUEUE_BYTES "queue-bytes"       /* guint64 */
/* guint64 ns: write time of one batch into one dataset group, over the
 * last interval (0 when nothing was written). */
#define MB_HDF5SINK_FIELD_LATENCY_P50 "write-latency-p50"
#define MB_HDF5SINK_FIELD_LATENCY_P99 "write-latency-p99"

#endif /* __MEMBOUND_HDF5SINK_H__ */
