/* membound: fast fixed-point remap kernels for stereorectify.
 *
 * Plain C (no GStreamer). A map holds, per destination pixel, the integer
 * source pixel (x, y) as two int16 and a 10-bit index (fy * 32 + fx) of the
 * 1/32-pixel bilinear weights, the same compact form as OpenCV's CV_16SC2 +
 * CV_16UC1 maps. Bilinear output is
 *   (w00 p00 + w01 p01 + w10 p10 + w11 p11 + 512) >> 10,
 *   w00 = (32 - fx)(32 - fy), w01 = fx (32 - fy), w10 = (32 - fx) fy, w11 = fx fy
 * which equals OpenCV's INTER_LINEAR with INTER_REMAP_COEF_BITS = 15 exactly.
 * Taps outside the source take the border value (BORDER_CONSTANT).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_REMAP_H__
#define __MB_REMAP_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MB_REMAP_BITS 5
#define MB_REMAP_TAB (1 << MB_REMAP_BITS)

typedef struct {
  int width, height;            /* destination size */
  int16_t *xy;                  /* 2 * width * height: source x, y */
  uint16_t *idx;                /* width * height: (fy << 5) | fx */
} MbRemapMap;

typedef enum {
  MB_INTERP_NEAREST = 0,
  MB_INTERP_BILINEAR = 1
} MbInterp;

/* An 8-bit image plane: @cn interleaved bytes per pixel (1..4). */
typedef struct {
  uint8_t *data;
  int width, height;
  ptrdiff_t stride;
} MbPlane;

int mb_remap_map_alloc (MbRemapMap * m, int width, int height);
void mb_remap_map_free (MbRemapMap * m);

/* Remaps rows [row0, row1) of @dst (whose size must be the map's) from
 * @src. @border holds @cn bytes. */
void mb_remap (const MbPlane * src, MbPlane * dst, int cn,
    const MbRemapMap * map, MbInterp interp, const uint8_t * border,
    int row0, int row1);

/* The portable C kernel only (for tests comparing it with the SIMD one). */
void mb_remap_c (const MbPlane * src, MbPlane * dst, int cn,
    const MbRemapMap * map, MbInterp interp, const uint8_t * border,
    int row0, int row1);

/* Name of the kernel mb_remap uses ("sse2+ssse3", "sse2", "neon" or "c"). */
const char *mb_remap_impl (void);

#ifdef __cplusplus
}
#endif
#endif /* __MB_REMAP_H__ */
