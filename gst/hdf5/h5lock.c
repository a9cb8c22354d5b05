/* membound: the one process-wide lock around HDF5 library calls.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "h5lock.h"

#include <pthread.h>

static pthread_mutex_t h5_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void
mb_h5_lock (void)
{
  pthread_mutex_lock (&h5_mutex);
}

void
mb_h5_unlock (void)
{
  pthread_mutex_unlock (&h5_mutex);
}
