// SPDX-License-Identifier: GPL-2.0-only
/*
 * ircontain: kernel-assisted incident containment.
 *
 *   ircontain [GLOBAL OPTIONS] COMMAND [ARGS]
 *
 * Global options may stand anywhere before "--"; they are taken out of
 * argv before the command table sees it, so `list --json` and
 * `--json list` are the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "ircontain/abi.h"
#include "cmd.h"
#include "fleet.h"
#include "irc.h"
#include "loader.h"
#include "store.h"

#define DEFAULT_STATE_DIR	"/var/lib/ircontain"

static const char usage_text[] =
"usage: ircontain [GLOBAL OPTIONS] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  load --iface IF|PATTERN[,...] [--iface ...] [--xdp-mode auto|native|generic]\n"
"       [--ring-size BYTES] [--fail-open]\n"
"  unload [--emergency [--iface PATTERN ...]]\n"
"  status\n"
"  quarantine host ADDR[/PREFIX] [--ttl DURATION] [--reason TEXT]\n"
"                  [--direction in|out|both] [--force] [--incident ID]\n"
"  quarantine host --from-file FILE|- [--skip-bad] [same options]\n"
"  quarantine pid PID [--no-children] [--action deny|stop|kill] [--ttl DURATION]\n"
"                 [--reason TEXT] [--force] [--incident ID]\n"
"  quarantine cgroup PATH [--ttl DURATION] [--reason TEXT] [--force]\n"
"                    [--incident ID]\n"
"  release host ADDR[/PREFIX] [--reason TEXT] [--incident ID]\n"
"  release host --from-file FILE|- [--skip-bad] [--reason TEXT] [--incident ID]\n"
"  release pid PID [--reason TEXT] [--incident ID]\n"
"  release cgroup PATH [--reason TEXT] [--incident ID]\n"
"  release --all [--reason TEXT] [--incident ID]\n"
"  list\n"
"  allow add|del ADDR[/PREFIX]\n"
"  allow list\n"
"  isolate on [--allow CIDR ...] [--allow-dns] [--allow-dhcp] [--force]\n"
"             [--reason TEXT] [--incident ID]\n"
"  isolate off [--reason TEXT] [--incident ID]\n"
"  isolate status\n"
"  run [--iface IF|PATTERN[,...] ...] [--policy FILE] [--events-file FILE|-]\n"
"      [--store-events all|related] [--store-max-size SIZE|off]\n"
"      [--store-max-age AGE|off] [--metrics ADDR:PORT]\n"
"  events [--follow] [--since DURATION] [--type TYPE] [--pid PID] [--file FILE]\n"
"  policy check FILE\n"
"  policy apply FILE\n"
"  incident list [--status STATE]\n"
"  incident show ID\n"
"  incident open --title TEXT --severity low|medium|high|critical\n"
"  incident note ID TEXT\n"
"  incident status ID STATE\n"
"  incident close ID --summary TEXT\n"
"  export ID --output FILE.tar.gz [--force] [--new-key]\n"
"  verify [FILE.tar.gz] [--pubkey HEX] [--accept-rollback]\n"
"  fleet quarantine host ADDR[/PREFIX] [--group G] [--ttl DURATION]\n"
"                        [--reason TEXT] [--direction in|out|both]\n"
"  fleet release host ADDR[/PREFIX] [--group G] [--reason TEXT]\n"
"  fleet isolate on --group G [--allow CIDR]... [--allow-dns] [--allow-dhcp]\n"
"                        [--reason TEXT]\n"
"  fleet isolate off --group G [--reason TEXT]\n"
"  fleet allow add|del ADDR[/PREFIX] [--group G] [--reason TEXT]\n"
"  fleet policy apply FILE [--group G] [--reason TEXT]\n"
"  fleet list\n"
"  fleet status\n"
"  fleet key\n"
"  fleet trust add|del PUBKEY_HEX\n"
"  fleet trust list\n"
"  help\n"
"  version\n"
"\n"
"global options:\n"
"  -j, --json             machine-readable output, one JSON object per line\n"
"      --pin-dir DIR      bpffs pin dir (env IRCONTAIN_PIN_DIR, default " IRC_DEFAULT_PIN_DIR ")\n"
"      --state-dir DIR    state dir (env IRCONTAIN_STATE_DIR, default " DEFAULT_STATE_DIR ")\n"
"      --cgroup-root DIR  cgroup v2 directory the process hooks attach to\n"
"      --fleet URL[,URL...]  etcd endpoints of the fleet (env IRCONTAIN_FLEET)\n"
"      --fleet-prefix P   etcd key prefix of the fleet (default " IRC_FLEET_PREFIX ")\n"
"      --fleet-name NAME  this agent's name (default the hostname)\n"
"      --fleet-group G    a group this host belongs to (repeatable)\n"
"      --fleet-cert FILE, --fleet-key FILE, --fleet-ca FILE\n"
"                         TLS to etcd: client certificate, its key, the CA\n"
"  -v, --verbose          more detail; twice shows libbpf's debug log\n"
"  -h, --help             this text\n"
"  -V, --version          version\n"
"\n"
"Durations: 90, 90s, 15m, 2h, 7d, 1w or sums such as 1h30m.\n"
"Exit status: 0 done, 1 failed, 2 bad usage or bad value (nothing changed),\n"
"3 status, fleet status: loaded but degraded (a part is not attached).\n"
"See ircontain(8).\n";

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return IRC_EXIT_OK;
}

static json_t *version_json(void)
{
	return json_pack("{s:s}", "version", IRC_VERSION);
}

static void version_text(void)
{
	printf("ircontain %s\n", IRC_VERSION);
}

static int do_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	irc.json ? irc_json_print(version_json()) : version_text();
	return IRC_EXIT_OK;
}

static const struct irc_cmd commands[] = {
	{ "load", do_load },
	{ "unload", do_unload },
	{ "status", do_status },
	{ "quarantine", do_quarantine },
	{ "release", do_release },
	{ "list", do_list },
	{ "allow", do_allow },
	{ "isolate", do_isolate },
	{ "run", do_run },
	{ "events", do_events },
	{ "policy", do_policy },
	{ "incident", do_incident },
	{ "export", do_export },
	{ "verify", do_verify },
	{ "fleet", do_fleet },
	{ "help", do_help },
	{ "version", do_version },
	{ 0 }
};

/* Value of a "--name VALUE" or "--name=VALUE" at argv[*i]; NULL if not it. */
static const char *take_value(int argc, char **argv, int *i, const char *name,
			      int *bad)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

/*
 * Takes the global options out of argv, compacting the rest in place.
 * Returns the new argc, or -1 after a usage error.
 */
static int take_globals(int argc, char **argv, int *help, int *version)
{
	int i, out = 1, bad = 0;
	const char *v;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--json") || !strcmp(a, "-j"))
			irc.json = true;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			irc.verbose++;
		else if (!strcmp(a, "-vv"))
			irc.verbose += 2;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			*help = 1;
		else if (!strcmp(a, "-V") || !strcmp(a, "--version"))
			*version = 1;
		else if ((v = take_value(argc, argv, &i, "--pin-dir", &bad)))
			irc.pin_dir = v;
		else if ((v = take_value(argc, argv, &i, "--state-dir", &bad)))
			irc.state_dir = v;
		else if ((v = take_value(argc, argv, &i, "--cgroup-root", &bad)))
			irc.cgroup_root = v;
		else if (bad)
			break;
		else if ((v = take_value(argc, argv, &i, "--fleet", &bad)))
			irc_fleet.urls = v;
		else if ((v = take_value(argc, argv, &i, "--fleet-prefix", &bad)))
			irc_fleet.prefix = v;
		else if ((v = take_value(argc, argv, &i, "--fleet-name", &bad)))
			irc_fleet.name = v;
		else if ((v = take_value(argc, argv, &i, "--fleet-cert", &bad)))
			irc_fleet.cert = v;
		else if ((v = take_value(argc, argv, &i, "--fleet-key", &bad)))
			irc_fleet.key = v;
		else if ((v = take_value(argc, argv, &i, "--fleet-ca", &bad)))
			irc_fleet.ca = v;
		else if ((v = take_value(argc, argv, &i, "--fleet-group", &bad))) {
			if (irc_fleet.ngroups == IRC_FLEET_MAX_GROUPS) {
				irc_usage_err("bad --fleet-group '%s': more than %d groups",
					      irc_shown(v), IRC_FLEET_MAX_GROUPS);
				return -1;
			}
			irc_fleet.groups[irc_fleet.ngroups++] = v;
		}
		else
			argv[out++] = a;
		if (bad)
			break;
	}
	if (bad) {
		irc_usage_err("option '%s' needs a value", argv[i]);
		return -1;
	}
	argv[out] = NULL;
	return out;
}

static int check_dir_option(const char *name, const char *v)
{
	if (!v || v[0] != '/')
		return irc_usage_err("bad %s '%s': must be an absolute path",
				     name, v ? v : "");
	if (strlen(v) > 200)
		return irc_usage_err("bad %s '%s': longer than 200 characters", name, v);
	return 0;
}

int main(int argc, char **argv)
{
	int help = 0, version = 0, ret;

	irc.pin_dir = getenv("IRCONTAIN_PIN_DIR") ?: IRC_DEFAULT_PIN_DIR;
	irc.state_dir = getenv("IRCONTAIN_STATE_DIR") ?: DEFAULT_STATE_DIR;

	argc = take_globals(argc, argv, &help, &version);
	if (argc < 0)
		return IRC_EXIT_USAGE;
	if (check_dir_option("--pin-dir", irc.pin_dir) ||
	    check_dir_option("--state-dir", irc.state_dir) ||
	    (irc.cgroup_root && check_dir_option("--cgroup-root", irc.cgroup_root)) ||
	    irc_fleet_check_globals())
		return IRC_EXIT_USAGE;
	irc_libbpf_log_setup();

	if (version)
		return do_version(0, NULL);
	if (help)
		return do_help(0, NULL);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return IRC_EXIT_USAGE;
	}
	ret = irc_cmd_dispatch(NULL, commands, argc - 1, argv + 1);
	/* Stored, but the anchor did not follow: said already, and not a success. */
	if (ret == IRC_EXIT_OK && irc_store_anchor_failed())
		ret = IRC_EXIT_FAIL;
	return ret;
}
