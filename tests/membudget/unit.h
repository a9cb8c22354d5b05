/* Minimal checks for the plain-C unit tests of the membudget cores: every
 * failed CHECK is printed and makes the program exit 1; the last line is
 * "N passed, N failed".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_UNIT_H__
#define __MB_UNIT_H__

#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond) do { \
    if (cond) { unit_passed++; } else { unit_failed++; \
      fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
  } while (0)

#define CHECK_U64(a, b) do { \
    unsigned long long _a = (unsigned long long) (a), _b = (unsigned long long) (b); \
    if (_a == _b) { unit_passed++; } else { unit_failed++; \
      fprintf (stderr, "%s:%d: %s = %llu, expected %llu\n", __FILE__, __LINE__, #a, _a, _b); } \
  } while (0)

#define CHECK_STR(a, b) do { \
    const char *_a = (a), *_b = (b); \
    if (_a && _b && strcmp (_a, _b) == 0) { unit_passed++; } else { unit_failed++; \
      fprintf (stderr, "%s:%d: %s = '%s', expected '%s'\n", __FILE__, __LINE__, #a, \
          _a ? _a : "(null)", _b ? _b : "(null)"); } \
  } while (0)

static inline int
unit_summary (void)
{
  printf ("%d passed, %d failed\n", unit_passed, unit_failed);
  return unit_failed ? 1 : 0;
}

#endif
