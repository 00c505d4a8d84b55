package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// needTool returns the path of a program the test needs. Missing, the test
// skips with a message; under CI=true, where .ci/run installs it, it fails.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (Debian package %s)", name, pkg)
		}
		t.Skipf("%s is not installed (Debian package %s)", name, pkg)
	}
	return path
}

// optionSpellings are the ways the parser knows each option: "-x" and
// "--trace", one entry per option.
func optionSpellings() [][]string {
	var out [][]string
	for _, o := range options(&config{}) {
		var names []string
		if o.short != 0 {
			names = append(names, "-"+string(o.short))
		}
		if o.long != "" {
			names = append(names, "--"+o.long)
		}
		out = append(out, names)
	}
	return out
}

func allSpellings() []string {
	var all []string
	for _, names := range optionSpellings() {
		all = append(all, names...)
	}
	return all
}

// TestManPage: groff finds nothing to warn about in doc/hogs.1, its
// OPTIONS section describes every option the parser knows, and it names
// no option the parser does not know.
func TestManPage(t *testing.T) {
	page, err := os.ReadFile("../../doc/hogs.1")
	if err != nil {
		t.Fatal(err)
	}
	groff := needTool(t, "groff", "groff-base")
	cmd := exec.Command(groff, "-man", "-z", "-ww", "../../doc/hogs.1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff -man -z -ww: %v\n%s", err, stderr.String())
	}
	_, opts, ok := strings.Cut(string(page), "\n.SH OPTIONS\n")
	if !ok {
		t.Fatal("no OPTIONS section")
	}
	opts, _, _ = strings.Cut(opts, "\n.SH ")
	// Option headings are the lines after .TP: -x is written \-x there.
	var headings []string
	lines := strings.Split(opts, "\n")
	for i, l := range lines {
		if l == ".TP" && i+1 < len(lines) {
			headings = append(headings, strings.ReplaceAll(lines[i+1], `\-`, "-"))
		}
	}
	described := strings.Join(headings, "\n")
	for _, names := range optionSpellings() {
		for _, n := range names {
			if !regexp.MustCompile(`(^|[^-\w])` + regexp.QuoteMeta(n) + `\b`).MatchString(described) {
				t.Errorf("the man page's OPTIONS do not describe %s", n)
			}
		}
	}
	known := allSpellings()
	for _, m := range regexp.MustCompile(`(?:^|[^-\w])(--?[a-zA-Z][a-z0-9]*(?:-[a-z0-9]+)*)`).FindAllStringSubmatch(strings.ReplaceAll(string(page), `\-`, "-"), -1) {
		if n := m[1]; !slices.Contains(known, n) && (len(n) == 2 || strings.HasPrefix(n, "--")) {
			t.Errorf("the man page names %s, which hogs does not know", n)
		}
	}
}

// TestUsageListsEveryOption: -h mentions every option.
func TestUsageListsEveryOption(t *testing.T) {
	for _, n := range allSpellings() {
		if !regexp.MustCompile(`(^|[\s\[,|])` + regexp.QuoteMeta(n) + `\b`).MatchString(usageText) {
			t.Errorf("-h does not mention %s", n)
		}
	}
}

// TestCompletions: the bash, zsh and fish completions parse, and each
// offers every option; bash's and fish's are asked by their own shells.
func TestCompletions(t *testing.T) {
	t.Run("bash", func(t *testing.T) {
		bash := needTool(t, "bash", "bash")
		if out, err := exec.Command(bash, "-n", "../../completions/hogs.bash").CombinedOutput(); err != nil {
			t.Fatalf("bash -n: %v %s", err, out)
		}
		script := `source ../../completions/hogs.bash; COMP_WORDS=(hogs -); COMP_CWORD=1; _hogs; printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command(bash, "-c", script).Output()
		if err != nil {
			t.Fatal(err)
		}
		offered := strings.Fields(string(out))
		for _, n := range allSpellings() {
			if !slices.Contains(offered, n) {
				t.Errorf("bash completes %q without %s", "hogs -", n)
			}
		}
	})
	t.Run("fish", func(t *testing.T) {
		fish := needTool(t, "fish", "fish")
		if out, err := exec.Command(fish, "--no-execute", "../../completions/hogs.fish").CombinedOutput(); err != nil {
			t.Fatalf("fish --no-execute: %v %s", err, out)
		}
		var offered []string
		for _, prefix := range []string{"-", "--"} {
			out, err := exec.Command(fish, "--no-config", "-c", "source ../../completions/hogs.fish; complete -C 'hogs "+prefix+"'").Output()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(string(out), "\n") {
				word, _, _ := strings.Cut(l, "\t")
				offered = append(offered, word)
			}
		}
		for _, n := range allSpellings() {
			if !slices.Contains(offered, n) {
				t.Errorf("fish does not complete %s", n)
			}
		}
	})
	t.Run("zsh", func(t *testing.T) {
		zsh := needTool(t, "zsh", "zsh")
		if out, err := exec.Command(zsh, "-n", "../../completions/_hogs").CombinedOutput(); err != nil {
			t.Fatalf("zsh -n: %v %s", err, out)
		}
		src, err := os.ReadFile("../../completions/_hogs")
		if err != nil {
			t.Fatal(err)
		}
		// _arguments specs: '-x[...]', {-d+,--delay=}'[...]', '--json[...]'.
		for _, n := range allSpellings() {
			if !regexp.MustCompile(`['{,]` + regexp.QuoteMeta(n) + `[+=\[,}]`).Match(src) {
				t.Errorf("the zsh completion has no spec for %s", n)
			}
		}
	})
}
