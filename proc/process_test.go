package proc

import (
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"testing"
)

func TestPIDs(t *testing.T) {
	want := []int{2, 100, 200, 300, 400, 500, 600, 700, 701, 2000}
	buf := make([]int, 0, 3)
	for round := 0; round < 2; round++ { // the second round reuses the first's storage
		var err error
		buf, err = NewFS(fixtureRoot).PIDs(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(buf, want) {
			t.Errorf("round %d: PIDs %v, want %v", round, buf, want)
		}
	}
	if _, err := NewFS("testdata/nonexistent").PIDs(nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: err %v, want fs.ErrNotExist", err)
	}
}

func TestParsePID(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1, true}, {"4194304", 4194304, true}, {"2147483647", 2147483647, true},
		{"2147483648", 0, false}, {"99999999999", 0, false}, {"0", 0, false}, {"0123", 0, false},
		{"", 0, false}, {"12a", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"self", 0, false},
	}
	for _, tc := range tests {
		if got, ok := parsePID(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("parsePID(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestProcessFixtures(t *testing.T) {
	tests := []struct {
		pid  int
		want Process
	}{
		{2, Process{PID: 2, Name: "kthreadd", Comm: "kthreadd", UID: 0, StartTime: 23}}, // kernel thread
		{100, Process{PID: 100, Name: "/usr/sbin/sshd", Comm: "sshd", Cmdline: []string{"/usr/sbin/sshd", "-D"}, UID: 0, StartTime: 1234, NSPID: 100}},
		{200, Process{PID: 200, Name: "./weird", Comm: "evil) (name x", Cmdline: []string{"./weird", "arg with space", ""}, UID: 1000, StartTime: 5000}},
		{300, Process{PID: 300, Name: "defunct", Comm: "defunct", UID: 1000, StartTime: 6000}},                                                                  // zombie
		{500, Process{PID: 500, Name: "nginx: worker process", Comm: "nginx", Cmdline: []string{"nginx: worker process"}, UID: 101, StartTime: 7000, NSPID: 7}}, // in a container's PID namespace
		// Raw bytes, and the real uid of a setuid process (effective 0).
		{600, Process{PID: 600, Name: "/tmp/\xff\xfe\x1b[31mevil", Comm: "bad\xffname", Cmdline: []string{"/tmp/\xff\xfe\x1b[31mevil", "--x"}, UID: 1000, StartTime: 8000}},
		{2000, Process{PID: 2000, Name: "/usr/lib/firefox/firefox", Comm: "firefox", Cmdline: []string{"/usr/lib/firefox/firefox", "-contentproc"}, UID: 1000, StartTime: 9000}},
	}
	fsys := NewFS(fixtureRoot)
	for _, tc := range tests {
		got, err := fsys.Process(tc.pid)
		if err != nil {
			t.Errorf("Process(%d): %v", tc.pid, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Process(%d):\n got %#v\nwant %#v", tc.pid, got, tc.want)
		}
		start, err := fsys.StartTime(tc.pid)
		if err != nil || start != tc.want.StartTime {
			t.Errorf("StartTime(%d) = %d, %v; want %d", tc.pid, start, err, tc.want.StartTime)
		}
	}
}

func TestProcessErrors(t *testing.T) {
	tests := []struct {
		name string
		pid  int
		is   []error
	}{
		{"vanished", 400, []error{ErrNoProcess, fs.ErrNotExist}},
		{"never there", 999, []error{ErrNoProcess, fs.ErrNotExist}},
		{"zero", 0, []error{ErrNoProcess}},
		{"negative", -1, []error{ErrNoProcess}},
		{"stat cut short", 700, []error{ErrMalformed}},
	}
	fsys := NewFS(fixtureRoot)
	for _, tc := range tests {
		_, err := fsys.Process(tc.pid)
		_, startErr := fsys.StartTime(tc.pid)
		for _, target := range tc.is {
			if !errors.Is(err, target) {
				t.Errorf("%s: Process error %v is not %v", tc.name, err, target)
			}
			if !errors.Is(startErr, target) {
				t.Errorf("%s: StartTime error %v is not %v", tc.name, startErr, target)
			}
		}
	}
	if _, err := fsys.Process(701); !errors.Is(err, ErrMalformed) || errors.Is(err, ErrNoProcess) {
		t.Errorf("status without Uid: err %v, want ErrMalformed", err)
	}
	if _, err := fsys.StartTime(701); err != nil {
		t.Errorf("StartTime(701) reads only stat: %v", err)
	}
}

func TestParseStat(t *testing.T) {
	const tail = " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242 20 21 22\n"
	tests := []struct {
		name  string
		in    string
		comm  string
		start uint64
		ok    bool
	}{
		{"plain", "1 (init)" + tail, "init", 4242, true},
		{"spaces and parens", "200 (evil) (name x)" + tail, "evil) (name x", 4242, true},
		{"closing paren last", "3 (a))" + tail, "a)", 4242, true},
		{"opening paren inside", "3 ((a)" + tail, "(a", 4242, true},
		{"empty comm", "3 ()" + tail, "", 4242, true},
		{"newline in comm", "3 (a\nb)" + tail, "a\nb", 4242, true},
		{"invalid UTF-8 and NUL", "3 (\xff\x00x)" + tail, "\xff\x00x", 4242, true},
		{"field 22 last, with newline", "3 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99\n", "a", 99, true},
		{"field 22 last, no newline", "3 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99", "a", 99, true},
		{"start time max", "3 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 18446744073709551615", "a", 1<<64 - 1, true},
		{"start time overflow", "3 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 18446744073709551616", "", 0, false},
		{"start time negative", "3 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -1", "", 0, false},
		{"field 21 last", "3 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n", "", 0, false},
		{"no closing paren", "3 (a S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242", "", 0, false},
		{"no opening paren", "3 a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 4242", "", 0, false},
		{"parens reversed", "3 )a(" + tail, "", 0, false},
		{"pid not a number", "x (a)" + tail, "", 0, false},
		{"no pid", "(a)" + tail, "", 0, false},
		{"empty", "", "", 0, false},
		{"only parens", "()", "", 0, false},
	}
	for _, tc := range tests {
		comm, start, ok := parseStat([]byte(tc.in))
		if string(comm) != tc.comm || start != tc.start || ok != tc.ok {
			t.Errorf("%s: parseStat = %q, %d, %v; want %q, %d, %v", tc.name, comm, start, ok, tc.comm, tc.start, tc.ok)
		}
	}
}

func TestParseStatusUID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		uid  uint32
		ok   bool
	}{
		{"real", "Name:\tsshd\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n", 1000, true},
		{"first line, no newline", "Uid:\t7\t7\t7\t7", 7, true},
		{"spaces", "Uid:   12 12 12 12\n", 12, true},
		{"max", "Uid:\t4294967295\t0\t0\t0\n", 1<<32 - 1, true},
		{"overflow", "Uid:\t4294967296\t0\t0\t0\n", 0, false},
		{"no Uid line", "Name:\tx\nGid:\t0\t0\t0\t0\n", 0, false},
		{"empty Uid line", "Uid:\n", 0, false},
		{"not a number", "Uid:\tabc\n", 0, false},
		{"key must start the line", "XUid:\t5\nUid:\t6\n", 6, true},
		{"first Uid line wins", "Uid:\t6\nUid:\t7\n", 6, true},
		{"lowercase key", "uid:\t5\n", 0, false},
		{"empty", "", 0, false},
	}
	for _, tc := range tests {
		uid, ok := parseStatusUID([]byte(tc.in))
		if uid != tc.uid || ok != tc.ok {
			t.Errorf("%s: parseStatusUID = %d, %v; want %d, %v", tc.name, uid, ok, tc.uid, tc.ok)
		}
	}
}

func TestParseStatusNSPID(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     int
	}{
		{"host", "Pid:\t4242\nNSpid:\t4242\nNgid:\t0\n", 4242},
		{"container", "NSpid:\t4242\t7\n", 7},
		{"nested, spaces, no newline", "NSpid: 4242 900   1", 1},
		{"no line (kernel < 4.1)", "Pid:\t4242\n", 0},
		{"empty line", "NSpid:\n", 0},
		{"not a number", "NSpid:\t4242\tx\n", 0},
		{"zero", "NSpid:\t4242\t0\n", 0},
		{"overflow", "NSpid:\t4242\t2147483648\n", 0},
		{"key must start the line", "XNSpid:\t5\nNSpid:\t6\n", 6},
		{"first line wins", "NSpid:\t6\nNSpid:\t7\n", 6},
	} {
		if got := parseStatusNSPID([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: parseStatusNSPID = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\x00", []string{""}},
		{"a", []string{"a"}},
		{"a\x00", []string{"a"}},
		{"/bin/sh\x00-c\x00echo hi\x00", []string{"/bin/sh", "-c", "echo hi"}},
		{"a\x00b", []string{"a", "b"}},
		{"a\x00\x00", []string{"a", ""}},
		{"\x00\x00", []string{"", ""}},
		{"\x00a\x00", []string{"", "a"}},
		{"sshd: alice [priv]", []string{"sshd: alice [priv]"}},
		{"\xff\xfe\x00\x1b", []string{"\xff\xfe", "\x1b"}},
	}
	for _, tc := range tests {
		got := parseCmdline([]byte(tc.in))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseCmdline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
