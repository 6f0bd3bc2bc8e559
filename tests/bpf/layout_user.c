// SPDX-License-Identifier: GPL-2.0-only
/*
 * The contract as userspace's compiler lays it out: built by $(CC) with
 * -gbtf, so its .BTF section holds every struct of ircontain/abi.h for
 * test_layout.c to compare with the BPF objects'.  No code.
 */
#include <linux/types.h>

#include "ircontain/abi.h"
