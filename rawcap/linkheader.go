package rawcap

import (
	"encoding/binary"
	"strconv"

	"hogs/decode"
)

// MaxWireLen is the largest original length a capture file's record is
// believed: Linux's largest segmentation-offload packet (GSO_MAX_SIZE,
// 512 KiB since BIG TCP in 5.19) and 64 bytes of link header (Ethernet and
// four VLAN tags fit). A record claiming more, with less captured, counts
// MaxWireLen; a record that captured more counts what it captured.
const MaxWireLen = gsoMaxSize + maxLinkHeaderLen

const (
	gsoMaxSize       = 512 << 10
	maxLinkHeaderLen = 64
)

// Pseudo-headers that captures put where the wire had something else.
const (
	sllHeaderLen  = 16 // Linux cooked v1: type, ARPHRD, address length, address, protocol
	sll2HeaderLen = 20 // Linux cooked v2: protocol, reserved, ifindex, ARPHRD, type, address length, address
	nullHeaderLen = 4  // BSD loopback: the address family, host order
)

// minRecordLen is the fewest bytes a frame takes in a capture file: a pcap
// record header, or a pcapng simple packet block with no data. An n-byte
// file thus holds at most n/minRecordLen frames, and its frames count at
// most n + (n/minRecordLen)·MaxWireLen wire bytes (each frame at most
// max(len(Data), MaxWireLen)).
const minRecordLen = 16

// fileWireLen makes a record's original length sane: never below what was
// captured (a packet is at least as long as its capture), never above
// MaxWireLen unless that much was captured.
func fileWireLen(orig uint32, captured int) int {
	switch {
	case uint64(orig) < uint64(captured):
		return captured
	case orig > MaxWireLen:
		return max(captured, MaxWireLen)
	}
	return int(orig)
}

// InterfaceLen returns the bytes the capturing interface counted for a
// frame of link type link, captured as data, whose sane original length
// (len(data) ≤ fileLen ≤ max(len(data), MaxWireLen)) is fileLen. It counts
// as the interface counters and hogs's live capture do (Device.LinkHeaderLen):
//
//   - Ethernet: the whole frame, header included: fileLen. Except where
//     both MAC addresses are zero: that is Linux's loopback device
//     (tcpdump -i lo writes such frames; no real Ethernet sends from
//     00:00:00:00:00:00), and lo counts the IP packet only: fileLen-14.
//   - Raw IP (raw, ipv4, ipv6): the IP packet: fileLen.
//   - Linux cooked v1 and v2: the capture replaced the link header by a
//     16- or 20-byte pseudo-header. The device's hardware type in it
//     decides: ARPHRD_ETHER counts a 14-byte Ethernet header, anything
//     else (loopback, tun, PPP, tunnels) none. So fileLen-16+14 on
//     Ethernet, fileLen-16 elsewhere (fileLen-20+14, fileLen-20 for v2).
//     A pseudo-header cut before its hardware type counts no link header.
//   - BSD loopback (null): the 4-byte address family is not on the wire
//     and lo0 does not count it: fileLen-4.
//
// The result is never negative.
func InterfaceLen(link decode.LinkType, data []byte, fileLen int) int {
	var pseudo, hwTypeAt int
	switch link {
	case decode.LinkLinuxSLL:
		pseudo, hwTypeAt = sllHeaderLen, 2
	case decode.LinkLinuxSLL2:
		pseudo, hwTypeAt = sll2HeaderLen, 8
	case decode.LinkNull:
		return max(fileLen-nullHeaderLen, 0)
	case decode.LinkEthernet:
		if isLoopbackEthernet(data) {
			return max(fileLen-ethernetHeaderLen, 0)
		}
		return fileLen
	default:
		return fileLen
	}
	n := max(fileLen-pseudo, 0)
	if len(data) >= hwTypeAt+2 && binary.BigEndian.Uint16(data[hwTypeAt:]) == arphrdEther {
		n += ethernetHeaderLen
	}
	return n
}

// cookedDirection returns the direction a Linux cooked pseudo-header
// records (its packet type), decode.DirUnknown for other link types and
// for a pseudo-header cut before it.
func cookedDirection(link decode.LinkType, data []byte) decode.Direction {
	switch {
	case link == decode.LinkLinuxSLL && len(data) >= 2:
		return directionOfPacketType(binary.BigEndian.Uint16(data[0:2]))
	case link == decode.LinkLinuxSLL2 && len(data) >= 11:
		return directionOfPacketType(uint16(data[10]))
	}
	return decode.DirUnknown
}

// directionOfPacketType maps a Linux packet type (sll_pkttype: host,
// broadcast, multicast, other host, outgoing) to a direction.
func directionOfPacketType(t uint16) decode.Direction {
	switch {
	case t == linuxPacketOutgoing:
		return decode.DirOut
	case t < linuxPacketOutgoing:
		return decode.DirIn
	}
	return decode.DirUnknown
}

// supportedLink reports whether the decoder reads frames of link type l.
func supportedLink(l decode.LinkType) bool {
	switch l {
	case decode.LinkNull, decode.LinkEthernet, decode.LinkRawAlt, decode.LinkRaw,
		decode.LinkLinuxSLL, decode.LinkIPv4, decode.LinkIPv6, decode.LinkLinuxSLL2:
		return true
	}
	return false
}

// otherLinkName names link types hogs does not decode but users meet
// (LINKTYPE_* in the tcpdump.org list), so the error can say what the file
// is; "" for the rest.
func otherLinkName(l decode.LinkType) string {
	switch l {
	case 6:
		return "IEEE802_5, Token Ring"
	case 8:
		return "SLIP"
	case 9:
		return "PPP"
	case 10:
		return "FDDI"
	case 14:
		return "RAW as OpenBSD numbers it"
	case 50:
		return "PPP_HDLC"
	case 51:
		return "PPP_ETHER, PPPoE"
	case 104:
		return "C_HDLC"
	case 105:
		return "IEEE802_11, Wi-Fi"
	case 108:
		return "LOOP, OpenBSD loopback"
	case 117:
		return "PFLOG"
	case 119:
		return "IEEE802_11_PRISM"
	case 127:
		return "IEEE802_11_RADIOTAP"
	case 163:
		return "IEEE802_11_AVS"
	case 187:
		return "BLUETOOTH_HCI_H4"
	case 189:
		return "USB_LINUX"
	case 195:
		return "IEEE802_15_4"
	case 201:
		return "BLUETOOTH_HCI_H4_WITH_PHDR"
	case 220:
		return "USB_LINUX_MMAPPED"
	case 227:
		return "CAN_SOCKETCAN"
	case 239:
		return "NFLOG"
	case 242:
		return "IPOIB"
	case 253:
		return "NETLINK"
	case 254:
		return "BLUETOOTH_LINUX_MONITOR"
	case 274:
		return "ETHERNET_MPACKET"
	}
	if l >= 147 && l <= 162 {
		return "USER" + strconv.Itoa(int(l)-147)
	}
	return ""
}

// LinkTypeError reports a capture of a link type hogs cannot decode.
type LinkTypeError struct {
	Path      string          // file name; empty for readers made by NewFileReader
	Offset    int64           // 0 for a pcap file header, else the interface description block
	Interface int             // the pcapng interface; 0 for pcap
	LinkType  decode.LinkType // the link type the file declares
}

// Error returns one line such as "FILE: link type 105 (IEEE802_11, Wi-Fi)
// is not supported: hogs reads Ethernet, Linux cooked (v1, v2), raw IP and
// BSD loopback captures".
func (e *LinkTypeError) Error() string {
	msg := "link type " + strconv.Itoa(int(e.LinkType))
	if name := otherLinkName(e.LinkType); name != "" {
		msg += " (" + name + ")"
	}
	if e.Offset != 0 {
		msg += " of interface " + strconv.Itoa(e.Interface) + " (byte offset " + strconv.FormatInt(e.Offset, 10) + ")"
	}
	msg += " is not supported: hogs reads Ethernet, Linux cooked (v1, v2), raw IP and BSD loopback captures"
	if e.Path != "" {
		return e.Path + ": " + msg
	}
	return msg
}

// isLoopbackEthernet reports whether an Ethernet frame has the all-zero
// destination and source addresses of Linux's loopback device.
func isLoopbackEthernet(frame []byte) bool {
	if len(frame) < 12 {
		return false
	}
	return binary.BigEndian.Uint64(frame[0:8])|uint64(binary.BigEndian.Uint32(frame[8:12])) == 0
}
