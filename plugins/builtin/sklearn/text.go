package sklearn

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Text: CountVectorizer, TfidfVectorizer and TfidfTransformer, as
// scikit-learn transforms documents with a fitted vocabulary: each
// document lowercased as Python's str.lower does, cut into tokens (word
// runs, or characters) and n-grams, stop words left out, each n-gram of
// the vocabulary counted; then, for tf-idf, the counts (their log + 1
// when sublinear) times the idf, each row normalized. The documents are
// what scikit-learn iterates: the values of a one-dimensional input (an
// `inputs` list, a ColumnTransformer's column named by a scalar), but a
// DataFrame's column names (iterating a DataFrame gives its columns:
// send `inputs`, or select the column in a ColumnTransformer).

// analyzer turns a document into the terms a vectorizer counts.
type analyzer struct {
	kind       string // "word", "char" or "char_wb"
	lower      bool
	accents    string // strip_accents: "", "unicode" or "ascii"
	minRun     int    // word: the shortest token (2 for \w\w+, 1 for \w+)
	nonSpace   bool   // word: tokens are runs of non-space (\S+), not of \w
	stop       map[string]bool
	minN, maxN int
}

// tokenPatterns are the token patterns Go tokenizes as Python's re does:
// the default (runs of two word characters or more) and its kin.
var tokenPatterns = map[string]struct {
	minRun   int
	nonSpace bool
}{
	`(?u)\b\w\w+\b`: {2, false}, `\b\w\w+\b`: {2, false}, `(?u)\w\w+`: {2, false}, `\w\w+`: {2, false},
	`(?u)\b\w+\b`: {1, false}, `\b\w+\b`: {1, false}, `(?u)\w+`: {1, false}, `\w+`: {1, false},
	`(?u)\S+`: {1, true}, `\S+`: {1, true},
}

// newAnalyzer reads a vectorizer's analysis parameters; what Go does not
// do as scikit-learn does (callables, accent stripping, other token
// patterns, file input) is ErrNotInGo.
func newAnalyzer(g *stage, s *state) (*analyzer, error) {
	a := &analyzer{kind: s.str("analyzer"), lower: s.bool("lowercase", true)}
	if in := s.str("input"); in != "content" {
		return nil, fmt.Errorf("%w: %s with input=%q", ErrNotInGo, g.class, in)
	}
	for _, k := range []string{"preprocessor", "tokenizer"} {
		if v := s.d.get(k); v != nil && v != false {
			return nil, fmt.Errorf("%w: %s with %s=%s", ErrNotInGo, g.class, k, describe(v))
		}
	}
	switch v := s.d.get("strip_accents").(type) {
	case nil, bool:
		if v == true {
			return nil, fmt.Errorf("%w: %s with strip_accents=True", ErrNotInGo, g.class)
		}
	case string:
		if v != "unicode" && v != "ascii" {
			return nil, fmt.Errorf("%w: %s with strip_accents=%q", ErrNotInGo, g.class, v)
		}
		a.accents = v
	default:
		return nil, fmt.Errorf("%w: %s with strip_accents=%s", ErrNotInGo, g.class, describe(v))
	}
	nr, ok := s.d.get("ngram_range").(*tuple)
	if !ok || len(nr.items) != 2 {
		return nil, fmt.Errorf("%w: %s's ngram_range is %s", ErrNotInGo, g.class, describe(s.d.get("ngram_range")))
	}
	lo, ok1 := nr.items[0].(int64)
	hi, ok2 := nr.items[1].(int64)
	if !ok1 || !ok2 || lo < 1 || hi < lo {
		return nil, fmt.Errorf("%w: %s's ngram_range is %s", ErrNotInGo, g.class, describe(nr))
	}
	a.minN, a.maxN = int(lo), int(hi)
	switch a.kind {
	case "char", "char_wb":
	case "word":
		p := s.str("token_pattern")
		tp, ok := tokenPatterns[p]
		if !ok {
			return nil, fmt.Errorf("%w: %s with token_pattern=%q", ErrNotInGo, g.class, p)
		}
		a.minRun, a.nonSpace = tp.minRun, tp.nonSpace
		switch sw := s.d.get("stop_words").(type) {
		case nil:
		case string:
			if sw != "english" {
				return nil, fmt.Errorf("%w: %s with stop_words=%q", ErrNotInGo, g.class, sw)
			}
			a.stop = setOf(englishStopWords)
		case *list:
			words, err := texts(sw.items)
			if err != nil {
				return nil, fmt.Errorf("%w: %s's stop_words: %v", ErrNotInGo, g.class, err)
			}
			a.stop = setOf(words)
		case *tuple:
			words, err := texts(sw.items)
			if err != nil {
				return nil, fmt.Errorf("%w: %s's stop_words: %v", ErrNotInGo, g.class, err)
			}
			a.stop = setOf(words)
		default:
			return nil, fmt.Errorf("%w: %s's stop_words is %s", ErrNotInGo, g.class, describe(sw))
		}
	default:
		return nil, fmt.Errorf("%w: %s with analyzer=%s", ErrNotInGo, g.class, describe(s.d.get("analyzer")))
	}
	return a, s.err
}

func texts(items []any) ([]string, error) {
	out := make([]string, len(items))
	for i, v := range items {
		t, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s is not text", describe(v))
		}
		out[i] = t
	}
	return out, nil
}

func setOf(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// terms are the n-grams of doc the vectorizer counts, in scikit-learn's
// order.
func (a *analyzer) terms(doc string) []string {
	if a.lower {
		doc = pyLower(doc)
	}
	switch a.accents {
	case "unicode":
		doc = stripAccentsUnicode(doc)
	case "ascii":
		doc = stripAccentsASCII(doc)
	}
	if a.kind == "word" {
		return a.wordNgrams(a.tokens(doc))
	}
	r := []rune(spaceRuns(doc))
	var out []string
	if a.kind == "char" {
		minN := a.minN
		if minN == 1 {
			for _, c := range r {
				out = append(out, string(c))
			}
			minN++
		}
		for n := minN; n <= min(a.maxN, len(r)); n++ {
			for i := 0; i+n <= len(r); i++ {
				out = append(out, string(r[i:i+n]))
			}
		}
		return out
	}
	// char_wb: the n-grams of each word padded with a space, a short
	// word once.
	for _, w := range pySplit(r) {
		w = append(append([]rune{' '}, w...), ' ')
		for n := a.minN; n <= a.maxN; n++ {
			offset := 0
			out = append(out, string(w[offset:min(offset+n, len(w))]))
			for offset+n < len(w) {
				offset++
				out = append(out, string(w[offset:offset+n]))
			}
			if offset == 0 {
				break
			}
		}
	}
	return out
}

// tokens are the maximal runs of Python's word characters (letters,
// numbers, the underscore) of minRun characters or more, or of
// non-space characters.
func (a *analyzer) tokens(doc string) []string {
	var out []string
	start, n := -1, 0
	in := func(r rune) bool {
		if a.nonSpace {
			return !pyIsSpace(r)
		}
		return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
	}
	for i, r := range doc {
		if in(r) {
			if start < 0 {
				start, n = i, 0
			}
			n++
			continue
		}
		if start >= 0 && n >= a.minRun {
			out = append(out, doc[start:i])
		}
		start = -1
	}
	if start >= 0 && n >= a.minRun {
		out = append(out, doc[start:])
	}
	return out
}

// wordNgrams is scikit-learn's _word_ngrams: stop words out, then the
// tokens (when n starts at 1) and the n-grams joined by a space, n by n.
func (a *analyzer) wordNgrams(tokens []string) []string {
	if a.stop != nil {
		tokens = slices.DeleteFunc(tokens, func(t string) bool { return a.stop[t] })
	}
	if a.maxN == 1 {
		return tokens
	}
	minN := a.minN
	var out []string
	if minN == 1 {
		out = append(out, tokens...)
		minN++
	}
	for n := minN; n <= min(a.maxN, len(tokens)); n++ {
		for i := 0; i+n <= len(tokens); i++ {
			out = append(out, strings.Join(tokens[i:i+n], " "))
		}
	}
	return out
}

// pyIsSpace is Python's str.isspace for one character (its \s): Go's
// white space and the separators U+001C to U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// spaceRuns is re.sub(r"\s\s+", " ", doc): runs of two or more spaces
// made one (a single space character stays as it is).
func spaceRuns(doc string) string {
	var b strings.Builder
	r := []rune(doc)
	for i := 0; i < len(r); i++ {
		if pyIsSpace(r[i]) && i+1 < len(r) && pyIsSpace(r[i+1]) {
			for i+1 < len(r) && pyIsSpace(r[i+1]) {
				i++
			}
			b.WriteRune(' ')
			continue
		}
		b.WriteRune(r[i])
	}
	return b.String()
}

// pySplit is Python's str.split(): the words between runs of space.
func pySplit(r []rune) [][]rune {
	var out [][]rune
	start := -1
	for i, c := range r {
		if pyIsSpace(c) {
			if start >= 0 {
				out = append(out, slices.Clone(r[start:i]))
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, slices.Clone(r[start:]))
	}
	return out
}

// pyLower is Python's str.lower: Unicode's lowercase mapping, with its
// special cases — İ (U+0130) becomes i and a combining dot, and a
// capital sigma ending a word the final sigma ς.
func pyLower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		switch c {
		case 0x130:
			b.WriteString("i\u0307")
		case 0x3a3:
			if finalSigma(r, i) {
				b.WriteRune(0x3c2)
			} else {
				b.WriteRune(0x3c3)
			}
		default:
			b.WriteRune(unicode.ToLower(c))
		}
	}
	return b.String()
}

// finalSigma is Unicode's Final_Sigma context of r[i], as Python tests
// it: a cased letter before it and none after it, case-ignorable
// characters skipped.
func finalSigma(r []rune, i int) bool {
	j := i - 1
	for j >= 0 && caseIgnorable(r[j]) {
		j--
	}
	if j < 0 || !cased(r[j]) {
		return false
	}
	j = i + 1
	for j < len(r) && caseIgnorable(r[j]) {
		j++
	}
	return j == len(r) || !cased(r[j])
}

func cased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xb7, 0x387, 0x5f4, 0x2018, 0x2019, 0x2024, 0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// tfidf is a fitted TfidfTransformer's arithmetic on a row of counts.
type tfidf struct {
	sublinear bool
	idf       []float64 // nil without use_idf
	norm      string    // "l1", "l2" or "" (none)
}

// readTfidf reads a fitted TfidfTransformer: its idf_ (an array from
// scikit-learn 1.5; before, the diagonal of the sparse _idf_diag).
func readTfidf(s *state) (*tfidf, error) {
	t := &tfidf{sublinear: s.bool("sublinear_tf", false)}
	switch n := s.d.get("norm").(type) {
	case nil:
	case string:
		if n != "l1" && n != "l2" {
			return nil, fmt.Errorf("%w: TfidfTransformer with norm=%q", ErrNotInGo, n)
		}
		t.norm = n
	default:
		return nil, fmt.Errorf("%w: TfidfTransformer's norm is %s", ErrNotInGo, describe(n))
	}
	if !s.bool("use_idf", true) {
		return t, s.err
	}
	if s.has("idf_") {
		t.idf = s.floats("idf_")
		return t, s.err
	}
	d := s.sub("_idf_diag")
	data, indices, indptr := d.floats("data"), d.floats("indices"), d.floats("indptr")
	if d.err != nil {
		return nil, d.err
	}
	n := len(indptr) - 1
	if n < 0 || len(data) != len(indices) || int(indptr[n]) != len(data) {
		return nil, fmt.Errorf("%w: TfidfTransformer's _idf_diag is not a sparse matrix", ErrNotInGo)
	}
	t.idf = make([]float64, n)
	for r := range n {
		for k := int(indptr[r]); k < int(indptr[r+1]); k++ {
			if int(indices[k]) == r {
				t.idf[r] = data[k]
			}
		}
	}
	return t, nil
}

// apply weighs a dense row of counts in place, as applySparse its
// nonzero values.
func (t *tfidf) apply(row []float64) {
	var idx []int
	var val []float64
	for j, v := range row {
		if v != 0 {
			idx, val = append(idx, j), append(val, v)
		}
	}
	t.applySparse(idx, val)
	for q, j := range idx {
		row[j] = val[q]
	}
}

// applySparse weighs a sparse row of counts (its columns idx in
// increasing order, their values) in place: log(tf) + 1 when sublinear,
// times the idf, then the row divided by its l1 or l2 norm (summed in
// column order, as scikit-learn's sparse rows; an empty row left as it
// is).
func (t *tfidf) applySparse(idx []int, val []float64) {
	var sum float64
	for q, j := range idx {
		v := val[q]
		if t.sublinear {
			v = math.Log(v) + 1
		}
		if t.idf != nil {
			v *= t.idf[j]
		}
		val[q] = v
		switch t.norm {
		case "l2":
			sum += v * v
		case "l1":
			sum += math.Abs(v)
		}
	}
	if t.norm == "" || sum == 0 {
		return
	}
	if t.norm == "l2" {
		sum = math.Sqrt(sum)
	}
	for q := range val {
		val[q] /= sum
	}
}

// vectorizer makes the stage of a fitted CountVectorizer or
// TfidfVectorizer: it takes the documents and answers a row of counts
// (or tf-idf weights) per document, a column per vocabulary term.
func vectorizer(g *stage, s *state) (*stage, error) {
	a, err := newAnalyzer(g, s)
	if err != nil {
		return nil, err
	}
	voc, ok := s.d.get("vocabulary_").(*dict)
	if !ok {
		return nil, fmt.Errorf("%w: %s without vocabulary_", ErrNotInGo, g.class)
	}
	vocab := make(map[string]int, len(voc.keys))
	width := 0
	for i, k := range voc.keys {
		term, ok := k.(string)
		idx, ok2 := pyNumber(voc.vals[i])
		if !ok || !ok2 || idx < 0 || idx != math.Trunc(idx) || idx >= float64(len(voc.keys)) {
			return nil, fmt.Errorf("%w: %s's vocabulary_ maps %s to %s", ErrNotInGo, g.class, describe(k), describe(voc.vals[i]))
		}
		vocab[term] = int(idx)
		width = max(width, int(idx)+1)
	}
	binary := s.bool("binary", false)
	var tf *tfidf
	if g.class == "TfidfVectorizer" {
		if tf, err = readTfidf(s.sub("_tfidf")); err != nil {
			return nil, err
		}
		if tf.idf != nil && len(tf.idf) != width {
			return nil, fmt.Errorf("%w: %s has %d idf values for %d terms", ErrNotInGo, g.class, len(tf.idf), width)
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	g.nIn, g.names = 0, nil
	g.sparseOut = true
	g.width = width
	g.table = func(f *frame) (*frame, error) {
		docs, err := documents(f, a.lower)
		if err != nil {
			return nil, err
		}
		if len(docs) == 0 && tf != nil { // its TfidfTransformer's check
			return nil, inputErr("Found array with 0 sample(s) (shape=(0, %d)) while a minimum of 1 is required by TfidfTransformer.", width)
		}
		return countRows(docs, width, binary, tf, func(doc string, counts map[int]float64) {
			for _, t := range a.terms(doc) {
				if j, ok := vocab[t]; ok {
					counts[j]++
				}
			}
		}), nil
	}
	return g, nil
}

// tfidfTransformer makes the stage of a fitted TfidfTransformer, on
// counts (a vectorizer's, or numbers given).
func tfidfTransformer(g *stage, s *state) (*stage, error) {
	g.allowNaN = false
	tf, err := readTfidf(s)
	if err != nil {
		return nil, err
	}
	if tf.idf != nil {
		if err := s.widths(g, tf.idf); err != nil {
			return nil, err
		}
	}
	g.sparseIn, g.keepsSparse, g.sparseAware = true, true, true
	g.transform = func(x *matrix) {
		if x.sp != nil {
			for r := 0; r < x.rows; r++ {
				tf.applySparse(x.sp.idx[r], x.sp.val[r])
			}
			return
		}
		for r := 0; r < x.rows; r++ {
			tf.apply(x.row(r))
		}
	}
	return g, nil
}

// documents are the documents scikit-learn's vectorizer iterates in f: a
// DataFrame's column names, a one-dimensional input's values; the
// values must be text (a one-dimensional array of numbers is numpy's,
// text with numbers its text). A two-dimensional array's rows are
// arrays, which scikit-learn cannot read.
func documents(f *frame, lower bool) ([]string, error) {
	if f.names != nil {
		return f.names, nil
	}
	if !f.vector || len(f.cols) != 1 {
		return nil, docError("numpy.ndarray", lower)
	}
	c := f.cols[0]
	docs := make([]string, f.rows)
	if c.num != nil { // numbers: numpy's scalars, or a Series' Python numbers
		if f.rows == 0 {
			return docs, nil
		}
		ints := true
		for _, v := range c.num {
			ints = ints && v == math.Trunc(v)
		}
		t := map[[2]bool]string{{false, false}: "numpy.float64", {false, true}: "numpy.int64", {true, false}: "float", {true, true}: "int"}[[2]bool{f.series, ints}]
		return nil, docError(t, lower)
	}
	text := false
	for _, v := range c.obj {
		if _, ok := v.(string); ok {
			text = true
		}
	}
	for r, v := range c.obj {
		switch v := v.(type) {
		case string:
			docs[r] = v
		case nil:
			return nil, docError("NoneType", lower)
		case float64:
			if text && !f.series { // numpy makes the array's numbers text
				docs[r] = pyRepr(v)
				if v == math.Trunc(v) && math.Abs(v) < 1e16 { // a JSON integer: Python's int
					docs[r] = fmt.Sprint(int64(v))
				}
				continue
			}
			return nil, docError("float", lower)
		case bool:
			if text && !f.series {
				docs[r] = map[bool]string{true: "True", false: "False"}[v]
				continue
			}
			return nil, docError("bool", lower)
		default:
			return nil, docError(fmt.Sprintf("%T", v), lower)
		}
	}
	return docs, nil
}

// docError is Python's error for a document that is not text: str's
// lower missing, or the regular expression refusing it (a numpy scalar
// it reads as bytes).
func docError(pyType string, lower bool) error {
	if lower {
		return &InputError{"AttributeError", fmt.Sprintf("'%s' object has no attribute 'lower'", pyType)}
	}
	if strings.HasPrefix(pyType, "numpy.") {
		return &InputError{"TypeError", "cannot use a string pattern on a bytes-like object"}
	}
	return &InputError{"TypeError", fmt.Sprintf("expected string or bytes-like object, got '%s'", pyType)}
}

// stripAccentsUnicode is scikit-learn's strip_accents_unicode: ASCII as
// it is, else its NFKD decomposition without the combining characters.
func stripAccentsUnicode(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if norm.NFD.PropertiesString(string(r)).CCC() == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// stripAccentsASCII is scikit-learn's strip_accents_ascii: the NFKD
// decomposition's ASCII characters.
func stripAccentsASCII(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if r < 0x80 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hashingVectorizer makes the stage of a HashingVectorizer: each term of
// a document hashed (MurmurHash3's 32 bits of its UTF-8, seed 0) to the
// column |h| mod n_features, counted +1 (or -1 for a negative h, with
// alternate_sign), the counts of a column summed (a sum of 0 stays,
// as scipy keeps it), then binary and the l1 or l2 norm as set.
func hashingVectorizer(g *stage, s *state) (*stage, error) {
	a, err := newAnalyzer(g, s)
	if err != nil {
		return nil, err
	}
	n := s.int("n_features")
	alternate := s.bool("alternate_sign", true)
	binary := s.bool("binary", false)
	tf := &tfidf{}
	switch nm := s.d.get("norm").(type) {
	case nil:
	case string:
		if nm != "l1" && nm != "l2" {
			return nil, fmt.Errorf("%w: HashingVectorizer with norm=%q", ErrNotInGo, nm)
		}
		tf.norm = nm
	default:
		return nil, fmt.Errorf("%w: HashingVectorizer's norm is %s", ErrNotInGo, describe(nm))
	}
	if s.err != nil {
		return nil, s.err
	}
	if n < 1 {
		return nil, fmt.Errorf("%w: HashingVectorizer with n_features=%d", ErrNotInGo, n)
	}
	g.nIn, g.names = 0, nil
	g.sparseOut, g.width = true, n
	g.table = func(f *frame) (*frame, error) {
		docs, err := documents(f, a.lower)
		if err != nil {
			return nil, err
		}
		if len(docs) == 0 { // FeatureHasher's next() of its first document
			return nil, &InputError{"StopIteration", ""}
		}
		return countRows(docs, n, binary, tf, func(doc string, counts map[int]float64) {
			for _, t := range a.terms(doc) {
				h := murmur3([]byte(t))
				j := 0
				if h == math.MinInt32 { // as scikit-learn defines |-2³¹| mod n
					j = (2147483647 - (n - 1)) % n
				} else {
					j = int(max(h, -h)) % n
				}
				v := 1.0
				if alternate && h < 0 {
					v = -1
				}
				counts[j] += v
			}
		}), nil
	}
	return g, nil
}

// murmur3 is MurmurHash3's x86 32-bit hash of b with seed 0, signed (as
// scikit-learn's murmurhash3_bytes_s32).
func murmur3(b []byte) int32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	var h uint32
	n := len(b)
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
		h = bits.RotateLeft32(h, 13)
		h = h*5 + 0xe6546b64
	}
	var k uint32
	switch len(b) {
	case 3:
		k ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		k ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		k ^= uint32(b[0])
		k *= c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= uint32(n)
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return int32(h)
}

// countRows is the sparse matrix of the documents' counts: count adds a
// document's to its columns, kept in column order (binary: each 1), then
// weighed by tf (when set).
func countRows(docs []string, width int, binary bool, tf *tfidf, count func(doc string, counts map[int]float64)) *frame {
	sp := &sparse{width: width, idx: make([][]int, len(docs)), val: make([][]float64, len(docs))}
	counts := map[int]float64{}
	for r, doc := range docs {
		clear(counts)
		count(doc, counts)
		idx := make([]int, 0, len(counts))
		for j := range counts {
			idx = append(idx, j)
		}
		slices.Sort(idx)
		val := make([]float64, len(idx))
		for q, j := range idx {
			val[q] = counts[j]
			if binary {
				val[q] = 1
			}
		}
		if tf != nil {
			tf.applySparse(idx, val)
		}
		sp.idx[r], sp.val[r] = idx, val
	}
	return &frame{rows: len(docs), sp: sp}
}
