//go:build hogs_small

package metrics

import "net"

// Server is the full build's; never returned here.
type Server struct{}

// Listen fails: this build leaves the HTTP server out.
func Listen(addr string, e *Exporter, opts ServerOptions) (*Server, error) { return nil, ErrNotBuiltIn }

// Addr is nil.
func (s *Server) Addr() net.Addr { return nil }

// Close does nothing.
func (s *Server) Close() error { return nil }
