package ui

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"hogs/decode"
)

// TraceOptions are the flags that change trace output.
type TraceOptions struct {
	Mode    ViewMode
	Order   SortOrder
	Cmdline bool // -l: the arguments after the program name
}

// WriteTrace writes one refresh in nethogs's trace format (-t), byte for
// byte: an empty line, "Refreshing:", one NAME/PID/UID<TAB>SENT<TAB>RECEIVED
// line per row in the mode's unit (unit not printed, numbers as C++ streams
// print a double), then one "Unknown connection:" line per flow of the
// unknown TCP row, largest first, as nethogs does: at most
// MaxUnknownLines of them, then, when the row has more (a flood, a scan),
// one "Unknown connections: N more" line. Names are sanitized: no control
// byte reaches the output.
func WriteTrace(w io.Writer, snap *View, opts TraceOptions) error {
	// The view is shared with other sinks: sort a copy.
	rows := slices.Clone(snap.Rows)
	Sort(rows, opts.Order, opts.Mode)
	b := make([]byte, 0, 4096)
	b = append(b, "\nRefreshing:\n"...)
	var unknown *Row
	for i := range rows {
		r := &rows[i]
		if r.Pseudo {
			b = append(b, r.Name...)
			if r.Name == UnknownTCPName {
				unknown = r
			}
		} else {
			b = AppendSanitized(b, r.Name)
			if opts.Cmdline && len(r.Cmdline) > 1 {
				b = append(b, ' ')
				b = AppendSanitized(b, strings.Join(r.Cmdline[1:], " "))
			}
		}
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(r.PID), 10)
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(r.UID), 10)
		sent, recv := opts.Mode.Values(r)
		b = append(b, '\t')
		b = AppendStreamFloat(b, sent)
		b = append(b, '\t')
		b = AppendStreamFloat(b, recv)
		b = append(b, '\n')
	}
	if unknown != nil {
		printed := 0
		for _, f := range unknown.Flows {
			if f.Key.Proto != decode.ProtoTCP || printed == MaxUnknownLines {
				continue
			}
			printed++
			b = append(b, "Unknown connection: "...)
			b = formatAddrPort(b, f.Key.Local)
			b = append(b, '-')
			b = formatAddrPort(b, f.Key.Remote)
			b = append(b, '\n')
		}
		if more := unknown.FlowCount - printed; more > 0 {
			b = append(b, "Unknown connections: "...)
			b = strconv.AppendInt(b, int64(more), 10)
			b = append(b, " more\n"...)
		}
	}
	_, err := w.Write(b)
	return err
}

// MaxUnknownLines bounds the "Unknown connection:" lines of a refresh.
const MaxUnknownLines = 100

// AppendStreamFloat formats v as C++'s default stream output of a double
// does (printf %g with 6 significant digits): 0, 11.9137, 5.34058e-05,
// 1.50403e+06.
func AppendStreamFloat(b []byte, v float64) []byte {
	if v == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, v, 'g', 6, 64)
}
