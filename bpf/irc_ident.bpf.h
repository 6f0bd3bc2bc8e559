/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Identities of files and programs, read from kernel objects (CO-RE, for
 * tracing programs): a file is its (device, inode) whatever path opened
 * it; a program is its executable's file, which neither its comm nor
 * argv[0] can change.  Every read is bounded; every helper returns 0 or
 * a negative number, and a NULL pointer anywhere is a miss.
 */
#ifndef IRC_IDENT_BPF_H
#define IRC_IDENT_BPF_H

#define IRC_O_PATH	010000000	/* uapi O_PATH: a handle, not an open for I/O */

/* The file behind descriptor @fd of task @t, or NULL. */
static __always_inline struct file *irc_fd_file(struct task_struct *t, long fd)
{
	struct file **fds, *f = NULL;

	if (fd < 0 || fd >= BPF_CORE_READ(t, files, fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(t, files, fdt, fd);
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* The identity of inode @i (superblock dev in the kernel's encoding). */
static __always_inline int irc_inode_fid(struct inode *i, struct irc_fid *id)
{
	if (!i)
		return -1;
	id->dev = BPF_CORE_READ(i, i_sb, s_dev);
	id->ino = BPF_CORE_READ(i, i_ino);
	return 0;
}

static __always_inline int irc_file_fid(struct file *f, struct irc_fid *id)
{
	return f ? irc_inode_fid(BPF_CORE_READ(f, f_inode), id) : -1;
}

/* The identity of the directory a file was opened in (its dentry's parent). */
static __always_inline int irc_file_dir_fid(struct file *f, struct irc_fid *id)
{
	return f ? irc_inode_fid(BPF_CORE_READ(f, f_path.dentry, d_parent, d_inode), id) : -1;
}

/*
 * The name the file was opened by in that directory, NUL padded into
 * @buf (IRC_SENS_NAME_LEN bytes: a longer name is cut at 31).
 */
static __always_inline int irc_file_name(struct file *f, char *buf)
{
	const unsigned char *n = BPF_CORE_READ(f, f_path.dentry, d_name.name);

	return n && bpf_probe_read_kernel_str(buf, IRC_SENS_NAME_LEN, n) > 0 ? 0 : -1;
}

/* The running program's executable file (mm->exe_file), or NULL (a kernel thread). */
static __always_inline struct file *irc_exe_file(struct task_struct *t)
{
	return BPF_CORE_READ(t, mm, exe_file);
}

#endif /* IRC_IDENT_BPF_H */
