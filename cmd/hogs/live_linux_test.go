package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hogs/internal/netlab"
	"hogs/ui"
)

// The test binary doubles as the traffic processes of the live tests:
// with HOGS_TEST_ROLE set it plays that role and exits.
func TestMain(m *testing.M) {
	switch os.Getenv("HOGS_TEST_ROLE") {
	case "":
		os.Exit(m.Run())
	case "tcp-server":
		os.Exit(tcpServer(os.Getenv("HOGS_TEST_ADDR")))
	case "tcp-client":
		n, _ := strconv.Atoi(os.Getenv("HOGS_TEST_BYTES"))
		os.Exit(tcpClient(os.Getenv("HOGS_TEST_ADDR"), n))
	default:
		if role := roleFunc(os.Getenv("HOGS_TEST_ROLE")); role != nil {
			os.Exit(role(strings.Fields(os.Getenv("HOGS_TEST_ARGS"))))
		}
		fmt.Fprintln(os.Stderr, "unknown HOGS_TEST_ROLE")
		os.Exit(2)
	}
}

// tcpServer accepts one connection, reads it to the end, answers "ok".
func tcpServer(addr string) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("listening")
	conn, err := ln.Accept()
	if err != nil {
		return 1
	}
	io.Copy(io.Discard, conn)
	conn.Write([]byte("ok"))
	conn.Close()
	return 0
}

// tcpClient sends n bytes in 64 KiB writes spread over about two seconds.
func tcpClient(addr string, n int) int {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	chunk := make([]byte, 64<<10)
	writes := (n + len(chunk) - 1) / len(chunk)
	for i := 0; n > 0; i++ {
		c := chunk[:min(n, len(chunk))]
		if _, err := conn.Write(c); err != nil {
			return 1
		}
		n -= len(c)
		time.Sleep(2 * time.Second / time.Duration(writes))
	}
	conn.(*net.TCPConn).CloseWrite()
	io.ReadAll(conn)
	conn.Close()
	return 0
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// hogsBinary builds the hogs command once for the live tests.
func hogsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hogs-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(dir, "hogs")
		// As the Makefile builds it: static, trimmed, stripped.
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", builtPath, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

// copyOfHogs copies the built binary into a new directory (os.MkdirTemp
// pattern) that every user may enter, removed at cleanup, and returns the
// copy's path: for tests that run it as another user or change its file
// capabilities.
func copyOfHogs(t *testing.T, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "hogs")
	data, err := os.ReadFile(hogsBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// inNamespace starts cmd's program inside network namespace ns.
func inNamespace(ns string, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// traceBlock is one "Refreshing:" block of trace output: rows by their
// NAME/PID/UID field.
type traceBlock map[string][2]float64

func parseTrace(t *testing.T, out string) []traceBlock {
	t.Helper()
	var blocks []traceBlock
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "Refreshing:" {
			blocks = append(blocks, traceBlock{})
			continue
		}
		fields := strings.Split(line, "\t")
		if len(blocks) == 0 || len(fields) != 3 {
			continue
		}
		sent, err1 := strconv.ParseFloat(fields[1], 64)
		recv, err2 := strconv.ParseFloat(fields[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad trace line %q", line)
		}
		blocks[len(blocks)-1][fields[0]] = [2]float64{sent, recv}
	}
	return blocks
}

// TestTraceAttributesTransfer runs the hogs binary in trace mode in a
// namespace while a client process there sends a known amount to a server
// in another namespace: the client's row carries exactly the wire bytes the
// peer interface counted, each way, under the client's PID.
func TestTraceAttributesTransfer(t *testing.T) {
	nsA, nsB := netlab.QuietVethPair(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	server := inNamespace(nsB, self)
	server.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-server", "HOGS_TEST_ADDR=10.77.0.2:7100")
	serverOut, _ := server.StdoutPipe()
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill(); server.Wait() })
	if line, err := bufio.NewReader(serverOut).ReadString('\n'); err != nil || line != "listening\n" {
		t.Fatalf("server did not start: %q %v", line, err)
	}

	h := startHogs(t, nsA, "-t", "-v", "2", "-d", "0.5")
	before := netlab.ReadCounters(t, nsB, "vB")

	client := inNamespace(nsA, self)
	client.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.77.0.2:7100", "HOGS_TEST_BYTES=3000000")
	if out, err := client.CombinedOutput(); err != nil {
		t.Fatalf("client: %v: %s", err, out)
	}
	// ip netns exec runs the program itself (exec, no fork): its PID is
	// the client's.
	clientPID := client.Process.Pid
	after := netlab.ReadCounters(t, nsB, "vB")
	last := h.last(t)
	hogsOut := &h.out
	var row string
	for name := range last {
		if strings.HasSuffix(name, "/"+strconv.Itoa(clientPID)+"/0") {
			row = name
		}
	}
	if row == "" {
		t.Fatalf("no row for client PID %d in the last refresh:\n%s", clientPID, hogsOut.String())
	}
	wantSent, wantRecv := float64(after.RxBytes-before.RxBytes), float64(after.TxBytes-before.TxBytes)
	// Trace numbers have six significant digits, as nethogs prints them:
	// compare in that form.
	six := func(v float64) string { return string(ui.AppendStreamFloat(nil, v)) }
	if got := last[row]; six(got[0]) != six(wantSent) || six(got[1]) != six(wantRecv) {
		t.Errorf("client row %q: sent %s received %s bytes; the peer counted %s received, %s sent",
			row, six(got[0]), six(got[1]), six(wantSent), six(wantRecv))
	}
	if got := last["unknown TCP/0/0"]; got != [2]float64{} {
		t.Errorf("unknown TCP row %v, want nothing unattributed", got)
	}
}

// TestWithoutCapability runs hogs as an unprivileged user, from a
// directory whose name has a space and a quote: one line names the missing
// capability and the setcap command, exit status 1; the command, pasted
// into a shell as printed, grants the capability.
func TestWithoutCapability(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start hogs as another user (setpriv)")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux) to drop privileges")
	}
	bin := copyOfHogs(t, "hogs it's-")
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "-t", "-c", "1")
	out, err := cmd.CombinedOutput()
	exit, _ := err.(*exec.ExitError)
	quoted := "'" + strings.ReplaceAll(bin, "'", `'\''`) + "'"
	want := "hogs: no permission to open a packet socket: run as root, or grant cap_net_raw once with: setcap cap_net_raw+ep " + quoted +
		" (add cap_dac_read_search,cap_sys_ptrace to that list to attribute other users' processes)\n"
	if exit == nil || exit.ExitCode() != 1 || string(out) != want {
		t.Fatalf("as nobody: %v, output %q; want exit 1 and %q", err, out, want)
	}
	if _, err := exec.LookPath("setcap"); err != nil {
		t.Skip("needs setcap (libcap2-bin) to try the printed command")
	}
	_, command, _ := strings.Cut(string(out), "once with: ")
	command, _, _ = strings.Cut(command, " (add ")
	if out, err := exec.Command("sh", "-c", command).CombinedOutput(); err != nil {
		t.Skipf("the printed command %q failed (%v: %s): file capabilities unsupported here?", command, err, out)
	}
	if out, err := exec.Command("getcap", bin).Output(); err != nil || !strings.Contains(string(out), "cap_net_raw") {
		t.Errorf("after %q: getcap says %q, %v", command, out, err)
	}
}
