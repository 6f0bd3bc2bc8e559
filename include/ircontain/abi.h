/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one contract between the BPF programs and userspace.
 *
 * Every map name, key and value layout, enum and limit shared by the two
 * sides is defined here and nowhere else.  The header includes nothing: the
 * BPF side gets the __u32-style types from vmlinux.h, userspace from
 * <linux/types.h>, and each includes that first.
 */
#ifndef IRCONTAIN_ABI_H
#define IRCONTAIN_ABI_H

/*
 * Map names.  The BPF side uses them as identifiers; userspace turns them
 * into pin paths with IRC_STR().  Kernel object names are at most 15 bytes.
 */
#define IRC_MAP_Q4_HOST		irc_q4_host	/* exact IPv4 quarantine (hash) */
#define IRC_MAP_Q6_HOST		irc_q6_host	/* exact IPv6 quarantine (hash) */
#define IRC_MAP_Q4_FRONT	irc_q4_front	/* exact IPv4: the small front tier */
#define IRC_MAP_Q6_FRONT	irc_q6_front	/* exact IPv6: the small front tier */
#define IRC_MAP_QTIER		irc_qtier	/* per family: the big host map in use */
#define IRC_MAP_QBLOOM		irc_qbloom	/* per family: which front-tier slots hold a host */
#define IRC_MAP_Q4_PFX		irc_q4_pfx	/* IPv4 prefix quarantine (LPM) */
#define IRC_MAP_Q6_PFX		irc_q6_pfx	/* IPv6 prefix quarantine (LPM) */
#define IRC_MAP_ALLOW4		irc_allow4	/* IPv4 allowlist (LPM) */
#define IRC_MAP_ALLOW6		irc_allow6	/* IPv6 allowlist (LPM) */
#define IRC_MAP_CONFIG		irc_config	/* global switches (array[1]) */
#define IRC_MAP_STATS		irc_stats	/* packet counters (percpu array[1]) */
#define IRC_MAP_IFACES		irc_ifaces	/* where we are attached (hash) */
#define IRC_MAP_QPID		irc_qpid	/* quarantined processes (hash) */
#define IRC_MAP_QCGRP		irc_qcgrp	/* quarantined cgroups (hash) */
#define IRC_MAP_QSOCK		irc_qsock	/* their sockets, by cookie */
#define IRC_MAP_EVENTS		irc_events	/* ring buffer of event records */
#define IRC_MAP_FINDINGS	irc_findings	/* ring buffer of findings only */
#define IRC_MAP_EVSTAT		irc_evstat	/* per-CPU sequence and loss */
#define IRC_MAP_CONNPEND	irc_connpend	/* connects awaiting their handshake */
#define IRC_MAP_DETCFG		irc_detcfg	/* detector policy (array[1]) */
#define IRC_MAP_NETSTATE	irc_netstate	/* per-source scan/flood state (LRU) */
#define IRC_MAP_PROTECT		irc_protect	/* never auto-quarantined (hash) */
#define IRC_MAP_VERIFIED	irc_verified	/* sources that completed a handshake (LRU) */
#define IRC_MAP_OFFENCE		irc_offence	/* verified offenders' history (hash) */
#define IRC_MAP_DSTSTATE	irc_dststate	/* per-destination SYN counts (LRU) */
#define IRC_MAP_DETSTATE	irc_detstate	/* detector-wide state (array[1]) */
#define IRC_MAP_SENSID		irc_sensid	/* sensitive_read: file and directory identities (hash) */
#define IRC_MAP_CTL		irc_ctl		/* the controller's heartbeat (array[1]) */
#define IRC_MAP_PKILL		irc_pkill	/* contain-then-kill: stopped, awaiting the kill (hash) */
#define IRC_MAP_DROPRUN		irc_droprun	/* per-CPU run of one host's drops */
#define IRC_MAP_IFDROPS		irc_ifdrops	/* drops per interface and rule (percpu array[1]) */
#define IRC_MAP_IFNAMES		irc_ifnames	/* names of the interfaces attached since load (hash) */

/*
 * The list of every map above, X(ID) for IRC_MAP_<ID>: userspace's index
 * (enum irc_map_id: IRC_M_<ID>) and its names table are generated from it,
 * bpf/irc_maps.bpf.h fails to compile if one is not declared there, and
 * tests/bpf/test_layout.c fails if the objects declare one that is not here.
 */
#define IRC_MAP_LIST(X)							\
	X(Q4_HOST) X(Q6_HOST) X(Q4_PFX) X(Q6_PFX) X(ALLOW4) X(ALLOW6)	\
	X(CONFIG) X(STATS) X(IFACES) X(QPID) X(QCGRP) X(QSOCK) X(EVENTS)	\
	X(EVSTAT) X(CONNPEND) X(DETCFG) X(NETSTATE) X(PROTECT) X(VERIFIED)	\
	X(OFFENCE) X(DSTSTATE) X(DETSTATE) X(SENSID) X(CTL) X(PKILL) X(DROPRUN)	\
	X(FINDINGS) X(IFDROPS) X(IFNAMES) X(Q4_FRONT) X(Q6_FRONT) X(QTIER)	\
	X(QBLOOM)

#define IRC_XSTR(x)		#x
#define IRC_STR(x)		IRC_XSTR(x)

/* Limits.  Exact hosts live in hashes so the per-packet cost is O(1). */
#define IRC_MAX_HOSTS		(1U << 20)	/* per family: 1,048,576 */
/*
 * Exact hosts live in two tiers per family.  A new host goes to the front
 * tier (IRC_MAP_Q4_FRONT / Q6_FRONT, IRC_MAX_FRONT_HOSTS entries: its
 * buckets stay in the CPU caches); only when it is full does one go to the
 * big map (IRC_MAP_Q4_HOST / Q6_HOST, IRC_MAX_HOSTS entries).  Before the
 * first entry ever goes there, the writer sets the family's element of
 * IRC_MAP_QTIER (index IRC_QTIER_V4 / V6) to 1; the packet path looks up
 * the big map only after a front miss with it set.  The flag is sticky:
 * never cleared while the maps live (an entry is never invisible).  A key
 * lives in one tier (updated where it is); release deletes from both.  Two
 * racing writers can leave one in both: list and counts show it once.
 */
#define IRC_MAX_FRONT_HOSTS	16384		/* per family */
#define IRC_QTIER_V4		0
#define IRC_QTIER_V6		1
/*
 * A miss in a full front tier still reads a chain of it, a cache miss at
 * scale: IRC_MAP_QBLOOM (an mmapable array: element IRC_QTIER_V4 / V6, each
 * IRC_QBLOOM_SLOTS bytes) has a byte per slot of irc_qbloom_slot() that a
 * writer sets to 1 before it puts a host in the front tier; the packet
 * path looks up the front tier only when its byte is set.  Bytes are never
 * cleared (a byte store cannot lose a neighbour's, as a read-modify-write
 * of a word could): a slot whose hosts have left costs a lookup, never a
 * miss of a host that is there.
 */
#define IRC_QBLOOM_LOG		17
#define IRC_QBLOOM_SLOTS	(1U << IRC_QBLOOM_LOG)	/* bytes per family */

/* An element of IRC_MAP_QBLOOM: one family's bytes. */
struct irc_qbloom_v {
	__u8 slot[IRC_QBLOOM_SLOTS];
};

/* The slot of exact-host key @key (a __u32 IPv4, or struct irc_in6 when @v6). */
static inline __u32 irc_qbloom_slot(const void *key, int v6)
{
	__u32 w[4] = { 0, 0, 0, 0 };

	if (v6)
		__builtin_memcpy(w, key, 16);
	else
		__builtin_memcpy(w, key, 4);
	return ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1U) >> (32 - IRC_QBLOOM_LOG);
}
#define IRC_MAX_PREFIXES	65536		/* per family */
#define IRC_MAX_ALLOW		4096		/* per family */
#define IRC_MAX_IFACES		64
#define IRC_MAX_PIDS		65536		/* processes, descendants included */
#define IRC_MAX_CGROUPS		4096
#define IRC_MAX_SOCKS		262144		/* sockets cut at quarantine time */
#define IRC_CGROUP_MAX_DEPTH	16		/* cgroup levels checked */
#define IRC_PATH_LEN		256
#define IRC_PID_MAX		4194304		/* the kernel's PID_MAX_LIMIT */
#define IRC_COMM_LEN		16		/* TASK_COMM_LEN */
#define IRC_RINGBUF_DEFAULT	(4U << 20)	/* bytes; `load --ring-size` */
#define IRC_FINDRING_SIZE	(256U << 10)	/* bytes: about 700 findings */
#define IRC_FILENAME_LEN	256		/* exec path bytes kept */
#define IRC_ARGS_LEN		512		/* argv bytes kept, NUL-separated */
#define IRC_SAMPLE_LEN		128		/* packet bytes kept per sample */
#define IRC_SAMPLE_RATE		50		/* drop samples per second per CPU */
#define IRC_DENY_RATE		50		/* denial events per second per CPU */
#define IRC_MAX_CONNPEND	8192		/* connects in flight tracked (LRU) */
#define IRC_MAX_NETSTATE	65536		/* sources watched by the detectors */
#define IRC_PORT_BITS		256		/* distinct-port bitmap per source */
#define IRC_MAX_PROTECT		1024		/* own addresses, gateways, resolvers, sessions */
#define IRC_MAX_VERIFIED	65536		/* sources with a handshake remembered */
#define IRC_MAX_OFFENDERS	16384		/* verified offenders' history */
#define IRC_MAX_DSTSTATE	1024		/* destinations watched for SYN floods */
/*
 * A source counts as verified for this long after it completed a TCP
 * handshake with the host (it answered our SYN-ACK with the right
 * sequence number, or our SYN with a SYN-ACK): a spoofer never sees our
 * packets, so it cannot.
 */
#define IRC_VERIFIED_AGE_SEC	600
/*
 * Quarantines of unverified sources (short TTL, inbound only, never
 * escalated) are rate limited: at most IRC_UNVERIFIED_BURST at once, then
 * one per IRC_UNVERIFIED_EVERY_SEC, so spoofed sources cannot fill the
 * quarantine table.
 */
#define IRC_UNVERIFIED_BURST	32
#define IRC_UNVERIFIED_EVERY_SEC 2
#define IRC_REASON_LEN		64		/* bytes, NUL included */
#define IRC_IFNAME_LEN		16		/* IFNAMSIZ */
#define IRC_MAX_TTL_SEC		(366ULL * 24 * 3600)
/*
 * An LPM lookup returns only the longest matching prefix.  If that one has
 * expired or does not apply in this direction (or, in the allowlist, is an
 * isolation-only exemption inside an 'always' entry), a shorter one may
 * still apply: the packet path retries with a shorter key at most this many
 * times.
 */
#define IRC_LPM_RETRIES		4
#define IRC_V6_EXT_MAX		6	/* IPv6 extension headers walked */
#define IRC_VLAN_MAX		2	/* stacked VLAN tags skipped */

/* The controller's watch (userspace only). */
#define IRC_WATCH_CHECK_MS	200	/* attachments checked; a detach is undone within 1 s */
#define IRC_WATCH_RETRY_MS	5000	/* a failed (re-)attach is tried again after this */
#define IRC_GC_INTERVAL_MS	5000	/* expired map entries swept out */
#define IRC_CGROUP_WAIT_MS	1000	/* awaited cgroups looked for */

/*
 * `quarantine pid --action stop` freezes a process with the cgroup v2
 * freezer in a child of its own cgroup named this prefix and the
 * quarantine's root tgid (userspace only).
 */
#define IRC_FREEZE_CGROUP	"ircontain.stop."
#define IRC_FREEZE_WAIT_MS	1000	/* a tree's freeze is awaited this long */

/* Default locations; each can be overridden on the command line. */
#define IRC_DEFAULT_PIN_DIR	"/sys/fs/bpf/ircontain"
#define IRC_PIN_LINKS_SUBDIR	"links"
#define IRC_PIN_PROGS_SUBDIR	"progs"	/* packet programs, for re-attaching */

/* tc filter identity on each interface (egress clsact hook). */
#define IRC_TC_HANDLE		0x1c0e
#define IRC_TC_PRIO		0xc0e

/* Which way a quarantine entry applies. */
enum irc_dir {
	IRC_DIR_IN	= 1 << 0,	/* packets from the address (XDP ingress) */
	IRC_DIR_OUT	= 1 << 1,	/* packets to the address (tc egress) */
	IRC_DIR_BOTH	= IRC_DIR_IN | IRC_DIR_OUT,
};

/* Who created a quarantine entry. */
enum irc_origin {
	IRC_ORIGIN_OPERATOR	= 0,	/* the CLI, on behalf of a person */
	IRC_ORIGIN_DETECTOR	= 1,	/* a kernel detector (enforce mode) */
	IRC_ORIGIN_FLEET	= 2,	/* a signed fleet entry, applied by the agent */
};

/*
 * Value of every quarantine map, exact and prefix alike.  The kernel reads
 * expires_ns and dir, and adds to drops; the rest is the record of who put
 * the entry there, when and why, kept with the entry so that it survives
 * every userspace process.
 */
struct irc_qentry {
	__u64 expires_ns;	/* CLOCK_BOOTTIME ns; 0 = no expiry */
	__u64 created_ns;	/* CLOCK_REALTIME ns (UTC) */
	__u64 drops;		/* packets dropped by this entry */
	__u32 dir;		/* enum irc_dir bits */
	__u32 plen;		/* prefix length of the key (32/128 = host) */
	__u32 actor_uid;	/* uid of the person, or detector id */
	__u32 origin;		/* enum irc_origin */
	__u32 incident;		/* incident id, 0 = none */
	__u32 pad;
	char reason[IRC_REASON_LEN];
};

/* LPM trie keys.  prefixlen counts bits of addr. */
struct irc_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct irc_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Exact IPv6 key. */
struct irc_in6 {
	__u8 addr[16];
};

/* Allowlist values. */
enum irc_allow_flags {
	IRC_ALLOW_ALWAYS	= 1 << 0,	/* never dropped ('allow add') */
	IRC_ALLOW_ISOLATE	= 1 << 1,	/* exempt from isolation only */
	IRC_ALLOW_POLICY	= 1 << 2,	/* came from the policy file */
	/* IRC_ALLOW_ALWAYS was put there by the fleet: only a signed fleet del takes it away (userspace's mark) */
	IRC_ALLOW_FLEET		= 1 << 3,
};

struct irc_allow {
	__u32 flags;		/* enum irc_allow_flags */
	__u32 actor_uid;
	__u64 created_ns;	/* CLOCK_REALTIME ns (UTC) */
	__u32 plen;		/* prefix length of the key */
	__u32 pad;
};

/* Global switches, written by userspace, read on every packet. */
enum irc_cfg_flags {
	IRC_CFG_ISOLATE		= 1 << 0,	/* drop all but allowlisted */
	IRC_CFG_ISO_DNS		= 1 << 1,	/* isolation lets DNS through */
	IRC_CFG_ISO_DHCP	= 1 << 2,	/* isolation lets DHCP through */
	IRC_CFG_HAS_CGROUPS	= 1 << 3,	/* irc_qcgrp is not empty */
	/*
	 * The isolation was switched on by the fleet (its agent): only a
	 * signed fleet order switches it off.  Userspace's mark; the kernel
	 * never reads it.
	 */
	IRC_CFG_ISO_FLEET	= 1 << 4,
};

/* The isolation's bits: what `isolate on|off` (local or fleet) owns. */
#define IRC_CFG_ISO_BITS	(IRC_CFG_ISOLATE | IRC_CFG_ISO_DNS | IRC_CFG_ISO_DHCP | \
				 IRC_CFG_ISO_FLEET)

struct irc_config {
	__u32 flags;		/* enum irc_cfg_flags */
	__u32 pad;
	__u64 isolate_since_ns;	/* CLOCK_REALTIME ns, 0 if not isolated */
	__u64 cgroup_root_id;	/* where the process hooks are attached */
	__u32 cgroup_root_level;	/* its depth below the cgroup2 root */
	__u32 pad2;
	char cgroup_root[IRC_PATH_LEN];
};

/*
 * Process and cgroup quarantine.  One entry per process (keyed by tgid),
 * descendants included, or per cgroup (keyed by cgroup id).
 */
enum irc_pact {
	IRC_PACT_DENY	= 0,	/* no network */
	IRC_PACT_STOP	= 1,	/* no network, and stopped (SIGSTOP) */
	IRC_PACT_KILL	= 2,	/* killed (SIGKILL) */
};

enum irc_pflags {
	IRC_PF_CHILDREN	= 1 << 0,	/* new children inherit the entry */
	IRC_PF_INHERITED = 1 << 1,	/* made for a descendant of root */
};

struct irc_pentry {
	__u64 expires_ns;	/* CLOCK_BOOTTIME ns; 0 = no expiry */
	__u64 created_ns;	/* CLOCK_REALTIME ns (UTC) */
	__u64 denied;		/* syscalls refused and packets dropped */
	__u32 root;		/* tgid the operator named (itself for a root) */
	__u32 flags;		/* enum irc_pflags */
	__u32 action;		/* enum irc_pact */
	__u32 actor_uid;
	__u32 origin;		/* enum irc_origin */
	__u32 incident;
	char reason[IRC_REASON_LEN];
};

/*
 * A socket cut at quarantine time.  It stays cut while this entry lives,
 * whichever of the processes sharing it exits; release removes it.
 */
struct irc_qsock {
	__u32 tgid;		/* the process it was found in */
	__u32 root;		/* the quarantine it belongs to */
	__u64 expires_ns;	/* the quarantine's, CLOCK_BOOTTIME; 0 = none */
};

/* Packet counters, one slot per CPU, each a cache line or more. */
enum irc_stat {
	IRC_STAT_RX_PASS,		/* ingress passed, no rule matched */
	IRC_STAT_RX_ALLOW,		/* ingress passed by the allowlist */
	IRC_STAT_RX_DROP_QUAR,		/* ingress dropped by a quarantine */
	IRC_STAT_RX_DROP_ISO,		/* ingress dropped by isolation */
	IRC_STAT_TX_PASS,
	IRC_STAT_TX_ALLOW,
	IRC_STAT_TX_DROP_QUAR,
	IRC_STAT_TX_DROP_ISO,
	IRC_STAT_NON_IP,		/* not IPv4/IPv6: passed */
	IRC_STAT_MALFORMED,		/* truncated IP header */
	IRC_STAT_EXPIRED,		/* matched an expired entry: passed */
	IRC_STAT_PROC_DENY,		/* syscalls of quarantined processes refused */
	IRC_STAT_PROC_DROP,		/* their packets dropped (cgroup_skb) */
	IRC_STAT__MAX,
};

struct irc_stats {
	__u64 cnt[IRC_STAT__MAX];
} __attribute__((aligned(64)));

/* Where the programs are attached: one record per interface. */
enum irc_xdp_mode {
	IRC_XDP_NONE	= 0,
	IRC_XDP_NATIVE	= 1,
	IRC_XDP_GENERIC	= 2,
};

struct irc_iface {
	__u32 ifindex;
	__u32 xdp_mode;		/* enum irc_xdp_mode */
	__u32 xdp_prog_id;	/* our program, to spot a detach by others */
	__u32 pad;
	__u64 attached_ns;	/* CLOCK_REALTIME ns */
	char name[IRC_IFNAME_LEN];
};

/*
 * Event records in the ring buffer.  Every record starts with the header;
 * seq counts every record a CPU tried to emit, so a record lost to a full
 * ring shows as a gap in its CPU's sequence, and irc_evstat.lost counts it.
 * Findings go to a ring of their own (IRC_MAP_FINDINGS), numbered on their
 * own (irc_evstat.fseq, .flost): a storm of ordinary events can neither
 * delay a finding behind it nor crowd it out of a full ring, and the
 * daemon reads that ring first.
 */
enum irc_ev_type {
	IRC_EV_EXEC	= 1,
	IRC_EV_FORK	= 2,
	IRC_EV_EXIT	= 3,
	IRC_EV_CONNECT	= 4,	/* TCP connect, when its handshake resolves */
	IRC_EV_ACCEPT	= 5,	/* TCP connection accepted */
	IRC_EV_DROP	= 6,	/* packet dropped by quarantine/isolation */
	IRC_EV_DENY	= 7,	/* quarantined process refused */
	IRC_EV_FINDING	= 8,	/* a detector fired */
	IRC_EV__MAX,
};

struct irc_ev_hdr {
	__u16 type;		/* enum irc_ev_type */
	__u16 cpu;
	__u32 size;		/* of the whole record */
	__u64 seq;		/* per CPU, from 1 */
	__u64 ts_ns;		/* CLOCK_BOOTTIME */
	__u32 pid;		/* thread id; 0 in packet context */
	__u32 tgid;
	__u32 ppid;		/* parent's tgid */
	__u32 uid;
	__u32 gid;
	__u32 pad;
	__u64 cgroup_id;
	__u64 start_ns;		/* process start, CLOCK_BOOTTIME ns */
	char comm[IRC_COMM_LEN];
};

struct irc_ev_exec {
	struct irc_ev_hdr h;
	__u32 args_len;		/* bytes used in args */
	__u32 args_trunc;	/* 1 if argv was longer than IRC_ARGS_LEN */
	char filename[IRC_FILENAME_LEN];
	char args[IRC_ARGS_LEN];
};

struct irc_ev_fork {
	struct irc_ev_hdr h;	/* the parent */
	__u32 child_tgid;
	__u32 inherited;	/* 1 if the child inherited a quarantine */
	__u64 child_start_ns;
};

struct irc_ev_exit {
	struct irc_ev_hdr h;
	__s32 exit_code;	/* as wait(2) reports it */
	__u32 pad;
};

struct irc_ev_conn {
	struct irc_ev_hdr h;
	__u8 family;		/* 4 or 6 */
	__u8 proto;
	__u16 sport;		/* host order */
	__u16 dport;
	__u16 established;	/* 1 if the handshake completed */
	__u8 saddr[16];
	__u8 daddr[16];
};

enum irc_drop_rule {
	IRC_RULE_QUARANTINE	= 1,
	IRC_RULE_ISOLATE	= 2,
	IRC_RULE_MALFORMED	= 3,
	IRC_RULE_PROCESS	= 4,	/* socket of a quarantined process */
};

enum irc_linktype {
	IRC_LINK_ETHERNET	= 1,	/* XDP and tc: from the MAC header */
	IRC_LINK_RAW		= 101,	/* cgroup_skb: from the IP header */
};

struct irc_ev_drop {
	struct irc_ev_hdr h;
	__u32 rule;		/* enum irc_drop_rule */
	__u32 dir;		/* IRC_DIR_IN or IRC_DIR_OUT */
	__u32 ifindex;
	__u32 pkt_len;
	__u32 cap_len;		/* bytes in data */
	__u32 rule_plen;	/* matched entry's prefix length, 0 if none */
	__u32 linktype;		/* of data: enum irc_linktype */
	__u32 rule_tgid;	/* IRC_RULE_PROCESS: the socket's process */
	__u8 rule_addr[16];	/* matched entry's address */
	__u8 data[IRC_SAMPLE_LEN];
};

enum irc_deny_hook {
	IRC_HOOK_SOCK_CREATE	= 1,
	IRC_HOOK_CONNECT	= 2,
	IRC_HOOK_SENDMSG	= 3,
	IRC_HOOK_BIND		= 4,
};

struct irc_ev_deny {
	struct irc_ev_hdr h;
	__u32 hook;		/* enum irc_deny_hook */
	__u32 root;		/* quarantine root tgid, 0 for a cgroup */
	__u8 family;
	__u8 pad;
	__u16 dport;		/* host order, connect/sendmsg/bind */
	__u32 pad2;
	__u8 daddr[16];
};

/*
 * Drops of one exact-host entry counted on one CPU without an atomic
 * (IRC_MAP_DROPRUN, percpu array[1]), once the entry has counted
 * IRC_DROPRUN_AFTER drops of its own (a heavy hitter); before that each
 * drop is the entry's atomic (irc_host_drop() in bpf/irc_net.bpf.c says
 * why).  While a CPU drops the same host, only this run's count goes up;
 * drops of other hosts take the atomic on their entry until
 * IRC_DROPRUN_PATIENCE of them in a row hand the run over, when its
 * count is added to its entry (if that entry is still the one with the
 * run's created_ns: a released and re-added host does not inherit).  A
 * run starts empty: the drop that starts it is the entry's.
 * The entry's drops are irc_qentry.drops plus every CPU's run of that
 * host and created_ns (userspace sums them).
 */
struct irc_droprun {
	__u32 addr[4];		/* the host, IPv4 in addr[0] (network order) */
	__u64 created_ns;	/* of the entry the run counts for */
	__u64 count;		/* drops not yet added to the entry */
	__u32 family;		/* 4 or 6; 0 = no run */
	__u32 others;		/* drops of other hosts since this one's last */
	__u64 pad[3];
} __attribute__((aligned(64)));

#define IRC_DROPRUN_PATIENCE	16
#define IRC_DROPRUN_AFTER	4096	/* an entry's own drops before its host has runs */

/*
 * Drops per interface, direction and rule (IRC_MAP_IFDROPS, percpu
 * array[1]), counted on the drop path only: one lookup, a compare and an
 * increment, no atomic.  An interface counts in slot[ifindex &
 * (IRC_IFDROP_SLOTS - 1)]: the first interface to drop there on a CPU
 * takes the slot on that CPU (its ifindex), and one that maps to a slot
 * another interface holds counts in .other, never mixed in with it.  A slot
 * is never given back, so an interface gone keeps its count.  Userspace
 * sums by ifindex over every slot of every CPU; a slot whose ifindex is 0
 * counts as other.
 */
#define IRC_IFDROP_SLOTS	256		/* a power of two */
#define IRC_IFDROP_RULES	3		/* IRC_RULE_QUARANTINE..MALFORMED at [rule - 1] */
#define IRC_MAX_IFNAMES		1024		/* interfaces named after they are gone */

struct irc_ifdrop {
	__u32 ifindex;		/* 0 = free */
	__u32 pad;
	__u64 drops[2][IRC_IFDROP_RULES];	/* [0] ingress (XDP), [1] egress (tc) */
};

struct irc_ifdrops {
	struct irc_ifdrop slot[IRC_IFDROP_SLOTS];
	struct irc_ifdrop other;	/* interfaces whose slot another holds */
};

/*
 * The name each interface was attached under (IRC_MAP_IFNAMES, by
 * ifindex; written by userspace at attach, never read by the programs):
 * the drops of an interface gone, whose irc_iface record is released,
 * keep their name.
 */
struct irc_ifname {
	char name[IRC_IFNAME_LEN];
};

/* Per CPU: sequence, loss and the sample rate limiters. */
struct irc_evstat {
	__u64 seq;		/* records attempted */
	__u64 lost;		/* ring buffer full: record dropped */
	__u64 unsampled;	/* drops/denials over the rate limit */
	__u64 drop_tat_ns;	/* rate limiters: theoretical arrival time */
	__u64 deny_tat_ns;	/* (GCRA); drops CLOCK_MONOTONIC_COARSE ns,
				   denials CLOCK_BOOTTIME ns */
	__u64 fseq;		/* findings attempted (their own sequence) */
	__u64 flost;		/* findings ring full: finding dropped */
	__u64 drop_held_tick;	/* jiffies of the last held-back drop sample */
} __attribute__((aligned(64)));

/* Detectors, their actions and the policy the kernel runs them with. */
enum irc_detector {
	IRC_DET_PORTSCAN	= 0,	/* XDP */
	IRC_DET_SYNFLOOD	= 1,	/* XDP */
	IRC_DET_EXEC_TMP	= 2,	/* exec from /tmp, /var/tmp, /dev/shm */
	IRC_DET_FILELESS	= 3,	/* exec of a memfd */
	IRC_DET_REVSHELL	= 4,	/* a shell whose stdin reaches a network socket */
	IRC_DET_SENSITIVE	= 5,	/* sensitive file opened */
	IRC_DET_PTRACE		= 6,	/* ptrace attach to another process */
	IRC_DET_MODULE		= 7,	/* kernel module load attempt */
	IRC_DET__MAX,
};

#define IRC_SENS_FILES		8	/* sensitive paths in the policy */
#define IRC_SENS_ALLOWED	16	/* programs (executable paths) allowed to read them */
#define IRC_SENS_PATH_LEN	64
#define IRC_SENS_NAME_LEN	32	/* a file name compared in the kernel, NUL padded */
#define IRC_SENS_NAME_MAX	30	/* its longest accepted length (a longer name read is 31) */
#define IRC_MAX_SENSID		4096	/* identities: resolved by userspace, learned by the kernel */
#define IRC_MAX_PKILL		4096	/* processes stopped for contain-then-kill at once */
/*
 * contain-then-kill.  The controller writes its heartbeat every
 * IRC_CTL_BEAT_MS; the kernel counts it as running while the last beat is
 * under IRC_CTL_FRESH_MS old, and otherwise kills at once (no snapshot is
 * coming).  A stopped process its controller has not killed by
 * IRC_CTK_DEADLINE_MS is killed by the kernel at its next system call
 * (stopped again before that), and by the next controller to run.
 */
#define IRC_CTL_BEAT_MS		500
#define IRC_CTL_FRESH_MS	2000
#define IRC_CTK_DEADLINE_MS	2000
#define IRC_FIND_PATH_LEN	64
#define IRC_RSH_ALLOWED		8	/* reverse_shell: relays allowed, by exe path */
#define IRC_RSH_PATH_LEN	128

enum irc_action {
	IRC_ACT_ALERT		= 0,
	IRC_ACT_QUAR_HOST	= 1,
	IRC_ACT_QUAR_PROC	= 2,
	IRC_ACT_KILL		= 3,
	/*
	 * Stopped (SIGSTOP) and cut off by the kernel at once, snapshotted
	 * by the controller, then killed; with no controller, killed at once.
	 */
	IRC_ACT_CONTAIN_KILL	= 4,
};

enum irc_severity {
	IRC_SEV_LOW = 1, IRC_SEV_MEDIUM = 2, IRC_SEV_HIGH = 3, IRC_SEV_CRITICAL = 4,
};

struct irc_det {
	__u32 enabled;
	__u32 action;		/* enum irc_action */
	__u32 severity;		/* enum irc_severity */
	__u32 threshold;	/* distinct ports / SYNs per window */
	__u64 window_ns;
	__u64 ttl_ns;		/* of the quarantine it sets; 0 = none */
	__u32 factor;		/* TTL multiplier per repeat offence */
	__u32 slow_threshold;	/* portscan: distinct ports per slow window */
	__u64 max_ttl_ns;	/* cap of the escalated TTL */
	__u64 slow_window_ns;	/* portscan: the longer window, 0 = off */
	__u64 unverified_ttl_ns;	/* TTL for an unverified source */
};

struct irc_detcfg {
	__u32 enforce;		/* 0 = monitor: report, never act */
	__u32 netns_ino;	/* the protected netns (set by load) */
	__s64 boot_to_real_ns;	/* set by userspace: stamps created_ns */
	/* Port hash key, random per load (irc_port_bit in irc_net.bpf.c). */
	__u64 port_key[2];
	struct irc_det det[IRC_DET__MAX];
	/*
	 * sensitive_read.  The policy's paths (a file path ending in '*' is
	 * a prefix), zero padded, as written: the findings name them.  The
	 * kernel matches by identity (irc_sensid), and by directory plus
	 * the names below, which userspace resolves at policy apply.
	 */
	char sens_files[IRC_SENS_FILES][IRC_SENS_PATH_LEN];
	char sens_allowed[IRC_SENS_ALLOWED][IRC_SENS_PATH_LEN];
	/* The file's name in its (resolved) directory; for a prefix, the part before '*'. */
	char sens_names[IRC_SENS_FILES][IRC_SENS_NAME_LEN];
	/* An allowed program's file name in its (resolved) directory. */
	char sens_exe_names[IRC_SENS_ALLOWED][IRC_SENS_NAME_LEN];
	/* Bytes of sens_names a prefix pattern compares; 0: the whole name. */
	__u8 sens_nplen[IRC_SENS_FILES];
	/*
	 * reverse_shell: programs (executable paths) that may relay a shell
	 * over the network (sshd, a CI runner's agent).  Read by the
	 * controller, which finds relays; zero padded.
	 */
	char rsh_allowed[IRC_RSH_ALLOWED][IRC_RSH_PATH_LEN];
};

/*
 * A file's identity: its superblock's device number (the kernel's
 * encoding, MAJOR << 20 | MINOR) and its inode number.  Whatever path a
 * file is opened by (a symlink, a hard link, /proc/self/fd/N), its
 * identity is the same.
 */
struct irc_fid {
	__u64 dev;
	__u64 ino;
};

enum irc_sensid_kind {
	IRC_SID_FILE	= 1 << 0,	/* a sensitive file itself */
	IRC_SID_DIR	= 1 << 1,	/* a directory holding sensitive files or allowed programs */
	IRC_SID_LEARNED	= 1 << 2,	/* FILE added by the kernel: a new file at a sensitive name */
};

/* Value of irc_sensid, keyed by struct irc_fid. */
struct irc_sensid {
	__u32 kind;		/* enum irc_sensid_kind bits */
	__u32 file;		/* FILE: index of its policy entry (sens_files) */
	__u32 files;		/* DIR: bits of sens_files whose names are in it */
	__u32 exes;		/* DIR: bits of sens_allowed whose programs are in it */
};

/*
 * Per source (IPv4 as v4-mapped IPv6), in an LRU map: only the windows.
 * A flood of sources may evict it; the offence history is kept apart.
 */
struct irc_netstate {
	__u64 window_start_ns;	/* port scan window */
	__u64 syn_start_ns;	/* SYN flood window */
	__u64 slow_start_ns;	/* port scan, slow window */
	__u64 ports[IRC_PORT_BITS / 64];	/* hashed destination ports seen */
	__u64 slow_ports[IRC_PORT_BITS / 64];
	__u32 distinct;
	__u32 syns;
	__u32 slow_distinct;
	__u32 fired;		/* enum irc_fired bits, this window */
};

enum irc_fired {
	IRC_FIRED_SCAN	= 1 << 0,
	IRC_FIRED_SYN	= 1 << 1,
	IRC_FIRED_SLOW	= 1 << 2,
};

/* Why an address is never quarantined by a detector (bits). */
enum irc_protect_why {
	IRC_PROT_OWN		= 1 << 0,	/* the host's own address */
	IRC_PROT_GATEWAY	= 1 << 1,	/* a default gateway */
	IRC_PROT_RESOLVER	= 1 << 2,	/* a DNS resolver */
	IRC_PROT_SESSION	= 1 << 3,	/* an operator's login session */
	IRC_PROT_ALLOW		= 1 << 4,	/* the allowlist (checked there) */
};

/* A verified offender's history: only verified sources get an entry. */
struct irc_offence {
	__u32 offences;		/* times a detector fired on it */
	__u32 pad;
	__u64 last_ns;		/* CLOCK_BOOTTIME of the last */
};

/* SYNs to one of our addresses, whatever their source. */
struct irc_dststate {
	__u64 start_ns;
	__u32 syns;
	__u32 fired;
};

struct irc_detstate {
	__u64 unverified_tat_ns;	/* GCRA of unverified quarantines */
	__u64 unverified_held;		/* over the rate: alerted only */
	__u64 pkill_pending;		/* entries in irc_pkill (the kernel adds and removes them) */
};

/* Written by the controller only (`run`); 0: none runs. */
struct irc_ctl {
	__u64 beat_ns;		/* CLOCK_BOOTTIME of its last heartbeat */
	__u32 pid;
	__u32 pad;
};

/*
 * A process the kernel stopped for contain-then-kill (irc_pkill, by
 * tgid): the controller snapshots and kills it; the entry goes when the
 * process exits.
 */
struct irc_pkill {
	__u64 deadline_ns;	/* CLOCK_BOOTTIME: the kernel kills it after this */
	__u64 start_ns;		/* the process's start (group leader), CLOCK_BOOTTIME */
	__u32 detector;		/* enum irc_detector that fired */
	__u32 pad;
};

/* Who the finding's address is, for a network detector. */
enum irc_src_trust {
	IRC_SRC_UNVERIFIED	= 0,	/* no handshake: may be spoofed */
	IRC_SRC_VERIFIED	= 1,	/* completed a handshake with us */
	IRC_SRC_PROTECTED	= 2,	/* never quarantined (enum irc_protect_why) */
	IRC_SRC_TARGET		= 3,	/* the address is our own destination */
};

/* Why a finding was not enforced. */
enum irc_hold {
	IRC_HOLD_NONE		= 0,	/* enforced, or alert-only */
	IRC_HOLD_MONITOR	= 1,	/* monitor mode */
	IRC_HOLD_PROTECTED	= 2,	/* the source is protected */
	IRC_HOLD_UNVERIFIED	= 3,	/* a SYN flood proves no source */
	IRC_HOLD_BUDGET		= 4,	/* unverified quarantines over rate */
	IRC_HOLD_EXISTS		= 5,	/* an operator's entry is there */
	IRC_HOLD_NOCTL		= 6,	/* contain-then-kill, no controller: killed at once, no snapshot */
};

struct irc_ev_finding {
	struct irc_ev_hdr h;
	__u32 detector;		/* enum irc_detector */
	__u32 action;		/* enum irc_action taken, or that would be */
	__u32 severity;
	__u32 enforced;		/* 0 in monitor mode or when it failed */
	__u32 count;		/* ports or SYNs seen */
	__u32 offences;
	__u64 window_ns;
	__u64 ttl_ns;		/* of the quarantine set */
	__u8 family;		/* network detectors: the source */
	__u8 trust;		/* enum irc_src_trust */
	__u8 hold;		/* enum irc_hold */
	__u8 slow;		/* 1: the portscan's slow window fired */
	__u32 protect;		/* enum irc_protect_why bits */
	__u8 addr[16];
	__u32 target_pid;	/* ptrace: the traced process */
	__u32 fd;		/* reverse shell (kernel): the fd found to be a socket (0) */
	char path[IRC_FIND_PATH_LEN];	/* exec'd or opened file */
};

#endif /* IRCONTAIN_ABI_H */
