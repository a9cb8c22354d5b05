/* membound: linear interpolation between two neighbouring buffers for
 * timealign's `linear` mode.
 *
 * Plain C, no GStreamer types.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_INTERP_H__
#define __MB_INTERP_H__

#include <stddef.h>
#include <stdint.h>

#include <membound/rosmsg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  MB_INTERP_S16LE,
  MB_INTERP_F32LE
} MbInterpSampleFormat;

/* Raw audio: sample k of @out = a[k] + frac * (b[k] - a[k]), rounded and
 * saturated for S16. @a, @b and @out hold @len bytes each (may be
 * unaligned, may alias @out). Returns 0, or -1 when @alen != @blen or the
 * length is not a whole number of samples (caller falls back to nearest). */
int mb_interp_audio (MbInterpSampleFormat fmt, const uint8_t * a, size_t alen,
    const uint8_t * b, size_t blen, double frac, uint8_t * out);

/* Serialized ROS1 messages of @schema: @out must hold the nearer
 * neighbour's bytes already (a when frac < 0.5, else b; @out_len = its
 * length). Every float32/float64 scalar and array field whose element count
 * is the same in both messages is replaced by the interpolated values;
 * other fields (integers, strings, stamps, arrays whose lengths differ)
 * keep the nearer neighbour's values. Returns the number of interpolated
 * fields (>= 0), or -1 when a message does not match the schema or the two
 * messages have a different field structure (caller falls back to
 * nearest). */
int mb_interp_ros (const MbRosSchema * schema, const uint8_t * a, size_t alen,
    const uint8_t * b, size_t blen, double frac, uint8_t * out,
    size_t out_len);

#ifdef __cplusplus
}
#endif
#endif /* __MB_INTERP_H__ */
