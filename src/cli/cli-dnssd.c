/*
 * cli-dnssd.c - `pullprint dns-sd-records`: the unicast DNS-SD records (PTR, SRV, TXT and
 * the browse-domain PTRs) an administrator adds to the company DNS so that phones and
 * laptops on other subnets and VLANs find the IPP service without multicast. The TXT record
 * is the one the server advertises by multicast (dnssd_txt_build).
 */
#include "cli/cli.h"

#include "ipp/ipp-dnssd.h"
#include "lib/str.h"

#include <string.h>
#include <unistd.h>

static int dnssd_usage(pp_cli_t *cli, FILE *out)
{
	fprintf(out,
		"usage: pullprint dns-sd-records [--domain DOMAIN] [--host HOST] [--port N] "
		"[--name NAME]\n\n"
		"Prints zone-file records for unicast DNS-SD (wide-area Bonjour). Add them to the\n"
		"zone of DOMAIN; then clients whose search domain is DOMAIN list the printer.\n"
		"  --domain  the DNS zone (default: HOST without its first label)\n"
		"  --host    the server's DNS name, the SRV target (default: from public_url,\n"
		"            else this machine's host name)\n"
		"  --port    the HTTPS port clients connect to (default: from public_url, else\n"
		"            [http] https_port)\n"
		"  --name    the printer's name as clients show it (default: Pullprint)\n");
	return out == cli->out ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cli_dns_sd_records(pp_cli_t *cli, int argc, char **argv)
{
	const char *domain = NULL, *host = NULL, *port_text = NULL, *name = "Pullprint";
	for (int i = 1; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--help") == 0)
			return dnssd_usage(cli, cli->out);
		else if (strcmp(argv[i], "--domain") == 0)
			slot = &domain;
		else if (strcmp(argv[i], "--host") == 0)
			slot = &host;
		else if (strcmp(argv[i], "--port") == 0)
			slot = &port_text;
		else if (strcmp(argv[i], "--name") == 0)
			slot = &name;
		if (slot == NULL || i + 1 >= argc) {
			cli_error(cli, "dns-sd-records: unknown or incomplete argument %s", argv[i]);
			return dnssd_usage(cli, cli->err);
		}
		*slot = argv[++i];
	}
	int rc = cli_open(cli);
	if (rc != CLI_EXIT_OK)
		return rc;
	const pp_config_t *cfg = &cli->rt.config;

	/* Host and port: the options, else the public URL, else this machine and its port. */
	char url_host[256] = "";
	unsigned port = cfg->https_port;
	if (!cli_public_address(cli, url_host, sizeof(url_host), &port)) {
		if (gethostname(url_host, sizeof(url_host)) < 0)
			url_host[0] = '\0';
		url_host[sizeof(url_host) - 1] = '\0';
		port = cfg->https_port;
	}
	if (host == NULL)
		host = url_host;
	if (port_text != NULL) {
		uint64_t value;
		if (!parse_uint64_full(port_text, 65535, &value) || value == 0) {
			cli_error(cli, "dns-sd-records: --port wants a number from 1 to 65535");
			return CLI_EXIT_USAGE;
		}
		port = (unsigned)value;
	}
	if (domain == NULL) {
		const char *dot = strchr(host, '.');
		if (dot == NULL || dot[1] == '\0') {
			cli_error(cli, "dns-sd-records: %s has no domain part: give --domain (and "
				       "--host with the server's full DNS name)",
				  host[0] != '\0' ? host : "the host name");
			return CLI_EXIT_USAGE;
		}
		domain = dot + 1;
	}

	/* adminurl: the public URL, as the server advertises it. */
	char admin_url[CONFIG_URL_MAX];
	if (!(cfg->public_url[0] != '\0' ? str_copy(admin_url, sizeof(admin_url), cfg->public_url)
					 : str_format(admin_url, sizeof(admin_url), "https://%s:%u/",
						      host, port))) {
		cli_error(cli, "dns-sd-records: the host name is too long");
		return CLI_EXIT_USAGE;
	}
	char error[512];
	pp_dnssd_txt_t txt;
	if (dnssd_txt_build(&cli->rt.core, admin_url, true, &txt, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return CLI_EXIT_FAILED;
	}
	pp_dnssd_zone_t zone = {.domain = domain, .host = host, .port = (uint16_t)port, .name = name};
	if (dnssd_zone_write(&zone, &txt, cli->out, error, sizeof(error)) < 0) {
		cli_error(cli, "%s", error);
		return strstr(error, "cannot write") != NULL ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}
