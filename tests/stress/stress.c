/* stress: random state changes, flushing seeks, EOS, pad request/release and
 * caps renegotiation on a running pipeline, for many iterations, with a
 * watchdog that aborts on a deadlock (issue 9).
 *
 * Usage: stress [--iterations N] [--seed S] [--watchdog SECONDS]
 *               [--caps "caps1;caps2;..."] PIPELINE-DESCRIPTION
 *
 * Elements the driver looks for by name in the description:
 *   cf   a capsfilter whose caps are switched between the --caps entries
 *   req  an element with a request pad template; pads are requested and
 *        released while data flows
 * Errors posted on the bus are counted (a renegotiation may legitimately
 * fail); a crash, a critical/warning (fatal under G_DEBUG), a leak reported
 * by GST_TRACERS=leaks at exit or a hang past the watchdog fails the run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile gint64 last_progress;
static guint watchdog_seconds = 30;
static volatile const gchar *current_action = "start";

static gpointer
watchdog (gpointer data)
{
  while (TRUE) {
    gint64 now = g_get_monotonic_time ();
    if (now - last_progress > (gint64) watchdog_seconds * G_USEC_PER_SEC) {
      g_printerr ("stress: WATCHDOG: no progress for %u s during '%s' — "
          "deadlock\n", watchdog_seconds, current_action);
      abort ();
    }
    g_usleep (G_USEC_PER_SEC / 4);
  }
  return NULL;
}

static void
progress (const gchar * action)
{
  current_action = action;
  last_progress = g_get_monotonic_time ();
}

static guint errors, eos_seen;

static void
drain_bus (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      GST_INFO ("error (allowed under stress): %s", err->message);
      g_clear_error (&err);
      errors++;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      eos_seen++;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

static void
wait_state (GstElement * pipeline)
{
  /* Bounded wait; async transitions that cannot complete (e.g. after an
   * error) are fine, a hang is caught by the watchdog. */
  gst_element_get_state (pipeline, NULL, NULL, 2 * GST_SECOND);
}

int
main (int argc, char **argv)
{
  gint iterations = 1000, i;
  gint64 seed = 1;
  gchar *caps_list = NULL, *desc = NULL;
  gchar **caps_alts = NULL;
  GOptionEntry entries[] = {
    {"iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Iterations", "N"},
    {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed", "S"},
    {"watchdog", 'w', 0, G_OPTION_ARG_INT, &watchdog_seconds,
        "Seconds without progress that count as a deadlock", "S"},
    {"caps", 'c', 0, G_OPTION_ARG_STRING, &caps_list,
        "Caps alternatives for the capsfilter named cf, ';'-separated", "C"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("PIPELINE");
  GError *err = NULL;
  GstElement *pipeline, *cf, *req;
  GRand *rand;
  GList *requested = NULL;
  guint n_seeks = 0, n_states = 0, n_eos = 0, n_caps = 0, n_pads = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || argc < 2) {
    g_printerr ("stress: %s\n", err ? err->message : "no pipeline given");
    return 2;
  }
  g_option_context_free (ctx);
  desc = g_strjoinv (" ", argv + 1);
  if (caps_list)
    caps_alts = g_strsplit (caps_list, ";", -1);

  pipeline = gst_parse_launch (desc, &err);
  if (!pipeline || err) {
    g_printerr ("stress: cannot build '%s': %s\n", desc,
        err ? err->message : "?");
    return 2;
  }
  cf = gst_bin_get_by_name (GST_BIN (pipeline), "cf");
  req = gst_bin_get_by_name (GST_BIN (pipeline), "req");
  rand = g_rand_new_with_seed ((guint32) seed);

  progress ("start");
  g_thread_unref (g_thread_new ("watchdog", watchdog, NULL));

  for (i = 0; i < iterations; i++) {
    guint action = g_rand_int_range (rand, 0, 100);

    if (action < 35) {
      static const GstState states[] = { GST_STATE_NULL, GST_STATE_READY,
        GST_STATE_PAUSED, GST_STATE_PLAYING, GST_STATE_PLAYING
      };
      progress ("set_state");
      gst_element_set_state (pipeline,
          states[g_rand_int_range (rand, 0, G_N_ELEMENTS (states))]);
      wait_state (pipeline);
      n_states++;
    } else if (action < 65) {
      gint64 pos = g_rand_int_range (rand, 0, 2000) * GST_MSECOND;
      GstSeekFlags flags = GST_SEEK_FLAG_FLUSH;
      if (g_rand_boolean (rand))
        flags |= GST_SEEK_FLAG_ACCURATE;
      progress ("seek");
      gst_element_seek_simple (pipeline, GST_FORMAT_TIME, flags, pos);
      wait_state (pipeline);
      n_seeks++;
    } else if (action < 72) {
      progress ("eos");
      gst_element_send_event (pipeline, gst_event_new_eos ());
      n_eos++;
    } else if (action < 86 && cf && caps_alts && caps_alts[0]) {
      guint n = g_strv_length (caps_alts);
      GstCaps *caps =
          gst_caps_from_string (caps_alts[g_rand_int_range (rand, 0, n)]);
      progress ("renegotiate");
      g_object_set (cf, "caps", caps, NULL);
      gst_caps_unref (caps);
      n_caps++;
    } else if (action < 100 && req) {
      GstElementClass *klass = GST_ELEMENT_GET_CLASS (req);
      GList *l;
      progress ("pads");
      if (requested && g_rand_boolean (rand)) {
        GstPad *pad = requested->data;
        requested = g_list_delete_link (requested, requested);
        gst_element_release_request_pad (req, pad);
        gst_object_unref (pad);
      } else if (g_list_length (requested) < 4) {
        for (l = gst_element_class_get_pad_template_list (klass); l;
            l = l->next) {
          GstPadTemplate *t = l->data;
          if (GST_PAD_TEMPLATE_PRESENCE (t) == GST_PAD_REQUEST &&
              GST_PAD_TEMPLATE_DIRECTION (t) == GST_PAD_SINK) {
            GstPad *pad = gst_element_request_pad (req, t, NULL, NULL);
            if (pad)
              requested = g_list_prepend (requested, pad);
            break;
          }
        }
      }
      n_pads++;
    } else {
      progress ("sleep");
      g_usleep (g_rand_int_range (rand, 0, 5000));
    }
    drain_bus (pipeline);
    progress ("iteration");
  }

  progress ("teardown");
  while (requested) {
    gst_element_release_request_pad (req, requested->data);
    gst_object_unref (requested->data);
    requested = g_list_delete_link (requested, requested);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  drain_bus (pipeline);
  g_print ("stress: %d iterations (%u state changes, %u flushing seeks, "
      "%u EOS, %u renegotiations, %u pad request/release), %u errors posted, "
      "%u EOS seen, no crash, no deadlock\n", iterations, n_states, n_seeks,
      n_eos, n_caps, n_pads, errors, eos_seen);
  if (cf)
    gst_object_unref (cf);
  if (req)
    gst_object_unref (req);
  gst_object_unref (pipeline);
  g_rand_free (rand);
  g_strfreev (caps_alts);
  g_free (caps_list);
  g_free (desc);
  gst_deinit ();
  return 0;
}
