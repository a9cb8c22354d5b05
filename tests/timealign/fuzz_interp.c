/* libFuzzer harness for timealign's interpolation helper.
 * Input: 1 byte fraction, 2 bytes length of the first message (LE), then
 * the two serialized sensor_msgs/JointState messages. Both are copied into
 * exact-size buffers so that a read past the end is caught by ASan; the
 * raw-audio path gets the same bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "interp.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static const char js_def[] =
    "Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n"
    "float64[] effort\n"
    "================================================================================\n"
    "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n";

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static MbRosSchema *schema;
  size_t alen, blen;
  uint8_t *a, *b, *out;
  double frac;

  if (schema == NULL) {
    schema = mb_ros_schema_parse ("sensor_msgs/JointState", js_def,
        strlen (js_def), NULL, 0);
    if (schema == NULL)
      abort ();
  }
  if (size < 3)
    return 0;
  frac = data[0] / 255.0;
  alen = (size_t) (data[1] | data[2] << 8);
  data += 3;
  size -= 3;
  if (alen > size)
    alen = size;
  blen = size - alen;
  a = malloc (alen ? alen : 1);
  b = malloc (blen ? blen : 1);
  memcpy (a, data, alen);
  memcpy (b, data + alen, blen);
  out = malloc ((frac < 0.5 ? alen : blen) + 1);
  memcpy (out, frac < 0.5 ? a : b, frac < 0.5 ? alen : blen);
  (void) mb_interp_ros (schema, a, alen, b, blen, frac, out,
      frac < 0.5 ? alen : blen);
  if (alen == blen) {
    (void) mb_interp_audio (MB_INTERP_S16LE, a, alen, b, blen, frac, out);
    (void) mb_interp_audio (MB_INTERP_F32LE, a, alen, b, blen, frac, out);
  }
  free (a);
  free (b);
  free (out);
  return 0;
}
