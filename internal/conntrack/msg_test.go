package conntrack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// recordedReply is the first entry message the kernel answered in
// recording name, and the request that asked for it.
func recordedReply(t testing.TB, name string) (request, payload []byte) {
	t.Helper()
	r := readRecording(t, "testdata/replies/"+name+".txt")
	for _, e := range r.exchanges {
		for _, d := range e.replies {
			if typ, _, p, _, ok := nextMessage(d); ok && typ == msgTypeNew {
				return e.request, p
			}
		}
	}
	t.Fatalf("%s: no entry in the recording", name)
	return nil, nil
}

// TestParseEntryPrefixes: a reply cut anywhere short of its last tuple's
// end is refused, never half read.
func TestParseEntryPrefixes(t *testing.T) {
	for _, name := range []string{"masquerade-tcp4", "masquerade-udp6", "dnat-tcp4"} {
		_, p := recordedReply(t, name)
		full, ok := ParseEntry(p)
		if !ok {
			t.Fatalf("%s: the whole reply does not parse", name)
		}
		// The tuples are the first two attributes; past them anything may
		// be missing and the tuples still parse.
		_, _, rest, _ := nextAttr(p[nfgenmsgLen:])
		_, _, rest, _ = nextAttr(rest)
		tuplesEnd := len(p) - len(rest)
		for n := range len(p) {
			e, ok := ParseEntry(p[:n])
			switch {
			case n < tuplesEnd && ok:
				t.Errorf("%s cut at %d/%d bytes (tuples end at %d): parsed %+v", name, n, len(p), tuplesEnd, e)
			case ok && (e.Orig != full.Orig || e.Reply != full.Reply):
				t.Errorf("%s cut at %d: tuples %+v %+v, want %+v %+v", name, n, e.Orig, e.Reply, full.Orig, full.Reply)
			}
		}
	}
}

// attr and nest build netlink attributes for the hand-made cases.
func attr(typ uint16, v []byte) []byte {
	b, _ := appendAttr(nil, typ, len(v))
	return padTo4(append(b, v...))
}

func nest(typ uint16, parts ...[]byte) []byte { return attr(typ|nlaFNested, bytes.Join(parts, nil)) }

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func tuple4(proto uint8, src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	return bytes.Join([][]byte{
		nest(ctaTupleIP, attr(ctaIPv4Src, s[:]), attr(ctaIPv4Dst, d[:])),
		nest(ctaTupleProt, attr(ctaProtoNum, []byte{proto}), attr(ctaProtoSrc, be16(sport)), attr(ctaProtoDst, be16(dport))),
	}, nil)
}

func TestParseEntryCases(t *testing.T) {
	orig := nest(ctaTupleOrig, tuple4(6, "10.0.0.2", "1.2.3.4", 1000, 80))
	reply := nest(ctaTupleRepl, tuple4(6, "1.2.3.4", "5.6.7.8", 80, 2000))
	v4 := []byte{afInet, 0, 0, 0}
	for _, tc := range []struct {
		name string
		b    []byte
		ok   bool
		want Entry
	}{
		{"whole", bytes.Join([][]byte{v4, orig, reply, attr(ctaStatus, be32(0x19e)), attr(ctaID, be32(7)), attr(ctaZone, be16(3)), attr(ctaMark, be32(9))}, nil), true,
			Entry{Orig: Tuple{6, netip.MustParseAddrPort("10.0.0.2:1000"), netip.MustParseAddrPort("1.2.3.4:80")},
				Reply:  Tuple{6, netip.MustParseAddrPort("1.2.3.4:80"), netip.MustParseAddrPort("5.6.7.8:2000")},
				Status: 0x19e, ID: 7, Zone: 3, Mark: 9}},
		{"no reply tuple", bytes.Join([][]byte{v4, orig, attr(ctaID, be32(7))}, nil), false, Entry{}},
		{"no nfgenmsg", nil, false, Entry{}},
		{"family AF_UNSPEC", bytes.Join([][]byte{{0, 0, 0, 0}, orig, reply}, nil), false, Entry{}},
		{"IPv6 family, IPv4 addresses", bytes.Join([][]byte{{afInet6, 0, 0, 0}, orig, reply}, nil), false, Entry{}},
		{"TCP without ports", bytes.Join([][]byte{v4, orig, nest(ctaTupleRepl,
			nest(ctaTupleIP, attr(ctaIPv4Src, []byte{1, 2, 3, 4}), attr(ctaIPv4Dst, []byte{5, 6, 7, 8})),
			nest(ctaTupleProt, attr(ctaProtoNum, []byte{6})))}, nil), false, Entry{}},
		{"short address", bytes.Join([][]byte{v4, orig, nest(ctaTupleRepl,
			nest(ctaTupleIP, attr(ctaIPv4Src, []byte{1, 2, 3}), attr(ctaIPv4Dst, []byte{5, 6, 7, 8})),
			nest(ctaTupleProt, attr(ctaProtoNum, []byte{6}), attr(ctaProtoSrc, be16(1)), attr(ctaProtoDst, be16(2))))}, nil), false, Entry{}},
		{"attribute longer than the message", append(bytes.Join([][]byte{v4, orig}, nil), 0xff, 0x00, 0x02, 0x00), false, Entry{}},
		{"short status ignored", bytes.Join([][]byte{v4, orig, reply, attr(ctaStatus, []byte{1})}, nil), true,
			Entry{Orig: Tuple{6, netip.MustParseAddrPort("10.0.0.2:1000"), netip.MustParseAddrPort("1.2.3.4:80")},
				Reply: Tuple{6, netip.MustParseAddrPort("1.2.3.4:80"), netip.MustParseAddrPort("5.6.7.8:2000")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := ParseEntry(tc.b)
			if ok != tc.ok || e != tc.want {
				t.Errorf("ParseEntry = %+v, %v; want %+v, %v", e, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestGetRequest(t *testing.T) {
	req4, _ := recordedReply(t, "dnat-tcp4")
	r := readRecording(t, "testdata/replies/dnat-tcp4.txt")
	in := Tuple{Proto: r.key.Proto, Src: r.key.Remote, Dst: r.key.Local}
	// An IPv4 address mapped into IPv6 is asked for as IPv4, as the kernel
	// tracks it.
	mapped := Tuple{Proto: in.Proto,
		Src: netip.AddrPortFrom(netip.AddrFrom16(in.Src.Addr().As16()), in.Src.Port()),
		Dst: netip.AddrPortFrom(netip.AddrFrom16(in.Dst.Addr().As16()), in.Dst.Port())}
	for _, tu := range []Tuple{in, mapped} {
		got, ok := appendGetRequest(nil, seqOf(req4), tu)
		if !ok || !bytes.Equal(got, req4) {
			t.Errorf("request for %+v:\n got %x\nwant %x (recorded)", tu, got, req4)
		}
	}
	for _, bad := range []Tuple{
		{Proto: 1, Src: in.Src, Dst: in.Dst},
		{Proto: 6, Src: in.Src, Dst: netip.MustParseAddrPort("[fd00::1]:80")},
		{Proto: 17},
	} {
		if b, ok := appendGetRequest(nil, 1, bad); ok || len(b) != 0 {
			t.Errorf("request for %+v built: %x", bad, b)
		}
	}
	long := Tuple{Proto: 17, Src: netip.MustParseAddrPort("[fd00::1]:1"), Dst: netip.MustParseAddrPort("[fd00::2]:2")}
	if b, _ := appendGetRequest(nil, 1, long); len(b) > maxRequest {
		t.Errorf("IPv6 request is %d bytes, more than maxRequest %d", len(b), maxRequest)
	}
}
