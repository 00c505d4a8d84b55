package metrics

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNegotiate: any Accept header picks a format without panicking, and
// only one that names OpenMetrics picks it.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{ // seeds: Prometheus's header, a browser's, junk
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"application/openmetrics-text;q=NaN", ";=;,", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		if Negotiate(accept) == FormatOpenMetrics && !strings.Contains(strings.ToLower(accept), "application/openmetrics-text") {
			t.Fatalf("OpenMetrics for %q", accept)
		}
	})
}

// FuzzLabelValue: whatever a process calls itself, its label value is
// short valid UTF-8 without control characters, and the escaped label
// reads back as the value.
func FuzzLabelValue(f *testing.F) {
	for _, s := range []string{"/usr/bin/curl", "sshd: alice@pts/0", "a\"b\\c\nd", "\xff\xfe", strings.Repeat("ü", 50), "x\x1b[2J"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v := labelValue(programName(name))
		if !utf8.ValidString(v) || len(v) > maxLabelBytes {
			t.Fatalf("label value %q of %q", v, name)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", v)
			}
		}
		esc := string(appendLabel(nil, "l", v))
		if !strings.HasPrefix(esc, `l="`) || !strings.HasSuffix(esc, `"`) {
			t.Fatalf("escaped %q", esc)
		}
		var back strings.Builder
		body := esc[3 : len(esc)-1]
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c == '"' || c == '\n' {
				t.Fatalf("unescaped %q in %q", c, esc)
			}
			if c == '\\' {
				i++
				if i == len(body) {
					t.Fatalf("dangling backslash in %q", esc)
				}
				c = map[byte]byte{'\\': '\\', '"': '"', 'n': '\n'}[body[i]]
			}
			back.WriteByte(c)
		}
		if back.String() != v {
			t.Fatalf("%q escaped to %q reads back as %q", v, esc, back.String())
		}
	})
}
