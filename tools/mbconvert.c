/* membound-convert: plain-C parts of the CLI (see mbconvert.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "mbconvert.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
set_err (char *err, size_t len, const char *fmt, ...)
{
  va_list ap;

  if (err == NULL || len == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (err, len, fmt, ap);
  va_end (ap);
}

static char *
xstrdup (const char *s)
{
  char *r;

  if (s == NULL)
    return NULL;
  r = strdup (s);
  if (r == NULL)
    abort ();
  return r;
}

static void *
xrealloc (void *p, size_t n)
{
  void *r = realloc (p, n ? n : 1);

  if (r == NULL)
    abort ();
  return r;
}

const char *
mbc_usage (void)
{
  return
      "Usage: membound-convert [OPTION]... INPUT...\n"
      "Convert ROS1 bags (files, or every *.bag under a directory) to HDF5 with\n"
      "bounded memory: rosbagsrc ! timealign ! membudget ! hdf5sink.\n"
      "\n"
      "  -o, --output DIR        write <DIR>/<bag name>.h5 (default: current directory);\n"
      "                          bags found under a directory keep their relative path\n"
      "  -t, --topics LIST       comma-separated topics to convert (default: all)\n"
      "  -a, --align-to TOPIC    align every topic to this reference topic\n"
      "  -r, --rate HZ           align every topic to a fixed rate (10, 29.97, 30000/1001)\n"
      "                          (neither: every message is stored as recorded)\n"
      "      --tolerance TIME    max |alignment error| (20ms, 0.05s, 500us; bare = ms)\n"
      "      --jpeg-quality N    encode raw image topics as JPEG of quality N (1-100)\n"
      "      --layout NAME       hdf5sink layout (e.g. default, aloha)\n"
      "      --aloha-role TOPIC=ROLE  with --layout aloha: what a non-camera topic\n"
      "                          is (qpos, qvel, effort, action, base-action); repeatable\n"
      "      --budget SIZE       memory budget shared by all jobs (default 256M)\n"
      "  -j, --jobs N            convert N bags at once (default 1)\n"
      "  -f, --force             convert again even if the output exists\n"
      "      --progress MODE     auto (bar on a terminal, lines otherwise), bar, plain, none\n"
      "      --interval SECONDS  seconds between plain progress lines (default 2)\n"
      "      --plugin-path DIR   also load GStreamer plugins from DIR\n"
      "  -q, --quiet             no progress and no summary table\n"
      "  -h, --help              show this help\n"
      "      --version           show the version\n"
      "\n"
      "Exit status: 0 when every bag was converted or skipped, 1 when a bag\n"
      "failed (one line per failure on stderr), 2 on a usage error.\n";
}

int
mbc_parse_size (const char *s, uint64_t * out)
{
  char *end;
  double v;
  double mult = 1.0;

  if (s == NULL || *s == '\0' || *s == '-')
    return -1;
  errno = 0;
  v = strtod (s, &end);
  if (errno != 0 || end == s || !(v >= 0) || !isfinite (v))
    return -1;
  while (*end == ' ')
    end++;
  switch (tolower ((unsigned char) *end)) {
    case '\0':
      mult = 1.0;
      break;
    case 'k':
      mult = 1024.0;
      end++;
      break;
    case 'm':
      mult = 1024.0 * 1024.0;
      end++;
      break;
    case 'g':
      mult = 1024.0 * 1024.0 * 1024.0;
      end++;
      break;
    case 't':
      mult = 1024.0 * 1024.0 * 1024.0 * 1024.0;
      end++;
      break;
    case 'b':
      break;
    default:
      return -1;
  }
  /* optional "i", "b", "ib" */
  if (*end == 'i' || *end == 'I')
    end++;
  if (*end == 'b' || *end == 'B')
    end++;
  if (*end != '\0')
    return -1;
  v *= mult;
  if (v > 1.8e19)
    return -1;
  *out = (uint64_t) (v + 0.5);
  return 0;
}

static long
gcd_l (long a, long b)
{
  while (b != 0) {
    long t = a % b;
    a = b;
    b = t;
  }
  return a < 0 ? -a : a;
}

int
mbc_parse_rate (const char *s, int *num, int *den)
{
  char *end;

  if (s == NULL || *s == '\0')
    return -1;
  if (strchr (s, '/') != NULL) {
    long n, d;

    errno = 0;
    n = strtol (s, &end, 10);
    if (errno || end == s || *end != '/' || n <= 0 || n > 1000000000L)
      return -1;
    s = end + 1;
    d = strtol (s, &end, 10);
    if (errno || end == s || *end != '\0' || d <= 0 || d > 1000000000L)
      return -1;
    *num = (int) n;
    *den = (int) d;
    return 0;
  } else {
    double v;
    long n, d = 1, g;

    errno = 0;
    v = strtod (s, &end);
    if (errno || end == s || *end != '\0' || !(v > 0) || v > 1e6)
      return -1;
    /* up to 3 decimals: 29.97 → 2997/100 */
    while (fabs (v * d - floor (v * d + 0.5)) > 1e-9 && d < 1000)
      d *= 10;
    n = (long) floor (v * d + 0.5);
    if (n <= 0)
      return -1;
    g = gcd_l (n, d);
    *num = (int) (n / g);
    *den = (int) (d / g);
    return 0;
  }
}

int
mbc_parse_duration (const char *s, int64_t * out_ns)
{
  char *end;
  double v, mult;

  if (s == NULL || *s == '\0')
    return -1;
  errno = 0;
  v = strtod (s, &end);
  if (errno || end == s || !(v >= 0) || !isfinite (v))
    return -1;
  if (*end == '\0' || strcmp (end, "ms") == 0)
    mult = 1e6;
  else if (strcmp (end, "s") == 0)
    mult = 1e9;
  else if (strcmp (end, "us") == 0)
    mult = 1e3;
  else if (strcmp (end, "ns") == 0)
    mult = 1.0;
  else
    return -1;
  v *= mult;
  if (v > 9.2e18)
    return -1;
  *out_ns = (int64_t) (v + 0.5);
  return 0;
}

enum
{
  OPT_TOLERANCE = 256,
  OPT_JPEG_QUALITY,
  OPT_LAYOUT,
  OPT_BUDGET,
  OPT_PROGRESS,
  OPT_INTERVAL,
  OPT_PLUGIN_PATH,
  OPT_ALOHA_ROLE,
  OPT_VERSION
};

static void
options_init (MbcOptions * o)
{
  memset (o, 0, sizeof (*o));
  o->tolerance_ns = -1;
  o->jpeg_quality = -1;
  o->budget_bytes = MBC_DEFAULT_BUDGET;
  o->jobs = MBC_DEFAULT_JOBS;
  o->progress = MBC_PROGRESS_AUTO;
  o->progress_interval = MBC_DEFAULT_INTERVAL;
}

static void
replace_str (char **dst, const char *src)
{
  free (*dst);
  *dst = xstrdup (src);
}

int
mbc_options_parse (MbcOptions * o, int argc, char **argv, char *err,
    size_t err_len)
{
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"topics", required_argument, NULL, 't'},
    {"align-to", required_argument, NULL, 'a'},
    {"rate", required_argument, NULL, 'r'},
    {"tolerance", required_argument, NULL, OPT_TOLERANCE},
    {"jpeg-quality", required_argument, NULL, OPT_JPEG_QUALITY},
    {"layout", required_argument, NULL, OPT_LAYOUT},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"jobs", required_argument, NULL, 'j'},
    {"force", no_argument, NULL, 'f'},
    {"quiet", no_argument, NULL, 'q'},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"plugin-path", required_argument, NULL, OPT_PLUGIN_PATH},
    {"aloha-role", required_argument, NULL, OPT_ALOHA_ROLE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}
  };
  int c, i;

  options_init (o);
  optind = 0;                   /* full re-initialisation (glibc) */
  opterr = 0;
  while ((c = getopt_long (argc, argv, ":o:t:a:r:j:fqh", longopts,
              NULL)) != -1) {
    char *end;
    long v;

    switch (c) {
      case 'o':
        replace_str (&o->output_dir, optarg);
        break;
      case 't':
        replace_str (&o->topics, optarg);
        break;
      case 'a':
        if (*optarg == '\0') {
          set_err (err, err_len, "--align-to needs a topic name");
          goto fail;
        }
        replace_str (&o->align_to, optarg);
        break;
      case 'r':
        if (mbc_parse_rate (optarg, &o->rate_num, &o->rate_den) < 0) {
          set_err (err, err_len, "invalid --rate '%s' (expected e.g. 10, "
              "29.97 or 30000/1001)", optarg);
          goto fail;
        }
        break;
      case OPT_TOLERANCE:
        if (mbc_parse_duration (optarg, &o->tolerance_ns) < 0) {
          set_err (err, err_len, "invalid --tolerance '%s' (expected e.g. "
              "20ms, 0.05s or 500us)", optarg);
          goto fail;
        }
        break;
      case OPT_JPEG_QUALITY:
        errno = 0;
        v = strtol (optarg, &end, 10);
        if (errno || end == optarg || *end != '\0' || v < 0 || v > 100) {
          set_err (err, err_len, "invalid --jpeg-quality '%s' (expected 0-100)",
              optarg);
          goto fail;
        }
        o->jpeg_quality = (int) v;
        break;
      case OPT_LAYOUT:
        replace_str (&o->layout, optarg);
        break;
      case OPT_BUDGET:
        if (mbc_parse_size (optarg, &o->budget_bytes) < 0
            || o->budget_bytes < 1024 * 1024) {
          set_err (err, err_len, "invalid --budget '%s' (expected a size of "
              "at least 1M, e.g. 64M or 1G)", optarg);
          goto fail;
        }
        break;
      case 'j':
        errno = 0;
        v = strtol (optarg, &end, 10);
        if (errno || end == optarg || *end != '\0' || v < 1 || v > 256) {
          set_err (err, err_len, "invalid --jobs '%s' (expected 1-256)", optarg);
          goto fail;
        }
        o->jobs = (int) v;
        break;
      case 'f':
        o->force = 1;
        break;
      case 'q':
        o->quiet = 1;
        break;
      case OPT_PROGRESS:
        if (strcmp (optarg, "auto") == 0)
          o->progress = MBC_PROGRESS_AUTO;
        else if (strcmp (optarg, "bar") == 0)
          o->progress = MBC_PROGRESS_BAR;
        else if (strcmp (optarg, "plain") == 0)
          o->progress = MBC_PROGRESS_PLAIN;
        else if (strcmp (optarg, "none") == 0)
          o->progress = MBC_PROGRESS_NONE;
        else {
          set_err (err, err_len, "invalid --progress '%s' (expected auto, "
              "bar, plain or none)", optarg);
          goto fail;
        }
        break;
      case OPT_INTERVAL:
        errno = 0;
        o->progress_interval = strtod (optarg, &end);
        if (errno || end == optarg || *end != '\0'
            || !(o->progress_interval >= 0.05)
            || o->progress_interval > 3600) {
          set_err (err, err_len, "invalid --interval '%s' (seconds, "
              "0.05-3600)", optarg);
          goto fail;
        }
        break;
      case OPT_PLUGIN_PATH:
        replace_str (&o->plugin_path, optarg);
        break;
      case OPT_ALOHA_ROLE:{
        const char *eq = strchr (optarg, '=');
        if (eq == NULL || eq == optarg || eq[1] == '\0') {
          set_err (err, err_len, "invalid --aloha-role '%s' (expected "
              "TOPIC=ROLE, e.g. /joint_states=qpos)", optarg);
          goto fail;
        }
        o->aloha_roles = xrealloc (o->aloha_roles, (o->n_aloha_roles + 1) *
            sizeof (char *));
        o->aloha_roles[o->n_aloha_roles++] = xstrdup (optarg);
        break;
      }
      case 'h':
        o->show_help = 1;
        break;
      case OPT_VERSION:
        o->show_version = 1;
        break;
      case ':':
        set_err (err, err_len, "option '%s' needs a value",
            argv[optind - 1]);
        goto fail;
      default:
        if (optopt != 0)
          set_err (err, err_len, "unknown option '-%c'", optopt);
        else
          set_err (err, err_len, "unknown option '%s'", argv[optind - 1]);
        goto fail;
    }
  }

  if (o->show_help || o->show_version)
    return 0;

  if (o->align_to != NULL && o->rate_num > 0) {
    set_err (err, err_len, "--align-to and --rate exclude each other");
    goto fail;
  }
  if (o->n_aloha_roles > 0 && (o->layout == NULL
          || strcmp (o->layout, "aloha") != 0)) {
    set_err (err, err_len, "--aloha-role needs --layout aloha");
    goto fail;
  }
  if (o->tolerance_ns >= 0 && o->align_to == NULL && o->rate_num == 0) {
    set_err (err, err_len, "--tolerance needs --align-to or --rate");
    goto fail;
  }
  if (optind >= argc) {
    set_err (err, err_len, "no input given (a .bag file or a directory)");
    goto fail;
  }
  o->n_inputs = (size_t) (argc - optind);
  o->inputs = xrealloc (NULL, o->n_inputs * sizeof (char *));
  for (i = optind; i < argc; i++)
    o->inputs[i - optind] = xstrdup (argv[i]);
  return 0;

fail:
  mbc_options_clear (o);
  return -1;
}

void
mbc_options_clear (MbcOptions * o)
{
  size_t i;

  for (i = 0; i < o->n_inputs; i++)
    free (o->inputs[i]);
  free (o->inputs);
  free (o->output_dir);
  free (o->topics);
  free (o->align_to);
  free (o->layout);
  free (o->plugin_path);
  for (i = 0; i < o->n_aloha_roles; i++)
    free (o->aloha_roles[i]);
  free (o->aloha_roles);
  options_init (o);
}

const char *
mbc_aloha_role (const MbcOptions * o, const char *topic)
{
  size_t i, tl = strlen (topic);

  for (i = 0; i < o->n_aloha_roles; i++) {
    const char *r = o->aloha_roles[i];
    const char *eq = strchr (r, '=');
    if (eq != NULL && (size_t) (eq - r) == tl && strncmp (r, topic, tl) == 0)
      return eq + 1;
  }
  return NULL;
}

void
mbc_one_line (char *msg, size_t max)
{
  char *p;

  for (p = msg; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  if (max >= 4 && strlen (msg) > max) {
    /* do not cut a UTF-8 sequence */
    size_t cut = max - 3;
    while (cut > 0 && ((unsigned char) msg[cut] & 0xc0) == 0x80)
      cut--;
    memcpy (msg + cut, "...", 4);
  }
}

/* ---- input discovery ---- */

typedef struct {
  MbcInput *v;
  size_t n, alloc;
} InputList;

static void
input_list_add (InputList * l, const char *path, const char *rel)
{
  size_t rl = strlen (rel);

  if (l->n == l->alloc) {
    l->alloc = l->alloc ? l->alloc * 2 : 16;
    l->v = xrealloc (l->v, l->alloc * sizeof (MbcInput));
  }
  l->v[l->n].path = xstrdup (path);
  l->v[l->n].rel = xstrdup (rel);
  if (rl > 4 && strcmp (rel + rl - 4, ".bag") == 0)
    l->v[l->n].rel[rl - 4] = '\0';
  l->n++;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
ends_with_bag (const char *name)
{
  size_t l = strlen (name);
  return l > 4 && strcmp (name + l - 4, ".bag") == 0;
}

static char *
join_path (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  char *r = xrealloc (NULL, la + lb + 2);

  memcpy (r, a, la);
  if (la > 0 && a[la - 1] != '/')
    r[la++] = '/';
  memcpy (r + la, b, lb + 1);
  return r;
}

static int
walk_dir (InputList * l, const char *dir, const char *rel_prefix, int depth,
    char *err, size_t err_len)
{
  DIR *d;
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, alloc = 0, i;

  if (depth > 32)
    return 0;
  d = opendir (dir);
  if (d == NULL) {
    set_err (err, err_len, "cannot read directory %s: %s", dir,
        strerror (errno));
    return -1;
  }
  while ((de = readdir (d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;                 /* hidden files, ".", ".." */
    if (n == alloc) {
      alloc = alloc ? alloc * 2 : 32;
      names = xrealloc (names, alloc * sizeof (char *));
    }
    names[n++] = xstrdup (de->d_name);
  }
  closedir (d);
  qsort (names, n, sizeof (char *), cmp_str);
  for (i = 0; i < n; i++) {
    char *full = join_path (dir, names[i]);
    char *rel = rel_prefix[0] ? join_path (rel_prefix, names[i]) :
        xstrdup (names[i]);
    struct stat st;

    if (stat (full, &st) == 0) {
      if (S_ISDIR (st.st_mode)) {
        if (walk_dir (l, full, rel, depth + 1, err, err_len) < 0) {
          free (full);
          free (rel);
          for (; i < n; i++)
            free (names[i]);
          free (names);
          return -1;
        }
      } else if (S_ISREG (st.st_mode) && ends_with_bag (names[i])) {
        input_list_add (l, full, rel);
      }
    }
    free (full);
    free (rel);
    free (names[i]);
  }
  free (names);
  return 0;
}

int
mbc_find_inputs (char *const *inputs, size_t n_inputs, MbcInput ** out,
    char *err, size_t err_len)
{
  InputList l = { NULL, 0, 0 };
  size_t i;

  for (i = 0; i < n_inputs; i++) {
    struct stat st;

    if (stat (inputs[i], &st) != 0) {
      set_err (err, err_len, "cannot open %s: %s", inputs[i],
          strerror (errno));
      goto fail;
    }
    if (S_ISDIR (st.st_mode)) {
      if (walk_dir (&l, inputs[i], "", 0, err, err_len) < 0)
        goto fail;
    } else {
      const char *base = strrchr (inputs[i], '/');
      base = base ? base + 1 : inputs[i];
      input_list_add (&l, inputs[i], base);
    }
  }
  *out = l.v;
  return (int) l.n;

fail:
  mbc_inputs_free (l.v, l.n);
  *out = NULL;
  return -1;
}

void
mbc_inputs_free (MbcInput * in, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    free (in[i].path);
    free (in[i].rel);
  }
  free (in);
}

char *
mbc_output_path (const char *output_dir, const MbcInput * in)
{
  char *base = join_path (output_dir ? output_dir : ".", in->rel);
  size_t l = strlen (base);
  char *r = xrealloc (base, l + 4);

  memcpy (r + l, ".h5", 4);
  return r;
}

char *
mbc_partial_path (const char *output_path)
{
  size_t l = strlen (output_path);
  char *r = xrealloc (NULL, l + 9);

  memcpy (r, output_path, l);
  memcpy (r + l, ".partial", 9);
  return r;
}

int
mbc_make_parent_dirs (const char *path)
{
  char *p = xstrdup (path);
  char *s;

  for (s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir (p, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      free (p);
      errno = e;
      return -1;
    }
    *s = '/';
  }
  free (p);
  return 0;
}

/* ---- formatting ---- */

void
mbc_format_bytes (uint64_t bytes, char *buf, size_t len)
{
  if (bytes < 1000)
    snprintf (buf, len, "%u B", (unsigned) bytes);
  else if (bytes < 1000000)
    snprintf (buf, len, "%.1f kB", bytes / 1e3);
  else if (bytes < 1000000000ull)
    snprintf (buf, len, "%.1f MB", bytes / 1e6);
  else
    snprintf (buf, len, "%.2f GB", bytes / 1e9);
}

static double
clamp01 (double f)
{
  if (!(f >= 0))
    return 0;
  return f > 1 ? 1 : f;
}

static const char *
base_name (const char *p)
{
  const char *s = p ? strrchr (p, '/') : NULL;
  return s ? s + 1 : p;
}

void
mbc_format_progress (const MbcProgress * p, int width, char *buf, size_t len)
{
  char rss[32];
  char bar[256];
  double f = clamp01 (p->fraction);
  int i, fill;
  size_t off = 0;

  if (width > (int) sizeof (bar) - 3)
    width = (int) sizeof (bar) - 3;
  bar[0] = '\0';
  if (width > 0) {
    fill = (int) (f * width + 0.5);
    bar[off++] = '[';
    for (i = 0; i < width; i++)
      bar[off++] = i < fill ? '#' : '.';
    bar[off++] = ']';
    bar[off++] = ' ';
    bar[off] = '\0';
  }
  mbc_format_bytes (p->rss_bytes, rss, sizeof (rss));
  snprintf (buf, len, "%s%5.1f %%  %d/%d bags  %6.1f MB/s  RSS %s%s%s", bar,
      f * 100.0, p->done, p->total, p->mb_per_s, rss,
      p->current ? "  " : "", p->current ? base_name (p->current) : "");
}

void
mbc_format_progress_plain (const MbcProgress * p, char *buf, size_t len)
{
  char rss[32];

  mbc_format_bytes (p->rss_bytes, rss, sizeof (rss));
  snprintf (buf, len, "progress %.1f%% bags %d/%d running %d read %.1f MB/s "
      "rss %s elapsed %.1f s", clamp01 (p->fraction) * 100.0, p->done,
      p->total, p->running, p->mb_per_s, rss, p->elapsed_s);
}

MbcRow *
mbc_table_row (MbcTable * t, const char *bag, const char *stream)
{
  size_t i;

  for (i = 0; i < t->n_rows; i++)
    if (strcmp (t->rows[i].bag, bag) == 0
        && strcmp (t->rows[i].stream, stream) == 0)
      return &t->rows[i];
  mbc_table_add (t, bag, stream, -1, -1, -1, -1, -1);
  return &t->rows[t->n_rows - 1];
}

void
mbc_table_add (MbcTable * t, const char *bag, const char *stream,
    int64_t rows, int64_t bytes, int64_t dropped, double err_mean_ms,
    double err_max_ms)
{
  MbcRow *r;

  if (t->n_rows == t->alloc) {
    t->alloc = t->alloc ? t->alloc * 2 : 16;
    t->rows = xrealloc (t->rows, t->alloc * sizeof (MbcRow));
  }
  r = &t->rows[t->n_rows++];
  r->bag = xstrdup (bag);
  r->stream = xstrdup (stream);
  r->rows = rows;
  r->bytes = bytes;
  r->dropped = dropped;
  r->err_mean_ms = err_mean_ms;
  r->err_max_ms = err_max_ms;
}

void
mbc_table_clear (MbcTable * t)
{
  size_t i;

  for (i = 0; i < t->n_rows; i++) {
    free (t->rows[i].bag);
    free (t->rows[i].stream);
  }
  free (t->rows);
  t->rows = NULL;
  t->n_rows = t->alloc = 0;
}

#define N_COLS 6

static void
cell_text (const MbcRow * r, int col, char *buf, size_t len)
{
  switch (col) {
    case 0:
      snprintf (buf, len, "%s", r->bag);
      break;
    case 1:
      snprintf (buf, len, "%s", r->stream);
      break;
    case 2:
      if (r->rows < 0)
        snprintf (buf, len, "-");
      else
        snprintf (buf, len, "%lld", (long long) r->rows);
      break;
    case 3:
      if (r->bytes < 0)
        snprintf (buf, len, "-");
      else
        mbc_format_bytes ((uint64_t) r->bytes, buf, len);
      break;
    case 4:
      if (r->dropped < 0)
        snprintf (buf, len, "-");
      else
        snprintf (buf, len, "%lld", (long long) r->dropped);
      break;
    default:
      if (r->err_mean_ms < 0 && r->err_max_ms < 0)
        snprintf (buf, len, "-");
      else
        snprintf (buf, len, "%.2f / %.2f", r->err_mean_ms < 0 ? 0.0 :
            r->err_mean_ms, r->err_max_ms < 0 ? 0.0 : r->err_max_ms);
      break;
  }
}

char *
mbc_table_format (const MbcTable * t)
{
  static const char *heads[N_COLS] = { "bag", "stream", "rows", "bytes",
    "dropped ticks", "align err mean / max (ms)"
  };
  static const int right[N_COLS] = { 0, 0, 1, 1, 1, 1 };
  size_t widths[N_COLS];
  size_t i, cap, off = 0;
  int c;
  char cell[512];
  char *out;

  for (c = 0; c < N_COLS; c++)
    widths[c] = strlen (heads[c]);
  for (i = 0; i < t->n_rows; i++)
    for (c = 0; c < N_COLS; c++) {
      cell_text (&t->rows[i], c, cell, sizeof (cell));
      if (strlen (cell) > widths[c])
        widths[c] = strlen (cell);
    }
  cap = 1;
  for (c = 0; c < N_COLS; c++)
    cap += widths[c] + 2;
  cap = cap * (t->n_rows + 2) + 1;
  out = xrealloc (NULL, cap);

  for (i = 0; i < t->n_rows + 2; i++) {
    for (c = 0; c < N_COLS; c++) {
      const char *txt;
      size_t w = widths[c], l;

      if (i == 0) {
        txt = heads[c];
      } else if (i == 1) {
        size_t k;
        for (k = 0; k < w && k < sizeof (cell) - 1; k++)
          cell[k] = '-';
        cell[k] = '\0';
        txt = cell;
      } else {
        cell_text (&t->rows[i - 2], c, cell, sizeof (cell));
        txt = cell;
      }
      l = strlen (txt);
      if (right[c])
        off += (size_t) snprintf (out + off, cap - off, "%*s", (int) w, txt);
      else if (c == N_COLS - 1)
        off += (size_t) snprintf (out + off, cap - off, "%s", txt);
      else
        off += (size_t) snprintf (out + off, cap - off, "%-*s", (int) w, txt);
      (void) l;
      if (c < N_COLS - 1)
        off += (size_t) snprintf (out + off, cap - off, "  ");
    }
    /* strip trailing blanks */
    while (off > 0 && out[off - 1] == ' ')
      off--;
    out[off++] = '\n';
    out[off] = '\0';
  }
  return out;
}
