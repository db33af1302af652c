/*
 * pullprint - the administration command line (users, printers, jobs, settings, export).
 */
#include "cli/cli.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	return cli_main(argc, argv, stdout, stderr);
}
