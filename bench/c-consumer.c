/*
 * The baseline of `make bench`: what an operator would otherwise write, a plain
 * libnetfilter_queue consumer in C over libmnl. One recv per message, one verdict (one
 * sendto) per packet, MSS of IPv4/IPv6 SYNs in 1361..1536 set to 1360 with an RFC 1624
 * checksum update. No extension headers, no batching, no tuning beyond a large receive
 * buffer and fail-open: the straightforward program, so the comparison is fair to it.
 *
 *   c-consumer QUEUE      (runs until SIGTERM / SIGINT; prints "packets clamped" on exit)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stopping;
static unsigned long packets, clamped;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Clamps the MSS option of a SYN in place; returns 1 when the packet changed. */
static int clamp(uint8_t *p, size_t len) {
    size_t tcp;
    if (len < 20) return 0;
    if ((p[0] >> 4) == 4) {
        tcp = (size_t)(p[0] & 15) * 4;
        if (p[9] != IPPROTO_TCP || (ntohs(*(uint16_t *)(p + 6)) & 0x1fff)) return 0;
    } else if ((p[0] >> 4) == 6) {
        tcp = 40;
        if (len < 40 || p[6] != IPPROTO_TCP) return 0;
    } else {
        return 0;
    }
    if (len < tcp + 20 || (p[tcp + 13] & 0x06) != 0x02) return 0;
    size_t header = (size_t)(p[tcp + 12] >> 4) * 4;
    if (header < 20 || tcp + header > len) return 0;
    for (size_t i = 20; i + 4 <= header;) {
        uint8_t kind = p[tcp + i];
        if (kind == 2 && p[tcp + i + 1] == 4) {
            uint16_t mss = (uint16_t)(p[tcp + i + 2] << 8 | p[tcp + i + 3]);
            if (mss < 1361 || mss > 1536) return 0;
            uint16_t old = htons(mss), new = htons(1360);
            uint16_t *check = (uint16_t *)(p + tcp + 16);
            /* RFC 1624: HC' = ~(~HC + ~m + m'); the option word may be at an odd offset,
             * which the straightforward consumer, like the kernel, ignores. */
            *check = (uint16_t)~fold((uint32_t)(uint16_t)~*check + (uint16_t)~old + new);
            memcpy(p + tcp + i + 2, &new, 2);
            return 1;
        }
        if (kind <= 1 || p[tcp + i + 1] < 2) i++;
        else i += p[tcp + i + 1];
    }
    return 0;
}

static void verdict(struct mnl_socket *nl, uint16_t queue, uint32_t id, uint8_t *payload, size_t len, int changed) {
    char buf[MNL_SOCKET_BUFFER_SIZE + 0x10000];
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, queue);
    nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
    if (changed) nfq_nlmsg_verdict_put_pkt(nlh, payload, (uint32_t)len);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) perror("sendto");
}

struct context { struct mnl_socket *nl; uint16_t queue; };

static int on_packet(const struct nlmsghdr *nlh, void *data) {
    struct context *ctx = data;
    struct nlattr *attr[NFQA_MAX + 1] = {0};
    if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) return MNL_CB_OK;
    struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
    uint32_t id = ntohl(ph->packet_id);
    packets++;
    if (!attr[NFQA_PAYLOAD]) { verdict(ctx->nl, ctx->queue, id, NULL, 0, 0); return MNL_CB_OK; }
    uint8_t *payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
    size_t len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
    int changed = clamp(payload, len);
    clamped += (unsigned long)changed;
    verdict(ctx->nl, ctx->queue, id, payload, len, changed);
    return MNL_CB_OK;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s QUEUE\n", argv[0]); return 2; }
    uint16_t queue = (uint16_t)atoi(argv[1]);
    struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) { perror("netlink"); return 1; }
    int size = 8 << 20;
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    int one = 1;
    setsockopt(mnl_socket_get_fd(nl), SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);

    char buf[MNL_SOCKET_BUFFER_SIZE + 0x10000];
    struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) { perror("bind"); return 1; }
    nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
    mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(4096));
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) { perror("config"); return 1; }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    struct timeval tv = {0, 200000};
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fprintf(stderr, "ready: queue %u\n", queue);

    struct context ctx = {nl, queue};
    unsigned int portid = mnl_socket_get_portid(nl);
    while (!stopping) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) continue;
            perror("recv");
            break;
        }
        if (mnl_cb_run(buf, (size_t)n, 0, portid, on_packet, &ctx) < 0) perror("mnl_cb_run");
    }
    printf("%lu %lu\n", packets, clamped);
    mnl_socket_close(nl);
    return 0;
}
