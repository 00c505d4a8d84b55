package ui

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// screen is a terminal driver: termbox on /dev/tty (termboxScreen), or
// the built-in one on standard input and output (stdioScreen) where
// /dev/tty cannot be opened. Its input goroutine sends keys on the
// terminal's events, resizes on resized, and a panic on pollPanic.
type screen interface {
	// size returns the terminal's size now.
	size() (w, h int, err error)
	// show copies g to the terminal.
	show(g *Grid, colour bool) error
	// redraw makes the terminal show all of the next grid (Ctrl-L).
	redraw()
	// close stops the input goroutine and restores the terminal.
	close()
}

// terminal is the table's terminal: the driver open on it and what its
// input goroutine sends.
type terminal struct {
	term   string // TERM as hogs was started with
	stderr io.Writer
	// fallback is the TERM termbox is opened with instead, when it cannot
	// describe term.
	fallback string
	// stdio: the built-in driver on standard input and output is in use
	// (said once on stderr), as /dev/tty could not be opened (ttyErr).
	stdio  bool
	ttyErr error

	scr       screen
	events    chan termEvent
	resized   chan os.Signal
	pollPanic chan any
}

// open opens the terminal, /dev/tty (openTTY), or without it (no
// controlling terminal, no such node) the built-in driver on standard
// input and output when both are a terminal.
func (t *terminal) open() error {
	if t.events == nil {
		t.events = make(chan termEvent, 16)
		t.resized = make(chan os.Signal, 1)
		t.pollPanic = make(chan any, 1)
	}
	if !t.stdio {
		scr, err := t.openTTY()
		if err == nil {
			t.scr = scr
			return nil
		}
		if !strings.Contains(err.Error(), "/dev/tty") {
			return err
		}
		t.ttyErr = err
	}
	s, err := newStdio()
	if err != nil {
		return fmt.Errorf("%w, and %v: the table needs a terminal", t.ttyErr, err)
	}
	if !t.stdio {
		// Before the alternate screen, so that it stays in sight.
		t.stdio = true
		fmt.Fprintf(t.stderr, "hogs: %v; drawing the table on standard input and output with xterm's sequences\n", t.ttyErr)
	}
	if err := s.start(t); err != nil {
		return err
	}
	t.scr = s
	return nil
}

// draw renders into g at the terminal's size and copies g to the terminal.
func (t *terminal) draw(g *Grid, snap *View, st *ViewState, colour bool) error {
	w, h, err := t.scr.size()
	if err != nil {
		return err
	}
	g.resize(w, h)
	Render(g, snap, st)
	return t.scr.show(g, colour)
}

// close restores the terminal.
func (t *terminal) close() { t.scr.close() }

// suspend gives the terminal back, stops the process as the shell's
// Ctrl-Z would (SIGTSTP: raw mode keeps the terminal from sending it),
// and takes the terminal again once continued.
func (t *terminal) suspend() error {
	t.close()
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTSTP); err == nil {
		// The stop takes effect as kill returns; SIGCONT follows it. A
		// process group without a shell to continue it (orphaned) is
		// not stopped: the timeout carries on.
		select {
		case <-cont:
		case <-time.After(time.Second):
		}
	}
	return t.open()
}
