/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reverse shells by behaviour (the controller's half of reverse_shell).
 *
 * A shell or interpreter, known by its binary (the inode, ELF build-id or
 * SHA-256 of /proc/PID/exe against the host's own shells and interpreters,
 * so a renamed copy is still bash), that reads its commands from stdin,
 * and whose stdin and stdout both reach the same process holding an
 * IPv4/IPv6 socket (itself, or a relay joined to it by a pty, pipe or fifo
 * within two hops, among its ancestors and their children) is a reverse
 * shell.  The relay is the process that holds the socket.
 *
 * Checked at the shell's exec, and again, for a shell whose relay had no
 * socket yet (or one not connected yet: the finding names the relay's
 * peer), at every connect/accept of its tree and on the daemon's tick,
 * for RSH_WATCH_S seconds.
 */
#ifndef IRC_REVSHELL_H
#define IRC_REVSHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "ircontain/abi.h"

#define IRC_RSH_EXE_LEN		256

/* What a reverse shell is made of, as found. */
struct irc_rsh_hit {
	int shell, relay;		/* relay == shell: the socket is on its own stdio */
	uint64_t shell_start, relay_start;	/* /proc starttime, clock ticks */
	char shell_comm[16], relay_comm[16];
	char shell_exe[IRC_RSH_EXE_LEN], relay_exe[IRC_RSH_EXE_LEN];
	char ident[24];			/* the known binary it is: "bash" */
	char ident_by[12];		/* "inode", "build-id", "sha256" */
	char via_in[40], via_out[40];	/* "pty 3", "pipe", "fifo", "socket" */
	char remote[64];		/* the relay's peer, "10.77.1.2:7701" */
	char proto[8];			/* "TCP", "UDPv6" */
	int others[4];			/* more holders of the relay's socket (0: none) */
	uint64_t others_start[4];
	const char *trigger;		/* "exec", "connect", "recheck" */
	uint64_t exec_ns;		/* CLOCK_BOOTTIME of the shell's exec */
	uint64_t trigger_ns;		/* of the event that found it */
};

struct irc_rsh_stats {
	uint64_t execs;		/* exec records looked at */
	uint64_t in_scope;	/* of which below the cgroup root */
	uint64_t shells;	/* of which shells/interpreters reading stdin */
	uint64_t ident_reads;	/* binaries read to identify them (cache misses) */
	uint64_t exec_ns_total, exec_ns_max;	/* time in the exec check */
	uint64_t rechecks;
	uint64_t watched;	/* shells watched for a relay's socket */
	uint64_t found;
};

struct irc_rsh;

/*
 * @scope: the cgroup v2 path (below @cgroup_mount) the detectors watch, ""
 * for the whole host.  The host's shells and interpreters are identified
 * once here.
 */
int irc_rsh_open(struct irc_rsh **rp, const char *proc_root, const char *cgroup_mount,
		 const char *scope);
void irc_rsh_close(struct irc_rsh *r);
/*
 * Called with each reverse shell found (@hit is valid during the call).  It
 * returns false when it let the hit go (its relay allowed by a policy newer
 * than the list the finder had, see irc_rsh_allowed()): not counted found.
 */
void irc_rsh_set_cb(struct irc_rsh *r, bool (*cb)(void *ctx, const struct irc_rsh_hit *hit),
		    void *ctx);
/* Shells and interpreters identified on the host. */
int irc_rsh_known(const struct irc_rsh *r);
/* Relays allowed by executable path (the policy's reverse_shell.allowed). */
void irc_rsh_allow(struct irc_rsh *r, const char (*paths)[IRC_RSH_PATH_LEN], int n);
/* Whether relay executable @exe is allowed by the list irc_rsh_allow() set. */
bool irc_rsh_allowed(const struct irc_rsh *r, const char *exe);
/* A pidfd for @pid if it still is the process that started at @start (ticks); -ESRCH. */
int irc_rsh_pidfd(const struct irc_rsh *r, int pid, uint64_t start);
const struct irc_rsh_stats *irc_rsh_stats(const struct irc_rsh *r);

/*
 * An exec.  Returns 1 when it is a reverse
 * shell now (the callback had it; @hit is scratch space); 0 when not (a
 * candidate may be watched).  The same for the two below, with a count.
 */
int irc_rsh_exec(struct irc_rsh *r, const struct irc_ev_exec *ev, struct irc_rsh_hit *hit);
/* A connect or accept by @tgid (child of @ppid) at @ts: the watched shells of its tree. */
int irc_rsh_conn(struct irc_rsh *r, int tgid, int ppid, uint64_t ts, struct irc_rsh_hit *hit);
/* Every watched shell, at most every RSH_RECHECK_MS (UDP relays make no connect event). */
int irc_rsh_tick(struct irc_rsh *r, struct irc_rsh_hit *hit);
void irc_rsh_exit(struct irc_rsh *r, int tgid);
/*
 * A shell with the socket on its own stdio is held until the ring batch
 * is read: the kernel's own finding for it (@tgid) drops it; the rest are
 * reported by irc_rsh_flush().
 */
void irc_rsh_kernel_found(struct irc_rsh *r, int tgid);
void irc_rsh_flush(struct irc_rsh *r);

/* The kinds of known binaries. */
enum irc_rsh_kind { IRC_RSH_NONE = 0, IRC_RSH_SHELL = 1, IRC_RSH_INTERP = 2 };

/*
 * 1 if a shell (@kind IRC_RSH_SHELL) or an interpreter run with this
 * argv (NUL-separated, @len bytes, argv[0] first) reads its commands from
 * stdin: no -c/-e program and no script operand, or -i/-s.
 */
bool irc_rsh_stdin_commands(int kind, const char *args, size_t len);

#endif /* IRC_REVSHELL_H */
