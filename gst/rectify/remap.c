/* membound: fixed-point remap kernels (see remap.h).
 *
 * Each destination row is split into runs of pixels whose whole 2x2 source
 * neighbourhood (plus what the SIMD loads over-read) is inside the source,
 * processed by a branch-free kernel, and runs that touch the border,
 * processed tap by tap with the border value substituted for taps outside.
 * Work goes row by row: a row's map (6 bytes per pixel) and the two or three
 * source rows it reads stay in L1/L2. SSE2 kernels on x86-64 (its baseline,
 * no dispatch needed), plus an SSSE3 kernel for 1-byte planes (GRAY8, the
 * Y, U and V planes of I420 and NV12's Y) picked at run time, which gathers
 * 8 pixels from one or two 16-byte row loads; a portable C kernel elsewhere
 * (it auto-vectorises poorly because of the gathers, but is exact).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "remap.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && !defined(MB_REMAP_NO_SIMD)
#include <emmintrin.h>
#define HAVE_SSE2 1
#if defined(__GNUC__) && !defined(__SSSE3__) && !defined(MB_REMAP_NO_SSSE3)
/* SSSE3 (pshufb, pmaddubsw) kernel for 1-byte planes, picked at run time */
#include <tmmintrin.h>
#define HAVE_SSSE3_DISPATCH 1
#define SSSE3_FUNC __attribute__ ((target ("ssse3")))
#elif defined(__SSSE3__) && !defined(MB_REMAP_NO_SSSE3)
#include <tmmintrin.h>
#define HAVE_SSSE3_DISPATCH 1
#define SSSE3_FUNC
#endif
#elif (defined(__ARM_NEON) || defined(__ARM_NEON__)) && !defined(MB_REMAP_NO_SIMD)
#include <arm_neon.h>
#define HAVE_NEON 1
#endif

/* (w00 | w01 << 16) and (w10 | w11 << 16) for each 1/32 fraction index; the
 * weights sum to 1024 (OpenCV's 15-bit weights divided by 32, which gives
 * the same rounded result). */
static int32_t wtab[2][MB_REMAP_TAB * MB_REMAP_TAB];
/* the same per index as one 64-bit entry: w00|w01, w10|w11 */
static int32_t wtab4[MB_REMAP_TAB * MB_REMAP_TAB][2];
static int wtab_ready;

static void
wtab_init (void)
{
  int i;
  if (__atomic_load_n (&wtab_ready, __ATOMIC_ACQUIRE))
    return;
  for (i = 0; i < MB_REMAP_TAB * MB_REMAP_TAB; i++) {
    int fx = i & (MB_REMAP_TAB - 1), fy = i >> MB_REMAP_BITS;
    int w00 = (32 - fx) * (32 - fy), w01 = fx * (32 - fy);
    int w10 = (32 - fx) * fy, w11 = fx * fy;
    wtab[0][i] = (int32_t) ((uint32_t) w00 | ((uint32_t) w01 << 16));
    wtab[1][i] = (int32_t) ((uint32_t) w10 | ((uint32_t) w11 << 16));
    wtab4[i][0] = wtab[0][i];
    wtab4[i][1] = wtab[1][i];
  }
  /* idempotent: racing initialisers write the same values */
  __atomic_store_n (&wtab_ready, 1, __ATOMIC_RELEASE);
}

int
mb_remap_map_alloc (MbRemapMap * m, int width, int height)
{
  size_t n = (size_t) width * height;
  memset (m, 0, sizeof (*m));
  if (width <= 0 || height <= 0)
    return -1;
  m->xy = malloc (n * 2 * sizeof (int16_t));
  m->idx = malloc (n * sizeof (uint16_t));
  if (!m->xy || !m->idx) {
    mb_remap_map_free (m);
    return -1;
  }
  m->width = width;
  m->height = height;
  return 0;
}

void
mb_remap_map_free (MbRemapMap * m)
{
  free (m->xy);
  free (m->idx);
  memset (m, 0, sizeof (*m));
}

#ifdef HAVE_SSSE3_DISPATCH
static int have_ssse3 (void);
#endif

const char *
mb_remap_impl (void)
{
#if defined(HAVE_SSSE3_DISPATCH)
  return have_ssse3 ()? "sse2+ssse3" : "sse2";
#elif defined(HAVE_SSE2)
  return "sse2";
#elif defined(HAVE_NEON)
  return "neon";
#else
  return "c";
#endif
}

/* ------------------------------------------------------------ shared */

static inline void
put_px (uint8_t * d, const uint8_t * s, int cn)
{
  int c;
  for (c = 0; c < cn; c++)
    d[c] = s[c];
}

/* Bilinear pixel with border taps; any position. */
static inline void
lin_border_px (const MbPlane * src, int cn, int sx, int sy, int fi,
    const uint8_t * border, uint8_t * d)
{
  int w = src->width, h = src->height, c;
  uint32_t a = (uint32_t) wtab[0][fi], b = (uint32_t) wtab[1][fi];
  int w00 = a & 0xffff, w01 = a >> 16, w10 = b & 0xffff, w11 = b >> 16;
  const uint8_t *p00, *p01, *p10, *p11;
  int in_x0 = (unsigned) sx < (unsigned) w;
  int in_x1 = (unsigned) (sx + 1) < (unsigned) w;
  int in_y0 = (unsigned) sy < (unsigned) h;
  int in_y1 = (unsigned) (sy + 1) < (unsigned) h;
  const uint8_t *s0 = src->data, *s1;

  if (!((in_x0 || in_x1) && (in_y0 || in_y1))) {
    put_px (d, border, cn);
    return;
  }
  /* row pointers are only formed for rows that exist */
  s1 = in_y1 ? s0 + (ptrdiff_t) (sy + 1) * src->stride : border;
  s0 = in_y0 ? s0 + (ptrdiff_t) sy * src->stride : border;
  p00 = in_x0 && in_y0 ? s0 + (ptrdiff_t) sx * cn : border;
  p01 = in_x1 && in_y0 ? s0 + (ptrdiff_t) (sx + 1) * cn : border;
  p10 = in_x0 && in_y1 ? s1 + (ptrdiff_t) sx * cn : border;
  p11 = in_x1 && in_y1 ? s1 + (ptrdiff_t) (sx + 1) * cn : border;
  for (c = 0; c < cn; c++)
    d[c] = (uint8_t) ((p00[c] * w00 + p01[c] * w01 + p10[c] * w10 +
            p11[c] * w11 + 512) >> 10);
}

static void
lin_border_run (const MbPlane * src, int cn, const int16_t * xy,
    const uint16_t * ix, const uint8_t * border, uint8_t * d, int n)
{
  int i;
  for (i = 0; i < n; i++)
    lin_border_px (src, cn, xy[2 * i], xy[2 * i + 1], ix[i], border,
        d + i * cn);
}

/* Portable inside-run kernel; cn is a constant after inlining. */
static inline void
lin_run_c (const uint8_t * s, ptrdiff_t ss, int cn, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  int i, c;
  for (i = 0; i < n; i++) {
    const uint8_t *p = s + (ptrdiff_t) xy[2 * i + 1] * ss +
        (ptrdiff_t) xy[2 * i] * cn;
    uint32_t a = (uint32_t) wtab[0][ix[i]], b = (uint32_t) wtab[1][ix[i]];
    int w00 = a & 0xffff, w01 = a >> 16, w10 = b & 0xffff, w11 = b >> 16;
    for (c = 0; c < cn; c++)
      d[i * cn + c] = (uint8_t) ((p[c] * w00 + p[c + cn] * w01 +
              p[ss + c] * w10 + p[ss + c + cn] * w11 + 512) >> 10);
  }
}

static void
lin_run_c1 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  lin_run_c (s, ss, 1, xy, ix, d, n);
}

static void
lin_run_c2 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  lin_run_c (s, ss, 2, xy, ix, d, n);
}

static void
lin_run_c3 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  lin_run_c (s, ss, 3, xy, ix, d, n);
}

static void
lin_run_c4 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  lin_run_c (s, ss, 4, xy, ix, d, n);
}

typedef void (*LinRunFunc) (const uint8_t * s, ptrdiff_t ss,
    const int16_t * xy, const uint16_t * ix, uint8_t * d, int n);

/* For the 1-byte kernels: the (p00, p01) and (p10, p11) byte pairs of
 * pixels i..i+7 into the 16-bit lanes of t0 and t1 (INS (vector, value,
 * lane) is the SIMD lane insert; lanes must be constants). */
#define GATHER_PAIR(INS, k) do { \
      const uint8_t *p_ = s + (ptrdiff_t) xy[2 * (i + k) + 1] * ss + \
          xy[2 * (i + k)]; \
      memcpy (&v, p_, 2); \
      t0 = INS (t0, v, k); \
      memcpy (&v, p_ + ss, 2); \
      t1 = INS (t1, v, k); \
    } while (0)
#define GATHER_PAIRS8(INS) do { \
      GATHER_PAIR (INS, 0); GATHER_PAIR (INS, 1); GATHER_PAIR (INS, 2); \
      GATHER_PAIR (INS, 3); GATHER_PAIR (INS, 4); GATHER_PAIR (INS, 5); \
      GATHER_PAIR (INS, 6); GATHER_PAIR (INS, 7); \
    } while (0)

/* ------------------------------------------------------------- SSE2 */

#ifdef HAVE_SSE2
static inline __m128i
load32 (const uint8_t * p)
{
  int32_t v;
  memcpy (&v, p, 4);
  return _mm_cvtsi32_si128 (v);
}

static inline void
store32 (uint8_t * p, __m128i v)
{
  int32_t x = _mm_cvtsi128_si32 (v);
  memcpy (p, &x, 4);
}

/* Weighted sums of two pixels' interleaved (p00, p01) and (p10, p11) tap
 * pairs, rounded: two results of four 32-bit lanes, packed to 16 bit. */
static inline __m128i
bilin_pair (__m128i a0, __m128i a1, __m128i b0, __m128i b1, int ia, int ib)
{
  const __m128i rnd = _mm_set1_epi32 (512);
  __m128i qa = _mm_loadl_epi64 ((const __m128i *) &wtab4[ia]);
  __m128i qb = _mm_loadl_epi64 ((const __m128i *) &wtab4[ib]);
  __m128i ra = _mm_add_epi32 (_mm_madd_epi16 (a0, _mm_shuffle_epi32 (qa,
              0x00)), _mm_madd_epi16 (a1, _mm_shuffle_epi32 (qa, 0x55)));
  __m128i rb = _mm_add_epi32 (_mm_madd_epi16 (b0, _mm_shuffle_epi32 (qb,
              0x00)), _mm_madd_epi16 (b1, _mm_shuffle_epi32 (qb, 0x55)));
  ra = _mm_srli_epi32 (_mm_add_epi32 (ra, rnd), 10);
  rb = _mm_srli_epi32 (_mm_add_epi32 (rb, rnd), 10);
  return _mm_packs_epi32 (ra, rb);
}

/* r0 g0 b0 r1 g1 b1 (8 bytes read) -> r0 r1 g0 g1 b0 b1 . . as 16 bit */
static inline __m128i
taps3 (const uint8_t * p, __m128i z)
{
  __m128i a = _mm_unpacklo_epi8 (_mm_loadl_epi64 ((const __m128i *) p), z);
  return _mm_unpacklo_epi16 (a, _mm_srli_si128 (a, 6));
}

/* 4 bytes per pixel: p00|p01 and p10|p11 are 8 contiguous bytes each. */
static void
lin_run_sse2_4 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  const __m128i z = _mm_setzero_si128 ();
  int i = 0;

  for (; i + 2 <= n; i += 2) {
    const uint8_t *pa = s + (ptrdiff_t) xy[2 * i + 1] * ss + xy[2 * i] * 4;
    const uint8_t *pb = s + (ptrdiff_t) xy[2 * i + 3] * ss +
        xy[2 * i + 2] * 4;
    __m128i a0 = _mm_unpacklo_epi8 (_mm_loadl_epi64 ((const __m128i *) pa),
        z);
    __m128i a1 = _mm_unpacklo_epi8 (_mm_loadl_epi64 ((const __m128i *) (pa +
                ss)), z);
    __m128i b0 = _mm_unpacklo_epi8 (_mm_loadl_epi64 ((const __m128i *) pb),
        z);
    __m128i b1 = _mm_unpacklo_epi8 (_mm_loadl_epi64 ((const __m128i *) (pb +
                ss)), z);
    __m128i ra;
    a0 = _mm_unpacklo_epi16 (a0, _mm_srli_si128 (a0, 8));
    a1 = _mm_unpacklo_epi16 (a1, _mm_srli_si128 (a1, 8));
    b0 = _mm_unpacklo_epi16 (b0, _mm_srli_si128 (b0, 8));
    b1 = _mm_unpacklo_epi16 (b1, _mm_srli_si128 (b1, 8));
    ra = bilin_pair (a0, a1, b0, b1, ix[i], ix[i + 1]);
    _mm_storel_epi64 ((__m128i *) (d + i * 4), _mm_packus_epi16 (ra, ra));
  }
  if (i < n)
    lin_run_c (s, ss, 4, xy + 2 * i, ix + i, d + i * 4, n - i);
}

/* 3 bytes per pixel: 8-byte loads at p00 (the caller keeps sx + 2 inside
 * the row), 4-byte stores except for the run's last pixel. */
static void
lin_run_sse2_3 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  const __m128i z = _mm_setzero_si128 ();
  int i = 0;

  for (; i + 2 < n; i += 2) {
    const uint8_t *pa = s + (ptrdiff_t) xy[2 * i + 1] * ss + xy[2 * i] * 3;
    const uint8_t *pb = s + (ptrdiff_t) xy[2 * i + 3] * ss +
        xy[2 * i + 2] * 3;
    __m128i a0 = taps3 (pa, z), a1 = taps3 (pa + ss, z);
    __m128i b0 = taps3 (pb, z), b1 = taps3 (pb + ss, z);
    __m128i ra = bilin_pair (a0, a1, b0, b1, ix[i], ix[i + 1]);
    ra = _mm_packus_epi16 (ra, ra);
    store32 (d + i * 3, ra);
    store32 (d + i * 3 + 3, _mm_srli_si128 (ra, 4));
  }
  if (i < n)
    lin_run_c (s, ss, 3, xy + 2 * i, ix + i, d + i * 3, n - i);
}

/* 2 bytes per pixel (NV12 UV): 2 pixels per step. */
static void
lin_run_sse2_2 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  const __m128i z = _mm_setzero_si128 (), rnd = _mm_set1_epi32 (512);
  int i = 0;

  for (; i + 2 <= n; i += 2) {
    const uint8_t *pa = s + (ptrdiff_t) xy[2 * i + 1] * ss + xy[2 * i] * 2;
    const uint8_t *pb = s + (ptrdiff_t) xy[2 * i + 3] * ss +
        xy[2 * i + 2] * 2;
    /* u0 v0 u1 v1 of both pixels -> u0 u1 v0 v1 */
    __m128i r0 = _mm_unpacklo_epi8 (_mm_unpacklo_epi32 (load32 (pa),
            load32 (pb)), z);
    __m128i r1 = _mm_unpacklo_epi8 (_mm_unpacklo_epi32 (load32 (pa + ss),
            load32 (pb + ss)), z);
    int32_t wa0 = wtab[0][ix[i]], wb0 = wtab[0][ix[i + 1]];
    int32_t wa1 = wtab[1][ix[i]], wb1 = wtab[1][ix[i + 1]];
    __m128i r;
    r0 = _mm_shufflehi_epi16 (_mm_shufflelo_epi16 (r0, 0xD8), 0xD8);
    r1 = _mm_shufflehi_epi16 (_mm_shufflelo_epi16 (r1, 0xD8), 0xD8);
    r = _mm_add_epi32 (_mm_madd_epi16 (r0, _mm_setr_epi32 (wa0, wa0, wb0,
                wb0)), _mm_madd_epi16 (r1, _mm_setr_epi32 (wa1, wa1, wb1,
                wb1)));
    r = _mm_srli_epi32 (_mm_add_epi32 (r, rnd), 10);
    r = _mm_packs_epi32 (r, r);
    store32 (d + i * 2, _mm_packus_epi16 (r, r));
  }
  if (i < n)
    lin_run_c (s, ss, 2, xy + 2 * i, ix + i, d + i * 2, n - i);
}

/* 1 byte per pixel: 8 pixels per step. The (p00, p01) and (p10, p11) byte
 * pairs go straight into 16-bit lanes (pinsrw), the four weights of a
 * pixel come from one 64-bit table entry. */
static inline __m128i
gather_w (const uint16_t * ix, __m128i * w1)
{
  /* [w00|w01, w10|w11] of pixels 0..3 -> W0 = w0x of 0..3, W1 = w1x */
  __m128i a = _mm_unpacklo_epi64 (_mm_loadl_epi64 ((const __m128i *)
          &wtab4[ix[0]]), _mm_loadl_epi64 ((const __m128i *) &wtab4[ix[1]]));
  __m128i b = _mm_unpacklo_epi64 (_mm_loadl_epi64 ((const __m128i *)
          &wtab4[ix[2]]), _mm_loadl_epi64 ((const __m128i *) &wtab4[ix[3]]));
  a = _mm_shuffle_epi32 (a, _MM_SHUFFLE (3, 1, 2, 0));
  b = _mm_shuffle_epi32 (b, _MM_SHUFFLE (3, 1, 2, 0));
  *w1 = _mm_unpackhi_epi64 (a, b);
  return _mm_unpacklo_epi64 (a, b);
}

/* Pixels i..i+7 of a 1-byte run: gathered tap by tap. */
static inline void
lin8_sse2_1 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int i)
{
  const __m128i z = _mm_setzero_si128 (), rnd = _mm_set1_epi32 (512);
  __m128i t0 = z, t1 = z, lo0, hi0, lo1, hi1, rl, rh, w0l, w1l, w0h, w1h;
  uint16_t v;
#define SSE_INS(t, x, k) _mm_insert_epi16 (t, x, k)
  GATHER_PAIRS8 (SSE_INS);
#undef SSE_INS
  lo0 = _mm_unpacklo_epi8 (t0, z);
  hi0 = _mm_unpackhi_epi8 (t0, z);
  lo1 = _mm_unpacklo_epi8 (t1, z);
  hi1 = _mm_unpackhi_epi8 (t1, z);
  w0l = gather_w (ix + i, &w1l);
  w0h = gather_w (ix + i + 4, &w1h);
  rl = _mm_add_epi32 (_mm_madd_epi16 (lo0, w0l), _mm_madd_epi16 (lo1, w1l));
  rh = _mm_add_epi32 (_mm_madd_epi16 (hi0, w0h), _mm_madd_epi16 (hi1, w1h));
  rl = _mm_srli_epi32 (_mm_add_epi32 (rl, rnd), 10);
  rh = _mm_srli_epi32 (_mm_add_epi32 (rh, rnd), 10);
  rl = _mm_packs_epi32 (rl, rh);
  _mm_storel_epi64 ((__m128i *) (d + i), _mm_packus_epi16 (rl, rl));
}

static void
lin_run_sse2_1 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  int i = 0;

  for (; i + 8 <= n; i += 8)
    lin8_sse2_1 (s, ss, xy, ix, d, i);
  if (i < n)
    lin_run_c (s, ss, 1, xy + 2 * i, ix + i, d + i, n - i);
}
#endif

#ifdef HAVE_SSSE3_DISPATCH
/* 1 byte per pixel, SSSE3. A rectification map moves along source rows:
 * when 8 consecutive pixels read source rows y or y + 1 (a curved or tilted
 * row crosses at most one row boundary in 8 pixels) and their x lie within
 * 15 bytes of the first one, one 16-byte load per source row (two, or three
 * with a blend) and a pshufb gather all their (p00, p01) and (p10, p11)
 * pairs; the weights come from
 * the fractions by arithmetic, in the separable form (exact, the same sum):
 *   h = p0 (32 - fx) + p1 fx (pmaddubsw), out = (h0 (32 - fy) + h1 fy + 512) >> 10.
 * Other groups take the SSE2 tap-by-tap path. @fast_lim: largest x0 whose
 * 16-byte loads stay inside the source rows (width - 16), < 0 for none. */
SSSE3_FUNC static void
lin_run_ssse3_1 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n, int fast_lim)
{
  const __m128i k31 = _mm_set1_epi16 (31), k32 = _mm_set1_epi16 (32);
  const __m128i k15 = _mm_set1_epi16 (15), m1 = _mm_set1_epi16 (-1);
  const __m128i rnd = _mm_set1_epi32 (512), one8 = _mm_set1_epi16 (0x100);
  int i = 0;

  for (; i + 8 <= n; i += 8) {
    int x0 = xy[2 * i], y0 = xy[2 * i + 1], y7 = xy[2 * i + 15];
    __m128i a, b, xs, ys, dx, ok, idx, r0, r1, t0, t1, f, wx, fy, wy, h0, h1;
    __m128i lo, hi, sel;
    const uint8_t *p;

    if (x0 > fast_lim) {
      lin8_sse2_1 (s, ss, xy, ix, d, i);
      continue;
    }
    a = _mm_loadu_si128 ((const __m128i *) (xy + 2 * i));
    b = _mm_loadu_si128 ((const __m128i *) (xy + 2 * i + 8));
    /* x (low halves) and y (high halves) of the 8 int16 pairs */
    xs = _mm_packs_epi32 (_mm_srai_epi32 (_mm_slli_epi32 (a, 16), 16),
        _mm_srai_epi32 (_mm_slli_epi32 (b, 16), 16));
    ys = _mm_packs_epi32 (_mm_srai_epi32 (a, 16), _mm_srai_epi32 (b, 16));
    if (y7 < y0)
      y0 = y7;
    dx = _mm_sub_epi16 (xs, _mm_set1_epi16 ((short) x0));
    ys = _mm_sub_epi16 (ys, _mm_set1_epi16 ((short) y0));
    sel = _mm_cmpeq_epi16 (ys, _mm_set1_epi16 (1));
    ok = _mm_and_si128 (_mm_or_si128 (_mm_cmpeq_epi16 (ys,
                _mm_setzero_si128 ()), sel),
        _mm_and_si128 (_mm_cmpgt_epi16 (dx, m1), _mm_cmpgt_epi16 (k15, dx)));
    if (_mm_movemask_epi8 (ok) != 0xffff) {
      lin8_sse2_1 (s, ss, xy, ix, d, i);
      continue;
    }
    /* byte pairs (dx, dx + 1) select (p_x, p_x+1) from the row loads */
    idx = _mm_add_epi16 (_mm_or_si128 (dx, _mm_slli_epi16 (dx, 8)), one8);
    p = s + (ptrdiff_t) y0 * ss + x0;
    r0 = _mm_loadu_si128 ((const __m128i *) p);
    r1 = _mm_loadu_si128 ((const __m128i *) (p + ss));
    /* the rows ahead: each frame's source is cold (written by another
     * thread), and a curved map walks across rows faster than the
     * hardware prefetcher follows (about -13 % of this thread's time) */
    _mm_prefetch ((const char *) (p + 2 * ss + 128), _MM_HINT_T0);
    _mm_prefetch ((const char *) (p + ss + 128), _MM_HINT_T0);
    t0 = _mm_shuffle_epi8 (r0, idx);
    t1 = _mm_shuffle_epi8 (r1, idx);
    if (_mm_movemask_epi8 (sel)) {
      /* lanes on rows y0 + 1, y0 + 2 (which exists: those lanes' own
       * second row) */
      __m128i t2 = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *)
              (p + 2 * ss)), idx);
      t0 = _mm_or_si128 (_mm_and_si128 (sel, t1), _mm_andnot_si128 (sel, t0));
      t1 = _mm_or_si128 (_mm_and_si128 (sel, t2), _mm_andnot_si128 (sel, t1));
    }
    /* weights: bytes (32 - fx, fx), words (32 - fy, fy) */
    f = _mm_loadu_si128 ((const __m128i *) (ix + i));
    wx = _mm_and_si128 (f, k31);
    wx = _mm_or_si128 (_mm_sub_epi16 (k32, wx), _mm_slli_epi16 (wx, 8));
    fy = _mm_srli_epi16 (f, 5);
    wy = _mm_sub_epi16 (k32, fy);
    h0 = _mm_maddubs_epi16 (t0, wx);
    h1 = _mm_maddubs_epi16 (t1, wx);
    lo = _mm_madd_epi16 (_mm_unpacklo_epi16 (h0, h1),
        _mm_unpacklo_epi16 (wy, fy));
    hi = _mm_madd_epi16 (_mm_unpackhi_epi16 (h0, h1),
        _mm_unpackhi_epi16 (wy, fy));
    lo = _mm_srli_epi32 (_mm_add_epi32 (lo, rnd), 10);
    hi = _mm_srli_epi32 (_mm_add_epi32 (hi, rnd), 10);
    lo = _mm_packs_epi32 (lo, hi);
    _mm_storel_epi64 ((__m128i *) (d + i), _mm_packus_epi16 (lo, lo));
  }
  if (i < n)
    lin_run_c (s, ss, 1, xy + 2 * i, ix + i, d + i, n - i);
}

static int
have_ssse3 (void)
{
#ifdef __SSSE3__
  return 1;
#else
  static int cached = -1;
  int v = __atomic_load_n (&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    __builtin_cpu_init ();
    v = __builtin_cpu_supports ("ssse3") ? 1 : 0;
    __atomic_store_n (&cached, v, __ATOMIC_RELAXED);
  }
  return v;
#endif
}
#endif

/* ------------------------------------------------------------- NEON */

#ifdef HAVE_NEON
/* Separable form of the same weights (exact): h = p0 (32 - fx) + p1 fx
 * fits 16 bits, out = (h0 (32 - fy) + h1 fy + 512) >> 10. */
static inline uint8x8_t
neon_vert (uint16x4_t h0, uint16x4_t h1, unsigned fy)
{
  uint32x4_t acc = vmull_n_u16 (h0, (uint16_t) (32 - fy));
  acc = vmlal_n_u16 (acc, h1, (uint16_t) fy);
  return vqmovn_u16 (vcombine_u16 (vrshrn_n_u32 (acc, 10), vdup_n_u16 (0)));
}

static inline void
store_u32 (uint8_t * d, uint8x8_t v)
{
  uint32_t x = vget_lane_u32 (vreinterpret_u32_u8 (v), 0);
  memcpy (d, &x, 4);
}

/* 4 bytes per pixel: p00|p01 and p10|p11 are 8 contiguous bytes each. */
static void
lin_run_neon_4 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  int i;
  for (i = 0; i < n; i++) {
    const uint8_t *p = s + (ptrdiff_t) xy[2 * i + 1] * ss + xy[2 * i] * 4;
    unsigned fx = ix[i] & 31, fy = ix[i] >> 5;
    uint16x8_t a = vmovl_u8 (vld1_u8 (p)), b = vmovl_u8 (vld1_u8 (p + ss));
    uint16x4_t h0 = vmla_n_u16 (vmul_n_u16 (vget_low_u16 (a),
            (uint16_t) (32 - fx)), vget_high_u16 (a), (uint16_t) fx);
    uint16x4_t h1 = vmla_n_u16 (vmul_n_u16 (vget_low_u16 (b),
            (uint16_t) (32 - fx)), vget_high_u16 (b), (uint16_t) fx);
    store_u32 (d + i * 4, neon_vert (h0, h1, fy));
  }
}

/* 3 bytes per pixel: 8-byte loads at p00 (the caller keeps sx + 2 inside
 * the row), 4-byte stores except for the run's last pixel. */
static void
lin_run_neon_3 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  int i;
  for (i = 0; i + 1 < n; i++) {
    const uint8_t *p = s + (ptrdiff_t) xy[2 * i + 1] * ss + xy[2 * i] * 3;
    unsigned fx = ix[i] & 31, fy = ix[i] >> 5;
    uint16x8_t a = vmovl_u8 (vld1_u8 (p)), b = vmovl_u8 (vld1_u8 (p + ss));
    /* lanes 0..3 = r0 g0 b0 r1, lanes 3..6 = r1 g1 b1 . */
    uint16x4_t h0 = vmla_n_u16 (vmul_n_u16 (vget_low_u16 (a),
            (uint16_t) (32 - fx)), vget_low_u16 (vextq_u16 (a, a, 3)),
        (uint16_t) fx);
    uint16x4_t h1 = vmla_n_u16 (vmul_n_u16 (vget_low_u16 (b),
            (uint16_t) (32 - fx)), vget_low_u16 (vextq_u16 (b, b, 3)),
        (uint16_t) fx);
    store_u32 (d + i * 3, neon_vert (h0, h1, fy));
  }
  if (i < n)
    lin_run_c (s, ss, 3, xy + 2 * i, ix + i, d + i * 3, n - i);
}

/* 2 bytes per pixel (NV12 UV): 4-byte lane loads. */
static void
lin_run_neon_2 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  int i;
  for (i = 0; i + 1 < n; i++) {
    const uint8_t *p = s + (ptrdiff_t) xy[2 * i + 1] * ss + xy[2 * i] * 2;
    unsigned fx = ix[i] & 31, fy = ix[i] >> 5;
    uint32_t r0, r1;
    uint16x4_t a, b, h0, h1;
    memcpy (&r0, p, 4);
    memcpy (&r1, p + ss, 4);
    a = vget_low_u16 (vmovl_u8 (vreinterpret_u8_u32 (vdup_n_u32 (r0))));
    b = vget_low_u16 (vmovl_u8 (vreinterpret_u8_u32 (vdup_n_u32 (r1))));
    /* lanes u0 v0 u1 v1 -> p01 = lanes 2, 3 */
    h0 = vmla_n_u16 (vmul_n_u16 (a, (uint16_t) (32 - fx)), vext_u16 (a, a, 2),
        (uint16_t) fx);
    h1 = vmla_n_u16 (vmul_n_u16 (b, (uint16_t) (32 - fx)), vext_u16 (b, b, 2),
        (uint16_t) fx);
    {
      uint8x8_t r = neon_vert (h0, h1, fy);
      uint16_t x = vget_lane_u16 (vreinterpret_u16_u8 (r), 0);
      memcpy (d + i * 2, &x, 2);
    }
  }
  if (i < n)
    lin_run_c (s, ss, 2, xy + 2 * i, ix + i, d + i * 2, n - i);
}

/* 1 byte per pixel: 8 pixels per step, weights computed in vectors. */
static void
lin_run_neon_1 (const uint8_t * s, ptrdiff_t ss, const int16_t * xy,
    const uint16_t * ix, uint8_t * d, int n)
{
  const uint16x8_t m31 = vdupq_n_u16 (31), k32 = vdupq_n_u16 (32);
  int i = 0;

  for (; i + 8 <= n; i += 8) {
    uint16x8_t t0 = vdupq_n_u16 (0), t1 = vdupq_n_u16 (0);
    uint16x8_t idx = vld1q_u16 (ix + i);
    uint16x8_t fx = vandq_u16 (idx, m31), fy = vshrq_n_u16 (idx, 5);
    uint16x8_t p00, p01, p10, p11, h0, h1;
    uint32x4_t lo, hi;
    uint16_t v;
#define NEON_INS(t, x, k) vsetq_lane_u16 (x, t, k)
    GATHER_PAIRS8 (NEON_INS);
#undef NEON_INS
    /* low byte of each lane = left tap, high byte = right tap */
    p00 = vandq_u16 (t0, vdupq_n_u16 (0xff));
    p01 = vshrq_n_u16 (t0, 8);
    p10 = vandq_u16 (t1, vdupq_n_u16 (0xff));
    p11 = vshrq_n_u16 (t1, 8);
    h0 = vmlaq_u16 (vmulq_u16 (p00, vsubq_u16 (k32, fx)), p01, fx);
    h1 = vmlaq_u16 (vmulq_u16 (p10, vsubq_u16 (k32, fx)), p11, fx);
    lo = vmull_u16 (vget_low_u16 (h0), vget_low_u16 (vsubq_u16 (k32, fy)));
    lo = vmlal_u16 (lo, vget_low_u16 (h1), vget_low_u16 (fy));
    hi = vmull_u16 (vget_high_u16 (h0), vget_high_u16 (vsubq_u16 (k32, fy)));
    hi = vmlal_u16 (hi, vget_high_u16 (h1), vget_high_u16 (fy));
    vst1_u8 (d + i, vqmovn_u16 (vcombine_u16 (vrshrn_n_u32 (lo, 10),
                vrshrn_n_u32 (hi, 10))));
  }
  if (i < n)
    lin_run_c (s, ss, 1, xy + 2 * i, ix + i, d + i, n - i);
}
#endif

/* ----------------------------------------------------------- drivers */

/* First x >= @x whose 2x2 neighbourhood is not inside (lim_x, lim_y), or
 * @W. Most of a rectification map is inside: 8 pixels per SSE2 step. */
static inline int
inside_end (const int16_t * xy, int x, int W, unsigned lim_x, unsigned lim_y)
{
#ifdef HAVE_SSE2
  if (lim_x <= 0x7fff && lim_y <= 0x7fff) {
    /* lanes alternate x, y; signed x > -1 && x < lim == (unsigned) x < lim */
    const __m128i lim = _mm_set_epi16 ((short) lim_y, (short) lim_x,
        (short) lim_y, (short) lim_x, (short) lim_y, (short) lim_x,
        (short) lim_y, (short) lim_x);
    const __m128i m1 = _mm_set1_epi16 (-1);
    for (; x + 8 <= W; x += 8) {
      __m128i a = _mm_loadu_si128 ((const __m128i *) (xy + 2 * x));
      __m128i b = _mm_loadu_si128 ((const __m128i *) (xy + 2 * x + 8));
      __m128i in = _mm_and_si128 (_mm_and_si128 (_mm_cmpgt_epi16 (a, m1),
              _mm_cmpgt_epi16 (lim, a)), _mm_and_si128 (_mm_cmpgt_epi16 (b,
                  m1), _mm_cmpgt_epi16 (lim, b)));
      if (_mm_movemask_epi8 (in) != 0xffff)
        break;
    }
  }
#endif
  while (x < W && (unsigned) xy[2 * x] < lim_x &&
      (unsigned) xy[2 * x + 1] < lim_y)
    x++;
  return x;
}

static void
remap_linear (const MbPlane * src, MbPlane * dst, int cn,
    const MbRemapMap * map, const uint8_t * border, int row0, int row1,
    int use_simd)
{
  static const LinRunFunc c_funcs[5] = { NULL, lin_run_c1, lin_run_c2,
    lin_run_c3, lin_run_c4
  };
  LinRunFunc run = c_funcs[cn];
  /* the fast kernels read p00..p11; the 3-byte SIMD one one byte more */
  int margin = 1;
  unsigned lim_x, lim_y;
  int y, W = map->width;
#ifdef HAVE_SSSE3_DISPATCH
  int fast1 = 0;
#endif

#ifdef HAVE_SSE2
  if (use_simd) {
    static const LinRunFunc s_funcs[5] = { NULL, lin_run_sse2_1,
      lin_run_sse2_2, lin_run_sse2_3, lin_run_sse2_4
    };
    run = s_funcs[cn];
    if (cn == 3)
      margin = 2;
  }
#elif defined(HAVE_NEON)
  if (use_simd) {
    static const LinRunFunc n_funcs[5] = { NULL, lin_run_neon_1,
      lin_run_neon_2, lin_run_neon_3, lin_run_neon_4
    };
    run = n_funcs[cn];
    if (cn == 3)
      margin = 2;
  }
#else
  (void) use_simd;
#endif
  lim_x = src->width > margin ? (unsigned) (src->width - margin) : 0;
  lim_y = src->height > 1 ? (unsigned) (src->height - 1) : 0;
#ifdef HAVE_SSSE3_DISPATCH
  fast1 = use_simd && cn == 1 && have_ssse3 ();
#endif

  for (y = row0; y < row1; y++) {
    const int16_t *xy = map->xy + (size_t) 2 * y * W;
    const uint16_t *ix = map->idx + (size_t) y * W;
    uint8_t *d = dst->data + (ptrdiff_t) y * dst->stride;
    int x = 0;

    while (x < W) {
      int x1 = inside_end (xy, x, W, lim_x, lim_y);
#ifdef HAVE_SSSE3_DISPATCH
      if (x1 > x && fast1)
        lin_run_ssse3_1 (src->data, src->stride, xy + 2 * x, ix + x, d + x,
            x1 - x, src->width - 16);
      else
#endif
      if (x1 > x)
        run (src->data, src->stride, xy + 2 * x, ix + x, d + x * cn, x1 - x);
      x = x1;
      while (x1 < W && !((unsigned) xy[2 * x1] < lim_x &&
              (unsigned) xy[2 * x1 + 1] < lim_y))
        x1++;
      if (x1 > x)
        lin_border_run (src, cn, xy + 2 * x, ix + x, border, d + x * cn,
            x1 - x);
      x = x1;
    }
  }
}

static inline void
near_row (const MbPlane * src, int cn, const int16_t * xy,
    const uint16_t * ix, const uint8_t * border, uint8_t * d, int n)
{
  int i, c;
  for (i = 0; i < n; i++) {
    /* round to the nearest pixel: fraction >= 1/2 moves to the next one */
    int sx = xy[2 * i] + ((ix[i] & (MB_REMAP_TAB - 1)) >> (MB_REMAP_BITS - 1));
    int sy = xy[2 * i + 1] + (ix[i] >> (2 * MB_REMAP_BITS - 1));
    int in = (unsigned) sx < (unsigned) src->width &&
        (unsigned) sy < (unsigned) src->height;
    const uint8_t *p = in ? src->data + (ptrdiff_t) sy * src->stride +
        (ptrdiff_t) sx * cn : border;
    for (c = 0; c < cn; c++)
      d[i * cn + c] = p[c];
  }
}

static void
remap_nearest (const MbPlane * src, MbPlane * dst, int cn,
    const MbRemapMap * map, const uint8_t * border, int row0, int row1)
{
  int y, W = map->width;
  for (y = row0; y < row1; y++) {
    const int16_t *xy = map->xy + (size_t) 2 * y * W;
    const uint16_t *ix = map->idx + (size_t) y * W;
    uint8_t *d = dst->data + (ptrdiff_t) y * dst->stride;
    switch (cn) {
      case 1:
        near_row (src, 1, xy, ix, border, d, W);
        break;
      case 2:
        near_row (src, 2, xy, ix, border, d, W);
        break;
      case 3:
        near_row (src, 3, xy, ix, border, d, W);
        break;
      default:
        near_row (src, 4, xy, ix, border, d, W);
        break;
    }
  }
}

static void
remap_any (const MbPlane * src, MbPlane * dst, int cn,
    const MbRemapMap * map, MbInterp interp, const uint8_t * border,
    int row0, int row1, int use_simd)
{
  if (cn < 1 || cn > 4 || !map->xy || dst->width != map->width ||
      dst->height != map->height)
    return;
  if (row0 < 0)
    row0 = 0;
  if (row1 > map->height)
    row1 = map->height;
  wtab_init ();
  if (interp == MB_INTERP_NEAREST)
    remap_nearest (src, dst, cn, map, border, row0, row1);
  else
    remap_linear (src, dst, cn, map, border, row0, row1, use_simd);
}

void
mb_remap (const MbPlane * src, MbPlane * dst, int cn, const MbRemapMap * map,
    MbInterp interp, const uint8_t * border, int row0, int row1)
{
  remap_any (src, dst, cn, map, interp, border, row0, row1, 1);
}

void
mb_remap_c (const MbPlane * src, MbPlane * dst, int cn,
    const MbRemapMap * map, MbInterp interp, const uint8_t * border,
    int row0, int row1)
{
  remap_any (src, dst, cn, map, interp, border, row0, row1, 0);
}
