# mssclamp — build, test, demo and benchmark entry points.
# `make test` must pass on a fresh Debian bookworm machine as root: `deps` installs
# everything the build, the tests and the demo use.

SWIFT       ?= swift
CONFIG      ?= debug
BIN         := .build/$(CONFIG)/mssclamp
APT_PACKAGES := libnetfilter-queue-dev libmnl-dev libpcap-dev libcap-dev libyaml-dev pkg-config \
                iptables nftables iproute2 ethtool iputils-ping procps kmod bc \
                tcpdump tshark python3 python3-scapy python3-seccomp systemd man-db

PREFIX      ?= /usr/local
DESTDIR     ?=
# Autotools' convention: PREFIX/etc, but /etc for a system-wide PREFIX=/usr.
SYSCONFDIR  ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)

.PHONY: all deps build test install-check uninstall demo demo-ipsec vm-deps vm-images bench soak allocs clean install fuzz fuzz-coverage sanitize sanitize-unit sanitize-worker deb vmtest vmlab alerts lint format

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

# The build, the code's form, the Debian package; then the Debian VM lab on that package
# (its quick set: `make vmtest` runs it all) beside the unit tests and the tests that replay
# real captures and run real tools in namespaces (those need root and skip themselves
# without it), the hot path's allocations (in the package's build), the alerts, make
# install, and each fuzz target briefly (ASan).
# Why beside: the VM lab is the longest stage (about half CPU-bound under TCG: 1.1 of two
# cores, measured), so it starts as soon as the package is built, shares the CPU at equal
# weight with the debug build, and goes to nice 19 before the swift tests: their labs time
# SYN holds in milliseconds (an emulator at equal weight held the restart lab's SYNs p99
# 135 ms, 1-5 ms alone) and mostly wait (about 80% of two cores idle), so the VM lab runs in
# their idle time. The namespace labs run the package's own binary (the release build, as
# shipped). Not here, for time (45 minutes on
# two cores): `make sanitize` (the unit tests under ASan and TSan, the worker under TSan)
# and the VM lab's full tunnel matrix.
# Each stage is timed (scripts/stage.sh); the times close the output, failed or not.
STAGE := bash scripts/stage.sh
RELEASE_BIN := .build-deb/release/mssclamp
test: deps
	@mkdir -p .build && rm -f .build/stages.tsv
	@# The VM lab's packages first, in the foreground (two apt-get at once would fight over
	@# dpkg's lock); its images (mostly downloading and unpacking) beside the builds.
	@$(MAKE) vm-deps
	@$(STAGE) --background vm-images nice -n 19 $(MAKE) vm-images
	@$(STAGE) deb $(MAKE) deb
	@$(STAGE) --background vm-lab $(MAKE) vmlab
	@$(STAGE) build $(MAKE) build
	@$(STAGE) lint $(MAKE) lint
	@$(STAGE) --renice vm-lab 19
	@$(STAGE) swift-test env MSSCLAMP_BIN=$(CURDIR)/$(RELEASE_BIN) $(SWIFT) test
	@$(STAGE) allocs $(MAKE) allocs
	@$(STAGE) alerts $(MAKE) alerts
	@$(STAGE) install-check $(MAKE) install-check MAN_CHECKOUT=.build-deb/checkouts/swift-argument-parser MAN_TOOL=.build-deb/manual-tool
	@$(STAGE) fuzz $(MAKE) fuzz SECONDS=10
	@$(STAGE) --wait vm-images
	@$(STAGE) --wait vm-lab
	@$(STAGE) --summary

# The code's form, as .swift-format says (swift-format ships with the toolchain): `make lint`
# fails on any difference, `make format` rewrites the files. String literals (messages) may
# run past the line length; the formatter leaves them whole.
SWIFT_SOURCES := Sources Tests Fuzz bench Package.swift
# Also the module graph's promises: no module reaches a C library it does not speak to.
lint:
	$(SWIFT) format lint --strict --recursive $(SWIFT_SOURCES)
	$(SWIFT) package describe --type json | python3 scripts/check-layers.py

format:
	$(SWIFT) format format --in-place --recursive $(SWIFT_SOURCES)

# libFuzzer targets (Fuzz/): the packet core, capture reading, the YAML policy loader,
# built with -sanitize=fuzzer,address, SECONDS each (short by default). The corpus grows in
# .build-fuzz/corpus; a crash is saved in .build-fuzz/crashes and fails the run: replay it
# with `.build/debug/fuzz-core FILE`, fix it, and keep it in Fuzz/regressions/.
SECONDS     ?= 10
FUZZ_TARGETS ?= core capture policy
FUZZ_DIR    := .build-fuzz
fuzz: deps
	@mkdir -p $(FUZZ_DIR)/crashes
	@printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$$(dirname $$(readlink -f $$(command -v $(SWIFT))))/ld.lld" >$(FUZZ_DIR)/toolset.json
	@set -e; for t in $(FUZZ_TARGETS); do \
	    $(SWIFT) build -c release --scratch-path $(FUZZ_DIR) --toolset $(FUZZ_DIR)/toolset.json \
	        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product fuzz-$$t; done
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t Fuzz/regressions/$$t; \
	    echo "fuzz-$$t: $(SECONDS) s"; \
	    SWIFT_BACKTRACE=enable=no $(FUZZ_DIR)/release/fuzz-$$t -max_total_time=$(SECONDS) -timeout=10 -rss_limit_mb=4096 \
	        -print_final_stats=1 -artifact_prefix=$(CURDIR)/$(FUZZ_DIR)/crashes/$$t- \
	        $(FUZZ_DIR)/corpus/$$t Fuzz/seeds/$$t Fuzz/regressions/$$t >$(FUZZ_DIR)/fuzz-$$t.log 2>&1 \
	        || { tail -40 $(FUZZ_DIR)/fuzz-$$t.log; echo "fuzz-$$t: FAILED (input in $(FUZZ_DIR)/crashes)"; exit 1; }; \
	    execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/fuzz-$$t.log); \
	    rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_DIR)/fuzz-$$t.log); \
	    cov=$$(grep -o 'cov: [0-9]* ft: [0-9]*' $(FUZZ_DIR)/fuzz-$$t.log | tail -1); \
	    echo "fuzz-$$t: $$execs executions ($$rate/s), 0 crashes, $$cov, corpus $$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) inputs"; \
	done

# The worker's per-packet path, as shipped (release), on synthetic queue messages with
# Linux, Windows and macOS SYNs, with and without --learn-pmtu: fails unless it makes no
# heap allocation (counted by an interposed malloc, per thread; bench/hotpath).
# Built as the package builds the worker (debian/rules: .build-deb, the Swift runtime linked
# in), so after `make deb` only hotpath's own code compiles.
allocs: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-deb --product hotpath
	.build-deb/release/hotpath allocs

# Line and branch coverage of the packet core reached by the core fuzzer's corpus (after
# `make fuzz`): the replay build of fuzz-core with coverage mapping, run over the corpus.
fuzz-coverage:
	$(SWIFT) build --scratch-path .build-cov --product fuzz-core -Xswiftc -profile-generate -Xswiftc -profile-coverage-mapping
	rm -f .build-cov/core-*.profraw
	LLVM_PROFILE_FILE=$(CURDIR)/.build-cov/core-%p.profraw .build-cov/debug/fuzz-core $(wildcard $(FUZZ_DIR)/corpus/core) Fuzz/seeds/core Fuzz/regressions/core
	llvm-profdata merge -o .build-cov/core.profdata .build-cov/core-*.profraw
	llvm-cov report .build-cov/debug/fuzz-core -instr-profile=.build-cov/core.profdata $(CURDIR)/Sources/MSSClampCore

# The unit tests under AddressSanitizer and ThreadSanitizer (the tests that run the real
# binary in namespaces are skipped there: they exercise the normal build), then the worker
# binary built with TSan through three namespace scenarios. make test runs the worker part:
# the unit tests' unsafe code is the packet core, capture reading and the policy loader,
# which `make fuzz` runs under ASan, and the threads are the worker's.
SANITIZE_SKIP := IntegrationTests|RealHandshakeTests|DryRunGoldenTests|HelpTextTests|WrittenCaptureTests|BadInputTests|ProbeLabTests
sanitize: sanitize-unit sanitize-worker

sanitize-unit: build
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp:print_suppressions=0 MSSCLAMP_BIN=$(CURDIR)/$(BIN) \
	    $(SWIFT) test --scratch-path .build-asan --sanitize=address --skip '$(SANITIZE_SKIP)'
	TSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/tsan.supp:halt_on_error=1 MSSCLAMP_BIN=$(CURDIR)/$(BIN) \
	    $(SWIFT) test --scratch-path .build-tsan --sanitize=thread --skip '$(SANITIZE_SKIP)'

# The worker itself under TSan in the namespace lab (root): two queue threads, metrics,
# the monitor, SIGHUP reloads, signals, overruns, the path-MTU learner. Any report fails the run.
sanitize-worker: deps
	$(SWIFT) build --scratch-path .build-tsan --sanitize=thread --product mssclamp
	@if [ "$$(id -u)" = 0 ]; then \
	    rm -rf .build-tsan/logs; mkdir -p .build-tsan/logs; \
	    for s in worker-clamps.sh lifecycle.sh learn-pmtu.sh; do \
	        TSAN_OPTIONS=log_path=$(CURDIR)/.build-tsan/logs/tsan:suppressions=$(CURDIR)/Tests/Sanitizers/tsan.supp \
	        MSSCLAMP_BIN=$(CURDIR)/.build-tsan/debug/mssclamp timeout 600 bash Tests/Integration/$$s >.build-tsan/logs/$$s.out 2>&1 \
	            || { cat .build-tsan/logs/$$s.out; exit 1; }; \
	    done; \
	    if ls .build-tsan/logs/tsan.* >/dev/null 2>&1; then cat .build-tsan/logs/tsan.*; echo "worker under TSan: races reported"; exit 1; fi; \
	    echo "worker under TSan (worker-clamps.sh, lifecycle.sh, learn-pmtu.sh): no report"; \
	else echo "worker under TSan: skipped (needs root for namespaces)"; fi

# The MTU black hole behind a VPN gateway and its fix, in namespaces (needs root).
demo: build
	MSSCLAMP_BIN=$(CURDIR)/$(BIN) bash scripts/demo.sh

# The worker against the kernel's TCPMSS rule, same lab, same run, as ratios (release build).
# Every contender in one run (bench/bench.sh; root): no rule, the kernel TCPMSS rule, a plain C
# consumer (bench/c-consumer.c), mssclamp with one and two queues; a trafgen offered-load
# sweep, connect latency, CPU per SYN, peak RSS; then BENCHMARKS.md and bench/*.png.
# Knobs: RATES, SECONDS_PER_POINT, REPEATS, CONNECTS, CONTENDERS (see bench/bench.sh).
BENCH_PACKAGES = netsniff-ng gnuplot-nox bc valgrind tcpdump curl
bench: deps
	@missing=$$(for p in $(BENCH_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; fi
	$(SWIFT) build -c release --product mssclamp
	$(SWIFT) build -c release --product hotpath
	mkdir -p .build/bench
	cc -O2 -Wall -o .build/bench/c-consumer bench/c-consumer.c $$(pkg-config --cflags --libs libnetfilter_queue) -lmnl
	MSSCLAMP_BIN=$(CURDIR)/.build/release/mssclamp C_BIN=$(CURDIR)/.build/bench/c-consumer bash bench/bench.sh
	bash bench/callgrind.sh
	MSSCLAMP_BIN=$(CURDIR)/.build/release/mssclamp bash bench/dryrun.sh
	/usr/bin/python3 bench/report.py

# The worker under a steady flood for SOAK_SECONDS (600): resident memory must stay flat.
# Writes bench/results/soak.tsv, which make bench's report includes.
soak: deps
	@missing=$$(for p in $(BENCH_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; fi
	$(SWIFT) build -c release --product mssclamp
	MSSCLAMP_BIN=$(CURDIR)/.build/release/mssclamp bash bench/soak.sh

# The binary, the systemd unit (paths rewritten for PREFIX/SYSCONFDIR), the sysusers.d file,
# a man page per command, shell completions, the iptables-legacy drop-in as an example, and
# the example policy (never over an existing one). `make uninstall` (same PREFIX, DESTDIR)
# removes all of it but a policy file that was changed since.
# Builds (release unless CONFIG=debug) unless BIN=path is given on the command line.
MAN_OUT := .build-man/pages
# Where swift-argument-parser's generate-manual tool is built from and into (make test
# passes debian/rules' own, which `make deb` has built already).
MAN_CHECKOUT ?= .build/checkouts/swift-argument-parser
MAN_TOOL    ?= .build-man/tool
install: CONFIG = release
install:
	$(if $(filter command line,$(origin BIN)),@test -x $(BIN),$(MAKE) build CONFIG=$(CONFIG))
	sh scripts/manpages.sh $(BIN) $(MAN_CHECKOUT) $(MAN_TOOL) $(MAN_OUT)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/mssclamp
	install -d -m 0755 $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/share/doc/mssclamp \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	sed -e 's|/usr/sbin/mssclamp|$(PREFIX)/sbin/mssclamp|g' -e 's|/etc/mssclamp.yaml|$(SYSCONFDIR)/mssclamp.yaml|g' \
	    deploy/mssclamp.service >$(DESTDIR)$(PREFIX)/lib/systemd/system/mssclamp.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/mssclamp.service
	install -m 0644 deploy/mssclamp.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/mssclamp.conf
	sed -e 's|/usr/sbin/mssclamp|$(PREFIX)/sbin/mssclamp|g' -e 's|/etc/mssclamp.yaml|$(SYSCONFDIR)/mssclamp.yaml|g' \
	    deploy/mssclamp-iptables-legacy.conf >$(DESTDIR)$(PREFIX)/share/doc/mssclamp/iptables-legacy.conf
	chmod 0644 $(DESTDIR)$(PREFIX)/share/doc/mssclamp/iptables-legacy.conf
	install -m 0644 $(MAN_OUT)/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	$(BIN) --generate-completion-script bash | sed '1{/^#!/d}' >$(DESTDIR)$(PREFIX)/share/bash-completion/completions/mssclamp
	$(BIN) --generate-completion-script zsh >$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mssclamp
	$(BIN) --generate-completion-script fish >$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mssclamp.fish
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml ]; then echo "kept $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml"; \
	 else install -D -m 0644 deploy/mssclamp.yaml $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/mssclamp $(DESTDIR)$(PREFIX)/lib/systemd/system/mssclamp.service \
	    $(DESTDIR)$(PREFIX)/lib/sysusers.d/mssclamp.conf $(DESTDIR)$(PREFIX)/share/doc/mssclamp/iptables-legacy.conf \
	    $(DESTDIR)$(PREFIX)/share/man/man8/mssclamp.8 $(DESTDIR)$(PREFIX)/share/man/man8/mssclamp.*.8 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mssclamp $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mssclamp \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mssclamp.fish
	-rmdir $(DESTDIR)$(PREFIX)/share/doc/mssclamp 2>/dev/null
	@# The policy goes only as installed; an edited one is the operator's.
	@if cmp -s deploy/mssclamp.yaml $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml; then rm -f $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml; \
	 elif [ -e $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml ]; then echo "kept $(DESTDIR)$(SYSCONFDIR)/mssclamp.yaml (changed since install)"; fi

# make install into a scratch DESTDIR, every file where it belongs (man pages that man-db
# reads, the unit pointing at the installed binary), then make uninstall: nothing left.
install-check: build
	bash scripts/install-check.sh $(CURDIR)/$(BIN)

clean:
	rm -rf .build

# The Debian package, built with Debian's own tools (debhelper through dpkg-buildpackage):
# dist/mssclamp_<version>_<arch>.deb, then lintian on it (an error fails the build).
DEB_PACKAGES := debhelper dpkg-dev lintian fakeroot
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
DEB_ARCH = $(shell dpkg --print-architecture)
DEB := dist/mssclamp_$(DEB_VERSION)_$(DEB_ARCH).deb
deb: deps
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; fi
	@# dpkg-buildpackage writes beside the source tree; the results move to dist/.
	dpkg-buildpackage -b --no-sign >.build-deb.log 2>&1 || { tail -40 .build-deb.log; exit 1; }
	mkdir -p dist
	mv ../mssclamp_$(DEB_VERSION)_$(DEB_ARCH).* ../mssclamp-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).* dist/
	lintian --fail-on error,warning --info dist/mssclamp_$(DEB_VERSION)_$(DEB_ARCH).changes
	@echo "$(DEB): $$(du -k $(DEB) | cut -f1) kB, binary $$(dpkg-deb --fsys-tarfile $(DEB) | tar -tvf - ./usr/sbin/mssclamp | awk '{print $$3}') bytes"

# The Debian VM lab: the package installed with apt on a fresh Debian 12 (mmdebstrap, cached
# in $(VM_DIR)) booted with Debian's own kernel under qemu, systemd as PID 1, one scenario per
# backend: start-up, reload, restart, upgrade, the firewall's own reload, reboot, remove and
# purge; real VPN tunnels; Debian 13 with the default backend and the README's WireGuard and
# PPPoE recipes (Tests/VM). KVM when it boots, else TCG (VM_ACCEL=kvm|tcg forces one).
# `make vmtest` runs every tunnel (VM_FULL=1); make test the quick set (Tests/VM/vmlab.sh).
VM_PACKAGES := qemu-system-x86 qemu-utils mmdebstrap e2fsprogs
VM_DIR ?= .build-vm
vmtest: deb
	$(MAKE) vmlab VM_FULL=1

# The lab on the package already in dist/ (make test builds it as a stage of its own).
vmlab: vm-deps
	VM_DIR=$(VM_DIR) VM_FULL=$(VM_FULL) bash Tests/VM/vmlab.sh $(DEB)

# The lab's Debian 12 and 13 images (cached in $(VM_DIR); vmlab.sh builds what is missing,
# or waits for a build under way).
vm-images: vm-deps
	bash Tests/VM/build-image.sh $(VM_DIR) & a=$$!; bash Tests/VM/build-image.sh $(VM_DIR)/trixie trixie; b=$$?; wait $$a && [ $$b = 0 ]

vm-deps:
	@missing=$$(for p in $(VM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; fi

# The IPsec black hole and its fix, in the Debian VM (Debian's kernel has ESP; the build
# machine's may not): a strongSwan gateway, a client that believes MTU 1500, a server whose
# network drops ICMP; the transfer stalls, `mssclamp mss` names the number, `mssclamp run`
# with it and the transfer completes. About 3 minutes under TCG.
demo-ipsec: deb vm-deps
	@VM_DIR=$(VM_DIR) bash Tests/VM/vmlab.sh $(DEB) demo-ipsec

# The Prometheus alerting rules in deploy/ are valid and fire as meant (promtool, from
# Debian's prometheus package); that they name only exported metrics is a unit test.
alerts:
	@dpkg -s prometheus >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }
	promtool check rules deploy/prometheus/mssclamp-alerts.yaml
	cd deploy/prometheus && promtool test rules mssclamp-alerts.test.yaml
