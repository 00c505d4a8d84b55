// Package decode turns one captured frame into a flat summary of what a
// per-process bandwidth monitor needs: the IP family, the transport protocol,
// the outer addresses, the TCP/UDP ports, the header lengths as written, and
// the direction where the link header records it.
//
// The contract, which the hot path relies on:
//   - Decode fills a caller-owned Packet in place. It never allocates, never
//     returns an error and never panics, whatever the bytes.
//   - A frame that carries no IP (ARP, LLC, MPLS, PPPoE, a bogus IP header, an
//     unknown link type) decodes with Family == NotIP; nothing else is filled
//     in but the link-layer facts.
//   - A frame cut short by the capture length is normal: the decoder reports
//     what was captured and sets FlagTruncated. Missing ports are reported by
//     the absence of FlagPorts, never as zero ports.
//   - Non-first fragments carry no ports; the first fragment does.
//   - IPv4 total length 0 and IPv6 payload length 0 (segmentation offload,
//     jumbograms, BIG TCP) are valid: the capture bounds the datagram.
//
// Link layers: Ethernet II with any number of 802.1Q/802.1ad tags, Linux
// cooked captures v1 and v2, raw IP (version chosen by the first nibble), raw
// IPv4, raw IPv6 and BSD loopback. IPv6 hop-by-hop, routing, fragment and
// destination-options headers are walked, at most MaxExtHeaders of them.
//
// IPv4FlowSignature reads a plain IPv4 TCP/UDP header's flow without
// decoding, so that a capture loop can recognise the next packets of a flow
// it has decoded once.
package decode

import "net/netip"

// Family is the IP version of a decoded frame's outermost network header.
type Family uint8

// The families. NotIP is the zero value: a frame without an IP header the
// decoder could read.
const (
	NotIP Family = 0
	IPv4  Family = 4
	IPv6  Family = 6
)

// String returns "ip4", "ip6" or "-", as in the per-packet dump.
func (f Family) String() string {
	switch f {
	case IPv4:
		return "ip4"
	case IPv6:
		return "ip6"
	}
	return "-"
}

// IP protocol numbers the rest of hogs names.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// MaxExtHeaders bounds the IPv6 extension-header chain the decoder walks. A
// longer chain is reported with the header type where the walk stopped as
// Proto, FlagExtLimit set and no ports: a real stack never sends one.
const MaxExtHeaders = 8

// Flags qualify a decoded frame.
type Flags uint16

const (
	// FlagTruncated: the capture ended before the decoder had read every
	// header field it looks at (IP header, extension headers, ports, TCP flags).
	FlagTruncated Flags = 1 << iota
	// FlagPorts: SrcPort and DstPort were read from a TCP or UDP header.
	FlagPorts
	// FlagTCPFlags: TCPFlags was read from a TCP header.
	FlagTCPFlags
	// FlagFragment: the datagram is a fragment (more-fragments set or a
	// non-zero offset).
	FlagFragment
	// FlagLaterFragment: a fragment other than the first; it has no ports.
	FlagLaterFragment
	// FlagExtLimit: the IPv6 extension-header chain was longer than
	// MaxExtHeaders; Proto is the header type where the walk stopped.
	FlagExtLimit
	// FlagZeroLength: the IP length field was 0, as segmentation offload
	// (TSO/GSO, BIG TCP) and IPv6 jumbograms write it. IPLen is then the
	// captured length from the IPv4 header on, or 40 for IPv6.
	FlagZeroLength
	// FlagVLAN: the frame carried at least one 802.1Q/802.1ad tag; VLAN holds
	// the outermost VLAN ID.
	FlagVLAN
)

// Direction is the way a frame travelled relative to the capturing host, as
// recorded by the link header (Linux cooked captures) or the capture source.
type Direction uint8

// The directions. DirUnknown is the zero value: the link header did not say.
const (
	DirUnknown Direction = iota
	DirIn                // addressed to this host, broadcast, multicast or another host
	DirOut               // sent by this host
)

// String returns "in", "out" or "unknown".
func (d Direction) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	}
	return "unknown"
}

// TCP flag bits of Packet.TCPFlags.
const (
	TCPFin uint8 = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
)

// Packet is the flat summary of one frame. Decode overwrites every field.
type Packet struct {
	// Src and Dst are the outer IP addresses; invalid when Family is NotIP.
	Src, Dst netip.Addr
	// SrcPort and DstPort are valid only with FlagPorts.
	SrcPort, DstPort uint16
	// IPLen is the IPv4 total-length field, or 40 plus the IPv6
	// payload-length field, as written in the header; see FlagZeroLength
	// for segmentation offload.
	IPLen uint32
	// NetOffset is the offset of the IP header in the frame; TransportOffset
	// the offset of the header after IP and its extension headers (0 when the
	// decoder did not reach it).
	NetOffset, TransportOffset uint32
	// EtherType is the protocol the link layer announced for its payload
	// (after any VLAN tags), 0 for raw-IP links.
	EtherType uint16
	// VLAN is the outermost VLAN ID, valid with FlagVLAN.
	VLAN  uint16
	Flags Flags
	// Family is the IP version, NotIP for everything else.
	Family Family
	// Proto is the IP protocol number after IPv6 extension headers.
	Proto uint8
	// TCPFlags holds the TCP flag bits (FIN..CWR), valid with FlagTCPFlags.
	TCPFlags uint8
	// Direction is what the link header said about the way the frame went.
	Direction Direction
}

// Has reports whether every flag in f is set.
func (p *Packet) Has(f Flags) bool { return p.Flags&f == f }

// IsTCP reports whether p is a TCP segment of an IP datagram.
func (p *Packet) IsTCP() bool { return p.Family != NotIP && p.Proto == ProtoTCP }

// IsUDP reports whether p is a UDP datagram.
func (p *Packet) IsUDP() bool { return p.Family != NotIP && p.Proto == ProtoUDP }
