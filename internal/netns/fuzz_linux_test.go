package netns

import (
	"strings"
	"testing"
)

// FuzzRTNetlink: the netlink message walker and the link and nsid parsers
// (and the /proc loadavg reader) never panic; payloads lie inside the input; names are bounded and hold
// no NUL.
func FuzzRTNetlink(f *testing.F) {
	f.Add(message(16, 1, cat(ifinfo(7), attr(iflaIfname, []byte("veth0\x00")), attr(iflaLink, u32(2)),
		attr(iflaLinkinfo|0x8000, attr(iflaInfoKind, []byte("veth\x00"))), attr(iflaLinkNSID, u32(3)))))
	f.Add(cat(message(88, 2, cat([]byte{0, 0, 0, 0}, attr(netnsaNSID, u32(1)))), message(3, 2, nil)))
	f.Add(message(2, 1, u32(0xffffffed)))
	f.Add(message(20, 3, cat([]byte{2, 24, 0, 0}, u32(3), attr(ifaLocal, []byte{10, 0, 0, 1}))))
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		walkMessages(b, func(m Message) bool {
			total += nlmsgHdrLen + len(m.Payload)
			if total > len(b) {
				t.Fatalf("payloads %d bytes beyond a %d-byte input", total, len(b))
			}
			if l, ok := ParseLink(m.Payload); ok {
				for _, s := range []string{l.Name, l.Kind} {
					if len(s) > maxLinkString || strings.IndexByte(s, 0) >= 0 {
						t.Fatalf("link string %q", s)
					}
				}
			}
			ParseNSID(m.Payload)
			if p, _, ok := ParseAddr(m.Payload); ok && !p.IsValid() {
				t.Fatalf("ParseAddr accepted an invalid prefix %v", p)
			}
			return true
		})
		ParseNSLink(string(b))
		if pid, ok := ParseLastPID(b); ok && pid < 0 {
			t.Fatalf("ParseLastPID(%q) = %d", b, pid)
		}
	})
}
