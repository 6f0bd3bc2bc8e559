// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The contract as the BPF compiler lays it out, for test_layout.c, for the
 * structs the programs' BTF does not carry: BTF describes the types of
 * maps, globals and functions, not of locals, so a ring-buffer record
 * written through a pointer bpf_ringbuf_reserve() returned is not in it.
 * The same compiler, flags and header as the programs.  Never loaded.
 * test_layout.c fails for a struct of abi.h that no object describes: add
 * it here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "ircontain/abi.h"

struct irc_ev_hdr layout_ev_hdr;
struct irc_ev_exec layout_ev_exec;
struct irc_ev_fork layout_ev_fork;
struct irc_ev_exit layout_ev_exit;
struct irc_ev_conn layout_ev_conn;
struct irc_ev_drop layout_ev_drop;
struct irc_ev_deny layout_ev_deny;
struct irc_ev_finding layout_ev_finding;

char LICENSE[] SEC("license") = "Dual BSD/GPL";
