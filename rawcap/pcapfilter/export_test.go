package pcapfilter

import "golang.org/x/net/bpf"

// CompileUnoptimized is Compile without the passes that shorten the
// program: jump threading, dead code removal and redundant loads.
func CompileUnoptimized(expr string, snaplen uint32) ([]bpf.Instruction, error) {
	return compile(expr, snaplen, false)
}

// VMProgram is vmProgram, for the fuzz test's own virtual machines.
var VMProgram = vmProgram
