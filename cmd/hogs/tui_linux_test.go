package main

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// tmuxSession is a tmux server of the test's own (its own socket) running
// a shell in a 100x30 window.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("needs tmux for the end-to-end terminal test")
	}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("hogs-test-%08x", rand.Uint32())}
	s.run("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", "env PS1='PROMPT$ ' TERM=xterm-256color sh")
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "main") }

// waitFor polls the screen until ok accepts it, for up to 10 s.
func (s *tmuxSession) waitFor(what string, ok func(screen string) bool) string {
	s.t.Helper()
	var screen string
	for range 100 {
		screen = s.screen()
		if ok(screen) {
			return screen
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("waited 10 s for %s; the screen:\n%s", what, screen)
	return ""
}

// TestTUIEndToEnd drives the real binary under tmux: a known process's row
// appears with a rate, m changes the unit, Enter shows its connection,
// a resize redraws, q gives the shell back with the terminal restored.
func TestTUIEndToEnd(t *testing.T) {
	nsA, nsB := netlab.QuietVethPair(t)
	server := startRole(t, nsB, "tcp-server-any", "10.77.0.2:8200")
	_ = server
	tm := newTmux(t)
	client := startRole(t, nsA, "steady-client", "10.77.0.2:8200", "30")
	var pid int
	fmt.Sscanf(client.line(t), "pid %d", &pid)
	tm.run("send-keys", "-t", "main", "ip netns exec "+nsA+" "+hogsBinary(t)+" -s -d 0.5", "Enter")
	row := fmt.Sprintf("%7d ", pid)
	screen := tm.waitFor("the client's row with a rate", func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, row) && strings.Contains(line, "kB/s") && !strings.Contains(line, " 0.000 ") {
				return true
			}
		}
		return false
	})
	if !strings.Contains(screen, "PID") || !strings.Contains(screen, "TOTAL") {
		t.Errorf("no header or TOTAL:\n%s", screen)
	}
	tm.run("send-keys", "-t", "main", "m")
	tm.waitFor("the unit to change to kB", func(s string) bool { return strings.Contains(s, " kB ") || strings.Contains(s, "kB\n") })
	// The client sorts first (-s, by sent): Enter opens its connections.
	tm.run("send-keys", "-t", "main", "Enter")
	tm.waitFor("the client's connection", func(s string) bool { return strings.Contains(s, "10.77.0.2:8200") })
	tm.run("send-keys", "-t", "main", "Escape")
	tm.waitFor("the process list back", func(s string) bool { return strings.Contains(s, "    PID ") })
	// c cycles the grouping: program, user, container; Enter on the
	// group at the top (the client's, sorted by sent) lists its
	// connection; c from there goes back to the list, by process.
	for _, g := range []struct{ header, footer string }{
		{"  PROCS PROGRAM", "group: program"}, {"  PROCS USER", "group: user"}, {"  PROCS CONTAINER", "group: container"},
	} {
		tm.run("send-keys", "-t", "main", "c")
		tm.waitFor("grouping by "+g.footer, func(s string) bool { return strings.Contains(s, g.header) && strings.Contains(s, g.footer) })
	}
	tm.run("send-keys", "-t", "main", "Enter")
	tm.waitFor("the group's connection", func(s string) bool {
		return strings.Contains(s, "connections of container") && strings.Contains(s, "10.77.0.2:8200")
	})
	tm.run("send-keys", "-t", "main", "c")
	tm.waitFor("the list by process", func(s string) bool { return strings.Contains(s, "    PID ") && !strings.Contains(s, "group: ") })
	tm.run("resize-window", "-t", "main", "-x", "60", "-y", "20")
	tm.waitFor("a redraw at 60 columns", func(s string) bool {
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return len(lines) <= 20 && strings.Contains(s, "TOTAL")
	})
	tm.run("send-keys", "-t", "main", "q")
	tm.waitFor("the shell prompt", func(s string) bool { return strings.Contains(s, "PROMPT$") && !strings.Contains(s, "TOTAL") })
	tm.run("send-keys", "-t", "main", "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ,", "Enter")
	// stty's answer is the line after the command: "icanon,echo," in a
	// restored terminal, "-icanon,-echo," in one left raw.
	answer := func(s string) string {
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "icanon,") || strings.HasPrefix(line, "-icanon,") {
				return line
			}
		}
		return ""
	}
	screen = tm.waitFor("stty's answer", func(s string) bool { return answer(s) != "" })
	if a := answer(screen); !strings.HasPrefix(a, "icanon,echo,") {
		t.Errorf("terminal not restored after q: stty says %q\n%s", a, screen)
	}
}

// TestTUIIdleCPU: the table idling (no traffic, one refresh a second)
// uses under 1% of a CPU.
func TestTUIIdleCPU(t *testing.T) {
	nsA, _ := netlab.QuietVethPair(t)
	tm := newTmux(t)
	tm.run("respawn-pane", "-k", "-t", "main", "ip netns exec "+nsA+" "+hogsBinary(t))
	tm.waitFor("the table", func(s string) bool { return strings.Contains(s, "TOTAL") })
	pid := strings.TrimSpace(tm.run("display-message", "-p", "-t", "main", "#{pane_pid}"))
	ticks := func() int {
		out, err := exec.Command("cat", "/proc/"+pid+"/stat").Output()
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(out[strings.LastIndexByte(string(out), ')')+1:]))
		var u, s int
		fmt.Sscan(f[11], &u)
		fmt.Sscan(f[12], &s)
		return u + s
	}
	before := ticks()
	time.Sleep(10 * time.Second)
	used := ticks() - before
	t.Logf("idle table: %d clock ticks (10 ms each) of CPU in 10 s", used)
	if used >= 10 { // 1% of 10 s = 100 ms = 10 ticks
		t.Errorf("idle table used %d ms of CPU in 10 s, over 1%%", used*10)
	}
}

// startTable runs hogs in a namespace without traffic in the tmux pane's
// shell, with env set before it, and waits for the table.
func (s *tmuxSession) startTable(ns, env string) {
	s.t.Helper()
	s.run("send-keys", "-t", "main", "clear; "+env+" ip netns exec "+ns+" "+hogsBinary(s.t)+" -d 0.5; echo rc=$?", "Enter")
	s.waitFor("the table", func(sc string) bool { return strings.Contains(sc, "TOTAL") && strings.Contains(sc, "h: help") })
}

// quitTable presses q and returns the screen once the shell prints hogs's
// exit status ("rc=" or the given marker); it fails unless that is 0.
func (s *tmuxSession) quitTable(marker ...string) string {
	s.t.Helper()
	rc := "rc="
	if len(marker) > 0 {
		rc = marker[0]
	}
	s.run("send-keys", "-t", "main", "q")
	screen := s.waitFor("hogs to exit", func(sc string) bool { return strings.Contains(sc, rc) })
	if !strings.Contains(screen, rc+"0") {
		s.t.Errorf("hogs did not exit 0 after q:\n%s", screen)
	}
	return screen
}

// TestTUITerminals: the table starts on every TERM nethogs starts on,
// with the system's terminfo database and without one (TERMINFO naming
// an empty directory, as in an empty root): termbox cannot read vt100's
// and vt220's entries and knows no tmux-256color without a database, so
// hogs draws with xterm's sequences and says so in one line.
func TestTUITerminals(t *testing.T) {
	ns, _ := netlab.QuietVethPair(t)
	empty := t.TempDir()
	for _, c := range []struct {
		term, terminfo string
		note           bool
	}{
		{"xterm-256color", "", false},
		{"xterm-256color", empty, false}, // termbox's built-in xterm
		{"vt100", "", true},
		{"vt100", empty, true},
		{"vt220", "", true},
		{"tmux-256color", empty, true},
		{"", empty, true}, // TERM unset
	} {
		t.Run(c.term+map[bool]string{true: "-no-terminfo"}[c.terminfo != ""], func(t *testing.T) {
			tm := newTmux(t)
			env := "env TERM=" + c.term
			if c.term == "" {
				env = "env -u TERM"
			}
			if c.terminfo != "" {
				env += " TERMINFO=" + c.terminfo + " TERMINFO_DIRS=" + c.terminfo + " HOME=" + c.terminfo
			}
			tm.startTable(ns, env)
			screen := tm.quitTable()
			note := strings.Contains(screen, "no usable terminal description for TERM=")
			if note != c.note {
				t.Errorf("TERM=%q TERMINFO=%q: note shown %v, want %v:\n%s", c.term, c.terminfo, note, c.note, screen)
			}
		})
	}
}

// TestTUISuspend: Ctrl-Z gives the shell a restored terminal (echo and
// canonical input back), fg brings the table back, and q still exits 0.
func TestTUISuspend(t *testing.T) {
	ns, _ := netlab.QuietVethPair(t)
	tm := newTmux(t)
	tm.startTable(ns, "env")
	tm.run("send-keys", "-t", "main", "C-z")
	tm.waitFor("the shell after Ctrl-Z", func(s string) bool {
		return !strings.Contains(s, "TOTAL") && strings.Contains(s, "PROMPT$")
	})
	tm.run("send-keys", "-t", "main", "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ,; echo", "Enter")
	screen := tm.waitFor("stty's answer", func(s string) bool { return strings.Contains(s, "icanon,") })
	if strings.Contains(screen, "-icanon,") || !strings.Contains(screen, "icanon,echo,") {
		t.Errorf("terminal not restored on Ctrl-Z:\n%s", screen)
	}
	// The shell went on to "echo rc=$?" (148: stopped); fg's status is
	// hogs's.
	tm.run("send-keys", "-t", "main", "clear; fg; echo after-fg=$?", "Enter")
	tm.waitFor("the table after fg", func(s string) bool { return strings.Contains(s, "TOTAL") && strings.Contains(s, "h: help") })
	tm.quitTable("after-fg=")
}

// TestTUIKeys: the sort, pause and filter keys reach the footer of the
// real terminal.
func TestTUIKeys(t *testing.T) {
	ns, _ := netlab.QuietVethPair(t)
	tm := newTmux(t)
	tm.startTable(ns, "env")
	tm.run("send-keys", "-t", "main", "t")
	tm.waitFor("sort: total", func(s string) bool { return strings.Contains(s, "sort: total") })
	tm.run("send-keys", "-t", "main", "Space")
	tm.waitFor("PAUSED", func(s string) bool { return strings.Contains(s, "PAUSED") })
	tm.run("send-keys", "-t", "main", "Space", "/", "zz")
	tm.waitFor("the filter typed", func(s string) bool { return strings.Contains(s, "filter: zz_") })
	tm.run("send-keys", "-t", "main", "Enter")
	tm.waitFor("the filter applied, no rows", func(s string) bool {
		return strings.Contains(s, "filter: zz") && !strings.Contains(s, "unknown TCP")
	})
	tm.run("send-keys", "-t", "main", "Escape")
	tm.waitFor("the filter cleared", func(s string) bool { return strings.Contains(s, "unknown TCP") })
	tm.quitTable()
}

// sttyModes runs stty in the pane's shell and returns its answer for
// icanon and echo: "icanon,echo," in a restored terminal, "-icanon,-echo,"
// in one left raw.
func (s *tmuxSession) sttyModes() string {
	s.t.Helper()
	s.run("send-keys", "-t", "main", "stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo -e -icanon -e -echo | tr '\\n' ,; echo", "Enter")
	answer := func(sc string) string {
		for _, line := range strings.Split(sc, "\n") {
			if strings.HasPrefix(line, "icanon,") || strings.HasPrefix(line, "-icanon,") {
				return line
			}
		}
		return ""
	}
	return answer(s.waitFor("stty's answer", func(sc string) bool { return answer(sc) != "" }))
}

// TestTUIWithoutControllingTerminal: hogs started by setsid -w has no
// controlling terminal (opening /dev/tty fails with ENXIO), but its
// standard input and output are the pane's terminal: the table comes up
// there with a one-line note, the keys work (Esc alone included), a
// resize redraws, and q or SIGTERM give the shell back its terminal
// restored. The same for the small build, which also drives /dev/tty
// without termbox.
func TestTUIWithoutControllingTerminal(t *testing.T) {
	ns, _ := netlab.QuietVethPair(t)
	const note = "open /dev/tty: no such device or address; drawing the table on standard input and output"
	for _, c := range []struct {
		name   string
		small  bool
		setsid bool
	}{{"full", false, true}, {"small", true, true}, {"small-tty", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			bin := hogsBinary(t)
			if c.small {
				bin = buildSmall(t)
			}
			start := "ip netns exec " + ns + " " + bin
			if c.setsid {
				start = "setsid -w " + start
			}
			tm := newTmux(t)
			tm.run("send-keys", "-t", "main", "clear; "+start+" -d 0.5; echo rc=$?", "Enter")
			tm.waitFor("the table", func(s string) bool { return strings.Contains(s, "TOTAL") && strings.Contains(s, "h: help") })
			tm.run("send-keys", "-t", "main", "t")
			tm.waitFor("sort: total", func(s string) bool { return strings.Contains(s, "sort: total") })
			tm.run("send-keys", "-t", "main", "Space")
			tm.waitFor("PAUSED", func(s string) bool { return strings.Contains(s, "PAUSED") })
			tm.run("send-keys", "-t", "main", "Space", "/", "zz")
			tm.waitFor("the filter typed", func(s string) bool { return strings.Contains(s, "filter: zz_") })
			tm.run("send-keys", "-t", "main", "Enter")
			tm.waitFor("the filter applied, no rows", func(s string) bool {
				return strings.Contains(s, "filter: zz") && !strings.Contains(s, "unknown TCP")
			})
			tm.run("send-keys", "-t", "main", "Escape")
			tm.waitFor("the filter cleared", func(s string) bool { return strings.Contains(s, "unknown TCP") })
			tm.run("send-keys", "-t", "main", "Enter")
			tm.waitFor("the connections of unknown TCP", func(s string) bool { return strings.Contains(s, "connections of unknown TCP") })
			tm.run("send-keys", "-t", "main", "Left")
			tm.waitFor("the processes again", func(s string) bool { return strings.Contains(s, "PROGRAM") })
			tm.run("resize-window", "-t", "main", "-x", "60", "-y", "20")
			tm.waitFor("a redraw at 60 columns", func(s string) bool {
				lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
				return len(lines) <= 20 && strings.Contains(s, "TOTAL") && strings.Contains(s, "h: help")
			})
			tm.quitTable()
			// Wrapped lines joined: the note is wider than the pane.
			screen := tm.run("capture-pane", "-p", "-J", "-t", "main")
			if got := strings.Contains(screen, note); got != c.setsid {
				t.Errorf("note on stderr %v, want %v:\n%s", got, c.setsid, screen)
			}
			if m := tm.sttyModes(); !strings.HasPrefix(m, "icanon,echo,") {
				t.Errorf("terminal not restored after q: stty says %q", m)
			}

			// SIGTERM (the -d value tells this hogs from others).
			tm.run("send-keys", "-t", "main", "clear; "+start+" -d 0.7; echo rc=$?", "Enter")
			tm.waitFor("the table", func(s string) bool { return strings.Contains(s, "TOTAL") && strings.Contains(s, "h: help") })
			out, err := exec.Command("pgrep", "-f", "-x", bin+" -d 0.7").Output()
			pid := strings.TrimSpace(string(out))
			if err != nil || strings.ContainsAny(pid, " \n") {
				t.Fatalf("pgrep: %v %q", err, out)
			}
			if err := exec.Command("kill", "-TERM", pid).Run(); err != nil {
				t.Fatal(err)
			}
			screen = tm.waitFor("hogs to exit", func(s string) bool { return strings.Contains(s, "rc=") })
			if !strings.Contains(screen, "rc=0") || strings.Contains(screen, "TOTAL") {
				t.Errorf("after SIGTERM:\n%s", screen)
			}
			if m := tm.sttyModes(); !strings.HasPrefix(m, "icanon,echo,") {
				t.Errorf("terminal not restored after SIGTERM: stty says %q", m)
			}
		})
	}
}

// TestTUINoTerminal: with no controlling terminal and standard input not
// a terminal either, the table cannot start: one line says why and what
// to use instead, exit status 1.
func TestTUINoTerminal(t *testing.T) {
	ns, _ := netlab.QuietVethPair(t)
	cmd := exec.Command("ip", "netns", "exec", ns, hogsBinary(t), "-d", "0.5")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
	out, err := cmd.CombinedOutput()                     // standard input /dev/null
	want := "hogs: terminal: open /dev/tty: no such device or address, and standard input is not a terminal: the table needs a terminal; use -t or --json for text output\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || string(out) != want {
		t.Errorf("got %v, %q; want exit status 1, %q", err, out, want)
	}
}
