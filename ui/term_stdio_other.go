//go:build !linux

package ui

import "errors"

// stdioScreen: the built-in driver on standard input and output is built
// for Linux only.
type stdioScreen struct {
	screen
	tty any
}

func newStdio() (*stdioScreen, error) { return newStdioOn(0, nil) }

func newStdioOn(int, any) (*stdioScreen, error) {
	return nil, errors.New("no built-in terminal driver on this system")
}

func (s *stdioScreen) start(*terminal) error { return nil }
