/* Generic state test: every element the membound plugin registers goes
 * NULL -> READY -> PAUSED -> PLAYING -> NULL repeatedly, without a crash, a
 * critical or a leak. Fails loudly when the plugin did not load or an element
 * the build says it has is missing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <string.h>

static GList *
membound_element_names (void)
{
  GstPlugin *plugin;
  GList *features, *l, *names = NULL;

  plugin = gst_registry_find_plugin (gst_registry_get (), "membound");
  fail_unless (plugin != NULL, "membound plugin not found in the registry "
      "(GST_PLUGIN_PATH=%s)", g_getenv ("GST_PLUGIN_PATH_1_0"));
  fail_unless (gst_plugin_is_loaded (plugin) ||
      (plugin = gst_plugin_load (plugin)) != NULL, "membound did not load");

  features = gst_registry_get_feature_list_by_plugin (gst_registry_get (),
      "membound");
  for (l = features; l; l = l->next) {
    if (GST_IS_ELEMENT_FACTORY (l->data))
      names = g_list_prepend (names,
          g_strdup (gst_plugin_feature_get_name (l->data)));
  }
  gst_plugin_feature_list_free (features);
  gst_object_unref (plugin);
  return g_list_sort (names, (GCompareFunc) strcmp);
}

GST_START_TEST (test_plugin_has_built_elements)
{
  const gchar *expected = g_getenv ("MB_ELEMENTS");
  gchar **want;
  GList *names = membound_element_names ();
  guint i;

  fail_unless (expected != NULL, "MB_ELEMENTS not set by the test runner");
  want = g_strsplit (expected, ",", -1);
  for (i = 0; want[i]; i++) {
    if (want[i][0] == '\0')
      continue;
    fail_unless (g_list_find_custom (names, want[i],
            (GCompareFunc) strcmp) != NULL, "element %s not registered",
        want[i]);
  }
  fail_unless_equals_int (g_list_length (names),
      g_strv_length (want) - (expected[0] == '\0' ? 1 : 0));
  g_strfreev (want);
  g_list_free_full (names, g_free);
}

GST_END_TEST;

GST_START_TEST (test_state_changes_up_and_down_seq)
{
  GList *names = membound_element_names (), *l;
  gint round;

  for (l = names; l; l = l->next) {
    const gchar *name = l->data;

    GST_INFO ("cycling %s", name);
    for (round = 0; round < 3; round++) {
      GstElement *element = gst_element_factory_make (name, NULL);
      GstBus *bus = gst_bus_new ();

      fail_unless (element != NULL, "could not create %s", name);
      gst_element_set_bus (element, bus);
      fail_unless (gst_element_set_state (element, GST_STATE_READY) !=
          GST_STATE_CHANGE_FAILURE, "%s failed to go to READY", name);
      /* Sources and sinks without a location refuse PAUSED with an error
       * message; that is correct. What must not happen is a crash, a
       * critical or a hang on the way back to NULL. */
      gst_element_set_state (element, GST_STATE_PAUSED);
      gst_element_set_state (element, GST_STATE_PLAYING);
      gst_element_set_state (element, GST_STATE_PAUSED);
      gst_element_set_state (element, GST_STATE_READY);
      fail_unless (gst_element_set_state (element, GST_STATE_NULL) ==
          GST_STATE_CHANGE_SUCCESS, "%s failed to go back to NULL", name);
      gst_bus_set_flushing (bus, TRUE);
      gst_element_set_bus (element, NULL);
      gst_object_unref (bus);
      gst_object_unref (element);
    }
  }
  g_list_free_full (names, g_free);
}

GST_END_TEST;

static Suite *
states_suite (void)
{
  Suite *s = suite_create ("states");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_plugin_has_built_elements);
  tcase_add_test (tc, test_state_changes_up_and_down_seq);
  return s;
}

GST_CHECK_MAIN (states);
