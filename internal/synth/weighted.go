package synth

import "math/rand/v2"

// entry is one value of a frequency table with its relative weight.
type entry struct {
	v string
	w float64
}

// weighted draws values with probability proportional to their weights.
// The order of the values is the order they were added, so a draw depends
// only on the random stream, never on map order.
type weighted[T any] struct {
	items []T
	cum   []float64 // running totals of the weights
}

func (t *weighted[T]) add(v T, w float64) {
	if w < 0 {
		w = 0
	}
	total := w
	if n := len(t.cum); n > 0 {
		total += t.cum[n-1]
	}
	t.items = append(t.items, v)
	t.cum = append(t.cum, total)
}

func (t *weighted[T]) total() float64 {
	if len(t.cum) == 0 {
		return 0
	}
	return t.cum[len(t.cum)-1]
}

// pick draws one value. The table must have a positive total weight.
func (t *weighted[T]) pick(r *rand.Rand) T {
	x := r.Float64() * t.cum[len(t.cum)-1]
	// The first running total above x: values of zero weight are never hit.
	lo, hi := 0, len(t.cum)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return t.items[lo]
}

// table builds a weighted table of strings from entries.
func table(es ...[]entry) *weighted[string] {
	t := &weighted[string]{}
	for _, list := range es {
		for _, e := range list {
			t.add(e.v, e.w)
		}
	}
	return t
}

// tail gives each name the same small weight: the long tail of a
// frequency table that the sources list without figures.
func tail(w float64, names ...string) []entry {
	out := make([]entry, len(names))
	for i, n := range names {
		out[i] = entry{n, w}
	}
	return out
}

// descending gives names weights falling evenly from hi to lo: the
// "followed by" lists of DOMAIN.md §8, which are ranked without figures.
func descending(hi, lo float64, names ...string) []entry {
	out := make([]entry, len(names))
	for i, n := range names {
		w := hi
		if len(names) > 1 {
			w = hi - (hi-lo)*float64(i)/float64(len(names)-1)
		}
		out[i] = entry{n, w}
	}
	return out
}

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// between returns an integer in [lo, hi].
func between(r *rand.Rand, lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// oneOf returns one of the values, uniformly.
func oneOf(r *rand.Rand, vs []string) string { return vs[r.IntN(len(vs))] }
