package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
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
	raw    []string // the arguments parsed
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

// usageReport is the JSON object printed for a usage error when --json
// was among the arguments: a script that asked for JSON gets JSON,
// whatever happens.
type usageReport struct {
	Command   string `json:"command"`
	Error     string `json:"error"`
	ErrorKind string `json:"error_kind"` // always "usage"
}

// wantsJSON reports whether --json (or -json) is among the flags of args,
// read as parseArgs reads them: for a command line that did not parse.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "-json" {
			return true
		}
	}
	return false
}

// usageFail reports a usage error in cmd: on stderr, and also as one JSON
// object on stdout when the arguments asked for --json. It returns
// exitUsage.
func usageFail(cmd string, args []string, stdout, stderr io.Writer, format string, a ...any) int {
	msg := fmt.Sprintf(format, a...)
	if cmd != "" {
		msg = cmd + ": " + msg
	}
	usageError(stderr, "%s", msg)
	if wantsJSON(args) {
		_ = writeJSON(stdout, usageReport{Command: cmd, Error: msg, ErrorKind: "usage"})
	}
	return exitUsage
}

// helpReport is the JSON object printed for -h when --json was among the
// arguments too.
type helpReport struct {
	Command string `json:"command"`
	Help    string `json:"help"`
}

// writeHelp prints help on stdout, as text or, when args ask for --json,
// as one JSON object. It returns exitOK.
func writeHelp(cmd, help string, args []string, stdout io.Writer) int {
	if wantsJSON(args) {
		_ = writeJSON(stdout, helpReport{Command: cmd, Help: help})
		return exitOK
	}
	io.WriteString(stdout, help)
	return exitOK
}

// parseCommand parses the arguments of subcommand cmd, which takes exactly
// nargs positional arguments (what names them in the error). On -h it
// prints help, the subcommand's own usage; on a usage error it says so;
// either way it returns nil and the exit status for the caller to return.
func (fs flagSet) parseCommand(cmd, help string, args []string, nargs int, what string, stdout, stderr io.Writer) (*parsed, int) {
	p, err := fs.parseArgs(args)
	if errors.Is(err, errHelp) {
		return nil, writeHelp(cmd, help, args, stdout)
	}
	if err != nil {
		return nil, usageFail(cmd, args, stdout, stderr, "%v", err)
	}
	p.raw = args
	if len(p.args) != nargs {
		return nil, usageFail(cmd, args, stdout, stderr, "want %s, got %d argument(s)", what, len(p.args))
	}
	return p, exitOK
}

// trustIDs reads --trust-uid and --trust-gid, each given as often as
// wanted and each a number or a comma-separated list of numbers. On a bad
// id it reports a usage error for cmd and returns ok false.
func (p *parsed) trustIDs(cmd string, stdout, stderr io.Writer) (uids, gids []int, ok bool) {
	uids, gids = []int{}, []int{}
	for _, f := range []struct {
		flag string
		ids  *[]int
	}{{"trust-uid", &uids}, {"trust-gid", &gids}} {
		for _, v := range p.values[f.flag] {
			// "--trust-uid 1000,1001" as well as "--trust-uid 1000 --trust-uid 1001".
			for s := range strings.SplitSeq(v, ",") {
				id, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					usageFail(cmd, p.raw, stdout, stderr, "--%s wants a numeric id, not %q", f.flag, s)
					return nil, nil, false
				}
				*f.ids = append(*f.ids, int(id))
			}
		}
	}
	return uids, gids, true
}
