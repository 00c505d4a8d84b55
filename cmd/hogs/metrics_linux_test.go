package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// httpGet URL: prints the body of a GET (run in a namespace).
func httpGet(args []string) int {
	resp, err := http.Get(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, resp.Status)
		return 1
	}
	io.Copy(os.Stdout, resp.Body)
	return 0
}

// scrape fetches hogs's /metrics from inside ns.
func scrape(t *testing.T, ns, url string) string {
	t.Helper()
	cmd := inNamespace(ns, mustExecutable(t))
	cmd.Env = append(os.Environ(), "HOGS_TEST_ROLE=http-get", "HOGS_TEST_ARGS="+url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, stderr.String())
	}
	return string(out)
}

var seriesLine = regexp.MustCompile(`^hogs_traffic_bytes_total\{([^}]*)\} (\d+)$`)

// programBytes sums a scrape's byte counters of the series whose program
// label matches, per direction.
func programBytes(t *testing.T, body, program string) (transmit, receive uint64) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		m := seriesLine.FindStringSubmatch(sc.Text())
		if m == nil || !strings.Contains(m[1], `program="`+program+`"`) {
			continue
		}
		n, _ := strconv.ParseUint(m[2], 10, 64)
		if strings.Contains(m[1], `direction="transmit"`) {
			transmit += n
		} else {
			receive += n
		}
	}
	return transmit, receive
}

// TestMetricsLive: hogs --headless --listen serves a live capture's
// counters: the exposition passes promtool, and the TCP server's bytes
// equal the wire bytes its connection moved on vA, each direction.
func TestMetricsLive(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	nsA, nsB := netlab.QuietVethPair(t)
	netlab.IP(t, nsA, "link", "set", "lo", "up") // the endpoint listens there
	server := startRole(t, nsA, "tcp-server-any", "10.77.0.1:7970")
	if l := server.line(t); l != "listening" {
		t.Fatal(l)
	}
	h := startHogs(t, nsA, "--headless", "--listen", "127.0.0.1:9464", "-d", "0.5", "vA")
	before := netlab.ReadCounters(t, nsA, "vA")
	cli := inNamespace(nsB, mustExecutable(t))
	cli.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.77.0.1:7970", "HOGS_TEST_BYTES=3000000")
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("client: %v %s", err, out)
	}
	server.cmd.Wait()
	wire := counterDelta(before, netlab.ReadCounters(t, nsA, "vA"))
	time.Sleep(1500 * time.Millisecond) // two refreshes later
	body := scrape(t, nsA, "http://127.0.0.1:9464/metrics")
	h.cmd.Process.Signal(os.Interrupt)
	h.cmd.Wait()

	program := filepath.Base(mustExecutable(t)) // the program label is the base name
	tx, rx := programBytes(t, body, program)
	if tx != wire.TxBytes || rx != wire.RxBytes {
		t.Errorf("server's series: %d transmit, %d receive; vA counted %d / %d\n%s", tx, rx, wire.TxBytes, wire.RxBytes, body)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not installed (Debian package prometheus); .ci/run installs it")
		}
		t.Skip("promtool not installed (Debian package prometheus): exposition not checked")
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(body)
	if out, err := check.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestListenPortInUse: a port already taken is one line and status 1,
// before anything is captured.
func TestListenPortInUse(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	ns := netlab.New(t)
	blocker := startRole(t, ns, "tcp-server-any", "127.0.0.1:9465")
	if l := blocker.line(t); l != "listening" {
		t.Fatal(l)
	}
	netlab.IP(t, ns, "link", "set", "lo", "up")
	cmd := inNamespace(ns, hogsBinary(t), "--headless", "--listen", "127.0.0.1:9465", "-a")
	out, err := cmd.CombinedOutput()
	want := "hogs: --listen 127.0.0.1:9465: address already in use; stop what listens there or pick another port\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || string(out) != want {
		t.Errorf("status %v, output %q; want 1 and %q", err, out, want)
	}
}
