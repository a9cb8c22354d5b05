/* bagdump: prints what the plain-C bag reader (gst/rosbag/bag.c) reads from a
 * bag, for the python oracle tests (tests/rosbag/test_bagreader.py).
 *
 *   bagdump [-t /topic,/topic2] [-s start_ns] [-e end_ns] [-x] BAG
 *
 * Output: '#'-lines with the bag summary and connections, then one line per
 * message: "topic<TAB>time_ns<TAB>len<TAB>fnv1a64" (-x: hex bytes instead
 * of the hash). Exit status 0, or 2 with the reader's error text on stderr.
 * The chunk buffers are malloc'ed here and released by the reader's
 * callback; the peak number held at once is printed as #max-held.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bag.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int held, max_held;

static uint64_t
fnv1a64 (const uint8_t * p, size_t n)
{
  uint64_t h = 14695981039346656037ull;
  while (n--)
    h = (h ^ *p++) * 1099511628211ull;
  return h;
}

static void
release (void *user, void *ud)
{
  free (user);
  held--;
}

int
main (int argc, char **argv)
{
  const char *topics = NULL, *path = NULL;
  uint64_t start = 0, end = UINT64_MAX;
  int hex = 0, i;
  char err[MB_BAG_ERR_LEN];
  MbBagResult res;
  MbBag *bag;
  MbBagReader *r;
  uint8_t *sel = NULL;
  size_t n, k;

  for (i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "-t") && i + 1 < argc)
      topics = argv[++i];
    else if (!strcmp (argv[i], "-s") && i + 1 < argc)
      start = strtoull (argv[++i], NULL, 10);
    else if (!strcmp (argv[i], "-e") && i + 1 < argc)
      end = strtoull (argv[++i], NULL, 10);
    else if (!strcmp (argv[i], "-x"))
      hex = 1;
    else
      path = argv[i];
  }
  if (!path) {
    fprintf (stderr, "usage: bagdump [-t topics] [-s ns] [-e ns] [-x] BAG\n");
    return 1;
  }
  bag = mb_bag_open (path, &res, err, sizeof (err));
  if (!bag) {
    fprintf (stderr, "error %d: %s\n", res, err);
    return 2;
  }
  n = mb_bag_n_connections (bag);
  if (topics) {
    sel = calloc (n + 1, 1);
    for (k = 0; k < n; k++) {
      const char *t = mb_bag_connection (bag, k)->topic;
      const char *p = topics;
      size_t tl = strlen (t);
      while (p && *p) {
        const char *c = strchr (p, ',');
        size_t l = c ? (size_t) (c - p) : strlen (p);
        if (l == tl && !strncmp (p, t, l))
          sel[k] = 1;
        p = c ? c + 1 : NULL;
      }
    }
  }
  printf ("#indexed %d\n#unreadable %" PRIu64 "\n#count %" PRIu64
      "\n#start %" PRIu64 "\n#end %" PRIu64 "\n#chunks %zu\n",
      mb_bag_is_indexed (bag), mb_bag_unreadable_bytes (bag),
      mb_bag_message_count (bag), mb_bag_start_time (bag),
      mb_bag_end_time (bag), mb_bag_n_chunks (bag));
  for (k = 0; k < n; k++) {
    const MbBagConnection *c = mb_bag_connection (bag, k);
    printf ("#conn %u %s %s %s %" PRIu64 "\n", c->id, c->topic, c->type,
        c->md5sum, c->count);
  }
  r = mb_bag_reader_new (bag, sel, start, end, release, NULL);
  for (;;) {
    MbBagMessage m;
    res = mb_bag_reader_next (r, &m, err, sizeof (err));
    if (res == MB_BAG_EOF)
      break;
    if (res == MB_BAG_NEED_BUFFER) {
      size_t sz = mb_bag_reader_needed_size (r);
      uint8_t *mem = malloc (sz ? sz : 1);
      res = mb_bag_reader_supply (r, mem, sz, mem, err, sizeof (err));
      if (res != MB_BAG_OK) {
        free (mem);
        break;
      }
      held++;
      if (held > max_held)
        max_held = held;
      continue;
    }
    if (res != MB_BAG_OK)
      break;
    if (hex) {
      uint32_t j;
      printf ("%s\t%" PRIu64 "\t%u\t", m.conn->topic, m.time_ns, m.len);
      for (j = 0; j < m.len; j++)
        printf ("%02x", m.data[j]);
      printf ("\n");
    } else {
      printf ("%s\t%" PRIu64 "\t%u\t%016" PRIx64 "\n", m.conn->topic,
          m.time_ns, m.len, fnv1a64 (m.data, m.len));
    }
  }
  mb_bag_reader_free (r);
  printf ("#max-held %d\n#max-chunks %zu\n", max_held, (size_t) max_held);
  free (sel);
  mb_bag_close (bag);
  if (res != MB_BAG_EOF) {
    fprintf (stderr, "error %d: %s\n", res, err);
    return 2;
  }
  return 0;
}
