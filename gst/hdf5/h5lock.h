/* membound: the one process-wide lock around HDF5 library calls, shared by
 * hdf5sink's writer threads and hdf5src. Plain C.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_H5LOCK_H__
#define __MB_H5LOCK_H__

/* Recursive: a function holding the lock may call another that takes it. */
void mb_h5_lock (void);
void mb_h5_unlock (void);

#endif /* __MB_H5LOCK_H__ */
