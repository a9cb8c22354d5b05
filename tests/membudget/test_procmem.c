/* Unit tests of procmem.c: parsers, and cgroup v2 / v1 / none detection and
 * readings on the fixture trees in tests/membudget/fixtures/ (each holds a
 * proc/ and a sys/fs/cgroup/ the reader is pointed at), plus a sanity read
 * of the real /proc.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmem.h"
#include "unit.h"

#define S(str) str, strlen (str)

static MbProcmem *
open_fixture (const char *name)
{
  char proc[4096], root[4096];

  snprintf (proc, sizeof (proc), "%s/%s/proc", MB_FIXTURES, name);
  snprintf (root, sizeof (root), "%s/%s", MB_FIXTURES, name);
  return mb_procmem_new (proc, root);
}

static void
test_parsers (void)
{
  MbStatm st;
  MbPsi psi;
  MbRollup ru;
  uint64_t v = 99;
  char v2[256], v1[256], root[256], mount[256];
  int kind;

  CHECK (mb_parse_statm (S ("100 50 20 1 0 30 0\n"), 4096, &st));
  CHECK_U64 (st.rss, 50 * 4096);
  CHECK_U64 (st.rss_shared, 20 * 4096);
  CHECK_U64 (st.rss_anon, 30 * 4096);
  CHECK_U64 (st.size, 100 * 4096);
  CHECK (!mb_parse_statm (S ("100 50"), 4096, &st));
  CHECK (!mb_parse_statm (S (""), 4096, &st));
  /* shared > resident cannot underflow */
  CHECK (mb_parse_statm (S ("10 5 9"), 4096, &st));
  CHECK_U64 (st.rss_anon, 0);
  CHECK (!mb_parse_statm (S ("99999999999999999999999 1 1"), 4096, &st));

  CHECK (mb_parse_limit (S ("max\n"), &v));
  CHECK_U64 (v, 0);
  CHECK (mb_parse_limit (S ("1234\n"), &v));
  CHECK_U64 (v, 1234);
  CHECK (mb_parse_limit (S ("9223372036854771712\n"), &v));
  CHECK_U64 (v, 0);
  CHECK (!mb_parse_limit (S ("abc"), &v));
  CHECK (!mb_parse_limit (S (""), &v));

  CHECK (mb_parse_keyed (S ("anon 5\nfile 6\ninactive_file 7\n"),
          "inactive_file", &v));
  CHECK_U64 (v, 7);
  CHECK (mb_parse_keyed (S ("anon 5\nfile 6"), "file", &v));
  CHECK_U64 (v, 6);
  /* "max" must not match "max_x" and a key must be a whole word */
  CHECK (!mb_parse_keyed (S ("max_usage 5\n"), "max", &v));
  CHECK (!mb_parse_keyed (S ("anon"), "anon", &v));

  CHECK (mb_parse_psi (S ("some avg10=1.50 avg60=0.75 avg300=0.10 total=12\n"
              "full avg10=0.25 avg60=0.00 avg300=0.00 total=7\n"), &psi));
  CHECK (psi.some_avg10 > 1.49 && psi.some_avg10 < 1.51);
  CHECK (psi.some_avg60 > 0.74 && psi.some_avg60 < 0.76);
  CHECK (psi.full_avg10 > 0.24 && psi.full_avg10 < 0.26);
  CHECK_U64 (psi.some_total, 12);
  CHECK_U64 (psi.full_total, 7);
  CHECK (!mb_parse_psi (S ("garbage\n"), &psi));

  CHECK (mb_parse_rollup (S ("55d0-7ff [rollup]\nRss:     1000 kB\n"
              "Pss:      800 kB\nAnonymous:   300 kB\n"), &ru));
  CHECK_U64 (ru.rss, 1000 * 1024);
  CHECK_U64 (ru.pss, 800 * 1024);
  CHECK_U64 (ru.anonymous, 300 * 1024);

  CHECK (mb_parse_proc_cgroup (S ("12:memory:/a/b\n0::/c\n"), v2,
          sizeof (v2), v1, sizeof (v1)));
  CHECK_STR (v1, "/a/b");
  CHECK_STR (v2, "/c");
  CHECK (mb_parse_proc_cgroup (S ("3:cpu,memory,blkio:/x"), v2, sizeof (v2),
          v1, sizeof (v1)));
  CHECK_STR (v1, "/x");
  CHECK_STR (v2, "");
  /* "memoryx" is not the memory controller */
  CHECK (!mb_parse_proc_cgroup (S ("3:memoryx:/x\n"), v2, sizeof (v2), v1,
          sizeof (v1)));

  CHECK (mb_parse_mountinfo_line (S ("26 23 0:24 / /sys/fs/cgroup rw shared:4"
              " - cgroup2 cgroup2 rw"), &kind, root, sizeof (root), mount,
          sizeof (mount)));
  CHECK (kind == 2);
  CHECK_STR (mount, "/sys/fs/cgroup");
  CHECK (mb_parse_mountinfo_line (S ("35 31 0:32 /x /mnt/my\\040cg rw - "
              "cgroup cgroup rw,memory"), &kind, root, sizeof (root), mount,
          sizeof (mount)));
  CHECK (kind == 1);
  CHECK_STR (mount, "/mnt/my cg");
  CHECK_STR (root, "/x");
  CHECK (mb_parse_mountinfo_line (S ("35 31 0:32 / /sys/fs/cgroup/cpu rw - "
              "cgroup cgroup rw,cpu"), &kind, root, sizeof (root), mount,
          sizeof (mount)));
  CHECK (kind == 0);
  CHECK (!mb_parse_mountinfo_line (S ("35 31 0:32 / /x rw"), &kind, root,
          sizeof (root), mount, sizeof (mount)));
}

static void
test_v2 (void)
{
  MbProcmem *p = open_fixture ("v2");
  MbCgroupMem cg;
  MbStatm st;
  MbPsi psi;
  long ps = sysconf (_SC_PAGESIZE);

  CHECK (p != NULL);
  CHECK (mb_procmem_cgroup_version (p) == MB_CGROUP_V2);
  CHECK (strstr (mb_procmem_cgroup_dir (p),
          "/v2/sys/fs/cgroup/system.slice/robot.service") != NULL);
  CHECK (mb_procmem_read_cgroup (p, &cg));
  CHECK (cg.version == MB_CGROUP_V2);
  CHECK_U64 (cg.usage, 536870912);
  CHECK_U64 (cg.high, 805306368);
  /* memory.max is "max" here but 1 GiB on the parent: the parent counts */
  CHECK_U64 (cg.max, 1073741824);
  CHECK_U64 (cg.anon, 400000000);
  CHECK_U64 (cg.inactive_file, 60000000);
  CHECK_U64 (cg.events_high, 12);
  CHECK_U64 (cg.events_max, 3);
  CHECK_U64 (cg.events_oom_kill, 1);
  CHECK_U64 (mb_cgroup_working_set (&cg), 536870912 - 60000000);
  CHECK_U64 (mb_cgroup_effective_limit (&cg), 805306368);
  CHECK (mb_procmem_read_statm (p, &st));
  CHECK_U64 (st.rss, 40000ull * ps);
  CHECK_U64 (st.rss_anon, 30000ull * ps);
  CHECK (mb_procmem_read_psi (p, &psi));
  CHECK (psi.some_avg10 > 1.49 && psi.some_avg10 < 1.51);
  mb_procmem_free (p);
}

static void
test_v1 (void)
{
  MbProcmem *p = open_fixture ("v1");
  MbCgroupMem cg;
  MbPsi psi;

  CHECK (p != NULL);
  /* cgroup2 is mounted at unified/ but without the memory controller */
  CHECK (mb_procmem_cgroup_version (p) == MB_CGROUP_V1);
  CHECK (strstr (mb_procmem_cgroup_dir (p),
          "/v1/sys/fs/cgroup/memory/process_api/abc") != NULL);
  CHECK (mb_procmem_read_cgroup (p, &cg));
  CHECK (cg.version == MB_CGROUP_V1);
  CHECK_U64 (cg.usage, 314572800);
  CHECK_U64 (cg.high, 0);       /* soft limit unset (2^63 - page) */
  CHECK_U64 (cg.max, 536870912);        /* from the parent */
  CHECK_U64 (cg.anon, 200000000);
  CHECK_U64 (cg.inactive_file, 80000000);
  CHECK_U64 (cg.events_max, 5);
  CHECK_U64 (cg.events_oom_kill, 2);
  CHECK_U64 (mb_cgroup_working_set (&cg), 314572800 - 80000000);
  CHECK_U64 (mb_cgroup_effective_limit (&cg), 536870912);
  /* no pressure file in this fixture */
  CHECK (!mb_procmem_read_psi (p, &psi));
  mb_procmem_free (p);
}

static void
test_none (void)
{
  MbProcmem *p = open_fixture ("none");
  MbCgroupMem cg;
  MbStatm st;

  CHECK (p != NULL);
  CHECK (mb_procmem_cgroup_version (p) == MB_CGROUP_NONE);
  CHECK_STR (mb_procmem_cgroup_dir (p), "");
  CHECK (!mb_procmem_read_cgroup (p, &cg));
  CHECK (cg.version == MB_CGROUP_NONE);
  CHECK_U64 (mb_cgroup_effective_limit (&cg), 0);
  CHECK (mb_procmem_read_statm (p, &st));
  mb_procmem_free (p);

  /* a proc root that does not exist at all */
  p = mb_procmem_new ("/nonexistent/proc", "/nonexistent");
  CHECK (p != NULL);
  CHECK (mb_procmem_cgroup_version (p) == MB_CGROUP_NONE);
  CHECK (!mb_procmem_read_statm (p, &st));
  mb_procmem_free (p);
}

static void
test_v2_namespace (void)
{
  MbProcmem *p = open_fixture ("v2ns");
  MbCgroupMem cg;

  /* mount root /kubepods/pod42 is stripped from the cgroup path */
  CHECK (mb_procmem_cgroup_version (p) == MB_CGROUP_V2);
  CHECK (strstr (mb_procmem_cgroup_dir (p), "/v2ns/sys/fs/cgroup/ctr") !=
      NULL);
  CHECK (mb_procmem_read_cgroup (p, &cg));
  CHECK_U64 (cg.usage, 1000);
  CHECK_U64 (cg.max, 2000);     /* the mount's top directory is smaller */
  mb_procmem_free (p);
}

static void
test_real (void)
{
  MbProcmem *p = mb_procmem_new (NULL, NULL);
  MbStatm a, b;
  MbCgroupMem cg;
  char *mem;
  size_t sz = 64 << 20;

  CHECK (mb_procmem_read_statm (p, &a));
  CHECK (a.rss > 0);
  mem = malloc (sz);
  memset (mem, 1, sz);
  CHECK (mb_procmem_read_statm (p, &b));
  /* 64 MiB touched: anonymous RSS grows by about that much */
  CHECK (b.rss_anon >= a.rss_anon + sz / 2);
  free (mem);
  if (mb_procmem_cgroup_version (p) != MB_CGROUP_NONE)
    CHECK (mb_procmem_read_cgroup (p, &cg) && cg.usage > 0);
  printf ("real /proc: rss %llu anon %llu, cgroup v%d '%s'\n",
      (unsigned long long) b.rss, (unsigned long long) b.rss_anon,
      (int) mb_procmem_cgroup_version (p), mb_procmem_cgroup_dir (p));
  mb_procmem_free (p);
}

int
main (void)
{
  test_parsers ();
  test_v2 ();
  test_v1 ();
  test_none ();
  test_v2_namespace ();
  test_real ();
  return unit_summary ();
}
