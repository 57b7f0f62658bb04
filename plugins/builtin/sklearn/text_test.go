package sklearn

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mlrun/mlrun/internal/pylines"
)

// analyzerScript answers, for a vectorizer's parameters and documents,
// the terms scikit-learn's analyzer makes of each document.
const analyzerScript = `
import json, sys
from sklearn.feature_extraction.text import CountVectorizer
for line in sys.stdin:
    req = json.loads(line)
    cfg = req["cfg"]
    if "ngram_range" in cfg:
        cfg["ngram_range"] = tuple(cfg["ngram_range"])
    analyze = CountVectorizer(**cfg).build_analyzer()
    print(json.dumps([analyze(d) for d in req["docs"]]), flush=True)
`

// TestAnalyzersMatchScikitLearn: the terms Go makes of random documents
// of many scripts (cased and uncased letters, combining marks, digits of
// other scripts, the Turkish İ, Greek capital sigmas at word ends, ß, CJK,
// emoji, every kind of space) are scikit-learn's, term for term, for the
// word analyzer (its token patterns, stop words, n-grams, with and
// without lowercasing) and the char and char_wb analyzers.
func TestAnalyzersMatchScikitLearn(t *testing.T) {
	const install = "apt-get install python3-sklearn"
	sk := pylines.StartWith(t, pylines.Debian(t, install, "sklearn"), analyzerScript, install, "sklearn")
	pieces := []string{"word", "Word", "ΟΔΟΣ", "ΣΑΣ", "Σ", "σ", "ς", "İstanbul", "IŞIK", "Straße", "ǅemal", "ﬁne", "e\u0301", "\u0301",
		"١٢٣", "Ⅻ", "½", "x²", "_", "__init__", "漢字", "かな", "😀", "a", "I", "42", "b2b", "it's", "'", ".", "-", "Ω", "ɐ", "ᾈ",
		" ", "  ", "\t", "\n", "\u00a0", "\u2028", "\u3000", "\x1c", "\u200b", "\u0085", "\u180e", "ΑΣ.", "ΑΣ'Β", "Α\u0301Σ",
		"café", "naïve", "Ångström", "ﬀ", "㎏", "①", "Ǆ", "ṩ", "ǖ", "\u0345", "ϓ", "ﾀﾞ", "Ⅳ", "ǰ", "ё"}
	rnd := rand.New(rand.NewPCG(7, 8))
	docs := make([]string, 400)
	for i := range docs {
		var b strings.Builder
		for range rnd.IntN(12) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		docs[i] = b.String()
	}
	for _, c := range []struct {
		cfg map[string]any
		a   analyzer
	}{
		{map[string]any{}, analyzer{kind: "word", lower: true, minRun: 2, minN: 1, maxN: 1}},
		{map[string]any{"lowercase": false, "ngram_range": []int{1, 3}}, analyzer{kind: "word", minRun: 2, minN: 1, maxN: 3}},
		{map[string]any{"token_pattern": `(?u)\b\w+\b`, "ngram_range": []int{2, 2}, "stop_words": "english"}, analyzer{kind: "word", lower: true, minRun: 1, minN: 2, maxN: 2, stop: setOf(englishStopWords)}},
		{map[string]any{"token_pattern": `\S+`, "stop_words": []string{"word", "a"}}, analyzer{kind: "word", lower: true, minRun: 1, nonSpace: true, minN: 1, maxN: 1, stop: setOf([]string{"word", "a"})}},
		{map[string]any{"analyzer": "char", "ngram_range": []int{1, 3}}, analyzer{kind: "char", lower: true, minN: 1, maxN: 3}},
		{map[string]any{"analyzer": "char_wb", "ngram_range": []int{2, 4}, "lowercase": false}, analyzer{kind: "char_wb", minN: 2, maxN: 4}},
		{map[string]any{"analyzer": "char_wb", "ngram_range": []int{1, 1}}, analyzer{kind: "char_wb", lower: true, minN: 1, maxN: 1}},
		{map[string]any{"strip_accents": "unicode"}, analyzer{kind: "word", lower: true, accents: "unicode", minRun: 2, minN: 1, maxN: 1}},
		{map[string]any{"strip_accents": "ascii", "analyzer": "char", "ngram_range": []int{1, 2}}, analyzer{kind: "char", lower: true, accents: "ascii", minN: 1, maxN: 2}},
		{map[string]any{"strip_accents": "unicode", "lowercase": false, "token_pattern": `\S+`}, analyzer{kind: "word", accents: "unicode", minRun: 1, nonSpace: true, minN: 1, maxN: 1}},
	} {
		req, _ := json.Marshal(map[string]any{"cfg": c.cfg, "docs": docs})
		var want [][]string
		if err := json.Unmarshal([]byte(sk.Ask(t, string(req))), &want); err != nil {
			t.Fatal(err)
		}
		bad := 0
		for i, d := range docs {
			got := c.a.terms(d)
			if len(got) == 0 && len(want[i]) == 0 || slices.Equal(got, want[i]) {
				continue
			}
			if bad++; bad <= 3 {
				t.Errorf("%v, %q:\n go:      %q\n sklearn: %q", c.cfg, d, got, want[i])
			}
		}
	}
}

// FuzzAnalyzer: any document, for every analyzer: terms and no panic;
// a word token is a run of word characters (or non-space) of the
// document lowercased, of its least length.
func FuzzAnalyzer(f *testing.F) {
	for _, s := range []string{"", "The cat", "ΟΔΟΣ Σ", "İ\u0301x", "a\x1cb  c", "\xff\xfe", "__x__ 12"} {
		f.Add(s)
	}
	as := []analyzer{
		{kind: "word", lower: true, minRun: 2, minN: 1, maxN: 2, stop: setOf(englishStopWords)},
		{kind: "word", minRun: 1, nonSpace: true, minN: 1, maxN: 1},
		{kind: "char", lower: true, minN: 1, maxN: 3},
		{kind: "char_wb", minN: 2, maxN: 5},
	}
	f.Fuzz(func(t *testing.T, doc string) {
		low := pyLower(doc)
		for _, a := range as {
			terms := a.terms(doc)
			if a.kind != "word" || a.maxN != 1 {
				continue
			}
			for _, tok := range terms {
				if !strings.Contains(doc, tok) || len([]rune(tok)) < a.minRun {
					t.Fatalf("%q: token %q", doc, tok)
				}
			}
		}
		for _, tok := range as[0].tokens(low) {
			if len([]rune(tok)) < 2 || !strings.Contains(low, tok) {
				t.Fatalf("%q: token %q", doc, tok)
			}
		}
	})
}
