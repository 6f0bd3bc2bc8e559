// SPDX-License-Identifier: GPL-2.0-only
/*
 * sensitive_read by identity (bpf/irc_proc.bpf.c, irc_open_detect) as a
 * table of real opens.
 *
 * Syscall tracepoints have no BPF_PROG_TEST_RUN: the open programs are
 * attached (they are global; the detector's scope check limits them to a
 * throwaway cgroup of this test's own, irtPID under the cgroup v2 mount,
 * never the root) and a child process makes each row's open from inside
 * it, or from a sibling cgroup outside it.  The identities come from
 * userspace/kernel/sensid.c (the code `policy apply` runs), over files in a
 * temporary directory:
 *
 *   secret (exact), keys/id_* (prefix); an allowed program bin/reader (a
 *   copy of cat), and copies or links of it elsewhere.
 *
 * A row: who opens (the child itself, by openat, openat2, open or O_PATH,
 * or a program it execs), what path, and the finding it must produce (the
 * policy entry's path) or none.  Rows that change the files first (a
 * rename over the file, a new file under the prefix) say so.  Findings
 * are read from the ring buffer, picked by the child's PID.
 *
 * The skeleton's maps are unpinned.  Needs root.  IRC_TEST_VERBOSE=1
 * shows libbpf's log.
 */
#include <linux/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ircontain/abi.h"
#include "cgroup.h"
#include "pins.h"
#include "sensid.h"
#include "irc_proc.skel.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum how { H_OPENAT, H_OPENAT2, H_OPEN, H_OPATH, H_EXEC };
enum before { B_NONE, B_REPLACE, B_NEWKEY };

struct row {
	const char *name;
	enum how how;
	const char *prog;	/* H_EXEC: under the temporary dir, or absolute */
	const char *path;	/* under the temporary dir */
	enum before before;
	bool outside;		/* the child's cgroup is outside the hooks' root */
	int want;		/* policy entry of the finding, or -1 for none */
};

static const struct row rows[] = {
	{ "openat of the file", H_OPENAT, NULL, "secret", B_NONE, false, 0 },
	{ "openat2 of the file", H_OPENAT2, NULL, "secret", B_NONE, false, 0 },
	{ "open(2) of the file", H_OPEN, NULL, "secret", B_NONE, false, 0 },
	{ "through a symlink", H_OPENAT, NULL, "link", B_NONE, false, 0 },
	{ "through a hard link in another directory", H_OPENAT, NULL, "away/hard", B_NONE, false, 0 },
	{ "O_PATH alone: no finding", H_OPATH, NULL, "secret", B_NONE, false, -1 },
	{ "another file in the same directory: none", H_OPENAT, NULL, "plain", B_NONE, false, -1 },
	{ "a file the prefix matched at resolve", H_OPENAT, NULL, "keys/id_old", B_NONE, false, 1 },
	{ "a name shorter than the prefix: none", H_OPENAT, NULL, "keys/id", B_NONE, false, -1 },
	{ "a directory under the prefix (a listing, not content): none", H_OPENAT, NULL, "keys/id_dir",
	  B_NONE, false, -1 },
	{ "outside the hooks' cgroup root: none", H_OPENAT, NULL, "secret", B_NONE, true, -1 },
	{ "the allowed program at its path: none", H_EXEC, "bin/reader", "secret", B_NONE, false, -1 },
	{ "the allowed program through a symlink: none", H_EXEC, "rlink", "secret", B_NONE, false, -1 },
	{ "the allowed program copied elsewhere", H_EXEC, "other/reader", "secret", B_NONE, false, 0 },
	{ "the allowed program hard-linked elsewhere", H_EXEC, "other/hard", "secret", B_NONE, false, 0 },
	{ "cat, not allowed", H_EXEC, "/usr/bin/cat", "secret", B_NONE, false, 0 },
	{ "replaced by a rename: matched by directory and name", H_OPENAT, NULL, "secret", B_REPLACE, false, 0 },
	{ "a hard link to the replaced file, made after (learned)", H_OPENAT, NULL, "away/hard2", B_NONE, false, 0 },
	{ "a new file under the prefix", H_OPENAT, NULL, "keys/id_new", B_NEWKEY, false, 1 },
};

static struct {
	struct irc_proc_bpf *skel;
	struct bpf_link *links[4];
	int nlinks;
	struct ring_buffer *rb;
	char dir[32], top[PATH_MAX + 32], in[PATH_MAX + 64], out[PATH_MAX + 64];
	struct irc_maps m;
	struct irc_detcfg cfg;
	pid_t child;
	int got;		/* the finding's entry for child, -1 if none, -2 twice */
} t;

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l;
	if (!getenv("IRC_TEST_VERBOSE"))
		return 0;
	return vfprintf(stderr, f, ap);
}

static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd))
		fail_msg("setup command failed: %s", cmd);
}

/* The entry whose path the finding carries, from the policy's paths. */
static int on_event(void *ctx, void *data, size_t len)
{
	const struct irc_ev_finding *f = data;
	int i;

	(void)ctx;
	if (len < sizeof(*f) || f->h.type != IRC_EV_FINDING || f->detector != IRC_DET_SENSITIVE ||
	    f->h.tgid != (__u32)t.child)
		return 0;
	for (i = 0; i < IRC_SENS_FILES; i++)
		if (!strncmp(f->path, t.cfg.sens_files[i], IRC_FIND_PATH_LEN))
			break;
	t.got = t.got == -1 ? (i < IRC_SENS_FILES ? i : -3) : -2;
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	ring_buffer__free(t.rb);
	for (i = 0; i < t.nlinks; i++)
		bpf_link__destroy(t.links[i]);
	irc_proc_bpf__destroy(t.skel);
	if (t.in[0])
		rmdir(t.in);
	if (t.out[0])
		rmdir(t.out);
	if (t.top[0])
		rmdir(t.top);
	if (t.dir[0])
		sh("rm -rf %s", t.dir);
	memset(&t, 0, sizeof(t));
	return 0;
}

static int setup(void **state)
{
	struct bpf_program *progs[] = { NULL, NULL, NULL };
	struct irc_config c = { 0 };
	struct irc_sens_report rep;
	char mnt[PATH_MAX];
	struct bpf_map *map;
	uint64_t id;
	const char *p;
	__u32 zero = 0;
	int i;

	(void)state;
	libbpf_set_print(quiet);
	snprintf(t.dir, sizeof(t.dir), "/tmp/irt-sens.XXXXXX");
	if (!mkdtemp(t.dir)) {
		t.dir[0] = '\0';
		return -1;
	}
	sh("cd %s && mkdir bin other away keys && echo s >secret && echo p >plain && "
	   "echo k >keys/id_old && echo k >keys/id && mkdir keys/id_dir && ln -s %s/secret link && ln secret away/hard && "
	   "cp /usr/bin/cat bin/reader && cp /usr/bin/cat other/reader && ln bin/reader other/hard && "
	   "ln -s %s/bin/reader rlink", t.dir, t.dir, t.dir);
	if (irc_cgroup2_mount(mnt, sizeof(mnt)))
		goto fail;
	snprintf(t.top, sizeof(t.top), "%s/irt%d", mnt, (int)getpid());
	snprintf(t.in, sizeof(t.in), "%s/in", t.top);
	snprintf(t.out, sizeof(t.out), "%s/irt%d-out", mnt, (int)getpid());
	if (mkdir(t.top, 0755) || mkdir(t.in, 0755) || mkdir(t.out, 0755) ||
	    irc_cgroup_id(t.top, &id))
		goto fail;
	c.cgroup_root_id = id;
	for (p = t.top + strlen(mnt); *p; p++)
		if (*p == '/' && p[1])
			c.cgroup_root_level++;

	t.skel = irc_proc_bpf__open();
	if (!t.skel)
		goto fail;
	bpf_object__for_each_map(map, t.skel->obj)
		bpf_map__set_pin_path(map, NULL);
	if (irc_proc_bpf__load(t.skel)) {
		fprintf(stderr, "test_sensread: load the irc_proc skeleton (root needed)\n");
		goto fail;
	}
	progs[0] = t.skel->progs.irc_openat;
	progs[1] = t.skel->progs.irc_openat2;
	progs[2] = t.skel->progs.irc_open;
	for (i = 0; i < (int)ARRAY_SIZE(progs); i++) {
		t.links[i] = bpf_program__attach(progs[i]);
		if (libbpf_get_error(t.links[i])) {
			fprintf(stderr, "test_sensread: attach %s: %s (tracefs mounted?)\n",
				bpf_program__name(progs[i]), strerror(errno));
			t.links[i] = NULL;
			goto fail;
		}
		t.nlinks++;
	}
	if (bpf_map_update_elem(bpf_map__fd(t.skel->maps.IRC_MAP_CONFIG), &zero, &c, BPF_ANY))
		goto fail;
	/* Monitor mode, action alert: findings, nothing killed. */
	t.cfg.det[IRC_DET_SENSITIVE] = (struct irc_det){ .enabled = 1, .severity = IRC_SEV_HIGH };
	/* t.dir is 21 bytes: every path fits IRC_SENS_PATH_LEN. */
	if (snprintf(t.cfg.sens_files[0], IRC_SENS_PATH_LEN, "%.32s/secret", t.dir) < 0 ||
	    snprintf(t.cfg.sens_files[1], IRC_SENS_PATH_LEN, "%.32s/keys/id_*", t.dir) < 0 ||
	    snprintf(t.cfg.sens_allowed[0], IRC_SENS_PATH_LEN, "%.32s/bin/reader", t.dir) < 0)
		goto fail;
	for (i = 0; i < IRC_M__MAX; i++)
		t.m.fd[i] = -1;
	t.m.fd[IRC_M_SENSID] = bpf_map__fd(t.skel->maps.IRC_MAP_SENSID);
	if (irc_sens_resolve(&t.m, &t.cfg, &rep) || rep.files_nodir || rep.exes_absent ||
	    bpf_map_update_elem(bpf_map__fd(t.skel->maps.IRC_MAP_DETCFG), &zero, &t.cfg, BPF_ANY))
		goto fail;
	t.rb = ring_buffer__new(bpf_map__fd(t.skel->maps.IRC_MAP_FINDINGS), on_event, NULL, NULL);
	if (!t.rb)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "test_sensread: setup: %s\n", strerror(errno));
	teardown(NULL);
	return -1;
}

static void child(const struct row *r, const char *path)
{
	char procs[PATH_MAX + 96], pid[16], prog[PATH_MAX];
	struct open_how oh = { .flags = O_RDONLY };
	int fd, n;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", r->outside ? t.out : t.in);
	n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, n) != n)
		_exit(10);
	close(fd);
	switch (r->how) {
	case H_OPENAT:
		fd = openat(AT_FDCWD, path, O_RDONLY);
		break;
	case H_OPENAT2:
		fd = syscall(SYS_openat2, AT_FDCWD, path, &oh, sizeof(oh));
		break;
	case H_OPEN:
		fd = syscall(SYS_open, path, O_RDONLY);
		break;
	case H_OPATH:
		fd = openat(AT_FDCWD, path, O_PATH);
		break;
	case H_EXEC:
		if (r->prog[0] == '/')
			snprintf(prog, sizeof(prog), "%s", r->prog);
		else
			snprintf(prog, sizeof(prog), "%s/%s", t.dir, r->prog);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execl(prog, prog, path, (char *)NULL);
		_exit(11);
	}
	_exit(fd >= 0 ? 0 : 12);
}

static void run_row(void **state)
{
	const struct row *r = *state;
	char path[PATH_MAX];
	int status = 0;

	if (r->before == B_REPLACE)
		sh("cd %s && echo n >secret.new && mv secret.new secret && ln secret away/hard2", t.dir);
	else if (r->before == B_NEWKEY)
		sh("echo k >%s/keys/id_new", t.dir);
	snprintf(path, sizeof(path), "%s/%s", t.dir, r->path);
	ring_buffer__consume(t.rb);
	t.got = -1;
	t.child = fork();
	assert_true(t.child >= 0);
	if (!t.child)
		child(r, path);
	waitpid(t.child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("%s: the child failed (status %#x)", r->name, status);
	ring_buffer__consume(t.rb);
	if (t.got == -2)
		fail_msg("%s: more than one finding", r->name);
	if (t.got != r->want)
		fail_msg("%s: finding for entry %d, expected %d (-1: none)", r->name, t.got, r->want);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(rows)];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		tests[i] = (struct CMUnitTest){ .name = rows[i].name, .test_func = run_row,
						.initial_state = (void *)&rows[i] };
	signal(SIGPIPE, SIG_IGN);
	return _cmocka_run_group_tests("test_sensread", tests, ARRAY_SIZE(rows), setup, teardown);
}
