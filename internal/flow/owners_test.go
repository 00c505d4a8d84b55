package flow

import (
	"fmt"
	"sync"
	"testing"
)

func TestOwnersInternAndReuse(t *testing.T) {
	o := NewOwners()
	a := o.Intern(Process{PID: 10, StartTime: 100, Name: "curl"})
	if again := o.Intern(Process{PID: 10, StartTime: 100, Name: "ignored"}); again != a {
		t.Fatalf("same process interned twice: %d then %d", a, again)
	}
	b := o.Intern(Process{PID: 10, StartTime: 200, Name: "sshd"})
	if b == a || b == Unresolved {
		t.Fatalf("a reused PID got owner %d (first process: %d)", b, a)
	}
	if p, ok := o.Lookup(a); !ok || p.Name != "curl" {
		t.Fatalf("Lookup(%d) = %+v, %v", a, p, ok)
	}
	if _, ok := o.Lookup(Unresolved); ok {
		t.Fatal("Unresolved looked up as an owner")
	}
	if id, ok := o.Find(10, 200); !ok || id != b {
		t.Fatalf("Find = %d, %v; want %d", id, ok, b)
	}
}

func TestOwnersFoldBounded(t *testing.T) {
	o := NewOwners()
	// Many processes of few programs fold into one row per program.
	var rows = map[Owner]string{}
	for i := range 1000 {
		id := o.Intern(Process{PID: 100 + i, StartTime: 1, Name: fmt.Sprintf("prog%d", i%3), UID: 7, User: "u"})
		into := o.Fold(id)
		if into == id {
			t.Fatalf("process %d not folded", i)
		}
		p, ok := o.Lookup(into)
		if !ok || !p.Exited || p.Name != fmt.Sprintf("prog%d", i%3) || p.PID != 0 {
			t.Fatalf("folded row %d = %+v, %v", into, p, ok)
		}
		rows[into] = p.Name
		if _, ok := o.Lookup(id); ok {
			t.Fatalf("folded process %d still registered", id)
		}
		if o.Fold(into) != into {
			t.Fatal("folding a folded row moved it")
		}
	}
	if len(rows) != 3 || o.Len() != 3 {
		t.Fatalf("%d folded rows, %d owners; want 3 and 3", len(rows), o.Len())
	}
	// Past MaxFolded programs, one shared row.
	for i := range 2 * MaxFolded {
		o.Fold(o.Intern(Process{PID: 5000 + i, StartTime: 1, Name: fmt.Sprintf("other%d", i)}))
	}
	if n := o.Len(); n != MaxFolded+1 {
		t.Fatalf("%d owners after folding %d programs; want MaxFolded+1 = %d", n, 2*MaxFolded+3, MaxFolded+1)
	}
}

// TestOwnersCgroups: cgroup owners are keyed by cgroup id apart from
// processes (a PID equal to a cgroup id is another owner), never fold,
// are forgotten when asked, and are bounded.
func TestOwnersCgroups(t *testing.T) {
	o := NewOwners()
	proc := o.Intern(Process{PID: 42, StartTime: 1, Name: "sshd"})
	svc := Process{Name: "ssh.service", Cgroup: "/system.slice/ssh.service", CgroupID: 42}
	cg, ok := o.InternCgroup(svc)
	if !ok || cg == proc || cg == Unresolved {
		t.Fatalf("cgroup 42 interned as %d, %v (process 42 is %d)", cg, ok, proc)
	}
	if again, _ := o.InternCgroup(Process{Name: "other", Cgroup: "/x", CgroupID: 42}); again != cg {
		t.Fatalf("same cgroup interned twice: %d then %d", cg, again)
	}
	if p, ok := o.Lookup(cg); !ok || !p.IsCgroup() || p.Name != "ssh.service" || p.PID != 0 {
		t.Fatalf("Lookup(%d) = %+v, %v", cg, p, ok)
	}
	if _, ok := o.InternCgroup(Process{Name: "no path", CgroupID: 7}); ok {
		t.Fatal("a cgroup owner without a path was registered")
	}
	if into := o.Fold(cg); into != cg {
		t.Fatalf("a cgroup owner folded into %d", into)
	}
	o.Forget(cg)
	if _, ok := o.Lookup(cg); ok {
		t.Fatal("forgotten cgroup owner still registered")
	}
	if p, ok := o.Lookup(proc); !ok || p.Name != "sshd" {
		t.Fatalf("forgetting cgroup 42 touched process 42: %+v, %v", p, ok)
	}
	if again, _ := o.InternCgroup(svc); again == cg {
		t.Fatal("a forgotten cgroup owner's number was handed out again")
	}
	for i := range 2 * MaxCgroups {
		o.InternCgroup(Process{Name: "s", Cgroup: "/s", CgroupID: uint64(1000 + i)})
	}
	if n := o.Len(); n != MaxCgroups+1 {
		t.Fatalf("%d owners after %d cgroups; want MaxCgroups+1 = %d", n, 2*MaxCgroups, MaxCgroups+1)
	}
}

// TestOwnersLabel: a labelled registry labels each process once, when it
// is registered, keeps a Label the caller gave, and folds a program's
// exited processes per container, so a container's totals stay with it.
func TestOwnersLabel(t *testing.T) {
	calls := map[int]int{}
	web := Label{Runtime: "docker", ID: "aa", Name: "web"}
	db := Label{Runtime: "docker", ID: "bb", Name: "db"}
	o := NewLabelledOwners(func(pid int) Label {
		calls[pid]++
		switch pid {
		case 10, 11:
			return web
		case 20:
			return db
		}
		return Label{}
	})
	a := o.Intern(Process{PID: 10, StartTime: 1, Name: "nginx"})
	o.Intern(Process{PID: 10, StartTime: 1, Name: "nginx"})
	b := o.Intern(Process{PID: 11, StartTime: 1, Name: "nginx"})
	c := o.Intern(Process{PID: 20, StartTime: 1, Name: "nginx"})
	given := Label{Runtime: LabelSystemd, ID: "ssh.service", Name: "ssh.service"}
	d := o.Intern(Process{PID: 30, StartTime: 1, Name: "sshd", Label: given})
	if calls[10] != 1 || calls[11] != 1 || calls[20] != 1 || calls[30] != 0 {
		t.Fatalf("label calls %v: want one per new process, none for a labelled one", calls)
	}
	for id, want := range map[Owner]Label{a: web, b: web, c: db, d: given} {
		if p, _ := o.Lookup(id); p.Label != want {
			t.Errorf("owner %d labelled %+v, want %+v", id, p.Label, want)
		}
	}
	fa, fb, fc := o.Fold(a), o.Fold(b), o.Fold(c)
	if fa != fb {
		t.Errorf("two exited nginx of one container folded apart: %d, %d", fa, fb)
	}
	if fa == fc {
		t.Errorf("exited nginx of two containers folded into one row %d", fa)
	}
	for id, want := range map[Owner]Label{fa: web, fc: db} {
		if p, _ := o.Lookup(id); !p.Exited || p.Label != want || p.Name != "nginx" {
			t.Errorf("folded row %d = %+v, want nginx exited in %+v", id, p, want)
		}
	}
	if plain := NewOwners(); plain.Intern(Process{PID: 10, StartTime: 1}) == Unresolved {
		t.Fatal("unlabelled registry")
	} else if p, _ := plain.Lookup(1); !p.Label.IsZero() {
		t.Errorf("registry without a labeller labelled %+v", p.Label)
	}
}

func TestLabelKey(t *testing.T) {
	for _, tt := range []struct {
		l                Label
		key, service     string
		container, empty bool
	}{
		{Label{}, "", "", false, true},
		{Label{Runtime: "docker", ID: "abc", Name: "web"}, "abc", "", true, false},
		{Label{Runtime: "cri", PodUID: "u-1", Name: "pod u-1"}, "pod:u-1", "", true, false},
		{Label{Runtime: LabelSystemd, ID: "ssh.service", Name: "ssh.service"}, "ssh.service", "ssh.service", false, false},
	} {
		if tt.l.Key() != tt.key || tt.l.Service() != tt.service || tt.l.Container() != tt.container || tt.l.IsZero() != tt.empty {
			t.Errorf("%+v: key %q service %q container %v zero %v", tt.l, tt.l.Key(), tt.l.Service(), tt.l.Container(), tt.l.IsZero())
		}
	}
}

// TestOwnersLabelConcurrent: attributors registering the same processes
// at once (the labeller runs outside the lock) get one owner per process,
// each labelled.
func TestOwnersLabelConcurrent(t *testing.T) {
	o := NewLabelledOwners(func(pid int) Label { return Label{Runtime: "docker", ID: fmt.Sprint(pid), Name: fmt.Sprint("c", pid)} })
	const workers, procs = 4, 200
	got := make([][procs]Owner, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range procs {
				got[w][i] = o.Intern(Process{PID: 1000 + i, StartTime: 1, Name: "p"})
			}
		}()
	}
	wg.Wait()
	for i := range procs {
		for w := 1; w < workers; w++ {
			if got[w][i] != got[0][i] {
				t.Fatalf("process %d registered as %d and %d", 1000+i, got[0][i], got[w][i])
			}
		}
		if p, _ := o.Lookup(got[0][i]); p.Label.ID != fmt.Sprint(1000+i) {
			t.Fatalf("process %d labelled %+v", 1000+i, p.Label)
		}
	}
	if o.Len() != procs {
		t.Errorf("%d owners, want %d", o.Len(), procs)
	}
}
