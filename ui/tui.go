package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// TUIOptions are what RunTUI takes from the environment, injectable for
// tests: Getenv reads a variable (os.Getenv when nil), Stderr gets the
// one-line notes (os.Stderr when nil).
type TUIOptions struct {
	Getenv func(string) string
	Stderr io.Writer
}

// RunTUI runs the terminal UI on the controlling terminal (or, without
// one, on standard input and output when they are a terminal) until the user
// quits (q, Ctrl-C), ctx is done or updates is closed; it returns nil
// then, and an error only when the terminal cannot be set up or read.
//
// It draws the latest snapshot received on updates (an empty table until
// the first), and redraws at once after every key (HandleKey) and on
// resize; Ctrl-L redraws the whole terminal; while paused (Space) it
// keeps showing the snapshot it had and takes the latest on resume.
// Ctrl-Z gives the terminal back and stops hogs (SIGTSTP) as nethogs
// does; on SIGCONT the table comes back. A snapshot is kept until the
// next arrives: its sender must not change it after sending. st is the
// initial view (-v, -s, -l, -b, the devices, the title).
//
// The terminal: colours unless NO_COLOR is set or TERM names a
// monochrome terminal (vt100, vt220, ...); ASCII only unless the locale
// (LC_ALL, LC_CTYPE, LANG) is UTF-8. termbox draws on /dev/tty; a TERM
// that termbox cannot describe (no terminfo entry, or one it cannot read)
// is drawn with termbox's built-in xterm sequences, and a note says so.
// Where /dev/tty cannot be opened, a built-in driver draws on standard
// input and output with xterm's sequences, and a note says so; the small
// build (hogs_small) has no termbox and uses the built-in driver on
// /dev/tty too (see terminal.open).
//
// Drawing is Render into a Grid; the driver only copies the grid to the
// terminal. The terminal is restored on every way out, a panic included,
// which is re-raised after.
func RunTUI(ctx context.Context, updates <-chan View, st ViewState) error {
	return RunTUIWith(ctx, updates, st, TUIOptions{})
}

// RunTUIWith is RunTUI with the environment given.
func RunTUIWith(ctx context.Context, updates <-chan View, st ViewState, opt TUIOptions) error {
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	term := opt.Getenv("TERM")
	st.ASCII = !utf8Locale(opt.Getenv)
	colour := opt.Getenv("NO_COLOR") == "" && colourTerm(term)
	t := &terminal{term: term, stderr: opt.Stderr}
	if err := t.open(); err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	return t.run(ctx, updates, st, colour)
}

// run is RunTUI's loop on the open terminal, which it closes on every way
// out.
func (t *terminal) run(ctx context.Context, updates <-chan View, st ViewState, colour bool) error {
	defer func() {
		r := recover()
		t.close()
		if r != nil {
			panic(r)
		}
	}()

	g := NewGrid(0, 0)
	var feed viewFeed
	for {
		if err := t.draw(g, feed.shown(), &st, colour); err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case s, ok := <-updates:
			if !ok {
				return nil
			}
			feed.update(s, st.Paused)
		case ev := <-t.events:
			switch ev.kind {
			case evRedraw:
				t.scr.redraw()
			case evSuspend:
				if err := t.suspend(); err != nil {
					return fmt.Errorf("terminal after Ctrl-Z: %w", err)
				}
			case evError:
				return fmt.Errorf("terminal input: %w", ev.err)
			default:
				if st.HandleKey(ev.key, feed.shown(), PageHeight(g.H)) {
					return nil
				}
				feed.resume(st.Paused)
			}
		case <-t.resized:
			// The draw at the top of the loop picks up the new size.
		case r := <-t.pollPanic:
			panic(r)
		}
	}
}

// viewFeed holds the snapshot the table shows and, while paused, the
// latest one, shown on resume.
type viewFeed struct {
	showing, latest View
}

// update takes a new snapshot: shown at once unless paused.
func (f *viewFeed) update(v View, paused bool) {
	f.latest = v
	if !paused {
		f.showing = v
	}
}

// resume shows the latest snapshot when not paused (after a key).
func (f *viewFeed) resume(paused bool) {
	if !paused {
		f.showing = f.latest
	}
}

func (f *viewFeed) shown() *View { return &f.showing }

// utf8Locale reports whether the locale (the first of LC_ALL, LC_CTYPE,
// LANG that is set) names UTF-8; unset, the locale is C: ASCII.
func utf8Locale(getenv func(string) string) bool {
	for _, name := range [...]string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(name); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
}

// colourTerm reports whether TERM names a terminal with colours: any but
// the DEC VT family, dumb and none.
func colourTerm(term string) bool {
	return term != "" && term != "dumb" && !strings.HasPrefix(term, "vt")
}
