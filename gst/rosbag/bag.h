/* membound: ROS1 bag (format 2.0) reader. Plain C, no GStreamer types.
 *
 * Memory is bounded by construction: opening a bag reads the file header,
 * the connection records and the CHUNK INFO records at the tail (O(chunks)),
 * never the per-message index. Messages are then produced chunk by chunk by
 * an MbBagReader: each chunk is decompressed into a buffer the *caller*
 * supplies (mb_bag_reader_supply), and handed back through a release
 * callback once no pending message points into it. The reader merges chunks
 * whose time ranges overlap (k-way merge), so at any time it holds only the
 * chunks that overlap the current message time; its own allocations are a
 * per-chunk entry table (bounded by the chunk size) and a fixed read buffer.
 *
 * Bags whose index is missing (index_pos = 0: the recorder was killed) or
 * unreadable (truncated file) are opened by scanning the chunk section from
 * its start up to the last complete chunk; mb_bag_unreadable_bytes() then
 * tells how many bytes at the end could not be used.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_BAG_H__
#define __MB_BAG_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes (negative = error; the error text is in the err buffer). */
typedef enum {
  MB_BAG_OK = 0,
  MB_BAG_EOF = 1,               /* mb_bag_reader_next: no more messages */
  MB_BAG_NEED_BUFFER = 2,       /* mb_bag_reader_next: supply a chunk buffer */
  MB_BAG_ERR_OPEN = -1,         /* missing or unreadable file */
  MB_BAG_ERR_NOT_A_BAG = -2,    /* empty file, wrong magic */
  MB_BAG_ERR_VERSION = -3,      /* bag format 1.2 or other unsupported version */
  MB_BAG_ERR_FORMAT = -4,       /* malformed header / index records */
  MB_BAG_ERR_COMPRESSION = -5,  /* unknown chunk compression */
  MB_BAG_ERR_CORRUPT = -6,      /* a chunk cannot be read or decompressed */
  MB_BAG_ERR_READ = -7,         /* I/O error while reading */
  MB_BAG_ERR_NOMEM = -8,
  MB_BAG_ERR_UNSUPPORTED = -9   /* encrypted bags */
} MbBagResult;

#define MB_BAG_ERR_LEN 512

typedef struct _MbBag MbBag;
typedef struct _MbBagReader MbBagReader;

typedef struct {
  uint32_t id;                  /* conn id in the bag */
  char *topic;
  char *type;                   /* "pkg/Type" */
  char *md5sum;
  char *message_definition;     /* NUL-terminated */
  size_t message_definition_len;
  char *callerid;               /* may be NULL */
  int latching;
  uint64_t count;               /* messages on this connection (0 if unknown) */
} MbBagConnection;

typedef struct {
  const MbBagConnection *conn;
  uint64_t time_ns;             /* record time, ns since the epoch */
  const uint8_t *data;          /* the serialized message, inside the chunk buffer */
  uint32_t len;
  void *chunk_user;             /* the @user given with that chunk's buffer */
  size_t chunk_offset;          /* data - start of that chunk buffer */
} MbBagMessage;

/* Opens @path. On failure returns NULL, *res (may be NULL) gets the error
 * code and @err (may be NULL, MB_BAG_ERR_LEN bytes advised) a message that
 * names the file and what is wrong. */
MbBag *mb_bag_open (const char *path, MbBagResult * res, char *err, size_t err_len);
void mb_bag_close (MbBag * bag);

const char *mb_bag_path (const MbBag * bag);
/* 1 when the tail index was used, 0 when the bag was recovered by a scan. */
int mb_bag_is_indexed (const MbBag * bag);
/* Bytes at the end of the file that could not be read (recovered bags). */
uint64_t mb_bag_unreadable_bytes (const MbBag * bag);
/* Time of the first and last message (ns since the epoch), 0 if empty. */
uint64_t mb_bag_start_time (const MbBag * bag);
uint64_t mb_bag_end_time (const MbBag * bag);
uint64_t mb_bag_message_count (const MbBag * bag);
size_t mb_bag_n_chunks (const MbBag * bag);

size_t mb_bag_n_connections (const MbBag * bag);
const MbBagConnection *mb_bag_connection (const MbBag * bag, size_t i);
const MbBagConnection *mb_bag_connection_by_id (const MbBag * bag, uint32_t id);

/* Called when the reader no longer needs a supplied chunk buffer (no message
 * it returns from now on points into it). Messages already returned stay
 * valid as long as the caller keeps the buffer alive. */
typedef void (*MbBagReleaseFunc) (void *chunk_user, void *user_data);

/* A message iterator over the connections for which @select[i] is non-zero
 * (i = index as in mb_bag_connection(); NULL = all), with record times in
 * [start_ns, end_ns] (inclusive, absolute ns). Messages come out in
 * non-decreasing time order (ties in file order). */
MbBagReader *mb_bag_reader_new (MbBag * bag, const uint8_t * select,
    uint64_t start_ns, uint64_t end_ns, MbBagReleaseFunc release, void *user_data);
/* Releases every chunk still held (through the release callback). */
void mb_bag_reader_free (MbBagReader * r);

/* Next message. Returns MB_BAG_OK (@msg filled), MB_BAG_EOF, MB_BAG_NEED_BUFFER
 * (call mb_bag_reader_needed_size then mb_bag_reader_supply or
 * mb_bag_reader_skip, then call next again) or an error (@err filled). */
MbBagResult mb_bag_reader_next (MbBagReader * r, MbBagMessage * msg, char *err,
    size_t err_len);
/* Uncompressed size of the chunk the reader is waiting for. */
size_t mb_bag_reader_needed_size (const MbBagReader * r);
/* File offset of the chunk the reader is waiting for. */
uint64_t mb_bag_reader_needed_offset (const MbBagReader * r);
/* Reads and decompresses the pending chunk into @mem (@size >= needed size).
 * On success the reader keeps @mem until it calls the release callback with
 * @chunk_user. On error (MB_BAG_ERR_CORRUPT / READ, @err names the chunk's
 * file offset) the buffer is NOT kept; the caller may then mb_bag_reader_skip
 * the chunk or give up. */
MbBagResult mb_bag_reader_supply (MbBagReader * r, uint8_t * mem, size_t size,
    void *chunk_user, char *err, size_t err_len);
/* Drops the pending chunk without reading it. */
void mb_bag_reader_skip (MbBagReader * r);
/* Upper bound of chunk buffers a reader holds at once for this bag and
 * selection (the deepest overlap of chunk time ranges, at least 1). */
size_t mb_bag_reader_max_chunks (const MbBagReader * r);

/* Messages of the connections in @select (NULL = all), from the chunk
 * index (CHUNK INFO counts). */
uint64_t mb_bag_count_messages (const MbBag * bag, const uint8_t * select);

#ifdef __cplusplus
}
#endif
#endif /* __MB_BAG_H__ */
