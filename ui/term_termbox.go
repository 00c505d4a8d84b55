//go:build !hogs_small

package ui

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/nsf/termbox-go"
)

// termboxScreen is termbox, opened on /dev/tty, with the goroutine that
// polls its events.
type termboxScreen struct {
	stop, polled chan struct{}
}

// openTTY opens termbox on /dev/tty, with TERM=xterm (termbox's terminfo
// entry or, without a database, its built-in xterm sequences) when it
// cannot use TERM.
func (t *terminal) openTTY() (screen, error) {
	err := t.initTermbox()
	if err != nil && t.fallback == "" && describeError(err) {
		t.fallback = "xterm"
		fmt.Fprintf(t.stderr, "hogs: no usable terminal description for TERM=%q (%v); drawing with xterm's sequences\n", t.term, err)
		err = t.initTermbox()
	}
	if err != nil {
		return nil, err
	}
	return startTermbox(t), nil
}

// describeError reports whether termbox.Init failed for want of a
// description of the terminal (rather than of a terminal): termbox says
// so only in its messages.
func describeError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "terminfo") || strings.Contains(s, "unsupported terminal") || strings.Contains(s, "TERM")
}

// initTermbox is termbox.Init, under TERM=t.fallback when that is set
// (termbox reads TERM from the environment; it is put back at once).
func (t *terminal) initTermbox() error {
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

// startTermbox sets termbox up after Init and starts polling its events.
func startTermbox(t *terminal) *termboxScreen {
	termbox.SetInputMode(termbox.InputEsc)
	termbox.HideCursor()
	s := &termboxScreen{stop: make(chan struct{}), polled: make(chan struct{})}
	go s.poll(t.events, t.resized, t.pollPanic)
	return s
}

func (s *termboxScreen) size() (int, int, error) {
	// Size is stale until Clear.
	if err := termbox.Clear(termbox.ColorDefault, termbox.ColorDefault); err != nil {
		return 0, 0, err
	}
	w, h := termbox.Size()
	return w, h, nil
}

func (s *termboxScreen) show(g *Grid, colour bool) error {
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			c := g.Cells[y*g.W+x]
			fg, bg := cellStyle(c.Attr, colour)
			termbox.SetCell(x, y, c.Ch, fg, bg)
		}
	}
	return termbox.Flush()
}

func (s *termboxScreen) redraw() { termbox.Sync() }

// close stops the poller and restores the terminal.
func (s *termboxScreen) close() {
	// The poller only blocks in PollEvent (its sends give way to stop),
	// so the interrupt ends it. (Should it have died of a panic, the
	// interrupting goroutine stays blocked: the panic is about to end the
	// program anyway.)
	close(s.stop)
	go termbox.Interrupt()
	<-s.polled
	termbox.Close()
}

// poll hands termbox's events, translated, to events and resized until
// PollEvent returns the interrupt that close sends after closing stop.
func (s *termboxScreen) poll(events chan<- termEvent, resized chan<- os.Signal, panicked chan<- any) {
	defer close(s.polled)
	defer func() {
		if r := recover(); r != nil {
			panicked <- r
		}
	}()
	for {
		ev := termbox.PollEvent()
		var out termEvent
		switch ev.Type {
		case termbox.EventInterrupt:
			return
		case termbox.EventResize:
			select {
			case resized <- syscall.SIGWINCH:
			default: // one pending resize is enough
			}
			continue
		case termbox.EventError:
			out = termEvent{kind: evError, err: ev.Err}
		case termbox.EventKey:
			switch {
			case ev.Key == termbox.KeyCtrlL && ev.Ch == 0:
				out.kind = evRedraw
			case ev.Key == termbox.KeyCtrlZ && ev.Ch == 0:
				out.kind = evSuspend
			default:
				k, ok := keyOf(ev)
				if !ok {
					continue
				}
				out.key = k
			}
		default:
			continue
		}
		select {
		case events <- out:
		case <-s.stop:
		}
	}
}

// cellStyle maps a cell's attributes to termbox's (lookOf).
func cellStyle(a Attr, colour bool) (fg, bg termbox.Attribute) {
	l := lookOf(a, colour)
	fg, bg = termbox.Attribute(l.fg), termbox.Attribute(l.bg)
	if l.looks&AttrBold != 0 {
		fg |= termbox.AttrBold
	}
	if l.looks&AttrReverse != 0 {
		fg |= termbox.AttrReverse
	}
	if l.looks&AttrUnderline != 0 {
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
