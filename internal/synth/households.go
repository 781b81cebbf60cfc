package synth

import (
	"math/rand/v2"

	"github.com/dancu-vn/dancu/internal/personalid"
)

// person is one member of the household being built.
type person struct {
	sex      personalid.Sex
	age      int // whole years on the reference date
	birth    int // days since 1970-01-01
	family   string
	middle   string
	given    string
	ethnic   string
	religion string
	rel      string // relationship to the head
	marital  string
	// father, mother and spouse are indices in the household, -1 if absent.
	father, mother, spouse int
	// local is set for children born to the household: their births were
	// registered where it lives (else as for any adult, by the province's
	// share of migrants).
	local               bool
	reg                 place
	origin              place // place of origin: the father's line
	pid                 string
	year                int    // of birth
	date                string // of birth, YYYY-MM-DD
	full                string // the name written out, once needed
	phone, blood, oldID string
}

// place is a province or commune of one scheme.
type place struct {
	scheme, province, commune string
}

// kind is the make-up of a household. The weights are tuned so that the
// mean size is about 3.5 (2019 census: 3.5 people per household) and the
// ages of the people they hold follow the 2019–2025 pyramid.
type kind int

const (
	kindSingle       kind = iota // one person: young adults and the widowed old
	kindCouple                   // a couple without children at home
	kindNuclear                  // a couple and their children
	kindSingleParent             // a widowed or divorced parent and children
	kindThreeGen                 // a couple, their children and the head's or spouse's parents
	kindStem                     // an older head, a married child, the child's spouse and children
)

// kindWeights are the shares of the kinds among households.
var kindWeights = []struct {
	k kind
	w float64
}{
	{kindSingle, 0.10}, {kindCouple, 0.11}, {kindNuclear, 0.43}, {kindSingleParent, 0.06},
	{kindThreeGen, 0.14}, {kindStem, 0.16},
}

// none is the index of a relative who does not live in the household.
const none = -1

// household builds the members of one household living in commune c.
type household struct {
	g       *generator
	r       *rand.Rand
	c       *commune
	ethnic  string
	members []person
}

// add appends a person and returns its index.
func (h *household) add(rel string, sex personalid.Sex, age int, ethnic, family string) int {
	h.members = append(h.members, person{
		rel: rel, sex: sex, age: min(max(age, 0), h.g.maxAge), ethnic: ethnic, family: family,
		father: none, mother: none, spouse: none,
	})
	return len(h.members) - 1
}

// outsider is the ethnic group of someone who married into the household.
func (h *household) outsider() string {
	if chance(h.r, 0.93) {
		return h.ethnic
	}
	return h.g.places.ethnic[h.c.province].pick(h.r)
}

// family draws a family name for someone of the given ethnic group.
func (h *household) family(ethnic string) string {
	return h.g.names.family(h.r, ethnic, provinces[h.c.province].code)
}

// build fills the household with people of the given kind.
func (h *household) build(k kind) {
	r := h.r
	switch k {
	case kindSingle:
		age := ageIn(r, [3]float64{18, 34, 32}, [3]float64{35, 59, 22}, [3]float64{60, 69, 18}, [3]float64{70, 79, 13}, [3]float64{80, 95, 7})
		sex := personalid.Male
		if (age >= 60 && chance(r, 0.64)) || (age < 60 && chance(r, 0.42)) {
			sex = personalid.Female
		}
		p := h.add("head", sex, age, h.ethnic, h.family(h.ethnic))
		h.members[p].marital = singleStatus(r, age, sex)
	case kindCouple:
		age := ageIn(r, [3]float64{21, 34, 25}, [3]float64{50, 64, 45}, [3]float64{65, 74, 17}, [3]float64{75, 88, 8})
		h.headCouple(age)
	case kindNuclear:
		husband, wife := h.headCouple(ageIn(r, [3]float64{22, 29, 22}, [3]float64{30, 44, 52}, [3]float64{45, 54, 19}, [3]float64{55, 64, 7}))
		h.children(husband, wife, "child")
	case kindSingleParent:
		sex := personalid.Female
		if chance(r, 0.25) {
			sex = personalid.Male
		}
		age := between(r, 26, 62)
		p := h.add("head", sex, age, h.ethnic, h.family(h.ethnic))
		h.members[p].marital = "divorced"
		if chance(r, 0.15+0.015*float64(age-26)) {
			h.members[p].marital = "widowed"
		}
		if sex == personalid.Male {
			h.children(p, none, "child")
		} else {
			h.children(none, p, "child")
		}
	case kindThreeGen:
		husband, wife := h.headCouple(between(r, 26, 56))
		h.children(husband, wife, "child")
		line := husband
		if chance(r, 0.3) {
			line = wife
		}
		rel := "parent"
		if h.members[line].rel != "head" {
			rel = "parent_in_law"
		}
		h.parentsOf(line, rel)
	case kindStem:
		h.stem()
	}
}

// stem adds an older head, possibly widowed, with a married child, the
// child's spouse and their children, and sometimes a younger unmarried
// child.
func (h *household) stem() {
	r := h.r
	hAge := ageIn(r, [3]float64{48, 64, 60}, [3]float64{65, 74, 28}, [3]float64{75, 85, 12})
	var father, mother int
	if chance(r, 0.65) {
		father, mother = h.headCouple(hAge)
	} else if chance(r, 0.6) {
		mother = h.add("head", personalid.Female, hAge-between(r, 0, 5), h.ethnic, h.family(h.ethnic))
		h.members[mother].marital = "widowed"
		father = none
	} else {
		father = h.add("head", personalid.Male, hAge, h.ethnic, h.family(h.ethnic))
		h.members[father].marital = "widowed"
		mother = none
	}
	parent := mother
	if parent == none {
		parent = father
	}
	pAge := h.members[parent].age
	if mother == none {
		pAge -= 3
	}
	cAge := pAge - between(r, 20, 32)
	if cAge < 22 {
		h.children(father, mother, "child")
		return
	}
	fam := ""
	if father != none {
		fam = h.members[father].family
	}
	var c, inLaw int
	if chance(r, 0.8) { // a son and his wife
		c, inLaw = h.couple(cAge, "child", "child_in_law")
	} else { // a daughter and her husband
		inLaw, c = h.couple(cAge+between(r, 0, 6), "child_in_law", "child")
		h.members[c].age = cAge
	}
	if fam != "" {
		h.members[c].family = fam
	}
	h.members[c].ethnic = h.members[parent].ethnic
	h.members[c].father, h.members[c].mother = father, mother
	h.members[c].local = true
	if h.members[c].sex == personalid.Male {
		h.children(c, inLaw, "grandchild")
	} else {
		h.children(inLaw, c, "grandchild")
	}
	if chance(r, 0.3) {
		age := cAge - between(r, 2, 10)
		if age >= 0 {
			y := h.add("child", childSex(r, h.g.today.Year()-age), age, h.members[parent].ethnic, fam)
			if fam == "" {
				h.members[y].family = h.family(h.members[y].ethnic)
			}
			h.members[y].father, h.members[y].mother = father, mother
			h.members[y].local = true
			h.members[y].marital = minorOrSingle(age)
		}
	}
}

// extras sometimes adds a sibling of the head, another relative or an
// unrelated person.
func (h *household) extras() {
	r := h.r
	head := &h.members[0]
	switch x := r.Float64(); {
	case x < 0.03 && head.age >= 18:
		age := max(15, head.age+between(r, -12, 6))
		s := h.add("sibling", childSex(r, h.g.today.Year()-age), age, head.ethnic, "")
		h.members[s].family = h.members[0].family
		h.members[s].father, h.members[s].mother = h.members[0].father, h.members[0].mother
		// Siblings share the head's parents when those live here and are
		// old enough to be theirs.
		for _, pp := range []*int{&h.members[s].father, &h.members[s].mother} {
			if q := *pp; q != none && h.members[q].age-age < 19 {
				*pp = none
			}
		}
		h.members[s].marital = singleStatus(r, age, h.members[s].sex)
	case x < 0.045:
		age := between(r, 5, 25)
		p := h.add("relative", childSex(r, h.g.today.Year()-age), age, h.ethnic, h.family(h.ethnic))
		h.members[p].marital = minorOrSingle(age)
	case x < 0.055:
		age := between(r, 18, 60)
		eth := h.outsider()
		sex := childSex(r, 2000)
		p := h.add("other", sex, age, eth, h.family(eth))
		h.members[p].marital = singleStatus(r, age, sex)
	}
}
