package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// sinkServer ADDR: accepts connections until killed; reads each to the
// end and answers "ok".
func sinkServer(args []string) int {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return 1
	}
	fmt.Println("listening")
	for {
		conn, err := ln.Accept()
		if err != nil {
			return 1
		}
		go func() {
			io.Copy(io.Discard, conn)
			conn.Write([]byte("ok"))
			conn.Close()
		}()
	}
}

// launcher ADDR N SIZE: starts N processes one after another, at most one
// every 10 ms, each sending SIZE bytes over one connection to ADDR and
// exiting; prints "done" after the last.
func launcher(args []string) int {
	self, _ := os.Executable()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range atoi(args[1]) {
		<-tick.C
		c := exec.Command(self)
		c.Env = append(os.Environ(), "HOGS_TEST_ROLE=one-shot", "HOGS_TEST_ARGS="+args[0]+" "+args[2])
		if err := c.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "one-shot:", err)
			return 1
		}
	}
	fmt.Println("done")
	return 0
}

// oneShot ADDR SIZE: one connection, SIZE bytes, the answer, exit.
func oneShot(args []string) int {
	conn, err := net.DialTimeout("tcp", args[0], 5*time.Second)
	if err != nil {
		return 1
	}
	conn.Write(make([]byte, atoi(args[1])))
	conn.(*net.TCPConn).CloseWrite()
	io.ReadAll(conn)
	conn.Close()
	return 0
}

// TestChurnBounded: 1,000 short-lived processes, one after another, each
// sending 20 kB over its own connection, while hogs --json runs with a
// short idle time. Every JSON line stays bounded (processes that exited
// fold into one row per program once their traffic is older than --idle),
// the last lines hold only the folded row and the unknown rows, and no
// byte is lost: the rows add up to the wire bytes.
func TestChurnBounded(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	nsA, nsB := netlab.QuietVethPair(t)
	server := startRole(t, nsB, "sink-server", "10.77.0.2:7950")
	if l := server.line(t); l != "listening" {
		t.Fatal(l)
	}
	h := startHogs(t, nsA, "--json", "-d", "0.5", "--idle", "1s", "vA")
	before := netlab.ReadCounters(t, nsA, "vA")
	const procs = 1000
	launched := time.Now()
	launch := startRole(t, nsA, "launcher", "10.77.0.2:7950", fmt.Sprint(procs), "20000")
	if l := launch.line(t); l != "done" {
		t.Fatal(l)
	}
	perSecond := procs / time.Since(launched).Seconds()
	// Quiet long enough for every flow to expire and every owner to fold.
	time.Sleep(4 * time.Second)
	wire := counterDelta(before, netlab.ReadCounters(t, nsA, "vA"))
	h.stop(t)

	type counter struct{ Bytes uint64 }
	type row struct {
		PID      int    `json:"pid"`
		Name     string `json:"name"`
		Exited   bool   `json:"exited"`
		Sent     struct{ Total counter }
		Received struct{ Total counter }
	}
	var lines, maxRows, maxLine int
	var last struct {
		Processes []row `json:"processes"`
		Unknown   []row `json:"unknown"`
	}
	sc := bufio.NewScanner(strings.NewReader(h.out.String()))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines++
		maxLine = max(maxLine, len(sc.Bytes()))
		last.Processes, last.Unknown = nil, nil
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		maxRows = max(maxRows, len(last.Processes))
	}
	if lines < 10 {
		t.Fatalf("%d JSON lines:\n%s", lines, h.err.String())
	}
	var sent, recv uint64
	exited := 0
	for _, r := range append(last.Processes, last.Unknown...) {
		sent += r.Sent.Total.Bytes
		recv += r.Received.Total.Bytes
		if r.Exited {
			exited++
			if r.PID != 0 {
				t.Errorf("folded row %+v has a PID", r)
			}
		}
	}
	t.Logf("%d lines, at most %d process rows and %d bytes a line (%.0f processes a second); last: %d process rows (%d folded)", lines, maxRows, maxLine, perSecond, len(last.Processes), exited)
	if sent != wire.TxBytes || recv != wire.RxBytes {
		t.Errorf("rows add up to %d sent / %d received; vA counted %d / %d", sent, recv, wire.TxBytes, wire.RxBytes)
	}
	// Processes alive or exited within about two idle times show at once;
	// at the end only the test binary's folded row (and the launcher's or
	// the server's, had they traffic) is left.
	if len(last.Processes) > 3 || exited < 1 {
		t.Errorf("last line: %d process rows, %d folded; want the folded row only\n%+v", len(last.Processes), exited, last.Processes)
	}
	// A process's row lives about an idle time after its last packet,
	// then up to a fold interval (1 s here) and a refresh: some 3 s of
	// processes, whatever their number in all.
	if bound := int(3*perSecond) + 30; maxRows > bound || maxRows > procs/2 || maxLine > 512*bound {
		t.Errorf("lines grew to %d process rows, %d bytes, for %d processes in all at %.0f a second (bound %d rows)", maxRows, maxLine, procs, perSecond, bound)
	}
}
