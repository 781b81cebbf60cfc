// Package codelist holds the code lists the law gives for citizen fields:
// ethnicity (with the code system each code belongs to), religion,
// nationality, blood type, marital status and relationship to the household
// head. Each list is data, looked up by code; the registry stores codes.
package codelist

import (
	"sort"
	"strings"
)

// Entry is one code with its Vietnamese name.
type Entry struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// List is an ordered code list.
type List struct {
	System  string // identifies the code system, stored beside every code
	entries []Entry
	byCode  map[string]int
}

func newList(system string, entries []Entry) *List {
	l := &List{System: system, entries: entries, byCode: make(map[string]int, len(entries))}
	for i, e := range entries {
		l.byCode[e.Code] = i
	}
	return l
}

// Name returns the name for code.
func (l *List) Name(code string) (string, bool) {
	i, ok := l.byCode[code]
	if !ok {
		return "", false
	}
	return l.entries[i].Name, true
}

// Has reports whether code is in the list.
func (l *List) Has(code string) bool { _, ok := l.byCode[code]; return ok }

// Entries returns the list in its official order.
func (l *List) Entries() []Entry { return append([]Entry(nil), l.entries...) }

// Hint returns a short description of valid codes for error messages.
func (l *List) Hint() string {
	if len(l.entries) <= 14 {
		codes := make([]string, len(l.entries))
		for i, e := range l.entries {
			codes[i] = e.Code
		}
		return "one of " + strings.Join(codes, ", ")
	}
	return "a code of " + l.System + " (see GET /api/v1/codes)"
}

// Lists is every code list, built once by New and read-only after.
type Lists struct {
	Ethnicity     map[string]*List // by code system
	Religion      *List
	Nationality   *List
	BloodType     *List
	MaritalStatus *List
	HouseholdRel  *List
	DefaultEthnic string // the code system new records use
}

// New builds the code lists.
func New() *Lists {
	nat := make([]Entry, 0, len(iso3166))
	for c, n := range iso3166 {
		nat = append(nat, Entry{Code: c, Name: n})
	}
	sort.Slice(nat, func(i, j int) bool { return nat[i].Code < nat[j].Code })
	return &Lists{
		Ethnicity: map[string]*List{
			EthnicGSO2008: newList(EthnicGSO2008, ethnicGSO2008),
			EthnicGSO1979: newList(EthnicGSO1979, ethnicGSO1979),
		},
		DefaultEthnic: EthnicGSO2008,
		Religion:      newList("dancu-religion-2024", religions),
		Nationality:   newList("ISO 3166-1 alpha-3", nat),
		BloodType:     newList("ABO/Rh", bloodTypes),
		MaritalStatus: newList("dancu-marital-2024", maritalStatuses),
		HouseholdRel:  newList("dancu-household-relationship-2024", householdRels),
	}
}

// Ethnic returns the ethnicity list of a code system.
func (l *Lists) Ethnic(system string) (*List, bool) {
	x, ok := l.Ethnicity[system]
	return x, ok
}
