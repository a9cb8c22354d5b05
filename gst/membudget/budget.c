/* membound: process-wide named byte budgets.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "budget.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTENERS 64

typedef struct
{
  unsigned id;
  MbBudgetNotify notify;
  void *user_data;
} Listener;

struct MbBudget
{
  MbBudget *next;               /* registry link, under registry_lock */
  char *name;
  unsigned refcount;            /* under registry_lock */

  pthread_mutex_t lock;
  uint64_t limit;
  uint64_t used;
  uint64_t peak;
  unsigned next_id;
  unsigned n_listeners;
  Listener listeners[MAX_LISTENERS];
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static MbBudget *registry;

MbBudget *
mb_budget_acquire (const char *name)
{
  MbBudget *b;

  if (name == NULL || name[0] == '\0')
    return NULL;

  pthread_mutex_lock (&registry_lock);
  for (b = registry; b; b = b->next) {
    if (strcmp (b->name, name) == 0) {
      b->refcount++;
      pthread_mutex_unlock (&registry_lock);
      return b;
    }
  }
  b = calloc (1, sizeof (*b));
  if (b)
    b->name = strdup (name);
  if (b == NULL || b->name == NULL) {
    free (b);
    pthread_mutex_unlock (&registry_lock);
    return NULL;
  }
  b->refcount = 1;
  b->next_id = 1;
  pthread_mutex_init (&b->lock, NULL);
  b->next = registry;
  registry = b;
  pthread_mutex_unlock (&registry_lock);
  return b;
}

MbBudget *
mb_budget_ref (MbBudget * b)
{
  pthread_mutex_lock (&registry_lock);
  b->refcount++;
  pthread_mutex_unlock (&registry_lock);
  return b;
}

void
mb_budget_unref (MbBudget * b)
{
  MbBudget **p;

  if (b == NULL)
    return;
  pthread_mutex_lock (&registry_lock);
  if (--b->refcount > 0) {
    pthread_mutex_unlock (&registry_lock);
    return;
  }
  for (p = &registry; *p; p = &(*p)->next) {
    if (*p == b) {
      *p = b->next;
      break;
    }
  }
  pthread_mutex_unlock (&registry_lock);
  pthread_mutex_destroy (&b->lock);
  free (b->name);
  free (b);
}

const char *
mb_budget_get_name (const MbBudget * b)
{
  return b->name;
}

static void
notify_locked (MbBudget * b)
{
  unsigned i;

  for (i = 0; i < b->n_listeners; i++)
    b->listeners[i].notify (b->listeners[i].user_data);
}

void
mb_budget_set_limit (MbBudget * b, uint64_t limit)
{
  pthread_mutex_lock (&b->lock);
  b->limit = limit;
  notify_locked (b);
  pthread_mutex_unlock (&b->lock);
}

/* reads one counter of @b under its lock */
static uint64_t
read_locked (MbBudget * b, const uint64_t * field)
{
  uint64_t v;

  pthread_mutex_lock (&b->lock);
  v = *field;
  pthread_mutex_unlock (&b->lock);
  return v;
}

uint64_t
mb_budget_get_limit (MbBudget * b)
{
  return read_locked (b, &b->limit);
}

uint64_t
mb_budget_get_used (MbBudget * b)
{
  return read_locked (b, &b->used);
}

uint64_t
mb_budget_get_peak (MbBudget * b)
{
  return read_locked (b, &b->peak);
}

unsigned
mb_budget_get_members (MbBudget * b)
{
  unsigned v;

  pthread_mutex_lock (&registry_lock);
  v = b->refcount;
  pthread_mutex_unlock (&registry_lock);
  return v;
}

static void
charge_locked (MbBudget * b, uint64_t bytes)
{
  b->used = (UINT64_MAX - b->used < bytes) ? UINT64_MAX : b->used + bytes;
  if (b->used > b->peak)
    b->peak = b->used;
}

int
mb_budget_try_charge (MbBudget * b, uint64_t bytes)
{
  int ok;

  pthread_mutex_lock (&b->lock);
  ok = b->limit == 0 || b->used == 0 ||
      (b->used <= b->limit && bytes <= b->limit - b->used);
  if (ok)
    charge_locked (b, bytes);
  pthread_mutex_unlock (&b->lock);
  return ok;
}

void
mb_budget_charge (MbBudget * b, uint64_t bytes)
{
  pthread_mutex_lock (&b->lock);
  charge_locked (b, bytes);
  pthread_mutex_unlock (&b->lock);
}

void
mb_budget_release (MbBudget * b, uint64_t bytes)
{
  pthread_mutex_lock (&b->lock);
  b->used = bytes > b->used ? 0 : b->used - bytes;
  notify_locked (b);
  pthread_mutex_unlock (&b->lock);
}

unsigned
mb_budget_add_listener (MbBudget * b, MbBudgetNotify notify, void *user_data)
{
  unsigned id = 0;

  pthread_mutex_lock (&b->lock);
  if (b->n_listeners < MAX_LISTENERS) {
    id = b->next_id++;
    b->listeners[b->n_listeners].id = id;
    b->listeners[b->n_listeners].notify = notify;
    b->listeners[b->n_listeners].user_data = user_data;
    b->n_listeners++;
  }
  pthread_mutex_unlock (&b->lock);
  return id;
}

void
mb_budget_remove_listener (MbBudget * b, unsigned id)
{
  unsigned i;

  pthread_mutex_lock (&b->lock);
  for (i = 0; i < b->n_listeners; i++) {
    if (b->listeners[i].id == id) {
      memmove (&b->listeners[i], &b->listeners[i + 1],
          (b->n_listeners - i - 1) * sizeof (Listener));
      b->n_listeners--;
      break;
    }
  }
  pthread_mutex_unlock (&b->lock);
}

unsigned
mb_budget_registry_size (void)
{
  unsigned n = 0;
  MbBudget *b;

  pthread_mutex_lock (&registry_lock);
  for (b = registry; b; b = b->next)
    n++;
  pthread_mutex_unlock (&registry_lock);
  return n;
}
