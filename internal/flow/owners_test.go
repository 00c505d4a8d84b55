package flow

import (
	"fmt"
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
