package rawcap

import (
	"os/exec"
	"testing"
)

// TestShellQuote: each quoted word, echoed by a real shell, is the word.
func TestShellQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/usr/local/bin/hogs", "/usr/local/bin/hogs"},
		{"/opt/my tools/hogs", "'/opt/my tools/hogs'"},
		{"/tmp/it's/hogs", `'/tmp/it'\''s/hogs'`},
		{"/a/$HOME/`x`/*", "'/a/$HOME/`x`/*'"},
		{"", "''"},
	} {
		got := ShellQuote(tt.in)
		if got != tt.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
		out, err := exec.Command("sh", "-c", "printf %s "+got).Output()
		if err != nil || string(out) != tt.in {
			t.Errorf("sh read %s as %q (%v), want %q", got, out, err, tt.in)
		}
	}
}
