package rawcap_test

import (
	"errors"
	"fmt"
	"io"
	"time"

	"hogs/rawcap"
)

// ExampleOpenFile reads every frame of a capture file. The file holds two
// Ethernet frames, then a record the file ends inside of: the frames come
// first, then one line naming the file and where the damage starts.
func ExampleOpenFile() {
	r, err := rawcap.OpenFile("testdata/example.pcap")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	var f rawcap.Frame
	for {
		err := r.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(f.Timestamp.Format(time.RFC3339Nano), f.LinkType, len(f.Data), f.WireLen)
	}
	// Output:
	// 2023-11-14T22:13:20.25Z ethernet 60 60
	// 2023-11-14T22:13:20.5Z ethernet 96 1514
	// testdata/example.pcap: truncated capture file at byte offset 212: file ends inside a record (captured length 60)
}
