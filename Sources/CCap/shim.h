// CCap: libcap for MSSClampPrivileges, plus the process calls Swift cannot make itself
// (prctl is variadic; setres[ug]id glibc hides behind _GNU_SOURCE).
#ifndef CCAP_SHIM_H
#define CCAP_SHIM_H

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/capability.h>
#include <grp.h>
#include <unistd.h>

// glibc declares these only under _GNU_SOURCE; its versions change every thread's ids.
extern int setresuid(uid_t ruid, uid_t euid, uid_t suid);
extern int setresgid(gid_t rgid, gid_t egid, gid_t sgid);

static inline int ccap_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
static inline int ccap_get_no_new_privs(void) { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); }
static inline int ccap_set_keep_caps(int on) { return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0); }
static inline int ccap_ambient_raise(int cap) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0); }
static inline int ccap_bounding_drop(int cap) { return prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); }
static inline int ccap_bounding_has(int cap) { return prctl(PR_CAPBSET_READ, cap, 0, 0, 0); }
static inline int ccap_last_cap(void) { return (int)cap_max_bits() - 1; }

#endif
