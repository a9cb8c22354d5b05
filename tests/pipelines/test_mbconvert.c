/* Unit tests of membound-convert's plain-C part (tools/mbconvert.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mbconvert.h"

static void
test_sizes (void)
{
  uint64_t v = 0;

  g_assert_cmpint (mbc_parse_size ("256M", &v), ==, 0);
  g_assert_cmpuint (v, ==, 256u * 1024 * 1024);
  g_assert_cmpint (mbc_parse_size ("1.5G", &v), ==, 0);
  g_assert_cmpuint (v, ==, 1610612736u);
  g_assert_cmpint (mbc_parse_size ("64MiB", &v), ==, 0);
  g_assert_cmpuint (v, ==, 64u * 1024 * 1024);
  g_assert_cmpint (mbc_parse_size ("512k", &v), ==, 0);
  g_assert_cmpuint (v, ==, 512u * 1024);
  g_assert_cmpint (mbc_parse_size ("1000000", &v), ==, 0);
  g_assert_cmpuint (v, ==, 1000000u);
  g_assert_cmpint (mbc_parse_size ("12B", &v), ==, 0);
  g_assert_cmpuint (v, ==, 12u);
  g_assert_cmpint (mbc_parse_size ("", &v), ==, -1);
  g_assert_cmpint (mbc_parse_size ("-5M", &v), ==, -1);
  g_assert_cmpint (mbc_parse_size ("12X", &v), ==, -1);
  g_assert_cmpint (mbc_parse_size ("M", &v), ==, -1);
  g_assert_cmpint (mbc_parse_size ("5Mx", &v), ==, -1);
  g_assert_cmpint (mbc_parse_size ("nan", &v), ==, -1);
}

static void
test_rates (void)
{
  int n = 0, d = 0;

  g_assert_cmpint (mbc_parse_rate ("10", &n, &d), ==, 0);
  g_assert_cmpint (n, ==, 10);
  g_assert_cmpint (d, ==, 1);
  g_assert_cmpint (mbc_parse_rate ("29.97", &n, &d), ==, 0);
  g_assert_cmpint (n, ==, 2997);
  g_assert_cmpint (d, ==, 100);
  g_assert_cmpint (mbc_parse_rate ("2.5", &n, &d), ==, 0);
  g_assert_cmpint (n, ==, 5);
  g_assert_cmpint (d, ==, 2);
  g_assert_cmpint (mbc_parse_rate ("30000/1001", &n, &d), ==, 0);
  g_assert_cmpint (n, ==, 30000);
  g_assert_cmpint (d, ==, 1001);
  g_assert_cmpint (mbc_parse_rate ("0", &n, &d), ==, -1);
  g_assert_cmpint (mbc_parse_rate ("-3", &n, &d), ==, -1);
  g_assert_cmpint (mbc_parse_rate ("10/0", &n, &d), ==, -1);
  g_assert_cmpint (mbc_parse_rate ("/3", &n, &d), ==, -1);
  g_assert_cmpint (mbc_parse_rate ("ten", &n, &d), ==, -1);
  g_assert_cmpint (mbc_parse_rate ("10hz", &n, &d), ==, -1);
}

static void
test_durations (void)
{
  int64_t v = 0;

  g_assert_cmpint (mbc_parse_duration ("20ms", &v), ==, 0);
  g_assert_cmpint (v, ==, 20000000);
  g_assert_cmpint (mbc_parse_duration ("20", &v), ==, 0);
  g_assert_cmpint (v, ==, 20000000);
  g_assert_cmpint (mbc_parse_duration ("0.05s", &v), ==, 0);
  g_assert_cmpint (v, ==, 50000000);
  g_assert_cmpint (mbc_parse_duration ("1500us", &v), ==, 0);
  g_assert_cmpint (v, ==, 1500000);
  g_assert_cmpint (mbc_parse_duration ("7ns", &v), ==, 0);
  g_assert_cmpint (v, ==, 7);
  g_assert_cmpint (mbc_parse_duration ("5min", &v), ==, -1);
  g_assert_cmpint (mbc_parse_duration ("-1ms", &v), ==, -1);
  g_assert_cmpint (mbc_parse_duration ("", &v), ==, -1);
}

static int
parse (MbcOptions * o, char *err, const char *first, ...)
{
  GPtrArray *a = g_ptr_array_new ();
  va_list ap;
  const char *s;
  int r;

  g_ptr_array_add (a, (gpointer) "membound-convert");
  va_start (ap, first);
  for (s = first; s != NULL; s = va_arg (ap, const char *))
      g_ptr_array_add (a, (gpointer) s);
  va_end (ap);
  g_ptr_array_add (a, NULL);
  err[0] = '\0';
  r = mbc_options_parse (o, (int) a->len - 1, (char **) a->pdata, err, 256);
  g_ptr_array_free (a, TRUE);
  return r;
}

static void
test_options (void)
{
  MbcOptions o;
  char err[256];

  g_assert_cmpint (parse (&o, err, "-o", "out", "--topics", "/a,/b",
          "--align-to", "/cam", "--tolerance", "15ms", "--jpeg-quality", "85",
          "--layout", "aloha", "--budget", "64M", "-j", "3", "--force",
          "--progress", "plain", "--interval", "0.5", "x.bag", "dir", NULL),
      ==, 0);
  g_assert_cmpstr (o.output_dir, ==, "out");
  g_assert_cmpstr (o.topics, ==, "/a,/b");
  g_assert_cmpstr (o.align_to, ==, "/cam");
  g_assert_cmpint (o.tolerance_ns, ==, 15000000);
  g_assert_cmpint (o.jpeg_quality, ==, 85);
  g_assert_cmpstr (o.layout, ==, "aloha");
  g_assert_cmpuint (o.budget_bytes, ==, 64u << 20);
  g_assert_cmpint (o.jobs, ==, 3);
  g_assert_true (o.force);
  g_assert_cmpint (o.progress, ==, MBC_PROGRESS_PLAIN);
  g_assert_cmpfloat (o.progress_interval, ==, 0.5);
  g_assert_cmpuint (o.n_inputs, ==, 2);
  g_assert_cmpstr (o.inputs[0], ==, "x.bag");
  g_assert_cmpstr (o.inputs[1], ==, "dir");
  mbc_options_clear (&o);

  /* defaults, and parsing twice (getopt state is reset) */
  g_assert_cmpint (parse (&o, err, "--rate", "30000/1001", "a.bag", NULL),
      ==, 0);
  g_assert_cmpint (o.rate_num, ==, 30000);
  g_assert_cmpint (o.rate_den, ==, 1001);
  g_assert_null (o.align_to);
  g_assert_cmpint (o.jobs, ==, 1);
  g_assert_cmpuint (o.budget_bytes, ==, MBC_DEFAULT_BUDGET);
  g_assert_cmpint (o.tolerance_ns, ==, -1);
  g_assert_cmpint (o.jpeg_quality, ==, -1);
  g_assert_false (o.force);
  mbc_options_clear (&o);

  g_assert_cmpint (parse (&o, err, "--layout", "aloha", "--aloha-role",
          "/js=qpos", "--aloha-role", "/cmd=action", "a.bag", NULL), ==, 0);
  g_assert_cmpstr (mbc_aloha_role (&o, "/js"), ==, "qpos");
  g_assert_cmpstr (mbc_aloha_role (&o, "/cmd"), ==, "action");
  g_assert_null (mbc_aloha_role (&o, "/j"));
  g_assert_null (mbc_aloha_role (&o, "/js2"));
  mbc_options_clear (&o);
  g_assert_cmpint (parse (&o, err, "--aloha-role", "/js=qpos", "a", NULL), ==,
      -1);
  g_assert_nonnull (strstr (err, "--layout aloha"));
  g_assert_cmpint (parse (&o, err, "--layout", "aloha", "--aloha-role", "=x",
          "a", NULL), ==, -1);

  g_assert_cmpint (parse (&o, err, "--help", NULL), ==, 0);
  g_assert_true (o.show_help);
  mbc_options_clear (&o);

  /* errors give one line naming the problem */
  g_assert_cmpint (parse (&o, err, NULL), ==, -1);
  g_assert_nonnull (strstr (err, "no input"));
  g_assert_cmpint (parse (&o, err, "--rate", "10", "--align-to", "/c", "a",
          NULL), ==, -1);
  g_assert_nonnull (strstr (err, "exclude"));
  g_assert_cmpint (parse (&o, err, "--tolerance", "5ms", "a", NULL), ==, -1);
  g_assert_nonnull (strstr (err, "--tolerance needs"));
  g_assert_cmpint (parse (&o, err, "--jobs", "0", "a", NULL), ==, -1);
  g_assert_nonnull (strstr (err, "--jobs"));
  g_assert_cmpint (parse (&o, err, "--budget", "10k", "a", NULL), ==, -1);
  g_assert_nonnull (strstr (err, "--budget"));
  g_assert_cmpint (parse (&o, err, "--jpeg-quality", "101", "a", NULL), ==,
      -1);
  g_assert_cmpint (parse (&o, err, "--progress", "fancy", "a", NULL), ==, -1);
  g_assert_cmpint (parse (&o, err, "--frobnicate", "a", NULL), ==, -1);
  g_assert_nonnull (strstr (err, "--frobnicate"));
  g_assert_cmpint (parse (&o, err, "-x", "a", NULL), ==, -1);
  g_assert_nonnull (strstr (err, "-x"));
  g_assert_cmpint (parse (&o, err, "a", "--layout", NULL), ==, -1);
  g_assert_nonnull (strstr (err, "needs a value"));
}

static void
touch (const char *path)
{
  g_assert_true (g_file_set_contents (path, "x", 1, NULL));
}

static void
test_inputs (void)
{
  gchar *tmp = g_dir_make_tmp ("mbconvert-XXXXXX", NULL);
  gchar *sub, *p, *a;
  char *inputs[2];
  MbcInput *in = NULL;
  char err[256];
  char *out;
  int n;

  g_assert_nonnull (tmp);
  sub = g_build_filename (tmp, "day2", NULL);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  p = g_build_filename (tmp, "b.bag", NULL);
  touch (p);
  g_free (p);
  p = g_build_filename (tmp, "a.bag", NULL);
  touch (p);
  a = p;
  p = g_build_filename (tmp, "notes.txt", NULL);
  touch (p);
  g_free (p);
  p = g_build_filename (tmp, ".hidden.bag", NULL);
  touch (p);
  g_free (p);
  p = g_build_filename (sub, "c.bag", NULL);
  touch (p);
  g_free (p);

  inputs[0] = tmp;
  n = mbc_find_inputs (inputs, 1, &in, err, sizeof (err));
  g_assert_cmpint (n, ==, 3);
  g_assert_true (g_str_has_suffix (in[0].path, "/a.bag"));
  g_assert_cmpstr (in[0].rel, ==, "a");
  g_assert_cmpstr (in[1].rel, ==, "b");
  g_assert_cmpstr (in[2].rel, ==, "day2/c");
  out = mbc_output_path ("/out", &in[2]);
  g_assert_cmpstr (out, ==, "/out/day2/c.h5");
  free (out);
  out = mbc_output_path (NULL, &in[0]);
  g_assert_cmpstr (out, ==, "./a.h5");
  {
    char *part = mbc_partial_path (out);
    g_assert_cmpstr (part, ==, "./a.h5.partial");
    free (part);
  }
  free (out);
  mbc_inputs_free (in, (size_t) n);

  /* a file given directly, whatever its name */
  inputs[0] = a;
  n = mbc_find_inputs (inputs, 1, &in, err, sizeof (err));
  g_assert_cmpint (n, ==, 1);
  g_assert_cmpstr (in[0].rel, ==, "a");
  mbc_inputs_free (in, (size_t) n);

  inputs[1] = (char *) "/nonexistent/x.bag";
  n = mbc_find_inputs (inputs, 2, &in, err, sizeof (err));
  g_assert_cmpint (n, ==, -1);
  g_assert_nonnull (strstr (err, "/nonexistent/x.bag"));
  g_assert_null (in);

  /* parent directories */
  p = g_build_filename (tmp, "o", "p", "q.h5", NULL);
  g_assert_cmpint (mbc_make_parent_dirs (p), ==, 0);
  g_free (p);
  p = g_build_filename (tmp, "o", "p", NULL);
  g_assert_true (g_file_test (p, G_FILE_TEST_IS_DIR));
  g_free (p);

  {
    gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
    g_assert_cmpint (system (cmd), ==, 0);
    g_free (cmd);
  }
  g_free (a);
  g_free (sub);
  g_free (tmp);
}

static void
test_one_line (void)
{
  char a[] = "first\nsecond\r\nthird";
  char b[] = "abcdefghijklmnop";
  char c[] = "abc\xc3\xa9\xc3\xa9xyz";   /* UTF-8 is not cut in half */

  mbc_one_line (a, 100);
  g_assert_cmpstr (a, ==, "first second  third");
  mbc_one_line (b, 10);
  g_assert_cmpstr (b, ==, "abcdefg...");
  mbc_one_line (c, 8);
  g_assert_cmpstr (c, ==, "abc\xc3\xa9...");
}

static void
test_format (void)
{
  char buf[512];
  MbcProgress p = { 0.452, 123.4, 45100000, 12.0, 2, 5, 2, "/x/y/run.bag" };
  MbcTable t = { NULL, 0, 0 };
  char *txt;
  gchar **lines;

  mbc_format_bytes (17, buf, sizeof (buf));
  g_assert_cmpstr (buf, ==, "17 B");
  mbc_format_bytes (845000, buf, sizeof (buf));
  g_assert_cmpstr (buf, ==, "845.0 kB");
  mbc_format_bytes (12300000, buf, sizeof (buf));
  g_assert_cmpstr (buf, ==, "12.3 MB");
  mbc_format_bytes (2500000000u, buf, sizeof (buf));
  g_assert_cmpstr (buf, ==, "2.50 GB");

  mbc_format_progress (&p, 10, buf, sizeof (buf));
  g_assert_cmpstr (buf, ==,
      "[#####.....]  45.2 %  2/5 bags   123.4 MB/s  RSS 45.1 MB  run.bag");
  p.fraction = 1.7;             /* clamped */
  mbc_format_progress (&p, 4, buf, sizeof (buf));
  g_assert_true (g_str_has_prefix (buf, "[####] 100.0 %"));
  p.fraction = 0.452;
  mbc_format_progress_plain (&p, buf, sizeof (buf));
  g_assert_cmpstr (buf, ==, "progress 45.2% bags 2/5 running 2 read 123.4 "
      "MB/s rss 45.1 MB elapsed 12.0 s");

  mbc_table_add (&t, "a.bag", "/cam", 300, 1200000, 2, 0.4, 1.25);
  mbc_table_row (&t, "a.bag", "/joint_states")->rows = 299;
  g_assert_true (mbc_table_row (&t, "a.bag", "/cam") == &t.rows[0]);
  g_assert_cmpuint (t.n_rows, ==, 2);
  txt = mbc_table_format (&t);
  lines = g_strsplit (txt, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);      /* 4 + trailing "" */
  g_assert_true (g_str_has_prefix (lines[0], "bag    stream"));
  g_assert_true (g_str_has_prefix (lines[1], "-----  "));
  g_assert_cmpstr (lines[2], ==,
      "a.bag  /cam            300  1.2 MB              2"
      "                0.40 / 1.25");
  g_assert_cmpstr (lines[3], ==,
      "a.bag  /joint_states   299       -              -"
      "                          -");
  /* columns line up */
  g_assert_cmpuint (strlen (lines[2]), ==, strlen (lines[3]));
  g_strfreev (lines);
  free (txt);
  mbc_table_clear (&t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mbconvert/sizes", test_sizes);
  g_test_add_func ("/mbconvert/rates", test_rates);
  g_test_add_func ("/mbconvert/durations", test_durations);
  g_test_add_func ("/mbconvert/options", test_options);
  g_test_add_func ("/mbconvert/inputs", test_inputs);
  g_test_add_func ("/mbconvert/format", test_format);
  g_test_add_func ("/mbconvert/one-line", test_one_line);
  return g_test_run ();
}
