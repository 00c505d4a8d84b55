package netlab

import (
	"fmt"
	"os/exec"
	"strings"
)

// RunIP runs `ip -n NS args...` (or plain `ip args...` when ns is "") and
// returns its output; the error carries the command and its output.
func RunIP(ns string, args ...string) (string, error) {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Exec runs a short command inside namespace ns (ip netns exec) and
// returns its output.
func Exec(ns string, argv ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip netns exec %s %s: %v: %s", ns, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
