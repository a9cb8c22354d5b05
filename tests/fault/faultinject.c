/* faultinject: an LD_PRELOAD shim that makes I/O on chosen files fail, for
 * the fault-injection tests (issue 9). Plain C.
 *
 * Environment:
 *   MB_FAULT_PATH   substring of the file path to fail (required; no other
 *                   file is touched)
 *   MB_FAULT_OP     "write" (write, pwrite, fwrite...) or "read" (read,
 *                   pread, fread...); default "write"
 *   MB_FAULT_AFTER  bytes that succeed on matching files before the fault
 *                   (default 0); the call that crosses the limit writes/reads
 *                   up to it (a short transfer) and later calls fail
 *   MB_FAULT_ERRNO  ENOSPC (default), EIO or EFBIG
 *
 * Every fault is counted; the count is printed to stderr at exit as
 * "faultinject: N faults injected" so tests can assert that it fired.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/* Define pwrite and pwrite64 separately: no off_t redirection. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *fault_path;
static int fault_on_write = 1;
static long long fault_after;
static int fault_errno = ENOSPC;
static long long transferred;
static long long faults;
static signed char fd_match[MAX_FDS];   /* 0 unknown, 1 match, -1 no */

static ssize_t (*real_write) (int, const void *, size_t);
static ssize_t (*real_pwrite) (int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64) (int, const void *, size_t, off64_t);
static ssize_t (*real_read) (int, void *, size_t);
static ssize_t (*real_pread) (int, void *, size_t, off_t);
static ssize_t (*real_pread64) (int, void *, size_t, off64_t);
static size_t (*real_fwrite) (const void *, size_t, size_t, FILE *);
static size_t (*real_fread) (void *, size_t, size_t, FILE *);
static int (*real_close) (int);

static void
report (void)
{
  if (fault_path)
    fprintf (stderr, "faultinject: %lld faults injected\n", faults);
}

__attribute__((constructor))
static void
init (void)
{
  const char *s;

  real_write = dlsym (RTLD_NEXT, "write");
  real_pwrite = dlsym (RTLD_NEXT, "pwrite");
  real_pwrite64 = dlsym (RTLD_NEXT, "pwrite64");
  real_read = dlsym (RTLD_NEXT, "read");
  real_pread = dlsym (RTLD_NEXT, "pread");
  real_pread64 = dlsym (RTLD_NEXT, "pread64");
  real_fwrite = dlsym (RTLD_NEXT, "fwrite");
  real_fread = dlsym (RTLD_NEXT, "fread");
  real_close = dlsym (RTLD_NEXT, "close");

  fault_path = getenv ("MB_FAULT_PATH");
  if (fault_path && !*fault_path)
    fault_path = NULL;
  s = getenv ("MB_FAULT_OP");
  if (s && strcmp (s, "read") == 0)
    fault_on_write = 0;
  s = getenv ("MB_FAULT_AFTER");
  if (s)
    fault_after = atoll (s);
  s = getenv ("MB_FAULT_ERRNO");
  if (s && strcmp (s, "EIO") == 0)
    fault_errno = EIO;
  else if (s && strcmp (s, "EFBIG") == 0)
    fault_errno = EFBIG;
  atexit (report);
}

static int
fd_matches (int fd)
{
  char link[64], target[PATH_MAX];
  ssize_t n;
  int m;

  if (!fault_path || fd < 0)
    return 0;
  if (fd < MAX_FDS && fd_match[fd])
    return fd_match[fd] > 0;
  snprintf (link, sizeof (link), "/proc/self/fd/%d", fd);
  n = readlink (link, target, sizeof (target) - 1);
  if (n < 0)
    return 0;
  target[n] = '\0';
  m = strstr (target, fault_path) != NULL;
  if (fd < MAX_FDS)
    fd_match[fd] = m ? 1 : -1;
  return m;
}

/* How many of @want bytes may go through on a matching fd; -1 = fail now. */
static long long
allow (long long want)
{
  long long ok;

  pthread_mutex_lock (&lock);
  if (transferred >= fault_after) {
    faults++;
    ok = -1;
  } else {
    ok = fault_after - transferred;
    if (ok > want)
      ok = want;
    transferred += ok;
  }
  pthread_mutex_unlock (&lock);
  return ok;
}

#define GUARD(is_write, fd, count, call_real, short_call)      \
  do {                                                         \
    if (fault_on_write == (is_write) && fd_matches (fd)) {     \
      long long ok = allow ((long long) (count));              \
      if (ok < 0) {                                            \
        errno = fault_errno;                                   \
        return -1;                                             \
      }                                                        \
      if (ok < (long long) (count))                            \
        return short_call;                                     \
    }                                                          \
    return call_real;                                          \
  } while (0)

ssize_t
write (int fd, const void *buf, size_t count)
{
  GUARD (1, fd, count, real_write (fd, buf, count),
      real_write (fd, buf, (size_t) ok));
}

ssize_t
pwrite (int fd, const void *buf, size_t count, off_t off)
{
  GUARD (1, fd, count, real_pwrite (fd, buf, count, off),
      real_pwrite (fd, buf, (size_t) ok, off));
}

ssize_t
pwrite64 (int fd, const void *buf, size_t count, off64_t off)
{
  GUARD (1, fd, count, real_pwrite64 (fd, buf, count, off),
      real_pwrite64 (fd, buf, (size_t) ok, off));
}

ssize_t
read (int fd, void *buf, size_t count)
{
  GUARD (0, fd, count, real_read (fd, buf, count),
      real_read (fd, buf, (size_t) ok));
}

ssize_t
pread (int fd, void *buf, size_t count, off_t off)
{
  GUARD (0, fd, count, real_pread (fd, buf, count, off),
      real_pread (fd, buf, (size_t) ok, off));
}

ssize_t
pread64 (int fd, void *buf, size_t count, off64_t off)
{
  GUARD (0, fd, count, real_pread64 (fd, buf, count, off),
      real_pread64 (fd, buf, (size_t) ok, off));
}

/* stdio goes to the kernel through glibc-internal calls that an LD_PRELOAD
 * shim cannot see, so the stdio entry points are wrapped as well. */
size_t
fwrite (const void *ptr, size_t size, size_t nmemb, FILE * f)
{
  if (fault_on_write && size && fd_matches (fileno (f))) {
    long long ok = allow ((long long) (size * nmemb));
    if (ok < 0) {
      errno = fault_errno;
      return 0;
    }
    return real_fwrite (ptr, size, (size_t) ok / size, f);
  }
  return real_fwrite (ptr, size, nmemb, f);
}

size_t
fread (void *ptr, size_t size, size_t nmemb, FILE * f)
{
  if (!fault_on_write && size && fd_matches (fileno (f))) {
    long long ok = allow ((long long) (size * nmemb));
    if (ok < 0) {
      errno = fault_errno;
      return 0;
    }
    return real_fread (ptr, size, (size_t) ok / size, f);
  }
  return real_fread (ptr, size, nmemb, f);
}

int
close (int fd)
{
  if (fd >= 0 && fd < MAX_FDS)
    fd_match[fd] = 0;
  return real_close (fd);
}
