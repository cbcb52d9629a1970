// Package confine acts on untrusted names inside a directory without ever
// being led outside it, and without a race between the check and the use.
//
// A [Root] holds an open file descriptor on its directory. Every operation
// resolves its name relative to that descriptor, either with the kernel's
// openat2(2) (RESOLVE_BENEATH or RESOLVE_IN_ROOT, with
// RESOLVE_NO_MAGICLINKS always) or with a walk that opens one component at
// a time on held descriptors, never following a link or ".." without
// checking where it leads. The answer is an open file, not a path string,
// so nothing can be swapped between the check and the use.
//
// An [Allowlist] confines absolute user paths to a set of allowed
// directories.
//
// # Threat model
//
// The attacker controls the names passed to a Root and can create, remove,
// rename and exchange entries inside the root, concurrently with every
// call: plant symlinks (absolute, relative, dangling, chains, loops),
// replace a directory with a link mid-lookup, use "..", absolute names,
// trailing slashes, /proc magic links.
//
// The attacker cannot move an entry from inside the root to outside it:
// then nothing can promise containment (a held descriptor follows the
// moved directory, and openat2 itself refuses with EXDEV). Nor can the
// attacker mount file systems.
//
// # Guarantees
//
//   - No operation resolves a name to anything outside the root. In
//     Beneath mode (the default) an escape is an error matching
//     [ErrEscape]; in InRoot mode ".." stops at the root and absolute
//     names and link targets start there.
//   - At most 40 symlinks are followed per resolution (the kernel's
//     MAXSYMLINKS); the 41st is ELOOP, in both backends.
//   - /proc magic links (fd/N, exe, cwd, root, ns/...) are never followed:
//     ELOOP.
//   - Both backends give the same answer on every tree that does not
//     change during the call.
//   - Bad input (empty names, NUL bytes, 4096 bytes or more, a component
//     over 255 bytes, mode bits outside 0o777) is an error matching
//     canon.ErrInvalid, never a panic and never a partial action.
//   - Errors are *fs.PathError values carrying the caller's own name.
//
// # Limitations
//
//   - Hard links inside the root to files outside it are followed: a hard
//     link is the file itself, and only the owner of the tree can prevent
//     them (fs.protected_hardlinks).
//   - Bind mounts inside the root lead wherever they are mounted; use
//     [NoXDev] to refuse crossing any mount point.
//   - Device files, FIFOs and sockets inside the root are opened like any
//     file (opening a FIFO for reading blocks as it does with os.Open),
//     unless the Root has NoSpecialFiles, which judges the type on an
//     O_PATH descriptor first and refuses them with ErrSpecialFile.
//   - Outside Linux, a Root delegates to os.Root (Beneath semantics only);
//     InRoot, NoSymlinks, NoXDev and NewRoot return errors.ErrUnsupported.
package confine
