/* membound: ROS1 message-definition parser and serialized-message walker.
 *
 * Plain C, no GStreamer types. Used by rosbagsrc (header stamps, caps),
 * hdf5sink (compound datasets) and timealign (linear interpolation).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MEMBOUND_ROSMSG_H__
#define __MEMBOUND_ROSMSG_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  MB_ROS_BOOL,
  MB_ROS_INT8,
  MB_ROS_UINT8,
  MB_ROS_INT16,
  MB_ROS_UINT16,
  MB_ROS_INT32,
  MB_ROS_UINT32,
  MB_ROS_INT64,
  MB_ROS_UINT64,
  MB_ROS_FLOAT32,
  MB_ROS_FLOAT64,
  MB_ROS_STRING,
  MB_ROS_TIME,          /* uint32 secs + uint32 nsecs on the wire */
  MB_ROS_DURATION,      /* int32 secs + int32 nsecs on the wire */
  MB_ROS_MESSAGE        /* nested message, see MbRosField.msg */
} MbRosPrimitive;

/* MbRosField.array_len */
#define MB_ROS_NOT_ARRAY (-1)
#define MB_ROS_VAR_ARRAY 0      /* uint32 count precedes the elements */

typedef struct _MbRosMsgType MbRosMsgType;

typedef struct {
  char *name;
  MbRosPrimitive type;
  int32_t array_len;            /* MB_ROS_NOT_ARRAY, MB_ROS_VAR_ARRAY or N > 0 */
  const MbRosMsgType *msg;      /* for MB_ROS_MESSAGE, else NULL */
} MbRosField;

struct _MbRosMsgType {
  char *name;                   /* full name, "pkg/Type" */
  size_t n_fields;
  MbRosField *fields;           /* constants are not fields */
  size_t fixed_size;            /* serialized size when constant, else 0 */
};

typedef struct _MbRosSchema MbRosSchema;

/* Parses a `message_definition` text (as stored in a bag's connection
 * record) for the root type @type_name ("pkg/Type"). Nested types come from
 * the "MSG: pkg/Type" blocks after "====" separator lines; "Header" means
 * std_msgs/Header; unqualified names resolve in the enclosing package.
 * Returns NULL and writes a message into @err (may be NULL) on failure. */
MbRosSchema *mb_ros_schema_parse (const char *type_name, const char *definition,
    size_t definition_len, char *err, size_t err_len);
void mb_ros_schema_free (MbRosSchema * schema);
const MbRosMsgType *mb_ros_schema_root (const MbRosSchema * schema);
/* Non-zero when the root's first field is a std_msgs/Header. */
int mb_ros_schema_has_header (const MbRosSchema * schema);

/* Wire size of a fixed-size primitive (bool..float64, time, duration), else 0. */
size_t mb_ros_primitive_size (MbRosPrimitive type);
const char *mb_ros_primitive_name (MbRosPrimitive type);

/* Visitor for mb_ros_walk(). Any callback may be NULL. A callback that
 * returns non-zero stops the walk (mb_ros_walk returns that value).
 * @index is the element index inside an array, 0 otherwise.
 * - scalar: one fixed-size primitive (incl. time/duration) at @p, little endian;
 * - prim_array: an array (fixed or variable) of fixed-size primitives, @count
 *   elements stored contiguously at @p (no per-element scalar calls);
 * - string: @len bytes at @s (not NUL-terminated);
 * - array_begin/array_end: arrays of strings or messages (elements follow
 *   as string / message_begin..message_end calls with their index);
 * - message_begin/message_end: @f is NULL for the root message. */
typedef struct {
  int (*scalar) (void *ud, const MbRosField * f, uint32_t index, const uint8_t * p);
  int (*prim_array) (void *ud, const MbRosField * f, uint32_t count, const uint8_t * p);
  int (*string) (void *ud, const MbRosField * f, uint32_t index, const char *s, uint32_t len);
  int (*array_begin) (void *ud, const MbRosField * f, uint32_t count);
  int (*array_end) (void *ud, const MbRosField * f);
  int (*message_begin) (void *ud, const MbRosField * f, uint32_t index, const MbRosMsgType * t);
  int (*message_end) (void *ud, const MbRosField * f, const MbRosMsgType * t);
} MbRosVisitor;

#define MB_ROS_WALK_MALFORMED (-1)

/* Walks one serialized message of @len bytes. Returns 0 when the whole
 * message was walked, MB_ROS_WALK_MALFORMED when the bytes do not match the
 * schema (truncated, absurd counts), or the non-zero value a callback
 * returned. *consumed (may be NULL) gets the number of bytes used. Never
 * reads outside [data, data+len). */
int mb_ros_walk (const MbRosSchema * schema, const uint8_t * data, size_t len,
    const MbRosVisitor * visitor, void *ud, size_t * consumed);

/* For messages with a Header: reads header.stamp as ns since the epoch.
 * Returns 0 on success, -1 when there is no header or the data is short. */
int mb_ros_header_stamp (const MbRosSchema * schema, const uint8_t * data,
    size_t len, int64_t * stamp_ns);

/* Additional helpers (added after the first version of this header). */

/* The parsed type called @name ("pkg/Type") reachable from the root, or NULL. */
const MbRosMsgType *mb_ros_schema_find_type (const MbRosSchema * schema,
    const char *name);
/* Minimum serialized size of @type (empty strings and arrays). */
size_t mb_ros_type_min_size (const MbRosMsgType * type);
/* Non-zero when every message of @type has the same size (then
 * fixed_size is that size; also true for empty messages, size 0). */
int mb_ros_type_is_fixed (const MbRosMsgType * type);
/* Wire size of field @f when it is constant (fixed-size primitive, fixed
 * array of them, fixed-size message or fixed array of those), else 0. */
size_t mb_ros_field_fixed_size (const MbRosField * f);
/* Byte offset of field @index inside a serialized @type when every field
 * before it is fixed-size: returns 0 and sets *offset, else -1. */
int mb_ros_field_offset (const MbRosMsgType * type, size_t index,
    size_t * offset);
/* The field called @name of @type (and its index), or NULL. */
const MbRosField *mb_ros_type_find_field (const MbRosMsgType * type,
    const char *name, size_t * index);

#ifdef __cplusplus
}
#endif
#endif /* __MEMBOUND_ROSMSG_H__ */
