package synth

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/registry"
)

// share is a count over a total, for messages.
type share struct{ n, of int }

func (s share) v() float64 { return float64(s.n) / float64(max(s.of, 1)) }

// within fails the test when a measured share lies outside [lo, hi].
func within(t *testing.T, what string, got float64, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %.4f, want %.4f–%.4f", what, got, lo, hi)
	} else {
		t.Logf("%s = %.4f (%.4f–%.4f)", what, got, lo, hi)
	}
}

// TestStatistics checks that 100,000 people look like Viet Nam's
// population, within the stated tolerances.
func TestStatistics(t *testing.T) {
	recs, _, st := generate(t, Config{Count: 100000, Seed: 2026})
	n := len(recs)
	var (
		male, male04, female04                 int
		kinhN, nguyen, kinhNguyen              int
		menKinh, menTwo, womenKinh, womenTwo   int
		thi, ngoc, womenWithMiddle             int
		age014, age1564, age65, age80          int
		noReligion, buddhist, catholic, withVN int
		byEthnic                               = map[string]map[string]int{}
		// Kinh family names by region: north or south of the Gianh, and Nghệ An.
		north, south, ngheAnKinh = map[string]int{}, map[string]int{}, map[string]int{}
	)
	today := defaultToday
	for _, r := range recs {
		dob, _ := time.Parse(time.DateOnly, r.BirthDate)
		age := ageOn(dob, today)
		if dob.Year() < 1925 || dob.After(today) {
			t.Fatalf("%s born %s", r.PID, r.BirthDate)
		}
		switch {
		case age < 15:
			age014++
		case age < 65:
			age1564++
		default:
			age65++
		}
		if age >= 80 {
			age80++
		}
		if r.Sex == "male" {
			male++
		}
		if age < 5 {
			if r.Sex == "male" {
				male04++
			} else {
				female04++
			}
		}
		code := r.Ethnicity.Code
		if byEthnic[code] == nil {
			byEthnic[code] = map[string]int{}
		}
		byEthnic[code][r.PermanentResidence.Province]++
		if r.Name.Family == "Nguyễn" {
			nguyen++
		}
		if code == kinh {
			switch prov := r.PermanentResidence.Province; {
			case prov == ngheAn:
				ngheAnKinh[r.Name.Family]++
				ngheAnKinh[""]++
			case prov < southOf:
				north[r.Name.Family]++
			default:
				south[r.Name.Family]++
			}
			kinhN++
			if r.Name.Family == "Nguyễn" {
				kinhNguyen++
			}
			two := strings.Count(r.Name.Middle, " ") == 1
			if r.Sex == "male" {
				menKinh++
				if two {
					menTwo++
				}
			} else {
				womenKinh++
				if two {
					womenTwo++
				}
				if r.Name.Middle != "" {
					womenWithMiddle++
					switch strings.Fields(r.Name.Middle)[0] {
					case "Thị":
						thi++
					case "Ngọc":
						ngoc++
					}
				}
			}
		}
		switch r.Religion {
		case "00":
			noReligion++
		case "01":
			buddhist++
		case "02":
			catholic++
		}
		if r.Nationality == "VNM" {
			withVN++
		}
	}
	within(t, "males per female", float64(male)/float64(n-male), 0.95, 1.04)
	within(t, "males per female aged 0–4", float64(male04)/float64(female04), 1.03, 1.20)
	within(t, "Kinh share", share{kinhN, n}.v(), 0.80, 0.90)
	// DOMAIN.md §8 gives Nguyễn 38.4% of Kinh-style names; with the ethnic
	// groups' own family names the share of everyone is lower.
	within(t, "Nguyễn among the Kinh", share{kinhNguyen, kinhN}.v(), 0.35, 0.42)
	within(t, "Nguyễn among everyone", share{nguyen, n}.v(), 0.30, 0.40)
	// DOMAIN.md §8: 26.1% of men and 64.6% of women have four-word names.
	within(t, "Kinh men with two middle names", share{menTwo, menKinh}.v(), 0.211, 0.311)
	within(t, "Kinh women with two middle names", share{womenTwo, womenKinh}.v(), 0.596, 0.696)
	within(t, "Thị as a woman's first middle name", share{thi, womenWithMiddle}.v(), 0.17, 0.45)
	within(t, "Ngọc as a woman's first middle name", share{ngoc, womenWithMiddle}.v(), 0.17, 0.30)
	// 2019 census and the 2024 estimates: 0–14 about 23%, 15–64 about 68%,
	// 65 and over about 9%, 80 and over about 2%.
	within(t, "aged 0–14", share{age014, n}.v(), 0.20, 0.26)
	within(t, "aged 15–64", share{age1564, n}.v(), 0.64, 0.72)
	within(t, "aged 65+", share{age65, n}.v(), 0.07, 0.12)
	within(t, "aged 80+", share{age80, n}.v(), 0.01, 0.035)
	within(t, "mean household size", float64(n)/float64(st.Households), 3.2, 3.8)
	within(t, "no religion", share{noReligion, n}.v(), 0.75, 0.92)
	within(t, "Buddhists", share{buddhist, n}.v(), 0.02, 0.12)
	within(t, "Catholics", share{catholic, n}.v(), 0.03, 0.12)
	within(t, "nationality VNM", share{withVN, n}.v(), 1, 1)
	// Minorities live in their own regions.
	for _, c := range []struct {
		what      string
		groups    []string
		provinces []string
		min       float64
	}{
		{"Khơ Me in the Mekong delta", []string{"05"}, []string{"86", "91", "92", "96", "79", "75", "80", "82"}, 0.95},
		{"Hoa in Hồ Chí Minh City", []string{"06"}, []string{"79"}, 0.5},
		{"Tày, Nùng, Mông, Dao, Thái in the north and the highlands", []string{"02", "03", "07", "08", "09"},
			[]string{"01", "04", "08", "11", "12", "14", "15", "19", "20", "22", "24", "25", "38", "40", "52", "66", "68", "75", "79"}, 0.99},
		{"Gia Rai, Ê Đê, Ba Na in the Central Highlands", []string{"10", "11", "12"}, []string{"51", "52", "66", "68"}, 1},
		{"Chăm in the south-central coast and the south", []string{"14"}, []string{"52", "56", "66", "68", "79", "80", "91"}, 1},
	} {
		in, all := 0, 0
		for _, g := range c.groups {
			for p, k := range byEthnic[g] {
				all += k
				if slices.Contains(c.provinces, p) {
					in += k
				}
			}
		}
		if all == 0 {
			t.Errorf("%s: nobody", c.what)
			continue
		}
		within(t, c.what, share{in, all}.v(), c.min, 1)
	}
	// DOMAIN.md §8: Vũ ≫ Võ and Hoàng ≫ Huỳnh in the North, the reverse in
	// the South; Hồ is 4.2% in Nghệ An (1.3% nationally).
	for _, c := range []struct {
		where     string
		names     map[string]int
		many, few string
	}{
		{"north", north, "Hoàng", "Huỳnh"}, {"north", north, "Vũ", "Võ"},
		{"south", south, "Huỳnh", "Hoàng"}, {"south", south, "Võ", "Vũ"},
	} {
		if c.names[c.many] < 5*c.names[c.few] || c.names[c.few] == 0 {
			t.Errorf("%s: %d %s against %d %s, want at least 5 times as many", c.where, c.names[c.many], c.many, c.names[c.few], c.few)
		}
	}
	within(t, "Hồ among the Kinh of Nghệ An", share{ngheAnKinh["Hồ"], ngheAnKinh[""]}.v(), 0.025, 0.06)
	checkHouseholds(t, recs)
}

// ageOn is the age in whole years on day.
func ageOn(dob, day time.Time) int {
	age := day.Year() - dob.Year()
	if day.YearDay() < dob.YearDay() {
		age--
	}
	return age
}

// checkHouseholds checks the members of every household: emitted
// together, one head, one address, consistent relatives.
func checkHouseholds(t *testing.T, recs []*registry.LegacyRecord) {
	t.Helper()
	done := map[string]bool{}
	for i := 0; i < len(recs); {
		id := recs[i].Household.HouseholdID
		if done[id] {
			t.Fatalf("household %s is not emitted in one piece", id)
		}
		done[id] = true
		j := i
		for j < len(recs) && recs[j].Household.HouseholdID == id {
			j++
		}
		checkHousehold(t, recs[i:j])
		i = j
	}
}

func checkHousehold(t *testing.T, hh []*registry.LegacyRecord) {
	t.Helper()
	byPID := map[string]*registry.LegacyRecord{}
	heads := 0
	for _, r := range hh {
		byPID[r.PID] = r
		if r.Household.Relationship == "head" {
			heads++
		}
		if *r.PermanentResidence != *hh[0].PermanentResidence {
			t.Fatalf("household %s: %s lives at %+v, the head at %+v", r.Household.HouseholdID, r.PID, *r.PermanentResidence, *hh[0].PermanentResidence)
		}
	}
	if heads != 1 || hh[0].Household.Relationship != "head" {
		t.Fatalf("household %s has %d heads (first member: %s)", hh[0].Household.HouseholdID, heads, hh[0].Household.Relationship)
	}
	for _, r := range hh {
		dob, _ := time.Parse(time.DateOnly, r.BirthDate)
		age := ageOn(dob, defaultToday)
		switch {
		case age < 16 && r.MaritalStatus != "":
			t.Errorf("%s aged %d has marital status %s", r.PID, age, r.MaritalStatus)
		case r.MaritalStatus == "married" && (r.Sex == "male" && age < 20 || r.Sex == "female" && age < 18):
			t.Errorf("%s is married at %d", r.PID, age)
		}
		if s := r.Spouse; s != nil {
			sp := byPID[s.PID]
			switch {
			case sp == nil:
				t.Fatalf("%s: spouse %s is not in the household", r.PID, s.PID)
			case sp.Sex == r.Sex:
				t.Errorf("%s and spouse %s are both %s", r.PID, sp.PID, r.Sex)
			case sp.Spouse == nil || sp.Spouse.PID != r.PID:
				t.Errorf("%s names spouse %s, who does not name them", r.PID, sp.PID)
			case r.MaritalStatus != "married" || s.Name != sp.Name.Full():
				t.Errorf("%s: spouse %s: status %s, name %q for %q", r.PID, sp.PID, r.MaritalStatus, s.Name, sp.Name.Full())
			}
		}
		for _, p := range []struct {
			rel *registry.Relative
			sex string
		}{{r.Father, "male"}, {r.Mother, "female"}} {
			if p.rel == nil {
				continue
			}
			parent := byPID[p.rel.PID]
			if parent == nil {
				t.Fatalf("%s: parent %s is not in the household", r.PID, p.rel.PID)
			}
			pdob, _ := time.Parse(time.DateOnly, parent.BirthDate)
			gap := ageOn(pdob, dob)
			if string(parent.Sex) != p.sex || gap < 15 || gap > 60 || p.rel.Name != parent.Name.Full() {
				t.Errorf("%s born %s: %s parent %s born %s (%d years older), named %q", r.PID, r.BirthDate, parent.Sex, parent.PID, parent.BirthDate, gap, p.rel.Name)
			}
		}
		if r.Father != nil && r.Father.PID != "" && byPID[r.Father.PID].Name.Family != r.Name.Family {
			t.Errorf("%s (%s) does not carry the family name of father %s", r.PID, r.Name.Full(), r.Father.Name)
		}
	}
}
