// Package extract unpacks tar and zip archives, and copies any fs.FS,
// into a confine.Root, creating every entry on held directory
// descriptors: neither a link in the archive, nor one already in the
// destination, nor one raced in during the extraction can redirect a
// single write.
//
// Tar, Zip and FS extract; ScanTar and ScanZip report what an extraction
// would refuse or skip, writing nothing. Every entry is created through a
// view of the Root that refuses every symlink (confine.Root.Restrict with
// confine.NoSymlinks): the extractor never follows a link, whoever
// planted it.
//
// # Threat model
//
// The archive is the attacker's, byte for byte: names, types, modes,
// link targets, sizes, the order and repetition of entries, and the
// compressed data. The attacker may also have planted entries in the
// destination beforehand, and may create, remove and swap entries in it
// while the extraction runs. The destination directory itself, given as a
// Root, and everything above it, are trusted.
//
// # Guarantees
//
// Safe by default, and a refusal rather than a rewrite: an entry that
// breaks a rule stops the extraction with a *fs.PathError (Op "extract")
// naming the entry as the archive spells it and matching a sentinel with
// errors.Is, unless SkipRefused is given, in which case the Report says
// what was skipped and why.
//
//   - Names: empty, NUL bytes, backslashes, drive letters, a component
//     over 255 bytes or 4096 bytes in all are canon.ErrInvalid; absolute
//     names and ".." leaving the root are confine.ErrEscape; any other ".."
//     is canon.ErrInvalid ("a/../b" means "b" only when a is no link).
//     "." components and repeated or trailing slashes are accepted.
//   - No symlink is ever followed while entries are created: an entry
//     under a link is confine.ErrSymlink, wherever the link came from.
//   - Symlink entries: LinkWithin (the default) creates a link only when its
//     target, read from the link's own directory, stays inside the root;
//     LinkDeny refuses them all; LinkVerbatim creates them as they are.
//   - Hard links: only to a regular file this extraction wrote (never to a
//     link, a directory, a device or a file that was already there), made
//     with linkat on held descriptors and checked afterwards to be that
//     very file; otherwise ErrHardLink (confine.ErrSymlink for a link).
//   - FIFOs and devices are skipped (WithSpecialFiles creates them),
//     sockets always. Set-id and sticky bits are cleared. Owners are kept
//     only with KeepOwners when running as root. Extended attributes, ACLs
//     and sparse holes are not restored.
//   - An existing entry at an entry's name, or a duplicate entry, is
//     fs.ErrExist, unless Replace: then the entry is written under a
//     temporary name and renamed over the old one, never written through
//     it. Directories are never replaced; existing ones are merged into,
//     and keep their mode and times.
//   - Modes are the archive's (not masked by the umask, as GNU tar as root
//     or with -p). Files are written at 0o600 and get their mode on their
//     descriptor; directories are made 0o700 and get their modes and times
//     last, on descriptors held since they were made, so a 0o555 or 0o000
//     directory does not stop its own children.
//   - Limits (Limits, WithLimits, WithContext) count bytes actually
//     written, not what headers claim; exceeding one is ErrLimit, never
//     skipped, and the partial file is removed.
//
// # Limitations
//
//   - Extraction needs Linux (a Root with NoSymlinks); elsewhere Tar, Zip
//     and FS return errors.ErrUnsupported. ScanTar and ScanZip work
//     everywhere.
//   - An attacker writing in the destination during the extraction cannot
//     make it write outside, but can still change the tree under it: a
//     directory the extraction made can be renamed or replaced by another
//     directory, and the entries that follow then land where the attacker
//     put them, inside the root. Such a race makes the extraction fail
//     (ErrSymlink, ErrExist) or produce a different tree, never an escape.
//   - LinkWithin judges a link by its text: a later entry cannot turn it
//     into an escape (no ".." follows a component), but a link already in
//     the destination that leads outside can still be reached through a
//     link the archive made, by whatever follows links later.
//   - The limits bound bytes written: skipping a refused entry still reads
//     and decompresses its data. Bound the time with WithContext.
//   - On an error, what was written stays (the partial file excepted).
package extract
