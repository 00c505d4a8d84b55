package conntrack

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hogs/internal/flow"
	"hogs/internal/netlab"
)

var record = flag.Bool("record", false, "rewrite testdata/replies/*.txt from this kernel's answers (TestLiveClassify)")

// recordingConn passes a conversation through, keeping each request with
// the datagrams that followed it.
type recordingConn struct {
	conn      netlinkConn
	exchanges []exchange
}

func (r *recordingConn) Send(req []byte) error {
	r.exchanges = append(r.exchanges, exchange{request: append([]byte(nil), req...)})
	return r.conn.Send(req)
}

func (r *recordingConn) Receive(b []byte) (int, error) {
	n, err := r.conn.Receive(b)
	if err == nil && len(r.exchanges) > 0 {
		e := &r.exchanges[len(r.exchanges)-1]
		e.replies = append(e.replies, append([]byte(nil), b[:n]...))
	}
	return n, err
}

func (r *recordingConn) Close() error { return r.conn.Close() }

// lab is the live tests' machine: namespaces host, container, remote and
// remote2 (names in the fields), the host forwarding between the others.
type lab struct {
	*netlab.Lab
	host, container, remote, remote2 string
}

// newLab builds the topology of the package comment's example, in
// namespaces of its own, removed at the end of the test:
//
//	container 10.90.1.2 fd90:1::2 ── hc [host] hr ── 192.168.90.2 fd90:2::2 remote
//	                                       hs ── 10.91.2.2 remote2
//
// The host masquerades what the container sends out of hr, forwards
// 192.168.90.1 tcp/8080 to the container's tcp/80 and udp/8053 to udp/53,
// and routes remote ↔ remote2 as they are. The remote has no route to the
// container's network: an answer reaches the container only through NAT.
func newLab(t testing.TB) *lab {
	t.Helper()
	netlab.SkipUnlessAdmin(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nftables' nft for the NAT rules (apt-get install nftables)")
	}
	l := &lab{Lab: netlab.NewLab()}
	t.Cleanup(func() {
		if err := l.Cleanup(); err != nil {
			t.Errorf("removing the test's namespaces: %v", err)
		}
	})
	suffix := netlab.RandomName("")[1:]
	l.host, l.container, l.remote, l.remote2 = "hogs-ct-h-"+suffix, "hogs-ct-c-"+suffix, "hogs-ct-r-"+suffix, "hogs-ct-s-"+suffix
	for _, ns := range []string{l.host, l.container, l.remote, l.remote2} {
		if err := l.AddNetns(ns); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"} {
		netlab.Sysctl(t, l.host, s)
	}
	h, c, r, s := l.host, l.container, l.remote, l.remote2
	steps := [][]string{
		{"", "link", "add", "hc", "netns", h, "type", "veth", "peer", "name", "eth0", "netns", c},
		{"", "link", "add", "hr", "netns", h, "type", "veth", "peer", "name", "eth0", "netns", r},
		{"", "link", "add", "hs", "netns", h, "type", "veth", "peer", "name", "eth0", "netns", s},
		{h, "addr", "add", "10.90.1.1/24", "dev", "hc"},
		{h, "addr", "add", "fd90:1::1/64", "dev", "hc", "nodad"},
		{h, "addr", "add", "192.168.90.1/24", "dev", "hr"},
		{h, "addr", "add", "fd90:2::1/64", "dev", "hr", "nodad"},
		{h, "addr", "add", "10.91.2.1/24", "dev", "hs"},
		{c, "addr", "add", "10.90.1.2/24", "dev", "eth0"},
		{c, "addr", "add", "fd90:1::2/64", "dev", "eth0", "nodad"},
		{r, "addr", "add", "192.168.90.2/24", "dev", "eth0"},
		{r, "addr", "add", "fd90:2::2/64", "dev", "eth0", "nodad"},
		{s, "addr", "add", "10.91.2.2/24", "dev", "eth0"},
	}
	for _, ns := range []string{h, c, r, s} {
		steps = append(steps, []string{ns, "link", "set", "lo", "up"})
	}
	for _, dev := range []string{"hc", "hr", "hs"} {
		steps = append(steps, []string{h, "link", "set", dev, "up"})
	}
	for _, ns := range []string{c, r, s} {
		steps = append(steps, []string{ns, "link", "set", "eth0", "up"})
	}
	steps = append(steps,
		[]string{c, "route", "add", "default", "via", "10.90.1.1"},
		[]string{c, "-6", "route", "add", "default", "via", "fd90:1::1"},
		[]string{r, "route", "add", "10.91.2.0/24", "via", "192.168.90.1"},
		[]string{s, "route", "add", "default", "via", "10.91.2.1"},
	)
	for _, st := range steps {
		netlab.IP(t, st[0], st[1:]...)
	}
	nft := exec.Command("ip", "netns", "exec", h, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(`table inet hogsct {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "hr" ip daddr 192.168.90.1 tcp dport 8080 dnat ip to 10.90.1.2:80
		iifname "hr" ip daddr 192.168.90.1 udp dport 8053 dnat ip to 10.90.1.2:53
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "hr" ip saddr 10.90.1.0/24 masquerade
		oifname "hr" ip6 saddr fd90:1::/64 masquerade
	}
}
`)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	return l
}

// openConn opens a Conn in namespace ns.
func openConn(t testing.TB, ns string) *Conn {
	t.Helper()
	fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c, err := OpenIn(fd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// TestLiveClassify sends TCP and UDP between processes in the lab's
// namespaces and classifies the flows as the host's uplink (hr) and
// routing see them, asking the host namespace's conntrack table: the
// masqueraded and port-forwarded copies are counted elsewhere (the
// container's veth), the remote ↔ remote2 flow is forwarded, the host's
// own flow local. With -record the kernel's answers are written to
// testdata/replies for TestRecordedReplies and the fuzz seeds.
func TestLiveClassify(t *testing.T) {
	l := newLab(t)
	for _, sv := range []struct{ ns, role string }{
		{l.remote, "tcp-server 192.168.90.2:7000"},
		{l.remote, "udp-server 192.168.90.2:7001"},
		{l.remote, "tcp-server [fd90:2::2]:7000"},
		{l.remote, "udp-server [fd90:2::2]:7001"},
		{l.container, "tcp-server 10.90.1.2:80"},
		{l.container, "udp-server 10.90.1.2:53"},
		{l.remote2, "tcp-server 10.91.2.2:7000"},
		{l.remote2, "udp-server 10.91.2.2:7001"},
	} {
		startServer(t, l.Lab, sv.ns, sv.role)
	}
	conn := openConn(t, l.host)
	rec := &recordingConn{conn: conn.conn}
	conn.conn = rec
	classifier := labClassifier(conn)

	const (
		none   = 0
		anyNAT = StatusSrcNAT | StatusDstNAT
	)
	for _, tc := range []struct {
		name, comment string
		ns, role      string
		// uplink makes the key as the host sees the flow from the client's
		// own address and the one the server saw.
		uplink func(client, seen netip.AddrPort) (local, remote netip.AddrPort)
		class  Class
		nat    Status
		// inner is the real end that must be in the entry.
		inner func(client, seen netip.AddrPort) netip.AddrPort
	}{
		{name: "masquerade-tcp4", comment: "container 10.90.1.2 → remote tcp/7000, masqueraded: the copy on the uplink",
			ns: l.container, role: "tcp-client 192.168.90.2:7000", class: CountedElsewhere, nat: StatusSrcNAT,
			uplink: func(_, seen netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return seen, netip.MustParseAddrPort("192.168.90.2:7000")
			},
			inner: func(client, _ netip.AddrPort) netip.AddrPort { return client }},
		{name: "masquerade-udp4", comment: "container 10.90.1.2 → remote udp/7001, masqueraded: the copy on the uplink",
			ns: l.container, role: "udp-client 192.168.90.2:7001", class: CountedElsewhere, nat: StatusSrcNAT,
			uplink: func(_, seen netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return seen, netip.MustParseAddrPort("192.168.90.2:7001")
			},
			inner: func(client, _ netip.AddrPort) netip.AddrPort { return client }},
		{name: "masquerade-tcp6", comment: "container fd90:1::2 → remote tcp/7000, masqueraded: the copy on the uplink",
			ns: l.container, role: "tcp-client [fd90:2::2]:7000", class: CountedElsewhere, nat: StatusSrcNAT,
			uplink: func(_, seen netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return seen, netip.MustParseAddrPort("[fd90:2::2]:7000")
			},
			inner: func(client, _ netip.AddrPort) netip.AddrPort { return client }},
		{name: "masquerade-udp6", comment: "container fd90:1::2 → remote udp/7001, masqueraded: the copy on the uplink",
			ns: l.container, role: "udp-client [fd90:2::2]:7001", class: CountedElsewhere, nat: StatusSrcNAT,
			uplink: func(_, seen netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return seen, netip.MustParseAddrPort("[fd90:2::2]:7001")
			},
			inner: func(client, _ netip.AddrPort) netip.AddrPort { return client }},
		{name: "dnat-tcp4", comment: "remote → 192.168.90.1 tcp/8080 forwarded to the container's tcp/80: the copy on the uplink",
			ns: l.remote, role: "tcp-client 192.168.90.1:8080", class: CountedElsewhere, nat: StatusDstNAT,
			uplink: func(client, _ netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return netip.MustParseAddrPort("192.168.90.1:8080"), client
			},
			inner: func(netip.AddrPort, netip.AddrPort) netip.AddrPort { return netip.MustParseAddrPort("10.90.1.2:80") }},
		{name: "dnat-udp4", comment: "remote → 192.168.90.1 udp/8053 forwarded to the container's udp/53: the copy on the uplink",
			ns: l.remote, role: "udp-client 192.168.90.1:8053", class: CountedElsewhere, nat: StatusDstNAT,
			uplink: func(client, _ netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return netip.MustParseAddrPort("192.168.90.1:8053"), client
			},
			inner: func(netip.AddrPort, netip.AddrPort) netip.AddrPort { return netip.MustParseAddrPort("10.90.1.2:53") }},
		{name: "routed-tcp4", comment: "remote → remote2 tcp/7000 routed by the host without NAT",
			ns: l.remote, role: "tcp-client 10.91.2.2:7000", class: Forwarded, nat: none,
			uplink: func(client, _ netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return netip.MustParseAddrPort("10.91.2.2:7000"), client
			},
			inner: func(client, _ netip.AddrPort) netip.AddrPort { return client }},
		{name: "routed-udp4", comment: "remote → remote2 udp/7001 routed by the host without NAT",
			ns: l.remote, role: "udp-client 10.91.2.2:7001", class: Forwarded, nat: none,
			uplink: func(client, _ netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return client, netip.MustParseAddrPort("10.91.2.2:7001")
			},
			inner: func(client, _ netip.AddrPort) netip.AddrPort { return client }},
		{name: "host-tcp4", comment: "the host's own process → remote tcp/7000",
			ns: l.host, role: "tcp-client 192.168.90.2:7000", class: Local, nat: none,
			uplink: func(client, _ netip.AddrPort) (netip.AddrPort, netip.AddrPort) {
				return client, netip.MustParseAddrPort("192.168.90.2:7000")
			},
			inner: func(client, _ netip.AddrPort) netip.AddrPort { return client }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s := runClient(t, tc.ns, tc.role)
			client, seen := addrPort(t, c), addrPort(t, s)
			local, remote := tc.uplink(client, seen)
			proto := flow.TCP
			if strings.HasPrefix(tc.role, "udp") {
				proto = flow.UDP
			}
			k := flow.Key{Local: local, Remote: remote, Proto: proto, NetNS: labNS}
			rec.exchanges = nil
			class, err := classifier.Classify(k)
			if err != nil {
				t.Fatal(err)
			}
			exchanges := rec.exchanges
			e, found, err := classifier.Lookup(k)
			if err != nil || !found {
				t.Fatalf("no entry for %v (client %v, server saw %v): %v", k, client, seen, err)
			}
			t.Logf("%v: %s: %s", k, class, formatEntry(e, found))
			if class != tc.class {
				t.Errorf("class %s, want %s", class, tc.class)
			}
			if e.Status&anyNAT != tc.nat {
				t.Errorf("NAT status %#x, want %#x", e.Status&anyNAT, tc.nat)
			}
			if i, r := e.Ends(); i != tc.inner(client, seen) && r != tc.inner(client, seen) {
				t.Errorf("ends %v and %v, want one to be %v", i, r, tc.inner(client, seen))
			}
			if e.ID == 0 || e.Status&StatusConfirmed == 0 {
				t.Errorf("entry id %d status %#x: want an id and confirmed", e.ID, e.Status)
			}
			if *record {
				r := &recording{comment: tc.comment, key: k, class: class.String(), entry: formatEntry(e, found), exchanges: exchanges}
				if err := os.MkdirAll("testdata/replies", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := r.write("testdata/replies/" + tc.name + ".txt"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	t.Run("no-entry", func(t *testing.T) {
		k := flow.Key{Local: netip.MustParseAddrPort("192.168.90.1:9"), Remote: netip.MustParseAddrPort("192.168.90.2:9"), Proto: flow.UDP, NetNS: labNS}
		rec.exchanges = nil
		class, err := classifier.Classify(k)
		if err != nil || class != Local {
			t.Errorf("class %s, %v; want local from the addresses", class, err)
		}
		if _, err := conn.Get(Tuple{Proto: flow.UDP, Src: k.Remote, Dst: k.Local}); err != ErrNotFound {
			t.Errorf("Get of a tuple never seen: %v, want ErrNotFound", err)
		}
		if *record {
			r := &recording{comment: "a UDP tuple the kernel never saw: no entry, classified by its addresses", key: k,
				class: class.String(), entry: "none", exchanges: rec.exchanges[:2]}
			if err := r.write("testdata/replies/no-entry.txt"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestLiveWithoutNetAdmin: a process without CAP_NET_ADMIN (hogs in a
// container with Docker's default capabilities) is refused by the kernel,
// and the error says what is missing; the same process with it is told
// there is no entry.
func TestLiveWithoutNetAdmin(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	ns := netlab.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for role, want := range map[string]string{
		"get 192.0.2.2:1":                   ErrNotFound.Error(),
		"get-without-net-admin 192.0.2.2:1": "needs CAP_NET_ADMIN",
	} {
		out, err := helperCmd(ctx, ns, role).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%s: %v: %q, want it to say %q", role, err, out, want)
		}
	}
}
