//go:build !hogs_small

package metrics

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hogs/internal/flow"
)

func get(t *testing.T, h http.Handler, path, accept string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestHandlerRoutes(t *testing.T) {
	h := realisticExporter(t).Handler(0)
	for _, tc := range []struct {
		path, accept, contentType string
		status                    int
	}{
		{"/metrics", "", "text/plain; version=0.0.4; charset=utf-8", 200},
		{"/metrics", "application/openmetrics-text;version=1.0.0", "application/openmetrics-text; version=1.0.0; charset=utf-8", 200},
		{"/", "", "text/html; charset=utf-8", 200},
		{"/debug/pprof/", "", "", 404},
		{"/metrics/x", "", "", 404},
	} {
		res := get(t, h, tc.path, tc.accept)
		if res.StatusCode != tc.status || (tc.contentType != "" && res.Header.Get("Content-Type") != tc.contentType) {
			t.Errorf("GET %s (Accept %q): %d %q; want %d %q", tc.path, tc.accept, res.StatusCode, res.Header.Get("Content-Type"), tc.status, tc.contentType)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/metrics", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", w.Code)
	}
}

// blockingWriter holds its request in Write until released.
type blockingWriter struct {
	*httptest.ResponseRecorder
	writing, release chan struct{}
}

func (w blockingWriter) Write(b []byte) (int, error) {
	close(w.writing)
	<-w.release
	return w.ResponseRecorder.Write(b)
}

func TestHandlerLimitsConcurrentScrapes(t *testing.T) {
	h := realisticExporter(t).Handler(1)
	w := blockingWriter{httptest.NewRecorder(), make(chan struct{}), make(chan struct{})}
	done := make(chan struct{})
	go func() {
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		close(done)
	}()
	<-w.writing // the first scrape holds the only slot
	if code := get(t, h, "/metrics", "").StatusCode; code != http.StatusServiceUnavailable {
		t.Errorf("second scrape while the only slot is taken: %d, want 503", code)
	}
	close(w.release)
	<-done
	if w.Code != 200 {
		t.Errorf("first scrape: %d", w.Code)
	}
	if code := get(t, h, "/metrics", "").StatusCode; code != 200 {
		t.Errorf("scrape after the slot freed: %d", code)
	}
}

func TestListenPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e, _ := New(Config{})
	_, err = Listen(ln.Addr().String(), e, ServerOptions{})
	if err == nil || !strings.Contains(err.Error(), "already in use") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Listen on a port in use: %v; want one line saying it is in use", err)
	}
	if _, err := Listen("9464", e, ServerOptions{}); err == nil || !strings.Contains(err.Error(), "HOST:PORT") {
		t.Errorf("Listen without a host part: %v", err)
	}
}

// TestServerSurvivesBadClients: malformed requests and clients that hang
// up are the server's business; scrapes go on.
func TestServerSurvivesBadClients(t *testing.T) {
	e := realisticExporter(t)
	var mu sync.Mutex
	var logged []string
	s, err := Listen("127.0.0.1:0", e, ServerOptions{ReadHeaderTimeout: 200 * time.Millisecond,
		ErrorLog: func(l string) { mu.Lock(); logged = append(logged, l); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	addr := s.Addr().String()
	for _, junk := range []string{"GARBAGE\r\n\r\n", "GET /metrics HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", 5000), ""} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, junk)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		io.Copy(io.Discard, c) // the server answers or closes (the header timeout ends the silent one)
		c.Close()
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "hogs_traffic_bytes_total") {
		t.Fatalf("scrape after bad clients: %d\n%s", res.StatusCode, body)
	}
}

// TestPublishWhileScraping runs under -race: Publish from one goroutine,
// scrapes from several.
func TestPublishWhileScraping(t *testing.T) {
	e, _ := New(Config{})
	s := newSim(DefaultGroupBy)
	k := s.open(s.process(1, "iperf3", "u"), flow.TCP)
	h := e.Handler(8)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					if c := get(t, h, "/metrics", "").StatusCode; c != 200 && c != 503 {
						t.Errorf("scrape: %d", c)
						return
					}
				}
			}
		}()
	}
	for range 200 {
		s.send(k, 1000, 1000)
		e.Publish(s.view())
	}
	close(stop)
	wg.Wait()
	body, _ := io.ReadAll(get(t, h, "/metrics", "").Body)
	if want := `hogs_traffic_bytes_total{kind="process",program="iperf3",user="u",direction="transmit"} 200000`; !strings.Contains(string(body), want) {
		t.Fatalf("no %q after 200 views in\n%s", want, body)
	}
}
