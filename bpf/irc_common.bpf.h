/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Helpers shared by every ircontain BPF object. */
#ifndef IRC_COMMON_BPF_H
#define IRC_COMMON_BPF_H

/* Per-CPU counter: no atomics, summed by userspace. */
static __always_inline void irc_count(__u32 idx)
{
	__u32 zero = 0;
	struct irc_stats *st = bpf_map_lookup_elem(&IRC_MAP_STATS, &zero);

	if (st && idx < IRC_STAT__MAX)
		st->cnt[idx]++;
}

static __always_inline struct irc_config *irc_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&IRC_MAP_CONFIG, &zero);
}

static __always_inline __u32 irc_cfg_flags(void)
{
	struct irc_config *cfg = irc_config_get();

	return cfg ? cfg->flags : 0;
}

#endif /* IRC_COMMON_BPF_H */
