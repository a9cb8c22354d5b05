/* membound: process and cgroup memory readings.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "procmem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MB_PATH_MAX 4096
#define READ_MAX 16384
#define V1_UNLIMITED (UINT64_C (1) << 60)

struct MbProcmem
{
  char proc_root[MB_PATH_MAX];
  char fs_root[MB_PATH_MAX];
  MbCgroupVersion version;
  char cg_dir[MB_PATH_MAX];     /* the cgroup's directory */
  size_t cg_top_len;            /* length of the mount point prefix of cg_dir */
  uint64_t page_size;
  int statm_fd;
};

/* ---- small string helpers (buffers are not NUL-terminated) ---- */

static const char *
skip_ws (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  return p;
}

static int
parse_u64 (const char **pp, const char *end, uint64_t * out)
{
  const char *p = *pp;
  uint64_t v = 0;
  int n = 0;

  while (p < end && *p >= '0' && *p <= '9') {
    unsigned d = (unsigned) (*p - '0');
    if (v > (UINT64_MAX - d) / 10)
      v = UINT64_MAX;
    else
      v = v * 10 + d;
    p++;
    n++;
  }
  if (n == 0)
    return 0;
  *pp = p;
  *out = v;
  return 1;
}

static int
parse_double (const char **pp, const char *end, double *out)
{
  uint64_t ip = 0, fp = 0;
  double scale = 1;
  const char *p = *pp;

  if (!parse_u64 (&p, end, &ip))
    return 0;
  *out = (double) ip;
  if (p < end && *p == '.') {
    p++;
    while (p < end && *p >= '0' && *p <= '9') {
      if (scale < 1e15) {
        fp = fp * 10 + (uint64_t) (*p - '0');
        scale *= 10;
      }
      p++;
    }
    *out += (double) fp / scale;
  }
  *pp = p;
  return 1;
}

static const char *
line_end (const char *p, const char *end)
{
  const char *nl = memchr (p, '\n', (size_t) (end - p));
  return nl ? nl : end;
}

static void
copy_str (char *dst, size_t size, const char *src, size_t n)
{
  if (size == 0)
    return;
  if (n >= size)
    n = size - 1;
  memcpy (dst, src, n);
  dst[n] = '\0';
}

/* ---- parsers ---- */

int
mb_parse_statm (const char *buf, size_t len, uint64_t page_size,
    MbStatm * out)
{
  const char *p = buf, *end = buf + len;
  uint64_t size, resident, shared;

  p = skip_ws (p, end);
  if (!parse_u64 (&p, end, &size))
    return 0;
  p = skip_ws (p, end);
  if (!parse_u64 (&p, end, &resident))
    return 0;
  p = skip_ws (p, end);
  if (!parse_u64 (&p, end, &shared))
    return 0;
  if (page_size == 0 || size > UINT64_MAX / page_size
      || resident > UINT64_MAX / page_size)
    return 0;
  out->size = size * page_size;
  out->rss = resident * page_size;
  out->rss_shared = (shared > resident ? resident : shared) * page_size;
  out->rss_anon = out->rss - out->rss_shared;
  return 1;
}

/* "Key:   1234 kB" lines */
static int
parse_kb_field (const char *buf, size_t len, const char *key, uint64_t * out)
{
  const char *p = buf, *end = buf + len;
  size_t klen = strlen (key);

  while (p < end) {
    const char *le = line_end (p, end);
    if ((size_t) (le - p) > klen && memcmp (p, key, klen) == 0
        && p[klen] == ':') {
      const char *q = skip_ws (p + klen + 1, le);
      uint64_t v;
      if (!parse_u64 (&q, le, &v))
        return 0;
      *out = v > UINT64_MAX / 1024 ? UINT64_MAX : v * 1024;
      return 1;
    }
    p = le + 1;
  }
  return 0;
}

int
mb_parse_rollup (const char *buf, size_t len, MbRollup * out)
{
  memset (out, 0, sizeof (*out));
  if (!parse_kb_field (buf, len, "Rss", &out->rss))
    return 0;
  parse_kb_field (buf, len, "Pss", &out->pss);
  parse_kb_field (buf, len, "Anonymous", &out->anonymous);
  return 1;
}

static int
parse_psi_line (const char *p, const char *le, double avg[3], uint64_t * total)
{
  static const char *const keys[] = { "avg10=", "avg60=", "avg300=" };
  int i, found = 0;

  for (i = 0; i < 3; i++) {
    size_t kl = strlen (keys[i]);
    const char *q;
    for (q = p; q + kl <= le; q++) {
      if (memcmp (q, keys[i], kl) == 0) {
        const char *r = q + kl;
        if (parse_double (&r, le, &avg[i]))
          found++;
        break;
      }
    }
  }
  {
    const char *q;
    for (q = p; q + 6 <= le; q++) {
      if (memcmp (q, "total=", 6) == 0) {
        const char *r = q + 6;
        parse_u64 (&r, le, total);
        break;
      }
    }
  }
  return found == 3;
}

int
mb_parse_psi (const char *buf, size_t len, MbPsi * out)
{
  const char *p = buf, *end = buf + len;
  int some = 0;

  memset (out, 0, sizeof (*out));
  while (p < end) {
    const char *le = line_end (p, end);
    if (le - p >= 5 && memcmp (p, "some ", 5) == 0) {
      double a[3] = { 0, 0, 0 };
      some = parse_psi_line (p, le, a, &out->some_total);
      out->some_avg10 = a[0];
      out->some_avg60 = a[1];
      out->some_avg300 = a[2];
    } else if (le - p >= 5 && memcmp (p, "full ", 5) == 0) {
      double a[3] = { 0, 0, 0 };
      parse_psi_line (p, le, a, &out->full_total);
      out->full_avg10 = a[0];
      out->full_avg60 = a[1];
      out->full_avg300 = a[2];
    }
    p = le + 1;
  }
  return some;
}

int
mb_parse_limit (const char *buf, size_t len, uint64_t * out)
{
  const char *p = buf, *end = buf + len;
  uint64_t v;

  p = skip_ws (p, end);
  if (end - p >= 3 && memcmp (p, "max", 3) == 0) {
    *out = 0;
    return 1;
  }
  if (!parse_u64 (&p, end, &v))
    return 0;
  *out = v >= V1_UNLIMITED ? 0 : v;
  return 1;
}

int
mb_parse_keyed (const char *buf, size_t len, const char *key, uint64_t * out)
{
  const char *p = buf, *end = buf + len;
  size_t klen = strlen (key);

  while (p < end) {
    const char *le = line_end (p, end);
    if ((size_t) (le - p) > klen && memcmp (p, key, klen) == 0
        && (p[klen] == ' ' || p[klen] == '\t')) {
      const char *q = skip_ws (p + klen, le);
      return parse_u64 (&q, le, out);
    }
    p = le + 1;
  }
  return 0;
}

static int
list_has (const char *p, const char *end, const char *word)
{
  size_t wl = strlen (word);

  while (p < end) {
    const char *c = memchr (p, ',', (size_t) (end - p));
    const char *e = c ? c : end;
    if ((size_t) (e - p) == wl && memcmp (p, word, wl) == 0)
      return 1;
    p = e + 1;
  }
  return 0;
}

int
mb_parse_proc_cgroup (const char *buf, size_t len, char *v2_path,
    size_t v2_size, char *v1_path, size_t v1_size)
{
  const char *p = buf, *end = buf + len;
  int found = 0;

  copy_str (v2_path, v2_size, "", 0);
  copy_str (v1_path, v1_size, "", 0);
  while (p < end) {
    const char *le = line_end (p, end);
    const char *c1 = memchr (p, ':', (size_t) (le - p));
    const char *c2 = c1 ? memchr (c1 + 1, ':', (size_t) (le - c1 - 1)) : NULL;
    if (c2 && c2 + 1 < le && c2[1] == '/') {
      if (c1 - p == 1 && p[0] == '0' && c2 == c1 + 1) {
        copy_str (v2_path, v2_size, c2 + 1, (size_t) (le - c2 - 1));
        found = 1;
      } else if (list_has (c1 + 1, c2, "memory")) {
        copy_str (v1_path, v1_size, c2 + 1, (size_t) (le - c2 - 1));
        found = 1;
      }
    }
    p = le + 1;
  }
  return found;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void
copy_unescaped (char *dst, size_t size, const char *src, size_t n)
{
  size_t i = 0, o = 0;

  if (size == 0)
    return;
  while (i < n && o + 1 < size) {
    if (src[i] == '\\' && i + 3 < n &&
        src[i + 1] >= '0' && src[i + 1] <= '3' &&
        src[i + 2] >= '0' && src[i + 2] <= '7' &&
        src[i + 3] >= '0' && src[i + 3] <= '7') {
      dst[o++] = (char) (((src[i + 1] - '0') << 6) | ((src[i + 2] - '0') << 3)
          | (src[i + 3] - '0'));
      i += 4;
    } else {
      dst[o++] = src[i++];
    }
  }
  dst[o] = '\0';
}

/* splits the next space-separated field of [*pp, end) */
static int
next_field (const char **pp, const char *end, const char **f, size_t *flen)
{
  const char *p = skip_ws (*pp, end), *e;

  if (p >= end)
    return 0;
  e = p;
  while (e < end && *e != ' ' && *e != '\t')
    e++;
  *f = p;
  *flen = (size_t) (e - p);
  *pp = e;
  return 1;
}

int
mb_parse_mountinfo_line (const char *line, size_t len, int *kind,
    char *root, size_t root_size, char *mount, size_t mount_size)
{
  const char *p = line, *end = line + len, *f, *fs, *super;
  const char *rootf, *mountf;
  size_t fl, fsl, superl, rootl, mountl;
  int i;

  *kind = 0;
  /* id parent maj:min root mountpoint */
  for (i = 0; i < 3; i++)
    if (!next_field (&p, end, &f, &fl))
      return 0;
  if (!next_field (&p, end, &rootf, &rootl))
    return 0;
  if (!next_field (&p, end, &mountf, &mountl))
    return 0;
  /* options, optional fields ..., "-" */
  for (;;) {
    if (!next_field (&p, end, &f, &fl))
      return 0;
    if (fl == 1 && f[0] == '-')
      break;
  }
  if (!next_field (&p, end, &fs, &fsl))
    return 0;
  if (!next_field (&p, end, &f, &fl))   /* source */
    return 0;
  if (!next_field (&p, end, &super, &superl))
    superl = 0;
  copy_unescaped (root, root_size, rootf, rootl);
  copy_unescaped (mount, mount_size, mountf, mountl);
  if (fsl == 7 && memcmp (fs, "cgroup2", 7) == 0)
    *kind = 2;
  else if (fsl == 6 && memcmp (fs, "cgroup", 6) == 0 && superl > 0
      && list_has (super, super + superl, "memory"))
    *kind = 1;
  return 1;
}

/* out = a + b + c (any may be ""); returns 0 when it does not fit */
static int
build_path (char *out, size_t size, const char *a, const char *b,
    const char *c)
{
  size_t la = strlen (a), lb = strlen (b), lc = strlen (c);

  if (la + lb + lc + 1 > size) {
    if (size > 0)
      out[0] = '\0';
    return 0;
  }
  memcpy (out, a, la);
  memcpy (out + la, b, lb);
  memcpy (out + la + lb, c, lc);
  out[la + lb + lc] = '\0';
  return 1;
}

/* ---- file access ---- */

static ssize_t
read_path (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n, total = 0;

  if (fd < 0)
    return -1;
  while ((size_t) total < size) {
    n = read (fd, buf + total, size - (size_t) total);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    total += n;
  }
  close (fd);
  return total;
}

static ssize_t
read_in (const char *dir, const char *name, char *buf, size_t size)
{
  char path[MB_PATH_MAX];

  if (!build_path (path, sizeof (path), dir, "/", name))
    return -1;
  return read_path (path, buf, size);
}

static int
file_exists_in (const char *dir, const char *name)
{
  char path[MB_PATH_MAX];

  if (!build_path (path, sizeof (path), dir, "/", name))
    return 0;
  return access (path, R_OK) == 0;
}

/* Joins fs_root + mount + (cg_path relative to the mount's root) into out.
 * Returns the length of the fs_root + mount prefix, 0 on overflow. */
static size_t
join_cgroup_dir (const MbProcmem * p, const char *mount, const char *mroot,
    const char *cg_path, char *out, size_t size)
{
  const char *rel = cg_path;
  size_t rl = strlen (mroot);
  size_t prefix;

  if (strcmp (mroot, "/") != 0) {
    if (strncmp (cg_path, mroot, rl) == 0 && (cg_path[rl] == '/'
            || cg_path[rl] == '\0'))
      rel = cg_path + rl;
    else
      rel = "";                 /* not below the mount: use the mount itself */
  }
  if (!build_path (out, size, p->fs_root, mount, ""))
    return 0;
  prefix = strlen (out);
  while (prefix > 1 && out[prefix - 1] == '/')
    out[--prefix] = '\0';
  if (!build_path (out + prefix, size - prefix, strcmp (rel, "/") == 0 ? "" :
          rel, "", ""))
    return 0;
  while (strlen (out) > prefix && out[strlen (out) - 1] == '/')
    out[strlen (out) - 1] = '\0';
  return prefix;
}

static void
detect_cgroup (MbProcmem * p)
{
  char *buf = malloc (READ_MAX * 4);
  char v2[MB_PATH_MAX], v1[MB_PATH_MAX], path[MB_PATH_MAX];
  char root[MB_PATH_MAX], mount[MB_PATH_MAX];
  char v2_dir[MB_PATH_MAX] = "", v1_dir[MB_PATH_MAX] = "";
  size_t v2_top = 0, v1_top = 0;
  ssize_t n;

  p->version = MB_CGROUP_NONE;
  p->cg_dir[0] = '\0';
  if (buf == NULL)
    return;
  build_path (path, sizeof (path), p->proc_root, "/self/cgroup", "");
  n = read_path (path, buf, READ_MAX * 4);
  if (n <= 0 || !mb_parse_proc_cgroup (buf, (size_t) n, v2, sizeof (v2), v1,
          sizeof (v1))) {
    free (buf);
    return;
  }
  build_path (path, sizeof (path), p->proc_root, "/self/mountinfo", "");
  n = read_path (path, buf, READ_MAX * 4);
  if (n > 0) {
    const char *q = buf, *end = buf + n;
    while (q < end) {
      const char *le = line_end (q, end);
      int kind;
      if (mb_parse_mountinfo_line (q, (size_t) (le - q), &kind, root,
              sizeof (root), mount, sizeof (mount))) {
        if (kind == 2 && v2[0] && v2_dir[0] == '\0') {
          char ctl[256];
          char top[MB_PATH_MAX];
          ssize_t cn;
          build_path (top, sizeof (top), p->fs_root, mount, "");
          cn = read_in (top, "cgroup.controllers", ctl, sizeof (ctl) - 1);
          if (cn > 0) {
            const char *c = ctl, *ce = ctl + cn;
            /* space-separated controller list */
            while (c < ce) {
              const char *f;
              size_t fl;
              if (!next_field (&c, ce, &f, &fl))
                break;
              if (fl >= 6 && memcmp (f, "memory", 6) == 0
                  && (fl == 6 || f[6] == '\n')) {
                v2_top = join_cgroup_dir (p, mount, root, v2, v2_dir,
                    sizeof (v2_dir));
                break;
              }
            }
          }
        } else if (kind == 1 && v1[0] && v1_dir[0] == '\0') {
          v1_top = join_cgroup_dir (p, mount, root, v1, v1_dir,
              sizeof (v1_dir));
        }
      }
      q = le + 1;
    }
  }
  free (buf);

  if (v2_top > 0 && file_exists_in (v2_dir, "memory.current")) {
    p->version = MB_CGROUP_V2;
    strcpy (p->cg_dir, v2_dir);
    p->cg_top_len = v2_top;
  } else if (v1_top > 0 && file_exists_in (v1_dir, "memory.usage_in_bytes")) {
    p->version = MB_CGROUP_V1;
    strcpy (p->cg_dir, v1_dir);
    p->cg_top_len = v1_top;
  }
}

MbProcmem *
mb_procmem_new (const char *proc_root, const char *fs_root)
{
  MbProcmem *p = calloc (1, sizeof (*p));
  char path[MB_PATH_MAX];
  long ps;

  if (p == NULL)
    return NULL;
  copy_str (p->proc_root, sizeof (p->proc_root),
      proc_root ? proc_root : "/proc", strlen (proc_root ? proc_root : "/proc"));
  copy_str (p->fs_root, sizeof (p->fs_root), fs_root ? fs_root : "",
      strlen (fs_root ? fs_root : ""));
  /* "/" as fs root means the real root: avoid "//sys" */
  if (strcmp (p->fs_root, "/") == 0)
    p->fs_root[0] = '\0';
  ps = sysconf (_SC_PAGESIZE);
  p->page_size = ps > 0 ? (uint64_t) ps : 4096;
  build_path (path, sizeof (path), p->proc_root, "/self/statm", "");
  p->statm_fd = open (path, O_RDONLY | O_CLOEXEC);
  detect_cgroup (p);
  return p;
}

void
mb_procmem_free (MbProcmem * p)
{
  if (p == NULL)
    return;
  if (p->statm_fd >= 0)
    close (p->statm_fd);
  free (p);
}

MbCgroupVersion
mb_procmem_cgroup_version (const MbProcmem * p)
{
  return p->version;
}

const char *
mb_procmem_cgroup_dir (const MbProcmem * p)
{
  return p->cg_dir;
}

int
mb_procmem_read_statm (MbProcmem * p, MbStatm * out)
{
  char buf[256];
  ssize_t n;

  if (p->statm_fd < 0)
    return 0;
  do
    n = pread (p->statm_fd, buf, sizeof (buf), 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return 0;
  return mb_parse_statm (buf, (size_t) n, p->page_size, out);
}

int
mb_procmem_read_rollup (MbProcmem * p, MbRollup * out)
{
  char buf[4096], path[MB_PATH_MAX];
  ssize_t n;

  if (!build_path (path, sizeof (path), p->proc_root, "/self/smaps_rollup",
          ""))
    return 0;
  n = read_path (path, buf, sizeof (buf));
  if (n <= 0)
    return 0;
  return mb_parse_rollup (buf, (size_t) n, out);
}

int
mb_procmem_read_psi (MbProcmem * p, MbPsi * out)
{
  char buf[512], path[MB_PATH_MAX];
  ssize_t n;

  if (!build_path (path, sizeof (path), p->proc_root, "/pressure/memory", ""))
    return 0;
  n = read_path (path, buf, sizeof (buf));
  if (n <= 0)
    return 0;
  return mb_parse_psi (buf, (size_t) n, out);
}

static int
read_u64_in (const char *dir, const char *name, uint64_t * out)
{
  char buf[64];
  ssize_t n = read_in (dir, name, buf, sizeof (buf));

  return n > 0 && mb_parse_limit (buf, (size_t) n, out);
}

static uint64_t
min_limit (uint64_t a, uint64_t b)
{
  if (a == 0)
    return b;
  if (b == 0)
    return a;
  return a < b ? a : b;
}

int
mb_procmem_read_cgroup (MbProcmem * p, MbCgroupMem * out)
{
  char dir[MB_PATH_MAX];
  char *buf;
  ssize_t n;
  int v2 = p->version == MB_CGROUP_V2;

  memset (out, 0, sizeof (*out));
  out->version = p->version;
  if (p->version == MB_CGROUP_NONE)
    return 0;
  if (!read_u64_in (p->cg_dir, v2 ? "memory.current" : "memory.usage_in_bytes",
          &out->usage))
    return 0;

  /* limits: the smallest on the way up to the mount point */
  strcpy (dir, p->cg_dir);
  for (;;) {
    uint64_t v;
    char *slash;
    if (read_u64_in (dir, v2 ? "memory.high" : "memory.soft_limit_in_bytes",
            &v))
      out->high = min_limit (out->high, v);
    if (read_u64_in (dir, v2 ? "memory.max" : "memory.limit_in_bytes", &v))
      out->max = min_limit (out->max, v);
    if (strlen (dir) <= p->cg_top_len)
      break;
    slash = strrchr (dir, '/');
    if (slash == NULL || (size_t) (slash - dir) < p->cg_top_len)
      break;
    *slash = '\0';
  }

  buf = malloc (READ_MAX);
  if (buf == NULL)
    return 1;
  n = read_in (p->cg_dir, "memory.stat", buf, READ_MAX);
  if (n > 0) {
    mb_parse_keyed (buf, (size_t) n, v2 ? "anon" : "total_rss", &out->anon);
    mb_parse_keyed (buf, (size_t) n, v2 ? "inactive_file" :
        "total_inactive_file", &out->inactive_file);
  }
  if (v2) {
    n = read_in (p->cg_dir, "memory.events", buf, READ_MAX);
    if (n > 0) {
      mb_parse_keyed (buf, (size_t) n, "high", &out->events_high);
      mb_parse_keyed (buf, (size_t) n, "max", &out->events_max);
      mb_parse_keyed (buf, (size_t) n, "oom_kill", &out->events_oom_kill);
    }
  } else {
    read_u64_in (p->cg_dir, "memory.failcnt", &out->events_max);
    n = read_in (p->cg_dir, "memory.oom_control", buf, READ_MAX);
    if (n > 0)
      mb_parse_keyed (buf, (size_t) n, "oom_kill", &out->events_oom_kill);
  }
  free (buf);
  return 1;
}

uint64_t
mb_cgroup_working_set (const MbCgroupMem * m)
{
  return m->inactive_file > m->usage ? 0 : m->usage - m->inactive_file;
}

uint64_t
mb_cgroup_effective_limit (const MbCgroupMem * m)
{
  return min_limit (m->high, m->max);
}
