/*
 * worker-protocol.h - the messages between pullprintd's conversion pool and a local
 * pullprint-convert worker, over one SOCK_SEQPACKET socketpair (the worker's end is given
 * as --fd N). One message per packet, ASCII text, at most WORKER_MESSAGE_MAX bytes, fields
 * separated by one space; the reason is the rest of the packet (UTF-8, no newline).
 *
 *   worker -> server   "ready <pid>"                 once, when loaded (LibreOffice warm)
 *   server -> worker   "convert <job_id>"            the server has claimed the job
 *                                                    (convert_queue_claim) for this worker
 *   server -> worker   "pages <job_id> <first> <last>"  render thumb:N and preview:N of
 *                                                    these pages (on demand, held jobs)
 *   server -> worker   "print <job_id> <printer_id> <format>"  render the job's kept PDF
 *                                                    for that printer (format: pdf, pwg, urf,
 *                                                    ps, pcl5, pcl6; the job's options and the
 *                                                    printer's capabilities) and store it as
 *                                                    the job's "print" document (on release)
 *   worker -> server   "progress <job_id> <percent>" optional, while working
 *   worker -> server   "done <job_id> ok"
 *   worker -> server   "done <job_id> failed <reason>"
 *
 * The worker records every outcome in the database itself (convert-queue.h) before it says
 * done; the server only learns that the worker is free (and, for "print", whether the print
 * data is stored: a failed print leaves the job as it was, with no state change). When the socket closes or the
 * worker exits while it holds a job, the server calls convert_queue_abandon() for it and
 * starts a new worker. A malformed packet from either side is logged and the sender treated
 * as broken (the worker exits; the server restarts the worker).
 */
#ifndef PP_WORKER_PROTOCOL_H
#define PP_WORKER_PROTOCOL_H

#define WORKER_MESSAGE_MAX 1024

#endif
