/* membound: GStreamer helpers shared by the elements.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_COMMON_H__
#define __MB_COMMON_H__

#include <gst/gst.h>
#include <membound/membound.h>

G_BEGIN_DECLS

/* Registers the MB_TAG_ROS_* stream tags. Idempotent and thread-safe. */
void mb_tags_init (void);

/* The caps for MB_UNIX_TIME_CAPS / MB_SOURCE_TIME_CAPS (static, not reffed). */
GstCaps *mb_unix_time_caps (void);
GstCaps *mb_source_time_caps (void);

/* Attach / read the absolute capture time (ns since the Unix epoch). */
void mb_buffer_add_unix_time (GstBuffer * buf, guint64 unix_ns);
gboolean mb_buffer_get_unix_time (GstBuffer * buf, guint64 * unix_ns);
void mb_buffer_add_source_time (GstBuffer * buf, guint64 unix_ns);
gboolean mb_buffer_get_source_time (GstBuffer * buf, guint64 * unix_ns);

G_END_DECLS

#endif /* __MB_COMMON_H__ */
