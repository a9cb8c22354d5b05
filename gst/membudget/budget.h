/* membound: process-wide named byte budgets (plain C, no GStreamer types).
 *
 * A budget is a named byte counter with a limit. Every user that acquires
 * the same name gets the same budget, so several elements can share one
 * limit. Charges and releases are thread-safe. A budget lives as long as
 * somebody holds a reference; the registry forgets it after the last unref.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __MB_BUDGET_H__
#define __MB_BUDGET_H__

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct MbBudget MbBudget;

/* Called after bytes were released or the limit changed. Runs with the
 * budget's internal lock held: it must not block, take locks that are held
 * around a charge, or call back into the budget (waking a condition
 * variable is fine). */
typedef void (*MbBudgetNotify) (void *user_data);

/* Returns the budget called @name, creating it (unlimited, empty) if needed.
 * Returns NULL when @name is NULL or empty. Unref with mb_budget_unref(). */
MbBudget *mb_budget_acquire (const char *name);
MbBudget *mb_budget_ref (MbBudget * b);
void mb_budget_unref (MbBudget * b);

const char *mb_budget_get_name (const MbBudget * b);

/* 0 = unlimited. */
void mb_budget_set_limit (MbBudget * b, uint64_t limit);
uint64_t mb_budget_get_limit (MbBudget * b);
uint64_t mb_budget_get_used (MbBudget * b);
uint64_t mb_budget_get_peak (MbBudget * b);
/* Number of live references (members). */
unsigned mb_budget_get_members (MbBudget * b);

/* Charges @bytes if they fit: used + bytes <= limit, or no limit, or the
 * budget is empty (so one charge larger than the limit never deadlocks).
 * Returns 1 when charged, 0 when it would not fit. */
int mb_budget_try_charge (MbBudget * b, uint64_t bytes);
/* Charges unconditionally. */
void mb_budget_charge (MbBudget * b, uint64_t bytes);
/* Releases @bytes (clamped at 0) and runs the listeners. */
void mb_budget_release (MbBudget * b, uint64_t bytes);

/* Listeners run on every release and limit change. Returns an id > 0. */
unsigned mb_budget_add_listener (MbBudget * b, MbBudgetNotify notify,
    void *user_data);
/* After this returns the listener is not running and never runs again. */
void mb_budget_remove_listener (MbBudget * b, unsigned id);

/* Number of budgets currently registered (for tests). */
unsigned mb_budget_registry_size (void);

#ifdef __cplusplus
}
#endif
#endif /* __MB_BUDGET_H__ */
