package adminunit

// canonicalProvince returns the 2-digit form of a province code, accepting the
// 3-digit form used in the first digits of personal ID numbers ("001" for
// Hà Nội).
func canonicalProvince(code string) string {
	if len(code) == 3 && code[0] == '0' {
		return code[1:]
	}
	return code
}

func (c *Catalog) lookup(s Scheme, level Level, code string) (Unit, bool) {
	i, ok := c.index(s, level, code)
	if !ok {
		return Unit{}, false
	}
	return c.units[i], true
}

func (c *Catalog) index(s Scheme, level Level, code string) (int32, bool) {
	k, ok := keyOf(s, level, code)
	if !ok {
		return 0, false
	}
	i, ok := c.byCode[k]
	return i, ok
}

// Unit returns the unit of the given scheme and level with the given code.
// A province code may have 2 or 3 digits, as for Province.
func (c *Catalog) Unit(s Scheme, level Level, code string) (Unit, bool) {
	if level == LevelProvince {
		code = canonicalProvince(code)
	}
	return c.lookup(s, level, code)
}

// Province returns a province of the scheme by its code, "01" or the
// ID-number form "001". The 2025 scheme has only the 34 provinces that
// survived the 2025 merger, under their old codes.
func (c *Catalog) Province(s Scheme, code string) (Unit, bool) {
	return c.lookup(s, LevelProvince, canonicalProvince(code))
}

// Commune returns a commune of the scheme by its 5-digit code.
func (c *Catalog) Commune(s Scheme, code string) (Unit, bool) {
	return c.lookup(s, LevelCommune, code)
}

// District returns a district of the 2022 scheme by its 3-digit code; the
// 2025 scheme has no districts.
func (c *Catalog) District(code string) (Unit, bool) {
	return c.lookup(Scheme2022, LevelDistrict, code)
}

// Units returns every unit of a scheme and level, ordered by code, or nil
// for a scheme without that level.
func (c *Catalog) Units(s Scheme, level Level) []Unit {
	span, ok := c.spans[levelKey{s, level}]
	if !ok {
		return nil
	}
	return append([]Unit(nil), c.units[span[0]:span[1]]...)
}

// Children returns the units directly below parentCode, ordered by code:
// the districts of a 2022 province ("01"), the communes of a 2022 district
// ("001"), or the communes of a 2025 province. In the 2025 scheme, which has
// no districts, a 3-digit code is read as the ID-number form of a province.
// It returns nil for an unknown code or a commune.
func (c *Catalog) Children(s Scheme, parentCode string) []Unit {
	level := LevelProvince
	switch {
	case s == Scheme2025:
		parentCode = canonicalProvince(parentCode)
	case len(parentCode) == codeDigits(LevelDistrict):
		level = LevelDistrict
	}
	k, ok := keyOf(s, level, parentCode)
	if !ok {
		return nil
	}
	return c.collect(c.children[k])
}

// InProvince reports whether the commune of the scheme lies in the province,
// given as "01" or "001". It is false when either code is unknown.
func (c *Catalog) InProvince(s Scheme, communeCode, provinceCode string) bool {
	u, ok := c.Commune(s, communeCode)
	if !ok {
		return false
	}
	p, ok := c.Province(s, provinceCode)
	return ok && u.Province == p.Code
}

// InDistrict reports whether a commune lies in a 2022 district. With
// Scheme2022 the commune is a 2022 commune; with Scheme2025 it is a 2025
// commune, and the answer is true if any 2022 commune merged into it (see
// Predecessors) lay in the district, so a new commune formed across a
// district boundary is in both districts.
func (c *Catalog) InDistrict(s Scheme, communeCode, districtCode string) bool {
	switch s {
	case Scheme2022:
		u, ok := c.Commune(Scheme2022, communeCode)
		return ok && u.Parent == districtCode
	case Scheme2025:
		i, ok := c.index(Scheme2025, LevelCommune, communeCode)
		if !ok {
			return false
		}
		for _, p := range c.pred[i] {
			if c.units[p].Parent == districtCode {
				return true
			}
		}
	}
	return false
}
