/* membound: sensor_msgs/Image and CompressedImage decoding. See rosimage.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "rosimage.h"

#include <string.h>

static uint32_t
rd32 (const uint8_t * p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) |
      ((uint32_t) p[3] << 24);
}

/* Skips the std_msgs/Header at msg[0]; returns the offset after it or 0. */
static size_t
skip_header (const uint8_t * msg, size_t len, uint64_t * stamp)
{
  uint32_t flen;

  if (len < 16)
    return 0;
  *stamp = (uint64_t) rd32 (msg + 4) * 1000000000ull + rd32 (msg + 8);
  flen = rd32 (msg + 12);
  if (flen > len - 16)
    return 0;
  return 16 + (size_t) flen;
}

int
mb_ros_header_stamp_peek (const uint8_t * msg, size_t len, uint64_t * ns)
{
  return skip_header (msg, len, ns) ? 0 : -1;
}

int
mb_ros_image_parse (const uint8_t * msg, size_t len, MbRosImage * img)
{
  size_t p = skip_header (msg, len, &img->stamp_ns);
  uint32_t n;

  if (!p || len - p < 12)
    return -1;
  img->height = rd32 (msg + p);
  img->width = rd32 (msg + p + 4);
  n = rd32 (msg + p + 8);
  p += 12;
  if (n > len - p)
    return -1;
  img->encoding = (const char *) msg + p;
  img->encoding_len = n;
  p += n;
  if (len - p < 9)
    return -1;
  img->is_bigendian = msg[p];
  img->step = rd32 (msg + p + 1);
  img->data_len = rd32 (msg + p + 5);
  p += 9;
  if (img->data_len > len - p)
    return -1;
  img->data_offset = p;
  if ((uint64_t) img->height * img->step > img->data_len)
    return -1;
  return 0;
}

int
mb_ros_compressed_image_parse (const uint8_t * msg, size_t len,
    MbRosCompressedImage * img)
{
  size_t p = skip_header (msg, len, &img->stamp_ns);
  uint32_t n;

  if (!p || len - p < 4)
    return -1;
  n = rd32 (msg + p);
  p += 4;
  if (n > len - p)
    return -1;
  img->format = (const char *) msg + p;
  img->format_len = n;
  p += n;
  if (len - p < 4)
    return -1;
  img->data_len = rd32 (msg + p);
  p += 4;
  if (img->data_len > len - p)
    return -1;
  img->data_offset = p;
  return 0;
}

static int
eq (const char *s, uint32_t n, const char *lit)
{
  return strlen (lit) == n && memcmp (s, lit, n) == 0;
}

int
mb_ros_image_format (const char *e, uint32_t n, int be, const char **media,
    const char **format, uint32_t * bpp)
{
  static const struct
  {
    const char *enc, *media, *le, *be;
    uint32_t bpp;
  } map[] = {
    {"rgb8", "video/x-raw", "RGB", "RGB", 3},
    {"bgr8", "video/x-raw", "BGR", "BGR", 3},
    {"rgba8", "video/x-raw", "RGBA", "RGBA", 4},
    {"bgra8", "video/x-raw", "BGRA", "BGRA", 4},
    {"mono8", "video/x-raw", "GRAY8", "GRAY8", 1},
    {"8UC1", "video/x-raw", "GRAY8", "GRAY8", 1},
    {"mono16", "video/x-raw", "GRAY16_LE", "GRAY16_BE", 2},
    {"16UC1", "video/x-raw", "GRAY16_LE", "GRAY16_BE", 2},
    {"yuv422", "video/x-raw", "UYVY", "UYVY", 2},
    {"yuv422_yuy2", "video/x-raw", "YUY2", "YUY2", 2},
    {"bayer_rggb8", "video/x-bayer", "rggb", "rggb", 1},
    {"bayer_bggr8", "video/x-bayer", "bggr", "bggr", 1},
    {"bayer_gbrg8", "video/x-bayer", "gbrg", "gbrg", 1},
    {"bayer_grbg8", "video/x-bayer", "grbg", "grbg", 1},
    {"bayer_rggb16", "video/x-bayer", "rggb16le", "rggb16be", 2},
    {"bayer_bggr16", "video/x-bayer", "bggr16le", "bggr16be", 2},
    {"bayer_gbrg16", "video/x-bayer", "gbrg16le", "gbrg16be", 2},
    {"bayer_grbg16", "video/x-bayer", "grbg16le", "grbg16be", 2},
  };
  size_t i;

  for (i = 0; i < sizeof (map) / sizeof (map[0]); i++) {
    if (eq (e, n, map[i].enc)) {
      *media = map[i].media;
      *format = be ? map[i].be : map[i].le;
      *bpp = map[i].bpp;
      return 0;
    }
  }
  return -1;
}

const char *
mb_ros_compressed_media (const char *f, uint32_t n)
{
  uint32_t i;

  /* "jpeg", "png", or "<enc>; jpeg compressed <enc>" (image_transport) */
  for (i = 0; i + 3 <= n; i++) {
    if (i + 4 <= n && (memcmp (f + i, "jpeg", 4) == 0))
      return "image/jpeg";
    if (memcmp (f + i, "jpg", 3) == 0)
      return "image/jpeg";
    if (memcmp (f + i, "png", 3) == 0)
      return "image/png";
  }
  return NULL;
}

int
mb_ros_definition_has_header (const char *def)
{
  const char *p = def;

  while (p && *p) {
    const char *eol = strchr (p, '\n');
    size_t n = eol ? (size_t) (eol - p) : strlen (p);
    const char *q = p, *end = p + n;

    while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
      q++;
    if (q < end && *q != '#') {
      /* first field or constant: is its type a Header? */
      if ((size_t) (end - q) > 7 && strncmp (q, "Header", 6) == 0 &&
          (q[6] == ' ' || q[6] == '\t'))
        return 1;
      if ((size_t) (end - q) > 16 && strncmp (q, "std_msgs/Header", 15) == 0 &&
          (q[15] == ' ' || q[15] == '\t'))
        return 1;
      return 0;
    }
    p = eol ? eol + 1 : NULL;
  }
  return 0;
}
