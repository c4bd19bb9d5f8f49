package accounts

import "testing"

// TestNormalizeEmail: the L5 finding's full-width letters fold to the
// address they imitate, so they cannot open a second account that looks
// like the first.
func TestNormalizeEmail(t *testing.T) {
	cases := map[string]string{
		"  Ann@Example.COM ":    "ann@example.com",
		"ａｎａ@example.com":       "ana@example.com",      // full-width Latin
		"ＡＮＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ":       "ana@example.com",      // full-width capitals and punctuation
		"\u3000ana@example.com": "ana@example.com",      // ideographic space
		"ﬁn@example.com":        "fin@example.com",      // the "fi" ligature
		"a\x00b@example.com":    "ab@example.com",       // NUL cannot be stored
		"аna@example.com":       "\u0430na@example.com", // Cyrillic stays Cyrillic (marked, not folded)
	}
	for in, want := range cases {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
		if got := NormalizeEmail(NormalizeEmail(in)); got != NormalizeEmail(in) {
			t.Errorf("NormalizeEmail is not idempotent on %q: %q", in, got)
		}
	}
}

// TestCleanName: the characters that reorder or hide text go; everything
// visible, emoji sequences with their joiners included, stays.
func TestCleanName(t *testing.T) {
	cases := map[string]string{
		"Ana\u202Enimda":                "Ananimda", // right-to-left override: shown as "Anaadmin" before
		"\u2066Bob\u2069":               "Bob",      // isolates
		"\u202AEve\u202C \u200Fx\u200E": "Eve x",    // embedding, pop, marks
		"Ali\u061Cce":                   "Alice",    // Arabic letter mark
		"Zoë\u200B Ng":                  "Zoë Ng",   // zero-width space
		"Max\u00ADwell\u2060":           "Maxwell",  // soft hyphen, word joiner
		"\uFEFFKim":                     "Kim",      // byte-order mark
		"Line\nbreak\tand\x07bell":      "Line break andbell",
		"  nul\x00 ":                    "nul",
		"<script>alert(1)</script>":     "<script>alert(1)</script>", // escaped on output, never rejected
		"محمد علي":                      "محمد علي",                  // right-to-left script itself stays
		"👩\u200D💻 Dev":                  "👩\u200D💻 Dev",              // ZWJ emoji sequence
		"ज्\u200Dञ":                     "ज्\u200Dञ",                 // joiners some scripts need
	}
	for in, want := range cases {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := CleanName("\u202E\u2066\u200B"); NameProblem(got) != "is required" {
		t.Errorf("a name of only invisible characters must end up empty, got %q", got)
	}
}

// TestLookalike: addresses that mix writing systems the way impostors do are
// marked; one script, and the mixes real names use, are not.
func TestLookalike(t *testing.T) {
	marked := []string{
		"\u0430na@example.com",       // Cyrillic а in a Latin local part
		"ana@ex\u0430mple.com",       // Cyrillic in the domain
		"\u03bflga@example.com",      // Greek omicron
		"ann@\u0430\u0440\u0440.com", // all-Cyrillic label beside Latin
		"\u0430\u043d\u0430@example.com",
		"\u0561na@example.com",     // Armenian
		"\u05d0\u0627@example.com", // Hebrew with Arabic
	}
	plain := []string{
		"ana@example.com", "o'brien+tag@sub.example.co.uk", "zoë.müller@example.de", "ñandú@ejemplo.es",
		"\u043f\u043e\u0447\u0442\u0430@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", // all Cyrillic
		"山田@example.jp", "やまだタロウ山田@example.jp", "김철수@example.kr", "ㄅㄆ中文@example.tw",
		"δοκιμή@παράδειγμα.δοκιμή", "12345@example.com", "",
	}
	for _, e := range marked {
		if !Lookalike(e) {
			t.Errorf("Lookalike(%q) = false, want true", e)
		}
	}
	for _, e := range plain {
		if Lookalike(e) {
			t.Errorf("Lookalike(%q) = true, want false", e)
		}
	}
	if !Lookalike(NormalizeEmail("ＡＮ\u0410@example.com")) || Lookalike(NormalizeEmail("ａｎａ@example.com")) {
		t.Error("full-width Latin must fold to Latin, and Cyrillic among it stay marked")
	}
	if !(User{Email: "\u0430na@example.com"}).Listed().Lookalike || (User{Email: "ana@example.com"}).Listed().Lookalike {
		t.Error("the admin list's view must carry the mark")
	}
}
