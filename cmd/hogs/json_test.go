package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"hogs/internal/flow"
	"hogs/ui"
)

// readmeSchema reads the JSON field table of the README: path → type, the
// paths that may be absent (the capture mode of a file), and those present
// only with --connections (and then always).
func readmeSchema(t *testing.T) (types map[string]string, optional, withConns map[string]bool) {
	t.Helper()
	text, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	types, optional, withConns = map[string]string{}, map[string]bool{}, map[string]bool{}
	section := strings.SplitN(string(text), "### JSON lines", 2)
	if len(section) != 2 {
		t.Fatal("README has no JSON lines section")
	}
	sc := bufio.NewScanner(strings.NewReader(section[1]))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "###") || strings.HasPrefix(line, "## ") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.Contains(cells[1], "`") {
			continue
		}
		typ, meaning := strings.TrimSpace(cells[2]), cells[3]
		for _, field := range strings.Split(cells[1], ",") {
			path := strings.Trim(strings.TrimSpace(field), "`")
			types[path] = typ
			if strings.Contains(meaning, "with --connections") {
				withConns[path] = true
			}
			if strings.Contains(meaning, "absent for") || strings.Contains(meaning, "absent when") {
				optional[path] = true
			}
		}
	}
	if len(types) < 30 {
		t.Fatalf("read only %d fields from the README's JSON table", len(types))
	}
	return types, optional, withConns
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// flatten records the type of every path in v, and for each object path
// the set of its keys.
func flatten(path string, v any, seen map[string]string, objects map[string]map[string]bool) {
	seen[path] = jsonType(v)
	switch v := v.(type) {
	case map[string]any:
		keys := objects[path]
		if keys == nil {
			keys = map[string]bool{}
			objects[path] = keys
		}
		for k, child := range v {
			keys[k] = true
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, child, seen, objects)
		}
	case []any:
		for _, child := range v {
			flatten(path+"[]", child, seen, objects)
		}
	}
}

// validateJSONLine checks one line of output against the README.
func validateJSONLine(t *testing.T, line []byte, types map[string]string, optional map[string]bool) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, line)
	}
	seen, objects := map[string]string{}, map[string]map[string]bool{}
	flatten("", v, seen, objects)
	delete(seen, "")
	for path, typ := range seen {
		want, ok := types[path]
		if !ok {
			t.Errorf("output has %s (%s), which the README does not document", path, typ)
		} else if want != typ {
			t.Errorf("%s is %s in the output, %s in the README", path, typ, want)
		}
	}
	// Every documented field of an object that appears is there.
	for path := range types {
		parent, key := "", path
		if i := strings.LastIndex(path, "."); i >= 0 {
			parent, key = path[:i], path[i+1:]
		}
		if strings.HasSuffix(key, "[]") {
			continue
		}
		keys, present := objects[parent]
		if present && !keys[key] && !optional[path] {
			t.Errorf("output lacks %s, which the README documents", path)
		}
	}
}

func TestJSONMatchesREADME(t *testing.T) {
	types, optional, withConns := readmeSchema(t)
	path := filepath.Join(capturesDir, "veth-ipv4.pcap")
	for _, args := range [][]string{{"-r", path, "--json"}, {"-r", path, "--json", "--connections"}} {
		conns := len(args) == 4
		absent := map[string]bool{}
		for p := range optional {
			absent[p] = true
		}
		for p := range withConns {
			if !conns {
				absent[p] = true
			}
		}
		var stdout, stderr bytes.Buffer
		if status := run(args, &stdout, &stderr); status != 0 {
			t.Fatalf("hogs %q: %d %s", args, status, stderr.String())
		}
		lines := bytes.Split(bytes.TrimSuffix(stdout.Bytes(), []byte("\n")), []byte("\n"))
		if len(lines) != 2 {
			t.Fatalf("hogs %q: %d lines, want 2", args, len(lines))
		}
		for _, l := range lines {
			validateJSONLine(t, l, types, absent)
			if !conns && bytes.Contains(l, []byte(`"connections"`)) {
				t.Errorf("connections without --connections: %s", l)
			}
		}
	}
	// The documented fields, sorted, for the failure message's sake.
	var names []string
	for k := range types {
		names = append(names, k)
	}
	sort.Strings(names)
	t.Logf("%d documented fields", len(names))
}

// TestJSONConnectionsAlwaysPresent: with --connections every row carries
// "connections", an empty array for a row whose flows are gone (its totals
// outlive them); without it no row does.
func TestJSONConnectionsAlwaysPresent(t *testing.T) {
	v := &ui.View{Rows: []ui.Row{
		{Process: flow.Process{PID: 42, Name: "curl"}, Sent: flow.Counter{Bytes: 100, Packets: 1}},
		{Process: flow.Process{Name: "unknown TCP"}, Pseudo: true},
	}}
	for _, tt := range []struct {
		conns bool
		want  int // rows with "connections":[]
	}{{true, 2}, {false, 0}} {
		var b bytes.Buffer
		if err := ui.WriteJSON(&b, v, ui.JSONOptions{Connections: tt.conns}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(b.String(), `"connections":[]`); got != tt.want || strings.Count(b.String(), `"connections"`) != tt.want {
			t.Errorf("--connections=%v: %d empty connection arrays, want %d: %s", tt.conns, got, tt.want, b.String())
		}
	}
}

// TestJSONReplayCaptureCounts: a replay's capture[] counts the file's
// frames and wire bytes (veth-ipv4.pcap: 50 frames, 28,076 wire bytes, as
// its summary lists them).
func TestJSONReplayCaptureCounts(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := run([]string{"-r", filepath.Join(capturesDir, "veth-ipv4.pcap"), "--json"}, &stdout, &stderr); status != 0 {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	lines := bytes.Split(bytes.TrimSpace(stdout.Bytes()), []byte("\n"))
	var last struct {
		Capture []struct {
			Source         string
			Packets, Bytes uint64
		}
	}
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
		t.Fatal(err)
	}
	if len(last.Capture) != 1 || last.Capture[0].Packets != 50 || last.Capture[0].Bytes != 28076 {
		t.Errorf("capture %+v, want 50 packets, 28076 bytes", last.Capture)
	}
}

// TestJSONContainerFields: a process in a Docker container, one in a
// Kubernetes pod, a service's process and a plain one carry container,
// service and ns_pid as the README documents them (types checked against
// its table, in both directions), and nothing for the plain one.
func TestJSONContainerFields(t *testing.T) {
	types, optional, withConns := readmeSchema(t)
	absent := map[string]bool{}
	for p := range optional {
		absent[p] = true
	}
	for p := range withConns {
		absent[p] = true
	}
	id := strings.Repeat("ab", 32)
	v := &ui.View{Rows: []ui.Row{
		{Process: flow.Process{PID: 4242, NSPID: 7, Name: "nginx", Label: flow.Label{Runtime: "docker", ID: id, Name: "web"}}},
		{Process: flow.Process{PID: 4300, NSPID: 1, Name: "pause", Label: flow.Label{Runtime: "containerd", ID: id, Name: "abababababab",
			PodUID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", Pod: "api-7d9f", Namespace: "prod"}}},
		{Process: flow.Process{PID: 812, NSPID: 812, Name: "sshd", Label: flow.Label{Runtime: flow.LabelSystemd, ID: "ssh.service", Name: "ssh.service"}}},
		{Process: flow.Process{PID: 900, Name: "curl"}},
		{Process: flow.Process{Name: "unknown TCP"}, Pseudo: true},
	}}
	var b bytes.Buffer
	if err := ui.WriteJSON(&b, v, ui.JSONOptions{}); err != nil {
		t.Fatal(err)
	}
	validateJSONLine(t, b.Bytes(), types, absent)
	var got struct {
		Processes []struct {
			PID       int  `json:"pid"`
			NSPID     *int `json:"ns_pid"`
			Service   *string
			Container *struct {
				ID, Name, Runtime, Pod, Namespace string
				PodUID                            string `json:"pod_uid"`
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Processes) != 4 {
		t.Fatalf("%d processes: %s", len(got.Processes), b.String())
	}
	web, pod, sshd, curl := got.Processes[0], got.Processes[1], got.Processes[2], got.Processes[3]
	if web.Container == nil || web.Container.ID != id || web.Container.Name != "web" || web.Container.Runtime != "docker" || web.NSPID == nil || *web.NSPID != 7 || web.Service != nil {
		t.Errorf("docker process: %s", b.String())
	}
	if pod.Container == nil || pod.Container.Pod != "api-7d9f" || pod.Container.Namespace != "prod" || pod.Container.Runtime != "containerd" || pod.Container.PodUID == "" {
		t.Errorf("pod process: %s", b.String())
	}
	if sshd.Container != nil || sshd.Service == nil || *sshd.Service != "ssh.service" || sshd.NSPID != nil {
		t.Errorf("service process (ns_pid equal to pid is left out): %s", b.String())
	}
	if curl.Container != nil || curl.Service != nil || curl.NSPID != nil {
		t.Errorf("plain process: %s", b.String())
	}
}
