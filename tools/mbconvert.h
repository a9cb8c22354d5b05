/* membound-convert: the plain-C parts of the CLI (no GStreamer types).
 *
 * Option parsing, value parsing (sizes, rates, durations), input discovery
 * (files and directories), output naming and skip decisions, and the text
 * formatting of the progress line and the summary table. Kept separate from
 * the GStreamer glue in membound-convert.c so that tests/pipelines can unit
 * test it directly.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_CONVERT_H__
#define __MB_CONVERT_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  MBC_PROGRESS_AUTO,            /* bar on a tty, plain lines otherwise */
  MBC_PROGRESS_BAR,
  MBC_PROGRESS_PLAIN,
  MBC_PROGRESS_NONE
} MbcProgressMode;

typedef struct {
  char **inputs;                /* files or directories, as given */
  size_t n_inputs;
  char *output_dir;             /* NULL = current directory */
  char *topics;                 /* comma-separated, NULL = all */
  char *align_to;               /* reference topic, or NULL */
  int rate_num, rate_den;       /* fixed rate, 0/0 = none */
  int64_t tolerance_ns;         /* -1 = element default */
  int jpeg_quality;             /* -1 = element default */
  char *layout;                 /* NULL = element default */
  uint64_t budget_bytes;        /* shared membudget limit */
  int jobs;
  int force;
  int quiet;
  MbcProgressMode progress;
  double progress_interval;     /* seconds between plain progress lines */
  char *plugin_path;            /* extra directory to scan, or NULL */
  char **aloha_roles;           /* "TOPIC=ROLE" for --layout aloha */
  size_t n_aloha_roles;
  int show_help, show_version;
} MbcOptions;

#define MBC_DEFAULT_BUDGET (256u * 1024u * 1024u)
#define MBC_DEFAULT_JOBS 1
#define MBC_DEFAULT_INTERVAL 2.0

/* Parses argv (argv[0] is the program name). Returns 0 on success; on error
 * returns -1 with a one-line reason in @err. The caller frees with
 * mbc_options_clear(). */
int mbc_options_parse (MbcOptions * o, int argc, char **argv, char *err,
    size_t err_len);
void mbc_options_clear (MbcOptions * o);
const char *mbc_usage (void);

/* The ROLE of @topic in o->aloha_roles ("TOPIC=ROLE"), or NULL. */
const char *mbc_aloha_role (const MbcOptions * o, const char *topic);

/* Shortens @msg in place to at most @max bytes (ending in "...") and turns
 * line breaks into spaces: one-line failure reasons. */
void mbc_one_line (char *msg, size_t max);

/* "256M", "1.5G", "64MiB", "1000000" (bytes), "512k". Returns 0 / -1. */
int mbc_parse_size (const char *s, uint64_t * out);
/* "10", "29.97", "30000/1001" → a positive fraction. Returns 0 / -1. */
int mbc_parse_rate (const char *s, int *num, int *den);
/* "20ms", "0.5s", "1500us", "100000ns"; a bare number is milliseconds. */
int mbc_parse_duration (const char *s, int64_t * out_ns);

/* Input discovery: every regular file named *.bag given directly or found
 * (recursively) under a given directory, in sorted order per directory.
 * Files given directly are taken whatever their extension. */
typedef struct {
  char *path;                   /* the bag */
  char *rel;                    /* path relative to the input it came from,
                                 * without the .bag suffix (output naming) */
} MbcInput;

/* Returns the number of bags found (>= 0) or -1 with @err set (missing
 * input). *out is a malloc'd array to free with mbc_inputs_free(). */
int mbc_find_inputs (char *const *inputs, size_t n_inputs, MbcInput ** out,
    char *err, size_t err_len);
void mbc_inputs_free (MbcInput * in, size_t n);

/* Output file for an input: <output_dir>/<rel>.h5 (output_dir NULL = "."). */
char *mbc_output_path (const char *output_dir, const MbcInput * in);
/* Temporary name written during conversion, renamed on success. */
char *mbc_partial_path (const char *output_path);
/* Creates the parent directories of @path. Returns 0 / -1 (errno set). */
int mbc_make_parent_dirs (const char *path);

/* Human-readable byte count ("12.3 MB", "845 kB", "17 B"), SI units. */
void mbc_format_bytes (uint64_t bytes, char *buf, size_t len);

/* One progress report. */
typedef struct {
  double fraction;              /* 0..1 of total bag time over all bags */
  double mb_per_s;              /* bag bytes read per second */
  uint64_t rss_bytes;
  double elapsed_s;
  int done, total, running;     /* bags finished / to do / converting */
  const char *current;          /* a bag being converted, or NULL */
} MbcProgress;

/* "[#####.....]  45.2 %  2/5 bags  123.4 MB/s  RSS 45.1 MB  name.bag";
 * the bar is @width characters wide (0 = no bar). */
void mbc_format_progress (const MbcProgress * p, int width, char *buf,
    size_t len);
/* "progress 45.2% bags 2/5 running 2 read 123.4 MB/s rss 45.1 MB elapsed 12.0 s" */
void mbc_format_progress_plain (const MbcProgress * p, char *buf, size_t len);

/* Summary table rows. */
typedef struct {
  char *bag;                    /* display name */
  char *stream;                 /* HDF5 group / topic, or "-" */
  int64_t rows;                 /* -1 = unknown */
  int64_t bytes;                /* -1 = unknown */
  int64_t dropped;              /* dropped ticks, -1 = unknown / n.a. */
  double err_mean_ms, err_max_ms;       /* < 0 = unknown / n.a. */
} MbcRow;

typedef struct {
  MbcRow *rows;
  size_t n_rows, alloc;
} MbcTable;

void mbc_table_add (MbcTable * t, const char *bag, const char *stream,
    int64_t rows, int64_t bytes, int64_t dropped, double err_mean_ms,
    double err_max_ms);
/* Finds (or appends) the row for (bag, stream). */
MbcRow *mbc_table_row (MbcTable * t, const char *bag, const char *stream);
void mbc_table_clear (MbcTable * t);
/* Renders the table with aligned columns into a malloc'd string. */
char *mbc_table_format (const MbcTable * t);

#ifdef __cplusplus
}
#endif
#endif /* __MB_CONVERT_H__ */
