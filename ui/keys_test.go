package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// press applies keys to st and returns whether the last one quit.
func press(st *ViewState, snap *View, page int, keys ...Key) (quit bool) {
	for _, k := range keys {
		quit = st.HandleKey(k, snap, page)
	}
	return quit
}

var (
	up, down    = Key{Special: KeyUp}, Key{Special: KeyDown}
	pgUp, pgDn  = Key{Special: KeyPgUp}, Key{Special: KeyPgDn}
	home, end   = Key{Special: KeyHome}, Key{Special: KeyEnd}
	enter, esc  = Key{Special: KeyEnter}, Key{Special: KeyEsc}
	left, right = Key{Special: KeyLeft}, Key{Special: KeyRight}
	backspace   = Key{Special: KeyBackspace}
	ctrlC       = Key{Special: KeyCtrlC}
	ch          = func(r rune) Key { return Key{Ch: r} }
	repeat      = func(k Key, n int) []Key {
		ks := make([]Key, n)
		for i := range ks {
			ks[i] = k
		}
		return ks
	}
)

func TestHandleKeySelection(t *testing.T) {
	snap := manyRows(60)
	const page = 14
	for _, c := range []struct {
		name             string
		keys             []Key
		wantSel, wantTop int
	}{
		{"up at the top stays", []Key{up, up, ch('k')}, 0, 0},
		{"down", []Key{down, down, ch('j')}, 3, 0},
		{"down scrolls at the bottom of the page", repeat(down, 14), 14, 1},
		{"down to the end", repeat(down, 100), 59, 46},
		{"page down", []Key{pgDn}, 14, 14},
		{"page down twice", []Key{pgDn, pgDn}, 28, 28},
		{"page down past the end", repeat(pgDn, 10), 59, 46},
		{"page up", []Key{pgDn, pgDn, pgUp}, 14, 14},
		{"page up past the top", []Key{down, pgUp}, 0, 0},
		{"end", []Key{end}, 59, 46},
		{"G", []Key{ch('G')}, 59, 46},
		{"home", []Key{end, home}, 0, 0},
		{"g", []Key{end, ch('g')}, 0, 0},
		{"up scrolls at the top of the page", append([]Key{end}, repeat(up, 14)...), 45, 45},
	} {
		st := ViewState{}
		if quit := press(&st, &snap, page, c.keys...); quit {
			t.Errorf("%s: quit", c.name)
		}
		if st.Selected != c.wantSel || st.Top != c.wantTop {
			t.Errorf("%s: selected %d top %d, want %d %d", c.name, st.Selected, st.Top, c.wantSel, c.wantTop)
		}
	}
}

// TestHandleKeyKeepsSelectionVisible drives a long key sequence through
// lists and pages of several sizes: after every key the selection is in
// the list and on screen, and the window inside the list.
func TestHandleKeyKeepsSelectionVisible(t *testing.T) {
	keys := []Key{down, down, pgDn, up, end, pgUp, pgUp, home, pgDn, pgDn, pgDn, up, up, down, ch('j'), ch('k'), ch('G'), ch('g')}
	for _, n := range []int{0, 1, 5, 14, 15, 60} {
		snap := manyRows(n)
		for _, page := range []int{0, 1, 3, 14, 100} {
			st := ViewState{}
			for i := 0; i < 200; i++ {
				st.HandleKey(keys[(i*7)%len(keys)], &snap, page)
				p := max(page, 1)
				if n == 0 {
					if st.Selected != 0 || st.Top != 0 {
						t.Fatalf("empty list: %+v", st)
					}
					continue
				}
				if st.Selected < 0 || st.Selected >= n || st.Top < 0 || st.Top > max(n-p, 0) || st.Selected < st.Top || st.Selected >= st.Top+p {
					t.Fatalf("n %d page %d after key %d: selected %d top %d", n, page, i, st.Selected, st.Top)
				}
			}
		}
	}
}

func TestHandleKeyClampsWhenTheListShrinks(t *testing.T) {
	big, small := manyRows(60), manyRows(5)
	st := ViewState{}
	press(&st, &big, 14, end)
	press(&st, &small, 14, up)
	if st.Selected != 3 || st.Top != 0 {
		t.Errorf("after the list shrank to 5: selected %d top %d, want 3 0", st.Selected, st.Top)
	}
}

func TestHandleKeyConnections(t *testing.T) {
	snap := realSnapshot()
	st := realState()
	// Rows by received kB/s: evil (99), firefox (2210), python (7125), ...
	press(&st, &snap, 24, down, enter)
	if st.Screen != ScreenConnections || st.Focus != firefox || st.Selected != 0 || st.Top != 0 {
		t.Fatalf("Enter on row 1: %+v", st)
	}
	press(&st, &snap, 24, down, down, down, down)
	if st.Selected != 2 {
		t.Errorf("selection in firefox's 3 connections: %d, want 2", st.Selected)
	}
	// Sorting by sent moves firefox below curl: Esc comes back on it.
	press(&st, &snap, 24, ch('s'), esc)
	if st.Screen != ScreenProcesses || st.Selected != 2 {
		t.Errorf("Esc after sorting by sent: screen %d selected %d, want 0 2 (firefox's place)", st.Screen, st.Selected)
	}
	for _, back := range []Key{esc, backspace, left} {
		st := realState()
		press(&st, &snap, 24, down, down, right)
		if st.Screen != ScreenConnections || st.Focus.PID != 7125 {
			t.Fatalf("Right on row 2: %+v", st)
		}
		press(&st, &snap, 24, back)
		if st.Screen != ScreenProcesses || st.Selected != 2 {
			t.Errorf("back with %+v: screen %d selected %d", back, st.Screen, st.Selected)
		}
		press(&st, &snap, 24, back)
		if st.Screen != ScreenProcesses || st.Selected != 2 {
			t.Errorf("back on the process list with %+v moved: %+v", back, st)
		}
	}
	// The process left: its screen is empty, Esc goes back where the list was.
	st = realState()
	press(&st, &snap, 24, down, down, down, enter)
	gone := View{Rows: snap.Rows[:1]}
	press(&st, &gone, 24, down)
	if st.Selected != 0 {
		t.Errorf("selection in a gone process's connections: %d", st.Selected)
	}
	press(&st, &snap, 24, esc)
	if st.Selected != 3 {
		t.Errorf("Esc from a gone process: selected %d, want 3", st.Selected)
	}
	// Enter on an empty list does nothing.
	st = ViewState{}
	press(&st, &View{}, 24, enter)
	if st.Screen != ScreenProcesses {
		t.Errorf("Enter on no rows: %+v", st)
	}
}

func TestHandleKeyRemoteHosts(t *testing.T) {
	snap := realSnapshot()
	st := realState()
	press(&st, &snap, 24, down, down, ch('H'))
	if st.Screen != ScreenRemoteHosts || st.Selected != 0 {
		t.Fatalf("H: %+v", st)
	}
	press(&st, &snap, 24, repeat(down, 20)...)
	if st.Selected != 7 { // 8 remote addresses
		t.Errorf("selection in 8 hosts: %d", st.Selected)
	}
	press(&st, &snap, 24, esc)
	if st.Screen != ScreenProcesses || st.Selected != 2 {
		t.Errorf("Esc from hosts: %+v", st)
	}
	press(&st, &snap, 24, ch('H'), ch('H'))
	if st.Screen != ScreenProcesses || st.Selected != 2 {
		t.Errorf("H twice: %+v", st)
	}
	press(&st, &snap, 24, enter, ch('H'), esc)
	if st.Screen != ScreenProcesses || st.Selected != 2 {
		t.Errorf("connections, hosts, Esc: %+v", st)
	}
}

func TestHandleKeyToggles(t *testing.T) {
	snap := realSnapshot()
	st := ViewState{}
	var modes []ViewMode
	for range modeCount + 1 {
		modes = append(modes, st.Mode)
		press(&st, &snap, 24, ch('m'))
	}
	want := []ViewMode{ModeKBps, ModeKB, ModeBytes, ModeMB, ModeMBps, ModeGBps, ModeMbitps, ModeAuto, ModeKBps}
	if fmt.Sprint(modes) != fmt.Sprint(want) {
		t.Errorf("m cycles %v, want %v", modes, want)
	}
	press(&st, &snap, 24, ch('s'))
	if st.Order != SortSent {
		t.Error("s: not sorted by sent")
	}
	press(&st, &snap, 24, ch('r'))
	if st.Order != SortRecv {
		t.Error("r: not sorted by received")
	}
	press(&st, &snap, 24, ch('l'), ch('b'))
	if !st.Cmdline || !st.Basename {
		t.Errorf("l, b: %+v", st)
	}
	press(&st, &snap, 24, ch('l'), ch('b'))
	if st.Cmdline || st.Basename {
		t.Errorf("l, b twice: %+v", st)
	}
	press(&st, &snap, 24, ch('h'))
	if !st.Help {
		t.Error("h: no help")
	}
	press(&st, &snap, 24, ch('h'))
	if st.Help {
		t.Error("h twice: help still on")
	}
	press(&st, &snap, 24, ch('?'), down)
	if !st.Help || st.Selected != 1 {
		t.Errorf("?, Down: %+v", st)
	}
	// Esc closes the help and nothing else.
	press(&st, &snap, 24, enter, esc)
	if st.Help || st.Screen != ScreenConnections {
		t.Errorf("Esc on the help over connections: %+v", st)
	}
	press(&st, &snap, 24, esc)
	if st.Screen != ScreenProcesses {
		t.Errorf("second Esc: %+v", st)
	}
	// Unknown keys change nothing.
	before := st
	press(&st, &snap, 24, ch('x'), ch(' '), Key{})
	if st.Selected != before.Selected || st.Mode != before.Mode || st.Screen != before.Screen || st.Help != before.Help {
		t.Errorf("unknown keys changed the state: %+v", st)
	}
}

func TestHandleKeyQuit(t *testing.T) {
	snap := realSnapshot()
	for _, c := range []struct {
		keys []Key
		quit bool
	}{
		{[]Key{ch('q')}, true},
		{[]Key{ctrlC}, true},
		{[]Key{ch('h'), ch('q')}, true},
		{[]Key{enter, ch('q')}, true},
		{[]Key{ch('H'), ctrlC}, true},
		{[]Key{ch('Q')}, false},
		{[]Key{esc}, false},
		{[]Key{Key{Ch: 'q', Special: KeyUp}}, false},
	} {
		st := realState()
		if got := press(&st, &snap, 24, c.keys...); got != c.quit {
			t.Errorf("%+v: quit %v, want %v", c.keys, got, c.quit)
		}
	}
}

func TestRenderAllocatesNothing(t *testing.T) {
	snap := manyRows(300)
	st := ViewState{Cmdline: true, Selected: 40, Devices: []string{"eth0"}}
	g := NewGrid(120, 40)
	Render(g, &snap, &st)
	if n := testing.AllocsPerRun(20, func() { Render(g, &snap, &st) }); n != 0 {
		t.Errorf("Render allocates %v times per call into a warm grid", n)
	}
}

// TestRunTUIHelper is the program TestRunTUI runs in tmux: RunTUI on one
// snapshot, its return value written to the file HOGS_TUI_RESULT. With
// HOGS_TUI_END=close the updates channel closes after a while, with
// HOGS_TUI_END=cancel the context ends.
func TestRunTUIHelper(t *testing.T) {
	out := os.Getenv("HOGS_TUI_RESULT")
	if out == "" {
		t.Skip("run by TestRunTUI")
	}
	updates := make(chan View, 1)
	updates <- realSnapshot()
	ctx := context.Background()
	switch os.Getenv("HOGS_TUI_END") {
	case "close":
		go func() {
			time.Sleep(500 * time.Millisecond)
			close(updates)
		}()
	case "cancel":
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
	}
	err := RunTUI(ctx, updates, realState())
	if werr := os.WriteFile(out, []byte(fmt.Sprintf("returned %v", err)), 0o644); werr != nil {
		t.Fatal(werr)
	}
}

// TestRunTUI runs RunTUI in a tmux pane: the screen is Render's grid, keys
// change it as HandleKey says, a resize redraws; q, Ctrl-C, a closed
// updates channel and a cancelled context end it with nil and the terminal
// back on its main screen.
func TestRunTUI(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	const w, h = 100, 30
	for _, how := range []string{"q", "C-c", "close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			result := filepath.Join(dir, "result")
			socket := filepath.Join(dir, "tmux.sock")
			run := func(args ...string) string {
				t.Helper()
				out, err := exec.Command(tmux, append([]string{"-S", socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("tmux %v: %v: %s", args, err, out)
				}
				return string(out)
			}
			cmd := fmt.Sprintf("env TERM=screen HOGS_TUI_RESULT=%s HOGS_TUI_END=%s %s -test.run='^TestRunTUIHelper$'", result, how, self)
			run("new-session", "-d", "-s", "tui", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmd, ";", "set-option", "-t", "tui", "remain-on-exit", "on")
			t.Cleanup(func() { exec.Command(tmux, "-S", socket, "kill-server").Run() })

			screen := func() string {
				lines := strings.Split(strings.TrimRight(run("capture-pane", "-p", "-t", "tui"), "\n"), "\n")
				for len(lines) < h {
					lines = append(lines, "")
				}
				for i := range lines {
					lines[i] = strings.TrimRight(lines[i], " ")
				}
				return strings.Join(lines, "\n") + "\n"
			}
			waitFor := func(what string, ok func(string) bool) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					s := screen()
					if ok(s) {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: the screen is\n%s", what, s)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			snap := realSnapshot()
			st := realState()
			g := NewGrid(w, h)
			expect := func(what string) {
				t.Helper()
				Render(g, &snap, &st)
				want := g.Text()
				waitFor(what, func(s string) bool { return s == want })
			}
			expect("first snapshot")
			if how == "q" {
				for _, k := range []struct {
					tmux string
					key  Key
				}{
					{"m", ch('m')}, {"Down", down}, {"Enter", enter}, {"s", ch('s')}, {"Escape", esc},
					{"H", ch('H')}, {"BSpace", backspace}, {"End", end}, {"h", ch('h')}, {"Escape", esc}, {"l", ch('l')},
				} {
					run("send-keys", "-t", "tui", k.tmux)
					st.HandleKey(k.key, &snap, PageHeight(h))
					expect("after " + k.tmux)
				}
				// A resize redraws at once at the new size.
				run("resize-window", "-t", "tui", "-x", "60", "-y", "12")
				g = NewGrid(60, 12)
				Render(g, &snap, &st)
				want := g.Text()
				waitFor("after resizing to 60x12", func(s string) bool { return strings.HasPrefix(s, want) })
			}
			if how == "q" || how == "C-c" {
				run("send-keys", "-t", "tui", how)
			}
			deadline := time.Now().Add(10 * time.Second)
			for strings.TrimSpace(run("display-message", "-p", "-t", "tui", "#{pane_dead}")) != "1" {
				if time.Now().After(deadline) {
					t.Fatalf("still running (end: %s)", how)
				}
				time.Sleep(20 * time.Millisecond)
			}
			got, err := os.ReadFile(result)
			if err != nil || string(got) != "returned <nil>" {
				t.Errorf("RunTUI: %q, %v; want nil", got, err)
			}
			if s := screen(); strings.Contains(s, "TOTAL") {
				t.Errorf("the table is still on the screen after the end (alternate screen not left):\n%s", s)
			}
		})
	}
}
