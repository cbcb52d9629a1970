// Package sys holds the system-call wrappers the rest of pathguard is built
// on, shaped like golang.org/x/sys/unix: one function per system call,
// kernel names, raw errno values. Each wrapper documents only what it adds
// to the call it wraps: O_CLOEXEC always, EINTR retried, EAGAIN retried a
// bounded number of times.
//
// Nothing here interprets paths; that is internal/resolve's job.
package sys
