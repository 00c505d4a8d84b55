//go:build !hogs_small

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// promQuery asks the Prometheus running in ns (on 127.0.0.1:9090) its
// HTTP API and decodes the result of the answer into out.
func promQuery(t *testing.T, ns, endpoint string, args url.Values, out any) {
	t.Helper()
	body := scrape(t, ns, "http://127.0.0.1:9090/api/v1/"+endpoint+"?"+args.Encode())
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Status != "success" {
		t.Fatalf("%s %v: %v %s", endpoint, args, err, body)
	}
	if err := json.Unmarshal(r.Data.Result, out); err != nil {
		t.Fatal(err)
	}
}

// TestPrometheusLive: a real Prometheus (Debian package prometheus) scrapes
// hogs every second while a process sends 3 MB over its own veth and 2,000
// short-lived processes come and go over another. Through Prometheus's
// API, increase() of the sender's counters over the run equals the wire
// bytes its veth counted (within 1 %, each direction), and the series stay
// within --metrics-max-series throughout.
func TestPrometheusLive(t *testing.T) {
	netlab.SkipUnlessAdmin(t)
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus not installed (Debian package prometheus); .ci/run installs it")
		}
		t.Skip("prometheus not installed (Debian package prometheus)")
	}
	nsA, nsB := netlab.QuietVethPair(t)
	netlab.IP(t, nsA, "link", "set", "lo", "up")
	// A second pair for the transfer alone, so its veth counts only it.
	netlab.IP(t, nsA, "link", "add", "vX", "type", "veth", "peer", "name", "vY", "netns", nsB)
	for _, side := range []struct{ ns, dev, addr string }{{nsA, "vX", "10.78.0.1/24"}, {nsB, "vY", "10.78.0.2/24"}} {
		netlab.IP(t, side.ns, "link", "set", side.dev, "addrgenmode", "none", "multicast", "off")
		netlab.IP(t, side.ns, "addr", "add", side.addr, "dev", side.dev)
		netlab.IP(t, side.ns, "link", "set", side.dev, "up")
	}
	churnServer := startRole(t, nsB, "sink-server", "10.77.0.2:7960")
	xferServer := startRole(t, nsB, "tcp-server-any", "10.78.0.2:7961")
	for _, s := range []*process{churnServer, xferServer} {
		if l := s.line(t); l != "listening" {
			t.Fatal(l)
		}
	}
	const maxSeries = 50
	startHogs(t, nsA, "--headless", "--listen", "127.0.0.1:9464", "-d", "0.5", "--idle", "2s",
		"--metrics-group", "process", "--metrics-max-series", strconv.Itoa(maxSeries), "vA", "vX")

	dir := t.TempDir()
	cfg := "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: hogs\n    static_configs:\n      - targets: ['127.0.0.1:9464']\n"
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := inNamespace(nsA, promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:9090", "--log.level=warn")
	var promLog syncBuffer
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prom.Process.Kill(); prom.Wait() })
	up := func() bool {
		var r []struct {
			Value [2]any `json:"value"`
		}
		promQuery(t, nsA, "query", url.Values{"query": {`count_over_time(up{job="hogs"}[1m])`}}, &r)
		n := 0
		if len(r) == 1 {
			n, _ = strconv.Atoi(r[0].Value[1].(string))
		}
		return n >= 3
	}
	for i := 0; ; i++ {
		time.Sleep(500 * time.Millisecond)
		cmd := inNamespace(nsA, mustExecutable(t))
		cmd.Env = append(os.Environ(), "HOGS_TEST_ROLE=http-get", "HOGS_TEST_ARGS=http://127.0.0.1:9090/-/ready")
		if cmd.Run() == nil && up() {
			break
		}
		if i > 60 {
			t.Fatalf("Prometheus did not scrape hogs three times in 30 s:\n%s", promLog.String())
		}
	}

	// The sender runs as a program of its own name, so its series are told
	// apart from the short-lived processes'.
	sender := filepath.Join(t.TempDir(), "xfer-client")
	data, err := os.ReadFile(mustExecutable(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sender, data, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	before := netlab.ReadCounters(t, nsA, "vX")
	xfer := inNamespace(nsA, sender)
	xfer.Env = append(os.Environ(), "HOGS_TEST_ROLE=tcp-client", "HOGS_TEST_ADDR=10.78.0.2:7961", "HOGS_TEST_BYTES=3000000")
	if err := xfer.Start(); err != nil {
		t.Fatal(err)
	}
	const procs = 2000
	churn := startRole(t, nsA, "launcher", "10.77.0.2:7960", strconv.Itoa(procs), "2000")
	if l := churn.line(t); l != "done" {
		t.Fatal(l)
	}
	if err := xfer.Wait(); err != nil {
		t.Fatalf("sender: %v", err)
	}
	wire := counterDelta(before, netlab.ReadCounters(t, nsA, "vX"))
	time.Sleep(4 * time.Second) // hogs refreshes, Prometheus scrapes
	end := time.Now()

	for _, dir := range []struct {
		name string
		want uint64
	}{{"transmit", wire.TxBytes}, {"receive", wire.RxBytes}} {
		// increase() over exactly the span of the series' samples: from
		// its first (0: a new series starts there) to its last, so that
		// nothing is extrapolated past them.
		sel := fmt.Sprintf(`hogs_traffic_bytes_total{program="xfer-client",direction=%q}`, dir.name)
		var raw []struct {
			Values [][2]any `json:"values"`
		}
		promQuery(t, nsA, "query", url.Values{"query": {sel + "[5m]"}, "time": {strconv.FormatInt(end.Unix(), 10)}}, &raw)
		if len(raw) != 1 || len(raw[0].Values) < 5 {
			t.Fatalf("%s: samples %+v", sel, raw)
		}
		vals := raw[0].Values
		first, last := vals[0][0].(float64), vals[len(vals)-1][0].(float64)
		if v := vals[0][1].(string); v != "0" {
			t.Errorf("%s: first sample %s, want 0 (a new series starts at 0)", sel, v)
		}
		var r []struct {
			Value [2]any `json:"value"`
		}
		q := fmt.Sprintf(`increase(%s[%dms])`, sel, int64(math.Round((last-first)*1000)))
		promQuery(t, nsA, "query", url.Values{"query": {q}, "time": {strconv.FormatFloat(last, 'f', 3, 64)}}, &r)
		if len(r) != 1 {
			t.Fatalf("%s: %+v", q, r)
		}
		got, _ := strconv.ParseFloat(r[0].Value[1].(string), 64)
		t.Logf("%s = %.0f; vX counted %d", q, got, dir.want)
		if math.Abs(got-float64(dir.want)) > float64(dir.want)/100 {
			t.Errorf("%s = %.0f, want %d ±1%%", q, got, dir.want)
		}
	}
	var counts []struct {
		Values [][2]any `json:"values"`
	}
	promQuery(t, nsA, "query_range", url.Values{"query": {"count(hogs_traffic_bytes_total)"},
		"start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}, "step": {"1"}}, &counts)
	if len(counts) != 1 {
		t.Fatalf("count(hogs_traffic_bytes_total): %+v", counts)
	}
	most := 0.0
	for _, v := range counts[0].Values {
		n, _ := strconv.ParseFloat(v[1].(string), 64)
		most = max(most, n)
	}
	t.Logf("at most %v series in hogs_traffic_bytes_total while %d processes came and went (limit %d groups × 2 directions)", most, procs, maxSeries)
	if most > 2*maxSeries {
		t.Errorf("up to %v series, over the limit of %d groups × 2 directions", most, maxSeries)
	}
	if most < 2*maxSeries-4 {
		t.Errorf("at most %v series: the churn never filled the %d groups, so the cap went untested", most, maxSeries)
	}
	if strings.Contains(promLog.String(), "level=error") {
		t.Errorf("prometheus logged errors:\n%s", promLog.String())
	}
}
