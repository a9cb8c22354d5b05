/* membound: timealign, aligns any number of streams to a reference stream
 * or a fixed rate.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_TIME_ALIGN_H__
#define __GST_TIME_ALIGN_H__

#include <gst/gst.h>
#include <gst/base/gstflowcombiner.h>

#include "align.h"

G_BEGIN_DECLS

#define GST_TYPE_TIME_ALIGN (gst_time_align_get_type ())
G_DECLARE_FINAL_TYPE (GstTimeAlign, gst_time_align, GST, TIME_ALIGN, GstElement)

#define GST_TYPE_TIME_ALIGN_PAD (gst_time_align_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstTimeAlignPad, gst_time_align_pad, GST, TIME_ALIGN_PAD,
    GstPad)

#define GST_TYPE_TIME_ALIGN_MODE (gst_time_align_mode_get_type ())
GType gst_time_align_mode_get_type (void);
#define GST_TYPE_TIME_ALIGN_POLICY (gst_time_align_policy_get_type ())
GType gst_time_align_policy_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (timealign);

G_END_DECLS

#endif /* __GST_TIME_ALIGN_H__ */
