package proc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestUsersName(t *testing.T) {
	u := Users{PasswdPath: "testdata/etc/passwd"}
	tests := []struct {
		uid  uint32
		want string
	}{
		{0, "root"}, // the first entry of uid 0 wins over "toor"
		{1, "daemon"},
		{33, "www-data"},
		{101, "systemd-network"},
		{1000, "alice"},
		{65534, "nobody"},
		{4294967295, "short"}, // three fields are enough
		{55, "55"},            // its line has no name
		{100, "100"},          // its line has no uid
		{12345, "12345"},
	}
	for round := 0; round < 2; round++ { // the second round from the cache
		for _, tc := range tests {
			if got := u.Name(tc.uid); got != tc.want {
				t.Errorf("round %d: Name(%d) = %q, want %q", round, tc.uid, got, tc.want)
			}
		}
	}
}

func TestUsersMissingFile(t *testing.T) {
	u := Users{PasswdPath: "testdata/nonexistent/passwd"}
	if got := u.Name(0); got != "0" {
		t.Errorf("Name(0) = %q, want \"0\"", got)
	}
}

// A user added to the file after it was read is found; a removed file
// leaves numbers.
func TestUsersReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(path, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := Users{PasswdPath: path}
	if got := u.Name(4242); got != "4242" {
		t.Fatalf("Name(4242) = %q before the user exists", got)
	}
	if err := os.WriteFile(path, []byte("root:x:0:0::/root:/bin/sh\nbob:x:4242:4242::/home/bob:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := u.Name(4242); got != "bob" {
		t.Errorf("Name(4242) = %q after adding bob", got)
	}
	if got := u.Name(0); got != "root" {
		t.Errorf("Name(0) = %q after reload", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if got := u.Name(7); got != "7" {
		t.Errorf("Name(7) = %q without a file", got)
	}
	if got := u.Name(4242); got != "4242" {
		t.Errorf("Name(4242) = %q after the file was removed", got)
	}
}
