//go:build linux

package ui

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// escWait is how long an unfinished escape sequence waits for the rest
// before it counts as Esc and what follows.
const escWait = 50 // ms

// stdioScreen is the built-in driver on a terminal given as two
// descriptors (standard input and output): raw mode (termios), xterm's
// alternate screen, the cursor hidden, frames from ansiScreen, the size
// from TIOCGWINSZ on the output and SIGWINCH, keys by keyReader from a
// goroutine reading the input.
type stdioScreen struct {
	in    int
	out   *os.File
	tty   *os.File // closed by close (when the driver opened it)
	saved *unix.Termios
	ansi  ansiScreen
	// wake: close writes to wake[1], which ends the reader's poll.
	wake         [2]int
	stop, polled chan struct{}
	resized      chan<- os.Signal
}

// newStdio returns the built-in driver for standard input and output,
// not yet started.
func newStdio() (*stdioScreen, error) { return newStdioOn(int(os.Stdin.Fd()), os.Stdout) }

// newStdioOn returns the built-in driver for the terminal in and out
// (both must be one), not yet started.
func newStdioOn(in int, out *os.File) (*stdioScreen, error) {
	saved, err := unix.IoctlGetTermios(in, unix.TCGETS)
	if err != nil {
		return nil, errors.New("standard input is not a terminal")
	}
	if _, err := unix.IoctlGetWinsize(int(out.Fd()), unix.TIOCGWINSZ); err != nil {
		return nil, errors.New("standard output is not a terminal")
	}
	return &stdioScreen{in: in, out: out, saved: saved}, nil
}

// start takes the terminal: raw mode, the alternate screen, the reader
// sending t's events; from then on close restores it.
func (s *stdioScreen) start(t *terminal) error {
	s.stop, s.polled, s.resized = make(chan struct{}), make(chan struct{}), t.resized
	if err := unix.Pipe2(s.wake[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	raw := *s.saved
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(s.in, unix.TCSETS, &raw); err != nil {
		unix.Close(s.wake[0])
		unix.Close(s.wake[1])
		return err
	}
	signal.Notify(t.resized, syscall.SIGWINCH)
	go s.read(t.events, t.pollPanic)
	if _, err := s.out.WriteString("\x1b[?1049h\x1b[?25l"); err != nil {
		s.close()
		return err
	}
	return nil
}

func (s *stdioScreen) size() (int, int, error) {
	ws, err := unix.IoctlGetWinsize(int(s.out.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, err
	}
	if ws.Col == 0 || ws.Row == 0 {
		// Serial lines often report no size: assume a VT100's.
		return 80, 24, nil
	}
	return int(ws.Col), int(ws.Row), nil
}

func (s *stdioScreen) show(g *Grid, colour bool) error {
	_, err := s.out.Write(s.ansi.frame(g, colour))
	return err
}

func (s *stdioScreen) redraw() { s.ansi.redraw() }

// close stops the reader, leaves the alternate screen with the cursor
// shown and the looks reset, and puts the terminal's modes back.
func (s *stdioScreen) close() {
	signal.Stop(s.resized)
	close(s.stop)
	unix.Write(s.wake[1], []byte{0})
	<-s.polled
	unix.Close(s.wake[0])
	unix.Close(s.wake[1])
	s.out.WriteString("\x1b[0m\x1b[?25h\x1b[?1049l")
	unix.IoctlSetTermios(s.in, unix.TCSETS, s.saved)
	if s.tty != nil {
		s.tty.Close()
	}
}

// read hands the keys read from the input to events until close wakes
// it, or until the input fails (an error event, then it waits for close).
func (s *stdioScreen) read(events chan<- termEvent, panicked chan<- any) {
	defer close(s.polled)
	defer func() {
		if r := recover(); r != nil {
			panicked <- r
		}
	}()
	emit := func(ev termEvent) bool {
		select {
		case events <- ev:
			return true
		case <-s.stop:
			return false
		}
	}
	var kr keyReader
	fds := []unix.PollFd{{Fd: int32(s.in), Events: unix.POLLIN}, {Fd: int32(s.wake[0]), Events: unix.POLLIN}}
	for {
		timeout := -1
		if kr.waiting() {
			timeout = escWait
		}
		n, err := unix.Poll(fds, timeout)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			emit(termEvent{kind: evError, err: err})
			<-s.stop
			return
		case fds[1].Revents != 0:
			return
		case n == 0: // nothing more came: what waits is complete
			kr.parse(0, true, emit)
			continue
		}
		r, err := unix.Read(s.in, kr.space())
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err == nil && r == 0 {
			err = io.EOF // hung up
		}
		if err != nil {
			emit(termEvent{kind: evError, err: err})
			<-s.stop
			return
		}
		kr.parse(r, false, emit)
	}
}
