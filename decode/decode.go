package decode

// Decode fills p with the summary of frame, captured on a link of type link.
// Every field of p is overwritten. See the package documentation for the
// contract.
//
// One decoder reads every frame: the link header (decodeFrame), then the IP
// header (decodeIPv4, decodeIPv6) and the ports (transport). The IPv4
// headers live capture delivers most, without options and with what the
// decoder reads after them captured, take a shorter path (decodeIPv4Plain)
// with the same results, after whatever link header.
func Decode(link LinkType, frame []byte, p *Packet) {
	decodeFrame(link, frame, p)
}
