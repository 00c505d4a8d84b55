package ui

import "strconv"

// The units, as the help and README say them: nethogs's kB, MB and GB are
// binary (1 kB = 1024 B, 1 MB = 1024 kB, 1 GB = 1024 MB), Mbit/s is
// decimal (10^6 bits); the auto mode and the connection list's RATE and
// VOLUME columns write binary units with their IEC names (KiB, MiB, GiB,
// TiB).

// drawNum writes v right-aligned in the w cells at (x, y): in the auto
// mode as a binary amount with its unit (appendIECFit), otherwise as
// nethogs's %11.3f does when it fits, with fewer decimals (then an
// exponent) when it does not. A number that cannot fit (w under 5) shows
// as '#'s: never some of its digits.
func (g *Grid) drawNum(x, y, w int, v float64, mode ViewMode, a Attr) {
	var buf [32]byte
	var b []byte
	if mode == ModeAuto {
		b = appendIECFit(buf[:0], v, w)
	} else {
		b = appendFit(buf[:0], v, w)
	}
	if len(b) > w {
		b = buf[:0]
		for range min(w, len(buf)) {
			b = append(b, '#')
		}
	}
	g.drawText(x, y, w, b, a, true)
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

// iecScale returns v in the largest binary unit it reaches (up to TiB)
// and that unit's name.
func iecScale(v float64) (float64, string) {
	switch {
	case v >= 1<<40:
		return v / (1 << 40), "TiB"
	case v >= 1<<30:
		return v / (1 << 30), "GiB"
	case v >= 1<<20:
		return v / (1 << 20), "MiB"
	case v >= 1<<10:
		return v / (1 << 10), "KiB"
	}
	return v, "B"
}

// appendHuman formats a byte count (or rate, with suffix "/s") in binary
// units: "740 B", "12.3 KiB/s", "1.4 GiB".
func appendHuman(b []byte, v float64, suffix string) []byte {
	v, unit := iecScale(v)
	prec := 1
	if unit == "B" {
		prec = 0
	}
	b = strconv.AppendFloat(b, v, 'f', prec, 64)
	b = append(b, ' ')
	b = append(b, unit...)
	return append(b, suffix...)
}

// appendIECFit formats v as appendHuman does (no suffix), dropping the
// decimal and then the space when that is what it takes to fit in w
// bytes ("1023.9 KiB", "1024 KiB", "1024KiB").
func appendIECFit(b []byte, v float64, w int) []byte {
	start := len(b)
	b = appendHuman(b, v, "")
	if len(b)-start <= w {
		return b
	}
	s, unit := iecScale(v)
	b = strconv.AppendFloat(b[:start], s, 'f', 0, 64)
	if len(b)-start+1+len(unit) <= w {
		b = append(b, ' ')
	}
	return append(b, unit...)
}
