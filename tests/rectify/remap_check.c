/* Plain-C self-check of the remap kernels: the SIMD kernel of this machine
 * (SSE2, NEON) and the portable C kernel against a direct formula of the
 * documented bilinear/border rule, for 1-4 bytes per pixel, on random maps
 * that cross every border. No GLib/GStreamer, so it also runs where only a
 * cross compiler is available (e.g. aarch64 under qemu-user).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "remap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned rng = 12345;

static int
rnd (int lo, int hi)
{
  rng = rng * 1103515245u + 12345u;
  return lo + (int) ((rng >> 8) % (unsigned) (hi - lo));
}

static int
ref_px (const uint8_t * s, int w, int h, int stride, int cn, int c, int sx,
    int sy, int fi, const uint8_t * border)
{
  int fx = fi & 31, fy = fi >> 5, dy, dx, acc = 0;
  int wts[2][2] = { {(32 - fx) * (32 - fy), fx * (32 - fy)},
  {(32 - fx) * fy, fx * fy}
  };
  for (dy = 0; dy < 2; dy++)
    for (dx = 0; dx < 2; dx++) {
      int x = sx + dx, y = sy + dy;
      int p = (x >= 0 && x < w && y >= 0 && y < h) ? s[y * stride + x * cn +
          c] : border[c];
      acc += p * wts[dy][dx];
    }
  return (acc + 512) >> 10;
}

int
main (void)
{
  int cn, round, bad = 0, checked = 0;

  /* rounds 20..39: maps shaped like a rectification (x moving along source
   * rows with a small scale and tilt), which the row-gather fast paths of
   * the 1-byte kernel take, mixed with groups they must leave to the
   * tap-by-tap path (wider steps, more than one row change, borders) */
  for (round = 0; round < 40; round++) {
    for (cn = 1; cn <= 4; cn++) {
      int coherent = round >= 20;
      int sw = coherent ? rnd (1, 300) : rnd (1, 90), sh = rnd (1, 60);
      int dw = coherent ? rnd (1, 300) : rnd (1, 80), dh = rnd (1, 50);
      int scale = rnd (900, 1900), tilt = rnd (-40, 40), ox = rnd (-8, 8),
          oy = rnd (-3, 3);
      int stride = sw * cn + rnd (0, 9), dstride = dw * cn + rnd (0, 9);
      uint8_t *src = malloc ((size_t) stride * sh);
      uint8_t *d1 = calloc ((size_t) dstride * dh, 1);
      uint8_t *d2 = calloc ((size_t) dstride * dh, 1);
      uint8_t border[4] = { 7, 77, 177, 250 };
      MbRemapMap m;
      MbPlane ps = { src, sw, sh, stride }, p1 = { d1, dw, dh, dstride }, p2 = {
      d2, dw, dh, dstride};
      int i, x, y, c;

      for (i = 0; i < stride * sh; i++)
        src[i] = (uint8_t) rnd (0, 256);
      if (mb_remap_map_alloc (&m, dw, dh) != 0)
        return 2;
      for (i = 0; i < dw * dh; i++) {
        int r = rnd (0, 10);
        if (coherent) {
          int px = i % dw, py = i / dw;
          m.xy[2 * i] = (int16_t) (ox + px * scale / 1000 + (r == 9 ?
                  rnd (-20, 20) : 0));
          m.xy[2 * i + 1] = (int16_t) (oy + py + px * tilt / 1000);
        } else {
          m.xy[2 * i] = (int16_t) (r < 8 ? rnd (0, sw) : rnd (-3, sw + 3));
          m.xy[2 * i + 1] = (int16_t) (r < 8 ? rnd (0, sh) : r == 8 ?
              rnd (-3, sh + 3) : -30000);
        }
        m.idx[i] = (uint16_t) rnd (0, 1024);
      }
      mb_remap (&ps, &p1, cn, &m, MB_INTERP_BILINEAR, border, 0, dh / 2);
      mb_remap (&ps, &p1, cn, &m, MB_INTERP_BILINEAR, border, dh / 2, dh);
      mb_remap_c (&ps, &p2, cn, &m, MB_INTERP_BILINEAR, border, 0, dh);
      for (y = 0; y < dh; y++) {
        for (x = 0; x < dw; x++)
          for (c = 0; c < cn; c++) {
            int k = y * dw + x, o = y * dstride + x * cn + c;
            int want = ref_px (src, sw, sh, stride, cn, c, m.xy[2 * k],
                m.xy[2 * k + 1], m.idx[k], border);
            checked++;
            if (d1[o] != want || d2[o] != want) {
              if (bad++ < 10)
                fprintf (stderr, "cn %d (%d,%d,%d): %s %d, c %d, want %d\n",
                    cn, x, y, c, mb_remap_impl (), d1[o], d2[o], want);
            }
          }
        for (i = dw * cn; i < dstride; i++)
          if (d1[y * dstride + i] != 0 && bad++ < 10)
            fprintf (stderr, "cn %d: row padding written\n", cn);
      }
      mb_remap_map_free (&m);
      free (src);
      free (d1);
      free (d2);
    }
  }
  printf ("%s kernel: %d samples checked, %d wrong\n", mb_remap_impl (),
      checked, bad);
  return bad ? 1 : 0;
}
