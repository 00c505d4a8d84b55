package metrics

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"hogs/internal/flow"
	"hogs/ui"
)

// GroupBy chooses the labels that tell groups apart: a set of the Label*
// bits. Traffic of rows with equal values of those labels adds up in one
// group.
type GroupBy uint8

// The labels a group can be told apart by.
const (
	LabelPID       GroupBy = 1 << iota // the process ID: one series per process (high cardinality)
	LabelProgram                       // the program's name (argv[0] without directory or arguments)
	LabelUser                          // the user name, or the UID when it has none
	LabelContainer                     // the container or service (Config.ContainerOf)
)

// DefaultGroupBy is program + user + container.
const DefaultGroupBy = LabelProgram | LabelUser | LabelContainer

var groupByNames = []struct {
	name string
	bits GroupBy
}{
	{"pid", LabelPID},
	{"process", LabelPID | LabelProgram},
	{"program", LabelProgram},
	{"user", LabelUser},
	{"container", LabelContainer},
}

// ParseGroupBy reads a comma-separated list of pid, process (pid and
// program), program, user and container: the --metrics-group flag.
func ParseGroupBy(s string) (GroupBy, error) {
	var g GroupBy
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		found := false
		for _, n := range groupByNames {
			if f == n.name {
				g |= n.bits
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("metrics group %q: want a comma-separated list of pid, process, program, user, container", f)
		}
	}
	if g == 0 {
		return 0, errors.New("metrics group: empty; want e.g. program,user,container")
	}
	return g, nil
}

// String lists the labels in ParseGroupBy's form.
func (g GroupBy) String() string {
	var parts []string
	for _, n := range groupByNames {
		if n.name != "process" && g&n.bits != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, ",")
}

// kind is what a group is: a label of every per-group series.
type kind uint8

const (
	kindProcess   kind = iota // one or more processes (or their exited row)
	kindUnknown               // traffic no process owns (the unknown TCP/UDP rows)
	kindForwarded             // traffic routed through the host (a pseudo row named "forwarded…")
	kindOther                 // the groups past MaxSeries, folded together
)

func (k kind) String() string {
	return [...]string{"process", "unknown", "forwarded", "other"}[k]
}

// groupKey identifies a group: its kind and the values of the labels
// GroupBy keeps (the others stay empty).
type groupKey struct {
	kind                     kind
	program, user, container string
	pid                      int
}

// poolKey is a group's key without the PID: the exited row a process
// folds into (PID 0) has the same pool key as the process had, so totals
// moved between them are recognised as moved (see ledger).
func (k groupKey) poolKey() groupKey {
	k.pid = 0
	return k
}

// maxLabelBytes bounds every label value taken from outside.
const maxLabelBytes = 64

// keyOf is the group row r belongs to.
func keyOf(r *ui.Row, by GroupBy, containerOf func(*flow.Process) string) groupKey {
	if r.Pseudo {
		if strings.Contains(strings.ToLower(r.Name), "forward") {
			return groupKey{kind: kindForwarded}
		}
		return groupKey{kind: kindUnknown}
	}
	k := groupKey{kind: kindProcess}
	if by&LabelProgram != 0 {
		k.program = labelValue(programName(r.Name))
	}
	if by&LabelUser != 0 {
		if r.User != "" {
			k.user = labelValue(r.User)
		} else {
			k.user = strconv.FormatUint(uint64(r.UID), 10)
		}
	}
	if by&LabelContainer != 0 && containerOf != nil {
		k.container = labelValue(containerOf(&r.Process))
	}
	if by&LabelPID != 0 && !r.Exited {
		k.pid = r.PID
	}
	return k
}

// programName is the program in a process's name (argv[0]): without its
// directory, and without what processes that rewrite their argv[0] append
// ("sshd: alice@pts/0", "postgres: checkpointer"), so one program is one
// label value.
func programName(name string) string {
	if i := strings.IndexAny(name, ": "); i > 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 && i < len(name)-1 {
		name = name[i+1:]
	}
	return name
}

// labelValue makes s fit for a label value: invalid UTF-8 replaced by
// U+FFFD, control characters by '?', at most maxLabelBytes bytes (cut at
// a character boundary). The exposition writer escapes what is left.
func labelValue(s string) string {
	clean := len(s) <= maxLabelBytes && utf8.ValidString(s)
	for i := 0; clean && i < len(s); i++ {
		clean = s[i] >= 0x20 && s[i] != 0x7f
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > maxLabelBytes {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// appendLabel appends name="value" with value escaped as both exposition
// formats want: backslash, double quote and line feed.
func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// labels renders the group's label set without braces, empty labels left
// out (Prometheus reads an empty label as an absent one).
func (k groupKey) labels() string {
	b := appendLabel(nil, "kind", k.kind.String())
	add := func(name, v string) {
		if v != "" {
			b = append(b, ',')
			b = appendLabel(b, name, v)
		}
	}
	add("program", k.program)
	add("user", k.user)
	add("container", k.container)
	if k.pid != 0 {
		add("pid", strconv.Itoa(k.pid))
	}
	return string(b)
}
