/* fault.c - crash points for fault-injection tests; see fault.h. */
#include "lib/fault.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fault_point(const char *name)
{
	const char *wanted = getenv("PP_FAULT_POINT");
	if (wanted != NULL && strcmp(wanted, name) == 0)
		_exit(FAULT_EXIT_CODE);
}
