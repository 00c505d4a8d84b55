package netns

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// attr is a netlink attribute: length, type, value, padding.
func attr(typ uint16, val []byte) []byte {
	b := make([]byte, align4(nlaHdrLen+len(val)))
	binary.NativeEndian.PutUint16(b, uint16(nlaHdrLen+len(val)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[nlaHdrLen:], val)
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// ifinfo is a struct ifinfomsg for ifindex.
func ifinfo(index int32) []byte {
	b := make([]byte, ifinfomsgLen)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	return b
}

// message is a netlink message of type typ, sequence seq.
func message(typ uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, align4(nlmsgHdrLen+len(payload)))
	binary.NativeEndian.PutUint32(b, uint32(nlmsgHdrLen+len(payload)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint32(b[8:], seq)
	copy(b[nlmsgHdrLen:], payload)
	return b
}

func TestParseLink(t *testing.T) {
	const nested = 0x8000 // NLA_F_NESTED, as the kernel sets it on IFLA_LINKINFO
	tests := []struct {
		name string
		in   []byte
		want Link
		ok   bool
	}{
		{"host-side veth", cat(ifinfo(7),
			attr(iflaIfname, []byte("veth1a2b\x00")),
			attr(iflaLink, u32(2)),
			attr(iflaLinkinfo|nested, cat(attr(iflaInfoKind, []byte("veth\x00")), attr(2, []byte{1, 2, 3, 4}))),
			attr(iflaLinkNSID, u32(3)), attr(iflaMaster, u32(4))),
			Link{Index: 7, Name: "veth1a2b", Kind: "veth", PeerIndex: 2, PeerNSID: 3, Master: 4}, true},
		{"loopback", cat(ifinfo(1), attr(iflaIfname, []byte("lo\x00"))), Link{Index: 1, Name: "lo", PeerNSID: -1}, true},
		{"veth with its peer here", cat(ifinfo(5), attr(iflaIfname, []byte("a\x00")), attr(iflaLink, u32(6))),
			Link{Index: 5, Name: "a", PeerIndex: 6, PeerNSID: -1}, true},
		{"short values ignored", cat(ifinfo(9), attr(iflaLink, []byte{1}), attr(iflaLinkNSID, []byte{1, 2})),
			Link{Index: 9, PeerNSID: -1}, true},
		{"truncated attribute stops the walk", cat(ifinfo(4), attr(iflaIfname, []byte("x\x00")), []byte{0xff, 0, 3, 0}),
			Link{Index: 4, Name: "x", PeerNSID: -1}, true},
		{"no NUL, bounded", cat(ifinfo(3), attr(iflaIfname, make([]byte, 100))), Link{Index: 3, PeerNSID: -1}, true},
		{"too short", make([]byte, ifinfomsgLen-1), Link{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseLink(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: ParseLink = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseNSID(t *testing.T) {
	rtgen := []byte{0, 0, 0, 0}
	tests := []struct {
		name  string
		in    []byte
		want  int32
		found bool
	}{
		{"assigned", cat(rtgen, attr(netnsaNSID, u32(4))), 4, true},
		{"not assigned", cat(rtgen, attr(netnsaNSID, u32(0xffffffff))), -1, true},
		{"absent", cat(rtgen, attr(netnsaFD, u32(9))), -1, false},
		{"short", []byte{0}, -1, false},
	}
	for _, tc := range tests {
		got, found := ParseNSID(tc.in)
		if got != tc.want || found != tc.found {
			t.Errorf("%s: ParseNSID = %d, %v; want %d, %v", tc.name, got, found, tc.want, tc.found)
		}
	}
}

func TestWalkMessages(t *testing.T) {
	b := cat(message(16, 1, ifinfo(1)), message(16, 1, ifinfo(2)[:5]), message(3, 1, nil))
	var got []Message
	walkMessages(b, func(m Message) bool { got = append(got, m); return true })
	if len(got) != 3 || got[0].Type != 16 || len(got[1].Payload) != 5 || got[2].Type != 3 {
		t.Errorf("walkMessages = %+v", got)
	}
	// A header claiming more than the datagram holds ends the walk.
	bad := message(16, 1, ifinfo(1))
	binary.NativeEndian.PutUint32(bad, 1000)
	n := 0
	walkMessages(cat(message(16, 1, nil), bad), func(Message) bool { n++; return true })
	if n != 1 {
		t.Errorf("walked %d messages of a datagram with a bad second header, want 1", n)
	}
}

// ifaddr is an RTM_NEWADDR payload: struct ifaddrmsg and attributes.
func ifaddr(family, bits byte, index uint32, attrs ...[]byte) []byte {
	b := []byte{family, bits, 0, 0}
	b = binary.NativeEndian.AppendUint32(b, index)
	return cat(append([][]byte{b}, attrs...)...)
}

func TestParseAddr(t *testing.T) {
	v6 := netip.MustParseAddr("fd00::7").As16()
	tests := []struct {
		name  string
		b     []byte
		want  string
		index int32
		ok    bool
	}{
		{"IPv4, IFA_LOCAL first", ifaddr(unixAFInet, 24, 3, attr(ifaAddress, []byte{10, 0, 0, 9}), attr(ifaLocal, []byte{10, 0, 0, 1})), "10.0.0.1/24", 3, true},
		{"IPv4 IFA_ADDRESS only", ifaddr(unixAFInet, 32, 4, attr(ifaAddress, []byte{192, 0, 2, 1})), "192.0.2.1/32", 4, true},
		{"IPv6", ifaddr(unixAFInet6, 64, 5, attr(ifaAddress, v6[:])), "fd00::7/64", 5, true},
		{"prefix longer than the address", ifaddr(unixAFInet, 99, 3, attr(ifaLocal, []byte{10, 0, 0, 1})), "10.0.0.1/32", 3, true},
		{"IPv4 family with a 16-byte address", ifaddr(unixAFInet, 24, 3, attr(ifaLocal, v6[:])), "", 0, false},
		{"other family", ifaddr(17, 24, 3, attr(ifaLocal, []byte{10, 0, 0, 1})), "", 0, false},
		{"no address", ifaddr(unixAFInet, 24, 3), "", 0, false},
		{"short", []byte{2, 24, 0}, "", 0, false},
	}
	for _, tt := range tests {
		p, index, ok := ParseAddr(tt.b)
		if ok != tt.ok || ok && (p.String() != tt.want || index != tt.index) {
			t.Errorf("%s: ParseAddr = %v %d %v, want %s %d %v", tt.name, p, index, ok, tt.want, tt.index, tt.ok)
		}
	}
}
