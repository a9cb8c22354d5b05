/* membound: HDF5 stream reader for hdf5src. Plain C, no GStreamer types.
 *
 * Opens one stream of an HDF5 file: the `data` dataset of a group written by
 * hdf5sink (with its sibling `timestamp` / `source_timestamp` datasets and
 * the `caps` attribute), or any dataset that is either
 *   - 1-D variable-length of 8-bit integers (one blob per row), or
 *   - 1-D 8-bit integers with sibling int64 `offset` and `size` datasets
 *     (hdf5sink's blob-layout=packed: row i is
 *     data[offset[i] : offset[i] + size[i]]), or
 *   - N-D (N >= 2) of 8- or 16-bit integers, one row = one frame
 *     (16-bit samples are returned little endian).
 * Every function takes the process-wide HDF5 lock (h5lock.h). A reader is
 * used by one thread at a time. Errors: functions return NULL / -1 and
 * mb_h5_reader_error() (or @err for open) names the file and dataset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_H5READER_H__
#define __MB_H5READER_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _MbH5Reader MbH5Reader;

typedef enum {
  MB_H5R_VLEN,                  /* 1-D vlen of 8-bit integers */
  MB_H5R_FRAMES,                /* [N, ...] fixed-shape 8/16-bit integers */
  MB_H5R_PACKED                 /* 1-D bytes + int64 offset/size index */
} MbH5ReaderKind;

#define MB_H5R_MAX_RANK 8

/* Error classes of mb_h5_reader_open(). */
typedef enum {
  MB_H5R_ERR_NONE,
  MB_H5R_ERR_NOT_FOUND,         /* file, group or dataset missing */
  MB_H5R_ERR_OPEN,              /* not HDF5, unreadable, damaged */
  MB_H5R_ERR_TYPE               /* dataset type or shape not playable */
} MbH5ReaderErr;

/* Opens @file read-only and resolves @path: a group holding a `data`
 * dataset, or a dataset. NULL or "" picks the first group (in name order,
 * depth first) that holds a `data` dataset. NULL with @err filled (and *@code set, may be NULL) on
 * failure. */
MbH5Reader *mb_h5_reader_open (const char *file, const char *path,
    MbH5ReaderErr * code, char *err, size_t err_len);
void mb_h5_reader_close (MbH5Reader * r);
const char *mb_h5_reader_error (const MbH5Reader * r);

MbH5ReaderKind mb_h5_reader_kind (const MbH5Reader * r);
/* Full path of the data dataset. */
const char *mb_h5_reader_data_path (const MbH5Reader * r);
uint64_t mb_h5_reader_rows (const MbH5Reader * r);
/* MB_H5R_FRAMES: rank (2..8), dims[0] = rows, sample size (1 or 2 bytes)
 * and bytes per frame. */
int mb_h5_reader_rank (const MbH5Reader * r);
const uint64_t *mb_h5_reader_dims (const MbH5Reader * r);
size_t mb_h5_reader_sample_bytes (const MbH5Reader * r);
size_t mb_h5_reader_frame_bytes (const MbH5Reader * r);

/* A string attribute of the data dataset or, when absent there, of its
 * parent group (e.g. "caps", "color_order"): malloc'ed, NULL when absent or
 * not a string. */
char *mb_h5_reader_get_attr_string (MbH5Reader * r, const char *name);

/* Non-zero when a `timestamp` (resp. `source_timestamp`) int64 dataset sits
 * next to the data (or, for hdf5sink's ALOHA layout, `timestamps/<name>`
 * (resp. `source_timestamps/<name>`) next to the data's group). */
int mb_h5_reader_has_timestamps (const MbH5Reader * r);
int mb_h5_reader_has_source_timestamps (const MbH5Reader * r);
/* Reads @n timestamps from row @start. 0 / -1. */
int mb_h5_reader_read_timestamps (MbH5Reader * r, uint64_t start, size_t n,
    int64_t * out);
int mb_h5_reader_read_source_timestamps (MbH5Reader * r, uint64_t start,
    size_t n, int64_t * out);

/* hdf5sink's ALOHA cameras: [N, max_bytes] uint8 rows zero-padded, with
 * the real lengths in /compress_len (row = the dataset's attribute
 * `compress_len_index`). Non-zero when such lengths exist; then
 * mb_h5_reader_read_row_lengths() gives @n of them from row @start
 * (clamped to frame_bytes). 0 / -1. */
int mb_h5_reader_has_row_lengths (const MbH5Reader * r);
int mb_h5_reader_read_row_lengths (MbH5Reader * r, uint64_t start, size_t n,
    size_t *out);

/* MB_H5R_FRAMES: reads row @row (frame_bytes) into @dst. 0 / -1. */
int mb_h5_reader_read_frame (MbH5Reader * r, uint64_t row, void *dst);

/* MB_H5R_VLEN, MB_H5R_PACKED: reads rows [start, start+n). Blob i is stored in
 * data[i] / len[i], allocated with @alloc (0-length rows may give NULL) and
 * owned by the caller (free them with the matching free function). On
 * failure nothing is left allocated. 0 / -1. */
typedef void *(*MbH5Alloc) (size_t size, void *ud);
typedef void (*MbH5Free) (void *p, void *ud);
int mb_h5_reader_read_blobs (MbH5Reader * r, uint64_t start, size_t n,
    uint8_t ** data, size_t *len, MbH5Alloc alloc, MbH5Free free_fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif /* __MB_H5READER_H__ */
