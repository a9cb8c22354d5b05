/* membound: names of rosbagsrc's properties and bus messages that
 * applications rely on.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MEMBOUND_ROSBAGSRC_H__
#define __MEMBOUND_ROSBAGSRC_H__

/* Read-only property: GstValueArray of GstStructures named
 * MB_ROSBAGSRC_TOPIC_STRUCT with fields `topic` (string), `type` (string),
 * `md5sum` (string), `count` (guint64, messages in the bag) and `pad-name`
 * (string, the name of the src pad the topic gets). */
#define MB_ROSBAGSRC_PROP_TOPIC_LIST "topic-list"
#define MB_ROSBAGSRC_TOPIC_STRUCT "rosbag-topic"

/* Element message posted (from the streaming thread, before the first
 * buffer) when a bag without a usable index was read by scanning its chunks
 * (recorder killed before closing, or a truncated file). Fields: `location`
 * (string), `unreadable-bytes` (guint64, bytes at the end that could not be
 * read), `chunks` (guint, complete chunks recovered). A GST_ELEMENT_WARNING
 * with the same facts is posted too. */
#define MB_ROSBAGSRC_MSG_RECOVERED "rosbagsrc-recovered"

/* Element message posted when skip-corrupt=true skipped a chunk that could
 * not be read. Fields: `location` (string), `offset` (guint64, file offset of
 * the chunk record), `reason` (string). A GST_ELEMENT_WARNING is posted too. */
#define MB_ROSBAGSRC_MSG_CHUNK_SKIPPED "rosbagsrc-chunk-skipped"

#endif /* __MEMBOUND_ROSBAGSRC_H__ */
