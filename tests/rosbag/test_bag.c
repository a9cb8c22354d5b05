/* Unit tests of the plain-C bag reader (gst/rosbag/bag.c) on the committed
 * seed bags (tests/rosbag/corpus_bag, written by python3-rosbag through
 * tests/data/make_bag.py) and on damaged copies made here. Message-level
 * equality with python rosbag is checked by test_oracle.py; this checks the
 * API contract: error codes and texts, index vs iteration counts, time
 * order, filters, chunk buffers released exactly once and bounded in number.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures, checks;

#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; \
      printf ("FAIL %s:%d: ", __FILE__, __LINE__); printf (__VA_ARGS__); \
      printf ("\n"); } } while (0)

static const char *corpus;
static char tmpdir[1024];

static int held, max_held, released;

static void
release (void *user, void *ud)
{
  free (user);
  held--;
  released++;
}

typedef struct {
  uint64_t n, first, last;
  int ordered;
  int error;
  char err[MB_BAG_ERR_LEN];
} Stats;

static Stats
read_bag (MbBag * bag, const uint8_t * sel, uint64_t s, uint64_t e, int skip)
{
  Stats st;
  MbBagReader *r = mb_bag_reader_new (bag, sel, s, e, release, NULL);

  memset (&st, 0, sizeof (st));
  st.ordered = 1;
  held = max_held = 0;
  for (;;) {
    MbBagMessage m;
    MbBagResult res = mb_bag_reader_next (r, &m, st.err, sizeof (st.err));
    if (res == MB_BAG_NEED_BUFFER) {
      size_t sz = mb_bag_reader_needed_size (r);
      uint8_t *mem = malloc (sz + 1);
      if (mb_bag_reader_supply (r, mem, sz, mem, st.err, sizeof (st.err))
          != MB_BAG_OK) {
        free (mem);
        st.error++;
        if (!skip)
          break;
        mb_bag_reader_skip (r);
        continue;
      }
      if (++held > max_held)
        max_held = held;
      continue;
    }
    if (res == MB_BAG_EOF)
      break;
    if (res != MB_BAG_OK) {
      st.error++;
      if (!skip)
        break;
      mb_bag_reader_skip (r);
      continue;
    }
    if (st.n && m.time_ns < st.last)
      st.ordered = 0;
    if (!st.n)
      st.first = m.time_ns;
    st.last = m.time_ns;
    st.n++;
  }
  CHECK (max_held <= (int) mb_bag_reader_max_chunks (r) + 1,
      "held %d chunks, bound %zu", max_held, mb_bag_reader_max_chunks (r));
  mb_bag_reader_free (r);
  CHECK (held == 0, "every chunk buffer released (%d left)", held);
  return st;
}

static MbBag *
open_corpus (const char *name, MbBagResult * res, char *err)
{
  char path[2048];
  snprintf (path, sizeof (path), "%s/%s", corpus, name);
  return mb_bag_open (path, res, err, MB_BAG_ERR_LEN);
}

static void
write_file (const char *path, const void *data, size_t len)
{
  FILE *f = fopen (path, "wb");
  if (len)
    fwrite (data, 1, len, f);
  fclose (f);
}

static uint8_t *
load (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  uint8_t *d;
  long n;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  d = malloc ((size_t) n);
  if (fread (d, 1, (size_t) n, f) != (size_t) n)
    n = 0;
  fclose (f);
  *len = (size_t) n;
  return d;
}

static void
test_indexed (void)
{
  static const char *names[] = { "tiny-none.bag", "tiny-bz2.bag",
    "tiny-lz4.bag", "tiny-overlap.bag", "tiny-single.bag"
  };
  size_t i;

  for (i = 0; i < sizeof (names) / sizeof (names[0]); i++) {
    char err[MB_BAG_ERR_LEN];
    MbBagResult res;
    MbBag *bag = open_corpus (names[i], &res, err);
    Stats st, st2;
    uint8_t sel[16] = { 0 };
    uint64_t want;

    CHECK (bag != NULL, "%s opens: %s", names[i], bag ? "" : err);
    if (!bag)
      continue;
    CHECK (mb_bag_is_indexed (bag), "%s indexed", names[i]);
    CHECK (mb_bag_unreadable_bytes (bag) == 0, "%s nothing unreadable", names[i]);
    CHECK (mb_bag_n_connections (bag) == 3, "%s 3 connections", names[i]);
    st = read_bag (bag, NULL, 0, UINT64_MAX, 0);
    CHECK (st.error == 0, "%s no error: %s", names[i], st.err);
    CHECK (st.n == mb_bag_message_count (bag), "%s: %llu read == %llu indexed",
        names[i], (unsigned long long) st.n,
        (unsigned long long) mb_bag_message_count (bag));
    CHECK (st.ordered, "%s time order", names[i]);
    CHECK (st.first == mb_bag_start_time (bag) && st.last == mb_bag_end_time (bag),
        "%s first/last == start/end", names[i]);
    /* one connection */
    sel[1] = 1;
    want = mb_bag_count_messages (bag, sel);
    st2 = read_bag (bag, sel, 0, UINT64_MAX, 0);
    CHECK (st2.n == want && want > 0, "%s one topic: %llu == %llu", names[i],
        (unsigned long long) st2.n, (unsigned long long) want);
    /* time window, inclusive bounds */
    st2 = read_bag (bag, NULL, st.first, st.first, 0);
    CHECK (st2.n >= 1 && st2.first == st.first && st2.last == st.first,
        "%s window [t0, t0]", names[i]);
    st2 = read_bag (bag, NULL, st.last + 1, UINT64_MAX, 0);
    CHECK (st2.n == 0, "%s window after the end is empty", names[i]);
    CHECK (mb_bag_connection_by_id (bag, mb_bag_connection (bag, 2)->id) ==
        mb_bag_connection (bag, 2), "%s connection_by_id", names[i]);
    CHECK (!strcmp (mb_bag_connection (bag, 0)->type, "sensor_msgs/Image"),
        "%s conn 0 type", names[i]);
    mb_bag_close (bag);
  }
}

static void
test_recovery (void)
{
  char err[MB_BAG_ERR_LEN], path[2048];
  MbBagResult res;
  MbBag *bag = open_corpus ("tiny-unindexed.bag", &res, err), *full;
  Stats st;
  size_t len;
  uint8_t *d;

  CHECK (bag != NULL, "unindexed bag opens: %s", bag ? "" : err);
  if (!bag)
    return;
  CHECK (!mb_bag_is_indexed (bag), "unindexed detected");
  CHECK (mb_bag_unreadable_bytes (bag) > 0, "torn tail reported (%llu bytes)",
      (unsigned long long) mb_bag_unreadable_bytes (bag));
  st = read_bag (bag, NULL, 0, UINT64_MAX, 0);
  CHECK (st.n == mb_bag_message_count (bag) && st.n > 0 && st.ordered,
      "recovered messages all read in order (%llu)", (unsigned long long) st.n);
  mb_bag_close (bag);

  /* an indexed bag cut in the middle: index unreadable -> scan */
  snprintf (path, sizeof (path), "%s/tiny-lz4.bag", corpus);
  d = load (path, &len);
  snprintf (path, sizeof (path), "%s/cut.bag", tmpdir);
  {
    /* cut halfway through the chunk section (before index_pos) */
    uint64_t index_pos;
    uint8_t *ip = memmem (d, 4200, "index_pos=", 10);
    memcpy (&index_pos, ip + 10, 8);
    len = (size_t) (4117 + (index_pos - 4117) / 2);
  }
  write_file (path, d, len);
  full = open_corpus ("tiny-lz4.bag", &res, err);
  bag = mb_bag_open (path, &res, err, sizeof (err));
  CHECK (bag && !mb_bag_is_indexed (bag), "truncated indexed bag is scanned");
  if (bag && full) {
    CHECK (mb_bag_message_count (bag) > 0 &&
        mb_bag_message_count (bag) < mb_bag_message_count (full),
        "truncated: some but not all messages");
    CHECK (mb_bag_unreadable_bytes (bag) > 0 &&
        mb_bag_unreadable_bytes (bag) < len, "truncated: tail bytes");
    st = read_bag (bag, NULL, 0, UINT64_MAX, 0);
    CHECK (st.n == mb_bag_message_count (bag), "truncated: all recovered read");
  }
  mb_bag_close (bag);
  mb_bag_close (full);
  free (d);
}

static void
expect_error (const char *name, const void *data, size_t len, MbBagResult want,
    const char *text)
{
  char path[2048], err[MB_BAG_ERR_LEN] = "";
  MbBagResult res = MB_BAG_OK;
  MbBag *bag;

  snprintf (path, sizeof (path), "%s/%s", tmpdir, name);
  if (data)
    write_file (path, data, len);
  bag = mb_bag_open (path, &res, err, sizeof (err));
  CHECK (bag == NULL && res == want && strstr (err, text) && strstr (err, name),
      "%s: got %d '%s', want %d '%s'", name, res, err, want, text);
  mb_bag_close (bag);
}

static void
test_errors (void)
{
  char path[2048];
  size_t len;
  uint8_t *d, *p;
  Stats st;
  MbBag *bag;
  char err[MB_BAG_ERR_LEN];
  MbBagResult res;

  expect_error ("missing.bag", NULL, 0, MB_BAG_ERR_OPEN, "cannot open");
  expect_error ("empty.bag", "", 0, MB_BAG_ERR_NOT_A_BAG, "empty");
  expect_error ("junk.bag", "hello world, definitely not a bag", 33,
      MB_BAG_ERR_NOT_A_BAG, "not a ROS bag");
  expect_error ("short.bag", "#ROS", 4, MB_BAG_ERR_NOT_A_BAG, "not a ROS bag");
  expect_error ("old.bag", "#ROSRECORD V1.2\n\0\0\0\0", 20, MB_BAG_ERR_VERSION,
      "rosbag fix");
  expect_error ("v3.bag", "#ROSBAG V3.0\n\0\0\0\0", 17, MB_BAG_ERR_VERSION,
      "not supported");
  expect_error ("noheader.bag", "#ROSBAG V2.0\n\1\0\0\0x\0\0\0\0", 22,
      MB_BAG_ERR_FORMAT, "no bag header");

  /* unknown compression: reported when the chunk is read */
  snprintf (path, sizeof (path), "%s/tiny-lz4.bag", corpus);
  d = load (path, &len);
  p = memmem (d, len, "compression=lz4", 15);
  memcpy (p, "compression=zst", 15);
  snprintf (path, sizeof (path), "%s/zst.bag", tmpdir);
  write_file (path, d, len);
  bag = mb_bag_open (path, &res, err, sizeof (err));
  CHECK (bag != NULL, "zst bag opens (index only)");
  if (bag) {
    st = read_bag (bag, NULL, 0, UINT64_MAX, 0);
    CHECK (st.error && strstr (st.err, "unknown compression 'zst'"),
        "unknown compression: %s", st.err);
    mb_bag_close (bag);
  }
  memcpy (p, "compression=lz4", 15);

  /* corrupt lz4 data in the first chunk: error names its offset; skipping
   * loses only that chunk */
  {
    uint32_t hl;
    uint64_t chunk_pos;
    char off[64];
    MbBag *good;
    Stats all;

    memcpy (&hl, d + 13, 4);
    chunk_pos = 13 + 4 + hl + 4;
    {
      uint32_t dl;
      memcpy (&dl, d + 13 + 4 + hl, 4);
      chunk_pos += dl;
    }
    memset (d + chunk_pos + 120, 0xAB, 40);
    snprintf (path, sizeof (path), "%s/corrupt.bag", tmpdir);
    write_file (path, d, len);
    bag = mb_bag_open (path, &res, err, sizeof (err));
    good = open_corpus ("tiny-lz4.bag", &res, err);
    CHECK (bag && good, "corrupt bag opens");
    if (bag && good) {
      snprintf (off, sizeof (off), "corrupt chunk at offset %llu",
          (unsigned long long) chunk_pos);
      st = read_bag (bag, NULL, 0, UINT64_MAX, 0);
      CHECK (st.error && strstr (st.err, off), "corrupt: '%s' names '%s'",
          st.err, off);
      st = read_bag (bag, NULL, 0, UINT64_MAX, 1);
      all = read_bag (good, NULL, 0, UINT64_MAX, 0);
      CHECK (st.error == 1 && st.n > 0 && st.n < all.n, "skip: %llu of %llu",
          (unsigned long long) st.n, (unsigned long long) all.n);
    }
    mb_bag_close (bag);
    mb_bag_close (good);
  }
  free (d);
}

int
main (int argc, char **argv)
{
  const char *t = getenv ("MB_TEST_TMPDIR");

  corpus = argc > 1 ? argv[1] : MB_SOURCE_ROOT "/tests/rosbag/corpus_bag";
  snprintf (tmpdir, sizeof (tmpdir), "%s/test_bag-%d", t ? t : "/tmp",
      (int) getpid ());
  mkdir (t ? t : "/tmp", 0755);
  mkdir (tmpdir, 0755);
  test_indexed ();
  test_recovery ();
  test_errors ();
  printf ("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
