/* membound: hdf5src, plays an HDF5 dataset as a stream.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_HDF5_SRC_H__
#define __GST_HDF5_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstbasesrc.h>
#include <gst/video/video.h>

#include "h5reader.h"

G_BEGIN_DECLS

#define GST_TYPE_HDF5_SRC (gst_hdf5_src_get_type())
G_DECLARE_FINAL_TYPE (GstHdf5Src, gst_hdf5_src, GST, HDF5_SRC, GstBaseSrc)

typedef struct _GstHdf5SrcTracker GstHdf5SrcTracker;

struct _GstHdf5Src
{
  GstBaseSrc parent;

  /* properties, GST_OBJECT_LOCK */
  gchar *location;
  gchar *path;
  GstCaps *caps_prop;
  gboolean loop;
  guint64 start_index;
  gint64 stop_index;
  guint batch_size;
  guint max_buffers;

  /* streaming state: set up in start(), used by the streaming thread */
  gchar *file;                  /* location as started */
  MbH5Reader *reader;
  MbH5ReaderKind kind;
  GstCaps *caps;
  gboolean repack;              /* raw video rows to GstVideoInfo strides */
  gboolean padded;              /* ALOHA rows: cut to /compress_len */
  GstVideoInfo vinfo;
  gsize frame_bytes, out_size;
  GstBufferPool *pool;          /* frames */
  GstHdf5SrcTracker *tracker;   /* blobs in flight */
  guint max_in_flight;
  guint batch;                  /* batch-size and loop as started */
  gboolean looping;

  guint64 first, end;           /* rows played: [first, end) */
  guint64 next;                 /* next row to read */
  guint64 loop_count;
  gboolean timed;               /* rows have times (dataset or framerate) */
  gboolean has_ts;              /* ... from a timestamp dataset */
  gboolean has_src_ts;
  GstClockTime frame_dur;       /* from the caps framerate, else NONE */
  gint64 t0, t_last;            /* times of rows first and end - 1 */
  GstClockTime period;          /* one pass incl. the last row's duration */

  gint64 seek_row;              /* DEFAULT seek pending, GST_OBJECT_LOCK */
  GQueue pending;               /* buffers of the current batch */
  gint64 *ts_buf, *src_ts_buf;  /* batch_size + 1 */
  guint8 **blob_data;
  gsize *blob_len;              /* vlen blob / padded row lengths */
};

GST_ELEMENT_REGISTER_DECLARE (hdf5src);

G_END_DECLS

#endif /* __GST_HDF5_SRC_H__ */
