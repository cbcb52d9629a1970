// Package sys holds the system-call wrappers the rest of pathguard is built
// on, shaped like golang.org/x/sys/unix: one function per system call,
// kernel names, raw errno values. Each wrapper documents only what it adds
// to the call it wraps: O_CLOEXEC always (added here and nowhere else) and
// EINTR retried (one rule, retry, for every call but close). EAGAIN is
// never retried here: internal/resolve bounds a whole lookup's retries.
//
// Nothing here interprets paths; that is internal/resolve's job.
package sys
