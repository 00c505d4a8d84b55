package pcapfilter_test

import (
	"fmt"

	"hogs/rawcap/pcapfilter"
)

func ExampleCompile() {
	prog, err := pcapfilter.Compile("ip6 and (udp dst port 53 or 5353)", 192)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, ins := range prog {
		fmt.Printf("(%03d) %v\n", i, ins)
	}

	// An IPv6 UDP datagram to port 53, as an AF_PACKET SOCK_DGRAM socket
	// delivers it: from the IP header on.
	pkt := make([]byte, 48)
	pkt[0] = 0x60                 // version 6
	pkt[6] = 17                   // next header: UDP
	pkt[40], pkt[41] = 0xc0, 0x01 // source port 49153
	pkt[42], pkt[43] = 0, 53      // destination port 53
	f, err := pcapfilter.NewFilter(prog)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("match:", f.Match(pkt))

	_, err = pcapfilter.Compile("udp dst port domain", 192)
	fmt.Println(err)
	// Output:
	// (000) ldb [0]
	// (001) and #240
	// (002) jneq #96,6
	// (003) ldb [6]
	// (004) jneq #17,4
	// (005) ldh [42]
	// (006) jeq #53,1
	// (007) jneq #5353,1
	// (008) ret #192
	// (009) ret #0
	// match: true
	// filter "udp dst port domain": position 14: service names are not supported; write "domain" as its port number, 53
}
