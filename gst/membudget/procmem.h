/* membound: process and cgroup memory readings (plain C, Linux /proc and
 * cgroupfs, no GStreamer types).
 *
 * RSS comes from /proc/self/statm (one pread on a kept-open fd, well under a
 * microsecond); the anonymous part is resident minus shared pages, so page
 * cache mapped from files does not count. /proc/self/smaps_rollup is exact
 * but costs milliseconds at GB sizes (it walks the page tables): read it
 * only occasionally and off streaming threads.
 *
 * The memory cgroup is found from /proc/self/cgroup and /proc/self/mountinfo:
 * cgroup v2 (`0::/path` + a cgroup2 mount whose cgroup.controllers lists
 * memory) is preferred, else the v1 memory hierarchy, else none. Limits are
 * the smallest set on the path from the cgroup up to the mount point. Both
 * roots are injectable: @proc_root replaces "/proc" and @fs_root is prefixed
 * to every mount point read from mountinfo, so tests point them at fixture
 * directories.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_PROCMEM_H__
#define __MB_PROCMEM_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum
{
  MB_CGROUP_NONE = 0,
  MB_CGROUP_V1 = 1,
  MB_CGROUP_V2 = 2
} MbCgroupVersion;

typedef struct
{
  uint64_t size;                /* virtual size, bytes */
  uint64_t rss;                 /* resident, bytes */
  uint64_t rss_shared;          /* resident file-backed + shmem, bytes */
  uint64_t rss_anon;            /* rss - rss_shared */
} MbStatm;

typedef struct
{
  uint64_t rss;
  uint64_t pss;
  uint64_t anonymous;
} MbRollup;

typedef struct
{
  MbCgroupVersion version;
  uint64_t usage;               /* memory.current / memory.usage_in_bytes */
  uint64_t high;                /* memory.high / soft_limit_in_bytes, 0 = none */
  uint64_t max;                 /* memory.max / limit_in_bytes, 0 = none */
  uint64_t anon;                /* memory.stat anon / total_rss */
  uint64_t inactive_file;       /* memory.stat inactive_file / total_inactive_file */
  uint64_t events_high;         /* v2 memory.events high (v1: 0) */
  uint64_t events_max;          /* v2 memory.events max / v1 memory.failcnt */
  uint64_t events_oom_kill;     /* v2 memory.events oom_kill / v1 oom_control */
} MbCgroupMem;

typedef struct
{
  double some_avg10, some_avg60, some_avg300;
  double full_avg10, full_avg60, full_avg300;
  uint64_t some_total, full_total;      /* microseconds stalled */
} MbPsi;

typedef struct MbProcmem MbProcmem;

/* NULL roots mean "/proc" and "" (the real root). Detection of the cgroup
 * happens here, once. */
MbProcmem *mb_procmem_new (const char *proc_root, const char *fs_root);
void mb_procmem_free (MbProcmem * p);

MbCgroupVersion mb_procmem_cgroup_version (const MbProcmem * p);
/* Directory of the process's memory cgroup, "" when none. */
const char *mb_procmem_cgroup_dir (const MbProcmem * p);

/* Each returns 1 on success, 0 when the source is not readable. */
int mb_procmem_read_statm (MbProcmem * p, MbStatm * out);
int mb_procmem_read_rollup (MbProcmem * p, MbRollup * out);
int mb_procmem_read_cgroup (MbProcmem * p, MbCgroupMem * out);
int mb_procmem_read_psi (MbProcmem * p, MbPsi * out);

/* Working set: usage minus inactive file pages (what is hard to reclaim). */
uint64_t mb_cgroup_working_set (const MbCgroupMem * m);
/* The limit to stay under: the smaller of high and max that is set, 0 when
 * neither is. */
uint64_t mb_cgroup_effective_limit (const MbCgroupMem * m);

/* Parsers used by the readers, exposed for unit tests and fuzzing. All take
 * a buffer that need not be NUL-terminated and return 1 on success. */
int mb_parse_statm (const char *buf, size_t len, uint64_t page_size,
    MbStatm * out);
int mb_parse_rollup (const char *buf, size_t len, MbRollup * out);
int mb_parse_psi (const char *buf, size_t len, MbPsi * out);
/* A single number, or "max" (-> 0 = unlimited); v1 values >= 2^60 are the
 * kernel's "unlimited" and also give 0. */
int mb_parse_limit (const char *buf, size_t len, uint64_t * out);
/* Value of `key` in "key value" lines (memory.stat, memory.events). */
int mb_parse_keyed (const char *buf, size_t len, const char *key,
    uint64_t * out);
/* /proc/self/cgroup: the v2 path (`0::/p`) and the v1 memory path
 * (`N:...memory...:/p`); either output is set to "" when absent. Returns 1
 * when at least one was found. */
int mb_parse_proc_cgroup (const char *buf, size_t len, char *v2_path,
    size_t v2_size, char *v1_path, size_t v1_size);
/* One /proc/self/mountinfo line: *kind = 2 for cgroup2, 1 for a cgroup v1
 * mount with the memory controller, 0 otherwise; root and mount point are
 * copied unescaped. Returns 0 on a malformed line. */
int mb_parse_mountinfo_line (const char *line, size_t len, int *kind,
    char *root, size_t root_size, char *mount, size_t mount_size);

#ifdef __cplusplus
}
#endif
#endif /* __MB_PROCMEM_H__ */
