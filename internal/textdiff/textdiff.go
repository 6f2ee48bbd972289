// Package textdiff shows where two texts differ, for test failures: the
// first differing hunk, short enough to read in a test log.
package textdiff

import (
	"fmt"
	"strings"
)

// First shows the first place where want and got differ, as a
// unified-style hunk: a few lines of context, then the differing lines of
// each, up to a limit, then where they agree again.
func First(want, got string) string {
	const context, limit = 3, 12
	a, b := splitLines(want), splitLines(got)
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	// Trim the common tail, so the hunk holds only what differs.
	ea, eb := len(a), len(b)
	for ea > i && eb > i && a[ea-1] == b[eb-1] {
		ea, eb = ea-1, eb-1
	}
	var out strings.Builder
	fmt.Fprintf(&out, "@@ line %d @@\n", i+1)
	line := func(op byte, s string) {
		s = strings.TrimSuffix(s, "\n")
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		fmt.Fprintf(&out, "%c %s\n", op, s)
	}
	for k := max(0, i-context); k < i; k++ {
		line(' ', a[k])
	}
	for k := i; k < ea && k < i+limit; k++ {
		line('-', a[k])
	}
	if ea-i > limit {
		fmt.Fprintf(&out, "- … %d more lines\n", ea-i-limit)
	}
	for k := i; k < eb && k < i+limit; k++ {
		line('+', b[k])
	}
	if eb-i > limit {
		fmt.Fprintf(&out, "+ … %d more lines\n", eb-i-limit)
	}
	for k := ea; k < len(a) && k < ea+context; k++ {
		line(' ', a[k])
	}
	return out.String()
}

// splitLines splits s after each newline; a final newline ends the last
// line rather than starting an empty one.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
