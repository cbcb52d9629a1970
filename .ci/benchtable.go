//go:build ignore

// benchtable reads benchstat's CSV output (-format csv) for the benchmarks
// of ./bench on standard input and prints Markdown tables: for time, each
// system's median divided by the floor's median of the same operation and
// depth, with benchstat's spread (the 95% confidence interval, as ± % of
// that median); for allocations, the median count per operation.
//
// Benchmarks are named Op/depth=D/sys=S. .ci/bench runs it.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// cell is one benchmark's summary in one unit.
type cell struct {
	median float64
	spread string // "±3%", or "" when benchstat gave none
}

// row is one operation at one depth.
type row struct{ op, depth string }

var nameRE = regexp.MustCompile(`^([^/]+)/depth=([^/]+)/sys=(.+?)(-\d+)?$`)

func main() {
	units := map[string]map[row]map[string]cell{}
	var rows []row
	var syss []string
	unit := ""
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) < 2 {
			continue
		}
		if f[0] == "" {
			if len(f) == 3 && f[2] == "CI" {
				unit = f[1]
			}
			continue
		}
		m := nameRE.FindStringSubmatch(f[0])
		if m == nil || unit == "" {
			continue // geomean, headers
		}
		med, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		r := row{m[1], m[2]}
		if units[unit] == nil {
			units[unit] = map[row]map[string]cell{}
		}
		if units[unit][r] == nil {
			units[unit][r] = map[string]cell{}
			if !slices.Contains(rows, r) {
				rows = append(rows, r)
			}
		}
		c := cell{median: med}
		if len(f) > 2 && f[2] != "" && f[2] != "∞" {
			c.spread = "±" + f[2]
		}
		units[unit][r][m[3]] = c
		if !slices.Contains(syss, m[3]) {
			syss = append(syss, m[3])
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	times := units["sec/op"]
	if times == nil {
		fmt.Fprintln(os.Stderr, "benchtable: no sec/op figures on standard input")
		os.Exit(1)
	}
	// The floor is the divisor, so its own column shows its time instead.
	cols := slices.DeleteFunc(slices.Clone(syss), func(s string) bool { return s == "floor" })

	fmt.Println("Time: median / floor's median (same operation and depth), ± benchstat's 95% interval.")
	fmt.Println()
	header(cols, "floor")
	for _, r := range rows {
		fl, ok := times[r]["floor"]
		if !ok {
			continue
		}
		line := []string{r.op, r.depth, fmt.Sprintf("%s %s", dur(fl.median), fl.spread)}
		for _, s := range cols {
			c, ok := times[r][s]
			if !ok {
				line = append(line, "")
				continue
			}
			line = append(line, strings.TrimSpace(fmt.Sprintf("%.2f %s", c.median/fl.median, c.spread)))
		}
		fmt.Println("| " + strings.Join(line, " | ") + " |")
	}
	// Then allocations and the benchmarks' own metrics (eagain/op...),
	// as medians.
	var others []string
	for u := range units {
		if u != "sec/op" && u != "B/op" && u != "allocs/op" {
			others = append(others, u)
		}
	}
	slices.Sort(others)
	for _, u := range append([]string{"allocs/op"}, others...) {
		per := units[u]
		if per == nil {
			continue
		}
		fmt.Println()
		fmt.Printf("%s (median).\n", u)
		fmt.Println()
		header(cols, "floor")
		for _, r := range rows {
			if per[r] == nil {
				continue
			}
			line := []string{r.op, r.depth}
			for _, s := range append([]string{"floor"}, cols...) {
				c, ok := per[r][s]
				if !ok {
					line = append(line, "")
					continue
				}
				line = append(line, strconv.FormatFloat(c.median, 'g', 4, 64))
			}
			fmt.Println("| " + strings.Join(line, " | ") + " |")
		}
	}
}

func header(cols []string, first string) {
	h := append([]string{"op", "depth", first}, cols...)
	fmt.Println("| " + strings.Join(h, " | ") + " |")
	fmt.Println("|" + strings.Repeat("---|", len(h)))
}

// dur prints seconds as ns or µs.
func dur(s float64) string {
	switch ns := s * 1e9; {
	case ns < 10000:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e7:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	}
}
