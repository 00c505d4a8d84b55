package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"hogs/decode"
)

// filesEnv names the captures BenchmarkFiles decodes, separated by
// spaces (`make bench PCAPS='a.pcap b.pcapng'` sets it); unset, the
// captures the project records itself.
const filesEnv = "HOGS_BENCH_PCAPS"

// recordedCaptures is the default: rawcap's recorded captures, which every
// clone of the repository has.
const recordedCaptures = "../rawcap/testdata/captures"

// benchFiles returns the capture files BenchmarkFiles decodes.
func benchFiles(tb testing.TB) []string {
	if list := os.Getenv(filesEnv); strings.TrimSpace(list) != "" {
		return strings.Fields(list)
	}
	var files []string
	for _, pattern := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(recordedCaptures, pattern))
		files = append(files, m...)
	}
	if len(files) == 0 {
		tb.Fatalf("no captures in %s", recordedCaptures)
	}
	slices.Sort(files)
	return files
}

// fileFrames reads every frame of the capture at path, grouped by link
// type (a pcapng file may mix them), each group back to back in one buffer.
func fileFrames(tb testing.TB, path string) map[decode.LinkType][]frame {
	groups := map[decode.LinkType][]frame{}
	for _, f := range readFrames(tb, path) {
		groups[f.link] = append(groups[f.link], f)
	}
	if len(groups) == 0 {
		tb.Fatalf("%s: no frames", path)
	}
	return groups
}

// BenchmarkFiles runs both decoders over each capture file, per link type
// in it: frame=FILE:LINK/impl=hogs|gopacket, for benchstat and bench/ratio.
func BenchmarkFiles(b *testing.B) {
	for _, path := range benchFiles(b) {
		groups := fileFrames(b, path)
		links := make([]decode.LinkType, 0, len(groups))
		for l := range groups {
			links = append(links, l)
		}
		slices.Sort(links)
		for _, l := range links {
			frames := groups[l]
			name := "frame=" + filepath.Base(path) + ":" + l.String()
			b.Run(name+"/impl=hogs", func(b *testing.B) { benchHogs(b, frames) })
			b.Run(name+"/impl=gopacket", func(b *testing.B) { benchGopacket(b, frames) })
		}
	}
}

// TestBenchFiles: the default file list is the recorded captures, each
// readable, and HOGS_BENCH_PCAPS replaces it.
func TestBenchFiles(t *testing.T) {
	t.Setenv(filesEnv, "")
	files := benchFiles(t)
	if len(files) < 3 {
		t.Errorf("default captures: %q, want the three recorded ones", files)
	}
	for _, f := range files {
		if groups := fileFrames(t, f); len(groups) != 1 {
			t.Errorf("%s: link types %v", f, groups)
		}
	}
	t.Setenv(filesEnv, " a.pcap  b.pcapng ")
	if got := benchFiles(t); !slices.Equal(got, []string{"a.pcap", "b.pcapng"}) {
		t.Errorf("%s=' a.pcap  b.pcapng ': %q", filesEnv, got)
	}
}
