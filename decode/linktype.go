package decode

import "strconv"

// LinkType names the link-layer header that precedes the network header in a
// captured frame. The values are the pcap LINKTYPE_* numbers, so capture files
// carry them as is and live sources map their ARPHRD_* types onto them.
type LinkType uint16

// The link types the decoder understands. Any other value decodes as "not IP".
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet  LinkType = 1   // Ethernet II, any number of 802.1Q/802.1ad tags
	LinkRawAlt    LinkType = 12  // DLT_RAW as some systems write it: raw IPv4/IPv6
	LinkRaw       LinkType = 101 // raw IP; version nibble picks IPv4 or IPv6
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkIPv4      LinkType = 228 // raw IPv4 only
	LinkIPv6      LinkType = 229 // raw IPv6 only
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

// String returns the conventional short name of the link type.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "null"
	case LinkEthernet:
		return "ethernet"
	case LinkRaw, LinkRawAlt:
		return "raw"
	case LinkLinuxSLL:
		return "linux-sll"
	case LinkIPv4:
		return "ipv4"
	case LinkIPv6:
		return "ipv6"
	case LinkLinuxSLL2:
		return "linux-sll2"
	}
	return "linktype-" + strconv.Itoa(int(l))
}
