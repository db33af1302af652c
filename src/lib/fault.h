/*
 * fault.h - named crash points for fault-injection tests.
 *
 * fault_point("spool.after_rename") ends the process with _exit(FAULT_EXIT_CODE) when the
 * environment variable PP_FAULT_POINT equals that name, as a power cut or kill -9 would at
 * that step. Tests run a child with each name in turn and check that a restart recovers.
 * Inert (one cached getenv) when the variable is unset.
 */
#ifndef PP_FAULT_H
#define PP_FAULT_H

#define FAULT_EXIT_CODE 86

void fault_point(const char *name);

#endif
