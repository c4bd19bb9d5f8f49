// Package contentfile reports what is wrong in course content files as
// "file:line: message", finding the file lines of YAML nodes and YAML errors.
package contentfile

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problems is every problem found in the content, each as "file:line:
// message", in the order the loader found them.
type Problems []string

func (p Problems) Error() string {
	return fmt.Sprintf("%d content problem(s):\n%s", len(p), strings.Join(p, "\n"))
}

// Add records a problem at line of file.
func (p *Problems) Add(file string, line int, format string, args ...any) {
	*p = append(*p, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
}

// position is the "line N: " yaml writes before each message. Only the
// start of a message counts: the rest may quote the author's text.
var position = regexp.MustCompile(`^line (\d+): ?`)

// messages splits a YAML error into its messages, without the "yaml: "
// prefix: one per field of a TypeError, else one.
func messages(err error) []string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return te.Errors
	}
	return []string{strings.TrimPrefix(err.Error(), "yaml: ")}
}

// ErrorLine returns the file line a YAML error points at, for YAML whose
// first line is line offset+1 of the file. An error without a line (yaml
// leaves out line 1 of the text, and some errors have none) points at the
// YAML's first line.
func ErrorLine(err error, offset int) int {
	if m := position.FindStringSubmatch(messages(err)[0]); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n + offset
	}
	return offset + 1
}

// ErrorText returns a YAML error's message without yaml's prefixes and
// line numbers, which are wrong outside the YAML text; the line belongs in
// the problem's file:line.
func ErrorText(err error) string {
	msgs := messages(err)
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if loc := position.FindStringIndex(m); loc != nil {
			m = m[loc[1]:]
		}
		out[i] = m
	}
	return strings.TrimSpace(strings.Join(out, "\n  "))
}

// NodeLine returns the file line of n, for YAML whose first line is line
// offset+1 of the file, or def when n is nil or has no line.
func NodeLine(n *yaml.Node, offset, def int) int {
	if n == nil || n.Line == 0 {
		return def
	}
	return n.Line + offset
}

// KeyLine returns the file line of key in the mapping m (or in the mapping
// a document node m holds), as NodeLine does, or def when there is no such
// key.
func KeyLine(m *yaml.Node, key string, offset, def int) int {
	if m != nil && m.Kind == yaml.DocumentNode && len(m.Content) > 0 {
		m = m.Content[0]
	}
	if m == nil || m.Kind != yaml.MappingNode {
		return def
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Value == key {
			return NodeLine(k, offset, def)
		}
	}
	return def
}

// Embedded is folder dir of an embedded file system, for content shipped in
// the binary; the embed directive naming dir guarantees it exists.
func Embedded(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
