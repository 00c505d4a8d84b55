//go:build hogs_small

package ui

import "os"

// openTTY opens the built-in driver on /dev/tty: the small build has no
// termbox (and no terminfo), so it draws with xterm's sequences whatever
// TERM says.
func (t *terminal) openTTY() (screen, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	s, err := newStdioOn(int(f.Fd()), f)
	if err == nil {
		err = s.start(t)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	s.tty = f
	return s, nil
}
