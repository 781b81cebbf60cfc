package adminunit

import (
	"strings"

	"github.com/dancu-vn/dancu/internal/vnname"
)

// Search finds units of a scheme and level by name. Matching ignores case,
// diacritics, Unicode normalisation form, spaces and leading zeros in
// numbers, so "ba dinh", "BaĐình" and a decomposed "Ba Đình" all find
// Ba Đình, and "phuong 5" finds "Phường 05". The query may start with the
// unit type as the law writes it, as in "Phường Ba Đình" or "thanh pho ho chi
// minh".
//
// Units whose name or full name equals the query come first, then those that
// start with it, then those that contain it; each group is ordered by code.
// At most limit units are returned, or all when limit <= 0. An empty query
// finds nothing.
func (c *Catalog) Search(s Scheme, level Level, query string, limit int) []Unit {
	q := searchKey(query)
	span, ok := c.spans[levelKey{s, level}]
	if q == "" || !ok {
		return nil
	}
	var exact, prefix, inner []int32
	for i := span[0]; i < span[1]; i++ {
		name, full := c.nameKeys[i], c.fullKeys[i]
		switch {
		case name == q || full == q:
			exact = append(exact, i)
		case strings.HasPrefix(name, q) || strings.HasPrefix(full, q):
			prefix = append(prefix, i)
		case strings.Contains(full, q): // full contains name
			inner = append(inner, i)
		}
		if limit > 0 && len(exact) >= limit {
			break
		}
	}
	n := len(exact) + len(prefix) + len(inner)
	if limit > 0 && n > limit {
		n = limit
	}
	out := make([]Unit, 0, n)
	for _, group := range [][]int32{exact, prefix, inner} {
		for _, i := range group {
			if len(out) == n {
				return out
			}
			out = append(out, c.units[i])
		}
	}
	return out
}

// searchKey is vnname.Fold without spaces and without the leading zeros of
// numbers: "Phường 05" → "phuong5".
func searchKey(s string) string {
	f := vnname.Fold(s)
	var b strings.Builder
	b.Grow(len(f))
	inNumber, leading := false, false
	for i := 0; i < len(f); i++ {
		ch := f[i]
		if ch == ' ' {
			inNumber = false
			continue
		}
		isDigit := '0' <= ch && ch <= '9'
		if isDigit && !inNumber {
			inNumber, leading = true, true
		}
		if !isDigit {
			inNumber = false
		}
		if inNumber && leading {
			if ch == '0' && i+1 < len(f) && '0' <= f[i+1] && f[i+1] <= '9' {
				continue
			}
			leading = false
		}
		b.WriteByte(ch)
	}
	return b.String()
}
