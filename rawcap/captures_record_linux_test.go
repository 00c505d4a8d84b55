package rawcap

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// TestRecordCaptures re-records testdata/captures with tcpdump in two
// fresh network namespaces. It runs only with HOGS_RECORD=1 (root,
// tcpdump); then `go test ./rawcap -run TestRecordedCaptures -update`
// rewrites the summaries the replay tests compare against.
func TestRecordCaptures(t *testing.T) {
	if os.Getenv("HOGS_RECORD") != "1" {
		t.Skip("re-records testdata/captures only with HOGS_RECORD=1 (root, tcpdump)")
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Fatalf("HOGS_RECORD=1 needs tcpdump: %v", err)
	}
	nsA, nsB := recordingLab(t)
	for _, rc := range recordedCaptures() {
		ns := map[string]string{"a": nsA, "b": nsB}[rc.ns]
		tmp := filepath.Join(t.TempDir(), rc.file)
		stop := startTcpdump(t, ns, tmp, rc.tcpdump)
		clientNS := nsA
		if rc.ns == "b" {
			clientNS = nsB // loopback: both ends in b
		}
		before := netlab.ReadCounters(t, ns, rc.device)
		for _, ex := range rc.exchange {
			runExchange(t, clientNS, nsB, ex)
		}
		time.Sleep(200 * time.Millisecond) // the last FIN and ACK reach tcpdump
		after := netlab.ReadCounters(t, ns, rc.device)
		stop()
		b, err := os.ReadFile(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "captures", rc.file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		local := []string{"10.77.0.1", "fd77::1"}
		if rc.device == "lo" {
			local = []string{"127.0.0.1", "::1"}
		}
		counters, err := json.MarshalIndent(deviceCounters{
			Device: rc.device, Local: local,
			TxPackets: after.TxPackets - before.TxPackets, TxBytes: after.TxBytes - before.TxBytes,
			RxPackets: after.RxPackets - before.RxPackets, RxBytes: after.RxBytes - before.RxBytes,
		}, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "captures", rc.file+".counters"), append(counters, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s: %d bytes; %s", rc.file, len(b), counters)
	}
}

// recordingLab makes namespaces a and b joined by veth vA-vB, with IPv4
// and IPv6 addresses, fixed MACs, static neighbours, and no segmentation
// offload (one packet per segment, as on a wire), so that the link carries
// only the test's packets.
func recordingLab(t *testing.T) (nsA, nsB string) {
	nsA, nsB = netlab.New(t), netlab.New(t)
	netlab.IP(t, nsA, "link", "add", "vA", "address", "02:00:00:77:00:01", "type", "veth",
		"peer", "name", "vB", "address", "02:00:00:77:00:02", "netns", nsB)
	for _, side := range []struct{ ns, dev, v4, v6, peer4, peer6, peerMAC string }{
		{nsA, "vA", "10.77.0.1/24", "fd77::1/64", "10.77.0.2", "fd77::2", "02:00:00:77:00:02"},
		{nsB, "vB", "10.77.0.2/24", "fd77::2/64", "10.77.0.1", "fd77::1", "02:00:00:77:00:01"},
	} {
		netlab.Sysctl(t, side.ns, "net.ipv4.igmp_link_local_mcast_reports=0")
		// Joining fd77::'s solicited-node group sends MLD reports, later
		// and repeated: let them go at once, before recording starts.
		netlab.Sysctl(t, side.ns, "net.ipv6.conf."+side.dev+".mldv2_unsolicited_report_interval=1")
		netlab.Sysctl(t, side.ns, "net.ipv6.conf."+side.dev+".mldv1_unsolicited_report_interval=1")
		netlab.IP(t, side.ns, "link", "set", side.dev, "addrgenmode", "none", "multicast", "off",
			"gso_max_segs", "1")
		netlab.IP(t, side.ns, "addr", "add", side.v4, "dev", side.dev)
		netlab.IP(t, side.ns, "addr", "add", side.v6, "dev", side.dev, "nodad")
		netlab.IP(t, side.ns, "link", "set", side.dev, "up")
		netlab.IP(t, side.ns, "link", "set", "lo", "up")
		netlab.IP(t, side.ns, "neigh", "replace", side.peer4, "lladdr", side.peerMAC, "dev", side.dev, "nud", "permanent")
		netlab.IP(t, side.ns, "neigh", "replace", side.peer6, "lladdr", side.peerMAC, "dev", side.dev, "nud", "permanent")
	}
	time.Sleep(time.Second) // the MLD reports (their interval is 1 ms now) are sent
	return nsA, nsB
}

// startTcpdump runs tcpdump in ns writing TCP and UDP packets to path, and
// returns once it listens; the returned function stops it.
func startTcpdump(t *testing.T, ns, path string, opts []string) (stop func()) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	args := append([]string{"netns", "exec", ns, "tcpdump", "-n", "-U", "--immediate-mode", "-Z", "root", "-w", path}, opts...)
	cmd := exec.CommandContext(ctx, "ip", append(args, "tcp or udp")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	lines := bufio.NewScanner(stderr)
	var said []string
	for lines.Scan() {
		said = append(said, lines.Text())
		if strings.Contains(lines.Text(), "listening on") {
			break
		}
	}
	if len(said) == 0 || !strings.Contains(said[len(said)-1], "listening on") {
		cancel()
		cmd.Wait()
		t.Fatalf("tcpdump %q did not start: %s", opts, strings.Join(said, "; "))
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stderr)
		rest <- string(b)
	}()
	return func() {
		cmd.Process.Signal(syscall.SIGINT)
		summary := <-rest
		if err := cmd.Wait(); err != nil {
			t.Errorf("tcpdump %q: %v: %s", opts, err, summary)
		}
		cancel()
		t.Logf("tcpdump %q: %s", opts, strings.Join(strings.Fields(summary), " "))
	}
}

// runExchange opens the server of ex in serverNS and its client in
// clientNS (sockets keep the namespace they were made in) and runs the
// conversation to its end.
func runExchange(t *testing.T, clientNS, serverNS string, ex exchange) {
	var (
		ln   net.Listener
		pc   net.PacketConn
		conn net.Conn
	)
	netlab.Run(t, serverNS, func() {
		var err error
		if ex.proto == "tcp" {
			ln, err = net.Listen("tcp", ex.server)
		} else {
			pc, err = net.ListenPacket("udp", ex.server)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	netlab.Run(t, clientNS, func() {
		local, err := resolveLocal(ex)
		if err != nil {
			t.Fatal(err)
		}
		d := net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}
		if conn, err = d.Dial(ex.proto, ex.server); err != nil {
			t.Fatal(err)
		}
	})
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	done := make(chan error, 1)
	if ex.proto == "tcp" {
		go func() { done <- serveTCP(ln, ex) }()
		if _, err := conn.Write(make([]byte, ex.up)); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(conn)
		if err != nil || len(got) != ex.down {
			t.Fatalf("%s client: read %d bytes, %v; want %d", ex.proto, len(got), err, ex.down)
		}
	} else {
		go func() { done <- serveUDP(pc, ex) }()
		buf := make([]byte, 2048)
		for range ex.rounds {
			if _, err := conn.Write(make([]byte, ex.up)); err != nil {
				t.Fatal(err)
			}
			if n, err := conn.Read(buf); err != nil || n != ex.down {
				t.Fatalf("udp client: read %d bytes, %v; want %d", n, err, ex.down)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func resolveLocal(ex exchange) (net.Addr, error) {
	if ex.proto == "tcp" {
		return net.ResolveTCPAddr("tcp", ex.client)
	}
	return net.ResolveUDPAddr("udp", ex.client)
}

// serveTCP accepts one connection, reads ex.up bytes, answers ex.down and
// closes.
func serveTCP(ln net.Listener, ex exchange) error {
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, ex.up)); err != nil {
		return fmt.Errorf("tcp server: %w", err)
	}
	_, err = c.Write(make([]byte, ex.down))
	return err
}

// serveUDP answers ex.rounds datagrams with ex.down bytes each.
func serveUDP(pc net.PacketConn, ex exchange) error {
	defer pc.Close()
	pc.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	for range ex.rounds {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		if n != ex.up {
			return fmt.Errorf("udp server: %d bytes, want %d", n, ex.up)
		}
		if _, err := pc.WriteTo(make([]byte, ex.down), from); err != nil {
			return err
		}
	}
	return nil
}
