package ui

import (
	"context"
	"fmt"

	"github.com/nsf/termbox-go"
)

// RunTUI runs the terminal UI on the controlling terminal until the user
// quits (q, Ctrl-C), ctx is done or updates is closed; it returns nil
// then, and an error only when the terminal cannot be set up or read.
//
// It draws the latest snapshot received on updates (an empty table until
// the first), and redraws at once after every key (HandleKey) and on
// resize; Ctrl-L redraws the whole terminal. A snapshot is kept until the
// next arrives: its sender must not change it after sending. st is the
// initial view (-v, -s, -l, -b, the devices, the title).
//
// Drawing is Render into a Grid; termbox only copies the grid to the
// terminal. The terminal is restored (termbox.Close) on every way out, a
// panic included, which is re-raised after.
func RunTUI(ctx context.Context, updates <-chan View, st ViewState) (err error) {
	if err := termbox.Init(); err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	termbox.SetInputMode(termbox.InputEsc)
	termbox.HideCursor()

	// termbox is not safe for concurrent use, except Interrupt: one
	// goroutine polls events and hands them over, this one draws.
	events := make(chan termbox.Event, 16)
	stop := make(chan struct{})
	polled := make(chan struct{})
	pollPanic := make(chan any, 1)
	go pollEvents(events, stop, polled, pollPanic)
	defer func() {
		r := recover()
		// The poller only blocks in PollEvent (its sends give way to
		// stop), so the interrupt ends it. (Should it have died of a
		// panic, the interrupting goroutine stays blocked: the panic is
		// about to end the program anyway.)
		close(stop)
		go termbox.Interrupt()
		<-polled
		termbox.Close()
		if r != nil {
			panic(r)
		}
	}()

	g := NewGrid(0, 0)
	var snap View
	for {
		if err := draw(g, &snap, &st); err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case s, ok := <-updates:
			if !ok {
				return nil
			}
			snap = s
		case ev := <-events:
			switch ev.Type {
			case termbox.EventKey:
				if ev.Key == termbox.KeyCtrlL && ev.Ch == 0 {
					termbox.Sync()
					continue
				}
				if k, ok := keyOf(ev); ok && st.HandleKey(k, &snap, PageHeight(g.H)) {
					return nil
				}
			case termbox.EventError:
				return fmt.Errorf("terminal input: %w", ev.Err)
			}
			// EventResize: the draw at the top of the loop picks up the
			// new size.
		case r := <-pollPanic:
			panic(r)
		}
	}
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

// draw renders into g at the terminal's size and copies g to the terminal.
func draw(g *Grid, snap *View, st *ViewState) error {
	if err := termbox.Clear(termbox.ColorDefault, termbox.ColorDefault); err != nil {
		return err
	}
	w, h := termbox.Size()
	g.resize(w, h)
	Render(g, snap, st)
	for y := 0; y < g.H; y++ {
		for x := 0; x < g.W; x++ {
			c := g.Cells[y*g.W+x]
			fg := termbox.ColorDefault
			if c.Attr&AttrBold != 0 {
				fg |= termbox.AttrBold
			}
			if c.Attr&AttrReverse != 0 {
				fg |= termbox.AttrReverse
			}
			if c.Attr&AttrUnderline != 0 {
				fg |= termbox.AttrUnderline
			}
			termbox.SetCell(x, y, c.Ch, fg, termbox.ColorDefault)
		}
	}
	return termbox.Flush()
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
