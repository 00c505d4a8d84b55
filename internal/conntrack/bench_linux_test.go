package conntrack

import (
	"net/netip"
	"testing"

	"hogs/internal/flow"
)

// BenchmarkLiveGet asks the lab host's conntrack table (a few entries)
// for a masqueraded TCP flow: the uplink tuple that finds its entry at
// the first request, a tuple with no entry (ENOENT), and Classify of the
// uplink key (one request) and of a key without entry (two requests).
// The peer to compare with is proc's BenchmarkSockDiagLookup, the
// per-flow sock_diag lookup hogs already makes.
func BenchmarkLiveGet(b *testing.B) {
	l := newLab(b)
	startServer(b, l.Lab, l.remote, "tcp-server 192.168.90.2:7000")
	_, s := runClient(b, l.container, "tcp-client 192.168.90.2:7000")
	seen := addrPort(b, s)
	server := netip.MustParseAddrPort("192.168.90.2:7000")
	conn := openConn(b, l.host)
	classifier := labClassifier(conn)
	uplink := flow.Key{Local: seen, Remote: server, Proto: flow.TCP, NetNS: labNS}
	missing := flow.Key{Local: netip.MustParseAddrPort("192.168.90.1:9"), Remote: server, Proto: flow.TCP, NetNS: labNS}

	b.Run("found", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.Get(Tuple{Proto: flow.TCP, Src: server, Dst: seen}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("not-found", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.Get(Tuple{Proto: flow.TCP, Src: server, Dst: missing.Local}); err != ErrNotFound {
				b.Fatal(err)
			}
		}
	})
	b.Run("classify-masquerade", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c, err := classifier.Classify(uplink); c != CountedElsewhere || err != nil {
				b.Fatal(c, err)
			}
		}
	})
	b.Run("classify-no-entry", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c, err := classifier.Classify(missing); c != Local || err != nil {
				b.Fatal(c, err)
			}
		}
	})
}

// BenchmarkParseEntry parses a recorded IPv6 entry.
func BenchmarkParseEntry(b *testing.B) {
	_, p := recordedReply(b, "masquerade-tcp6")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseEntry(p); !ok {
			b.Fatal("no entry")
		}
	}
}
