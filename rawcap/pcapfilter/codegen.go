package pcapfilter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Code generation works on a list of items: instructions whose jump
// targets are symbolic labels, and the labels themselves. Every jump goes
// forward, so every path ends in one of the two returns at the end. The
// list is then simplified (jump threading, dead code, loads of a value the
// accumulator or X already holds) and laid out, with trampolines for
// conditional jumps further than 255 instructions.

type itemKind uint8

const (
	iLabel itemKind = iota // a label; jt is its id
	iPlain                 // a non-jump instruction, ins
	iCond                  // if A cond val goto jt else goto jf
	iJump                  // goto jt
	iRet                   // return val
)

type item struct {
	kind   itemKind
	ins    bpf.Instruction // iPlain
	cond   bpf.JumpTest    // iCond: JumpEqual, JumpGreaterThan, JumpGreaterOrEqual or JumpBitsSet
	val    uint32          // iCond: operand; iRet: return value
	x      bool            // iCond: compare A with X, not with val
	jt, jf int             // iCond: targets; iJump: target; iLabel: id
	tramp  bool            // a trampoline added by layout
}

// maxThreadRounds bounds the rounds of jump threading; each round finds
// what the previous one made possible. A few are enough in practice.
const maxThreadRounds = 16

// maxItems bounds the program before simplification, labels included, so
// that a huge expression fails fast. Only repetitive expressions ("ip and
// ip and ...") shrink from this size to MaxInstructions; they are rejected.
const maxItems = 16 * MaxInstructions

// tooLarge is the error of generate for a program over MaxInstructions.
type tooLarge struct{ n int }

func (e tooLarge) Error() string {
	if e.n == 0 {
		return fmt.Sprintf("expression too large: its program would have more than the kernel's limit of %d instructions", MaxInstructions)
	}
	return fmt.Sprintf("expression too large: its program has %d instructions, more than the kernel's limit of %d", e.n, MaxInstructions)
}

type gen struct {
	items   []item
	nlabels int
	over    bool // maxItems exceeded
}

func (g *gen) newLabel() int {
	g.nlabels++
	return g.nlabels - 1
}

func (g *gen) place(l int) { g.items = append(g.items, item{kind: iLabel, jt: l}) }

func (g *gen) emit(it item) {
	if len(g.items) >= maxItems {
		g.over = true
		return
	}
	g.items = append(g.items, it)
}

// branch emits code that goes to label t when n holds and to f otherwise.
func (g *gen) branch(n node, t, f int) {
	if g.over {
		return
	}
	switch n := n.(type) {
	case *andNode:
		m := g.newLabel()
		g.branch(n.l, m, f)
		g.place(m)
		g.branch(n.r, t, f)
	case *orNode:
		m := g.newLabel()
		g.branch(n.l, t, m)
		g.place(m)
		g.branch(n.r, t, f)
	case *notNode:
		g.branch(n.x, f, t)
	case *constNode:
		if n.v {
			g.emit(item{kind: iJump, jt: t})
		} else {
			g.emit(item{kind: iJump, jt: f})
		}
	case *hostNode:
		g.branch(n.expand(), t, f)
	case *portNode:
		g.branch(n.expand(), t, f)
	case *relNode:
		g.branch(n.expand(), t, f)
	case *arithCmpNode:
		g.compare(n.rel, t, f)
	case *loadXNode:
		g.emit(item{kind: iPlain, ins: bpf.LoadMemShift{Off: 0}})
		g.emit(item{kind: iJump, jt: t})
	case *cmpNode:
		if n.ld.ind {
			g.emit(item{kind: iPlain, ins: bpf.LoadIndirect{Off: n.ld.off, Size: n.ld.size}})
		} else {
			g.emit(item{kind: iPlain, ins: bpf.LoadAbsolute{Off: n.ld.off, Size: n.ld.size}})
		}
		if n.mask != 0 {
			g.emit(item{kind: iPlain, ins: bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: n.mask}})
		}
		g.emit(item{kind: iCond, cond: n.cond, val: n.val, jt: t, jf: f})
	default:
		panic(fmt.Sprintf("pcapfilter: unknown node %T", n))
	}
}

// generate compiles the tree to a program returning snaplen on a match,
// shortened unless optimize is false.
func generate(tree node, snaplen uint32, optimize bool) ([]bpf.Instruction, error) {
	g := &gen{}
	accept, reject := g.newLabel(), g.newLabel()
	g.branch(tree, accept, reject)
	if g.over {
		return nil, tooLarge{}
	}
	g.place(accept)
	g.items = append(g.items, item{kind: iRet, val: snaplen})
	g.place(reject)
	g.items = append(g.items, item{kind: iRet, val: 0})

	if optimize {
		g.simplify()
		for range maxThreadRounds {
			g.dropRedundantLoads()
			if !g.threadKnown() {
				break
			}
			g.simplify()
		}
		g.dropRedundantLoads()
	}
	if n := g.count(); n > MaxInstructions {
		return nil, tooLarge{n}
	}
	return g.layout()
}

func (g *gen) count() int {
	n := 0
	for _, it := range g.items {
		if it.kind != iLabel {
			n++
		}
	}
	return n
}

// labelIndex maps each label to the index of the first instruction at or
// after it (len(items) for a label with none).
func (g *gen) labelIndex() []int {
	idx := make([]int, g.nlabels)
	next := len(g.items)
	for i := len(g.items) - 1; i >= 0; i-- {
		if g.items[i].kind == iLabel {
			idx[g.items[i].jt] = next
		} else {
			next = i
		}
	}
	return idx
}

// simplify threads jumps to jumps, turns conditional jumps with one target
// into jumps, drops jumps to the next instruction and drops unreachable
// instructions, until nothing changes.
func (g *gen) simplify() {
	for {
		changed := false
		idx := g.labelIndex()
		final := func(l int) int {
			for {
				it := g.items[idx[l]]
				if it.kind != iJump || it.jt == l {
					return l
				}
				l = it.jt
			}
		}
		for i := range g.items {
			it := &g.items[i]
			switch it.kind {
			case iCond:
				t, f := final(it.jt), final(it.jf)
				if t != it.jt || f != it.jf {
					it.jt, it.jf, changed = t, f, true
				}
				if it.jt == it.jf {
					it.kind, changed = iJump, true
				}
			case iJump:
				if t := final(it.jt); t != it.jt {
					it.jt, changed = t, true
				}
			}
		}

		// Reachability; a jump to the instruction right after it is dropped.
		live := make([]bool, len(g.items)+1)
		first := true
		for i, it := range g.items {
			if it.kind == iLabel {
				continue
			}
			if first {
				live[i], first = true, false
			}
			if !live[i] {
				continue
			}
			switch it.kind {
			case iPlain:
				if n := g.nextInstruction(i); n < len(g.items) {
					live[n] = true
				}
			case iCond:
				live[idx[it.jt]], live[idx[it.jf]] = true, true
			case iJump:
				if idx[it.jt] == g.nextInstruction(i) {
					live[i] = false // the target is reached by falling through
					live[idx[it.jt]] = true
					changed = true
				} else {
					live[idx[it.jt]] = true
				}
			}
		}
		kept := g.items[:0]
		for i, it := range g.items {
			if it.kind == iLabel || live[i] {
				kept = append(kept, it)
			} else {
				changed = true
			}
		}
		g.items = kept
		if !changed {
			return
		}
	}
}

// nextInstruction returns the index of the first instruction after item i.
func (g *gen) nextInstruction(i int) int {
	for i++; i < len(g.items) && g.items[i].kind == iLabel; i++ {
	}
	return i
}

// aValue is what the accumulator holds: a packet field, masked unless
// mask is 0.
type aValue struct {
	ld   load
	mask uint32
}

// regState is what is known of the registers where an instruction starts.
type regState struct {
	reached bool // some path reaches the instruction
	aKnown  bool
	a       aValue
	xKnown  bool // X holds the IPv4 header length
}

func (s *regState) merge(o regState) {
	if !s.reached {
		*s = o
		s.reached = true
		return
	}
	if !o.aKnown || s.a != o.a {
		s.aKnown = false
	}
	s.xKnown = s.xKnown && o.xKnown
}

func loadOf(ins bpf.Instruction) (load, bool) {
	switch ins := ins.(type) {
	case bpf.LoadAbsolute:
		return load{off: ins.Off, size: ins.Size}, true
	case bpf.LoadIndirect:
		return load{ind: true, off: ins.Off, size: ins.Size}, true
	}
	return load{}, false
}

// step returns the register state after plain instruction ins.
func step(s regState, ins bpf.Instruction) regState {
	if ld, ok := loadOf(ins); ok {
		s.aKnown, s.a = true, aValue{ld: ld}
		return s
	}
	switch ins := ins.(type) {
	case bpf.ALUOpConstant:
		if ins.Op == bpf.ALUOpAnd && s.aKnown && s.a.mask == 0 && ins.Val != 0 {
			s.a.mask = ins.Val
		} else {
			s.aKnown = false
		}
	case bpf.LoadMemShift:
		s.xKnown = true
	default:
		s.aKnown, s.xKnown = false, false
	}
	return s
}

// registerStates returns the register state where each item starts.
func (g *gen) registerStates(idx []int) []regState {
	state := make([]regState, len(g.items)+1)
	started := false
	for i, it := range g.items {
		if it.kind == iLabel {
			continue
		}
		if !started {
			state[i].reached, started = true, true
		}
		s := state[i]
		if !s.reached {
			continue
		}
		switch it.kind {
		case iPlain:
			state[g.nextInstruction(i)].merge(step(s, it.ins))
		case iCond:
			state[idx[it.jt]].merge(s)
			state[idx[it.jf]].merge(s)
		case iJump:
			state[idx[it.jt]].merge(s)
		}
	}
	return state
}

// fact is the known result of a comparison of a packet field: true on
// every path to some point of the program. Packet fields do not change,
// so a fact holds from the comparison on.
type fact struct {
	v    aValue
	cond bpf.JumpTest
	val  uint32
	res  bool
}

// factSet is a small set of facts; nil before any path has reached a point.
type factSet struct {
	reached bool
	facts   []fact
}

// merge intersects the set with the facts of another path.
func (fs *factSet) merge(o []fact) {
	if !fs.reached {
		fs.reached, fs.facts = true, o
		return
	}
	var kept []fact
	for _, f := range fs.facts {
		for _, g := range o {
			if f == g {
				kept = append(kept, f)
				break
			}
		}
	}
	fs.facts = kept
}

// maxFacts bounds the facts kept at a point of the program, so that huge
// expressions compile in reasonable time. Forgetting a fact is safe: it
// only leaves a comparison in the program.
const maxFacts = 32

// with returns facts plus f, without changing facts; past maxFacts it
// forgets the oldest.
func with(facts []fact, f fact) []fact {
	if len(facts) >= maxFacts {
		facts = facts[len(facts)-maxFacts+1:]
	}
	return append(facts[:len(facts):len(facts)], f)
}

// outcome returns the result of comparing v with val by cond, if facts
// decide it: the same comparison, or v known equal to a constant.
func outcome(facts []fact, v aValue, cond bpf.JumpTest, val uint32) (res, known bool) {
	for _, f := range facts {
		if f.v != v {
			continue
		}
		if f.cond == cond && f.val == val {
			return f.res, true
		}
		if f.cond == bpf.JumpEqual && f.res {
			switch cond {
			case bpf.JumpEqual:
				return f.val == val, true
			case bpf.JumpGreaterThan:
				return f.val > val, true
			case bpf.JumpGreaterOrEqual:
				return f.val >= val, true
			case bpf.JumpBitsSet:
				return f.val&val != 0, true
			}
		}
	}
	return false, false
}

// threadKnown points each conditional jump that leads to a comparison
// whose result the comparisons before it decide straight at that
// comparison's outcome, skipping the block that loads and compares. The
// skipped loads are of fields loaded before on every path, so they cannot
// fail, and the jump is threaded only where the registers then hold what
// the new target needs. It reports whether it changed anything.
func (g *gen) threadKnown() bool {
	idx := g.labelIndex()
	regs := g.registerStates(idx)
	facts := make([]factSet, len(g.items)+1)
	started := false
	changed := false
	for i := range g.items {
		it := &g.items[i]
		if it.kind == iLabel {
			continue
		}
		if !started {
			facts[i].reached, started = true, true
		}
		in := facts[i]
		if !in.reached {
			continue
		}
		switch it.kind {
		case iPlain:
			facts[g.nextInstruction(i)].merge(in.facts)
		case iJump:
			facts[idx[it.jt]].merge(in.facts)
		case iCond:
			tf, ff := in.facts, in.facts
			if regs[i].aKnown && !it.x {
				f := fact{v: regs[i].a, cond: it.cond, val: it.val, res: true}
				tf = with(in.facts, f)
				f.res = false
				ff = with(in.facts, f)
			}
			for _, e := range []struct {
				target *int
				facts  []fact
			}{{&it.jt, tf}, {&it.jf, ff}} {
				if l, ok := g.threadTarget(*e.target, e.facts, regs[i], idx, regs); ok {
					*e.target, changed = l, true
				}
				facts[idx[*e.target]].merge(e.facts)
			}
		}
	}
	return changed
}

// threadTarget returns where a jump to label l can go instead, given the
// facts and the register state on the jump: past as many comparisons as
// the facts decide, as far as the registers allow.
func (g *gen) threadTarget(l int, facts []fact, from regState, idx []int, regs []regState) (int, bool) {
	best, found := 0, false
	for hops := 0; hops < len(g.items); hops++ {
		next, ok := g.hop(l, facts, from, idx, regs)
		if !ok {
			break
		}
		l = next
		if from.aKnown && from.a == regs[idx[next]].a && regs[idx[next]].aKnown || !g.needsA(idx[next]) {
			best, found = next, true
		}
	}
	return best, found
}

// hop returns the label a jump to label l leads to when the facts decide
// the comparison there, provided that the instructions before it only
// load fields (loaded before on every path, as the facts on them show) or
// X where X is loaded already.
func (g *gen) hop(l int, facts []fact, from regState, idx []int, regs []regState) (int, bool) {
	loadsX := false
	j := idx[l]
	for ; j < len(g.items); j++ {
		it := g.items[j]
		if it.kind == iLabel {
			continue
		}
		if it.kind != iPlain {
			break
		}
		switch it.ins.(type) {
		case bpf.LoadAbsolute, bpf.LoadIndirect, bpf.ALUOpConstant:
		case bpf.LoadMemShift:
			loadsX = true
		default:
			return 0, false
		}
	}
	if j == len(g.items) || g.items[j].kind != iCond || g.items[j].x || !regs[j].aKnown || loadsX && !from.xKnown {
		return 0, false
	}
	d := g.items[j]
	res, known := outcome(facts, regs[j].a, d.cond, d.val)
	if !known {
		return 0, false
	}
	if res {
		return d.jt, true
	}
	return d.jf, true
}

// needsA reports whether the code from item i on may use the accumulator
// before it loads it.
func (g *gen) needsA(i int) bool {
	for ; i < len(g.items); i++ {
		it := g.items[i]
		switch it.kind {
		case iLabel:
			continue
		case iRet:
			return false
		case iPlain:
			if _, ok := loadOf(it.ins); ok {
				return false
			}
			if _, ok := it.ins.(bpf.LoadMemShift); ok {
				continue
			}
		}
		return true
	}
	return true
}

// dropRedundantLoads removes loads (and load-and-mask pairs) of a value
// the accumulator already holds on every path to them, and loads of X
// where X already holds the header length. Such a load cannot fail where
// the earlier one did not, so the program's result is unchanged, even for
// short packets. X only ever holds the IPv4 header length, the same value
// whichever instruction loaded it.
func (g *gen) dropRedundantLoads() {
	idx := g.labelIndex()
	state := make([]regState, len(g.items)+1)
	drop := make([]bool, len(g.items))
	started := false
	for i := 0; i < len(g.items); i++ {
		it := g.items[i]
		if it.kind == iLabel {
			continue
		}
		if !started {
			state[i].reached, started = true, true
		}
		s := state[i]
		if !s.reached {
			continue
		}
		switch it.kind {
		case iPlain:
			next := g.nextInstruction(i)
			ld, isLoad := loadOf(it.ins)
			_, isLoadX := it.ins.(bpf.LoadMemShift)
			switch {
			case isLoad && s.aKnown && s.a == aValue{ld: ld}, isLoadX && s.xKnown:
				drop[i] = true
			case isLoad && next == i+1 && next < len(g.items) && s.aKnown && s.a.ld == ld && s.a.mask != 0 &&
				g.items[next].ins == bpf.Instruction(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: s.a.mask}):
				drop[i], drop[next] = true, true
				state[g.nextInstruction(next)].merge(s)
				i = next
				continue
			default:
				s = step(s, it.ins)
			}
			state[next].merge(s)
		case iCond:
			state[idx[it.jt]].merge(s)
			state[idx[it.jf]].merge(s)
		case iJump:
			state[idx[it.jt]].merge(s)
		}
	}
	kept := g.items[:0]
	for i, it := range g.items {
		if !drop[i] {
			kept = append(kept, it)
		}
	}
	g.items = kept
}

// layout assigns positions, adding a trampoline (a copy of the return, or
// a jump) within reach of every conditional jump whose target is more than
// 255 instructions away, and returns the final program.
func (g *gen) layout() ([]bpf.Instruction, error) {
	for {
		if n := g.count(); n > MaxInstructions {
			return nil, tooLarge{n}
		}
		pos, lpos := g.positions()
		idx := g.labelIndex()
		inserted := false
		for i := 0; i < len(g.items) && !inserted; i++ {
			it := &g.items[i]
			if it.kind != iCond {
				continue
			}
			for _, target := range []*int{&it.jt, &it.jf} {
				if lpos[*target]-pos[i]-1 <= 255 {
					continue
				}
				if l, ok := g.findTrampoline(i, *target, pos, lpos, idx); ok {
					*target = l
					continue
				}
				g.insertTrampoline(i, target, idx)
				inserted = true
				break
			}
		}
		if !inserted {
			break
		}
	}
	pos, lpos := g.positions()
	prog := make([]bpf.Instruction, 0, g.count())
	for i, it := range g.items {
		switch it.kind {
		case iPlain:
			prog = append(prog, it.ins)
		case iRet:
			prog = append(prog, bpf.RetConstant{Val: it.val})
		case iJump:
			prog = append(prog, bpf.Jump{Skip: uint32(lpos[it.jt] - pos[i] - 1)})
		case iCond:
			skipT, skipF := uint8(lpos[it.jt]-pos[i]-1), uint8(lpos[it.jf]-pos[i]-1)
			if it.x {
				prog = append(prog, bpf.JumpIfX{Cond: it.cond, SkipTrue: skipT, SkipFalse: skipF})
			} else {
				prog = append(prog, bpf.JumpIf{Cond: it.cond, Val: it.val, SkipTrue: skipT, SkipFalse: skipF})
			}
		}
	}
	return prog, nil
}

// positions returns the program position of every item and of every label.
func (g *gen) positions() (pos, lpos []int) {
	pos = make([]int, len(g.items))
	lpos = make([]int, g.nlabels)
	n := 0
	for i, it := range g.items {
		pos[i] = n
		if it.kind == iLabel {
			lpos[it.jt] = n
		} else {
			n++
		}
	}
	return pos, lpos
}

// sameDestination reports whether trampoline tr leads where label l does.
func (g *gen) sameDestination(tr item, l int, lpos, idx []int) bool {
	dest := g.items[idx[l]]
	switch tr.kind {
	case iRet:
		return dest.kind == iRet && dest.val == tr.val
	case iJump:
		return lpos[tr.jt] == lpos[l]
	}
	return false
}

// findTrampoline looks for a trampoline within reach of the conditional
// jump at item i that leads to label target, and returns its label.
func (g *gen) findTrampoline(i, target int, pos, lpos, idx []int) (int, bool) {
	lastLabel := -1
	for j := i + 1; j < len(g.items) && pos[j]-pos[i]-1 <= 255; j++ {
		it := g.items[j]
		if it.kind == iLabel {
			lastLabel = it.jt
			continue
		}
		if it.tramp && lastLabel >= 0 && lpos[lastLabel] == pos[j] && g.sameDestination(it, target, lpos, idx) {
			return lastLabel, true
		}
		lastLabel = -1
	}
	return 0, false
}

// insertTrampoline puts a trampoline to *target right after the
// conditional jump at item i (nothing falls through to that place) and
// points *target at it.
func (g *gen) insertTrampoline(i int, target *int, idx []int) {
	dest := g.items[idx[*target]]
	tr := item{kind: iJump, jt: *target, tramp: true}
	if dest.kind == iRet {
		tr = item{kind: iRet, val: dest.val, tramp: true}
	}
	l := g.newLabel()
	*target = l
	g.items = append(g.items, item{}, item{})
	copy(g.items[i+3:], g.items[i+1:])
	g.items[i+1] = item{kind: iLabel, jt: l}
	g.items[i+2] = tr
}
