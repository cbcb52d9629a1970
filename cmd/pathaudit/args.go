package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// errHelp is returned by parseArgs when -h or --help is among the flags.
var errHelp = errors.New("help requested")

// flagSet describes the flags of one subcommand: the names of boolean
// flags and of flags that take a value, without dashes.
type flagSet struct {
	bools  []string
	values []string
}

// parsed is what parseArgs found: the positional arguments in order, the
// boolean flags given, and the values given (the last one wins).
type parsed struct {
	args   []string
	bools  map[string]bool
	values map[string][]string
}

// parseArgs reads flags wherever they appear among args, unlike the flag
// package, which stops at the first positional argument: an auditor
// appends "--json" to a command line as readily as he prepends it.
// A flag is "-name" or "--name"; a value is "--name=v" or "--name v".
// "--" ends the flags, so a PATH that starts with "-" can be given.
func (fs flagSet) parseArgs(args []string) (*parsed, error) {
	p := &parsed{bools: map[string]bool{}, values: map[string][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.args = append(p.args, args[i+1:]...)
			break
		}
		// "-" alone is an argument (a file named "-"), as with most tools.
		if len(a) < 2 || a[0] != '-' {
			p.args = append(p.args, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, value, hasValue := strings.Cut(name, "=")
		switch {
		case name == "h" || name == "help":
			return nil, errHelp
		case slices.Contains(fs.bools, name):
			if hasValue {
				return nil, fmt.Errorf("flag --%s takes no value", name)
			}
			p.bools[name] = true
		case slices.Contains(fs.values, name):
			if !hasValue {
				if i+1 == len(args) {
					return nil, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			p.values[name] = append(p.values[name], value)
		default:
			return nil, fmt.Errorf("unknown flag %s", a)
		}
	}
	return p, nil
}

// last returns the last value given for the flag name, or def.
func (p *parsed) last(name, def string) string {
	if v := p.values[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return def
}

// usageError prints a usage error and a pointer to the help.
func usageError(stderr io.Writer, format string, a ...any) {
	fmt.Fprintf(stderr, "pathaudit: "+format+"\n", a...)
	fmt.Fprintln(stderr, "run 'pathaudit -h' for usage")
}

// parseCommand parses the arguments of subcommand cmd, which takes exactly
// nargs positional arguments (what names them in the error). On -h it
// prints the usage, on a usage error it says so; either way it returns
// nil and the exit status for the caller to return.
func (fs flagSet) parseCommand(cmd string, args []string, nargs int, what string, stdout, stderr io.Writer) (*parsed, int) {
	p, err := fs.parseArgs(args)
	if errors.Is(err, errHelp) {
		io.WriteString(stdout, usage)
		return nil, exitOK
	}
	if err != nil {
		usageError(stderr, "%s: %v", cmd, err)
		return nil, exitUsage
	}
	if len(p.args) != nargs {
		usageError(stderr, "%s: want %s, got %d argument(s)", cmd, what, len(p.args))
		return nil, exitUsage
	}
	return p, exitOK
}
