# mssclamp — build, test, demo and benchmark entry points.
# `make test` must pass on a fresh Debian bookworm machine as root: `deps` installs
# everything the build, the tests and the demo use.

SWIFT       ?= swift
CONFIG      ?= debug
BIN         := .build/$(CONFIG)/mssclamp
APT_PACKAGES := libnetfilter-queue-dev libmnl-dev libpcap-dev pkg-config \
                iptables nftables iproute2 ethtool iputils-ping procps kmod bc \
                tcpdump tshark python3 python3-scapy

.PHONY: all deps build test demo bench clean

all: build

# Installs only when something is missing, so repeated runs cost nothing.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to install: $$missing" >&2; exit 1; fi; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

# Unit tests, then the tests that replay real captures and run real tools in namespaces
# (those need root and skip themselves without it).
test: build
	MSSCLAMP_BIN=$(CURDIR)/$(BIN) $(SWIFT) test

# The MTU black hole behind a VPN gateway and its fix, in namespaces (needs root).
demo: build
	MSSCLAMP_BIN=$(CURDIR)/$(BIN) bash scripts/demo.sh

# The worker against the kernel's TCPMSS rule, same lab, same run, as ratios (release build).
bench: deps
	$(SWIFT) build -c release
	MSSCLAMP_BIN=$(CURDIR)/.build/release/mssclamp bash scripts/bench.sh

clean:
	rm -rf .build
