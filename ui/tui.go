package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nsf/termbox-go"
)

// TUIOptions are what RunTUI takes from the environment, injectable for
// tests: Getenv reads a variable (os.Getenv when nil), Stderr gets the
// one-line notes (os.Stderr when nil).
type TUIOptions struct {
	Getenv func(string) string
	Stderr io.Writer
}

// RunTUI runs the terminal UI on the controlling terminal until the user
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
// (LC_ALL, LC_CTYPE, LANG) is UTF-8. A TERM that termbox cannot describe
// (no terminfo entry, or one it cannot read) is drawn with termbox's
// built-in xterm sequences, and a note says so.
//
// Drawing is Render into a Grid; termbox only copies the grid to the
// terminal. The terminal is restored (termbox.Close) on every way out, a
// panic included, which is re-raised after.
func RunTUI(ctx context.Context, updates <-chan View, st ViewState) error {
	return RunTUIWith(ctx, updates, st, TUIOptions{})
}

// RunTUIWith is RunTUI with the environment given.
func RunTUIWith(ctx context.Context, updates <-chan View, st ViewState, opt TUIOptions) (err error) {
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
		if err := draw(g, feed.shown(), &st, colour); err != nil {
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
			switch ev.Type {
			case termbox.EventKey:
				if ev.Key == termbox.KeyCtrlL && ev.Ch == 0 {
					termbox.Sync()
					continue
				}
				if ev.Key == termbox.KeyCtrlZ && ev.Ch == 0 {
					if err := t.suspend(); err != nil {
						return fmt.Errorf("terminal after Ctrl-Z: %w", err)
					}
					continue
				}
				if k, ok := keyOf(ev); ok {
					if st.HandleKey(k, feed.shown(), PageHeight(g.H)) {
						return nil
					}
					feed.resume(st.Paused)
				}
			case termbox.EventError:
				return fmt.Errorf("terminal input: %w", ev.Err)
			}
			// EventResize: the draw at the top of the loop picks up the
			// new size.
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

// terminal is termbox opened on the controlling terminal, with the
// goroutine that polls its events.
type terminal struct {
	term   string // TERM as hogs was started with
	stderr io.Writer
	// fallback is the TERM termbox is opened with instead, when it cannot
	// describe term.
	fallback string

	events    chan termbox.Event
	stop      chan struct{}
	polled    chan struct{}
	pollPanic chan any
}

// open initialises termbox, with TERM=xterm (termbox's terminfo entry
// or, without a database, its built-in xterm sequences) when it cannot
// use TERM, and starts polling.
func (t *terminal) open() error {
	err := t.init()
	if err != nil && t.fallback == "" && describeError(err) {
		t.fallback = "xterm"
		fmt.Fprintf(t.stderr, "hogs: no usable terminal description for TERM=%q (%v); drawing with xterm's sequences\n", t.term, err)
		err = t.init()
	}
	if err != nil && strings.Contains(err.Error(), "/dev/tty") {
		// termbox opens /dev/tty by name and takes no other descriptor.
		return fmt.Errorf("%w: the table needs a controlling terminal, even when standard input and output are one", err)
	}
	if err != nil {
		return err
	}
	termbox.SetInputMode(termbox.InputEsc)
	termbox.HideCursor()
	t.events = make(chan termbox.Event, 16)
	t.stop = make(chan struct{})
	t.polled = make(chan struct{})
	t.pollPanic = make(chan any, 1)
	go pollEvents(t.events, t.stop, t.polled, t.pollPanic)
	return nil
}

// init is termbox.Init, under TERM=t.fallback when that is set (termbox
// reads TERM from the environment; it is put back at once).
func (t *terminal) init() error {
	if t.fallback == "" {
		return termbox.Init()
	}
	old, had := os.LookupEnv("TERM")
	os.Setenv("TERM", t.fallback)
	err := termbox.Init()
	if had {
		os.Setenv("TERM", old)
	} else {
		os.Unsetenv("TERM")
	}
	return err
}

// describeError reports whether termbox.Init failed for want of a
// description of the terminal (rather than of a terminal): termbox says
// so only in its messages.
func describeError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "terminfo") || strings.Contains(s, "unsupported terminal") || strings.Contains(s, "TERM")
}

// close stops the poller and restores the terminal.
func (t *terminal) close() {
	// The poller only blocks in PollEvent (its sends give way to stop),
	// so the interrupt ends it. (Should it have died of a panic, the
	// interrupting goroutine stays blocked: the panic is about to end the
	// program anyway.)
	close(t.stop)
	go termbox.Interrupt()
	<-t.polled
	termbox.Close()
}

// suspend gives the terminal back, stops the process as the shell's
// Ctrl-Z would (SIGTSTP: termbox's raw mode keeps the terminal from
// sending it), and takes the terminal again once continued.
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

// pollEvents hands termbox's events to events until PollEvent returns the
// interrupt that the caller sends after closing stop.
func pollEvents(events chan<- termbox.Event, stop <-chan struct{}, polled chan<- struct{}, panicked chan<- any) {
	defer close(polled)
	defer func() {
		if r := recover(); r != nil {
			panicked <- r
		}
	}()
	for {
		ev := termbox.PollEvent()
		if ev.Type == termbox.EventInterrupt {
			return
		}
		select {
		case events <- ev:
		case <-stop:
		}
	}
}

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

// draw renders into g at the terminal's size and copies g to the terminal.
func draw(g *Grid, snap *View, st *ViewState, colour bool) error {
	if err := termbox.Clear(termbox.ColorDefault, termbox.ColorDefault); err != nil {
		return err
	}
	w, h := termbox.Size()
	g.resize(w, h)
	Render(g, snap, st)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			c := g.Cells[y*g.W+x]
			fg, bg := cellStyle(c.Attr, colour)
			termbox.SetCell(x, y, c.Ch, fg, bg)
		}
	}
	return termbox.Flush()
}

// cellStyle maps a cell's attributes to termbox's: the looks as they are,
// and with colour the roles: sent numbers green, received cyan, unknown
// rows yellow, the selected row white on blue (instead of its underline).
func cellStyle(a Attr, colour bool) (fg, bg termbox.Attribute) {
	fg, bg = termbox.ColorDefault, termbox.ColorDefault
	looks := a & attrLooks
	if colour {
		switch {
		case a&AttrSelected != 0:
			fg, bg = termbox.ColorWhite, termbox.ColorBlue
			looks &^= AttrUnderline
		case a&AttrReverse != 0:
			// The header and TOTAL: reverse video, uncoloured.
		case a&AttrSent != 0:
			fg = termbox.ColorGreen
		case a&AttrRecv != 0:
			fg = termbox.ColorCyan
		case a&AttrUnknown != 0:
			fg = termbox.ColorYellow
		}
	}
	if looks&AttrBold != 0 {
		fg |= termbox.AttrBold
	}
	if looks&AttrReverse != 0 {
		fg |= termbox.AttrReverse
	}
	if looks&AttrUnderline != 0 {
		fg |= termbox.AttrUnderline
	}
	return fg, bg
}

// keyOf translates a termbox key event.
func keyOf(ev termbox.Event) (Key, bool) {
	if ev.Ch != 0 {
		return Key{Ch: ev.Ch}, true
	}
	switch ev.Key {
	case termbox.KeyArrowUp:
		return Key{Special: KeyUp}, true
	case termbox.KeyArrowDown:
		return Key{Special: KeyDown}, true
	case termbox.KeyArrowLeft:
		return Key{Special: KeyLeft}, true
	case termbox.KeyArrowRight:
		return Key{Special: KeyRight}, true
	case termbox.KeyPgup:
		return Key{Special: KeyPgUp}, true
	case termbox.KeyPgdn:
		return Key{Special: KeyPgDn}, true
	case termbox.KeyHome:
		return Key{Special: KeyHome}, true
	case termbox.KeyEnd:
		return Key{Special: KeyEnd}, true
	case termbox.KeyEnter, termbox.KeyCtrlJ:
		return Key{Special: KeyEnter}, true
	case termbox.KeyEsc:
		return Key{Special: KeyEsc}, true
	case termbox.KeyBackspace, termbox.KeyBackspace2:
		return Key{Special: KeyBackspace}, true
	case termbox.KeyCtrlC:
		return Key{Special: KeyCtrlC}, true
	case termbox.KeySpace:
		return Key{Ch: ' '}, true
	}
	return Key{}, false
}
