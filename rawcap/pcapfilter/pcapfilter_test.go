package pcapfilter_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/bpf"

	"hogs/rawcap/pcapfilter"
)

// errorCases are expressions Compile rejects, with the position and the
// message of the error. "libpcap" notes those that libpcap accepts.
var errorCases = []struct {
	expr string
	pos  int
	msg  string
}{
	{"tcp prot 80", 4, `unknown keyword "prot"`},
	{"tcp port", 8, `expected a port number after "port", found end of expression`},
	{"port 99999", 5, `port number 99999 is out of range (0-65535)`},
	{"portrange 1-70000", 10, `port number 70000 is out of range (0-65535)`},
	{"port 080", 5, `number "080" contains a non-octal digit`},
	{"port 0x", 5, `invalid number "0x"`},
	{"port 4294967296", 5, `number "4294967296" is too large`},
	{"port 80 or 1000-2000", 11, `"1000-2000" is a port range; use "portrange"`},
	{"port 1.2.3.4", 5, `"1.2.3.4" is not a port`},
	{"portrange 1.2.3.4", 10, `"1.2.3.4" is not a port range`},
	{"port 80 or 1.2.3.4", 11, `"1.2.3.4" is not a port`},
	{"port 80 mask 255.0.0.0", 8, `a mask is for networks only`},
	// libpcap looks service names up in /etc/services.
	{"port http", 5, `service names are not supported; write "http" as its port number, 80`},
	{"port foo-bar", 5, `service names are not supported; write "foo-bar" as a port number`},
	// libpcap takes a partial address as a network.
	{"host 1.2.3", 5, `"1.2.3" is not a full IPv4 address (a.b.c.d); use "net" for a network`},
	// libpcap takes a number as a host, here 0.0.0.80.
	{"host 1.2.3.4 or 80", 16, `"80" is not a full IPv4 address (a.b.c.d); use "net" for a network`},
	{"host 1.2.3.4.5", 5, `invalid IPv4 address "1.2.3.4.5"`},
	{"host 1.2.3.256", 5, `invalid IPv4 address "1.2.3.256"`},
	{"host 2001:::1", 5, `invalid IPv6 address "2001:::1"`},
	{"host 1.2.3.4/32", 12, `a mask is for networks only; use "net"`},
	{"src 10.0.0.0/8", 12, `a mask is for networks only; use "net"`},
	{"host example.com", 5, `host name "example.com" is not resolved (no DNS lookups); use an IP address`},
	{`host \tcp`, 5, `host name "tcp" is not resolved (no DNS lookups); use an IP address`},
	{"host 1.2.3.4 or foo", 16, `host name "foo" is not resolved (no DNS lookups); use an IP address`},
	{"host 1000-2000", 5, `"1000-2000" is not an IP address`},
	{"ip6 host 1.2.3.4", 9, `IPv4 address "1.2.3.4" cannot be qualified by "ip6"`},
	{"ip host ::1", 8, `IPv6 address "::1" cannot be qualified by "ip"`},
	{"tcp host 1.2.3.4", 4, `"tcp" cannot qualify "host" (only "ip" and "ip6" can)`},
	{"tcp src 1.2.3.4", 8, `"tcp" cannot qualify an address (did you mean "tcp port"?)`},
	{"ip port 80", 3, `"ip" cannot qualify "port" (only "tcp", "udp" and "sctp" can)`},
	{"icmp port 80", 5, `"icmp" cannot qualify "port" (only "tcp", "udp" and "sctp" can)`},
	{"tcp proto 6", 4, `"tcp" cannot qualify "proto" (only "ip" and "ip6" can)`},
	{"src proto 6", 4, `"proto" takes no direction qualifier`},
	{"net 10.0.0.0/33", 13, `mask length 33 is out of range for IPv4 (0-32)`},
	{"net ::/129", 7, `mask length "129" is out of range (0-128)`},
	{"net 10.0.0.1/8", 4, `non-network bits set in "10.0.0.1/8"`},
	{"net 10.0.0.1 mask 255.0.0.0", 4, `non-network bits set in "10.0.0.1 mask 255.0.0.0"`},
	{"net 2001:db8::1/64", 4, `non-network bits set in "2001:db8::1/64"`},
	{"net 2001:db8:: mask ffff::", 20, `expected a netmask such as 255.255.0.0 after "mask", found "ffff::"`},
	{"net 10.0.0.0 mask", 17, `expected a netmask such as 255.255.0.0 after "mask", found end of expression`},
	{"net 10.0.0.0/", 13, `expected a mask length after "/", found end of expression`},
	{"net 2001:db8:: mask 255.255.0.0", 15, `"mask" is for IPv4 networks; write an IPv6 prefix as ADDRESS/LENGTH`},
	{"net 300/8", 4, `"300" is not an IPv4 network`},
	{"net corp", 4, `network name "corp" is not resolved; use an address such as 10.0.0.0/8`},
	{"net 1-2", 4, `"1-2" is not a network address`},
	{"ip6 net 10/8", 8, `IPv4 address "10" cannot be qualified by "ip6"`},
	// libpcap accepts the number and matches nothing.
	{"proto 300", 6, `protocol number "300" is out of range (0-255)`},
	{`ip proto \foo`, 9, `unknown protocol name "foo"; use the protocol number`},
	{"ip proto 1.2.3.4", 9, `"1.2.3.4" is not a protocol number`},
	{"proto 6/8", 7, `a mask is for networks only`},
	{"(tcp", 4, `missing ")" to match "(" at position 1`},
	{"port (80 or 443", 15, `missing ")" to match "(" at position 6`},
	{"tcp)", 3, `unexpected ")" without a matching "("`},
	{"tcp and", 7, `expected an expression after "and", found end of expression`},
	{"tcp or or udp", 7, `expected an expression after "or", found "or"`},
	{"not", 3, `expected an expression after "not", found end of expression`},
	{"()", 1, `expected an expression after "(", found ")"`},
	{"and tcp", 0, `expected an expression, found "and"`},
	{"mask", 0, `expected an expression, found "mask"`},
	{"host", 4, `expected an IP address after "host", found end of expression`},
	{"host tcp", 5, `expected an IP address after "host", found "tcp"`},
	{"net (", 5, `expected a network address after "(", found end of expression`},
	{"portrange", 9, `expected a port range after "portrange", found end of expression`},
	{"ip proto", 8, `expected a protocol number after "proto", found end of expression`},
	{"src or", 6, `expected "dst" after "or", found end of expression`},
	{"src and src host 1.2.3.4", 8, `expected "dst" after "and", found "src"`},
	{"src", 3, `expected an IP address after "src", found end of expression`},
	{"ether host 1:2:3:4:5:6", 0, `"ether" is not supported: the filter sees IP packets from the IP header on, with no link layer`},
	{"vlan and tcp", 0, `"vlan" is not supported: the filter sees IP packets from the IP header on, with no link layer`},
	{"tcp and arp", 8, `"arp" is not supported: the filter sees IP packets from the IP header on, with no link layer`},
	{"tcp port 80 vlan", 12, `"vlan" is not supported: the filter sees IP packets from the IP header on, with no link layer`},
	{"gateway 1.2.3.4", 0, `"gateway" is not supported`},
	{"ip protochain 6", 3, `"protochain" is not supported`},
	{"ip = 1", 3, `unexpected "=" after a complete expression (missing "and" or "or"?)`},
	// Loads, lengths, multicast: what libpcap refuses for raw IP, or hogs leaves out.
	{"broadcast", 0, `"broadcast" is not supported: the filter sees IP packets from the IP header on, with no link layer; write "ip broadcast"`},
	{"tcp and multicast", 8, `"multicast" is not supported: the filter sees IP packets from the IP header on, with no link layer; write "ip multicast" or "ip6 multicast"`},
	{"ip6 broadcast", 4, `"ip6" cannot qualify "broadcast" (only "ip" and "ip6" multicast, and "ip broadcast")`},
	{"tcp multicast", 4, `"tcp" cannot qualify "multicast" (only "ip" and "ip6" multicast, and "ip broadcast")`},
	{"ether[0] = 1", 0, `"ether" is not supported: the filter sees IP packets from the IP header on, with no link layer`},
	{"tcp[1:3] = 1", 6, `the size of a load must be 1, 2 or 4, not "3"`},
	{"tcp[tcp[12]] = 1", 3, `the index of tcp[...] must be a constant (a load or len in it is not supported)`},
	{"tcp[13 = 1", 7, `expected "]" after "13", found "="`},
	{"tcp[13", 6, `missing "]" to match "[" at position 4`},
	{"len / 0 = 1", 4, `division by zero`},
	{"len % (1 - 1) = 1", 4, `division by zero`},
	{"len > ", 6, `expected a number, len or a load such as tcp[13] after ">", found end of expression`},
	{"tcp[13] & 2", 11, `expected a comparison (=, !=, <, <=, >, >=) after "2", found end of expression`},
	{"greater", 7, `expected a length in bytes after "greater", found end of expression`},
	{"less len", 5, `expected a length in bytes after "less", found "len"`},
	{"len > ((((((((((((((((((1+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)+len)", 114, "arithmetic nested too deep: it needs 18 scratch memory words, classic BPF has 16"},
	{"foo", 0, `unknown keyword "foo"`},
	{"TCP port 80", 0, `unknown keyword "TCP" (keywords are lower case)`},
	{"tcp port 80 garbage", 12, `unknown keyword "garbage"`},
	{"tcp port 80 443", 12, `unexpected "443" after a complete expression (missing "and" or "or"?)`},
	{"tcp 80", 4, `unexpected "80" after a complete expression (missing "and" or "or"?)`},
	{"tcp or 1.2.3.4", 7, `"1.2.3.4" needs a qualifier such as host, net, port or proto`},
	{"tcp and (port 80) or 443", 21, `"443" needs a qualifier such as host, net, port or proto`},
	{`tcp or \foo`, 7, `"\\foo" needs a qualifier such as host, net, port or proto`},
	{`\`, 0, `"\" must be followed by a name`},
	{"tcp\x00", 3, `unexpected character "\x00"`},
	{"host 1.2.3.4\n\x1b[31m", 13, `unexpected character "\x1b"`},
	{"host \xff", 5, `unexpected character "\xff"`},
	{"tcp é", 4, `unexpected character "é"`},
	{strings.Repeat("(", 200) + "tcp" + strings.Repeat(")", 200), 100, `expression nested more than 100 deep`},
	{strings.Repeat("not ", 200) + "tcp", 400, `expression nested more than 100 deep`},
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.expr, func(t *testing.T) {
			prog, err := pcapfilter.Compile(tc.expr, 0)
			if err == nil {
				t.Fatalf("Compile succeeded with %d instructions", len(prog))
			}
			var se *pcapfilter.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SyntaxError", err, err)
			}
			if se.Expr != tc.expr || se.Pos != tc.pos || se.Msg != tc.msg {
				t.Errorf("error at %d %q, want at %d %q", se.Pos, se.Msg, tc.pos, tc.msg)
			}
			checkErrorText(t, se)
		})
	}
}

// checkErrorText checks the form of the error line.
func checkErrorText(t testing.TB, se *pcapfilter.SyntaxError) {
	t.Helper()
	text := se.Error()
	want := fmt.Sprintf("filter %q: position %d: %s", se.Expr, se.Pos+1, se.Msg)
	if text != want {
		t.Errorf("Error() = %q, want %q", text, want)
	}
	for _, r := range text {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			t.Errorf("Error() %q holds control character %q", text, r)
		}
	}
	if se.Pos < 0 || se.Pos > len(se.Expr) {
		t.Errorf("Pos %d is outside the expression of %d bytes", se.Pos, len(se.Expr))
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := pcapfilter.Compile("tcp prot 80", 0)
	const want = `filter "tcp prot 80": position 5: unknown keyword "prot"`
	if err == nil || err.Error() != want {
		t.Errorf("Compile error %v, want %s", err, want)
	}
}

// TestExtensions checks expressions Compile accepts although libpcap
// rejects them or reads them otherwise: each must decide as an equivalent
// expression libpcap accepts, compiled by Compile, on every synthesized packet.
func TestExtensions(t *testing.T) {
	pkts, names := synthesizedPackets()
	for _, tc := range []struct{ expr, same string }{
		// libpcap rejects these.
		{"net 10/8", "net 10.0.0.0/8"},
		{"host 1.2.3.4 and (5.6.7.8 or port 80)", "host 1.2.3.4 and (host 5.6.7.8 or port 80)"},
		{"host 1.2.3.4 or ((5.6.7.8))", "host 1.2.3.4 or 5.6.7.8"},
		{"ip proto tcp", "ip proto 6"},
		{"proto udp or 6", "proto 17 or 6"},
		{`ip6 proto \icmp6`, "ip6 proto 58"},
		{"port (80 or not 443)", "port 80 or not port 443"},
		// libpcap's /0 mask is 0xffffffff (a shift by 32), so it rejects
		// these; a /0 network holds every address.
		{"net 0.0.0.0/0", "ip"},
		{"src net 0.0.0.0/0 and tcp", "ip and tcp"},
		{"net 0/0", "ip"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			a, b := mustFilter(t, tc.expr), mustFilter(t, tc.same)
			for i, pkt := range pkts {
				if a.Match(pkt) != b.Match(pkt) {
					t.Errorf("%s (%x): %q %v, %q %v", names[i], pkt, tc.expr, a.Match(pkt), tc.same, b.Match(pkt))
				}
			}
		})
	}
}

func mustFilter(t testing.TB, expr string) *pcapfilter.Filter {
	t.Helper()
	prog, err := pcapfilter.Compile(expr, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkProgram(t, prog)
	f, err := pcapfilter.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSnapLen(t *testing.T) {
	for _, tc := range []struct {
		expr    string
		snaplen uint32
		want    uint32
	}{
		{"", 0, pcapfilter.DefaultSnapLen},
		{"", 192, 192},
		{"   \t\n", 96, 96},
		{"tcp", 192, 192},
		{"host 1.2.3.4", 0, pcapfilter.DefaultSnapLen},
	} {
		prog, err := pcapfilter.Compile(tc.expr, tc.snaplen)
		if err != nil {
			t.Fatal(err)
		}
		var rets []uint32
		for _, ins := range prog {
			if r, ok := ins.(bpf.RetConstant); ok {
				rets = append(rets, r.Val)
			}
		}
		for _, r := range rets {
			if r != 0 && r != tc.want {
				t.Errorf("Compile(%q, %d) returns %d, want %d or 0", tc.expr, tc.snaplen, r, tc.want)
			}
		}
		if len(rets) == 0 || strings.TrimSpace(tc.expr) == "" && (len(prog) != 1 || rets[0] != tc.want) {
			t.Errorf("Compile(%q, %d) = %v", tc.expr, tc.snaplen, prog)
		}
	}
}

// TestLongExpressions checks programs whose conditional jumps need
// trampolines, and the limit on the program's size.
func TestLongExpressions(t *testing.T) {
	// Alternating protocols keep the ports from merging into one list.
	var terms []string
	for i := 1; i <= 150; i++ {
		proto := "tcp"
		if i%2 == 0 {
			proto = "udp"
		}
		terms = append(terms, fmt.Sprintf("%s port %d", proto, i))
	}
	expr := strings.Join(terms, " or ")
	prog, err := pcapfilter.Compile(expr, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkProgram(t, prog)
	if len(prog) < 1000 {
		t.Errorf("program has only %d instructions", len(prog))
	}
	f, err := pcapfilter.NewFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	for port := uint16(0); port <= 160; port++ {
		for _, proto := range []byte{6, 17} {
			want := port >= 1 && port <= 150 && (port%2 == 0) == (proto == 17)
			for _, pkt := range [][]byte{
				ipv4("1.2.3.4", "5.6.7.8", proto, 0, 0, false, transport(proto, 9999, port)),
				ipv6("2001:db8::1", "2001:db8::2", proto, transport(proto, port, 9999)),
			} {
				if got := f.Match(pkt); got != want {
					t.Errorf("proto %d port %d: Match %v, want %v", proto, port, got, want)
				}
			}
		}
	}

	// Far too large: fails, at position 0.
	for _, n := range []int{400, 5000} {
		var terms []string
		for i := range n {
			terms = append(terms, fmt.Sprintf("tcp port %d or udp port %d", i, i))
		}
		_, err = pcapfilter.Compile(strings.Join(terms, " or "), 0)
		var se *pcapfilter.SyntaxError
		if !errors.As(err, &se) || se.Pos != 0 || !strings.HasPrefix(se.Msg, "expression too large") {
			t.Errorf("%d terms: error %v, want expression too large", 2*n, err)
		}
	}
}
