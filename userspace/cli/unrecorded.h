/* SPDX-License-Identifier: GPL-2.0-only */
/* Containment in force that the evidence store has no record of (cli/unrecorded.c). */
#ifndef IRC_UNRECORDED_H
#define IRC_UNRECORDED_H

#include <jansson.h>

struct irc_store;

/*
 * Containment the kernel enforces that @s has no record of (a command
 * killed between its map write and its record, a map written by hand):
 * the entities ("host:10.0.0.1", "pid:42") as a JSON array of strings,
 * empty when the maps cannot be read (not root, not loaded).
 */
json_t *irc_unrecorded_containment(struct irc_store *s);

#endif /* IRC_UNRECORDED_H */
