/* membound: ROS1 bag (format 2.0) reader. See bag.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bag.h"

#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BAG_MAGIC "#ROSBAG V2.0\n"
#define BAG_MAGIC_LEN 13

#define OP_MSG_DATA 0x02
#define OP_FILE_HEADER 0x03
#define OP_INDEX_DATA 0x04
#define OP_CHUNK 0x05
#define OP_CHUNK_INFO 0x06
#define OP_CONNECTION 0x07

/* Sanity limits for lengths read from the file. */
#define MAX_HEADER_LEN (1u << 20)
#define MAX_CONN_DATA_LEN (16u << 20)
/* A compressed chunk may claim at most this size, or 4096 times its
 * compressed size (lz4 cannot exceed ~255:1; bz2 only on degenerate data),
 * so a corrupt `size` field cannot make the reader allocate gigabytes. */
#define MAX_PLAIN_CHUNK_SIZE (64u << 20)
#define MAX_CHUNK_RATIO 4096u
#define READ_BUF_SIZE (256u * 1024u)

typedef enum {
  COMP_NONE,
  COMP_BZ2,
  COMP_LZ4
} Compression;

typedef struct {
  uint64_t pos;                 /* CHUNK record position */
  uint64_t start_ns, end_ns;
  uint32_t n_conn;
  uint32_t *conn_ids;           /* n_conn */
  uint32_t *counts;             /* n_conn */
} BagChunk;

struct _MbBag {
  int fd;
  char *path;
  uint64_t file_size;
  uint64_t chunks_begin;        /* first record after the bag header */
  int indexed;
  uint64_t unreadable;
  int io_errno;                 /* errno of the read error read_index met */
  uint64_t io_pos;              /* and where */

  MbBagConnection *conns;       /* sorted by id */
  size_t n_conns, alloc_conns;

  BagChunk *chunks;             /* sorted by (start_ns, pos) */
  size_t n_chunks, alloc_chunks;

  uint64_t start_ns, end_ns, n_messages;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static void
set_err (char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format (printf, 3, 4)));

static void
set_err (char *err, size_t err_len, const char *fmt, ...)
{
  va_list ap;

  if (!err || !err_len)
    return;
  va_start (ap, fmt);
  vsnprintf (err, err_len, fmt, ap);
  va_end (ap);
}

static uint32_t
rd32 (const uint8_t * p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) |
      ((uint32_t) p[3] << 24);
}

static uint64_t
rd64 (const uint8_t * p)
{
  return (uint64_t) rd32 (p) | ((uint64_t) rd32 (p + 4) << 32);
}

static uint64_t
rdtime (const uint8_t * p)
{
  return (uint64_t) rd32 (p) * 1000000000ull + rd32 (p + 4);
}

static int
pread_full (int fd, void *buf, size_t len, uint64_t off)
{
  uint8_t *p = buf;

  while (len > 0) {
    ssize_t n = pread (fd, p, len, (off_t) off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0)
      return 0;
    p += n;
    len -= (size_t) n;
    off += (uint64_t) n;
  }
  return 1;
}

/* Finds field @name in a record header. Returns 1 and sets *val / *vlen. */
static int
hdr_find (const uint8_t * h, size_t len, const char *name,
    const uint8_t ** val, size_t *vlen)
{
  size_t nlen = strlen (name);
  size_t pos = 0;

  while (pos + 4 <= len) {
    uint32_t flen = rd32 (h + pos);
    const uint8_t *f = h + pos + 4;
    const uint8_t *eq;

    if (flen > len - pos - 4)
      return 0;
    eq = memchr (f, '=', flen);
    if (eq && (size_t) (eq - f) == nlen && memcmp (f, name, nlen) == 0) {
      *val = eq + 1;
      *vlen = flen - nlen - 1;
      return 1;
    }
    pos += 4 + (size_t) flen;
  }
  return 0;
}

/* Field @name of a record header when its value is exactly @size bytes. */
static const uint8_t *
hdr_fixed (const uint8_t * h, size_t len, const char *name, size_t size)
{
  const uint8_t *v;
  size_t vl;

  if (!hdr_find (h, len, name, &v, &vl) || vl != size)
    return NULL;
  return v;
}

static int
hdr_u8 (const uint8_t * h, size_t len, const char *name, uint8_t * out)
{
  const uint8_t *v = hdr_fixed (h, len, name, 1);

  if (v)
    *out = v[0];
  return v != NULL;
}

static int
hdr_u32 (const uint8_t * h, size_t len, const char *name, uint32_t * out)
{
  const uint8_t *v = hdr_fixed (h, len, name, 4);

  if (v)
    *out = rd32 (v);
  return v != NULL;
}

static int
hdr_u64 (const uint8_t * h, size_t len, const char *name, uint64_t * out)
{
  const uint8_t *v = hdr_fixed (h, len, name, 8);

  if (v)
    *out = rd64 (v);
  return v != NULL;
}

static int
hdr_time (const uint8_t * h, size_t len, const char *name, uint64_t * out)
{
  const uint8_t *v = hdr_fixed (h, len, name, 8);

  if (v)
    *out = rdtime (v);
  return v != NULL;
}

static char *
hdr_strdup (const uint8_t * h, size_t len, const char *name)
{
  const uint8_t *v;
  size_t vl;
  char *s;

  if (!hdr_find (h, len, name, &v, &vl))
    return NULL;
  s = malloc (vl + 1);
  if (!s)
    return NULL;
  memcpy (s, v, vl);
  s[vl] = '\0';
  return s;
}

/* A top-level record read from the file: its header in memory, its data
 * left in the file. */
typedef struct {
  uint64_t pos;                 /* record start */
  uint8_t *hdr;
  uint32_t hdr_len;
  uint32_t data_len;
  uint64_t data_pos;
  uint64_t end;                 /* first byte after the record */
  uint8_t op;
} Record;

/* Returns 1 on success, 0 on a short / malformed record, -1 on I/O error. */
static int
read_record (MbBag * bag, uint64_t pos, Record * rec)
{
  uint8_t b[4];
  int r;

  memset (rec, 0, sizeof (*rec));
  rec->pos = pos;
  if (pos + 8 > bag->file_size)
    return 0;
  if ((r = pread_full (bag->fd, b, 4, pos)) <= 0)
    return r;
  rec->hdr_len = rd32 (b);
  if (rec->hdr_len == 0 || rec->hdr_len > MAX_HEADER_LEN ||
      pos + 8 + rec->hdr_len > bag->file_size)
    return 0;
  rec->hdr = malloc (rec->hdr_len);
  if (!rec->hdr)
    return -1;
  if ((r = pread_full (bag->fd, rec->hdr, rec->hdr_len, pos + 4)) <= 0
      || (r = pread_full (bag->fd, b, 4, pos + 4 + rec->hdr_len)) <= 0) {
    free (rec->hdr);
    rec->hdr = NULL;
    return r;
  }
  rec->data_len = rd32 (b);
  rec->data_pos = pos + 8 + rec->hdr_len;
  rec->end = rec->data_pos + rec->data_len;
  if (!hdr_u8 (rec->hdr, rec->hdr_len, "op", &rec->op)) {
    free (rec->hdr);
    rec->hdr = NULL;
    return 0;
  }
  return 1;
}

static void
record_clear (Record * rec)
{
  free (rec->hdr);
  rec->hdr = NULL;
}

/* ------------------------------------------------------------------ */
/* connections and chunks                                              */

static ssize_t
conn_index (const MbBag * bag, uint32_t id)
{
  size_t lo = 0, hi = bag->n_conns;

  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (bag->conns[mid].id == id)
      return (ssize_t) mid;
    if (bag->conns[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

static void
conn_clear (MbBagConnection * c)
{
  free (c->topic);
  free (c->type);
  free (c->md5sum);
  free (c->message_definition);
  free (c->callerid);
}

/* Registers a connection from its record header @h and data @d (the
 * connection header). Returns 1 when added or already known, 0 when
 * malformed, -1 on OOM. */
static int
add_connection (MbBag * bag, const uint8_t * h, size_t hl, const uint8_t * d,
    size_t dl)
{
  uint32_t id;
  MbBagConnection c;
  const uint8_t *v;
  size_t vl, i;

  if (!hdr_u32 (h, hl, "conn", &id))
    return 0;
  if (conn_index (bag, id) >= 0)
    return 1;
  memset (&c, 0, sizeof (c));
  c.id = id;
  c.topic = hdr_strdup (h, hl, "topic");
  if (!c.topic)
    c.topic = hdr_strdup (d, dl, "topic");
  c.type = hdr_strdup (d, dl, "type");
  c.md5sum = hdr_strdup (d, dl, "md5sum");
  c.message_definition = hdr_strdup (d, dl, "message_definition");
  c.callerid = hdr_strdup (d, dl, "callerid");
  if (hdr_find (d, dl, "latching", &v, &vl))
    c.latching = (vl == 1 && v[0] == '1');
  if (!c.topic || !c.type || !c.md5sum) {
    conn_clear (&c);
    return 0;
  }
  if (!c.message_definition)
    c.message_definition = calloc (1, 1);
  if (!c.message_definition) {
    conn_clear (&c);
    return -1;
  }
  c.message_definition_len = strlen (c.message_definition);

  if (bag->n_conns == bag->alloc_conns) {
    size_t n = bag->alloc_conns ? bag->alloc_conns * 2 : 16;
    MbBagConnection *nc = realloc (bag->conns, n * sizeof (*nc));
    if (!nc) {
      conn_clear (&c);
      return -1;
    }
    bag->conns = nc;
    bag->alloc_conns = n;
  }
  i = bag->n_conns;
  while (i > 0 && bag->conns[i - 1].id > id) {
    bag->conns[i] = bag->conns[i - 1];
    i--;
  }
  bag->conns[i] = c;
  bag->n_conns++;
  return 1;
}

static BagChunk *
add_chunk (MbBag * bag)
{
  BagChunk *c;

  if (bag->n_chunks == bag->alloc_chunks) {
    size_t n = bag->alloc_chunks ? bag->alloc_chunks * 2 : 64;
    BagChunk *nc = realloc (bag->chunks, n * sizeof (*nc));
    if (!nc)
      return NULL;
    bag->chunks = nc;
    bag->alloc_chunks = n;
  }
  c = &bag->chunks[bag->n_chunks++];
  memset (c, 0, sizeof (*c));
  return c;
}

static void
chunk_clear (BagChunk * c)
{
  free (c->conn_ids);
  free (c->counts);
  c->conn_ids = c->counts = NULL;
  c->n_conn = 0;
}

/* Adds @n messages of @conn to chunk @c's connection table. */
static int
chunk_add_count (BagChunk * c, uint32_t conn, uint32_t n)
{
  uint32_t i;
  uint32_t *ids, *cnt;

  for (i = 0; i < c->n_conn; i++) {
    if (c->conn_ids[i] == conn) {
      c->counts[i] += n;
      return 0;
    }
  }
  ids = realloc (c->conn_ids, (c->n_conn + 1) * sizeof (uint32_t));
  if (!ids)
    return -1;
  c->conn_ids = ids;
  cnt = realloc (c->counts, (c->n_conn + 1) * sizeof (uint32_t));
  if (!cnt)
    return -1;
  c->counts = cnt;
  c->conn_ids[c->n_conn] = conn;
  c->counts[c->n_conn] = n;
  c->n_conn++;
  return 0;
}

static int
chunk_cmp (const void *a, const void *b)
{
  const BagChunk *x = a, *y = b;

  if (x->start_ns != y->start_ns)
    return x->start_ns < y->start_ns ? -1 : 1;
  if (x->pos != y->pos)
    return x->pos < y->pos ? -1 : 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* chunk decompression                                                 */

typedef struct {
  Compression comp;
  uint32_t size;                /* uncompressed */
  uint64_t data_pos;
  uint32_t data_len;
  uint64_t end;
} ChunkHeader;

/* Reads the CHUNK record header at @pos. */
static MbBagResult
read_chunk_header (MbBag * bag, uint64_t pos, ChunkHeader * ch, char *err,
    size_t err_len)
{
  Record rec;
  const uint8_t *v;
  size_t vl;
  int r = read_record (bag, pos, &rec);

  if (r < 0) {
    set_err (err, err_len, "%s: read error at offset %" PRIu64 ": %s",
        bag->path, pos, strerror (errno));
    return MB_BAG_ERR_READ;
  }
  if (r == 0 || rec.op != OP_CHUNK) {
    record_clear (&rec);
    set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
        ": no chunk record there", bag->path, pos);
    return MB_BAG_ERR_CORRUPT;
  }
  if (!hdr_u32 (rec.hdr, rec.hdr_len, "size", &ch->size) ||
      !hdr_find (rec.hdr, rec.hdr_len, "compression", &v, &vl)) {
    record_clear (&rec);
    set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
        ": chunk header lacks size or compression", bag->path, pos);
    return MB_BAG_ERR_CORRUPT;
  }
  if (vl == 4 && memcmp (v, "none", 4) == 0)
    ch->comp = COMP_NONE;
  else if (vl == 3 && memcmp (v, "bz2", 3) == 0)
    ch->comp = COMP_BZ2;
  else if (vl == 3 && memcmp (v, "lz4", 3) == 0)
    ch->comp = COMP_LZ4;
  else {
    set_err (err, err_len, "%s: chunk at offset %" PRIu64
        " uses unknown compression '%.*s' (supported: none, bz2, lz4)",
        bag->path, pos, (int) (vl > 32 ? 32 : vl), (const char *) v);
    record_clear (&rec);
    return MB_BAG_ERR_COMPRESSION;
  }
  ch->data_pos = rec.data_pos;
  ch->data_len = rec.data_len;
  ch->end = rec.end;
  record_clear (&rec);
  if (ch->end > bag->file_size) {
    set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
        ": chunk data runs past the end of the file", bag->path, pos);
    return MB_BAG_ERR_CORRUPT;
  }
  if (ch->comp != COMP_NONE && ch->size > MAX_PLAIN_CHUNK_SIZE &&
      ch->size / MAX_CHUNK_RATIO > ch->data_len) {
    set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
        ": %u compressed bytes cannot hold %u", bag->path, pos, ch->data_len,
        ch->size);
    return MB_BAG_ERR_CORRUPT;
  }
  if (ch->comp == COMP_NONE && ch->size != ch->data_len) {
    set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
        ": uncompressed chunk of %u bytes stores %u", bag->path, pos,
        ch->size, ch->data_len);
    return MB_BAG_ERR_CORRUPT;
  }
  return MB_BAG_OK;
}

/* Decompresses the chunk described by @ch into @out (ch->size bytes), using
 * @tmp (READ_BUF_SIZE bytes) as the read buffer. */
static MbBagResult
decompress_chunk (MbBag * bag, uint64_t pos, const ChunkHeader * ch,
    uint8_t * out, uint8_t * tmp, char *err, size_t err_len)
{
  uint64_t in_pos = ch->data_pos, in_end = ch->data_pos + ch->data_len;
  int r;

  if (ch->comp == COMP_NONE) {
    r = pread_full (bag->fd, out, ch->size, ch->data_pos);
    if (r < 0) {
      set_err (err, err_len, "%s: read error in the chunk at offset %" PRIu64
          ": cannot read %u bytes: %s", bag->path, pos, ch->size,
          strerror (errno));
      return MB_BAG_ERR_READ;
    }
    if (r == 0) {
      set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
          ": cannot read %u bytes (end of file)", bag->path, pos, ch->size);
      return MB_BAG_ERR_CORRUPT;
    }
    return MB_BAG_OK;
  }

  if (ch->comp == COMP_BZ2) {
    bz_stream bz;
    int ret = BZ_OK;

    memset (&bz, 0, sizeof (bz));
    if (BZ2_bzDecompressInit (&bz, 0, 0) != BZ_OK) {
      set_err (err, err_len, "%s: bz2 init failed", bag->path);
      return MB_BAG_ERR_NOMEM;
    }
    bz.next_out = (char *) out;
    bz.avail_out = ch->size;
    while (ret == BZ_OK) {
      if (bz.avail_in == 0) {
        size_t n = in_end - in_pos > READ_BUF_SIZE ? READ_BUF_SIZE :
            (size_t) (in_end - in_pos);
        if (n == 0)
          break;
        if ((r = pread_full (bag->fd, tmp, n, in_pos)) < 0) {
          int e = errno;
          BZ2_bzDecompressEnd (&bz);
          set_err (err, err_len, "%s: read error in the chunk at offset %"
              PRIu64 ": cannot read %zu bytes: %s", bag->path, pos, n,
              strerror (e));
          return MB_BAG_ERR_READ;
        }
        if (r == 0)
          break;
        in_pos += n;
        bz.next_in = (char *) tmp;
        bz.avail_in = (unsigned) n;
      }
      ret = BZ2_bzDecompress (&bz);
      if (ret == BZ_OK && bz.avail_out == 0 && bz.avail_in > 0)
        break;
    }
    BZ2_bzDecompressEnd (&bz);
    if (ret != BZ_STREAM_END || bz.avail_out != 0) {
      set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
          ": bz2 data does not decompress to %u bytes (bzip2 code %d)",
          bag->path, pos, ch->size, ret);
      return MB_BAG_ERR_CORRUPT;
    }
    return MB_BAG_OK;
  } else {
    LZ4F_dctx *dctx = NULL;
    size_t out_pos = 0, hint = 1;
    size_t avail = 0, consumed = 0;

    if (LZ4F_isError (LZ4F_createDecompressionContext (&dctx, LZ4F_VERSION))) {
      set_err (err, err_len, "%s: lz4 init failed", bag->path);
      return MB_BAG_ERR_NOMEM;
    }
    while (hint != 0) {
      size_t src_n, dst_n;
      if (consumed == avail) {
        size_t n = in_end - in_pos > READ_BUF_SIZE ? READ_BUF_SIZE :
            (size_t) (in_end - in_pos);
        if (n == 0)
          break;
        if ((r = pread_full (bag->fd, tmp, n, in_pos)) < 0) {
          int e = errno;
          LZ4F_freeDecompressionContext (dctx);
          set_err (err, err_len, "%s: read error in the chunk at offset %"
              PRIu64 ": cannot read %zu bytes: %s", bag->path, pos, n,
              strerror (e));
          return MB_BAG_ERR_READ;
        }
        if (r == 0)
          break;
        in_pos += n;
        avail = n;
        consumed = 0;
      }
      src_n = avail - consumed;
      dst_n = ch->size - out_pos;
      hint = LZ4F_decompress (dctx, out + out_pos, &dst_n, tmp + consumed,
          &src_n, NULL);
      if (LZ4F_isError (hint))
        break;
      out_pos += dst_n;
      consumed += src_n;
      if (dst_n == 0 && src_n == 0 && out_pos == ch->size && hint != 0) {
        /* output full but the frame goes on: too much data */
        hint = (size_t) - 1;
        break;
      }
    }
    LZ4F_freeDecompressionContext (dctx);
    if (hint != 0 || out_pos != ch->size) {
      set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
          ": lz4 data does not decompress to %u bytes", bag->path, pos,
          ch->size);
      return MB_BAG_ERR_CORRUPT;
    }
    return MB_BAG_OK;
  }
}

/* Walks the records of a decompressed chunk. For each MESSAGE DATA record
 * calls @msg_cb (record offset, conn, time); CONNECTION records are
 * registered in @bag when @bag is not NULL. Returns 0, or -1 when the
 * records are malformed (what was walked before stays valid), or the
 * callback's non-zero value. */
typedef int (*WalkMsgFunc) (void *ud, size_t off, uint32_t conn, uint64_t t);

static int
walk_chunk (MbBag * bag, const uint8_t * buf, size_t size, WalkMsgFunc cb,
    void *ud)
{
  size_t pos = 0;

  while (pos < size) {
    uint32_t hl, dl, conn;
    const uint8_t *h;
    uint8_t op;
    uint64_t t;

    if (size - pos < 4)
      return -1;
    hl = rd32 (buf + pos);
    if (hl > size - pos - 4 || size - pos - 4 - hl < 4)
      return -1;
    h = buf + pos + 4;
    dl = rd32 (h + hl);
    if (dl > size - pos - 8 - hl)
      return -1;
    if (!hdr_u8 (h, hl, "op", &op))
      return -1;
    if (op == OP_MSG_DATA) {
      if (!hdr_u32 (h, hl, "conn", &conn) || !hdr_time (h, hl, "time", &t))
        return -1;
      if (cb) {
        int r = cb (ud, pos, conn, t);
        if (r)
          return r;
      }
    } else if (op == OP_CONNECTION && bag) {
      if (add_connection (bag, h, hl, h + hl + 4, dl) < 0)
        return -1;
    }
    pos += 8 + (size_t) hl + dl;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* open                                                                */

/* Remembers a read error (not corruption) met while reading the index: the
 * bag is not scanned then, the error is reported as such. Returns -1. */
static int
index_io_error (MbBag * bag, uint64_t pos, int e)
{
  bag->io_errno = e ? e : EIO;
  bag->io_pos = pos;
  return -1;
}

/* Returns 1 when the index was read, 0 when it is missing or malformed
 * (scan instead), -1 on a read error (bag->io_errno). */
static int
read_index (MbBag * bag, uint64_t index_pos, uint32_t n_conn, uint32_t n_chunk)
{
  uint64_t pos = index_pos;
  uint32_t i;
  int r = 0;

  for (i = 0; i < n_conn; i++) {
    Record rec;
    uint8_t *d;
    int ok;

    if ((r = read_record (bag, pos, &rec)) < 0)
      return index_io_error (bag, pos, errno);
    if (r == 0)
      return 0;
    if (rec.op != OP_CONNECTION || rec.data_len > MAX_CONN_DATA_LEN ||
        rec.end > bag->file_size) {
      record_clear (&rec);
      return 0;
    }
    d = malloc (rec.data_len ? rec.data_len : 1);
    if (!d || (r = pread_full (bag->fd, d, rec.data_len, rec.data_pos)) <= 0) {
      int e = errno;
      free (d);
      record_clear (&rec);
      return d && r < 0 ? index_io_error (bag, rec.data_pos, e) : 0;
    }
    ok = add_connection (bag, rec.hdr, rec.hdr_len, d, rec.data_len);
    free (d);
    record_clear (&rec);
    if (ok <= 0)
      return 0;
    pos = rec.end;
  }
  for (i = 0; i < n_chunk; i++) {
    Record rec;
    uint32_t ver, count, j;
    BagChunk *c;
    uint8_t *d;

    if ((r = read_record (bag, pos, &rec)) < 0)
      return index_io_error (bag, pos, errno);
    if (r == 0)
      return 0;
    if (rec.op != OP_CHUNK_INFO || rec.end > bag->file_size) {
      record_clear (&rec);
      return 0;
    }
    c = add_chunk (bag);
    if (!c || !hdr_u32 (rec.hdr, rec.hdr_len, "ver", &ver) || ver != 1 ||
        !hdr_u64 (rec.hdr, rec.hdr_len, "chunk_pos", &c->pos) ||
        !hdr_time (rec.hdr, rec.hdr_len, "start_time", &c->start_ns) ||
        !hdr_time (rec.hdr, rec.hdr_len, "end_time", &c->end_ns) ||
        !hdr_u32 (rec.hdr, rec.hdr_len, "count", &count) ||
        (uint64_t) count * 8 > rec.data_len || c->pos >= index_pos ||
        c->pos < bag->chunks_begin) {
      record_clear (&rec);
      return 0;
    }
    d = malloc ((size_t) count * 8 + 1);
    if (!d || (r = pread_full (bag->fd, d, (size_t) count * 8,
                rec.data_pos)) <= 0) {
      int e = errno;
      free (d);
      record_clear (&rec);
      return d && r < 0 ? index_io_error (bag, rec.data_pos, e) : 0;
    }
    for (j = 0; j < count; j++) {
      if (chunk_add_count (c, rd32 (d + 8 * j), rd32 (d + 8 * j + 4)) < 0) {
        free (d);
        record_clear (&rec);
        return 0;
      }
    }
    free (d);
    pos = rec.end;
    record_clear (&rec);
  }
  return 1;
}

typedef struct {
  BagChunk *c;
  int fail;
} ScanCtx;

static int
scan_msg_cb (void *ud, size_t off, uint32_t conn, uint64_t t)
{
  ScanCtx *s = ud;

  if (chunk_add_count (s->c, conn, 1) < 0) {
    s->fail = 1;
    return 1;
  }
  if (t < s->c->start_ns)
    s->c->start_ns = t;
  if (t > s->c->end_ns)
    s->c->end_ns = t;
  return 0;
}

/* Recovery: walks the chunk section from its start. Every complete chunk is
 * decompressed once (into a temporary buffer freed before the next) to
 * learn its connections, message counts and time range. Stops at the first
 * record that is incomplete or malformed. */
static MbBagResult
scan_bag (MbBag * bag, char *err, size_t err_len)
{
  uint64_t pos = bag->chunks_begin, good_end = bag->chunks_begin;
  uint8_t *buf = NULL, *tmp = malloc (READ_BUF_SIZE);
  size_t buf_size = 0;
  MbBagResult ret = MB_BAG_OK;
  char lerr[MB_BAG_ERR_LEN];

  if (!tmp)
    return MB_BAG_ERR_NOMEM;
  for (;;) {
    Record rec;
    int r = read_record (bag, pos, &rec);

    if (r < 0) {
      /* a read error is not the end of the good data: report it */
      set_err (err, err_len, "%s: read error at offset %" PRIu64 ": %s",
          bag->path, pos, strerror (errno));
      ret = MB_BAG_ERR_READ;
      break;
    }
    if (r == 0)
      break;
    if (rec.end > bag->file_size) {
      record_clear (&rec);
      break;
    }
    if (rec.op == OP_CHUNK) {
      ChunkHeader ch;
      BagChunk *c;
      ScanCtx s;
      MbBagResult res;

      record_clear (&rec);
      res = read_chunk_header (bag, pos, &ch, lerr, sizeof (lerr));
      if (res == MB_BAG_ERR_READ) {
        set_err (err, err_len, "%s", lerr);
        ret = res;
        break;
      }
      if (res != MB_BAG_OK)
        break;
      if (ch.data_len == 0 || ch.size == 0)
        break;                  /* placeholder of a chunk never closed */
      if (ch.size > buf_size) {
        uint8_t *nb = realloc (buf, ch.size);
        if (!nb)
          break;
        buf = nb;
        buf_size = ch.size;
      }
      res = decompress_chunk (bag, pos, &ch, buf, tmp, lerr, sizeof (lerr));
      if (res == MB_BAG_ERR_READ) {
        set_err (err, err_len, "%s", lerr);
        ret = res;
        break;
      }
      if (res != MB_BAG_OK)
        break;
      c = add_chunk (bag);
      if (!c)
        break;
      c->pos = pos;
      c->start_ns = UINT64_MAX;
      c->end_ns = 0;
      s.c = c;
      s.fail = 0;
      if (walk_chunk (bag, buf, ch.size, scan_msg_cb, &s) != 0 || s.fail) {
        chunk_clear (c);
        bag->n_chunks--;
        break;
      }
      if (c->n_conn == 0) {
        chunk_clear (c);
        bag->n_chunks--;
      }
      pos = good_end = ch.end;
    } else if (rec.op == OP_CONNECTION) {
      uint8_t *d = NULL;
      int ok = 0;
      if (rec.data_len <= MAX_CONN_DATA_LEN &&
          (d = malloc (rec.data_len ? rec.data_len : 1)) &&
          pread_full (bag->fd, d, rec.data_len, rec.data_pos) > 0)
        ok = add_connection (bag, rec.hdr, rec.hdr_len, d, rec.data_len) > 0;
      free (d);
      record_clear (&rec);
      if (!ok)
        break;
      pos = good_end = rec.end;
    } else if (rec.op == OP_INDEX_DATA || rec.op == OP_CHUNK_INFO ||
        rec.op == OP_FILE_HEADER || rec.op == OP_MSG_DATA) {
      pos = good_end = rec.end;
      record_clear (&rec);
    } else {
      record_clear (&rec);
      break;
    }
  }
  free (buf);
  free (tmp);
  bag->unreadable = bag->file_size - good_end;
  return ret;
}

static void
finish_open (MbBag * bag)
{
  size_t i;
  uint32_t j;

  /* drop chunk-table entries for unknown connections */
  for (i = 0; i < bag->n_chunks; i++) {
    BagChunk *c = &bag->chunks[i];
    for (j = 0; j < c->n_conn; j++) {
      ssize_t ci = conn_index (bag, c->conn_ids[j]);
      if (ci >= 0)
        bag->conns[ci].count += c->counts[j];
      bag->n_messages += c->counts[j];
    }
    if (c->n_conn) {
      if (bag->start_ns == 0 || c->start_ns < bag->start_ns)
        bag->start_ns = c->start_ns;
      if (c->end_ns > bag->end_ns)
        bag->end_ns = c->end_ns;
    }
  }
  if (bag->n_chunks > 1)
    qsort (bag->chunks, bag->n_chunks, sizeof (BagChunk), chunk_cmp);
}

MbBag *
mb_bag_open (const char *path, MbBagResult * res, char *err, size_t err_len)
{
  MbBag *bag;
  struct stat st;
  uint8_t magic[BAG_MAGIC_LEN];
  Record rec;
  uint64_t index_pos = 0;
  uint32_t conn_count = 0, chunk_count = 0;
  MbBagResult dummy;
  const uint8_t *v;
  size_t vl;
  int r;

  if (!res)
    res = &dummy;
  bag = calloc (1, sizeof (*bag));
  if (!bag) {
    *res = MB_BAG_ERR_NOMEM;
    set_err (err, err_len, "out of memory");
    return NULL;
  }
  bag->fd = -1;
  bag->path = strdup (path ? path : "");
  if (!bag->path)
    goto nomem;
  bag->fd = open (bag->path, O_RDONLY | O_CLOEXEC);
  if (bag->fd < 0) {
    *res = MB_BAG_ERR_OPEN;
    set_err (err, err_len, "%s: cannot open: %s", bag->path, strerror (errno));
    goto fail;
  }
  if (fstat (bag->fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    *res = MB_BAG_ERR_OPEN;
    set_err (err, err_len, "%s: cannot open: not a regular file", bag->path);
    goto fail;
  }
  bag->file_size = (uint64_t) st.st_size;
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise (bag->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  if (bag->file_size == 0) {
    *res = MB_BAG_ERR_NOT_A_BAG;
    set_err (err, err_len, "%s: not a ROS bag: the file is empty", bag->path);
    goto fail;
  }
  r = bag->file_size >= BAG_MAGIC_LEN ?
      pread_full (bag->fd, magic, BAG_MAGIC_LEN, 0) : 0;
  if (r < 0) {
    *res = MB_BAG_ERR_READ;
    set_err (err, err_len, "%s: cannot read: %s", bag->path, strerror (errno));
    goto fail;
  }
  if (r == 0 || memcmp (magic, BAG_MAGIC, BAG_MAGIC_LEN) != 0) {
    if (r > 0 && (memcmp (magic, "#ROSRECORD V1.", 13) == 0 ||
            memcmp (magic, "#ROSLOG", 7) == 0)) {
      *res = MB_BAG_ERR_VERSION;
      set_err (err, err_len, "%s: bag format %s is not supported (only 2.0);"
          " convert it with 'rosbag fix' / the rosbag migration tools first",
          bag->path, memcmp (magic, "#ROSLOG", 7) == 0 ? "1.0" : "1.x (1.2)");
    } else if (r > 0 && memcmp (magic, "#ROSBAG V", 9) == 0) {
      *res = MB_BAG_ERR_VERSION;
      set_err (err, err_len, "%s: bag format %.3s is not supported (only 2.0)",
          bag->path, (const char *) magic + 9);
    } else {
      *res = MB_BAG_ERR_NOT_A_BAG;
      set_err (err, err_len, "%s: not a ROS bag (no '#ROSBAG V2.0' magic)",
          bag->path);
    }
    goto fail;
  }

  r = read_record (bag, BAG_MAGIC_LEN, &rec);
  if (r < 0) {
    *res = MB_BAG_ERR_READ;
    set_err (err, err_len, "%s: cannot read: %s", bag->path, strerror (errno));
    goto fail;
  }
  if (r == 0 || rec.op != OP_FILE_HEADER) {
    record_clear (&rec);
    *res = MB_BAG_ERR_FORMAT;
    set_err (err, err_len, "%s: corrupt bag: no bag header record after the"
        " magic", bag->path);
    goto fail;
  }
  if (hdr_find (rec.hdr, rec.hdr_len, "encryptor", &v, &vl) && vl > 0) {
    record_clear (&rec);
    *res = MB_BAG_ERR_UNSUPPORTED;
    set_err (err, err_len, "%s: encrypted bags are not supported", bag->path);
    goto fail;
  }
  hdr_u64 (rec.hdr, rec.hdr_len, "index_pos", &index_pos);
  hdr_u32 (rec.hdr, rec.hdr_len, "conn_count", &conn_count);
  hdr_u32 (rec.hdr, rec.hdr_len, "chunk_count", &chunk_count);
  bag->chunks_begin = rec.end;
  record_clear (&rec);

  if (index_pos >= bag->chunks_begin && index_pos < bag->file_size &&
      (chunk_count > 0 || index_pos == bag->chunks_begin))
    r = read_index (bag, index_pos, conn_count, chunk_count);
  else
    r = 0;
  if (r < 0) {
    /* a failing disk, not a damaged file: do not guess by scanning */
    *res = MB_BAG_ERR_READ;
    set_err (err, err_len, "%s: read error in the index at offset %" PRIu64
        ": %s", bag->path, bag->io_pos, strerror (bag->io_errno));
    goto fail;
  } else if (r > 0) {
    bag->indexed = 1;
  } else {
    size_t i;
    /* unindexed or damaged index: forget what was read, scan */
    for (i = 0; i < bag->n_chunks; i++)
      chunk_clear (&bag->chunks[i]);
    bag->n_chunks = 0;
    for (i = 0; i < bag->n_conns; i++)
      conn_clear (&bag->conns[i]);
    bag->n_conns = 0;
    *res = scan_bag (bag, err, err_len);
    if (*res != MB_BAG_OK)
      goto fail;
  }
  finish_open (bag);
  *res = MB_BAG_OK;
  return bag;

nomem:
  *res = MB_BAG_ERR_NOMEM;
  set_err (err, err_len, "out of memory");
fail:
  mb_bag_close (bag);
  return NULL;
}

void
mb_bag_close (MbBag * bag)
{
  size_t i;

  if (!bag)
    return;
  if (bag->fd >= 0)
    close (bag->fd);
  for (i = 0; i < bag->n_conns; i++)
    conn_clear (&bag->conns[i]);
  for (i = 0; i < bag->n_chunks; i++)
    chunk_clear (&bag->chunks[i]);
  free (bag->conns);
  free (bag->chunks);
  free (bag->path);
  free (bag);
}

const char *
mb_bag_path (const MbBag * bag)
{
  return bag->path;
}

int
mb_bag_is_indexed (const MbBag * bag)
{
  return bag->indexed;
}

uint64_t
mb_bag_unreadable_bytes (const MbBag * bag)
{
  return bag->unreadable;
}

uint64_t
mb_bag_start_time (const MbBag * bag)
{
  return bag->start_ns;
}

uint64_t
mb_bag_end_time (const MbBag * bag)
{
  return bag->end_ns;
}

uint64_t
mb_bag_message_count (const MbBag * bag)
{
  return bag->n_messages;
}

size_t
mb_bag_n_chunks (const MbBag * bag)
{
  return bag->n_chunks;
}

size_t
mb_bag_n_connections (const MbBag * bag)
{
  return bag->n_conns;
}

const MbBagConnection *
mb_bag_connection (const MbBag * bag, size_t i)
{
  return i < bag->n_conns ? &bag->conns[i] : NULL;
}

const MbBagConnection *
mb_bag_connection_by_id (const MbBag * bag, uint32_t id)
{
  ssize_t i = conn_index (bag, id);
  return i >= 0 ? &bag->conns[i] : NULL;
}

static int
chunk_selected (const MbBag * bag, const BagChunk * c, const uint8_t * select)
{
  uint32_t j;

  for (j = 0; j < c->n_conn; j++) {
    ssize_t ci = conn_index (bag, c->conn_ids[j]);
    if (ci >= 0 && c->counts[j] > 0 && (!select || select[ci]))
      return 1;
  }
  return 0;
}

uint64_t
mb_bag_count_messages (const MbBag * bag, const uint8_t * select)
{
  uint64_t n = 0;
  size_t i;

  for (i = 0; i < bag->n_conns; i++)
    if (!select || select[i])
      n += bag->conns[i].count;
  return n;
}

/* ------------------------------------------------------------------ */
/* reader: k-way merge over the chunks that overlap in time            */

typedef struct {
  uint64_t t;
  uint32_t off;                 /* record offset in the chunk */
  uint32_t conn;                /* index into bag->conns */
} Entry;

typedef struct {
  size_t chunk;                 /* index into bag->chunks */
  uint8_t *mem;
  uint32_t size;
  void *user;
  Entry *entries;
  size_t n_entries, cur;
} Cursor;

struct _MbBagReader {
  MbBag *bag;
  uint8_t *select;              /* per connection index */
  uint64_t start_ns, end_ns;
  MbBagReleaseFunc release;
  void *user_data;

  size_t *order;                /* selected chunk indices, by start time */
  size_t n_order, next;         /* next chunk to open */
  size_t max_chunks;

  Cursor **heap;                /* min-heap of open cursors */
  size_t n_heap, alloc_heap;
  Cursor *done;                 /* exhausted cursor, released on next call */

  int pending;                  /* waiting for a buffer for order[next] */
  ChunkHeader pending_ch;
  uint8_t *tmp;                 /* READ_BUF_SIZE */
};

static int
cursor_less (const Cursor * a, const Cursor * b)
{
  const Entry *x = &a->entries[a->cur], *y = &b->entries[b->cur];

  if (x->t != y->t)
    return x->t < y->t;
  /* ties: chunks in (start time, file position) order, then file order */
  if (a->chunk != b->chunk)
    return a->chunk < b->chunk;
  return x->off < y->off;
}

static void
heap_up (MbBagReader * r, size_t i)
{
  while (i > 0) {
    size_t p = (i - 1) / 2;
    Cursor *tmp;
    if (!cursor_less (r->heap[i], r->heap[p]))
      break;
    tmp = r->heap[i];
    r->heap[i] = r->heap[p];
    r->heap[p] = tmp;
    i = p;
  }
}

static void
heap_down (MbBagReader * r, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    Cursor *tmp;
    if (l < r->n_heap && cursor_less (r->heap[l], r->heap[m]))
      m = l;
    if (l + 1 < r->n_heap && cursor_less (r->heap[l + 1], r->heap[m]))
      m = l + 1;
    if (m == i)
      break;
    tmp = r->heap[i];
    r->heap[i] = r->heap[m];
    r->heap[m] = tmp;
    i = m;
  }
}

static void
cursor_free (MbBagReader * r, Cursor * c)
{
  if (!c)
    return;
  if (c->mem && r->release)
    r->release (c->user, r->user_data);
  free (c->entries);
  free (c);
}

MbBagReader *
mb_bag_reader_new (MbBag * bag, const uint8_t * select, uint64_t start_ns,
    uint64_t end_ns, MbBagReleaseFunc release, void *user_data)
{
  MbBagReader *r = calloc (1, sizeof (*r));
  size_t i, j;

  if (!r)
    return NULL;
  r->bag = bag;
  r->start_ns = start_ns;
  r->end_ns = end_ns;
  r->release = release;
  r->user_data = user_data;
  r->select = calloc (bag->n_conns + 1, 1);
  r->order = calloc (bag->n_chunks + 1, sizeof (size_t));
  r->tmp = malloc (READ_BUF_SIZE);
  if (!r->select || !r->order || !r->tmp) {
    mb_bag_reader_free (r);
    return NULL;
  }
  for (i = 0; i < bag->n_conns; i++)
    r->select[i] = select ? select[i] : 1;
  for (i = 0; i < bag->n_chunks; i++) {
    const BagChunk *c = &bag->chunks[i];
    if (c->start_ns <= end_ns && c->end_ns >= start_ns &&
        chunk_selected (bag, c, r->select))
      r->order[r->n_order++] = i;
  }
  /* deepest overlap of the selected chunks' time ranges: sweep in start
   * order keeping the end times of the chunks still open (O(n x depth)) */
  r->max_chunks = 1;
  {
    uint64_t *open_end = malloc ((r->n_order + 1) * sizeof (uint64_t));
    size_t n_open = 0;

    if (!open_end) {
      mb_bag_reader_free (r);
      return NULL;
    }
    for (i = 0; i < r->n_order; i++) {
      const BagChunk *c = &bag->chunks[r->order[i]];
      size_t k = 0;
      for (j = 0; j < n_open; j++)
        if (open_end[j] >= c->start_ns)
          open_end[k++] = open_end[j];
      n_open = k;
      open_end[n_open++] = c->end_ns;
      if (n_open > r->max_chunks)
        r->max_chunks = n_open;
    }
    free (open_end);
  }
  return r;
}

void
mb_bag_reader_free (MbBagReader * r)
{
  size_t i;

  if (!r)
    return;
  cursor_free (r, r->done);
  for (i = 0; i < r->n_heap; i++)
    cursor_free (r, r->heap[i]);
  free (r->heap);
  free (r->select);
  free (r->order);
  free (r->tmp);
  free (r);
}

size_t
mb_bag_reader_max_chunks (const MbBagReader * r)
{
  return r->max_chunks;
}

size_t
mb_bag_reader_needed_size (const MbBagReader * r)
{
  return r->pending ? r->pending_ch.size : 0;
}

uint64_t
mb_bag_reader_needed_offset (const MbBagReader * r)
{
  return r->pending ? r->bag->chunks[r->order[r->next]].pos : 0;
}

void
mb_bag_reader_skip (MbBagReader * r)
{
  if (r->pending || r->next < r->n_order) {
    r->pending = 0;
    r->next++;
  }
}

MbBagResult
mb_bag_reader_next (MbBagReader * r, MbBagMessage * msg, char *err,
    size_t err_len)
{
  MbBag *bag = r->bag;

  if (r->done) {
    cursor_free (r, r->done);
    r->done = NULL;
  }
  for (;;) {
    Cursor *top = r->n_heap ? r->heap[0] : NULL;
    Entry *e;
    const uint8_t *rec;
    uint32_t hl, dl;

    if (r->next < r->n_order && (!top ||
            bag->chunks[r->order[r->next]].start_ns <=
            top->entries[top->cur].t)) {
      if (!r->pending) {
        MbBagResult res = read_chunk_header (bag,
            bag->chunks[r->order[r->next]].pos, &r->pending_ch, err, err_len);
        if (res != MB_BAG_OK)
          return res;
        r->pending = 1;
      }
      return MB_BAG_NEED_BUFFER;
    }
    if (!top)
      return MB_BAG_EOF;

    e = &top->entries[top->cur];
    rec = top->mem + e->off;
    hl = rd32 (rec);
    dl = rd32 (rec + 4 + hl);
    msg->conn = &bag->conns[e->conn];
    msg->time_ns = e->t;
    msg->data = rec + 8 + hl;
    msg->len = dl;
    msg->chunk_user = top->user;
    msg->chunk_offset = (size_t) (msg->data - top->mem);

    top->cur++;
    if (top->cur == top->n_entries) {
      r->heap[0] = r->heap[--r->n_heap];
      if (r->n_heap)
        heap_down (r, 0);
      r->done = top;            /* msg points into it: release next call */
    } else {
      heap_down (r, 0);
    }
    return MB_BAG_OK;
  }
}

typedef struct {
  MbBagReader *r;
  Cursor *c;
  size_t alloc;
  int fail;
} CollectCtx;

static int
collect_cb (void *ud, size_t off, uint32_t conn, uint64_t t)
{
  CollectCtx *cc = ud;
  MbBagReader *r = cc->r;
  ssize_t ci;

  if (t < r->start_ns || t > r->end_ns)
    return 0;
  ci = conn_index (r->bag, conn);
  if (ci < 0 || !r->select[ci])
    return 0;
  if (cc->c->n_entries == cc->alloc) {
    size_t n = cc->alloc ? cc->alloc * 2 : 256;
    Entry *ne = realloc (cc->c->entries, n * sizeof (Entry));
    if (!ne) {
      cc->fail = 1;
      return 1;
    }
    cc->c->entries = ne;
    cc->alloc = n;
  }
  cc->c->entries[cc->c->n_entries].t = t;
  cc->c->entries[cc->c->n_entries].off = (uint32_t) off;
  cc->c->entries[cc->c->n_entries].conn = (uint32_t) ci;
  cc->c->n_entries++;
  return 0;
}

static int
entry_cmp (const void *a, const void *b)
{
  const Entry *x = a, *y = b;

  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return x->off < y->off ? -1 : (x->off > y->off);
}

MbBagResult
mb_bag_reader_supply (MbBagReader * r, uint8_t * mem, size_t size,
    void *chunk_user, char *err, size_t err_len)
{
  MbBag *bag = r->bag;
  size_t ci;
  uint64_t pos;
  MbBagResult res;
  Cursor *c;
  CollectCtx cc;
  size_t i;
  int sorted = 1;

  if (!r->pending)
    return MB_BAG_ERR_FORMAT;
  ci = r->order[r->next];
  pos = bag->chunks[ci].pos;
  if (size < r->pending_ch.size) {
    set_err (err, err_len, "%s: chunk buffer too small (%zu < %u)", bag->path,
        size, r->pending_ch.size);
    return MB_BAG_ERR_NOMEM;
  }
  res = decompress_chunk (bag, pos, &r->pending_ch, mem, r->tmp, err, err_len);
  if (res != MB_BAG_OK)
    return res;
  c = calloc (1, sizeof (*c));
  if (!c)
    return MB_BAG_ERR_NOMEM;
  c->chunk = ci;
  c->size = r->pending_ch.size;
  memset (&cc, 0, sizeof (cc));
  cc.r = r;
  cc.c = c;
  if (walk_chunk (NULL, mem, c->size, collect_cb, &cc) != 0 || cc.fail) {
    free (c->entries);
    free (c);
    if (cc.fail)
      return MB_BAG_ERR_NOMEM;
    set_err (err, err_len, "%s: corrupt chunk at offset %" PRIu64
        ": malformed records inside the chunk", bag->path, pos);
    return MB_BAG_ERR_CORRUPT;
  }
  r->pending = 0;
  r->next++;
  if (c->n_entries == 0) {
    free (c->entries);
    free (c);
    if (r->release)
      r->release (chunk_user, r->user_data);
    return MB_BAG_OK;
  }
  for (i = 1; i < c->n_entries; i++)
    if (c->entries[i].t < c->entries[i - 1].t) {
      sorted = 0;
      break;
    }
  if (!sorted)
    qsort (c->entries, c->n_entries, sizeof (Entry), entry_cmp);
  c->mem = mem;
  c->user = chunk_user;
  if (r->n_heap == r->alloc_heap) {
    size_t n = r->alloc_heap ? r->alloc_heap * 2 : 8;
    Cursor **nh = realloc (r->heap, n * sizeof (Cursor *));
    if (!nh) {
      c->mem = NULL;
      cursor_free (r, c);
      return MB_BAG_ERR_NOMEM;
    }
    r->heap = nh;
    r->alloc_heap = n;
  }
  r->heap[r->n_heap++] = c;
  heap_up (r, r->n_heap - 1);
  return MB_BAG_OK;
}
