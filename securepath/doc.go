// Package securepath answers the first question CERT's secure-coding rules
// ask before a file is touched (FIO15-C, "Ensure that file operations are
// performed in a secure directory"; FIO01-PL): can anyone I do not trust
// rename, replace or plant entries in this directory or in any of its
// ancestors? If they can, no check on a name inside it means anything.
//
// [Check] walks from "/" to a directory on held descriptors and judges
// every directory it meets; [OpenDir] does the same and returns a
// confine.Root on the very descriptor it judged; [Open] runs the whole
// flow (secure directory, resolve, validate against the root, open) in
// one call; [WriteFile] writes secrets so that nothing is ever written
// through a link and no partial file is ever seen, and [WriteFilePath]
// does the same for a command line that was given a path.
//
// # Threat model
//
// The attacker is another local user (or several), not trusted by the
// [Policy]. They may own directories, create files and symlinks wherever
// the permissions let them, hold descriptors opened on their own files
// before the program runs, and change names concurrently with every call.
// The credential-file attack is the model case: the attacker plants a
// symlink at the name a program will write a secret to, pointing to a file
// they own and have already opened; a program that opens the name,
// writes, then chmods has written the secret into the attacker's file.
//
// The attacker cannot act as root or as a trusted user, cannot mount file
// systems, and cannot change the program's own descriptors.
//
// # Guarantees
//
//   - Check's verdict is about the directories the walk opened: each step
//     opens one name with O_PATH|O_NOFOLLOW relative to the directory
//     before it and judges the descriptor with fstat, so no rename can
//     make the walk judge one directory and enter another.
//   - Owner: root and the effective uid are trusted, plus Policy's
//     TrustedUIDs. Group write is acceptable only for a group in
//     Policy.TrustedGIDs; no group is trusted by inference. Any POSIX
//     access ACL counts as writable by someone untrusted.
//   - An ancestor others can write is acceptable only when sticky and the
//     entry passed through (directory or symlink) is owned by a trusted
//     user; the target may not be writable by anyone untrusted at all.
//   - Check, OpenDir and Open do not walk on their own: they judge the
//     steps of internal/resolve's walk, the one that confine's walk
//     backend uses, so every rule of that walk applies to them (see
//     below). Symlinks on the way are followed by walking their target
//     the same way, at most 40 (the kernel's MAXSYMLINKS); procfs magic
//     links are refused with ELOOP.
//   - Bad input (relative or empty paths) is an error matching
//     canon.ErrInvalid; missing paths, paths through files and unreadable
//     ancestors are errors; nothing is ever "secure" by default.
//   - OpenDir and Open act on the very descriptors that were judged: a
//     directory renamed away and replaced after the check is not what the
//     Root sees.
//   - WriteFile never writes through a symlink (an existing one is
//     refused with confine.ErrSymlink and left in place; one raced in is
//     replaced by the rename), never publishes a partial file, and gives
//     the file exactly the requested mode whatever the umask. A descriptor
//     anyone held on an older file at the name never sees the new data.
//   - Errors are *fs.PathError values; insecure verdicts match
//     [ErrInsecure].
//
// # Limitations
//
//   - Check's verdict alone is advisory: the tree can change after it
//     returns. Act through OpenDir or Open.
//   - Trusted users are trusted completely: a change they make between
//     Open's walk and its open is detected (the opened file must be the one
//     walked to) but not prevented.
//   - Default ACLs (system.posix_acl_default) do not change the verdict;
//     Check reports them in Entry.DefaultACL and Entry.Reason, since a new
//     file in such a directory may be more accessible than its mode says.
//   - Reading ACLs needs /proc (getxattr on an O_PATH descriptor is
//     refused by the kernel): without procfs, Check fails rather than
//     guess.
//   - Ancestors the caller cannot search (no x permission) make Check
//     fail with EACCES: their contents cannot be judged.
//   - WriteFile's Replace does not preserve the replaced file's owner,
//     group, extended attributes or hard links: the new file is a new
//     inode owned by the caller.
//   - Where the file system lacks O_TMPFILE, WriteFile uses a named
//     temporary file ".<name>.<16 hex>.tmp", created exclusively with mode
//     0. In a directory that an attacker can write and that is not sticky
//     they could then swap that name before it is published; use WriteFile
//     on a Root from OpenDir.
//   - The engine's rules are stricter than Check's own walk before it,
//     and may turn what was a verdict into an error: a trailing symlink
//     in a sticky world-writable directory that neither the caller nor
//     the directory's owner owns is EACCES when fs.protected_symlinks is
//     on, where the report used to judge the directory for the link; a
//     symlink on a mount with nosymfollow is ELOOP; a component of a
//     link's text longer than NAME_MAX is ENAMETOOLONG (it was
//     canon.ErrInvalid); a very deep walk no longer fails with
//     ENAMETOOLONG at 2048 levels, the engine bounds the descriptors it
//     holds instead. Open honours the Root's NoSymlinks and NoXDev during
//     the walk, and a file replaced between its judgement and its open
//     is looked up again, up to the engine's retry bound, then an error
//     matching syscall.EAGAIN (it was that error at once).
//   - Outside Linux every function returns errors.ErrUnsupported.
package securepath
