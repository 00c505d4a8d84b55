package metrics

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// verifyUnit runs systemd-analyze verify on a copy of unit whose
// ExecStart binary is replaced by one that exists here, and returns what
// it said (it exits 0 on unknown keys and bad values, saying so).
func verifyUnit(t *testing.T, analyze, unit string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	text := strings.ReplaceAll(unit, "/usr/local/bin/hogs", "/bin/true")
	path := filepath.Join(dir, "hogs.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func TestSystemdUnitVerifies(t *testing.T) {
	analyze := lookTool(t, "systemd-analyze", "systemd")
	b, err := os.ReadFile("../contrib/systemd/hogs.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	if out, err := verifyUnit(t, analyze, unit); err != nil || out != "" {
		t.Fatalf("systemd-analyze verify hogs.service: %v\n%s", err, out)
	}
	// The check catches a bad key (so a clean run above means something).
	if out, _ := verifyUnit(t, analyze, unit+"\n[Service]\nProtectSystem=bogus\n"); !strings.Contains(out, "bogus") {
		t.Fatalf("systemd-analyze verify passed a bad value: %q", out)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/hogs --headless --listen 127.0.0.1:9464\n",
		"AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH\n",
		"NoNewPrivileges=yes\n", "ProtectSystem=strict\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("hogs.service lacks %q", want)
		}
	}
}

// TestDaemonSetManifest parses the manifest as YAML (with Python's yaml
// module: the Go standard library has no YAML parser) and checks what the
// endpoint depends on.
func TestDaemonSetManifest(t *testing.T) {
	python := lookTool(t, "python3", "python3-yaml")
	out, err := exec.Command(python, "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
		"../contrib/kubernetes/hogs-daemonset.yaml").CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "No module named 'yaml'") && os.Getenv("CI") != "true" {
			t.Skip("python3 has no yaml module (apt-get install -y python3-yaml)")
		}
		t.Fatalf("parsing the DaemonSet: %v\n%s", err, out)
	}
	var ds struct {
		Kind string
		Spec struct {
			Template struct {
				Metadata struct{ Annotations map[string]string }
				Spec     struct {
					HostNetwork bool `json:"hostNetwork"`
					HostPID     bool `json:"hostPID"`
					Containers  []struct {
						Args            []string
						SecurityContext struct {
							Capabilities struct{ Add, Drop []string }
						} `json:"securityContext"`
					}
				}
			}
		}
	}
	if err := json.Unmarshal(out, &ds); err != nil {
		t.Fatal(err)
	}
	pod := ds.Spec.Template
	if ds.Kind != "DaemonSet" || !pod.Spec.HostNetwork || !pod.Spec.HostPID || len(pod.Spec.Containers) != 1 {
		t.Fatalf("not a DaemonSet in the host's network and PID namespaces: %+v", ds)
	}
	c := pod.Spec.Containers[0]
	for _, cp := range []string{"NET_RAW", "NET_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH"} {
		if !slices.Contains(c.SecurityContext.Capabilities.Add, cp) {
			t.Errorf("capability %s not added", cp)
		}
	}
	if !slices.Contains(c.SecurityContext.Capabilities.Drop, "ALL") {
		t.Error("capabilities not dropped first")
	}
	if !slices.Contains(c.Args, "--headless") || !slices.Contains(c.Args, "--listen") {
		t.Errorf("args %q lack --headless or --listen", c.Args)
	}
	if a := pod.Metadata.Annotations; a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != "9464" {
		t.Errorf("scrape annotations: %v", a)
	}
}
