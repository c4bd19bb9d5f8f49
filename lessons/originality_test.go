package lessons

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sourceArticle is the article the course's ideas come from; the shared
// folder sits beside the checkout in development and CI.
const sourceArticle = "../../shared/source/pm-influence-article.txt"

var wordRe = regexp.MustCompile(`[a-z0-9']+`)

func words(s string) []string {
	return wordRe.FindAllString(strings.ToLower(strings.ReplaceAll(s, "’", "'")), -1)
}

// TestNoCopiedSentences: the course teaches the article's ideas in its own
// words, so no run of 8 words from the article appears in any lesson or
// scenario.
func TestNoCopiedSentences(t *testing.T) {
	src, err := os.ReadFile(sourceArticle)
	if err != nil {
		t.Skip("source article not available: ", err)
	}
	const run = 8
	aw := words(string(src))
	seen := map[string]bool{}
	for i := 0; i+run <= len(aw); i++ {
		seen[strings.Join(aw[i:i+run], " ")] = true
	}
	files, _ := filepath.Glob("content/*/*.md")
	scenarios, _ := filepath.Glob("../quizzes/scenarios/*.yaml")
	aids, _ := filepath.Glob("aids/*.md")
	files = append(append(files, scenarios...), aids...)
	if len(files) < 10 {
		t.Fatalf("only %d content files found", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fw := words(string(b))
		for i := 0; i+run <= len(fw); i++ {
			if phrase := strings.Join(fw[i:i+run], " "); seen[phrase] {
				t.Errorf("%s copies the article: %q", f, phrase)
			}
		}
	}
}
