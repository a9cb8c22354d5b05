/* Fuzz harness for the /proc and cgroupfs parsers of procmem.c (they read
 * kernel text that a container runtime or a fixture directory may shape).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "procmem.h"

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const char *buf = (const char *) data;
  MbStatm st;
  MbPsi psi;
  MbRollup ru;
  uint64_t v;
  char a[64], b[64];
  int kind;
  size_t i, start = 0;

  mb_parse_statm (buf, size, 4096, &st);
  mb_parse_psi (buf, size, &psi);
  mb_parse_rollup (buf, size, &ru);
  mb_parse_limit (buf, size, &v);
  mb_parse_keyed (buf, size, "inactive_file", &v);
  mb_parse_keyed (buf, size, "max", &v);
  /* small outputs exercise truncation */
  mb_parse_proc_cgroup (buf, size, a, sizeof (a), b, sizeof (b));
  mb_parse_proc_cgroup (buf, size, a, 1, b, 0);
  for (i = 0; i <= size; i++) {
    if (i == size || buf[i] == '\n') {
      mb_parse_mountinfo_line (buf + start, i - start, &kind, a, sizeof (a),
          b, sizeof (b));
      mb_parse_mountinfo_line (buf + start, i - start, &kind, a, 2, b, 1);
      start = i + 1;
    }
  }
  return 0;
}
