/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Emitting event records.  Every attempt takes the next per-CPU sequence
 * number; a reservation that fails (ring full) is counted in
 * irc_evstat.lost, so the gap it leaves is explained, never silent.
 * Findings have a ring and a sequence of their own (fseq, flost).
 * Packet samples and denials are rate-limited per CPU (GCRA); what the
 * limiter holds back is counted in irc_evstat.unsampled.
 */
#ifndef IRC_EVENTS_BPF_H
#define IRC_EVENTS_BPF_H

#define IRC_NSEC	1000000000ULL

static __always_inline struct irc_evstat *irc_evstat_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&IRC_MAP_EVSTAT, &zero);
}

/* A header-initialised record of @size bytes, or NULL (counted). */
static __always_inline void *irc_ev_reserve(__u32 size, __u16 type)
{
	struct irc_evstat *st = irc_evstat_get();
	struct irc_ev_hdr *h;

	__u64 seq;

	if (!st)
		return NULL;
	/* @type is a constant at every call: one ring per call site. */
	if (type == IRC_EV_FINDING) {
		seq = ++st->fseq;
		h = bpf_ringbuf_reserve(&IRC_MAP_FINDINGS, size, 0);
		if (!h) {
			st->flost++;
			return NULL;
		}
	} else {
		seq = ++st->seq;
		h = bpf_ringbuf_reserve(&IRC_MAP_EVENTS, size, 0);
		if (!h) {
			st->lost++;
			return NULL;
		}
	}
	__builtin_memset(h, 0, sizeof(*h));
	h->type = type;
	h->cpu = bpf_get_smp_processor_id();
	h->size = size;
	h->seq = seq;
	h->ts_ns = bpf_ktime_get_boot_ns();
	return h;
}

#define IRC_EV_RESERVE(type_t, ev_type) \
	((type_t *)irc_ev_reserve(sizeof(type_t), (ev_type)))

/*
 * GCRA: at most @rate per second with a burst of one second's worth.
 * Returns 1 if this one may go, 0 if it is held back (and counted).
 * Drop samples (packet hooks only) use the coarse clock, the last tick's
 * time: plenty for a 20 ms interval.  That time moves only with jiffies,
 * so once a drop is held back, the decision holds for the rest of the
 * tick: a flood's later drops in it read jiffies (an inlined load) and
 * pay no clock helper at all.  (jiffies moves just before the coarse
 * clock; a tick that began between the two reads is judged by the one
 * before it: the limiter lags one tick at most.)  Denials come from
 * tracing hooks too, which may not call the coarse clock; @deny is a
 * constant at every call, so each program keeps one of the two calls.
 */
static __always_inline int irc_rate_ok(int deny)
{
	struct irc_evstat *st = irc_evstat_get();
	__u64 now, tat, interval, tick = 0;

	if (!st)
		return 0;
	if (!deny) {
		tick = bpf_jiffies64();
		if (st->drop_held_tick == tick) {
			st->unsampled++;
			return 0;
		}
	}
	now = deny ? bpf_ktime_get_boot_ns() : bpf_ktime_get_coarse_ns();
	interval = IRC_NSEC / (deny ? IRC_DENY_RATE : IRC_SAMPLE_RATE);
	tat = deny ? st->deny_tat_ns : st->drop_tat_ns;
	if (tat < now)
		tat = now;
	if (tat - now > IRC_NSEC - interval) {
		if (!deny)
			st->drop_held_tick = tick;
		st->unsampled++;
		return 0;
	}
	if (deny)
		st->deny_tat_ns = tat + interval;
	else
		st->drop_tat_ns = tat + interval;
	return 1;
}

/* Identity of the current task from helpers every hook type may call. */
static __always_inline void irc_ev_current(struct irc_ev_hdr *h)
{
	__u64 pt = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();

	h->pid = (__u32)pt;
	h->tgid = pt >> 32;
	h->uid = (__u32)ug;
	h->gid = ug >> 32;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

#endif /* IRC_EVENTS_BPF_H */
