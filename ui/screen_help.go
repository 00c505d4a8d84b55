package ui

import "strings"

// helpText is the key overlay, one line per key (helpGroup: the c key,
// where grouping is built).
const helpText = `hogs keys
q  Ctrl-C       quit (Ctrl-Z suspends, fg resumes)
s r t           sort by sent, received, total (largest first)
p n             sort by PID, program name
m               next unit: kB/s kB bytes MB MB/s GB/s Mbit/s auto
                (kB MB GB: 1024-based; Mbit: 10^6 bits;
                auto: B KiB MiB GiB per number, 1024-based)
Space           pause: the view stops, the counting goes on
/               filter: program, user, address; Enter applies,
                Esc clears
l               show or hide the command line
b               show the program's base name or path
` + helpGroup + `Up Down  k j    select the previous or next row
PgUp PgDn       page up or down
Home End  g G   first or last row
Enter  Right    connections of the selected process or group
H               remote hosts, all processes
Esc  Bksp Left  back to the processes
h  ?            show or hide this help
Ctrl-L          redraw the screen`

// renderHelp draws the key overlay in a box centred over the screen,
// cut to the screen when it is smaller.
func (g *Grid) renderHelp() {
	lines, width := 0, 0
	for rest := helpText; rest != ""; lines++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		width = max(width, len(line))
	}
	bw, bh := min(width+4, g.W), min(lines+2, g.H)
	x0, y0 := (g.W-bw)/2, (g.H-bh)/2
	for y := y0; y < y0+bh; y++ {
		for x := x0; x < x0+bw; x++ {
			ch := ' '
			top, bottom, left, rightEdge := y == y0, y == y0+bh-1, x == x0, x == x0+bw-1
			switch {
			case (top || bottom) && (left || rightEdge):
				ch = '+'
			case top || bottom:
				ch = '-'
			case left || rightEdge:
				ch = '|'
			}
			g.set(x, y, ch, 0)
		}
	}
	y := y0 + 1
	for rest := helpText; rest != "" && y < y0+bh-1; y++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		a := Attr(0)
		if y == y0+1 {
			a = AttrBold
		}
		g.drawString(x0+2, y, bw-4, line, a, false)
	}
}
