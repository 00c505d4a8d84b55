# hogs: per-process network bandwidth monitor. `make` builds ./hogs.
GO       ?= go
PKGS     := ./...
BINARY   := hogs
LDFLAGS  := -s -w
FUZZTIME ?= 10m
BENCHTIME ?= 1s
BENCHCOUNT ?= 10

.PHONY: all build static small test test-live fuzz bench bench-live bench-sockets bench-sockets-short bench-flood pgo captures lint clean

all: build

# One static binary: no cgo, no dynamic section, paths trimmed, symbols stripped.
build static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/hogs

# The build for appliances with little flash (at most 4 MB): the hogs_small
# tag leaves out the metrics endpoint's HTTP server (net/http), the DNS
# client of the reverse lookups and the kernel socket events (cilium/ebpf);
# --listen then fails with "metrics endpoint not built in".
small:
	CGO_ENABLED=0 $(GO) build -tags hogs_small -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY)-small ./cmd/hogs

# Unit tests, golden tests, the reference-capture agreement test, and a replay
# of every committed fuzz corpus (go test runs testdata/fuzz as seeds).
# The packages with concurrency run again under the race detector.
RACE_PKGS := ./internal/monitor/... ./internal/conntable/... ./internal/flow/... ./proc/... ./ui/... \
	./internal/container/... ./internal/netns/... ./internal/nsattr/...
test: build
	$(GO) vet $(PKGS)
	$(GO) vet -tags hogs_small $(PKGS)
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race $(RACE_PKGS)

# Long fuzzing runs, outside CI. Crashers land in PKG/testdata/fuzz/ by
# themselves; the inputs that grew coverage are copied there from Go's cache
# afterwards, so that `make test` (and CI) replays them.
FUZZ_TARGETS := decode:FuzzDecode rawcap:FuzzFileReader rawcap/pcapfilter:FuzzCompile proc:FuzzSocketTable \
	proc:FuzzStat proc:FuzzStatus proc:FuzzCmdline proc:FuzzSockDiagReply cmd/hogs:FuzzParseConfig \
	bench/internal/trace:FuzzParse metrics:FuzzNegotiate metrics:FuzzLabelValue \
	internal/container:FuzzCgroupLine internal/container:FuzzDockerName \
	internal/container:FuzzMountinfo internal/netns:FuzzRTNetlink internal/kevents:FuzzDecodeRecord \
	internal/monitor:FuzzReplay
fuzz:
	@set -e; cache=$$($(GO) env GOCACHE)/fuzz/hogs; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 1; \
		mkdir -p $$pkg/testdata/fuzz/$$fn; \
		find $$cache/$$pkg/$$fn -type f -size -64k -exec cp -n {} $$pkg/testdata/fuzz/$$fn/ \; ; \
	done

# Decode throughput against gopacket, summarised by benchstat (bench/README).
bench:
	$(GO) test ./bench -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) | tee bench/last.txt
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
# 20 kB, hogs with kernel events and from /proc alone, and nethogs
# (bench/sockets; needs root, about four minutes).
bench-sockets-short: build
	go run ./bench/sockets -monitors hogs-json,hogs-json-noev,hogs,hogs-noev,nethogs -new-size 64 -new-answer 64 -hold 0 -phase 5s -procs 300 -out bench/sockets/results-short.md

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

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

clean:
	rm -f $(BINARY)
