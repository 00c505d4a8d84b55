//go:build !hogs_small

package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"hogs/internal/flow"
)

// TestPrometheusScrapes has a real Prometheus (Debian package prometheus)
// scrape the endpoint every second while the fake table moves known
// traffic and 2,000 short-lived processes come and go; then, through its
// HTTP API, increase() over the transfer must equal the bytes sent (within
// 1 %), and the per-group series must stay within MaxSeries throughout.
func TestPrometheusScrapes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Prometheus end-to-end test takes about 20 s")
	}
	promBin := lookTool(t, "prometheus", "prometheus")
	const maxSeries = 50
	e, err := New(Config{MaxSeries: maxSeries})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen("127.0.0.1:0", e, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	dir := t.TempDir()
	promAddr := freeLoopbackAddr(t)
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: hogs\n    static_configs:\n      - targets: ['%s']\n", srv.Addr())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr, "--log.level=warn")
	prom.Stderr = &testLogWriter{t: t}
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prom.Process.Kill(); prom.Wait() })
	api := "http://" + promAddr
	waitReady(t, api+"/-/ready")

	s := newSim(DefaultGroupBy)
	xfer := s.open(s.process(2, "xfer", "u"), flow.TCP)
	s.send(xfer, 1_000_000, 1)
	const steps, perStep, churnPerStep = 50, 20_000, 40
	publish := func() {
		e.Publish(s.view())
		e.PublishStats(&Stats{Attributor: "sock_diag"})
		time.Sleep(100 * time.Millisecond)
	}
	// Flat, then the transfer while short-lived processes come and go,
	// then flat again: the first and last samples bracket it.
	start := time.Now()
	samples := func() int {
		var r struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		}
		query(t, api, "query", url.Values{"query": {`count_over_time(hogs_traffic_bytes_total{program="xfer",direction="transmit"}[5m])`}}, &r)
		if len(r.Result) == 0 {
			return 0
		}
		n, _ := strconv.Atoi(r.Result[0].Value[1].(string))
		return n
	}
	// Flat until Prometheus has three samples of it (its first scrape
	// comes at a random offset).
	for i := 0; samples() < 3; i++ {
		if i > 300 {
			t.Fatal("Prometheus took no 3 samples in 30 s")
		}
		publish()
	}
	var exiting []flow.Owner
	pid := 1000
	for range steps {
		for _, o := range exiting {
			s.fold(o)
		}
		exiting = exiting[:0]
		for range churnPerStep {
			pid++
			o := s.process(pid, "short"+strconv.Itoa(pid), "u")
			s.send(s.open(o, flow.UDP), 100, 100)
			exiting = append(exiting, o)
		}
		s.send(xfer, perStep, 3*perStep)
		publish()
	}
	for n, i := samples(), 0; samples() < n+3; i++ {
		if i > 300 {
			t.Fatal("Prometheus took no 3 more samples in 30 s")
		}
		publish()
	}
	end := time.Now()
	if pid-1000 != steps*churnPerStep || steps*churnPerStep != 2000 {
		t.Fatalf("%d short-lived processes", pid-1000)
	}

	for _, dir := range []struct {
		name string
		want float64
	}{{"transmit", steps * perStep}, {"receive", steps * 3 * perStep}} {
		sel := `hogs_traffic_bytes_total{program="xfer",direction="` + dir.name + `"}`
		var raw struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		}
		query(t, api, "query", url.Values{"query": {sel + "[5m]"}, "time": {promTime(end)}}, &raw)
		if len(raw.Result) != 1 || len(raw.Result[0].Values) < 10 {
			t.Fatalf("%s: raw samples %+v", sel, raw.Result)
		}
		vals := raw.Result[0].Values
		first, last := vals[0][0].(float64), vals[len(vals)-1][0].(float64)
		window := time.Duration(math.Round((last-first)*1000)) * time.Millisecond
		var inc struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		}
		query(t, api, "query", url.Values{"query": {fmt.Sprintf("increase(%s[%dms])", sel, window.Milliseconds())},
			"time": {strconv.FormatFloat(last, 'f', 3, 64)}}, &inc)
		if len(inc.Result) != 1 {
			t.Fatalf("increase(%s): %+v", sel, inc.Result)
		}
		got, _ := strconv.ParseFloat(inc.Result[0].Value[1].(string), 64)
		t.Logf("increase(%s[%v]) = %.0f; sent %.0f", sel, window, got, dir.want)
		if math.Abs(got-dir.want) > dir.want/100 {
			t.Errorf("increase(%s) over %v = %.0f, want %.0f ±1%%", sel, window, got, dir.want)
		}
	}

	var counts struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	query(t, api, "query_range", url.Values{"query": {"count(hogs_traffic_bytes_total)"},
		"start": {promTime(start)}, "end": {promTime(end)}, "step": {"1"}}, &counts)
	if len(counts.Result) != 1 {
		t.Fatalf("count(hogs_traffic_bytes_total): %+v", counts.Result)
	}
	most := 0.0
	for _, v := range counts.Result[0].Values {
		n, _ := strconv.ParseFloat(v[1].(string), 64)
		most = max(most, n)
	}
	t.Logf("at most %v series in hogs_traffic_bytes_total (limit %d groups × 2 directions)", most, maxSeries)
	if most > 2*maxSeries {
		t.Errorf("up to %v series in hogs_traffic_bytes_total, limit %d groups × 2 directions", most, maxSeries)
	}
	if most < 2*maxSeries-4 {
		t.Errorf("at most %v series: the churn never filled the %d groups, so the cap went untested", most, maxSeries)
	}
	var targets struct {
		ActiveTargets []struct {
			Health    string `json:"health"`
			LastError string `json:"lastError"`
		} `json:"activeTargets"`
	}
	query(t, api, "targets", nil, &targets)
	if len(targets.ActiveTargets) != 1 || targets.ActiveTargets[0].Health != "up" {
		t.Errorf("targets: %+v", targets.ActiveTargets)
	}
}

type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("prometheus: %s", p)
	return len(p), nil
}

func freeLoopbackAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(t *testing.T, u string) {
	for range 300 {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Prometheus not ready at %s after 30 s", u)
}

func promTime(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', 3, 64) }

// query calls Prometheus's HTTP API and decodes data into out.
func query(t *testing.T, api, endpoint string, params url.Values, out any) {
	t.Helper()
	res, err := http.Get(api + "/api/v1/" + endpoint + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("%s %v: %v %s %s", endpoint, params, err, body.Status, body.Error)
	}
	if err := json.Unmarshal(body.Data, out); err != nil {
		t.Fatal(err)
	}
}
