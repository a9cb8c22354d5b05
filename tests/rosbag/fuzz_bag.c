/* Fuzz harness for the plain-C bag reader (gst/rosbag/bag.c): the input is
 * a whole bag file, served from a memfd; it is opened (index or recovery
 * scan) and every message is read with caller-supplied chunk buffers, also
 * filtered by the first connection and a time window.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static int held;

static void
release (void *user, void *ud)
{
  free (user);
  held--;
}

static void
read_all (MbBag * bag, const uint8_t * sel, uint64_t start, uint64_t end)
{
  char err[MB_BAG_ERR_LEN];
  MbBagReader *r = mb_bag_reader_new (bag, sel, start, end, release, NULL);
  uint64_t n = 0, last = 0;
  volatile uint8_t sink = 0;

  if (!r)
    return;
  for (;;) {
    MbBagMessage m;
    MbBagResult res = mb_bag_reader_next (r, &m, err, sizeof (err));
    if (res == MB_BAG_NEED_BUFFER) {
      size_t sz = mb_bag_reader_needed_size (r);
      uint8_t *mem = malloc (sz ? sz : 1);
      if (!mem)
        break;
      if (mb_bag_reader_supply (r, mem, sz, mem, err, sizeof (err)) != MB_BAG_OK) {
        free (mem);
        mb_bag_reader_skip (r);
        continue;
      }
      held++;
      continue;
    }
    if (res != MB_BAG_OK) {
      if (res < 0 && res != MB_BAG_ERR_NOMEM) {
        mb_bag_reader_skip (r);
        continue;
      }
      break;
    }
    /* touch the payload: must be inside the supplied buffer */
    if (m.len)
      sink ^= m.data[0] ^ m.data[m.len - 1];
    (void) last;
    last = m.time_ns;
    if (++n > 1000000)
      break;
  }
  mb_bag_reader_free (r);
  if (held != 0)
    abort ();                   /* every supplied buffer must come back */
  (void) sink;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  char path[64], err[MB_BAG_ERR_LEN] = "";
  int fd = memfd_create ("bag", 0);
  MbBag *bag;
  MbBagResult res;

  if (fd < 0)
    return 0;
  if (size && write (fd, data, size) != (ssize_t) size) {
    close (fd);
    return 0;
  }
  snprintf (path, sizeof (path), "/proc/self/fd/%d", fd);
  bag = mb_bag_open (path, &res, err, sizeof (err));
  if (bag) {
    size_t n = mb_bag_n_connections (bag), i;
    uint8_t *sel = calloc (n + 1, 1);
    for (i = 0; i < n; i++) {
      const MbBagConnection *c = mb_bag_connection (bag, i);
      if (strlen (c->topic) > 100000 || mb_bag_connection_by_id (bag, c->id) != c)
        abort ();
    }
    read_all (bag, NULL, 0, UINT64_MAX);
    if (sel && n) {
      sel[0] = 1;
      read_all (bag, sel, mb_bag_start_time (bag) + 1000,
          mb_bag_start_time (bag) + 500000000ull);
    }
    free (sel);
    mb_bag_close (bag);
  } else if (!err[0]) {
    abort ();                   /* an error always comes with a text */
  }
  close (fd);
  return 0;
}
