package synth

import (
	"math/rand/v2"

	"github.com/dancu-vn/dancu/internal/personalid"
)

// Family ties: couples, their children and parents, and the marital
// status of those who live without a spouse.

// couple adds a married couple, the husband husbandAge years old (at least
// 20) and his wife usually a few years younger (at least 18), with their
// relationships to the head. A spouse who married into the household is
// sometimes of another ethnic group.
func (h *household) couple(husbandAge int, husbandRel, wifeRel string) (husband, wife int) {
	gap := []int{-2, -1, 0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 10}[h.r.IntN(18)]
	wifeAge := husbandAge - gap
	husbandAge = max(husbandAge, 20)
	wifeAge = min(max(wifeAge, 18), h.g.maxAge)
	hEth := h.ethnic
	if husbandRel != "head" && husbandRel != "child" {
		hEth = h.outsider()
	}
	wEth := h.ethnic
	if wifeRel != "head" && wifeRel != "child" {
		wEth = h.outsider()
	}
	// The head comes first: records of a household start with its head.
	if wifeRel == "head" {
		wife = h.add(wifeRel, personalid.Female, wifeAge, wEth, h.family(wEth))
		husband = h.add(husbandRel, personalid.Male, husbandAge, hEth, h.family(hEth))
	} else {
		husband = h.add(husbandRel, personalid.Male, husbandAge, hEth, h.family(hEth))
		wife = h.add(wifeRel, personalid.Female, wifeAge, wEth, h.family(wEth))
	}
	h.members[husband].spouse, h.members[wife].spouse = wife, husband
	h.members[husband].marital, h.members[wife].marital = "married", "married"
	return husband, wife
}

// headCouple adds a couple in which one is the head.
func (h *household) headCouple(husbandAge int) (husband, wife int) {
	if chance(h.r, 0.8) {
		return h.couple(husbandAge, "head", "spouse")
	}
	return h.couple(husbandAge, "spouse", "head")
}

// childSex draws the sex of a child born in year: about 1.11 boys per girl
// at birth since the mid-2000s, 1.05 before.
func childSex(r *rand.Rand, year int) personalid.Sex {
	p := 0.512
	if year >= 2005 {
		p = 0.526
	}
	if r.Float64() < p {
		return personalid.Male
	}
	return personalid.Female
}

// children adds the children of father and mother (either may be none)
// still living at home, with relationship rel to the head. The mother's
// age drives the births: the first at 20–26, then every 2–5 years, none
// after 45 (nor after the father's 50th year); more children for women born
// before 1975; grown children have often left.
func (h *household) children(father, mother int, rel string) {
	var mAge int
	switch {
	case mother != none:
		mAge = h.members[mother].age
	case father != none:
		mAge = h.members[father].age - 3
	default:
		return
	}
	born := h.g.today.Year() - mAge
	var n int
	switch x := h.r.Float64(); {
	case born < 1960:
		n = []int{2, 3, 3, 4, 4, 5, 5, 6}[h.r.IntN(8)]
	case born < 1975:
		n = []int{1, 2, 2, 3, 3, 3, 4}[h.r.IntN(7)]
	case x < 0.15:
		n = 1
	case x < 0.70:
		n = 2
	case x < 0.93:
		n = 3
	default:
		n = 4
	}
	// The father is at most 50 at a birth (his wife may be younger).
	fatherGap := 0
	if father != none && mother != none {
		fatherGap = h.members[father].age - mAge
	}
	at := between(h.r, 20, 26)
	parent := father
	if parent == none {
		parent = mother
	}
	family := ""
	if father != none {
		family = h.members[father].family
	}
	for i := 0; i < n && at <= 45 && at+fatherGap <= 50; i++ {
		age := mAge - at
		if age < 0 {
			break
		}
		at += between(h.r, 2, 5)
		if age >= 18 && chance(h.r, min(0.95, 0.25+0.09*float64(age-18))) {
			continue // moved out
		}
		eth := h.members[parent].ethnic
		fam := family
		if fam == "" {
			fam = h.family(eth) // the father does not live here
		}
		c := h.add(rel, childSex(h.r, h.g.today.Year()-age), age, eth, fam)
		h.members[c].father, h.members[c].mother = father, mother
		h.members[c].local = chance(h.r, 0.97)
		h.members[c].marital = minorOrSingle(age)
	}
}

// parentsOf adds the parents (or the surviving one) of member m with
// relationship rel to the head.
func (h *household) parentsOf(m int, rel string) {
	age, eth, fam := h.members[m].age, h.members[m].ethnic, h.members[m].family
	fAge := min(age+between(h.r, 23, 36), h.g.maxAge)
	if fAge < age+20 {
		return // too old to have parents alive
	}
	if chance(h.r, 0.45) {
		f, mo := h.couple(fAge, rel, rel)
		h.members[f].ethnic, h.members[f].family = eth, fam
		h.members[mo].age = min(max(h.members[mo].age, age+19), h.g.maxAge)
		h.members[m].father, h.members[m].mother = f, mo
		return
	}
	if chance(h.r, 0.62) {
		mAge := min(fAge-between(h.r, 0, 6), h.g.maxAge)
		mo := h.add(rel, personalid.Female, max(mAge, age+19), eth, h.family(eth))
		h.members[mo].marital = "widowed"
		h.members[m].mother = mo
		return
	}
	f := h.add(rel, personalid.Male, fAge, eth, fam)
	h.members[f].marital = "widowed"
	h.members[m].father = f
}

// ageIn draws an age from bands of [lo, hi] with weights.
func ageIn(r *rand.Rand, bands ...[3]float64) int {
	t := 0.0
	for _, b := range bands {
		t += b[2]
	}
	x := r.Float64() * t
	for _, b := range bands {
		if x < b[2] {
			return between(r, int(b[0]), int(b[1]))
		}
		x -= b[2]
	}
	b := bands[len(bands)-1]
	return between(r, int(b[0]), int(b[1]))
}

// singleStatus is the marital status of an adult living without a spouse.
func singleStatus(r *rand.Rand, age int, sex personalid.Sex) string {
	x := r.Float64()
	switch {
	case age < 18:
		return minorOrSingle(age)
	case age < 30:
		if x < 0.95 {
			return "single"
		}
		return "divorced"
	case age < 50:
		switch {
		case x < 0.5:
			return "single"
		case x < 0.85:
			return "divorced"
		}
		return "widowed"
	}
	widowed := 0.55
	if sex == personalid.Female {
		widowed = 0.8
	}
	switch {
	case x < widowed:
		return "widowed"
	case x < widowed+0.12:
		return "divorced"
	}
	return "single"
}

// minorOrSingle leaves the status of children empty, as a birth record
// does, and calls older unmarried people single.
func minorOrSingle(age int) string {
	if age < 16 {
		return ""
	}
	return "single"
}
