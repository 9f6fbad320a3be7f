// CThread: the two thread calls the worker's queue threads make that Swift's Glibc module
// does not show (glibc declares them only under _GNU_SOURCE): a thread's name, for
// ps -L and top -H, and its CPU (--cpus). Both are in glibc itself; nothing to link.
#ifndef CTHREAD_SHIM_H
#define CTHREAD_SHIM_H

#include <sys/types.h>
#include <pthread.h>
#include <sched.h>

extern int pthread_setname_np(pthread_t thread, const char *name);
extern int sched_setaffinity(pid_t pid, size_t cpusetsize, const cpu_set_t *mask);

#endif
