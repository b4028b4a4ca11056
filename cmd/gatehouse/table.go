package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// terminalWidth is the width the tables for people fit: a terminal of 120 columns shows
// them without wrapping. --wide prints every value whole instead.
const terminalWidth = 120

// table is rows of cells printed as aligned columns for people.
type table struct {
	header []string
	rows   [][]string
	// ids are the columns of ids and ARNs: they are narrowed first, since people read
	// the names in the other columns and the ids are whole with --wide and --json.
	ids []int
	// keep are columns never shortened (ids people copy into the next command).
	keep []int
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the table in at most width columns (no limit when width is 0): when the
// columns are too wide together, the widest are narrowed one at a time and their long
// values shortened in the middle with "…", which keeps both the kind of an id or ARN (its
// start) and its name (its end). It reports whether a value was shortened.
func (t *table) write(w io.Writer, width int) (shortened bool, err error) {
	const gap = 2
	n := len(t.header)
	widths := make([]int, n)
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := func() int {
		s := gap * (n - 1)
		for _, x := range widths {
			s += x
		}
		return s
	}
	// widest returns the widest of the columns wider than floor, or -1.
	widest := func(cols []int, floor int) int {
		w := -1
		for _, i := range cols {
			if widths[i] > floor && (w < 0 || widths[i] > widths[w]) {
				w = i
			}
		}
		return w
	}
	var all []int
	for i := 0; i < n; i++ {
		if !slices.Contains(t.keep, i) {
			all = append(all, i)
		}
	}
	for width > 0 && total() > width {
		// Ids keep at least 24 characters, other values 12: below that a value says
		// nothing, and the table is then wider than asked.
		i := widest(t.ids, 24)
		if i < 0 {
			i = widest(all, 12)
		}
		if i < 0 {
			break
		}
		widths[i]--
	}
	line := func(cells []string) error {
		var b strings.Builder
		for i, c := range cells {
			if utf8.RuneCountInString(c) > widths[i] {
				c = shorten(c, widths[i])
				shortened = true
			}
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+gap))
			}
		}
		_, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		return err
	}
	if err := line(t.header); err != nil {
		return shortened, err
	}
	for _, r := range t.rows {
		if err := line(r); err != nil {
			return shortened, err
		}
	}
	return shortened, nil
}

// shorten cuts s to n runes with "…" in the middle, keeping a third of what fits from
// the start and the rest from the end, where ids and ARNs carry their names.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 2 {
		return string(r[:n])
	}
	head := (n - 1) / 3
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
