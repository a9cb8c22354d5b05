/* Unit tests of budget.c: sharing by name, try-charge semantics, peaks,
 * listeners, registry lifetime, and concurrent charge/release.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <pthread.h>
#include <string.h>

#include "budget.h"
#include "unit.h"

static int notified;

static void
on_change (void *data)
{
  (void) data;
  __atomic_add_fetch (&notified, 1, __ATOMIC_SEQ_CST);
}

static void
test_basic (void)
{
  MbBudget *a = mb_budget_acquire ("cams");
  MbBudget *b = mb_budget_acquire ("cams");
  MbBudget *c = mb_budget_acquire ("audio");
  unsigned id;

  CHECK (mb_budget_acquire (NULL) == NULL);
  CHECK (mb_budget_acquire ("") == NULL);
  CHECK (a != NULL && a == b);
  CHECK (c != NULL && c != a);
  CHECK_STR (mb_budget_get_name (a), "cams");
  CHECK_U64 (mb_budget_get_members (a), 2);
  CHECK_U64 (mb_budget_registry_size (), 2);

  /* unlimited: everything fits */
  CHECK (mb_budget_try_charge (a, 1000000));
  mb_budget_release (a, 1000000);

  mb_budget_set_limit (b, 100);
  CHECK_U64 (mb_budget_get_limit (a), 100);
  CHECK (mb_budget_try_charge (a, 60));
  CHECK (mb_budget_try_charge (b, 40));
  CHECK_U64 (mb_budget_get_used (a), 100);
  CHECK (!mb_budget_try_charge (b, 1));
  CHECK_U64 (mb_budget_get_used (a), 100);
  mb_budget_release (a, 60);
  CHECK (!mb_budget_try_charge (b, 61));
  CHECK (mb_budget_try_charge (b, 60));
  CHECK_U64 (mb_budget_get_peak (a), 1000000);      /* the unlimited charge */
  mb_budget_release (a, 100);
  CHECK_U64 (mb_budget_get_used (a), 0);
  /* an empty budget takes one oversized charge (never deadlock) */
  CHECK (mb_budget_try_charge (a, 500));
  CHECK (!mb_budget_try_charge (a, 1));
  mb_budget_release (a, 500);
  /* releases clamp at 0 */
  mb_budget_release (a, 5);
  CHECK_U64 (mb_budget_get_used (a), 0);
  /* other budgets are independent */
  CHECK (mb_budget_try_charge (c, 1000));
  CHECK_U64 (mb_budget_get_used (a), 0);
  mb_budget_charge (a, 1000);   /* unconditional */
  CHECK_U64 (mb_budget_get_used (a), 1000);
  mb_budget_release (a, 1000);

  notified = 0;
  id = mb_budget_add_listener (a, on_change, NULL);
  CHECK (id > 0);
  mb_budget_charge (a, 10);
  CHECK (notified == 0);
  mb_budget_release (a, 10);
  CHECK (notified == 1);
  mb_budget_set_limit (a, 200);
  CHECK (notified == 2);
  mb_budget_remove_listener (a, id);
  mb_budget_release (a, 0);
  CHECK (notified == 2);

  mb_budget_unref (b);
  CHECK_U64 (mb_budget_get_members (a), 1);
  mb_budget_unref (a);
  mb_budget_unref (c);
  CHECK_U64 (mb_budget_registry_size (), 0);
  /* a new budget of the same name starts fresh */
  a = mb_budget_acquire ("cams");
  CHECK_U64 (mb_budget_get_limit (a), 0);
  CHECK_U64 (mb_budget_get_used (a), 0);
  mb_budget_unref (a);
}

#define THREADS 4
#define ROUNDS 20000

static void *
worker (void *data)
{
  MbBudget *b = mb_budget_acquire ("stress");
  int i, charged = 0;

  (void) data;
  for (i = 0; i < ROUNDS; i++) {
    if (mb_budget_try_charge (b, 7)) {
      charged++;
      if (mb_budget_get_used (b) > 700 + 7)
        __atomic_add_fetch (&notified, 1000000, __ATOMIC_SEQ_CST);
      mb_budget_release (b, 7);
    }
  }
  mb_budget_unref (b);
  return (void *) (long) charged;
}

static void
test_threads (void)
{
  pthread_t th[THREADS];
  MbBudget *b = mb_budget_acquire ("stress");
  long total = 0;
  int i;

  mb_budget_set_limit (b, 700);
  notified = 0;
  for (i = 0; i < THREADS; i++)
    pthread_create (&th[i], NULL, worker, NULL);
  for (i = 0; i < THREADS; i++) {
    void *r;
    pthread_join (th[i], &r);
    total += (long) r;
  }
  CHECK (total > 0);
  CHECK_U64 (mb_budget_get_used (b), 0);
  CHECK (mb_budget_get_peak (b) <= 700);
  CHECK (notified < 1000000);
  mb_budget_unref (b);
  CHECK_U64 (mb_budget_registry_size (), 0);
}

int
main (void)
{
  test_basic ();
  test_threads ();
  return unit_summary ();
}
