// CPcap: libpcap for MSSClampCapture, and nothing else.
//
// Only headers: the Swift side wraps each call once. pcap/pcap.h brings the DLT_* and
// PCAP_* constants the capture module needs; arpa/inet.h gives AF_* for BSD loopback.
#ifndef CPCAP_SHIM_H
#define CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>

/// A capture file read by one thread: stdio need not lock its FILE on each of the two
/// fread calls per record libpcap makes (a fifth of dry-run's time on a million SYNs).
static inline void cpcap_read_unlocked(pcap_t *handle) {
    FILE *file = pcap_file(handle);
    if (file) __fsetlocking(file, FSETLOCKING_BYCALLER);
}
#endif
