// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the bundle reader (export_bundle.c) on any bytes as
 * the .tar.gz given to `ircontain verify`.  It must never crash, and
 * never call a bundle both intact and trusted without the key it trusts
 * having signed it (the fuzzer has no secret key: never trusted).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pk[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static int fd = -1;
	struct irc_bverify v;
	char path[64];

	if (fd < 0 && (fd = memfd_create("irc-fuzz-bundle", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&v, 0, sizeof(v));
	if (!irc_bundle_verify(path, (size & 1) ? pk : NULL, "fuzz", &v)) {
		if (v.trusted)
			abort();
		irc_bverify_free(&v);
	}
	return 0;
}
