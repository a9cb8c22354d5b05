/* membound: GStreamer helpers shared by the elements.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "mbcommon.h"

void
mb_tags_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    gst_tag_register (MB_TAG_ROS_TOPIC, GST_TAG_FLAG_META, G_TYPE_STRING,
        "ROS topic", "ROS topic the stream was recorded from", gst_tag_merge_use_first);
    gst_tag_register (MB_TAG_ROS_TYPE, GST_TAG_FLAG_META, G_TYPE_STRING,
        "ROS type", "ROS message type (pkg/Type)", gst_tag_merge_use_first);
    gst_tag_register (MB_TAG_ROS_MD5SUM, GST_TAG_FLAG_META, G_TYPE_STRING,
        "ROS md5sum", "MD5 sum of the ROS message definition", gst_tag_merge_use_first);
    gst_tag_register (MB_TAG_ROS_MESSAGE_DEFINITION, GST_TAG_FLAG_META,
        G_TYPE_STRING, "ROS message definition",
        "Full ROS message definition text", gst_tag_merge_use_first);
    g_once_init_leave (&once, 1);
  }
}

static GstCaps *
static_caps (GstStaticCaps * sc)
{
  /* gst_static_caps_get returns a new ref each call but the underlying caps
   * live as long as the process; drop the extra ref. */
  GstCaps *caps = gst_static_caps_get (sc);
  gst_caps_unref (caps);
  return caps;
}

GstCaps *
mb_unix_time_caps (void)
{
  static GstStaticCaps sc = GST_STATIC_CAPS (MB_UNIX_TIME_CAPS);
  return static_caps (&sc);
}

GstCaps *
mb_source_time_caps (void)
{
  static GstStaticCaps sc = GST_STATIC_CAPS (MB_SOURCE_TIME_CAPS);
  return static_caps (&sc);
}

static gboolean
get_ref_ts (GstBuffer * buf, GstCaps * caps, guint64 * ns)
{
  GstReferenceTimestampMeta *meta =
      gst_buffer_get_reference_timestamp_meta (buf, caps);
  if (meta == NULL || !GST_CLOCK_TIME_IS_VALID (meta->timestamp))
    return FALSE;
  if (ns)
    *ns = meta->timestamp;
  return TRUE;
}

void
mb_buffer_add_unix_time (GstBuffer * buf, guint64 unix_ns)
{
  gst_buffer_add_reference_timestamp_meta (buf, mb_unix_time_caps (),
      unix_ns, GST_CLOCK_TIME_NONE);
}

gboolean
mb_buffer_get_unix_time (GstBuffer * buf, guint64 * unix_ns)
{
  return get_ref_ts (buf, mb_unix_time_caps (), unix_ns);
}

void
mb_buffer_add_source_time (GstBuffer * buf, guint64 unix_ns)
{
  gst_buffer_add_reference_timestamp_meta (buf, mb_source_time_caps (),
      unix_ns, GST_CLOCK_TIME_NONE);
}

gboolean
mb_buffer_get_source_time (GstBuffer * buf, guint64 * unix_ns)
{
  return get_ref_ts (buf, mb_source_time_caps (), unix_ns);
}
