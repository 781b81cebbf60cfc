// Package synth generates a synthetic population that looks like Viet
// Nam's: households of realistic make-up at real 2025-scheme addresses,
// names drawn from the frequency tables of DOMAIN.md §8, ethnic groups
// where they live, and personal ID numbers that agree with each person's
// birth registration, sex and year of birth. On request it adds second
// records of some people as legacy data holds them (another number, typing
// errors, missing fields, old addresses), with the list of true pairs, to
// test import and de-duplication.
//
// The output depends only on the Config: the same seed gives the same
// records, byte for byte. Records stream out one at a time, so a
// population of any size takes the memory of one household.
package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/registry"
)

// Config says what to generate.
type Config struct {
	// Count is the number of people (duplicates not counted).
	Count int
	// Seed selects the population; the same seed gives the same output.
	Seed uint64
	// DupRate is the probability that a person also appears a second time,
	// as legacy data would hold them: 0 to 1.
	DupRate float64
	// Today is the date ages are reckoned from; zero means 1 January 2026,
	// so that the output does not depend on the clock. No one is born after
	// it.
	Today time.Time
}

// defaultToday is the reference date when Config.Today is zero.
var defaultToday = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// reform is the day the 2025 administrative units came into force: births
// from then on are registered in the new provinces and communes.
var reform = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)

// Stats counts what Generate produced.
type Stats struct {
	People     int // records of the population
	Households int
	Duplicates int // second records of people already emitted
}

// Records is the number of records emitted: people and duplicates.
func (s Stats) Records() int { return s.People + s.Duplicates }

// pendingCap bounds the duplicates held back before they are emitted.
// Holding them back a while, and letting them out in random order, keeps a
// duplicate away from its original, as in real data, in bounded memory.
const pendingCap = 1024

// Stream constants of the two random streams: the population, and the
// duplicates, kept apart so that the population does not change with the
// duplicate rate.
const (
	streamPeople     = 0x6461_6e63_7573_7931 // "dancusy1"
	streamDuplicates = 0x6461_6e63_7573_7932
)

type generator struct {
	cfg        Config
	r, dr      *rand.Rand
	today      time.Time
	yearsAgo   []int // day numbers of today n years ago, n = 0 … maxAge+1
	todayText  string
	reformDays int
	maxAge     int
	names      *names
	places     *places
	pids       *pidIssuer
	hhIDs      *householdIDs
	hh         household
	kinds      weighted[kind]
	pending    []pendingDup
	emit       func(*registry.LegacyRecord) error
	truth      func(original, duplicate string) error
	stats      Stats
}

type pendingDup struct {
	rec      *registry.LegacyRecord
	original string
}

// Generate produces cfg.Count people, household by household, passing each
// record to emit as soon as it is built; emit may keep the record.
// Duplicates (Config.DupRate) are emitted a while after their original,
// and each pair goes to truth (which may be nil) once both are out. An
// error from emit or truth stops the generation and is returned, as is
// the context's error when it is cancelled.
//
// Every record passes (*registry.Service).ValidateLegacy. Members of a
// household carry both the household (id and relationship to the head)
// and its address, with their parents and spouse among them named by
// personal ID number.
func Generate(ctx context.Context, cfg Config, units *adminunit.Catalog, emit func(*registry.LegacyRecord) error, truth func(original, duplicate string) error) (Stats, error) {
	if emit == nil {
		return Stats{}, errors.New("synth: emit is nil")
	}
	g, err := newGenerator(cfg, units)
	if err != nil {
		return Stats{}, err
	}
	g.emit, g.truth = emit, truth
	for g.stats.People < cfg.Count {
		if g.stats.Households%256 == 0 {
			if err := ctx.Err(); err != nil {
				return g.stats, err
			}
		}
		if err := g.household(cfg.Count - g.stats.People); err != nil {
			return g.stats, err
		}
	}
	return g.stats, g.flush()
}

// Check reports what is wrong with a Config, naming the field.
func (c Config) Check() error {
	switch {
	case c.Count < 0:
		return fmt.Errorf("count must not be negative, got %d", c.Count)
	case math.IsNaN(c.DupRate) || c.DupRate < 0 || c.DupRate > 1:
		return fmt.Errorf("dup rate must be between 0 and 1, got %v", c.DupRate)
	case !c.Today.IsZero() && (c.Today.Year() < 2000 || c.Today.Year() > 2299):
		return fmt.Errorf("today must lie in 2000–2299, got %s", c.Today.Format(time.DateOnly))
	}
	return nil
}

func newGenerator(cfg Config, units *adminunit.Catalog) (*generator, error) {
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if units == nil {
		return nil, errors.New("synth: no administrative units")
	}
	pl, err := newPlaces(units)
	if err != nil {
		return nil, err
	}
	today := cfg.Today
	if today.IsZero() {
		today = defaultToday
	}
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	g := &generator{
		cfg:        cfg,
		r:          rand.New(rand.NewPCG(cfg.Seed, streamPeople)),
		dr:         rand.New(rand.NewPCG(cfg.Seed, streamDuplicates)),
		today:      today,
		todayText:  today.Format(time.DateOnly),
		reformDays: days(reform),
		// No one is older than 99 or born before 1926 (so after 1900,
		// from which the personal ID number can encode a year).
		maxAge: min(99, today.Year()-1926),
		names:  newNames(),
		places: pl,
		pids:   newPIDIssuer(cfg.Seed),
		hhIDs:  newHouseholdIDs(cfg.Seed),
	}
	for n := 0; n <= g.maxAge+1; n++ {
		g.yearsAgo = append(g.yearsAgo, days(today.AddDate(-n, 0, 0)))
	}
	for _, k := range kindWeights {
		g.kinds.add(k.k, k.w)
	}
	g.hh.g, g.hh.r = g, g.r
	return g, nil
}

// household builds one household of at most room people and emits it.
func (g *generator) household(room int) error {
	h := &g.hh
	h.c = g.places.commune(g.r)
	h.ethnic = g.places.ethnic[h.c.province].pick(g.r)
	for tries := 0; ; tries++ {
		h.members = h.members[:0]
		k := g.kinds.pick(g.r)
		if tries >= 8 {
			k = kindSingle
		}
		h.build(k)
		if len(h.members) <= room {
			break
		}
	}
	if len(h.members) < room {
		h.extras()
	}
	if err := g.fill(h); err != nil {
		return err
	}
	id := g.hhIDs.next()
	addr := registry.Address{Scheme: string(adminunit.Scheme2025), Province: provinces[h.c.province].code, Commune: h.c.code, Detail: detail(g.r, h.c, h.ethnic)}
	g.stats.Households++
	for i := range h.members {
		if err := g.emit(g.record(h, i, id, addr)); err != nil {
			return err
		}
		g.stats.People++
		if g.cfg.DupRate > 0 && chance(g.dr, g.cfg.DupRate) {
			dup, err := g.duplicate(h, i, addr)
			if err != nil {
				return err
			}
			if err := g.hold(pendingDup{dup, h.members[i].pid}); err != nil {
				return err
			}
		}
	}
	return nil
}

// hold keeps a duplicate back; when the buffer is full, a random one of
// those held goes out in its place.
func (g *generator) hold(d pendingDup) error {
	if len(g.pending) < pendingCap {
		g.pending = append(g.pending, d)
		return nil
	}
	j := g.dr.IntN(len(g.pending))
	out := g.pending[j]
	g.pending[j] = d
	return g.release(out)
}

// flush emits the duplicates still held, in random order.
func (g *generator) flush() error {
	for len(g.pending) > 0 {
		j := g.dr.IntN(len(g.pending))
		out := g.pending[j]
		last := len(g.pending) - 1
		g.pending[j] = g.pending[last]
		g.pending = g.pending[:last]
		if err := g.release(out); err != nil {
			return err
		}
	}
	return nil
}

func (g *generator) release(d pendingDup) error {
	if err := g.emit(d.rec); err != nil {
		return err
	}
	g.stats.Duplicates++
	if g.truth != nil {
		return g.truth(d.original, d.rec.PID)
	}
	return nil
}

// days is the number of days from 1970-01-01 to t.
func days(t time.Time) int { return int(t.Unix() / 86400) }

// date formats a day number as YYYY-MM-DD and returns its year.
func date(d int) (string, int) {
	y, m, dd := time.Unix(int64(d)*86400, 0).UTC().Date()
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-', byte('0' + dd/10), byte('0' + dd%10)}
	return string(b[:]), y
}
