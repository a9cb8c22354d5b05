/* membound: names shared by the elements and by applications.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MEMBOUND_H__
#define __MEMBOUND_H__

/* Caps of the GstReferenceTimestampMeta that carries the absolute capture
 * time of a buffer in nanoseconds since the Unix epoch. Every membound
 * element that knows the absolute time attaches it; PTS stays running time. */
#define MB_UNIX_TIME_CAPS "timestamp/x-unix"

/* Caps of a second GstReferenceTimestampMeta that timealign attaches to an
 * output buffer: the original capture time (ns since the Unix epoch) of the
 * input buffer chosen for that tick, while MB_UNIX_TIME_CAPS then holds the
 * tick's aligned time. hdf5sink stores it as `source_timestamp`. */
#define MB_SOURCE_TIME_CAPS "timestamp/x-membound-source"

/* Media type of a serialized ROS1 message. Fields: `type` (string,
 * "pkg/Type"), `md5sum` (string), `message-definition` (string). The
 * payload is the message exactly as serialized in the bag. */
#define MB_ROS1_MESSAGE_CAPS "application/x-ros1-message"

/* Stream tags (registered by the plugin, all G_TYPE_STRING). */
#define MB_TAG_ROS_TOPIC "ros-topic"
#define MB_TAG_ROS_TYPE "ros-type"
#define MB_TAG_ROS_MD5SUM "ros-md5sum"
#define MB_TAG_ROS_MESSAGE_DEFINITION "ros-message-definition"

/* Buffer flag set by timealign on an output buffer that repeats a buffer it
 * already sent for an earlier tick (hold / previous). Equals
 * GST_BUFFER_FLAG_LAST, the first flag GStreamer leaves to media-specific
 * use. */
#define MB_BUFFER_FLAG_REPEATED (1 << 20)

#endif /* __MEMBOUND_H__ */
