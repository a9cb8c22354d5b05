/* libFuzzer harness for the ROS1 message-definition parser.
 * Input: "pkg/Type\n" + message_definition text. When the text parses, the
 * input bytes themselves are walked as a serialized message too.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <membound/rosmsg.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static int
count_cb (void *ud, const MbRosField * f, uint32_t index, const uint8_t * p)
{
  (*(size_t *) ud)++;
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const uint8_t *nl = memchr (data, '\n', size);
  char type[300], err[256];
  size_t tl, n = 0;
  MbRosSchema *s;

  if (!nl)
    return 0;
  tl = (size_t) (nl - data);
  if (tl >= sizeof (type))
    return 0;
  memcpy (type, data, tl);
  type[tl] = '\0';
  s = mb_ros_schema_parse (type, (const char *) nl + 1, size - tl - 1, err,
      sizeof (err));
  if (!s) {
    if (!memchr (err, '\0', sizeof (err)) || err[0] == '\0')
      abort ();                 /* every failure must explain itself */
    return 0;
  }
  {
    MbRosVisitor v = { 0 };
    int64_t ns;
    v.scalar = count_cb;
    mb_ros_walk (s, data, size, &v, &n, NULL);
    mb_ros_header_stamp (s, data, size, &ns);
    (void) mb_ros_schema_has_header (s);
  }
  mb_ros_schema_free (s);
  return 0;
}
