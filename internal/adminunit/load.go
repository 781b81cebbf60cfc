package adminunit

import (
	"bytes"
	"cmp"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
)

// unitsGz is data/units.tsv.gz; scripts/adminunits/convert.mjs describes
// its format. A string, so that nothing can change it.
//
//go:embed data/units.tsv.gz
var unitsGz string

const header = "dancu-adminunit\t1"

// Catalog is the parsed code lists. It is never changed after Load, so its
// methods are safe for concurrent use; slices it returns are the caller's.
type Catalog struct {
	units    []Unit // by scheme, level, code
	byCode   map[unitKey]int32
	spans    map[levelKey][2]int32 // [start, end) of a scheme and level in units
	children map[unitKey][]int32   // parent → units directly below, by code
	nameKeys []string              // search key of units[i].Name
	fullKeys []string              // search key of units[i].FullName()

	succ map[unitKey][]int32 // pre-July-2025 commune → 2025 communes, main one first
	pred [][]int32           // by unit index: 2025 commune → 2022 communes, by code

	mappingRows int // M records in the data, one per row of the source package
}

// unitKey packs scheme, level and the numeric code into one integer: the
// maps over it hash far faster than over strings, which matters for Load.
type unitKey uint32

type levelKey struct {
	scheme Scheme
	level  Level
}

// codeDigits returns the length of a code at a level, 0 for no level.
func codeDigits(l Level) int {
	switch l {
	case LevelProvince:
		return 2
	case LevelDistrict:
		return 3
	case LevelCommune:
		return 5
	}
	return 0
}

// keyOf returns the key of a code, or false when the scheme or level is
// unknown or the code is not the right number of digits.
func keyOf(s Scheme, level Level, code string) (unitKey, bool) {
	var k uint32
	switch s {
	case Scheme2022:
		k = 1
	case Scheme2025:
		k = 2
	default:
		return 0, false
	}
	if n := codeDigits(level); n == 0 || len(code) != n {
		return 0, false
	}
	n := uint32(0)
	for i := 0; i < len(code); i++ {
		d := code[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + uint32(d)
	}
	return unitKey(k<<24 | uint32(level)<<20 | n), true
}

// mustKey is keyOf for codes already validated by record.
func mustKey(s Scheme, level Level, code string) unitKey {
	k, _ := keyOf(s, level, code)
	return k
}

// mappingRow is one M record: the old code, the new code, how each was
// found (c: given by the package, n: resolved from names, x: unresolved) and
// the 2022 commune named by the row when that is not the old code's.
type mappingRow struct {
	old, new, how, also string
}

// Load parses the embedded code lists into a new Catalog. It takes about
// 20 ms and 7 MB of allocations, so a program calls it once and shares the
// Catalog. An error means the embedded data is corrupt.
func Load() (*Catalog, error) {
	zr, err := gzip.NewReader(strings.NewReader(unitsGz))
	if err != nil {
		return nil, fmt.Errorf("adminunit: embedded data: %w", err)
	}
	// The gzip trailer holds the uncompressed size, so read into one buffer.
	var size uint32
	if n := len(unitsGz); n >= 4 {
		size = binary.LittleEndian.Uint32([]byte(unitsGz[n-4:]))
	}
	buf := bytes.NewBuffer(make([]byte, 0, int(size)+1))
	_, err = io.Copy(buf, zr)
	raw := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("adminunit: embedded data: %w", err)
	}
	return parse(string(raw))
}

func parse(text string) (*Catalog, error) {
	c := &Catalog{
		byCode:   make(map[unitKey]int32, 15000),
		spans:    make(map[levelKey][2]int32, 5),
		children: make(map[unitKey][]int32, 800),
	}
	c.units = make([]Unit, 0, 15000)
	rows := make([]mappingRow, 0, 11000)
	first := true
	for n := 1; text != ""; n++ {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		if first {
			if line != header {
				return nil, fmt.Errorf("adminunit: data starts with %q, want %q", line, header)
			}
			first = false
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		var f [6]string
		nf := split(line, &f)
		switch {
		case f[0] == "M" && nf == 5:
			rows = append(rows, mappingRow{old: f[1], new: f[2], how: f[3], also: f[4]})
		case (f[0] == "P" && nf == 5) || ((f[0] == "D" || f[0] == "C") && nf == 6):
			u, err := record(f)
			if err != nil {
				return nil, fmt.Errorf("adminunit: line %d: %w", n, err)
			}
			c.units = append(c.units, u)
		default:
			return nil, fmt.Errorf("adminunit: line %d: bad record %q", n, line)
		}
	}
	if err := c.buildIndex(); err != nil {
		return nil, err
	}
	if err := c.indexMapping(rows); err != nil {
		return nil, err
	}
	return c, nil
}

// split cuts a tab-separated line into f and returns the number of fields,
// or len(f)+1 when there are too many.
func split(line string, f *[6]string) int {
	for i := range f {
		var ok bool
		f[i], line, ok = strings.Cut(line, "\t")
		if !ok {
			return i + 1
		}
	}
	return len(f) + 1
}

func record(f [6]string) (Unit, error) {
	u := Unit{Scheme: Scheme(f[1]), Code: f[2], Type: f[3], Name: f[4], Parent: f[5]}
	switch f[0] {
	case "P":
		u.Level = LevelProvince
	case "D":
		u.Level = LevelDistrict
	case "C":
		u.Level = LevelCommune
	}
	if !u.Scheme.Valid() {
		return u, fmt.Errorf("unknown scheme %q", f[1])
	}
	if u.Level == LevelDistrict && u.Scheme != Scheme2022 {
		return u, fmt.Errorf("district %s in scheme %s", u.Code, u.Scheme)
	}
	if _, ok := keyOf(u.Scheme, u.Level, u.Code); !ok {
		return u, fmt.Errorf("bad %s code %q", u.Level, u.Code)
	}
	if u.Name == "" || u.Type == "" {
		return u, fmt.Errorf("%s %s has no name or type", u.Level, u.Code)
	}
	return u, nil
}

// buildIndex orders the units and builds the lookups over them.
func (c *Catalog) buildIndex() error {
	slices.SortFunc(c.units, func(a, b Unit) int {
		return cmp.Or(cmp.Compare(a.Scheme, b.Scheme), cmp.Compare(a.Level, b.Level), cmp.Compare(a.Code, b.Code))
	})
	for i, u := range c.units {
		k := mustKey(u.Scheme, u.Level, u.Code)
		if _, dup := c.byCode[k]; dup {
			return fmt.Errorf("adminunit: duplicate %s %s %s", u.Scheme, u.Level, u.Code)
		}
		c.byCode[k] = int32(i)
		lk := levelKey{u.Scheme, u.Level}
		span, ok := c.spans[lk]
		if !ok {
			span[0] = int32(i)
		}
		span[1] = int32(i + 1)
		c.spans[lk] = span
	}
	// Units are sorted by level, so a parent's Province is set before its
	// children look it up.
	for i := range c.units {
		u := &c.units[i]
		if u.Level == LevelProvince {
			u.Parent, u.Province = "", u.Code
			continue
		}
		parentLevel := LevelProvince
		if u.Level == LevelCommune && u.Scheme == Scheme2022 {
			parentLevel = LevelDistrict
		}
		pk, ok := keyOf(u.Scheme, parentLevel, u.Parent)
		p, found := c.byCode[pk]
		if !ok || !found {
			return fmt.Errorf("adminunit: %s %s %s: no %s %q", u.Scheme, u.Level, u.Code, parentLevel, u.Parent)
		}
		u.Province = c.units[p].Province
		c.children[pk] = append(c.children[pk], int32(i))
	}
	c.nameKeys = make([]string, len(c.units))
	c.fullKeys = make([]string, len(c.units))
	typeKeys := make(map[string]string)
	for i, u := range c.units {
		tk, ok := typeKeys[u.Type]
		if !ok {
			tk = searchKey(u.Type)
			typeKeys[u.Type] = tk
		}
		c.nameKeys[i] = searchKey(u.Name)
		c.fullKeys[i] = tk + c.nameKeys[i]
	}
	return nil
}

// indexMapping builds the old→new and new→old commune links. An old code's
// successors are listed in the order of trust: rows that give the code
// itself, then rows that name the commune after a 2023–2025 merger, then
// rows whose old commune was resolved from names; each in package order.
func (c *Catalog) indexMapping(rows []mappingRow) error {
	c.mappingRows = len(rows)
	c.succ = make(map[unitKey][]int32, 10600)
	c.pred = make([][]int32, len(c.units))
	add := func(old string, n int32) error {
		k, ok := keyOf(Scheme2022, LevelCommune, old)
		if !ok {
			return fmt.Errorf("adminunit: mapping: bad old code %q", old)
		}
		if !slices.Contains(c.succ[k], n) {
			c.succ[k] = append(c.succ[k], n)
		}
		if p, ok := c.byCode[k]; ok && !slices.Contains(c.pred[n], p) {
			c.pred[n] = append(c.pred[n], p)
		}
		return nil
	}
	newIdx := make([]int32, len(rows))
	for i, r := range rows {
		if len(r.how) != 2 {
			return fmt.Errorf("adminunit: mapping row %d: bad how %q", i+1, r.how)
		}
		newIdx[i] = -1
		if r.new == "" {
			continue
		}
		k, _ := keyOf(Scheme2025, LevelCommune, r.new)
		n, ok := c.byCode[k]
		if !ok {
			return fmt.Errorf("adminunit: mapping row %d: no 2025 commune %s", i+1, r.new)
		}
		newIdx[i] = n
	}
	for pass := 0; pass < 3; pass++ {
		for i, r := range rows {
			n := newIdx[i]
			if n < 0 {
				continue
			}
			old := ""
			switch {
			case pass == 0 && r.how[0] == 'c':
				old = r.old
			case pass == 1:
				old = r.also
			case pass == 2 && r.how[0] == 'n':
				old = r.old
			}
			if old == "" {
				continue
			}
			if err := add(old, n); err != nil {
				return err
			}
		}
	}
	for _, p := range c.pred {
		slices.Sort(p) // units are sorted by code, so this orders by code
	}
	return nil
}
