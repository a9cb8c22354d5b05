/* Unit test of hdf5sink's TurboJPEG wrapper for YUV 4:2:0 input
 * (mb_jpeg_encode_yuv in gst/hdf5/h5writer.c), plain C: NV12 gives the same
 * JPEG bytes as I420 with the same samples; odd sizes and padded strides;
 * video-range expansion (decoded with TurboJPEG's own decoder: video black
 * and white decode to 0 and 255, full-range input is taken as it is, a
 * range-expanded frame equals the full-range encoding of the expanded
 * samples); errors for bad formats and sizes, never a crash.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static int failures;

#define CHECK(cond, ...) do { \
    if (!(cond)) { \
      failures++; \
      fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf (stderr, __VA_ARGS__); \
      fputc ('\n', stderr); \
    } \
  } while (0)

typedef struct
{
  int w, h, cw, ch, ys, cs;     /* sizes and strides (I420 chroma stride) */
  uint8_t *y, *u, *v, *uv;      /* I420 planes and the NV12 UV plane */
} Frame;

static void
frame_init (Frame * f, int w, int h, int pad, unsigned seed, int lo, int hi)
{
  int x, r;

  f->w = w;
  f->h = h;
  f->cw = (w + 1) / 2;
  f->ch = (h + 1) / 2;
  f->ys = w + pad;
  f->cs = f->cw + pad;
  f->y = malloc ((size_t) f->ys * h);
  f->u = malloc ((size_t) f->cs * f->ch);
  f->v = malloc ((size_t) f->cs * f->ch);
  f->uv = malloc ((size_t) (2 * f->cw + pad) * f->ch);
  /* smooth content in [lo, hi], junk in the padding */
  memset (f->y, 0xee, (size_t) f->ys * h);
  memset (f->u, 0xee, (size_t) f->cs * f->ch);
  memset (f->v, 0xee, (size_t) f->cs * f->ch);
  memset (f->uv, 0xee, (size_t) (2 * f->cw + pad) * f->ch);
  for (r = 0; r < h; r++)
    for (x = 0; x < w; x++)
      f->y[r * f->ys + x] = (uint8_t) (lo + ((x * 7 + r * 3 + (int) seed) %
              (hi - lo + 1)));
  for (r = 0; r < f->ch; r++)
    for (x = 0; x < f->cw; x++) {
      uint8_t u = (uint8_t) (lo + ((x * 5 + r + (int) seed) % (hi - lo + 1)));
      uint8_t v = (uint8_t) (lo + ((x + r * 9 + (int) seed) % (hi - lo + 1)));
      f->u[r * f->cs + x] = u;
      f->v[r * f->cs + x] = v;
      f->uv[r * (2 * f->cw + pad) + 2 * x] = u;
      f->uv[r * (2 * f->cw + pad) + 2 * x + 1] = v;
    }
}

static void
frame_clear (Frame * f)
{
  free (f->y);
  free (f->u);
  free (f->v);
  free (f->uv);
}

/* Encodes @f as I420 (planes Y, U, V) or NV12 (Y, interleaved UV). */
static int
enc (MbJpegEncoder * e, const Frame * f, MbJpegPixel fmt, int limited,
    uint8_t ** out, size_t *len)
{
  int nv12 = fmt == MB_JPEG_NV12;
  const uint8_t *p[3] = { f->y, nv12 ? f->uv : f->u, nv12 ? NULL : f->v };
  int s[3] = { f->ys, nv12 ? f->cw + f->cs : f->cs, nv12 ? 0 : f->cs };
  char err[256];
  int r = mb_jpeg_encode_yuv (e, p, s, f->w, f->h, fmt, limited, 85, out, len,
      err, sizeof (err));
  CHECK (r == 0, "%s %dx%d: %s", nv12 ? "NV12" : "I420", f->w, f->h, err);
  return r;
}

/* Decodes to RGB; returns the mean of each channel over the image. */
static void
decode_mean (const uint8_t * jpg, size_t len, int w, int h, double mean[3])
{
  tjhandle d = tjInitDecompress ();
  uint8_t *rgb = malloc ((size_t) w * h * 3);
  int i, c, r;

  r = tjDecompress2 (d, jpg, (unsigned long) len, rgb, w, 0, h, TJPF_RGB, 0);
  CHECK (r == 0, "decode: %s", tjGetErrorStr2 (d));
  for (c = 0; c < 3; c++)
    mean[c] = 0;
  for (i = 0; i < w * h; i++)
    for (c = 0; c < 3; c++)
      mean[c] += rgb[i * 3 + c];
  for (c = 0; c < 3; c++)
    mean[c] /= (double) w * h;
  free (rgb);
  tjDestroy (d);
}

static void
test_nv12_equals_i420 (MbJpegEncoder * e)
{
  static const int sizes[][3] = { {322, 242, 38}, {161, 121, 11}, {17, 9, 0},
  {1, 1, 3}, {64, 48, 0}
  };
  size_t k;
  int limited;

  for (k = 0; k < sizeof (sizes) / sizeof (sizes[0]); k++)
    for (limited = 0; limited < 2; limited++) {
      Frame f;
      uint8_t *a = NULL, *b = NULL;
      size_t la = 0, lb = 0;
      frame_init (&f, sizes[k][0], sizes[k][1], sizes[k][2], (unsigned) k,
          16, 240);
      if (enc (e, &f, MB_JPEG_I420, limited, &a, &la) == 0 &&
          enc (e, &f, MB_JPEG_NV12, limited, &b, &lb) == 0) {
        CHECK (la > 2 && a[0] == 0xff && a[1] == 0xd8, "SOI");
        CHECK (la == lb && memcmp (a, b, la) == 0,
            "%dx%d limited %d: NV12 JPEG differs from I420 (%zu vs %zu B)",
            f.w, f.h, limited, la, lb);
      }
      mb_jpeg_free (a);
      mb_jpeg_free (b);
      frame_clear (&f);
    }
}

static void
test_range (MbJpegEncoder * e)
{
  /* flat frames: video black / white decode to 0 / 255 when expanded, to
   * 16 / 235 when taken as full range */
  static const struct
  {
    int y, limited;
    double want;
  } cases[] = { {16, 1, 0}, {235, 1, 255}, {16, 0, 16}, {235, 0, 235},
  {126, 1, 128}                 /* (126 - 16) * 255 / 219 = 128.1 */
  };
  size_t k;

  for (k = 0; k < sizeof (cases) / sizeof (cases[0]); k++) {
    Frame f;
    uint8_t *a = NULL;
    size_t la = 0;
    double m[3];
    int c;
    frame_init (&f, 48, 32, 5, 0, 128, 128);
    memset (f.y, cases[k].y, (size_t) f.ys * f.h);
    if (enc (e, &f, MB_JPEG_I420, cases[k].limited, &a, &la) == 0) {
      decode_mean (a, la, f.w, f.h, m);
      for (c = 0; c < 3; c++)
        CHECK (m[c] > cases[k].want - 1.5 && m[c] < cases[k].want + 1.5,
            "Y %d limited %d: channel %d decodes to %.2f, want %.0f",
            cases[k].y, cases[k].limited, c, m[c], cases[k].want);
    }
    mb_jpeg_free (a);
    frame_clear (&f);
  }
}

/* Expanding while encoding == encoding the expanded samples as full range. */
static void
test_expansion_matches_full_range (MbJpegEncoder * e)
{
  Frame f, g;
  uint8_t *a = NULL, *b = NULL;
  size_t la = 0, lb = 0;
  int x, r;

  frame_init (&f, 100, 60, 6, 3, 0, 255);
  frame_init (&g, 100, 60, 6, 3, 0, 255);
  for (r = 0; r < f.h; r++)
    for (x = 0; x < f.w; x++) {
      int v = f.y[r * f.ys + x] > 16 ? (f.y[r * f.ys + x] - 16) * 149 + 64 : 64;
      v >>= 7;
      g.y[r * g.ys + x] = (uint8_t) (v > 255 ? 255 : v);
    }
  for (r = 0; r < f.ch; r++)
    for (x = 0; x < f.cw; x++) {
      int k;
      for (k = 0; k < 2; k++) {
        uint8_t c = k ? f.v[r * f.cs + x] : f.u[r * f.cs + x];
        int v = (((c - 128) * 146 + 64 + 32768) >> 7) - 128;
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        (k ? g.v : g.u)[r * g.cs + x] = (uint8_t) v;
      }
    }
  if (enc (e, &f, MB_JPEG_I420, 1, &a, &la) == 0 &&
      enc (e, &g, MB_JPEG_I420, 0, &b, &lb) == 0)
    CHECK (la == lb && memcmp (a, b, la) == 0,
        "expanded encoding differs from the full-range encoding of the "
        "expanded samples");
  mb_jpeg_free (a);
  mb_jpeg_free (b);
  frame_clear (&f);
  frame_clear (&g);
}

static void
test_errors (MbJpegEncoder * e)
{
  uint8_t buf[64] = { 0 };
  const uint8_t *p[3] = { buf, buf, buf };
  int s[3] = { 4, 2, 2 };
  uint8_t *out = NULL;
  size_t len = 0;
  char err[256] = "";

  CHECK (mb_jpeg_encode_yuv (e, p, s, 4, 4, MB_JPEG_RGB, 0, 85, &out, &len,
          err, sizeof (err)) == -1 && strstr (err, "YUV"),
      "packed format accepted by the YUV encoder: '%s'", err);
  err[0] = '\0';
  CHECK (mb_jpeg_encode_yuv (e, p, s, 0, 4, MB_JPEG_I420, 0, 85, &out, &len,
          err, sizeof (err)) == -1 && strstr (err, "size"),
      "width 0 accepted: '%s'", err);
  err[0] = '\0';
  CHECK (mb_jpeg_encode (e, buf, 4, 12, 4, MB_JPEG_I420, 85, &out, &len,
          err, sizeof (err)) == -1 && strstr (err, "packed"),
      "I420 accepted by the packed encoder: '%s'", err);
  CHECK (out == NULL, "output set on error");
  /* NULL error buffer is fine */
  CHECK (mb_jpeg_encode_yuv (e, p, s, -3, 4, MB_JPEG_NV12, 1, 85, &out, &len,
          NULL, 0) == -1, "negative width accepted");
}

int
main (void)
{
  MbJpegEncoder *e = mb_jpeg_encoder_new ();

  if (e == NULL) {
    fprintf (stderr, "no TurboJPEG encoder\n");
    return 1;
  }
  test_nv12_equals_i420 (e);
  test_range (e);
  test_expansion_matches_full_range (e);
  test_errors (e);
  /* the encoder survives errors and size changes */
  test_nv12_equals_i420 (e);
  mb_jpeg_encoder_free (e);
  printf ("%s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
