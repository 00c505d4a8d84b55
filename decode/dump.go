package decode

import "strconv"

// AppendDump appends the per-packet dump line of p, numbered frame, to b and
// returns the extended buffer. The line is tab separated, without newline:
//
//	frame  family  proto  src  sport  dst  dport  iplen
//
// For a frame without IP it is just "frame -". Ports are "-" where the frame
// has none (not TCP or UDP, a later fragment, a header cut short). This is
// the format of the reference decodes the decoder is tested against.
func (p *Packet) AppendDump(b []byte, frame int) []byte {
	b = strconv.AppendInt(b, int64(frame), 10)
	b = append(b, '\t')
	b = append(b, p.Family.String()...)
	if p.Family == NotIP {
		return b
	}
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(p.Proto), 10)
	b = append(b, '\t')
	b = p.Src.AppendTo(b)
	b = append(b, '\t')
	b = p.appendPort(b, p.SrcPort)
	b = append(b, '\t')
	b = p.Dst.AppendTo(b)
	b = append(b, '\t')
	b = p.appendPort(b, p.DstPort)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(p.IPLen), 10)
	return b
}

func (p *Packet) appendPort(b []byte, port uint16) []byte {
	if p.Flags&FlagPorts == 0 {
		return append(b, '-')
	}
	return strconv.AppendUint(b, uint64(port), 10)
}
