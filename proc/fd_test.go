package proc

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
)

func TestSocketInodesFixtures(t *testing.T) {
	tests := []struct {
		pid  int
		want []uint64 // sorted
	}{
		{100, []uint64{1001, 1001, 1003, 3001}}, // a duplicated descriptor counts twice
		{200, []uint64{5002}},                   // the other "socket:[...]" lookalikes are not sockets
		{2000, []uint64{2001, 2002, 4001}},
		{500, []uint64{6001, 6002}},
		{2, nil},   // kernel thread
		{300, nil}, // zombie
		{600, nil}, // no sockets
	}
	fsys := NewFS(fixtureRoot)
	for _, tc := range tests {
		var got []uint64
		if err := fsys.SocketInodes(tc.pid, func(_ int, inode uint64) { got = append(got, inode) }); err != nil {
			t.Errorf("SocketInodes(%d): %v", tc.pid, err)
			continue
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("SocketInodes(%d) = %v, want %v", tc.pid, got, tc.want)
		}
	}
}

func TestSocketInodesErrors(t *testing.T) {
	for _, pid := range []int{400, 999, 0, -5} {
		called := false
		err := NewFS(fixtureRoot).SocketInodes(pid, func(int, uint64) { called = true })
		if !errors.Is(err, ErrNoProcess) {
			t.Errorf("SocketInodes(%d): err %v, want ErrNoProcess", pid, err)
		}
		if errors.Is(err, fs.ErrPermission) {
			t.Errorf("SocketInodes(%d): err %v is a permission error", pid, err)
		}
		if called {
			t.Errorf("SocketInodes(%d): fn called", pid)
		}
	}
}

func TestParseSocketLink(t *testing.T) {
	tests := []struct {
		in    string
		inode uint64
		ok    bool
	}{
		{"socket:[51795]", 51795, true},
		{"socket:[0]", 0, true},
		{"socket:[18446744073709551615]", 1<<64 - 1, true},
		{"socket:[18446744073709551616]", 0, false},
		{"socket:[]", 0, false},
		{"socket:[12", 0, false},
		{"socket:[1a]", 0, false},
		{"socket:[-1]", 0, false},
		{"socket:[ 1]", 0, false},
		{"pipe:[123]", 0, false},
		{"anon_inode:[eventpoll]", 0, false},
		{"/dev/null", 0, false},
		{"/home/user/socket:[1]", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		inode, ok := parseSocketLink(tc.in)
		if inode != tc.inode || ok != tc.ok {
			t.Errorf("parseSocketLink(%q) = %d, %v; want %d, %v", tc.in, inode, ok, tc.inode, tc.ok)
		}
	}
}

func TestSocketAt(t *testing.T) {
	fsys := NewFS(fixtureRoot)
	tests := []struct {
		pid, fd int
		inode   uint64
		ok      bool
	}{
		{100, 3, 1001, true},
		{100, 4, 1003, true},
		{100, 6, 1001, true}, // a duplicate
		{100, 1, 0, false},   // a pipe
		{100, 5, 0, false},   // an anon inode
		{100, 99, 0, false},  // no such descriptor
		{100, -1, 0, false},
		{99999, 3, 0, false}, // no such process
		{-4, 3, 0, false},
	}
	for _, tc := range tests {
		inode, ok := fsys.SocketAt(tc.pid, tc.fd)
		if inode != tc.inode || ok != tc.ok {
			t.Errorf("SocketAt(%d, %d) = %d, %v; want %d, %v", tc.pid, tc.fd, inode, ok, tc.inode, tc.ok)
		}
	}
	// SocketInodes names the descriptors SocketAt reads.
	err := fsys.SocketInodes(100, func(fd int, inode uint64) {
		if at, ok := fsys.SocketAt(100, fd); !ok || at != inode {
			t.Errorf("SocketInodes reported fd %d as %d; SocketAt says %d, %v", fd, inode, at, ok)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
