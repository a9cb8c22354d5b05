/* membound: ROS1 message-definition parser and walker.
 * Placeholder so the tree builds; replaced by the real parser (issue 3). */
#include <membound/rosmsg.h>
#include <stdio.h>

MbRosSchema *
mb_ros_schema_parse (const char *type_name, const char *definition,
    size_t definition_len, char *err, size_t err_len)
{
  if (err && err_len)
    snprintf (err, err_len, "not implemented");
  return NULL;
}

void
mb_ros_schema_free (MbRosSchema * schema)
{
}
