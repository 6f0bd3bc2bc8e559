// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the event decoder (evjson.c), which turns ring-buffer
 * records from the kernel into JSON.  The header's type and size are set
 * from the input so every decoder is reached; the rest is whatever the
 * fuzzer makes.  Whatever it decodes must encode as valid JSON text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "evjson.h"
#include "ircontain/abi.h"
#include "ptable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct irc_ptable pt;
static struct irc_evctx ctx;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct irc_ev_hdr *h;
	uint8_t *rec;
	json_t *o;
	char *text;

	if (!ready) {
		if (irc_pt_init(&pt, "00000000-0000-4000-8000-000000000000"))
			abort();
		irc_evctx_init(&ctx, &pt);
		/* Nothing from this machine: the record alone. */
		ctx.proc_root = "/nonexistent-irc-fuzz";
		ctx.cgroup_mount[0] = '\0';
		ready = 1;
	}
	if (size < 1)
		return 0;
	rec = calloc(1, size + sizeof(*h));
	if (!rec)
		return 0;
	memcpy(rec, data + 1, size - 1);
	h = (struct irc_ev_hdr *)rec;
	/* The type from the first byte; the size the kernel would say, or not. */
	h->type = data[0] % 16;
	if (data[0] & 0x80)
		h->size = size - 1;
	o = irc_ev_json(&ctx, rec, size - 1);
	if (o) {
		text = json_dumps(o, JSON_COMPACT);
		if (!text)
			abort();
		json_decref(json_loads(text, 0, NULL) ?: (abort(), NULL));
		free(text);
		json_decref(o);
	}
	free(rec);
	return 0;
}
