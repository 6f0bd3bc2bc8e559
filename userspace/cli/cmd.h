/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Command tables, bpftool-style: `ircontain OBJECT VERB ARGS`.  Each
 * do_<object>() lives in cmd_<object>.c and returns an IRC_EXIT_* code.
 */
#ifndef IRC_CMD_H
#define IRC_CMD_H

#include <getopt.h>
#include <stdbool.h>

struct irc_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the verb */
};

/* Runs the entry of @cmds named argv[0]; @object is NULL at the top. */
int irc_cmd_dispatch(const char *object, const struct irc_cmd *cmds,
		     int argc, char **argv);

/*
 * getopt_long() over a command's own options (argv[0] is the verb).
 * Returns the option, -1 when done, or IRC_OPT_BAD after printing which
 * option was unknown or lacked its value.
 */
#define IRC_OPT_BAD	(-2)
int irc_getopt(int argc, char **argv, const struct option *lo,
	       const char *what);

/*
 * After irc_getopt(): checks that exactly @n operands remain and returns
 * a pointer to them, or NULL after printing "@what: usage: @usage".
 */
char **irc_operands(int argc, char **argv, int n, const char *what,
		    const char *usage);

/*
 * A command's options described once (xdp-tools' DEFINE_OPTION): the
 * getopt table and the usage line both come from it.  Ends with { 0 }.
 */
#define IRC_OPT_REQUIRED	1u	/* shown without brackets */
#define IRC_OPT_REPEAT		2u	/* may be given again: "..." */
#define IRC_OPT_SHORT		4u	/* also -KEY (-o FILE) */
struct irc_opt {
	const char *name;
	int key;		/* what irc_opts_getopt() returns for it */
	const char *value;	/* its value's name ("FILE"); NULL: takes none */
	unsigned int flags;	/* IRC_OPT_* */
	int with;		/* the key of the option it goes with; 0: none */
};
#define IRC_OPTS_MAX	16

/* irc_getopt() over @t. */
int irc_opts_getopt(int argc, char **argv, const struct irc_opt *t, const char *what);
/*
 * The usage line, in @buf: @cmd, @head (the operands; NULL for none), then
 * each option, "[--name VALUE]" (--name VALUE when required; repeatable:
 * "[--name VALUE ...]", or "--name VALUE [--name ...]" when required).  An
 * option that goes .with another is shown inside that one's brackets:
 * "[--emergency [--iface PATTERN ...]]".
 */
const char *irc_opts_usage(const struct irc_opt *t, const char *cmd, const char *head,
			   char *buf, size_t len);

/* For a verb that takes no options: irc_getopt() and irc_operands() in one. */
char **irc_args(int argc, char **argv, int n, const char *what, const char *usage);

/* quarantine/release host --from-file (cmd_bulk.c). */
bool irc_bulk_wanted(int argc, char **argv);
int irc_bulk_host(int argc, char **argv, bool release);

int do_load(int argc, char **argv);
int do_unload(int argc, char **argv);
int do_status(int argc, char **argv);
int do_quarantine(int argc, char **argv);
int do_release(int argc, char **argv);
int do_list(int argc, char **argv);
int do_allow(int argc, char **argv);
int do_isolate(int argc, char **argv);
int do_run(int argc, char **argv);
int do_events(int argc, char **argv);
int do_policy(int argc, char **argv);
int do_incident(int argc, char **argv);
int do_export(int argc, char **argv);
int do_verify(int argc, char **argv);
int do_fleet(int argc, char **argv);	/* fleet/cmd_fleet.c */

#endif /* IRC_CMD_H */
