package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"
)

// writeJSON writes v as indented JSON in which every character a terminal
// could act on is escaped. encoding/json escapes only control characters
// below U+0020 (and U+2028, U+2029), so names an attacker chose could
// still carry U+009B (an 8-bit CSI) or U+202E (a right-to-left override)
// to the auditor's screen. Such characters can only stand inside JSON
// strings, where \uXXXX means the same character: the output is the same
// JSON value.
func writeJSON(w io.Writer, v any) error {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	var out strings.Builder
	for _, r := range buf.String() {
		if r < unicode.MaxASCII || unicode.IsGraphic(r) && r != unicode.ReplacementChar {
			out.WriteRune(r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		fmt.Fprintf(&out, `\u%04x`, r)
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// emit prints rep on stdout, as one JSON object when asJSON, else as its
// text. A failure to write is reported on stderr, and emit returns false:
// the caller exits with exitError, there being no verdict anyone saw.
func emit(asJSON bool, rep interface{ writeText(io.Writer) }, stdout, stderr io.Writer) bool {
	if !asJSON {
		rep.writeText(stdout)
		return true
	}
	if err := writeJSON(stdout, rep); err != nil {
		fmt.Fprintf(stderr, "pathaudit: %v\n", err)
		return false
	}
	return true
}
