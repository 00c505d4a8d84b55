package main

import (
	"bufio"
	"errors"
	"io"

	"hogs/decode"
	"hogs/rawcap"
)

// dumpFile prints the per-packet dump of every frame in the capture file at
// path. Frames before any damage in the file are printed before the error
// that names the damage is returned.
func dumpFile(path string, w io.Writer) error {
	r, err := rawcap.OpenFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	out := bufio.NewWriterSize(w, 64<<10)
	var (
		f    rawcap.Frame
		p    decode.Packet
		line []byte
	)
	for n := 1; ; n++ {
		err := r.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Flush()
			return err
		}
		decode.Decode(f.LinkType, f.Data, &p)
		line = append(p.AppendDump(line[:0], n), '\n')
		if _, err := out.Write(line); err != nil {
			return err
		}
	}
	return out.Flush()
}
