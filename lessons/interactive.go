package lessons

import (
	"bytes"
	"strings"

	"github.com/baton-course/baton/server/contentfile"
	"go.yaml.in/yaml/v3"
)

type quickCheckYAML struct {
	ID       string `yaml:"id"`
	Question string `yaml:"question"`
	Options  []struct {
		Text     string `yaml:"text"`
		Correct  bool   `yaml:"correct"`
		Feedback string `yaml:"feedback"`
	} `yaml:"options"`
}

type reflectionYAML struct {
	ID     string `yaml:"id"`
	Prompt string `yaml:"prompt"`
}

// decodeBlock parses an interactive block's YAML strictly; line is the
// file line of the opening fence.
func decodeBlock(file string, line int, src []byte, v any, p *contentfile.Problems) bool {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		p.Add(file, contentfile.ErrorLine(err, line), "bad YAML in interactive block: %s", contentfile.ErrorText(err))
		return false
	}
	return true
}

func parseQuickCheck(file string, line int, src []byte, p *contentfile.Problems) (QuickCheck, bool) {
	var y quickCheckYAML
	if !decodeBlock(file, line, src, &y, p) {
		return QuickCheck{}, false
	}
	before := len(*p)
	if !slugPattern.MatchString(y.ID) {
		p.Add(file, line, "quick-check id %q must be lowercase words joined by hyphens", y.ID)
	}
	if strings.TrimSpace(y.Question) == "" {
		p.Add(file, line, "quick-check %q has no question", y.ID)
	}
	if len(y.Options) < 2 || len(y.Options) > 5 {
		p.Add(file, line, "quick-check %q needs 2 to 5 options, has %d", y.ID, len(y.Options))
	}
	q := QuickCheck{ID: y.ID, Question: strings.TrimSpace(y.Question)}
	correct := 0
	for i, o := range y.Options {
		if o.Correct {
			correct++
		}
		if strings.TrimSpace(o.Text) == "" {
			p.Add(file, line, "quick-check %q option %d has no text", y.ID, i+1)
		}
		if strings.TrimSpace(o.Feedback) == "" {
			p.Add(file, line, "quick-check %q option %d has no feedback: say why it works or does not", y.ID, i+1)
		}
		q.Options = append(q.Options, Option{
			ID: string(rune('a' + i)), Text: strings.TrimSpace(o.Text), Correct: o.Correct, Feedback: strings.TrimSpace(o.Feedback),
		})
	}
	if correct != 1 && len(y.Options) > 0 {
		p.Add(file, line, "quick-check %q must have exactly one correct option, has %d", y.ID, correct)
	}
	return q, len(*p) == before
}

func parseReflection(file string, line int, src []byte, p *contentfile.Problems) (Reflection, bool) {
	var y reflectionYAML
	if !decodeBlock(file, line, src, &y, p) {
		return Reflection{}, false
	}
	before := len(*p)
	if !slugPattern.MatchString(y.ID) {
		p.Add(file, line, "reflection id %q must be lowercase words joined by hyphens", y.ID)
	}
	if strings.TrimSpace(y.Prompt) == "" {
		p.Add(file, line, "reflection %q has no prompt", y.ID)
	}
	return Reflection{ID: y.ID, Prompt: strings.TrimSpace(y.Prompt)}, len(*p) == before
}

// blockID reads the id of an already validated interactive block.
func blockID(src []byte) string {
	var y struct {
		ID string `yaml:"id"`
	}
	_ = yaml.Unmarshal(src, &y)
	return y.ID
}
