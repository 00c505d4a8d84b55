package ui

import "strconv"

// drawNum writes v right-aligned in the w cells at (x, y), as nethogs's
// %11.3f does when it fits, with fewer decimals (then an exponent) when
// it does not.
func (g *Grid) drawNum(x, y, w int, v float64, a Attr) {
	var buf [32]byte
	g.drawText(x, y, w, appendFit(buf[:0], v, w), a, true)
}

// appendFit formats v with three decimals, or fewer or in e-notation when
// that is what it takes to fit in w bytes.
func appendFit(b []byte, v float64, w int) []byte {
	start := len(b)
	for prec := 3; prec >= 0; prec-- {
		b = strconv.AppendFloat(b[:start], v, 'f', prec, 64)
		if len(b)-start <= w {
			return b
		}
	}
	for prec := 2; prec >= 0; prec-- {
		b = strconv.AppendFloat(b[:start], v, 'e', prec, 64)
		if len(b)-start <= w {
			return b
		}
	}
	return b
}

// appendHuman formats a byte count (or rate, with suffix "/s") in binary
// units: "740 B", "12.3 kB/s", "1.4 GB".
func appendHuman(b []byte, v float64, suffix string) []byte {
	unit := "B"
	switch {
	case v >= 1<<40:
		v, unit = v/(1<<40), "TB"
	case v >= 1<<30:
		v, unit = v/(1<<30), "GB"
	case v >= 1<<20:
		v, unit = v/(1<<20), "MB"
	case v >= 1<<10:
		v, unit = v/(1<<10), "kB"
	}
	prec := 1
	if unit == "B" {
		prec = 0
	}
	b = strconv.AppendFloat(b, v, 'f', prec, 64)
	b = append(b, ' ')
	b = append(b, unit...)
	return append(b, suffix...)
}
