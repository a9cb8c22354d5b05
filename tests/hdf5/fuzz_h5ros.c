/* Fuzz harness for h5ros: arbitrary bytes converted into rows of a layout
 * that covers every node kind (nested messages, variable and fixed arrays
 * of primitives, strings and messages, time/duration, empty messages).
 * The first input byte picks the layout; the rest is the message.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5ros.h"

#include <stdlib.h>
#include <string.h>

#define SEP "\n================================================================================\n"

static const char *const defs[][2] = {
  {"sensor_msgs/JointState",
        "Header header\nstring[] name\nfloat64[] position\nfloat64[] velocity\n"
        "float64[] effort\n" SEP "MSG: std_msgs/Header\nuint32 seq\ntime stamp\n"
        "string frame_id\n"},
  {"t/Kitchen",
        "Header header\ntime t\nduration d\ntime[] ts\nduration[2] ds\nbool[3] flags\n"
        "string[2] pair\nstring[] names\nint8 i8\nuint64 u64\nfloat32 f\n"
        "geometry_msgs/Point[2] pts\ngeometry_msgs/Point[] more\nInner[] inner\n"
        "std_msgs/Empty e\nstd_msgs/Empty[] es\n" SEP
        "MSG: std_msgs/Header\nuint32 seq\ntime stamp\nstring frame_id\n" SEP
        "MSG: geometry_msgs/Point\nfloat64 x\nfloat64 y\nfloat64 z\n" SEP
        "MSG: t/Inner\nstring label\nuint8[] blob\ngeometry_msgs/Point[] ps\n" SEP
        "MSG: std_msgs/Empty\n"},
};

#define N_DEFS (sizeof (defs) / sizeof (defs[0]))

static MbRosSchema *schemas[N_DEFS];
static MbH5RosLayout *layouts[N_DEFS];

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  size_t k;
  void *row;

  if (size < 1)
    return 0;
  k = data[0] % N_DEFS;
  if (layouts[k] == NULL) {
    schemas[k] = mb_ros_schema_parse (defs[k][0], defs[k][1],
        strlen (defs[k][1]), NULL, 0);
    if (schemas[k] == NULL)
      abort ();
    layouts[k] = mb_h5ros_layout_new (schemas[k], NULL, 0);
    if (layouts[k] == NULL)
      abort ();
  }
  row = malloc (mb_h5ros_layout_row_size (layouts[k]));
  if (mb_h5ros_layout_convert (layouts[k], data + 1, size - 1, row) == 0)
    mb_h5ros_layout_row_clear (layouts[k], row);
  free (row);
  return 0;
}
