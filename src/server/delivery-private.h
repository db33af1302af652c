/*
 * delivery-private.h - what the delivery manager (delivery.c: threads, scheduling, retries,
 * failover) shares with one delivery attempt (delivery-job.c: the job's data to one printer,
 * and the job's state moves). No other file includes it.
 */
#ifndef PP_DELIVERY_PRIVATE_H
#define PP_DELIVERY_PRIVATE_H

#include "core/printers.h"
#include "output/deliver.h"
#include "server/delivery.h"

#include <stdbool.h>
#include <stdint.h>

#define DELIVERY_TRIED_MAX 64 /* printers one job tries (its own and its group's) */

/* One released job the manager knows. Guarded by the manager's lock, except as noted. */
typedef struct delivery_task {
	int64_t job_id;
	int64_t printer_id;  /* the printer it goes to now */
	char group[PRINTERS_NAME_MAX]; /* failover group of the first printer; "" = none */
	int64_t tried[DELIVERY_TRIED_MAX]; /* printers tried, the current one included */
	size_t n_tried;
	unsigned attempt;      /* retries made on printer_id */
	int64_t not_before_ms; /* monotonic: not before this (a retry pause) */
	bool is_running;       /* a thread is sending it */
	bool is_seen;          /* the manager's poll found the job releasing or printing */
	/* Owned by the thread running the task while is_running (no lock needed): */
	bool is_printing;               /* the job moved to printing */
	int64_t print_ready_printer_id; /* the pool rendered "print" for this printer */
	char names[256];                /* names of the printers tried, for the user's reason */
	volatile int cancel; /* set by the manager (job canceled, server stopping) */
	struct delivery_task *next;
} delivery_task_t;

/* What one attempt came to. */
typedef struct {
	pp_deliver_outcome_t outcome;
	char message[DELIVER_MESSAGE_MAX]; /* for the reason and the log */
	char printer_name[PRINTERS_NAME_MAX];
	bool is_lost; /* the job left releasing/printing meanwhile (canceled, another host) */
} delivery_result_t;

/*
 * Sends task's job to task->printer_id once: print data (the kept PDF, or the pool's
 * rendering), the move to printing when data first flows, deliver_send(), and on DONE the
 * move to completed with the pages printed. Every other outcome is left to the caller.
 * Runs on a manager thread without the manager's lock.
 */
void delivery_attempt(pp_core_t *core, const pp_delivery_config_t *config, delivery_task_t *task,
                      delivery_result_t *result_r);

/*
 * Moves the job back to held: from printing or releasing (task->is_printing says which) to
 * failed (retryable, with reason) and on to held, where its owner sees reason. Returns 0,
 * or -1 (logged) when the job was no longer there to move.
 */
int delivery_hold_again(pp_core_t *core, delivery_task_t *task, const char *reason);

/*
 * Points the job at printer_id for a failover (a guarded update of jobs.printer_id while the
 * job is releasing or printing: not a state change). Returns 0, JOB_STATE_LOST or -1.
 */
int delivery_set_printer(pp_core_t *core, int64_t job_id, int64_t printer_id, char *error,
                         size_t error_size);

#endif
