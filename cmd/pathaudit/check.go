package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pathguard/pathguard/securepath"
)

var checkFlags = flagSet{
	bools:  []string{"json"},
	values: []string{"trust-uid", "trust-gid"},
}

// checkReport is what check found, printed as text or, with --json, as one
// JSON object.
type checkReport struct {
	Path        string       `json:"path"` // PATH, made absolute
	TrustedUIDs []int        `json:"trusted_uids"`
	TrustedGIDs []int        `json:"trusted_gids"`
	Secure      bool         `json:"secure"`
	Entries     []checkEntry `json:"entries"`
	Error       string       `json:"error,omitempty"`
	ErrorKind   string       `json:"error_kind,omitempty"` // "insecure", or see errorKind
}

// checkEntry is one directory of the walk (securepath.Entry).
type checkEntry struct {
	Path       string `json:"path"`
	UID        int    `json:"uid"`
	GID        int    `json:"gid"`
	Mode       string `json:"mode"`    // as fs.FileMode prints it: "dtrwxrwxrwx"
	Perm       string `json:"perm"`    // the permission bits with sticky, setuid, setgid, in octal
	Verdict    string `json:"verdict"` // "secure" or "insecure"
	Reason     string `json:"reason,omitempty"`
	DefaultACL bool   `json:"default_acl"`
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	p, code := checkFlags.parseCommand("check", checkHelp, args, 1, "one PATH", stdout, stderr)
	if p == nil {
		return code
	}
	rep := checkReport{Path: p.args[0], Entries: []checkEntry{}}
	var ok bool
	if rep.TrustedUIDs, rep.TrustedGIDs, ok = p.trustIDs("check", stdout, stderr); !ok {
		return exitUsage
	}
	// The path comes from the auditor, not from the people audited: making
	// it absolute against the working directory is what the auditor means.
	if abs, err := filepath.Abs(rep.Path); err == nil {
		rep.Path = abs
	}

	report, err := securepath.Check(rep.Path, &securepath.Policy{TrustedUIDs: rep.TrustedUIDs, TrustedGIDs: rep.TrustedGIDs})
	switch {
	case err != nil:
		rep.Error = err.Error()
		rep.ErrorKind = errorKind(err)
	default:
		for _, e := range report.Entries {
			rep.Entries = append(rep.Entries, checkEntry{
				Path:       e.Path,
				UID:        e.UID,
				GID:        e.GID,
				Mode:       e.Mode.String(),
				Perm:       fmt.Sprintf("%04o", unixPerm(e.Mode)),
				Verdict:    e.Verdict.String(),
				Reason:     reason(e, rep.TrustedUIDs, rep.TrustedGIDs),
				DefaultACL: e.DefaultACL,
			})
		}
		if err := report.Err(); err != nil {
			rep.Error = err.Error()
			rep.ErrorKind = "insecure"
		} else {
			rep.Secure = true
		}
	}

	if !emit(p.bools["json"], &rep, stdout, stderr) {
		return exitError
	}
	switch {
	case err != nil:
		return exitError // no verdict: PATH could not be walked
	case !rep.Secure:
		return exitFail
	}
	return exitOK
}

// reason says why e got its verdict. securepath gives a reason for an
// insecure directory and notes for some secure ones; a secure verdict is
// explained here from the entry's owner and mode, by the rules Check
// applied ("sticky, owner root"), with securepath's notes after it.
func reason(e securepath.Entry, uids, gids []int) string {
	if e.Verdict != securepath.Secure {
		return e.Reason
	}
	var why []string
	if e.Mode&fs.ModeSticky != 0 && e.Mode&0o022 != 0 {
		why = append(why, "sticky")
	}
	switch {
	case e.UID == 0:
		why = append(why, "owner root")
	case e.UID == os.Geteuid():
		why = append(why, fmt.Sprintf("owner uid %d (the effective uid)", e.UID))
	case slices.Contains(uids, e.UID):
		why = append(why, fmt.Sprintf("owner uid %d (trusted)", e.UID))
	default:
		why = append(why, fmt.Sprintf("owner uid %d", e.UID))
	}
	switch {
	case e.Mode&fs.ModeSticky != 0 && e.Mode&0o002 != 0:
		why = append(why, "others may add and remove their own entries, not the one passed through")
	case e.Mode&0o020 != 0 && slices.Contains(gids, e.GID):
		why = append(why, fmt.Sprintf("writable by trusted group %d", e.GID))
	case e.Mode&0o022 == 0:
		why = append(why, "only the owner may write")
	}
	if e.Reason != "" {
		why = append(why, e.Reason)
	}
	return strings.Join(why, ", ")
}

// unixPerm returns the permission bits of m with setuid, setgid and
// sticky at their Unix places (fs.FileMode keeps them in high bits).
func unixPerm(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// writeText prints rep as a table, one directory a line, from "/" down,
// and the verdict last.
func (rep *checkReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "path:    %s\n", show(rep.Path))
	trusted := "root and the effective uid"
	if len(rep.TrustedUIDs) > 0 {
		trusted += fmt.Sprintf(", uids %v", rep.TrustedUIDs)
	}
	if len(rep.TrustedGIDs) > 0 {
		trusted += fmt.Sprintf(", gids %v", rep.TrustedGIDs)
	} else {
		trusted += ", no group"
	}
	fmt.Fprintf(w, "trusted: %s\n", trusted)
	if len(rep.Entries) > 0 {
		fmt.Fprintf(w, "%-8s %-11s %4s %6s %6s  %s\n", "VERDICT", "MODE", "PERM", "UID", "GID", "PATH")
	}
	for _, e := range rep.Entries {
		fmt.Fprintf(w, "%-8s %-11s %4s %6d %6d  %s", e.Verdict, e.Mode, e.Perm, e.UID, e.GID, show(e.Path))
		if e.Reason != "" {
			fmt.Fprintf(w, ": %s", show(e.Reason))
		}
		w.Write([]byte("\n"))
	}
	if rep.Secure {
		fmt.Fprintln(w, "result:  secure")
		return
	}
	fmt.Fprintf(w, "result:  %s\n", show(rep.Error))
}
