package main

import (
	"fmt"
	"strings"
)

// option describes one command-line option: a short letter, a long name, or
// both. set receives the value for options that take one, "" otherwise.
type option struct {
	short    byte
	long     string
	hasValue bool
	set      func(value string) error
}

// usageError is a command-line mistake: the message names what was wrong.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseArgs applies args to opts with getopt rules, as nethogs users expect:
// short flags group (-tC), values attach (-v3) or follow (-v 3), long options
// take --name=value or --name value, "--" ends the options, and options may
// come after operands (GNU permutation). It returns the operands.
func parseArgs(args []string, opts []option) ([]string, error) {
	var operands []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return append(operands, args[i+1:]...), nil
		case strings.HasPrefix(arg, "--"):
			name, value, hasEq := strings.Cut(arg[2:], "=")
			o := findLong(opts, name)
			if o == nil {
				return nil, usagef("unknown option %q", "--"+name)
			}
			if !o.hasValue {
				if hasEq {
					return nil, usagef("option --%s takes no value", o.long)
				}
				value = ""
			} else if !hasEq {
				if i+1 >= len(args) {
					return nil, usagef("option --%s needs a value", o.long)
				}
				i++
				value = args[i]
			}
			if err := o.set(value); err != nil {
				return nil, err
			}
		case len(arg) > 1 && arg[0] == '-':
			for j := 1; j < len(arg); j++ {
				o := findShort(opts, arg[j])
				if o == nil {
					return nil, usagef("unknown option -%s", printableByte(arg[j]))
				}
				if !o.hasValue {
					if err := o.set(""); err != nil {
						return nil, err
					}
					continue
				}
				value := arg[j+1:]
				if value == "" {
					if i+1 >= len(args) {
						return nil, usagef("option -%c needs a value", arg[j])
					}
					i++
					value = args[i]
				}
				if err := o.set(value); err != nil {
					return nil, err
				}
				break
			}
		default:
			operands = append(operands, arg)
		}
	}
	return operands, nil
}

func findShort(opts []option, c byte) *option {
	for i := range opts {
		if opts[i].short != 0 && opts[i].short == c {
			return &opts[i]
		}
	}
	return nil
}

func findLong(opts []option, name string) *option {
	for i := range opts {
		if opts[i].long != "" && opts[i].long == name {
			return &opts[i]
		}
	}
	return nil
}

// printableByte shows a byte from the command line safely in a message.
func printableByte(c byte) string {
	if c >= 0x21 && c < 0x7f {
		return string(c)
	}
	return fmt.Sprintf("\\x%02x", c)
}
