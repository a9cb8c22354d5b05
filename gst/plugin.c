/* membound: memory-bounded GStreamer elements for robot and media data.
 *
 * This file only registers the elements; each lives in its own gst*.c.
 * An element whose group is not built (meson option `elements`) is not
 * registered.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#ifdef HAVE_ELEMENT_ROSBAGSRC
#include "rosbag/gstrosbagsrc.h"
#endif
#ifdef HAVE_ELEMENT_HDF5SINK
#include "hdf5/gsthdf5sink.h"
#endif
#ifdef HAVE_ELEMENT_HDF5SRC
#include "hdf5/gsthdf5src.h"
#endif
#ifdef HAVE_ELEMENT_TIMEALIGN
#include "timealign/gsttimealign.h"
#endif
#ifdef HAVE_ELEMENT_STEREORECTIFY
#include "rectify/gststereorectify.h"
#endif
#ifdef HAVE_ELEMENT_MEMBUDGET
#include "membudget/gstmembudget.h"
#endif

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

#ifdef HAVE_ELEMENT_ROSBAGSRC
  ret |= GST_ELEMENT_REGISTER (rosbagsrc, plugin);
#endif
#ifdef HAVE_ELEMENT_HDF5SINK
  ret |= GST_ELEMENT_REGISTER (hdf5sink, plugin);
#endif
#ifdef HAVE_ELEMENT_HDF5SRC
  ret |= GST_ELEMENT_REGISTER (hdf5src, plugin);
#endif
#ifdef HAVE_ELEMENT_TIMEALIGN
  ret |= GST_ELEMENT_REGISTER (timealign, plugin);
#endif
#ifdef HAVE_ELEMENT_STEREORECTIFY
  ret |= GST_ELEMENT_REGISTER (stereorectify, plugin);
#endif
#ifdef HAVE_ELEMENT_MEMBUDGET
  ret |= GST_ELEMENT_REGISTER (membudget, plugin);
#endif

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR,
    GST_VERSION_MINOR,
    membound,
    "Memory-bounded elements for ROS bags, stream alignment, stereo rectification and HDF5",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
