// CPcap: libpcap for MSSClampCapture, and nothing else.
//
// Only headers: the Swift side wraps each call once. pcap/pcap.h brings the DLT_* and
// PCAP_* constants the capture module needs; arpa/inet.h gives AF_* for BSD loopback.
#ifndef CPCAP_SHIM_H
#define CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
