// CNetfilterQueue: libmnl + libnetfilter_queue (its libmnl-based nlmsg API) for MSSClampNFQueue.
//
// Include order matters: the linux/netfilter headers use types from the BSD socket and
// netinet headers without including them, and libnetfilter_queue.h expects the kernel's
// nfnetlink_queue.h definitions to be in place first.
#ifndef CNETFILTERQUEUE_SHIM_H
#define CNETFILTERQUEUE_SHIM_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

// Macros and enum-derived values Swift cannot import.

/// NLMSG_ALIGN(len): netlink messages in one buffer start on 4-byte boundaries.
static inline uint32_t cnfq_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }

/// RTMGRP_LINK: the multicast group for link changes, to refresh interface names.
static inline unsigned int cnfq_rtmgrp_link(void) { return RTMGRP_LINK; }

/// The verdict values, as plain ints (NF_ACCEPT / NF_DROP are macros).
static inline int cnfq_accept(void) { return NF_ACCEPT; }
static inline int cnfq_drop(void) { return NF_DROP; }

/// RTA_* / IFLA_* / RTAX_* values are enum members, importable; NLMSG_ALIGN is not, above.
/// struct rtmsg and struct ifinfomsg sizes, for mnl_nlmsg_put_extra_header.
static inline size_t cnfq_rtmsg_size(void) { return sizeof(struct rtmsg); }
static inline size_t cnfq_ifinfomsg_size(void) { return sizeof(struct ifinfomsg); }

/// recvmmsg(2) without _GNU_SOURCE (which the Glibc module is built without): the kernel's
/// struct mmsghdr, and the system call itself. One call takes a whole batch of queued packets.
struct cnfq_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
static inline int cnfq_recvmmsg(int fd, struct cnfq_mmsghdr *vector, unsigned int length, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, vector, length, flags, (void *)0);
}
/// MSG_WAITFORONE (a GNU extension): block for the first datagram only.
static inline int cnfq_msg_waitforone(void) { return 0x10000; }

#endif
