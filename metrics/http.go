//go:build !hogs_small

package metrics

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server serves an Exporter over HTTP.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Listen binds addr (host:port; "127.0.0.1:9464" serves this host only,
// ":9464" every interface) and serves e in the background. A bind that
// fails (a port in use, an address not on this host, no permission) is
// one line naming the address and what to do.
func Listen(addr string, e *Exporter, opts ServerOptions) (*Server, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:9464 (this host only) or :9464 (all interfaces)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return nil, fmt.Errorf("--listen %s: address already in use; stop what listens there or pick another port", addr)
		case errors.Is(err, syscall.EACCES):
			return nil, fmt.Errorf("--listen %s: permission denied; use a port above 1023 or grant CAP_NET_BIND_SERVICE", addr)
		case errors.Is(err, syscall.EADDRNOTAVAIL):
			return nil, fmt.Errorf("--listen %s: no such address on this host; use one of its addresses, 127.0.0.1 or an empty host", addr)
		}
		return nil, fmt.Errorf("--listen %s: %v", addr, err)
	}
	def := func(d, v time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return v
	}
	srv := &http.Server{
		Handler:           e.Handler(opts.MaxScrapes),
		ReadHeaderTimeout: def(opts.ReadHeaderTimeout, 5*time.Second),
		ReadTimeout:       def(opts.ReadTimeout, 10*time.Second),
		WriteTimeout:      def(opts.WriteTimeout, 30*time.Second),
		IdleTimeout:       def(opts.IdleTimeout, 60*time.Second),
		MaxHeaderBytes:    16 << 10,
	}
	if opts.ErrorLog != nil {
		srv.ErrorLog = newLineLogger(opts.ErrorLog)
	}
	s := &Server{srv: srv, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		err := srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) && opts.ErrorLog != nil {
			opts.ErrorLog("metrics server stopped: " + err.Error())
		}
	}()
	return s, nil
}

// Addr is the address the server listens on (the port chosen, for :0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server, waiting up to a second for scrapes under way.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.done
	return err
}

const landingPage = `<!DOCTYPE html>
<html><head><title>hogs</title></head>
<body><h1>hogs</h1><p>Per-process network traffic as Prometheus metrics: <a href="/metrics">/metrics</a>.</p></body></html>
`

// Handler serves /metrics (GET or HEAD), a landing page at /, 404
// elsewhere; at most maxScrapes scrapes at once (0: 4), 503 beyond.
func (e *Exporter) Handler(maxScrapes int) http.Handler {
	if maxScrapes <= 0 {
		maxScrapes = 4
	}
	slots := make(chan struct{}, maxScrapes)
	bufs := sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(landingPage))
			return
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many concurrent scrapes", http.StatusServiceUnavailable)
			return
		}
		f := Negotiate(r.Header.Get("Accept"))
		bp := bufs.Get().(*[]byte)
		b := e.Scrape((*bp)[:0], f)
		w.Header().Set("Content-Type", f.ContentType())
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			w.Write(b)
		}
		if cap(b) <= 4<<20 { // keep pooled buffers bounded
			*bp = b
			bufs.Put(bp)
		}
	})
}

// lineWriter hands each line log.Logger writes to a function.
type lineWriter func(string)

func (f lineWriter) Write(p []byte) (int, error) {
	f(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newLineLogger(f func(string)) *log.Logger { return log.New(lineWriter(f), "", 0) }
