package synth

import (
	"math/rand/v2"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/registry"
)

// The kinds of noise a duplicate carries, each drawn on its own, with
// their probabilities. A duplicate drawn without any is an exact copy under
// another number, which legacy data also has.
const (
	pTypo        = 0.35 // one letter substituted, transposed or deleted in one name part
	pNoMarks     = 0.25 // the name without diacritics, as typed on an ASCII keyboard
	pNFD         = 0.15 // the name in decomposed form (NFD), as some systems store it
	pSwapDay     = 0.15 // day and month swapped, where that is still a date
	pMissing     = 0.50 // optional fields left out
	pOldAddress  = 0.40 // the permanent residence written with a 2022 commune code
	pFieldMissed = 0.50 // of each optional field, when fields are left out
)

// duplicate builds a second record of member i as legacy data holds it:
// another personal ID number (agreeing with the birth date and sex it
// shows), no household and no relatives, and some noise. It draws from
// the duplicates' random stream only.
func (g *generator) duplicate(h *household, i int, addr registry.Address) (*registry.LegacyRecord, error) {
	r := g.dr
	p := &h.members[i]
	name := registry.Name{Family: p.family, Middle: p.middle, Given: p.given}
	if chance(r, pTypo) {
		name = typo(r, name)
	}
	switch x := r.Float64(); {
	case x < pNoMarks:
		name = mapName(name, stripMarks)
	case x < pNoMarks+pNFD:
		name = mapName(name, norm.NFD.String)
	}
	birth := p.date
	if chance(r, pSwapDay) {
		if s, ok := swapDayMonth(birth); ok && s <= g.todayText {
			birth = s
		}
	}
	pid, err := g.pids.issue(p.reg.province, p.sex, p.year, true)
	if err != nil {
		return nil, err
	}
	rec := &registry.LegacyRecord{PID: pid}
	d := &rec.Details
	d.Name, d.BirthDate, d.Sex = name, birth, p.sex
	d.BirthRegistrationPlace = &registry.Address{Scheme: p.reg.scheme, Province: p.reg.province, Commune: p.reg.commune}
	d.PlaceOfOrigin = &registry.Address{Scheme: p.origin.scheme, Province: p.origin.province}
	d.Ethnicity = &registry.Ethnicity{System: codelist.EthnicGSO2008, Code: p.ethnic}
	d.Religion, d.Nationality, d.MaritalStatus = p.religion, "VNM", p.marital
	d.BloodType, d.OldIDNumber, d.Phone = p.blood, p.oldID, p.phone
	if chance(r, pMissing) {
		drop := func() bool { return chance(r, pFieldMissed) }
		if drop() {
			d.BirthRegistrationPlace = nil
		}
		if drop() {
			d.PlaceOfOrigin = nil
		}
		if drop() {
			d.Ethnicity = nil
		}
		if drop() {
			d.Religion = ""
		}
		if drop() {
			d.Nationality = ""
		}
		if drop() {
			d.MaritalStatus = ""
		}
		if drop() {
			d.Phone = ""
		}
		if drop() {
			d.BloodType, d.OldIDNumber = "", ""
		}
	}
	a := addr
	if chance(r, pOldAddress) && len(h.c.olds) > 0 {
		old := h.c.olds[r.IntN(len(h.c.olds))]
		a = registry.Address{Scheme: string(adminunit.Scheme2022), Province: old.Province, Commune: old.Code, Detail: addr.Detail}
	}
	d.PermanentResidence = &a
	return rec, nil
}

func mapName(n registry.Name, f func(string) string) registry.Name {
	return registry.Name{Family: f(n.Family), Middle: f(n.Middle), Given: f(n.Given)}
}

// stripMarks removes the diacritics of Vietnamese text, keeping the case:
// "Đặng Thị Ánh" becomes "Dang Thi Anh".
func stripMarks(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteByte('d')
		case r == 'Đ':
			b.WriteByte('D')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// typo makes one typing error in one part of a name: a letter replaced by
// another, two neighbouring letters swapped, or a letter left out. The part
// keeps only letters where it had letters, and never becomes empty.
func typo(r *rand.Rand, n registry.Name) registry.Name {
	parts := []*string{&n.Family, &n.Given}
	if n.Middle != "" {
		parts = append(parts, &n.Middle)
	}
	// Letters that may change: those of words of two letters or more, so
	// that no word disappears.
	type letter struct{ part, at int }
	var can []letter
	runes := make([][]rune, len(parts))
	for p, s := range parts {
		runes[p] = []rune(*s)
		for i, c := range runes[p] {
			if unicode.IsLetter(c) && wordLen(runes[p], i) >= 2 {
				can = append(can, letter{p, i})
			}
		}
	}
	if len(can) == 0 {
		return n
	}
	pick := can[r.IntN(len(can))]
	part, rs, i := parts[pick.part], runes[pick.part], pick.at
	switch op := r.IntN(3); {
	// Neither a swap nor a deletion touches the capital that starts a word.
	case op == 0 && i > 0 && unicode.IsLetter(rs[i-1]) && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) && rs[i] != rs[i+1]:
		rs[i], rs[i+1] = rs[i+1], rs[i]
	case op == 1 && i > 0 && unicode.IsLetter(rs[i-1]):
		rs = append(rs[:i], rs[i+1:]...)
	default:
		c := rune('a' + r.IntN(26))
		for strings.EqualFold(string(c), string(rs[i])) {
			c = rune('a' + r.IntN(26))
		}
		if unicode.IsUpper(rs[i]) {
			c = unicode.ToUpper(c)
		}
		rs[i] = c
	}
	*part = string(rs)
	return n
}

// wordLen returns the number of letters of the word around rs[i].
func wordLen(rs []rune, i int) int {
	lo, hi := i, i
	for lo > 0 && unicode.IsLetter(rs[lo-1]) {
		lo--
	}
	for hi < len(rs) && unicode.IsLetter(rs[hi]) {
		hi++
	}
	return hi - lo
}

// swapDayMonth turns YYYY-MM-DD into YYYY-DD-MM when that is another valid
// date: the day is 12 or less and differs from the month.
func swapDayMonth(s string) (string, bool) {
	if len(s) != 10 {
		return "", false
	}
	m, d := s[5:7], s[8:10]
	if m == d || d > "12" || d == "00" {
		return "", false
	}
	return s[:5] + d + "-" + m, true
}
