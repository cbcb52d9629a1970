// Package canon answers "where does this untrusted path lead?" in two ways.
//
// The lexical functions, [Clean], [IsLocal], [Within] and [Split], are
// purely lexical: they look at the string only and never at the file
// system. They are exact about what the string says and blind to what the
// file system will do with it, so they are the right tool for rejecting
// bad input early and the wrong one for deciding containment on their own:
// when l is a symlink, "a/l/.." is not "a", whatever [Clean] says.
//
// The symlink-aware functions, [Join] and [Resolve], read the file system
// and follow symlinks with the root treated as "/", as chroot and the
// kernel's RESOLVE_IN_ROOT do. [Join] is filepath-securejoin's SecureJoin;
// [Resolve] asks the kernel (openat2, or a walk on held descriptors where
// openat2 is missing) through pathguard's resolution engine.
//
// Paths given to the lexical functions are slash-separated on every
// system, and behave as [path/filepath] does on Unix.
//
// # Threat model
//
// The attacker chooses the path string passed as p or unsafePath, byte
// for byte: "..", absolute names, repeated and trailing slashes, NUL
// bytes, overlong names. For [Join] and [Resolve], the attacker may also
// have planted symlinks inside the root (absolute, relative, dangling,
// chains, loops). The root itself, and every directory above it, is
// trusted: a root chosen or writable by the attacker defeats everything
// here (securepath checks that).
//
// # Guarantees
//
//   - Bad input (empty, a NUL byte, 4096 bytes or longer, a component
//     longer than 255 bytes) is refused with an error matching
//     errors.Is(err, [ErrInvalid]), never a panic. [IsLocal] and [Within]
//     report false for it.
//   - [Within] compares whole components: "/srv/www2" is not within
//     "/srv/www", and "/srv/www/../x" is not within "/srv/www".
//   - The string [Join] or [Resolve] returns lies lexically within root,
//     and, at the moment it was computed and on a tree that did not change
//     during the call, names what the path leads to when the root is
//     treated as "/". [Resolve] follows at most 40 symlinks (the kernel's
//     MAXSYMLINKS) and refuses /proc magic links; [Join] follows at most
//     255.
//   - Errors from [Clean], [Join] and [Resolve] are of type [*fs.PathError].
//
// # Limitations
//
//   - A path string is only a name. Between the moment [Join] or [Resolve]
//     returns and the moment the caller opens the string, anyone who can
//     write inside the root can swap a component for a symlink that leads
//     outside it. This race is in the nature of returning a string and
//     cannot be fixed here: to act on an untrusted path, open it through
//     confine.Root, which resolves and opens in one step on a held
//     directory descriptor. Use [Join] and [Resolve] for display, logging,
//     or to hand a path to a program that cannot take a descriptor.
//   - The lexical functions do not know which components are symlinks.
//     Cleaning ".." away is only right when nothing before it is a link.
//   - [Resolve] needs Linux; elsewhere it returns an error matching
//     [errors.ErrUnsupported].
//   - Neither function stops at mount points or refuses symlinks; use
//     confine's NoXDev and NoSymlinks options for that.
package canon
