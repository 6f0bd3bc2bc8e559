/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Containment first, record second, record never lost.  A command that
 * changes what the kernel enforces first leaves a note of its intent in
 * STATE_DIR/pending/ (one small file, no fsync: only SIGKILL or a crash
 * must be survived here, and the page cache survives both), then writes
 * the maps, then records (`quarantine host` leaves it right after its map
 * write instead: no file creation precedes containment).  Recorded: the note goes.  Not recorded (no
 * store, a full disk, a missing key, a lock held too long): the note is
 * rewritten as the whole record and fsync'd, and the command exits 1
 * "applied, not recorded".  Killed in between: the note stays.  The next
 * command that opens the store (a CLI command, verify, the controller)
 * appends every note whose process is gone, marked "journaled", and
 * removes it.
 */
#ifndef IRC_JOURNAL_H
#define IRC_JOURNAL_H

#include <stdint.h>
#include <jansson.h>

struct irc_store;

/*
 * Before the kernel write of @what ("quarantine host") on @operand.  Never
 * fails the command: a note that cannot be written is only a lost safety
 * net (verify still sees the maps).  Removed at exit unless kept.
 */
void irc_journal_intent(const char *what, const char *operand, int64_t incident,
			const char *reason);
/* The record was written: the note goes now. */
void irc_journal_done(void);
/*
 * The record was not written: the note becomes the record itself
 * (@type, @target, @body as irc_record_action() would have stored them)
 * and is fsync'd.  Returns 0 or -errno.
 */
int irc_journal_keep(int64_t incident, const char *type, const char *target,
		     const char *actor, json_t *body);
/*
 * Appends the notes of processes that are gone, oldest first.  Returns
 * how many were recorded (or -errno), and the number still pending
 * (including live ones) in *@left if not NULL.
 */
int irc_journal_replay(struct irc_store *s, const char *state_dir, int *left);

/*
 * No replay while on: a store opened before a kernel write (to check an
 * incident) must not wait for the write lock to record others' notes.
 */
void irc_journal_defer(bool on);

/* Notes waiting in @state_dir's journal (0 if none or no journal). */
int irc_journal_pending(const char *state_dir);

#endif /* IRC_JOURNAL_H */
