# hogs: per-process network bandwidth monitor. `make` builds ./hogs.
GO       ?= go
PKGS     := ./...
BINARY   := hogs
# -V names the commit: the go command stamps it only where .git is a
# directory (not in a git worktree), so make passes it too.
VCS_COMMIT   := $(shell git rev-parse HEAD 2>/dev/null)
VCS_MODIFIED := $(shell test -n "$$(git status --porcelain 2>/dev/null)" && echo true)
LDFLAGS  := -s -w -X main.buildCommit=$(VCS_COMMIT) -X main.buildModified=$(VCS_MODIFIED)
FUZZTIME ?= 10m
BENCHTIME ?= 1s
BENCHCOUNT ?= 10

.PHONY: all build static small test test-live test-cross fuzz bench bench-live bench-sockets bench-sockets-short bench-containers bench-flood pgo captures lint clean \
	release install uninstall

all: build

# One static binary: no cgo, no dynamic section, paths trimmed, symbols stripped.
build static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/hogs

# The build for appliances with little flash (at most 4 MB): the hogs_small
# tag leaves out the metrics endpoint's HTTP server (net/http), the DNS
# client of the reverse lookups, the kernel socket events (cilium/ebpf) and
# termbox (the table uses ui's own terminal driver);
# --listen then fails with "metrics endpoint not built in".
small:
	CGO_ENABLED=0 $(GO) build -tags hogs_small -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY)-small ./cmd/hogs

# Unit tests, golden tests, the reference-capture agreement test, and a replay
# of every committed fuzz corpus (go test runs testdata/fuzz as seeds).
# The packages with concurrency run again under the race detector.
RACE_PKGS := ./internal/monitor/... ./internal/conntable/... ./internal/flow/... ./proc/... ./ui/... \
	./internal/container/... ./internal/netns/... ./internal/nsattr/... ./internal/conntrack/... ./rawcap/...
test: build
	$(GO) vet $(PKGS)
	$(GO) vet -tags hogs_small $(PKGS)
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race $(RACE_PKGS)

# The decoder, capture-file, filter and replay tests on a big-endian CPU:
# the test binaries cross-compiled for CROSS_ARCH (mips: big-endian, 32-bit;
# GOMIPS=softfloat as on routers without an FPU) and run under qemu-user
# (Debian package qemu-user). Live capture is not exercised (it needs the
# host's packet sockets and namespaces).
CROSS_ARCH ?= mips
CROSS_RAWCAP_TESTS := ^(TestRecordedCaptures|TestInterfaceLen|TestWireLenLimits|TestCookedWireLen|TestHostileFiles|TestLinkTypeErrorOnOpen|TestReadsPipe|TestTimestamp.*|TestPcap.*|TestDamagedFiles|TestCleanEnd|TestOffset|TestOpenFile|TestReadError|TestSharedCaptures|FuzzFileReader|TestKernelFilter.*|TestHandshakeFilter)$$
CROSS_HOGS_TESTS := ^(TestDumpMatchesReferenceDecodes|TestDumpCorruptFile|TestReplayTrace|TestBadFilterExpression|TestJSONMatchesREADME|TestCommandLineGolden|TestBenchReport)$$
test-cross:
	@command -v qemu-$(CROSS_ARCH) >/dev/null || { echo "make test-cross: qemu-$(CROSS_ARCH) is missing: apt-get install qemu-user" >&2; exit 1; }
	@set -e; d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	for p in decode rawcap rawcap/pcapfilter cmd/hogs; do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$(CROSS_ARCH) GOMIPS=softfloat $(GO) test -c -o $$d/t.test ./$$p; \
		case $$p in rawcap) run='$(CROSS_RAWCAP_TESTS)';; cmd/hogs) run='$(CROSS_HOGS_TESTS)';; *) run=.;; esac; \
		echo "qemu-$(CROSS_ARCH) $$p.test -test.run '$$run'"; \
		(cd $$p && qemu-$(CROSS_ARCH) $$d/t.test -test.count=1 -test.run "$$run"); \
	done

# Long fuzzing runs, outside CI. Crashers land in PKG/testdata/fuzz/ by
# themselves; the inputs that grew coverage are copied there from Go's cache
# afterwards, so that `make test` (and CI) replays them.
FUZZ_TARGETS := decode:FuzzDecode rawcap:FuzzFileReader rawcap:FuzzNetlinkNews rawcap/pcapfilter:FuzzCompile proc:FuzzSocketTable \
	proc:FuzzStat proc:FuzzStatus proc:FuzzCmdline proc:FuzzSockDiagReply proc:FuzzLastPID cmd/hogs:FuzzParseConfig \
	cmd/hogs:FuzzProcStatusFiles bench/internal/trace:FuzzParse metrics:FuzzNegotiate metrics:FuzzLabelValue \
	internal/container:FuzzCgroupLine internal/container:FuzzDockerName \
	internal/container:FuzzMountinfo internal/netns:FuzzRTNetlink internal/kevents:FuzzDecodeRecord \
	internal/monitor:FuzzReplay internal/conntrack:FuzzConntrackReply ui:FuzzKeyReader
fuzz:
	@set -e; cache=$$($(GO) env GOCACHE)/fuzz/hogs; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 1; \
		mkdir -p $$pkg/testdata/fuzz/$$fn; \
		find $$cache/$$pkg/$$fn -type f -size -64k -exec cp -n {} $$pkg/testdata/fuzz/$$fn/ \; ; \
	done

# Decode throughput against gopacket, summarised by benchstat (bench/README):
# the reference corpus (../shared/pcaps, where present), single hot-path
# frames, and per capture file and link type the files in PCAPS (default:
# the recorded captures in rawcap/testdata/captures). With PCAPS given,
# only those files: make bench PCAPS='a.pcap b.pcapng' (names without spaces).
PCAPS ?=
BENCH_RUN := $(if $(strip $(PCAPS)),^BenchmarkFiles$$,.)
bench:
	HOGS_BENCH_PCAPS='$(abspath $(PCAPS))' $(GO) test ./bench -run '^$$' -bench '$(BENCH_RUN)' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) | tee bench/last.txt
	$(GO) tool benchstat -col /impl bench/last.txt
	$(GO) run ./bench/ratio < bench/last.txt

# hogs against nethogs on live traffic in network namespaces: CPU per packet,
# memory, drops and accuracy (bench/live; needs root, about three minutes).
bench-live: build
	go run ./bench/live

# hogs against nethogs with 20,000 idle TCP sockets, a busy flow and 10 new
# connections/s: CPU per refresh and per new connection, attribution, drops
# (bench/sockets; needs root, about three minutes).
bench-sockets: build
	go run ./bench/sockets

# The issue's attribution scenarios with 20,000 idle sockets: 50 connections
# of about a millisecond at 10/s and 300 short-lived client processes of
# 20 kB, the clients in a service-shaped cgroup, hogs with kernel events
# and from /proc alone, and nethogs
# (bench/sockets; needs root, about four minutes).
bench-sockets-short: build
	go run ./bench/sockets -monitors hogs-json,hogs-json-noev,hogs,hogs-noev,nethogs -new-size 64 -new-answer 64 -hold 0 -phase 5s -procs 300 -service -out bench/sockets/results-short.md

# The issue's container scenario: 50 container namespaces on a bridge with
# 400 idle sockets each, a busy flow and 10 new connections a second spread
# over them, the monitor in the host namespace watching the bridge's ports
# and the uplink; hogs --json, hogs -t and nethogs (bench/sockets
# -containers; needs root, about three minutes).
bench-containers: build
	go run ./bench/sockets -containers 50 -idle 20000 -monitors hogs-json,hogs,nethogs -out bench/sockets/results-containers.md

# hogs against nethogs on a device flooded with random-tuple TCP SYNs, then
# a UDP storm (every frame a new 5-tuple; 50,000 frames/s and the
# generator's maximum), while a real 3 MB download runs: CPU per packet,
# refreshes on time, peak memory, the download's attribution, drops
# (bench/flood; needs root, about two minutes).
bench-flood: build
	go run ./bench/flood

# Rebuilds cmd/hogs/default.pgo, the CPU profile go build optimises hogs
# with (profile-guided optimisation: hot calls of the capture loop get
# inlined): hogs alone under bench/live's small-TCP, UDP-flood, 10,000 UDP/s
# and bulk-TCP traffic (needs root, about a minute), profiled from a build
# that keeps its symbols and uses no profile. Rerun it after changing the
# capture path, then `make bench-live`.
pgo:
	d=$$(mktemp -d) && CGO_ENABLED=0 $(GO) build -pgo=off -o $$d/hogs ./cmd/hogs && \
		go run ./bench/live -hogs $$d/hogs -monitors hogs -scenarios tcp-small,udp-max,udp-10k,tcp-bulk -out '' -cpuprofiles $$d && \
		$(GO) tool pprof -proto $$d/*.pprof > cmd/hogs/default.pgo; s=$$?; rm -rf $$d; exit $$s

# Re-records rawcap/testdata/captures (tcpdump in two network namespaces,
# root) and rewrites the replay summaries compared against them; review
# the diff: only timestamps should move.
captures:
	HOGS_RECORD=1 $(GO) test ./rawcap -run '^TestRecordCaptures$$' -count=1 -v
	$(GO) test ./rawcap -run '^TestRecordedCaptures$$' -count=1 -update

# Static binaries for the machines hogs is dropped onto, with SHA256SUMS,
# in dist/; then the artefacts are checked (ELF machine and byte order,
# static, checksums: TestReleaseArtifacts).
VERSION := $(shell sed -n 's/^const version = "\(.*\)"/\1/p' cmd/hogs/main.go)
DIST ?= dist
RELEASE_TARGETS := amd64 arm64 arm 386 mips mipsle riscv64
release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for arch in $(RELEASE_TARGETS); do \
		name=hogs-$(VERSION)-linux-$$arch; [ $$arch = arm ] && name=$${name}v7; \
		echo "build $(DIST)/$$name"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=7 GOMIPS=softfloat \
			$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/$$name ./cmd/hogs; \
	done
	cd $(DIST) && sha256sum hogs-* > SHA256SUMS
	HOGS_DIST=$(abspath $(DIST)) HOGS_VERSION=$(VERSION) $(GO) test ./cmd/hogs -run '^TestReleaseArtifacts$$' -count=1

# make install [PREFIX=/usr/local] [DESTDIR=staging] [SETCAP=1]: the
# binary, the man page and the bash, zsh and fish completions. SETCAP=1
# grants the installed binary SETCAP_CAPS (default cap_net_raw: capture
# and attribute the invoking user's own processes; add
# cap_dac_read_search,cap_sys_ptrace to attribute everyone's).
PREFIX ?= /usr/local
DESTDIR ?=
SETCAP ?= 0
SETCAP_CAPS ?= cap_net_raw
INSTALL_FILES := bin/hogs share/man/man1/hogs.1 share/bash-completion/completions/hogs \
	share/zsh/site-functions/_hogs share/fish/vendor_completions.d/hogs.fish
install: build
	install -D -m 0755 $(BINARY) '$(DESTDIR)$(PREFIX)/bin/hogs'
	install -D -m 0644 doc/hogs.1 '$(DESTDIR)$(PREFIX)/share/man/man1/hogs.1'
	install -D -m 0644 completions/hogs.bash '$(DESTDIR)$(PREFIX)/share/bash-completion/completions/hogs'
	install -D -m 0644 completions/_hogs '$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_hogs'
	install -D -m 0644 completions/hogs.fish '$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/hogs.fish'
	@if [ '$(SETCAP)' = 1 ]; then echo "setcap $(SETCAP_CAPS)+ep $(DESTDIR)$(PREFIX)/bin/hogs"; \
		setcap '$(SETCAP_CAPS)+ep' '$(DESTDIR)$(PREFIX)/bin/hogs'; fi

uninstall:
	cd '$(DESTDIR)$(PREFIX)' && rm -f $(INSTALL_FILES)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

clean:
	rm -f $(BINARY)
	rm -rf $(DIST)
