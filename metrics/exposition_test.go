package metrics

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"hogs/internal/flow"
	"hogs/internal/golden"
	"hogs/ui"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// realisticExporter is an Exporter fed with a view from the fake table:
// processes of several programs and users, one with a name that needs
// escaping and invalid UTF-8, unknown TCP and UDP, a forwarded row, two
// devices, and the monitor's stats.
func realisticExporter(t testing.TB) *Exporter {
	e, err := New(Config{ContainerOf: func(p *flow.Process) string {
		if p.Name == "nginx" {
			return "web-1"
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock = func() time.Time { return time.Unix(1_700_000_000, 0) } // a fixed scrape duration of 0
	s := newSim(DefaultGroupBy)
	for i, p := range []struct {
		name, user string
		sent, recv uint64
	}{
		{"/usr/bin/curl", "alice", 1200, 180_000},
		{"sshd: alice@pts/0", "root", 5400, 3100},
		{"nginx", "www-data", 9_000_000, 250_000},
		{"evil\"name\\with\nnewline\xff", "bob", 10, 20},
	} {
		k := s.open(s.process(1000+i, p.name, p.user), flow.TCP)
		s.send(k, p.sent, p.recv)
	}
	s.send(s.open(flow.Unresolved, flow.UDP), 64, 128)
	v := s.view()
	v.Rows = append(v.Rows, ui.Row{Process: flow.Process{Name: "forwarded"}, Pseudo: true,
		Sent: flow.Counter{Packets: 3, Bytes: 4500}, Recv: flow.Counter{Packets: 2, Bytes: 120}})
	v.Capture[0].Devices = append(v.Capture[0].Devices, ui.DeviceStats{Name: "wlan0", Packets: 7, Bytes: 900})
	v.Capture[0].Dropped = 3
	v.Evictions = 2
	e.Publish(v)
	e.PublishStats(&Stats{Attributor: "sock_diag", FlowsCreated: 6,
		Lookups: []Lookup{{"sock_diag", 6}, {"proc_net", 1}, {"fd_scan", 2}}})
	return e
}

func TestExpositionGolden(t *testing.T) {
	e := realisticExporter(t)
	golden.Check(t, "testdata/realistic.prom", e.Scrape(nil, FormatText), *update)
	golden.Check(t, "testdata/realistic.om", e.Scrape(nil, FormatOpenMetrics), *update)
}

// TestPromtoolCheckMetrics lints the text exposition with Prometheus's
// own parser and linter (Debian package prometheus).
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := lookTool(t, "promtool", "prometheus")
	out := realisticExporter(t).Scrape(nil, FormatText)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(out)
	res, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(res)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s\non:\n%s", err, res, out)
	}
}

// lookTool finds a command, skipping the test (failing under CI=true)
// when it is missing.
func lookTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not installed (apt-get install -y %s); CI must have it", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install -y %s)", name, pkg)
	}
	return p
}

func TestOpenMetricsShape(t *testing.T) {
	out := string(realisticExporter(t).Scrape(nil, FormatOpenMetrics))
	if !strings.HasSuffix(out, "\n# EOF\n") || strings.Count(out, "# EOF") != 1 {
		t.Error("OpenMetrics exposition does not end with one # EOF")
	}
	for _, want := range []string{
		"# TYPE hogs_traffic_bytes counter\n# UNIT hogs_traffic_bytes bytes\n",
		"# TYPE hogs_attributor info\n",
		"hogs_attributor_info{attributor=\"sock_diag\"} 1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("OpenMetrics exposition lacks %q", want)
		}
	}
	text := string(realisticExporter(t).Scrape(nil, FormatText))
	if strings.Contains(text, "# EOF") || strings.Contains(text, "# UNIT") {
		t.Error("text exposition has OpenMetrics-only lines")
	}
}

func TestLabelValues(t *testing.T) {
	for _, tc := range []struct{ in, program, escaped string }{
		{"/usr/bin/curl", "curl", `p="curl"`},
		{"sshd: alice@pts/0", "sshd", `p="sshd"`},
		{"postgres: checkpointer", "postgres", `p="postgres"`},
		{`a"b\c`, `a"b\c`, `p="a\"b\\c"`},
		{"x\ny", "x?y", `p="x?y"`},
		{"bad\xffutf8", "bad\uFFFDutf8", "p=\"bad\uFFFDutf8\""},
		{strings.Repeat("é", 40), strings.Repeat("é", 32), `p="` + strings.Repeat("é", 32) + `"`},
	} {
		got := labelValue(programName(tc.in))
		if got != tc.program {
			t.Errorf("label of %q = %q, want %q", tc.in, got, tc.program)
		}
		if esc := string(appendLabel(nil, "p", got)); esc != tc.escaped {
			t.Errorf("escaped %q = %s, want %s", got, esc, tc.escaped)
		}
	}
	// The escaping itself, for values that reach it unsanitized.
	if got := string(appendLabel(nil, "d", "a\nb\"c\\")); got != `d="a\nb\"c\\"` {
		t.Errorf("appendLabel escaped to %s", got)
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   Format
	}{
		{"", FormatText},
		{"*/*", FormatText},
		{"text/plain;version=0.0.4", FormatText},
		// Prometheus 2.42's header.
		{"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", FormatOpenMetrics},
		{"application/openmetrics-text; version=1.0.0; charset=utf-8", FormatOpenMetrics},
		{"application/openmetrics-text;version=2.0.0,text/plain", FormatText},
		{"application/openmetrics-text;q=0.2,text/plain;q=0.9", FormatText},
		{"application/openmetrics-text;q=0", FormatText},
		{"application/openmetrics-text;q=bogus", FormatText},
		{";;,,=", FormatText},
	} {
		if got := Negotiate(tc.accept); got != tc.want {
			t.Errorf("Negotiate(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestParseGroupBy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want GroupBy
		ok   bool
	}{
		{"program,user,container", DefaultGroupBy, true},
		{"process", LabelPID | LabelProgram, true},
		{" user ", LabelUser, true},
		{"pid,program", LabelPID | LabelProgram, true},
		{"cmdline", 0, false},
		{"", 0, false},
	} {
		got, err := ParseGroupBy(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseGroupBy(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if _, err := New(Config{MaxSeries: 3}); err == nil {
		t.Error("New accepted MaxSeries 3")
	}
}

func TestScrapeRendersLatestView(t *testing.T) {
	e, _ := New(Config{})
	if out := string(e.Scrape(nil, FormatText)); !strings.Contains(out, `hogs_traffic_bytes_total{kind="other",direction="transmit"} 0`) {
		t.Fatalf("scrape before any view:\n%s", out)
	}
	s := newSim(DefaultGroupBy)
	k := s.open(s.process(1, "wget", "u"), flow.TCP)
	for i := range 3 {
		s.send(k, 100, 0)
		e.Publish(s.view())
		if i == 1 {
			continue // a view no scrape saw still counts
		}
		want := `hogs_traffic_bytes_total{kind="process",program="wget",user="u",direction="transmit"} ` + []string{"100", "", "300"}[i] + "\n"
		if out := string(e.Scrape(nil, FormatText)); !strings.Contains(out, want) {
			t.Fatalf("view %d: no %q in\n%s", i, want, out)
		}
	}
}
