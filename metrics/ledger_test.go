package metrics

import (
	"math/rand/v2"
	"testing"
	"time"

	"hogs/internal/flow"
)

func newTestLedger(t *testing.T, cfg Config) *ledger {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e.ledger
}

// shown is what the ledger's series show, by group.
func shown(l *ledger) map[groupKey]pair {
	m := map[groupKey]pair{}
	for _, g := range l.exposed {
		m[g.key] = g.counted
	}
	return m
}

// checkMonotonic fails if a series present in both before and after
// decreased.
func checkMonotonic(t *testing.T, step int, before, after map[groupKey]pair) {
	t.Helper()
	for k, a := range after {
		b, ok := before[k]
		if !ok {
			continue
		}
		if a.sent.Bytes < b.sent.Bytes || a.recv.Bytes < b.recv.Bytes || a.sent.Packets < b.sent.Packets || a.recv.Packets < b.recv.Packets {
			t.Fatalf("step %d: %s decreased: %+v -> %+v", step, k.labels(), b, a)
		}
	}
}

func bytesOf(p pair) [2]uint64 { return [2]uint64{p.sent.Bytes, p.recv.Bytes} }

func TestLedgerFoldIntoExitedRow(t *testing.T) {
	s := newSim(DefaultGroupBy)
	l := newTestLedger(t, Config{})
	curl := groupKey{kind: kindProcess, program: "curl", user: "alice"}

	a := s.process(10, "/usr/bin/curl", "alice")
	k := s.open(a, flow.TCP)
	s.send(k, 1000, 5000)
	l.add(s.view())
	s.retire(k) // the process's flow ends...
	l.add(s.view())
	s.fold(a) // ...then the process: its row becomes curl's exited row
	l.add(s.view())
	if got := bytesOf(shown(l)[curl]); got != [2]uint64{1000, 5000} {
		t.Fatalf("after the fold curl shows %v, want [1000 5000] (counted once)", got)
	}
	// A second curl: its traffic adds; when it folds into the same exited
	// row, nothing is counted twice.
	b := s.process(11, "curl", "alice")
	k2 := s.open(b, flow.TCP)
	s.send(k2, 10, 20)
	l.add(s.view())
	s.send(k2, 1, 2)
	s.fold(b) // live flow and all move to the exited row
	l.add(s.view())
	s.retire(k2)
	l.add(s.view())
	if got := bytesOf(shown(l)[curl]); got != [2]uint64{1011, 5022} {
		t.Fatalf("curl shows %v, want [1011 5022]", got)
	}
}

func TestLedgerOwnerChange(t *testing.T) {
	s := newSim(DefaultGroupBy)
	l := newTestLedger(t, Config{})
	k := s.open(flow.Unresolved, flow.TCP)
	s.send(k, 700, 300)
	l.add(s.view())
	p := s.process(20, "nginx", "www")
	s.setOwner(k, p) // resolved late: the flow's history moves to nginx's row
	s.send(k, 1, 1)
	l.add(s.view())
	if n := bytesOf(shown(l)[groupKey{kind: kindProcess, program: "nginx", user: "www"}]); n != [2]uint64{0, 0} {
		t.Errorf("nginx's new series starts at %v, want [0 0] (its traffic shows from the next scrape)", n)
	}
	l.add(s.view())
	got := shown(l)
	if u := bytesOf(got[groupKey{kind: kindUnknown}]); u != [2]uint64{700, 300} {
		t.Errorf("unknown shows %v, want [700 300] (it saw them first, and keeps them)", u)
	}
	if n := bytesOf(got[groupKey{kind: kindProcess, program: "nginx", user: "www"}]); n != [2]uint64{1, 1} {
		t.Errorf("nginx shows %v, want [1 1] (only what came after it took the flow)", n)
	}
}

func TestLedgerKeyReused(t *testing.T) {
	s := newSim(DefaultGroupBy)
	l := newTestLedger(t, Config{})
	p := s.process(30, "dig", "bob")
	k := s.open(p, flow.UDP)
	s.send(k, 100, 100)
	l.add(s.view())
	s.retire(k)
	// The same 5-tuple again, a new flow with a later start.
	f := *s.flows[s.open(p, flow.UDP)]
	delete(s.flows, f.stat.Key)
	f.stat.Key = k
	s.flows[k] = &f
	s.send(k, 40, 50)
	l.add(s.view())
	if got := bytesOf(shown(l)[groupKey{kind: kindProcess, program: "dig", user: "bob"}]); got != [2]uint64{140, 150} {
		t.Fatalf("dig shows %v, want [140 150]", got)
	}
}

// TestLedgerRandom drives the fake table through random resolutions,
// owner changes, retirements and folds of many short-lived processes,
// and checks after every view that no series decreased and that the
// counters are the truth: exactly, per group, when every group has its
// series; in total (other included) when MaxSeries folds some.
func TestLedgerRandom(t *testing.T) {
	for _, tc := range []struct {
		name      string
		by        GroupBy
		maxSeries int
		exact     bool
	}{
		{"default", DefaultGroupBy, 1000, true},
		{"program", LabelProgram, 1000, true},
		{"pid", LabelPID | LabelProgram, 5000, false}, // moved totals may change PIDs within a program
		{"capped", DefaultGroupBy, 8, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.maxSeries)))
			s := newSim(tc.by)
			l := newTestLedger(t, Config{GroupBy: tc.by, MaxSeries: tc.maxSeries, IdleAfter: time.Hour})
			var live []flow.Owner
			pid := 100
			before := shown(l)
			for step := range 300 {
				for range 1 + rng.IntN(8) {
					switch op := rng.IntN(10); {
					case op < 2 || len(live) == 0: // a new process
						pid++
						live = append(live, s.process(pid, progName(rng.IntN(20)), []string{"root", "alice", "bob"}[rng.IntN(3)]))
					case op < 3: // a process exits
						i := rng.IntN(len(live))
						s.fold(live[i])
						live = append(live[:i], live[i+1:]...)
					case op < 5: // a new flow, maybe not resolved yet
						o := flow.Unresolved
						if rng.IntN(3) > 0 {
							o = live[rng.IntN(len(live))]
						}
						s.open(o, []uint8{flow.TCP, flow.UDP}[rng.IntN(2)])
					case op < 6 && len(s.flows) > 0: // an owner found or changed
						for k := range s.flows {
							s.setOwner(k, live[rng.IntN(len(live))])
							break
						}
					case op < 7 && len(s.flows) > 0:
						for k := range s.flows {
							s.retire(k)
							break
						}
					}
				}
				for k := range s.flows {
					if rng.IntN(2) == 0 {
						s.send(k, uint64(rng.IntN(1500)), uint64(rng.IntN(9000)))
					}
				}
				v := s.view()
				l.add(v)
				after := shown(l)
				checkMonotonic(t, step, before, after)
				before = after
				if len(l.exposed) > tc.maxSeries {
					t.Fatalf("step %d: %d groups with series, limit %d", step, len(l.exposed), tc.maxSeries)
				}
				var sum pair
				for _, g := range l.groups {
					// What a series shows plus what its first scrape held
					// back (carry) is what it owes.
					owed := g.counted.add(g.carry)
					for _, rs := range l.rows { // an unknown row's gain, counted a view late
						if rs.pool == g.key.poolKey() {
							owed = owed.add(rs.lagged)
						}
					}
					sum = sum.add(owed)
					if tc.exact && owed != s.truth[g.key] {
						t.Fatalf("step %d: %s counted %+v + %+v, truth %+v", step, g.labels, g.counted, g.carry, s.truth[g.key])
					}
				}
				sum = sum.add(l.other.counted)
				if sum != s.total {
					t.Fatalf("step %d: all groups count %+v, traffic was %+v", step, sum, s.total)
				}
			}
			if tc.name == "capped" && l.other.counted.sent.Bytes == 0 {
				t.Fatal("capped run never folded a group into other")
			}
		})
	}
}

func TestLedgerIdleGroupsLoseSeries(t *testing.T) {
	s := newSim(DefaultGroupBy)
	l := newTestLedger(t, Config{IdleAfter: 5 * time.Second})
	k := s.open(s.process(40, "rsync", "root"), flow.TCP)
	s.send(k, 10, 10)
	l.add(s.view())
	rsync := groupKey{kind: kindProcess, program: "rsync", user: "root"}
	if _, ok := shown(l)[rsync]; !ok {
		t.Fatal("rsync has no series")
	}
	for range 6 {
		l.add(s.view())
	}
	if _, ok := shown(l)[rsync]; ok {
		t.Fatal("rsync still has series after 6 s idle (IdleAfter 5 s)")
	}
	s.send(k, 5, 5)
	l.add(s.view())
	if got := bytesOf(shown(l)[rsync]); got != [2]uint64{10, 10} {
		t.Fatalf("rsync back with %v, want [10 10] (resumed where it stopped; the new 5 come with the next scrape)", got)
	}
	l.add(s.view())
	if got := bytesOf(shown(l)[rsync]); got != [2]uint64{15, 15} {
		t.Fatalf("rsync then shows %v, want [15 15]", got)
	}
}

func TestLedgerCapFoldsSmallest(t *testing.T) {
	s := newSim(DefaultGroupBy)
	l := newTestLedger(t, Config{MaxSeries: 4}) // other and unknown leave room for two
	for i, n := range []uint64{5000, 100, 3000} {
		k := s.open(s.process(50+i, progName(i), "u"), flow.TCP)
		s.send(k, n, 0)
	}
	l.add(s.view())
	got := shown(l)
	if _, ok := got[groupKey{kind: kindProcess, program: "prog1", user: "u"}]; ok {
		t.Errorf("the smallest group has a series: %v", got)
	}
	for _, p := range []string{"prog0", "prog2"} {
		if _, ok := got[groupKey{kind: kindProcess, program: p, user: "u"}]; !ok {
			t.Errorf("%s has no series", p)
		}
	}
	if o := got[groupKey{kind: kindOther}].sent.Bytes; o != 100 {
		t.Errorf("other counts %d, want 100", o)
	}
}

// TestLedgerContainerLabel: by default the container label is the name
// a process's Label gives (a container's or a service's), and a
// container's process that exits folds into an exited row of the same
// container, so the container's series never decreases and is counted
// once.
func TestLedgerContainerLabel(t *testing.T) {
	s := newSim(DefaultGroupBy)
	s.owners = flow.NewLabelledOwners(func(pid int) flow.Label {
		switch pid {
		case 10:
			return flow.Label{Runtime: "docker", ID: "aa", Name: "web"}
		case 11:
			return flow.Label{Runtime: "docker", ID: "bb", Name: "db"}
		case 12:
			return flow.Label{Runtime: flow.LabelSystemd, ID: "ssh.service", Name: "ssh.service"}
		}
		return flow.Label{}
	})
	l := newTestLedger(t, Config{})
	web := groupKey{kind: kindProcess, program: "nginx", user: "alice", container: "web"}
	db := groupKey{kind: kindProcess, program: "nginx", user: "alice", container: "db"}
	ssh := groupKey{kind: kindProcess, program: "sshd", user: "alice", container: "ssh.service"}
	host := groupKey{kind: kindProcess, program: "nginx", user: "alice"}
	a, b, c, d := s.process(10, "nginx", "alice"), s.process(11, "nginx", "alice"), s.process(12, "sshd", "alice"), s.process(13, "nginx", "alice")
	for i, o := range []flow.Owner{a, b, c, d} {
		s.send(s.open(o, flow.TCP), uint64(100*(i+1)), 1)
	}
	l.add(s.view())
	l.add(s.view())
	before := shown(l)
	for k, want := range map[groupKey]uint64{web: 100, db: 200, ssh: 300, host: 400} {
		if got := bytesOf(before[k])[0]; got != want {
			t.Errorf("%s sent %d, want %d (groups %v)", k.labels(), got, want, before)
		}
	}
	s.fold(a)
	s.fold(b)
	l.add(s.view())
	after := shown(l)
	checkMonotonic(t, 1, before, after)
	if bytesOf(after[web])[0] != 100 || bytesOf(after[db])[0] != 200 {
		t.Errorf("after the containers' processes exited: web %v, db %v; want 100, 200", bytesOf(after[web]), bytesOf(after[db]))
	}
}
