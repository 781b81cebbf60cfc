package synth

import (
	"math/rand/v2"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/registry"
)

// bloodTypes are the ABO groups in Viet Nam: O about 42%, B 31%, A 21%,
// AB 6%. Rh-negative is rare (well under 1%) and left out.
var bloodTypes = table([]entry{{"O", 42}, {"B", 31}, {"A", 21}, {"AB", 6}})

// fill completes the members of a built household: dates of birth,
// religion, names, where each birth was registered, place of origin,
// contact data and personal ID numbers.
func (g *generator) fill(h *household) error {
	r := g.r
	religion := g.places.religionOf(r, h.c, h.ethnic)
	for i := range h.members {
		p := &h.members[i]
		// Born in (today - age - 1 years, today - age years]: exactly age
		// years old today.
		hi, lo := g.yearsAgo[p.age], g.yearsAgo[p.age+1]
		p.birth = hi - r.IntN(hi-lo)
		p.date, p.year = date(p.birth)
		p.religion = religion
		if p.ethnic != h.ethnic || (p.father == none && p.mother == none && p.rel != "head" && chance(r, 0.15)) {
			p.religion = g.places.religionOf(r, h.c, p.ethnic)
		}
	}
	for i := range h.members {
		p := &h.members[i]
		motherFamily := ""
		if p.mother != none {
			motherFamily = h.members[p.mother].family
		}
		p.middle, p.given = g.names.given(r, p.ethnic, p.sex, p.year, motherFamily)
		p.reg = g.registration(h.c, p)
		p.phone, p.blood, p.oldID = "", "", ""
		if p.age >= 18 && chance(r, 0.75) {
			p.phone = digits(r, "0"+oneOf(r, mobilePrefixes), 8)
		}
		if chance(r, 0.25) {
			p.blood = bloodTypes.pick(r)
		}
		// The 9-digit CMND was issued until 2016 (and the 12-digit card
		// since); adults of then may still have one on file.
		if p.year <= 2000 && chance(r, 0.4) {
			p.oldID = digits(r, oneOf(r, cmndPrefixes), 7)
		}
		p.full = ""
	}
	for i := range h.members {
		h.originOf(i)
	}
	for i := range h.members {
		p := &h.members[i]
		pid, err := g.pids.issue(p.reg.province, p.sex, p.year, false)
		if err != nil {
			return err
		}
		p.pid = pid
	}
	return nil
}

// mobilePrefixes are the second digits of Vietnamese mobile numbers.
var mobilePrefixes = []string{"3", "5", "7", "8", "9", "9", "9"}

// cmndPrefixes start old 9-digit CMND numbers (by the issuing province).
var cmndPrefixes = []string{"01", "02", "03", "04", "05", "06", "07", "08", "09", "12", "13", "14", "16", "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38"}

// digits appends n random digits to prefix.
func digits(r *rand.Rand, prefix string, n int) string {
	b := make([]byte, 0, len(prefix)+n)
	b = append(b, prefix...)
	for i := 0; i < n; i++ {
		b = append(b, byte('0'+r.IntN(10)))
	}
	return string(b)
}

// registration draws where a birth was registered. Births since the
// July 2025 reform are registered in the new units; earlier ones in a
// 2022 commune: one of those merged into where the household lives, or,
// for people who moved, one anywhere in the country.
func (g *generator) registration(c *commune, p *person) place {
	if p.birth >= g.reformDays {
		return place{string(adminunit.Scheme2025), provinces[c.province].code, c.code}
	}
	home := c
	if !p.local && chance(g.r, provinces[c.province].migrants) {
		home = g.places.commune(g.r)
	}
	old, ok := birthCommune(g.r, home)
	if !ok {
		return place{string(adminunit.Scheme2022), provinces[home.province].code, ""}
	}
	return place{string(adminunit.Scheme2022), old.Province, old.Code}
}

// originOf sets the place of origin (quê quán) of member i: the father's,
// else the mother's, else the province where the birth was registered.
func (h *household) originOf(i int) place {
	p := &h.members[i]
	if p.origin.scheme != "" {
		return p.origin
	}
	var o place
	switch {
	case p.father != none:
		o = h.originOf(p.father)
	case p.mother != none:
		o = h.originOf(p.mother)
	default:
		o = place{scheme: p.reg.scheme, province: p.reg.province}
	}
	h.members[i].origin = o
	return o
}

// fullName returns member i's name written out.
func (h *household) fullName(i int) string {
	p := &h.members[i]
	if p.full == "" {
		p.full = registry.Name{Family: p.family, Middle: p.middle, Given: p.given}.Full()
	}
	return p.full
}

// record builds the record of member i.
func (g *generator) record(h *household, i int, householdID string, addr registry.Address) *registry.LegacyRecord {
	p := &h.members[i]
	rec := &registry.LegacyRecord{
		PID:       p.pid,
		Household: &registry.JoinHousehold{HouseholdID: householdID, Relationship: p.rel},
	}
	d := &rec.Details
	d.Name = registry.Name{Family: p.family, Middle: p.middle, Given: p.given}
	d.BirthDate = p.date
	d.Sex = p.sex
	d.BirthRegistrationPlace = &registry.Address{Scheme: p.reg.scheme, Province: p.reg.province, Commune: p.reg.commune}
	d.PlaceOfOrigin = &registry.Address{Scheme: p.origin.scheme, Province: p.origin.province}
	d.Ethnicity = &registry.Ethnicity{System: codelist.EthnicGSO2008, Code: p.ethnic}
	d.Religion = p.religion
	d.Nationality = "VNM"
	d.BloodType, d.OldIDNumber, d.Phone = p.blood, p.oldID, p.phone
	d.Father = h.relative(p.father)
	d.Mother = h.relative(p.mother)
	d.Spouse = h.relative(p.spouse)
	a := addr
	d.PermanentResidence = &a
	d.MaritalStatus = p.marital
	return rec
}

func (h *household) relative(i int) *registry.Relative {
	if i == none {
		return nil
	}
	return &registry.Relative{PID: h.members[i].pid, Name: h.fullName(i)}
}
