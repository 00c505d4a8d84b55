//go:build linux

package main

import (
	"encoding/binary"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFlooderFrames: every frame is a valid IPv4 packet (header checksum,
// TCP checksum over the pseudo-header) to the target, and consecutive
// frames are new 5-tuples from 198.18.0.0/15.
func TestFlooderFrames(t *testing.T) {
	var f flooder
	src, _ := net.ParseMAC("02:93:00:00:00:02")
	dst, _ := net.ParseMAC("02:93:00:00:00:01")
	f.init(src, dst, [4]byte{10, 93, 0, 1})
	seen := map[[12]byte]bool{}
	for i := range 1000 {
		proto := uint8(unix.IPPROTO_TCP)
		if i%2 == 1 {
			proto = unix.IPPROTO_UDP
		}
		b := f.next(proto)
		if want := map[uint8]int{unix.IPPROTO_TCP: 54, unix.IPPROTO_UDP: 60}[proto]; len(b) != want {
			t.Fatalf("frame of %d bytes, want %d", len(b), want)
		}
		if [6]byte(b[0:6]) != [6]byte(dst) || binary.BigEndian.Uint16(b[12:]) != unix.ETH_P_IP {
			t.Fatalf("Ethernet header % x", b[:14])
		}
		ip := b[ethLen:]
		if checksum(ip[:ipLen], 0) != 0 {
			t.Fatalf("bad IPv4 header checksum: % x", ip[:ipLen])
		}
		if int(binary.BigEndian.Uint16(ip[2:])) != len(ip) || ip[9] != proto || [4]byte(ip[16:20]) != [4]byte{10, 93, 0, 1} {
			t.Fatalf("IPv4 header % x", ip[:ipLen])
		}
		if ip[12] != 198 || ip[13]&^1 != 18 {
			t.Fatalf("source %v outside 198.18.0.0/15", net.IP(ip[12:16]))
		}
		l4 := ip[ipLen:]
		if proto == unix.IPPROTO_TCP {
			if l4[13] != 0x02 {
				t.Fatalf("TCP flags %#x, want SYN", l4[13])
			}
			if checksum(l4, checksumAdd(ip[12:20], uint32(unix.IPPROTO_TCP)+uint32(len(l4)))) != 0 {
				t.Fatal("bad TCP checksum")
			}
		}
		var tuple [12]byte
		copy(tuple[:8], ip[12:20])
		copy(tuple[8:], l4[:4])
		if seen[tuple] {
			t.Fatalf("frame %d repeats a 5-tuple", i)
		}
		seen[tuple] = true
	}
}

func TestParseWireCount(t *testing.T) {
	w, ok := parseWireCount("wire-count: sent 10 packets 700 bytes; received 2100 packets 3100000 bytes; 0 dropped")
	if !ok || w.sentPackets != 10 || w.sentBytes != 700 || w.recvPackets != 2100 || w.recvBytes != 3100000 {
		t.Errorf("parseWireCount = %+v, %v", w, ok)
	}
	if _, ok := parseWireCount("ready"); ok {
		t.Error("other line parsed")
	}
}

func TestScenarios(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios {
		if seen[s.name] || s.rate < 0 || findScenario(s.name) < 0 {
			t.Errorf("scenario %+v", s)
		}
		seen[s.name] = true
	}
	for _, r := range []string{"gen-flood", "download-server", "download-client", "wire-count"} {
		if roles[r] == nil {
			t.Errorf("role %s missing", r)
		}
	}
}
