package pcapfilter_test

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/net/bpf"

	"hogs/rawcap/pcapfilter"
)

// fuzzPackets returns a few packets to run fuzzed programs on: the
// synthesized templates, whole and cut at lengths where fields end.
func fuzzPackets() [][]byte {
	all, names := synthesizedPackets()
	var pkts [][]byte
	for i, pkt := range all {
		if names[i] == "truncated "+names[0] {
			break // the templates come first, then their prefixes
		}
		pkts = append(pkts, pkt)
		for _, n := range []int{1, 10, 13, 16, 20, 22, 24, 28, 40, 42, 44} {
			if n < len(pkt) {
				pkts = append(pkts, pkt[:n])
			}
		}
	}
	return pkts
}

// FuzzCompile checks that Compile never panics, that every error is a
// one-line *SyntaxError, and that every program is valid for the kernel,
// runs in the virtual machine, returns only 0 or the snap length, and
// decides as the unshortened program on every packet.
func FuzzCompile(f *testing.F) {
	for _, expr := range goldenExprs() {
		f.Add(expr)
	}
	for _, tc := range errorCases {
		f.Add(tc.expr)
	}
	pkts := fuzzPackets()
	f.Fuzz(func(t *testing.T, expr string) {
		prog, err := pcapfilter.Compile(expr, 0)
		if err != nil {
			var se *pcapfilter.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *SyntaxError", err, err)
			}
			if se.Expr != expr {
				t.Errorf("Expr %q, want %q", se.Expr, expr)
			}
			checkErrorText(t, se)
			return
		}
		checkProgram(t, prog)
		again, _ := pcapfilter.Compile(expr, 0)
		if !slices.Equal(prog, again) {
			t.Fatalf("Compile is not deterministic")
		}
		vm, err := bpf.NewVM(pcapfilter.VMProgram(prog))
		if err != nil {
			t.Fatalf("NewVM: %v", err)
		}
		var plain *bpf.VM
		if unopt, err := pcapfilter.CompileUnoptimized(expr, 0); err == nil {
			if plain, err = bpf.NewVM(pcapfilter.VMProgram(unopt)); err != nil {
				t.Fatalf("NewVM of the unshortened program: %v", err)
			}
		}
		for _, pkt := range pkts {
			n, err := vm.Run(pkt)
			if err != nil {
				t.Fatalf("Run on %x: %v", pkt, err)
			}
			if n != 0 && n != pcapfilter.DefaultSnapLen {
				t.Fatalf("Run on %x returned %d", pkt, n)
			}
			if plain == nil {
				continue
			}
			if m, err := plain.Run(pkt); err != nil || (m != 0) != (n != 0) {
				t.Fatalf("on %x the program returns %d, the unshortened one %d (%v)", pkt, n, m, err)
			}
		}
	})
}
