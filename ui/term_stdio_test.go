//go:build linux

package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a new pseudo-terminal's master (non-blocking: reads
// take deadlines) and its terminal, 40x10.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	master = os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: 40, Row: 10}); err != nil {
		t.Fatal(err)
	}
	return master, tty
}

// readUntil reads the master until what it has read contains want (for
// up to 5 s) and returns all of it.
func readUntil(t *testing.T, master *os.File, want string) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !bytes.Contains(got, []byte(want)) {
		n, err := master.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("waiting for %q: %v; read %q", want, err, got)
		}
	}
	return got
}

func nextEvent(t *testing.T, tm *terminal) termEvent {
	t.Helper()
	select {
	case ev := <-tm.events:
		return ev
	case r := <-tm.pollPanic:
		t.Fatalf("reader panicked: %v", r)
	case <-time.After(5 * time.Second):
		t.Fatal("no event in 5 s")
	}
	return termEvent{}
}

func newTestTerminal() *terminal {
	return &terminal{events: make(chan termEvent, 16), resized: make(chan os.Signal, 1), pollPanic: make(chan any, 1)}
}

// TestStdioDriver runs the built-in driver on a pseudo-terminal: raw mode
// and the alternate screen while it runs, frames the emulator shows as
// the grid, the size and SIGWINCH, the keys typed, and on close the
// terminal as it was.
func TestStdioDriver(t *testing.T) {
	master, tty := openPTY(t)
	before, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newStdioOn(int(tty.Fd()), tty)
	if err != nil {
		t.Fatal(err)
	}
	tm := newTestTerminal()
	if err := s.start(tm); err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			s.close()
		}
	}()
	raw, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || raw.Iflag&unix.ICRNL != 0 || raw.Oflag&unix.OPOST != 0 {
		t.Errorf("not raw: lflag %#x iflag %#x oflag %#x", raw.Lflag, raw.Iflag, raw.Oflag)
	}
	readUntil(t, master, "\x1b[?1049h\x1b[?25l")

	w, h, err := s.size()
	if w != 40 || h != 10 || err != nil {
		t.Errorf("size %dx%d, %v; want 40x10", w, h, err)
	}
	snap, st := realSnapshot(), realState()
	g := NewGrid(w, h)
	Render(g, &snap, &st)
	if err := s.show(g, true); err != nil {
		t.Fatal(err)
	}
	v := newVT(t, w, h)
	v.write(readUntil(t, master, "h: help"))
	v.check(g, true, "a frame on the pseudo-terminal")

	unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: 70, Row: 12})
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	select {
	case <-tm.resized:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGWINCH did not reach resized")
	}
	if w, h, _ := s.size(); w != 70 || h != 12 {
		t.Errorf("size after the resize %dx%d, want 70x12", w, h)
	}
	unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{})
	if w, h, _ := s.size(); w != 80 || h != 24 {
		t.Errorf("size of a terminal that reports none %dx%d, want 80x24", w, h)
	}

	// Keys as a terminal sends them; the lone Esc at the end comes after
	// the wait.
	master.Write([]byte("q\x1b[A\x1bOB\x1b[6~\r\x7f\x03\x0c\x1a名\x1b"))
	var got []string
	for range 11 {
		got = append(got, evName(nextEvent(t, tm)))
	}
	want := []string{"q", "up", "down", "pgdn", "enter", "bs", "ctrl-c", "redraw", "suspend", "名", "esc"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("keys %q, want %q", got, want)
	}

	s.close()
	closed = true
	readUntil(t, master, "\x1b[0m\x1b[?25h\x1b[?1049l")
	after, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag || after.Cflag != before.Cflag || after.Cc != before.Cc {
		t.Errorf("terminal not restored: %+v, was %+v", after, before)
	}
	select {
	case <-s.polled:
	default:
		t.Error("the reader still runs after close")
	}
}

// TestStdioHangup: when the terminal goes away the table hears of it (an
// input error), and close still returns.
func TestStdioHangup(t *testing.T) {
	master, tty := openPTY(t)
	s, err := newStdioOn(int(tty.Fd()), tty)
	if err != nil {
		t.Fatal(err)
	}
	tm := newTestTerminal()
	if err := s.start(tm); err != nil {
		t.Fatal(err)
	}
	master.Close()
	// Linux reads a pseudo-terminal whose master is gone as the end
	// (EIO for some, 0 bytes for others).
	if ev := nextEvent(t, tm); ev.kind != evError || !errors.Is(ev.err, unix.EIO) && !errors.Is(ev.err, io.EOF) {
		t.Errorf("after the hangup: %+v (%v), want EIO or EOF", ev, ev.err)
	}
	done := make(chan struct{})
	go func() { s.close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("close hangs after a hangup")
	}
}

// TestStdioNotATerminal: standard input or output not a terminal: the
// driver says which and touches nothing.
func TestStdioNotATerminal(t *testing.T) {
	_, tty := openPTY(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := newStdioOn(int(r.Fd()), tty); err == nil || err.Error() != "standard input is not a terminal" {
		t.Errorf("input a pipe: %v", err)
	}
	if _, err := newStdioOn(int(tty.Fd()), w); err == nil || err.Error() != "standard output is not a terminal" {
		t.Errorf("output a pipe: %v", err)
	}
}

// panicScreen is a driver whose drawing panics.
type panicScreen struct{ screen }

func (panicScreen) show(*Grid, bool) error { panic("drawing failed") }

// TestRunRestores: the table's loop on the built-in driver gives the
// terminal back as it was however it ends: q, Ctrl-C, the context done
// (SIGINT, SIGTERM), the updates closed, a panic (re-raised).
func TestRunRestores(t *testing.T) {
	for _, c := range []struct {
		name   string
		end    func(master *os.File, cancel func(), updates chan View)
		panics bool
	}{
		{"q", func(m *os.File, _ func(), _ chan View) { m.Write([]byte("q")) }, false},
		{"ctrl-c", func(m *os.File, _ func(), _ chan View) { m.Write([]byte("\x03")) }, false},
		{"signal", func(_ *os.File, cancel func(), _ chan View) { cancel() }, false},
		{"updates closed", func(_ *os.File, _ func(), u chan View) { close(u) }, false},
		{"panic", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			master, tty := openPTY(t)
			before, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			s, err := newStdioOn(int(tty.Fd()), tty)
			if err != nil {
				t.Fatal(err)
			}
			tm := newTestTerminal()
			if err := s.start(tm); err != nil {
				t.Fatal(err)
			}
			tm.scr = s
			if c.panics {
				tm.scr = panicScreen{s}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			updates := make(chan View)
			done := make(chan any, 1)
			go func() {
				defer func() {
					if r := recover(); r != nil {
						done <- r
					}
				}()
				err := tm.run(ctx, updates, realState(), true)
				if err != nil {
					done <- err
				} else {
					done <- nil
				}
			}()
			if !c.panics {
				snap := realSnapshot()
				updates <- snap
				readUntil(t, master, "h: help")
				c.end(master, cancel, updates)
			}
			var res any
			select {
			case res = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the table did not end")
			}
			if c.panics && res != "drawing failed" || !c.panics && res != nil {
				t.Errorf("ended with %v", res)
			}
			readUntil(t, master, "\x1b[?1049l")
			after, _ := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
			if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag {
				t.Errorf("terminal not restored: lflag %#x iflag %#x oflag %#x, were %#x %#x %#x",
					after.Lflag, after.Iflag, after.Oflag, before.Lflag, before.Iflag, before.Oflag)
			}
		})
	}
}
