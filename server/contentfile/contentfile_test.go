package contentfile

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"go.yaml.in/yaml/v3"
)

// decodeErr decodes src strictly into a small struct, as the loaders do
// with front matter and interactive blocks.
func decodeErr(t *testing.T, src string) error {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	var v struct{ A, B int }
	err := dec.Decode(&v)
	if err == nil {
		t.Fatalf("%q decoded", src)
	}
	return err
}

// nodeErr parses src into a node, as the scenario loader does.
func nodeErr(t *testing.T, src string) error {
	t.Helper()
	var n yaml.Node
	err := yaml.Unmarshal([]byte(src), &n)
	if err == nil {
		t.Fatalf("%q parsed", src)
	}
	return err
}

func TestErrorLineAndText(t *testing.T) {
	cases := []struct {
		name string
		err  func(*testing.T) error
		line int // with offset 0
		text string
	}{
		{"scanner error", func(t *testing.T) error { return nodeErr(t, "a: 1\nb: @x\n") }, 2,
			"found character that cannot start any token"},
		{"parser error", func(t *testing.T) error { return nodeErr(t, "a: 1\n b: 2\n") }, 2,
			"mapping values are not allowed in this context"},
		{"unclosed quote", func(t *testing.T) error { return nodeErr(t, "a: 1\n\"b\n") }, 2,
			"found unexpected end of stream"},
		// yaml leaves out the position of line 1 of its text.
		{"error on the first line", func(t *testing.T) error { return nodeErr(t, "a: b: c\n") }, 1,
			"mapping values are not allowed in this context"},
		{"error without a position", func(t *testing.T) error { return nodeErr(t, "a: *x\n") }, 1,
			"unknown anchor 'x' referenced"},
		{"type error", func(t *testing.T) error { return decodeErr(t, "b: 1\na: x\n") }, 2,
			"cannot unmarshal !!str `x` into int"},
		{"several type errors: the first line, every message", func(t *testing.T) error { return decodeErr(t, "a: x\nb: y\n") }, 1,
			"cannot unmarshal !!str `x` into int\n  cannot unmarshal !!str `y` into int"},
		{"unknown field", func(t *testing.T) error { return decodeErr(t, "a: 1\nc: 2\n") }, 2,
			"field c not found in type struct { A int; B int }"},
		{"duplicate key keeps the other line in the text", func(t *testing.T) error { return decodeErr(t, "a: 1\na: 2\n") }, 2,
			`mapping key "a" already defined at line 1`},
		// The author's text may look like a position; it is neither the
		// line nor stripped.
		{"quoted text that looks like a position", func(t *testing.T) error { return decodeErr(t, "a: !!int \"line 9: x\"\n") }, 1,
			"cannot decode !!str `line 9: x` as a !!int"},
		{"type error quoting a position", func(t *testing.T) error { return decodeErr(t, "b: 1\na: \"line 9: x\"\n") }, 2,
			"cannot unmarshal !!str `line 9: x` into int"},
		{"empty text", func(*testing.T) error { return io.EOF }, 1, "EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err(t)
			for _, offset := range []int{0, 1, 10} {
				if got := ErrorLine(err, offset); got != tc.line+offset {
					t.Errorf("ErrorLine(%q, %d) = %d, want %d", err, offset, got, tc.line+offset)
				}
			}
			if got := ErrorText(err); got != tc.text {
				t.Errorf("ErrorText(%q) = %q, want %q", err, got, tc.text)
			}
		})
	}
}

func TestNodeAndKeyLines(t *testing.T) {
	const src = "# heading\nslug: a\nintro:\n  Some text.\nsteps:\n  - id: one\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	value := func(key string) *yaml.Node {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		t.Fatalf("no %s", key)
		return nil
	}
	var empty, scalar, seq yaml.Node
	_ = yaml.Unmarshal([]byte("# only a comment\n"), &empty)
	_ = yaml.Unmarshal([]byte("just text\n"), &scalar)
	_ = yaml.Unmarshal([]byte("- slug: a\n"), &seq)
	cases := []struct {
		name      string
		got, want int
	}{
		{"node", NodeLine(value("slug"), 0, 1), 2},
		{"node with an offset", NodeLine(value("slug"), 1, 1), 3},
		{"value on the next line", NodeLine(value("intro"), 0, 1), 4},
		{"list value", NodeLine(value("steps"), 0, 1), 6},
		{"nil node", NodeLine(nil, 5, 1), 1},
		{"node without a line", NodeLine(&yaml.Node{}, 5, 7), 7},
		{"key of a document", KeyLine(&doc, "slug", 0, 1), 2},
		{"key of a mapping", KeyLine(m, "slug", 0, 1), 2},
		{"key line, not its value's", KeyLine(&doc, "intro", 0, 1), 3},
		{"key with an offset", KeyLine(&doc, "steps", 1, 1), 6},
		{"missing key", KeyLine(&doc, "title", 1, 1), 1},
		{"key below the top level", KeyLine(&doc, "id", 0, 9), 9},
		{"nil mapping", KeyLine(nil, "slug", 0, 1), 1},
		{"empty document", KeyLine(&empty, "slug", 0, 1), 1},
		{"scalar document", KeyLine(&scalar, "slug", 0, 1), 1},
		{"sequence document", KeyLine(&seq, "slug", 0, 1), 1},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: line %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	p.Add("b.md", 3, "missing title")
	p.Add("a.md", 12, "unknown module %q (not in %s)", "x", "modules.yaml")
	p.Add("a.md", 1, "100%% sure")
	want := Problems{
		"b.md:3: missing title",
		`a.md:12: unknown module "x" (not in modules.yaml)`,
		"a.md:1: 100% sure",
	}
	if fmt.Sprint([]string(p)) != fmt.Sprint([]string(want)) {
		t.Fatalf("problems %q, want %q in the order added", p, want)
	}
	wantErr := "3 content problem(s):\n" +
		"b.md:3: missing title\n" +
		`a.md:12: unknown module "x" (not in modules.yaml)` + "\n" +
		"a.md:1: 100% sure"
	var err error = p
	if err.Error() != wantErr {
		t.Fatalf("error %q, want %q", err.Error(), wantErr)
	}
}
