// SPDX-License-Identifier: GPL-2.0-only
/*
 * events: read what the controller wrote, filtered; --follow keeps
 * reading as it grows.  The file is the daemon's events file (JSON lines).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "evjson.h"
#include "irc.h"
#include "parse.h"
#include "policy.h"

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

struct filter {
	int64_t since_ns;	/* CLOCK_REALTIME, 0 = all */
	const char *action;	/* event.action, NULL = all */
	long pid;		/* process.pid, 0 = all */
};

/* "2026-11-30T03:00:00.123Z" -> ns; -1 if unparsable. */
static int64_t parse_ts(const char *s)
{
	struct tm tm = {};
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	int64_t ns;

	if (!rest)
		return -1;
	ns = (int64_t)timegm(&tm) * 1000000000LL;
	if (*rest == '.')
		ns += strtol(rest + 1, NULL, 10) * 1000000LL;
	return ns;
}

static bool keep(const struct filter *f, json_t *o)
{
	json_t *ev = json_object_get(o, "event");
	json_t *proc = json_object_get(o, "process");

	if (f->action && (!ev || !json_is_string(json_object_get(ev, "action")) ||
			  strcmp(json_string_value(json_object_get(ev, "action")), f->action)))
		return false;
	if (f->pid && (!proc || json_integer_value(json_object_get(proc, "pid")) != f->pid))
		return false;
	if (f->since_ns &&
	    parse_ts(json_string_value(json_object_get(o, "@timestamp"))) < f->since_ns)
		return false;
	return true;
}

static void print_text(json_t *o)
{
	const char *ts = json_string_value(json_object_get(o, "@timestamp"));
	const char *act = json_string_value(json_object_get(json_object_get(o, "event"), "action"));
	const char *msg = json_string_value(json_object_get(o, "message"));

	printf("%-24s %-15s %s\n", ts ?: "-", act ?: "-", msg ?: "");
}

/* Prints the lines of @f that pass; returns how many. */
static long drain(FILE *f, const struct filter *flt, char **line, size_t *cap)
{
	long n = 0;
	ssize_t len;

	while ((len = getline(line, cap, f)) > 0) {
		json_t *o;

		if ((*line)[len - 1] != '\n') {
			/* A line still being written: read it whole next time. */
			fseek(f, -len, SEEK_CUR);
			break;
		}
		o = json_loads(*line, 0, NULL);
		if (!o)
			continue;
		if (keep(flt, o)) {
			if (irc.json)
				fputs(*line, stdout);
			else
				print_text(o);
			n++;
		}
		json_decref(o);
	}
	clearerr(f);
	fflush(stdout);
	return n;
}

/* An event type, or "<detector>_detected" for any detector. */
static bool known_type(const char *const *types, const char *t)
{
	char name[48];
	unsigned int i;

	for (i = 0; types[i]; i++)
		if (!strcmp(types[i], t))
			return true;
	for (i = 0; i < IRC_DET__MAX; i++) {
		snprintf(name, sizeof(name), "%s_detected", irc_detector_name(i));
		if (!strcmp(name, t))
			return true;
	}
	return false;
}

int do_events(int argc, char **argv)
{
	static const struct irc_opt opts[] = {
		{ "follow", 'f', NULL, 0 },
		{ "since", 's', "D", 0 },
		{ "type", 't', "T", 0 },
		{ "pid", 'p', "P", 0 },
		{ "file", 'F', "F", 0 },
		{ 0 }
	};
	char usage[256];
	static const char *const types[] = {
		"exec", "fork", "exit", "connect", "accept", "packet_dropped",
		"network_denied", "events_lost", NULL,
	};
	struct filter flt = {};
	char path[4096], *line = NULL;
	struct sigaction sa = { .sa_handler = on_stop };
	const char *file = NULL, *why;
	bool follow = false;
	uint64_t v;
	size_t cap = 0;
	FILE *f;
	int c;

	while ((c = irc_opts_getopt(argc, argv, opts, "events")) != -1) {
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 's':
			if (irc_parse_duration(optarg, &v, &why))
				return irc_usage_err("events: bad --since '%s': %s", irc_shown(optarg), why);
			flt.since_ns = (int64_t)irc_now_real_ns() - (int64_t)v * 1000000000LL;
			break;
		case 't':
			if (!known_type(types, optarg))
				return irc_usage_err("events: bad --type '%s': one of exec, fork, exit, connect, accept, packet_dropped, network_denied, events_lost, or DETECTOR_detected",
						     optarg);
			flt.action = optarg;
			break;
		case 'p':
			if (irc_parse_u64(optarg, 1, IRC_PID_MAX, &v, &why))
				return irc_usage_err("events: bad --pid '%s': %s", irc_shown(optarg), why);
			flt.pid = v;
			break;
		case 'F':
			file = optarg;
			break;
		default:
			return IRC_EXIT_USAGE;
		}
	}
	if (!irc_operands(argc, argv, 0, "events",
			  irc_opts_usage(opts, "events", NULL, usage, sizeof(usage))))
		return IRC_EXIT_USAGE;
	if (!file) {
		snprintf(path, sizeof(path), "%s/events.jsonl", irc.state_dir);
		file = path;
	}
	f = fopen(file, "re");
	if (!f) {
		irc_err("events: open %s: %s%s", file, strerror(errno),
			errno == ENOENT ? " (is 'ircontain run' writing there?)" : "");
		return IRC_EXIT_FAIL;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	drain(f, &flt, &line, &cap);
	while (follow && !stop) {
		usleep(200000);
		drain(f, &flt, &line, &cap);
	}
	free(line);
	fclose(f);
	return IRC_EXIT_OK;
}
