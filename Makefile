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

.PHONY: all build static test test-live fuzz bench bench-live bench-sockets bench-flood pgo captures lint clean

all: build

# One static binary: no cgo, no dynamic section, paths trimmed, symbols stripped.
build static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/hogs

# Unit tests, golden tests, the reference-capture agreement test, and a replay
# of every committed fuzz corpus (go test runs testdata/fuzz as seeds).
# The packages with concurrency run again under the race detector.
RACE_PKGS := ./internal/monitor/... ./internal/conntable/... ./internal/flow/... ./proc/... ./ui/...
test: build
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)
	$(GO) test -count=1 -race $(RACE_PKGS)

# Long fuzzing runs, outside CI. Crashers land in PKG/testdata/fuzz/ by
# themselves; the inputs that grew coverage are copied there from Go's cache
# afterwards, so that `make test` (and CI) replays them.
FUZZ_TARGETS := decode:FuzzDecode rawcap:FuzzFileReader rawcap/pcapfilter:FuzzCompile proc:FuzzSocketTable \
	proc:FuzzStat proc:FuzzStatus proc:FuzzCmdline cmd/hogs:FuzzParseConfig \
	bench/internal/trace:FuzzParse
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
