package sklearn

import (
	"fmt"
	"math"
	"sort"
)

// Nearest neighbours (KNeighborsClassifier and KNeighborsRegressor)
// fitted with a KD or a ball tree and the euclidean, manhattan or
// chebyshev metric, as
// scikit-learn finds them: the pickled tree queried depth first, the
// nearer child first (by the distance to its box, or to its ball),
// each leaf's points pushed into scikit-learn's bounded max-heap (a point
// enters only when strictly nearer than the farthest kept), so that
// points at equal distances are kept or left exactly as scikit-learn
// keeps them; then the vote (the smallest class among the most common),
// the probabilities, or the mean, uniform or by inverse distance.

// kdTree is a fitted sklearn.neighbors.KDTree or BallTree: its points,
// their order in the leaves, the nodes' ranges and bounds (a KD tree's
// boxes; a ball tree's centres, in lower, and radii).
type kdTree struct {
	data         []float64 // n × d
	d            int
	idx          []int
	start, end   []int
	leaf         []bool
	lower, upper []float64 // node × d
	radius       []float64 // a ball tree's; nil for a KD tree
	nodes        int
	metric       string // "euclidean", "manhattan" or "chebyshev"
}

func readKDTree(v any, nIn int) (*kdTree, error) {
	o, ok := v.(*object)
	if !ok || o.class.name != "KDTree" && o.class.name != "BallTree" {
		return nil, fmt.Errorf("its tree is %s", describe(v))
	}
	ball := o.class.name == "BallTree"
	st, ok := o.state.(*tuple)
	if !ok || len(st.items) < 12 {
		return nil, fmt.Errorf("a KDTree without its state")
	}
	metric := ""
	if m, ok := st.items[11].(*object); ok {
		metric = map[string]string{"EuclideanDistance": "euclidean", "ManhattanDistance": "manhattan", "ChebyshevDistance": "chebyshev"}[m.class.name]
	}
	if metric == "" {
		return nil, fmt.Errorf("a %s of the metric %s", o.class.name, describe(st.items[11]))
	}
	if len(st.items) > 12 && st.items[12] != nil {
		return nil, fmt.Errorf("a KDTree with sample weights")
	}
	arr := func(i int) (*array, []float64, error) {
		a, err := readArray(st.items[i])
		if err != nil {
			return nil, nil, err
		}
		if a.dt.fields != nil {
			return a, nil, nil
		}
		f, err := a.floats()
		return a, f, err
	}
	dataA, data, err := arr(0)
	if err != nil {
		return nil, fmt.Errorf("its data: %v", err)
	}
	_, idxF, err := arr(1)
	if err != nil {
		return nil, fmt.Errorf("its idx_array: %v", err)
	}
	nodeA, _, err := arr(2)
	if err != nil {
		return nil, fmt.Errorf("its node_data: %v", err)
	}
	boundsA, bounds, err := arr(3)
	if err != nil {
		return nil, fmt.Errorf("its node_bounds: %v", err)
	}
	if len(dataA.shape) != 2 || dataA.shape[1] != nIn || len(boundsA.shape) != 3 || boundsA.shape[0] != 2-b2i(ball) || boundsA.shape[2] != nIn {
		return nil, fmt.Errorf("a KDTree of data %v and bounds %v for %d features", dataA.shape, boundsA.shape, nIn)
	}
	s := &state{class: "KDTree"}
	f := fields{nodeA, s}
	t := &kdTree{data: data, d: nIn, start: f.ints("idx_start"), end: f.ints("idx_end"), leaf: f.bools("is_leaf"), metric: metric}
	if ball {
		t.radius = f.floats("radius")
	}
	if s.err != nil {
		return nil, s.err
	}
	n := dataA.shape[0]
	t.nodes = boundsA.shape[1]
	if len(t.start) != t.nodes || len(idxF) != n {
		return nil, fmt.Errorf("a KDTree of %d nodes with %d bounds, %d points with %d indices", len(t.start), t.nodes, n, len(idxF))
	}
	t.idx = make([]int, n)
	for i, v := range idxF {
		if v < 0 || int(v) >= n {
			return nil, fmt.Errorf("a KDTree indexing point %v of %d", v, n)
		}
		t.idx[i] = int(v)
	}
	for i := range t.nodes {
		if t.start[i] < 0 || t.end[i] > n || t.start[i] > t.end[i] || (!t.leaf[i] && 2*i+2 >= t.nodes) {
			return nil, fmt.Errorf("a KDTree with a bad node %d", i)
		}
	}
	t.lower, t.upper = bounds[:t.nodes*nIn], bounds[t.nodes*nIn:]
	return t, nil
}

// minRdist is the tree's min_rdist: the reduced distance from pt to node
// i's box, (x + |x|)/2 per side (squared and added for the euclidean
// metric, added for manhattan, the largest for chebyshev); or to its
// ball, max(0, distance to the centre - radius), squared for euclidean.
func (t *kdTree) minRdist(i int, pt []float64) float64 {
	if t.radius != nil {
		d := math.Max(0, t.dist(pt, t.lower[i*t.d:(i+1)*t.d])-t.radius[i])
		if t.metric == "euclidean" {
			return d * d
		}
		return d
	}
	var r float64
	lo, hi := t.lower[i*t.d:(i+1)*t.d], t.upper[i*t.d:(i+1)*t.d]
	for j, p := range pt {
		dLo := lo[j] - p
		dHi := p - hi[j]
		d := (dLo + math.Abs(dLo)) + (dHi + math.Abs(dHi))
		h := 0.5 * d
		switch t.metric {
		case "euclidean":
			r += float64(h * h) // pow(0.5·d, 2), correctly rounded
		case "manhattan":
			r += h
		default:
			r = math.Max(r, h)
		}
	}
	return r
}

// rdist is the metric's reduced distance (the squared one for
// euclidean), summed as scikit-learn sums it.
func (t *kdTree) rdist(a, b []float64) float64 {
	var d float64
	for j := range a {
		x := a[j] - b[j]
		switch t.metric {
		case "euclidean":
			d += float64(x * x)
		case "manhattan":
			d += math.Abs(x)
		default:
			d = math.Max(d, math.Abs(x))
		}
	}
	return d
}

// dist is the metric's distance; rdistToDist turns a reduced one into it.
func (t *kdTree) dist(a, b []float64) float64 { return t.rdistToDist(t.rdist(a, b)) }

func (t *kdTree) rdistToDist(r float64) float64 {
	if t.metric == "euclidean" {
		return math.Sqrt(r)
	}
	return r
}

// query returns the k nearest points of pt (indices into the data) and
// their squared distances, as the tree's depth-first query keeps them
// (in heap order; callers sort).
func (t *kdTree) query(pt []float64, k int) ([]float64, []int) {
	dist := make([]float64, k)
	idx := make([]int, k)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	var visit func(node int, lb float64)
	visit = func(node int, lb float64) {
		switch {
		case lb > dist[0]: // trimmed
		case t.leaf[node]:
			for i := t.start[node]; i < t.end[node]; i++ {
				p := t.idx[i]
				heapPush(dist, idx, t.rdist(pt, t.data[p*t.d:(p+1)*t.d]), p)
			}
		default:
			i1, i2 := 2*node+1, 2*node+2
			lb1, lb2 := t.minRdist(i1, pt), t.minRdist(i2, pt)
			if lb1 <= lb2 {
				visit(i1, lb1)
				visit(i2, lb2)
			} else {
				visit(i2, lb2)
				visit(i1, lb1)
			}
		}
	}
	visit(0, t.minRdist(0, pt))
	return dist, idx
}

// heapPush is scikit-learn's heap_push: (val, i) replaces the root of the
// max-heap when strictly smaller, then sinks.
func heapPush(values []float64, indices []int, val float64, i int) {
	if val >= values[0] {
		return
	}
	n := len(values)
	cur := 0
	for {
		left := 2*cur + 1
		right := left + 1
		var swap int
		switch {
		case left >= n:
			values[cur], indices[cur] = val, i
			return
		case right >= n:
			if values[left] > val {
				swap = left
			} else {
				values[cur], indices[cur] = val, i
				return
			}
		case values[left] >= values[right]:
			if val < values[left] {
				swap = left
			} else {
				values[cur], indices[cur] = val, i
				return
			}
		default:
			if val < values[right] {
				swap = right
			} else {
				values[cur], indices[cur] = val, i
				return
			}
		}
		values[cur], indices[cur] = values[swap], indices[swap]
		cur = swap
	}
}

func kNeighbors(g *stage, s *state, predictFn string) (*stage, error) {
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	weights := s.str("weights")
	if weights != "uniform" && weights != "distance" {
		return nil, fmt.Errorf("%w: %s with weights %s", ErrNotInGo, g.class, describe(s.d.get("weights")))
	}
	if s.bool("outputs_2d_", false) {
		return nil, fmt.Errorf("%w: %s with several outputs", ErrNotInGo, g.class)
	}
	k := s.int("n_neighbors")
	y := s.floats("_y")
	if s.err != nil {
		return nil, s.err
	}
	t, n, err := neighborSearch(g, s)
	if err != nil {
		return nil, err
	}
	if k < 1 || k > n || len(y) != n {
		return nil, fmt.Errorf("%w: %s with %d neighbours of %d points (%d targets)", ErrNotInGo, g.class, k, n, len(y))
	}
	// neighbours are the k nearest, nearest first (as get_arrays sorts
	// them: the order only changes how equal distances add), with their
	// weights: 1 each, or 1/distance (a row with a point at distance 0
	// weighs those points 1 and the others 0).
	neighbours := func(pt []float64) ([]int, []float64) {
		nb, d := nearest(t, pt, k)
		w := make([]float64, k)
		zero := false
		for i := range nb {
			w[i] = 1
			if weights == "distance" {
				w[i] = 1 / d[i]
				zero = zero || math.IsInf(w[i], 0)
			}
		}
		if zero {
			for i := range w {
				w[i] = float64(b2i(math.IsInf(w[i], 0)))
			}
		}
		return nb, w
	}
	if g.class == "KNeighborsRegressor" {
		if predictFn != "predict" {
			return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
		}
		g.predict = func(x *matrix) any {
			out := make([]float64, x.rows)
			vals := make([]float64, k)
			for r := range out {
				nb, w := neighbours(x.row(r))
				for i, p := range nb {
					vals[i] = y[p]
				}
				if weights == "uniform" { // np.mean(_y[neigh_ind], axis=1)
					out[r] = npSum(vals) / float64(k)
					continue
				}
				for i := range vals {
					vals[i] *= w[i]
				}
				out[r] = npSum(vals) / npSum(w)
			}
			return out
		}
		return g, nil
	}
	classes := s.classes()
	if s.err != nil {
		return nil, s.err
	}
	nc := len(classes)
	for _, c := range y {
		if c < 0 || int(c) >= nc || c != math.Trunc(c) {
			return nil, fmt.Errorf("%w: %s has a target %v for %d classes", ErrNotInGo, g.class, c, nc)
		}
	}
	// votes are each class's weight among the neighbours, added in their
	// order (as predict_proba's proba[:, idx] += weights, and
	// weighted_mode's sums, which add 0 for the other classes' places).
	votes := func(pt []float64) []float64 {
		nb, w := neighbours(pt)
		v := make([]float64, nc)
		for i, p := range nb {
			v[int(y[p])] += w[i]
		}
		return v
	}
	// label is predict: scipy's mode (the smallest of the most common
	// classes) or weighted_mode, whose sums are numpy's over a row of the
	// class's weights and zeros.
	label := func(x *matrix) []int {
		out := make([]int, x.rows)
		template := make([]float64, k)
		for r := range out {
			if weights == "uniform" {
				out[r] = argmax(votes(x.row(r)))
				continue
			}
			nb, w := neighbours(x.row(r))
			best, bestSum := 0, 0.0
			for c := range nc {
				for i, p := range nb {
					template[i] = 0
					if int(y[p]) == c {
						template[i] = w[i]
					}
				}
				if sum := npSum(template); sum > bestSum {
					best, bestSum = c, sum
				}
			}
			out[r] = best
		}
		return out
	}
	proba := func(x *matrix) [][]float64 {
		out := make([][]float64, x.rows)
		for r := range out {
			v := votes(x.row(r))
			norm := npSum(v)
			if norm == 0 {
				norm = 1
			}
			for i := range v {
				v[i] /= norm
			}
			out[r] = v
		}
		return out
	}
	if predictFn == "predict_log_proba" { // KNeighborsClassifier has none
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	return classify(g, predictFn, classes, proba, label)
}

// neighborSearch reads how a fitted neighbours model searches: its KD or
// ball tree, or brute force over _fit_X (euclidean, manhattan or
// chebyshev), and the number of fitted points.
func neighborSearch(g *stage, s *state) (searcher, int, error) {
	method := s.str("_fit_method")
	if method != "kd_tree" && method != "ball_tree" && method != "brute" {
		return nil, 0, fmt.Errorf("%w: %s searching by %q", ErrNotInGo, g.class, method)
	}
	metric := s.str("effective_metric_")
	if metric != "euclidean" && metric != "manhattan" && metric != "chebyshev" {
		return nil, 0, fmt.Errorf("%w: %s with the metric %q", ErrNotInGo, g.class, metric)
	}
	if ep, ok := s.d.get("effective_metric_params_").(*dict); ok && len(ep.keys) > 0 {
		return nil, 0, fmt.Errorf("%w: %s with metric_params", ErrNotInGo, g.class)
	}
	if s.err != nil {
		return nil, 0, s.err
	}
	if method != "brute" {
		kd, err := readKDTree(s.d.get("_tree"), g.nIn)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %s: %v", ErrNotInGo, g.class, err)
		}
		return kd, len(kd.idx), nil
	}
	fa := s.array("_fit_X")
	fx := s.floats("_fit_X")
	if s.err != nil {
		return nil, 0, s.err
	}
	if len(fa.shape) != 2 || fa.shape[1] != g.nIn {
		return nil, 0, fmt.Errorf("%w: %s's _fit_X of shape %v", ErrNotInGo, g.class, fa.shape)
	}
	b := &brute{metric: metric, d: g.nIn, data: fx}
	n := fa.shape[0]
	if metric == "euclidean" {
		b.norms = make([]float64, n)
		for i := range n {
			b.norms[i] = sqNorm(fx[i*g.nIn : (i+1)*g.nIn])
		}
	}
	return b, n, nil
}

// nearest is a point's k nearest of t, nearest first (stably: equal
// distances in the order the search kept them), and their distances.
func nearest(t searcher, pt []float64, k int) ([]int, []float64) {
	rd, idx := t.query(pt, k)
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rd[order[a]] < rd[order[b]] })
	nb, d := make([]int, k), make([]float64, k)
	for i, o := range order {
		nb[i], d[i] = idx[o], t.rdistToDist(rd[o])
	}
	return nb, d
}

// localOutlierFactor makes the stage of a fitted LocalOutlierFactor with
// novelty=True: 1 for an inlier, -1 for an outlier, one whose score
// (minus the mean over its n_neighbors_ nearest of their local
// reachability density over its own) less offset_ is negative; its
// density 1 / (the mean reachability distance + 1e-10), a neighbour's
// reachability distance the larger of their distance and the neighbour's
// own k-distance.
func localOutlierFactor(g *stage, s *state, predictFn string) (*stage, error) {
	if predictFn != "predict" {
		return nil, fmt.Errorf("%w: %s.%s", ErrNotInGo, g.class, predictFn)
	}
	if !s.bool("novelty", false) {
		return nil, fmt.Errorf("%w: LocalOutlierFactor without novelty=True has no predict", ErrNotInGo)
	}
	if g.nIn <= 0 {
		return nil, fmt.Errorf("%w: %s without n_features_in_", ErrNotInGo, g.class)
	}
	t, n, err := neighborSearch(g, s)
	if err != nil {
		return nil, err
	}
	k := s.int("n_neighbors_")
	da := s.array("_distances_fit_X_")
	distFit := s.floats("_distances_fit_X_")
	lrd := s.floats("_lrd")
	offset, ok := pyNumber(s.d.get("offset_"))
	if s.err != nil {
		return nil, s.err
	}
	if !ok || k < 1 || k > n || len(lrd) != n || len(da.shape) != 2 || da.shape[0] != n || da.shape[1] != k {
		return nil, fmt.Errorf("%w: %s with %d neighbours of %d points", ErrNotInGo, g.class, k, n)
	}
	// score_samples' own check_array (its messages name no estimator;
	// a DataFrame becomes an array, its names unchecked), then
	// kneighbors' check of the width.
	g.answer = func(f *frame) (any, error) {
		x, err := f.numbers()
		if err != nil {
			return nil, err
		}
		for _, v := range x.v {
			if math.IsNaN(v) {
				return nil, inputErr("Input contains NaN.")
			}
		}
		for _, v := range x.v {
			if math.IsInf(v, 0) {
				return nil, inputErr("Input contains infinity or a value too large for dtype('float64').")
			}
		}
		if x.rows == 0 {
			return nil, inputErr("Found array with 0 sample(s) (shape=(0, %d)) while a minimum of 1 is required.", x.cols)
		}
		if err := g.checkWidth(x.cols); err != nil { // (an array by then: no names to check)
			return nil, err
		}
		return g.predict(x), nil
	}
	g.predict = func(x *matrix) any {
		out := make([]int64, x.rows)
		reach, ratios := make([]float64, k), make([]float64, k)
		for r := range out {
			nb, d := nearest(t, x.row(r), k)
			for i, p := range nb {
				reach[i] = math.Max(d[i], distFit[p*k+k-1])
			}
			own := 1.0 / (npSum(reach)/float64(k) + 1e-10)
			for i, p := range nb {
				ratios[i] = lrd[p] / own
			}
			out[r] = 1
			if -(npSum(ratios)/float64(k))-offset < 0 {
				out[r] = -1
			}
		}
		return out
	}
	return g, nil
}

// searcher finds a point's k nearest: the reduced distances and indices
// (in heap order), and the distance of a reduced one.
type searcher interface {
	query(pt []float64, k int) ([]float64, []int)
	rdistToDist(r float64) float64
}

// brute is scikit-learn's brute-force search (ArgKmin): every fitted
// point's reduced distance — for euclidean the squared distance as its
// GEMM-based kernel expands it, ||x||² - 2 x·y + ||y||², clipped at 0 —
// kept by heap_push in the points' order.
type brute struct {
	metric string
	d      int
	data   []float64
	norms  []float64 // euclidean: each point's squared norm
}

func sqNorm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += float64(x * x)
	}
	return s
}

func (b *brute) query(pt []float64, k int) ([]float64, []int) {
	dist := make([]float64, k)
	idx := make([]int, k)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	var xn float64
	if b.metric == "euclidean" {
		xn = sqNorm(pt)
	}
	for p := range len(b.data) / b.d {
		y := b.data[p*b.d : (p+1)*b.d]
		var r float64
		switch b.metric {
		case "euclidean":
			var dot float64
			for j, v := range pt {
				dot += float64(v * y[j])
			}
			r = max(xn+float64(-2*dot)+b.norms[p], 0)
		case "manhattan":
			for j, v := range pt {
				r += math.Abs(v - y[j])
			}
		default:
			for j, v := range pt {
				r = math.Max(r, math.Abs(v-y[j]))
			}
		}
		heapPush(dist, idx, r, p)
	}
	return dist, idx
}

func (b *brute) rdistToDist(r float64) float64 {
	if b.metric == "euclidean" {
		return math.Sqrt(r)
	}
	return r
}
