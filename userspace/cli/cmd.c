// SPDX-License-Identifier: GPL-2.0-only
/* Command dispatch and option parsing shared by every command. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "irc.h"

int irc_cmd_dispatch(const char *object, const struct irc_cmd *cmds,
		     int argc, char **argv)
{
	const struct irc_cmd *c;
	char names[256] = "";

	if (argc >= 1 && argv[0]) {
		for (c = cmds; c->name; c++)
			if (!strcmp(c->name, argv[0])) {
				optind = 0;	/* fresh getopt state per command */
				return c->fn(argc, argv);
			}
	}
	for (c = cmds; c->name; c++) {
		strncat(names, c->name, sizeof(names) - strlen(names) - 1);
		if (c[1].name)
			strncat(names, ", ", sizeof(names) - strlen(names) - 1);
	}
	/* The top level passes no object name: no "ircontain: ircontain:". */
	if (argc < 1 || !argv[0])
		return irc_usage_err("%s%smissing command (one of: %s)",
				     object ?: "", object ? ": " : "", names);
	return irc_usage_err("%s%sunknown command '%s' (one of: %s)",
			     object ?: "", object ? ": " : "", argv[0], names);
}

static int getopt_any(int argc, char **argv, const char *shorts, const struct option *lo,
		      const char *what)
{
	int c;

	opterr = 0;
	c = getopt_long(argc, argv, shorts, lo, NULL);
	if (c == '?') {
		irc_usage_err("%s: unknown option '%s'", what, argv[optind - 1]);
		return IRC_OPT_BAD;
	}
	if (c == ':') {
		irc_usage_err("%s: option '%s' needs a value", what,
			      argv[optind - 1]);
		return IRC_OPT_BAD;
	}
	return c;
}

int irc_getopt(int argc, char **argv, const struct option *lo,
	       const char *what)
{
	return getopt_any(argc, argv, ":", lo, what);
}

int irc_opts_getopt(int argc, char **argv, const struct irc_opt *t, const char *what)
{
	struct option lo[IRC_OPTS_MAX + 1] = { 0 };
	char shorts[2 * IRC_OPTS_MAX + 2] = ":";
	size_t i, n = 1;

	for (i = 0; i < IRC_OPTS_MAX && t[i].name; i++) {
		lo[i] = (struct option){ t[i].name, t[i].value ? required_argument : no_argument,
					 NULL, t[i].key };
		if (t[i].flags & IRC_OPT_SHORT) {
			shorts[n++] = t[i].key;
			if (t[i].value)
				shorts[n++] = ':';
		}
	}
	shorts[n] = '\0';
	return getopt_any(argc, argv, shorts, lo, what);
}

/* Appends the options that go with @with (0: the top level) to @buf at @n. */
static size_t opts_usage(const struct irc_opt *t, int with, char *buf, size_t n, size_t len)
{
	size_t i;

	for (i = 0; t[i].name && n < len; i++) {
		bool req = t[i].flags & IRC_OPT_REQUIRED, rep = t[i].flags & IRC_OPT_REPEAT;

		if (t[i].with != with)
			continue;
		n += snprintf(buf + n, len - n, " %s--%s%s%s%s", req ? "" : "[", t[i].name,
			      t[i].value ? " " : "", t[i].value ?: "", rep && !req ? " ..." : "");
		if (n < len)
			n = opts_usage(t, t[i].key, buf, n, len);
		if (n < len)
			n += snprintf(buf + n, len - n, "%s%s%s%s", req ? "" : "]",
				      rep && req ? " [--" : "", rep && req ? t[i].name : "",
				      rep && req ? " ...]" : "");
	}
	return n;
}

const char *irc_opts_usage(const struct irc_opt *t, const char *cmd, const char *head,
			   char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "%s%s%s", cmd, head ? " " : "", head ?: "");

	opts_usage(t, 0, buf, n, len);
	return buf;
}

char **irc_operands(int argc, char **argv, int n, const char *what,
		    const char *usage)
{
	if (argc - optind != n) {
		if (argc - optind > n)
			irc_usage_err("%s: unexpected argument '%s' (usage: %s)",
				      what, argv[optind + n], usage);
		else
			irc_usage_err("%s: missing argument (usage: %s)", what,
				      usage);
		return NULL;
	}
	return argv + optind;
}

char **irc_args(int argc, char **argv, int n, const char *what, const char *usage)
{
	static const struct option none[] = { { 0 } };

	if (irc_getopt(argc, argv, none, what) != -1)
		return NULL;
	return irc_operands(argc, argv, n, what, usage);
}
