/* membound: decoding of the two fixed ROS1 image layouts rosbagsrc maps to
 * GStreamer media types (sensor_msgs/Image, sensor_msgs/CompressedImage).
 * Plain C, no GStreamer types.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_ROSIMAGE_H__
#define __MB_ROSIMAGE_H__

#include <stddef.h>
#include <stdint.h>

#define MB_ROS_IMAGE_TYPE "sensor_msgs/Image"
#define MB_ROS_IMAGE_MD5 "060021388200f6f0f447d0fcd9c64743"
#define MB_ROS_COMPRESSED_IMAGE_TYPE "sensor_msgs/CompressedImage"
#define MB_ROS_COMPRESSED_IMAGE_MD5 "8f7a12909da2c9d3332d540a0977563f"

typedef struct {
  uint64_t stamp_ns;            /* header.stamp */
  uint32_t height, width, step;
  uint8_t is_bigendian;
  const char *encoding;         /* not NUL-terminated */
  uint32_t encoding_len;
  size_t data_offset;           /* of the pixel bytes in the message */
  uint32_t data_len;
} MbRosImage;

typedef struct {
  uint64_t stamp_ns;
  const char *format;           /* not NUL-terminated */
  uint32_t format_len;
  size_t data_offset;
  uint32_t data_len;
} MbRosCompressedImage;

/* Both return 0 on success, -1 when the bytes do not hold a complete message
 * (the Image parser also checks height * step <= data length). */
int mb_ros_image_parse (const uint8_t * msg, size_t len, MbRosImage * img);
int mb_ros_compressed_image_parse (const uint8_t * msg, size_t len,
    MbRosCompressedImage * img);

/* Media description of an Image encoding: @media "video/x-raw" or
 * "video/x-bayer", @format the GStreamer format name, @bpp bytes per pixel.
 * Returns 0, or -1 for an encoding rosbagsrc does not map. */
int mb_ros_image_format (const char *encoding, uint32_t encoding_len,
    int is_bigendian, const char **media, const char **format,
    uint32_t * bpp);

/* "jpeg" / "png" media for a CompressedImage `format` string ("jpeg",
 * "png", "rgb8; jpeg compressed bgr8", ...): "image/jpeg", "image/png" or
 * NULL when unknown. */
const char *mb_ros_compressed_media (const char *format, uint32_t format_len);

/* Non-zero when the first field of a message_definition text is a
 * std_msgs/Header ("Header header" or "std_msgs/Header header"). */
int mb_ros_definition_has_header (const char *definition);

/* header.stamp of a message whose first field is a std_msgs/Header. */
int mb_ros_header_stamp_peek (const uint8_t * msg, size_t len, uint64_t * ns);

#endif /* __MB_ROSIMAGE_H__ */
