/* membound: hdf5sink, streaming crash-tolerant HDF5 recorder.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_HDF5_SINK_H__
#define __GST_HDF5_SINK_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_HDF5_SINK (gst_hdf5_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstHdf5Sink, gst_hdf5_sink, GST, HDF5_SINK, GstElement)

#define GST_TYPE_HDF5_SINK_PAD (gst_hdf5_sink_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstHdf5SinkPad, gst_hdf5_sink_pad, GST, HDF5_SINK_PAD,
    GstPad)

/**
 * GstHdf5SinkMode:
 * @GST_HDF5_SINK_MODE_CREATE: fail when the file exists
 * @GST_HDF5_SINK_MODE_OVERWRITE: replace an existing file
 * @GST_HDF5_SINK_MODE_APPEND: extend the streams of an existing file
 */
typedef enum
{
  GST_HDF5_SINK_MODE_CREATE,
  GST_HDF5_SINK_MODE_OVERWRITE,
  GST_HDF5_SINK_MODE_APPEND
} GstHdf5SinkMode;

/**
 * GstHdf5SinkLayout:
 * @GST_HDF5_SINK_LAYOUT_DEFAULT: one group per stream (data, timestamp)
 * @GST_HDF5_SINK_LAYOUT_ALOHA: ALOHA/ACT episode layout
 */
typedef enum
{
  GST_HDF5_SINK_LAYOUT_DEFAULT,
  GST_HDF5_SINK_LAYOUT_ALOHA
} GstHdf5SinkLayout;

/**
 * GstHdf5SinkAlohaRole:
 * @GST_HDF5_SINK_ALOHA_ROLE_CAMERA: /observations/images/<name>
 * @GST_HDF5_SINK_ALOHA_ROLE_QPOS: /observations/qpos
 * @GST_HDF5_SINK_ALOHA_ROLE_QVEL: /observations/qvel
 * @GST_HDF5_SINK_ALOHA_ROLE_EFFORT: /observations/effort
 * @GST_HDF5_SINK_ALOHA_ROLE_ACTION: /action
 * @GST_HDF5_SINK_ALOHA_ROLE_BASE_ACTION: /base_action
 */
typedef enum
{
  GST_HDF5_SINK_ALOHA_ROLE_CAMERA,
  GST_HDF5_SINK_ALOHA_ROLE_QPOS,
  GST_HDF5_SINK_ALOHA_ROLE_QVEL,
  GST_HDF5_SINK_ALOHA_ROLE_EFFORT,
  GST_HDF5_SINK_ALOHA_ROLE_ACTION,
  GST_HDF5_SINK_ALOHA_ROLE_BASE_ACTION
} GstHdf5SinkAlohaRole;

/**
 * GstHdf5SinkBlobLayout:
 * @GST_HDF5_SINK_BLOB_LAYOUT_VLEN: `data` is 1-D variable-length uint8, one
 *   element per buffer
 * @GST_HDF5_SINK_BLOB_LAYOUT_PACKED: `data` is 1-D uint8 holding every
 *   buffer back to back; int64 `offset` and `size` [N] index it
 */
typedef enum
{
  GST_HDF5_SINK_BLOB_LAYOUT_VLEN,
  GST_HDF5_SINK_BLOB_LAYOUT_PACKED
} GstHdf5SinkBlobLayout;

GST_ELEMENT_REGISTER_DECLARE (hdf5sink);

G_END_DECLS

#endif /* __GST_HDF5_SINK_H__ */
