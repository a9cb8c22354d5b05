/* membound: HDF5 compound rows for ROS1 messages (h5ros). Plain C.
 *
 * Builds an HDF5 compound datatype from a parsed ROS1 message definition and
 * converts serialized messages into rows of that type:
 *
 *   ROS                         HDF5 (memory type, also used as file type)
 *   bool                        uint8
 *   int8 ... uint64, float*     the native integer / float type
 *   string                      variable-length UTF-8 string (char *)
 *   time, duration              int64 nanoseconds (sec * 1e9 + nsec)
 *   nested message              compound member (compound in compound)
 *   T[] (variable array)        vlen of T (hvl_t)
 *   T[N] (fixed array)          H5T_ARRAY of T, N elements
 *
 * Messages without fields (std_msgs/Empty) nested inside another message are
 * left out of the compound; a root message without fields is refused.
 * A string is stored up to its first NUL byte (HDF5 variable-length strings
 * are NUL-terminated).
 *
 * HDF5 calls (type creation and closing) are made under mb_h5_lock();
 * mb_h5ros_layout_convert / _row_clear make none and need no lock. A layout
 * is immutable once built and can be used from several threads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_H5ROS_H__
#define __MB_H5ROS_H__

#include <stddef.h>
#include <stdint.h>
#include <hdf5.h>
#include <membound/rosmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _MbH5RosLayout MbH5RosLayout;

/* Builds the compound memory type for the root type of @schema. Returns NULL
 * and writes a message into @err (may be NULL) on failure. The layout does
 * not keep a reference to @schema's strings but to its types: keep @schema
 * alive as long as the layout. */
MbH5RosLayout *mb_h5ros_layout_new (const MbRosSchema * schema, char *err,
    size_t err_len);

/* The compound type (owned by the layout) for H5Dcreate / H5Dwrite. */
hid_t mb_h5ros_layout_type (const MbH5RosLayout * l);

/* Size in bytes of one row in memory (H5Tget_size of the type). */
size_t mb_h5ros_layout_row_size (const MbH5RosLayout * l);

/* Converts one serialized message of @len bytes into @row (row_size bytes,
 * need not be initialised). Returns 0 on success; -1 when the message does
 * not match the definition (then @row holds nothing to free). On success
 * the row owns malloc'ed vlen/string memory: release it with
 * mb_h5ros_layout_row_clear() after writing. */
int mb_h5ros_layout_convert (const MbH5RosLayout * l, const uint8_t * msg,
    size_t len, void *row);

/* Frees the vlen and string memory mb_h5ros_layout_convert() allocated in
 * @row and zeroes the row. Safe on a zeroed row. */
void mb_h5ros_layout_row_clear (const MbH5RosLayout * l, void *row);

void mb_h5ros_layout_free (MbH5RosLayout * l);

#ifdef __cplusplus
}
#endif
#endif /* __MB_H5ROS_H__ */
