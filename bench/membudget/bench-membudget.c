/* Per-buffer cost of membudget vs queue, same process, alternating runs.
 *
 * Usage: bench-membudget [BUFFERS] [ROUNDS]
 * Each round runs `fakesrc num-buffers=N sizetype=fixed sizemax=S
 * filltype=nothing ! <element> ! fakesink` for every variant below and
 * prints the wall time per buffer; the summary gives the median over rounds
 * and the ratio to queue's median.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static double
cpu_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
      ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

static const char *variants[][2] = {
  {"queue", "queue"},
  {"membudget", "membudget"},
  {"membudget+inflight+budget",
      "membudget max-inflight-bytes=1048576 budget=bench budget-bytes=4194304"},
};

#define N_VARIANTS (sizeof (variants) / sizeof (variants[0]))

static double
run_once (const char *element, int buffers, int size, double *cpu_ns)
{
  double c0, c1;
  gchar *desc = g_strdup_printf ("fakesrc num-buffers=%d sizetype=fixed "
      "sizemax=%d filltype=nothing ! %s ! fakesink sync=false", buffers,
      size, element);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  gint64 t0, t1;

  if (pipe == NULL) {
    g_printerr ("%s: %s\n", desc, err->message);
    exit (1);
  }
  bus = gst_element_get_bus (pipe);
  gst_element_set_state (pipe, GST_STATE_PAUSED);
  gst_element_get_state (pipe, NULL, NULL, GST_CLOCK_TIME_NONE);
  t0 = g_get_monotonic_time ();
  c0 = cpu_us ();
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  t1 = g_get_monotonic_time ();
  c1 = cpu_us ();
  if (cpu_ns)
    *cpu_ns = (c1 - c0) * 1000.0 / buffers;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_printerr ("error in %s\n", desc);
    exit (1);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  g_free (desc);
  return (double) (t1 - t0) * 1000.0 / buffers;        /* ns per buffer */
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  int buffers = argc > 1 ? atoi (argv[1]) : 200000;
  int rounds = argc > 2 ? atoi (argv[2]) : 7;
  int size = 4096;
  double *t[N_VARIANTS], *c[N_VARIANTS];
  double med[N_VARIANTS], cmed[N_VARIANTS];
  unsigned v;
  int r;

  gst_init (&argc, &argv);
  for (v = 0; v < N_VARIANTS; v++) {
    t[v] = g_new0 (double, rounds);
    c[v] = g_new0 (double, rounds);
  }
  /* warm-up */
  for (v = 0; v < N_VARIANTS; v++)
    run_once (variants[v][1], buffers / 10, size, NULL);
  for (r = 0; r < rounds; r++) {
    for (v = 0; v < N_VARIANTS; v++) {
      /* rotate the order so no variant always runs first */
      unsigned k = (v + r) % N_VARIANTS;
      t[k][r] = run_once (variants[k][1], buffers, size, &c[k][r]);
    }
  }
  printf ("%d buffers of %d bytes, %d rounds, medians per buffer "
      "(wall = elapsed, cpu = user+sys of all threads):\n", buffers, size,
      rounds);
  for (v = 0; v < N_VARIANTS; v++) {
    qsort (t[v], rounds, sizeof (double), cmp_double);
    qsort (c[v], rounds, sizeof (double), cmp_double);
    med[v] = t[v][rounds / 2];
    cmed[v] = c[v][rounds / 2];
  }
  for (v = 0; v < N_VARIANTS; v++)
    printf ("  %-28s wall %6.0f ns (min %6.0f) ratio %.2f | cpu %6.0f ns "
        "(min %6.0f) ratio %.2f\n", variants[v][0], med[v], t[v][0],
        med[v] / med[0], cmed[v], c[v][0], cmed[v] / cmed[0]);
  for (v = 0; v < N_VARIANTS; v++) {
    g_free (t[v]);
    g_free (c[v]);
  }
  return 0;
}
