/* membound: streaming HDF5 writer for hdf5sink. Plain C, no GStreamer types.
 *
 * One MbH5Writer owns one file; every function must be called from one
 * thread at a time (hdf5sink's writer thread); each takes the process-wide
 * HDF5 lock (h5lock.h) around its HDF5 calls. On failure a function returns
 * -1 (or NULL) and mb_h5_writer_error() describes it, naming the file and the
 * dataset; after a write failure the writer is "broken": only
 * mb_h5_writer_abort() / mb_h5_writer_close() make sense.
 *
 * Durability model (see docs/hdf5sink.md): files use the library's default
 * (earliest) format bounds, no SWMR, so that a file left by a killed writer
 * opens in h5py without `h5clear`; mb_h5_writer_flush() publishes every row
 * appended before it (optionally with fsync). Appending to a file with stale
 * SWMR/write status flags (libver-latest writer that died) clears them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_H5WRITER_H__
#define __MB_H5WRITER_H__

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _MbH5Writer MbH5Writer;
typedef struct _MbH5Stream MbH5Stream;

typedef enum {
  MB_H5W_CREATE,        /* fail when the file exists */
  MB_H5W_OVERWRITE,     /* truncate an existing file */
  MB_H5W_APPEND         /* open an existing file (or create), extend streams */
} MbH5WriterMode;

typedef enum {
  MB_H5S_VLEN,          /* data: 1-D variable-length uint8, one blob per row */
  MB_H5S_FRAMES,        /* data: [N, H, W] or [N, H, W, C], uint8 or uint16 LE */
  MB_H5S_COMPOUND,      /* data: 1-D rows of a caller-given (compound) type */
  MB_H5S_PADDED,        /* data: [N, max_bytes] uint8, zero-padded blobs, plus
                         * a row of /compress_len (ALOHA images) */
  MB_H5S_VECTOR,        /* data: [N, dims] float32 (ALOHA qpos/action) */
  MB_H5S_PACKED         /* data: 1-D uint8, all blobs back to back; row i is
                         * data[offset[i] : offset[i] + size[i]] (int64
                         * offset_path, size_path) */
} MbH5StreamKind;

typedef struct {
  MbH5StreamKind kind;
  const char *data_path;        /* full path of the data dataset */
  const char *ts_path;          /* full path of the int64 timestamp dataset */
  const char *src_ts_path;      /* source_timestamp dataset (created on first use) */
  const char *attr_path;        /* object receiving the attributes */
  /* MB_H5S_FRAMES */
  uint32_t height, width, channels;     /* channels 1 → [N, H, W] */
  uint32_t sample_bytes;        /* 1 or 2 (little endian) */
  int deflate;                  /* 0 = none, 1..9 deflate + shuffle */
  /* MB_H5S_PADDED */
  size_t max_bytes;
  /* MB_H5S_VECTOR */
  uint32_t dims;
  int input_f64;                /* input rows are float64 (else float32), LE */
  /* MB_H5S_COMPOUND: memory = file type (not closed by the writer) and size */
  hid_t row_type;
  size_t row_size;
  /* MB_H5S_PACKED: full paths of the int64 [N] index datasets */
  const char *offset_path;
  const char *size_path;
} MbH5StreamSpec;

/* One row to append. */
typedef struct {
  const uint8_t *data;
  size_t size;                  /* bytes (VLEN, PACKED, PADDED, VECTOR) */
  size_t stride;                /* FRAMES: bytes between image rows, 0 = packed */
  int64_t timestamp;
  int64_t source_timestamp;
  int has_source_timestamp;
} MbH5Row;

/* Call once before any other HDF5 use in the process (hdf5sink does it in
 * class_init): bounds the library's free lists (2 MiB of freed blocks), and
 * asks it not to close files from its atexit handler.
 * HDF5 1.10.8 cannot close a file whose flush failed (an I/O error), and
 * its exit handler then crashes; files are closed by the writer instead.
 * Has no effect when the library was already initialized. */
void mb_h5_writer_global_init (void);

/* Opens or creates @path. Returns NULL with @err filled on failure. */
MbH5Writer *mb_h5_writer_open (const char *path, MbH5WriterMode mode,
    char *err, size_t err_len);
const char *mb_h5_writer_error (const MbH5Writer * w);
/* errno of the system call that failed (ENOSPC, EIO...), 0 if unknown. */
int mb_h5_writer_errno (const MbH5Writer * w);
/* Non-zero after a failed HDF5 call: the file may only be aborted. After
 * an append refused for bad input (wrong size...) it stays 0 and the file
 * can still be closed normally. */
int mb_h5_writer_is_broken (const MbH5Writer * w);

/* Root attributes (string / bool as h5py's enum bool). -1 on error. */
int mb_h5_writer_set_root_attr_string (MbH5Writer * w, const char *name,
    const char *value);
int mb_h5_writer_set_root_attr_bool (MbH5Writer * w, const char *name,
    int value);

/* Creates a stream, or in APPEND mode opens the existing one when its
 * datasets match @spec (else an error). Intermediate groups are created. */
MbH5Stream *mb_h5_writer_add_stream (MbH5Writer * w, const MbH5StreamSpec * spec);
/* Attributes on the stream's attr_path (string / int64). Not for streams
 * reopened in APPEND mode (ignored there: returns 0). */
int mb_h5_stream_set_attr_string (MbH5Stream * s, const char *name,
    const char *value);
int mb_h5_stream_set_attr_int (MbH5Stream * s, const char *name, int64_t value);

/* Appends @n rows with one extent change per dataset. 0 / -1. */
int mb_h5_stream_append (MbH5Stream * s, const MbH5Row * rows, size_t n);
uint64_t mb_h5_stream_rows (const MbH5Stream * s);
const char *mb_h5_stream_path (const MbH5Stream * s);

/* H5Fflush (+ fsync of the file descriptor), then each stream's
 * `flushed_rows` attribute (below) and a second flush. 0 / -1. */
int mb_h5_writer_flush (MbH5Writer * w, int do_fsync);

/* Every data dataset the writer creates carries an int64 attribute
 * `flushed_rows`: the rows known to be complete in the file (written after
 * the rows it counts). Reads it from dataset @dset: 0 and @rows, or -1 when
 * it is absent or unreadable. For readers of files a writer left behind. */
int mb_h5_dataset_flushed_rows (hid_t dset, uint64_t * rows);
/* Flushes and closes everything; frees @w. 0 / -1 (error text lost: read it
 * with mb_h5_writer_error before if needed; @err gets a copy). */
int mb_h5_writer_close (MbH5Writer * w, char *err, size_t err_len);
/* Closes without writing anything more to the file (after a failure): the
 * file stays as the last successful writes left it. Frees @w. */
void mb_h5_writer_abort (MbH5Writer * w);

/* ---- JPEG (TurboJPEG 4:2:0, one encoder per thread) ---- */
typedef enum {
  MB_JPEG_GRAY, MB_JPEG_RGB, MB_JPEG_BGR, MB_JPEG_RGBX, MB_JPEG_BGRX,
  MB_JPEG_XRGB, MB_JPEG_XBGR, MB_JPEG_RGBA, MB_JPEG_BGRA,
  /* planar YUV 4:2:0, for mb_jpeg_encode_yuv only */
  MB_JPEG_I420, MB_JPEG_NV12
} MbJpegPixel;

typedef struct _MbJpegEncoder MbJpegEncoder;
MbJpegEncoder *mb_jpeg_encoder_new (void);
void mb_jpeg_encoder_free (MbJpegEncoder * e);
/* Encodes one frame; *out is malloc'd-compatible memory to free with
 * mb_jpeg_free. 0 / -1 (with @err). */
int mb_jpeg_encode (MbJpegEncoder * e, const uint8_t * src, int width,
    int pitch, int height, MbJpegPixel fmt, int quality, uint8_t ** out,
    size_t *out_len, char *err, size_t err_len);
/* Encodes one YUV 4:2:0 frame (@fmt MB_JPEG_I420: planes Y, U, V;
 * MB_JPEG_NV12: planes Y, interleaved UV) straight from its planes, without
 * colour conversion: TJSAMP_420. Chroma planes are (width + 1) / 2 by
 * (height + 1) / 2. Full-range input (@limited_range 0) is read in place
 * (I420) or only de-interleaved (NV12); limited-range (16-235/240) input is
 * expanded to JPEG's full range while it is copied into the encoder's
 * scratch planes; an odd width or height copies Y there too (TurboJPEG
 * reads it rounded up to even), so nothing outside the frame is read. Same
 * output and errors as mb_jpeg_encode. */
int mb_jpeg_encode_yuv (MbJpegEncoder * e, const uint8_t * const planes[3],
    const int strides[3], int width, int height, MbJpegPixel fmt,
    int limited_range, int quality, uint8_t ** out, size_t *out_len,
    char *err, size_t err_len);
void mb_jpeg_free (uint8_t * buf);

#ifdef __cplusplus
}
#endif
#endif /* __MB_H5WRITER_H__ */
