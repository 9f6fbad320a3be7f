# mssclamp — build, test, demo and benchmark entry points.
# `make test` must pass on a fresh Debian bookworm machine as root: `deps` installs
# everything the build, the tests and the demo use.

SWIFT       ?= swift
CONFIG      ?= debug
BIN         := .build/$(CONFIG)/mssclamp
APT_PACKAGES := libnetfilter-queue-dev libmnl-dev libpcap-dev libcap-dev pkg-config \
                iptables nftables iproute2 ethtool iputils-ping procps kmod bc \
                tcpdump tshark python3 python3-scapy python3-seccomp systemd

PREFIX      ?= /usr/local
DESTDIR     ?=
# Autotools' convention: PREFIX/etc, but /etc for a system-wide PREFIX=/usr.
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

.PHONY: all deps build test demo bench clean install

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

# The binary, the systemd unit (paths rewritten for PREFIX/SYSCONFDIR), the sysusers.d file,
# the iptables-legacy drop-in as an example, and the example policy (never over an existing one).
# Builds (release unless CONFIG=debug) unless BIN=path is given on the command line.
install: CONFIG = release
install:
	$(if $(filter command line,$(origin BIN)),@test -x $(BIN),$(MAKE) build CONFIG=$(CONFIG))
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/mssclamp
	install -d -m 0755 $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/share/doc/mssclamp
	sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' -e 's|/etc/mssclamp.yaml|$(SYSCONFDIR)/mssclamp.yaml|g' \
	    deploy/mssclamp.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/mssclamp.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/mssclamp.service
	install -m 0644 deploy/mssclamp.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/mssclamp.conf
	install -m 0644 deploy/mssclamp-iptables-legacy.conf $(DESTDIR)$(PREFIX)/share/doc/mssclamp/iptables-legacy.conf
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml ]; then echo "kept $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml"; \
	 else install -D -m 0644 deploy/mssclamp.yaml $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml; fi

clean:
	rm -rf .build
