// CAllocCounter: counts heap allocations made by the calling thread, for `hotpath allocs`
// (make test) — the proof that the worker's per-packet path allocates nothing.
//
// The executable that links this defines malloc and friends itself; the dynamic linker
// then binds every library's calls (the Swift runtime's too) to these, which count when
// asked and hand the work to glibc's own allocator (__libc_malloc & co.). Counting is per
// thread, so the runtime's other threads cannot disturb a measurement.
#ifndef ALLOC_COUNTER_H
#define ALLOC_COUNTER_H

/// Starts counting on this thread from zero.
void alloc_counter_start(void);
/// Stops counting and returns the allocations (malloc, calloc, realloc, memalign family)
/// this thread made since alloc_counter_start.
unsigned long alloc_counter_stop(void);

#endif
