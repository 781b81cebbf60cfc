// Package indicator keeps the campaign's indicators — people, e-ID
// applications and accounts, cards, dossiers and their on-time rate — by
// unit and month, pre-aggregated so that a dashboard of the whole country
// reads a few hundred rows whatever the population. The counts come from
// the services that own the data (Source); Rebuild recomputes every row in
// one transaction and runs in the background at a stated interval, so a
// dashboard is at most that old, and says how old.
package indicator

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/workday"
)

// The indicators.
const (
	People          = "people"           // people alive with a permanent residence in the unit (a stock, in the month of the build)
	Births          = "births"           // births registered (a number assigned at birth), by the child's commune
	EIDReceived     = "eid_received"     // e-ID applications received
	EIDApproved     = "eid_approved"     // e-ID applications approved
	EIDActivated    = "eid_activated"    // e-ID accounts activated
	CardReceived    = "card_received"    // card applications received
	CardPrinted     = "card_printed"     // cards produced
	CardDelivered   = "card_delivered"   // cards handed over
	DossierReceived = "dossier_received" // residence dossiers received (the deadline starts)
	DossierDecided  = "dossier_decided"  // residence dossiers decided
	DossierOnTime   = "dossier_on_time"  // of those, decided by their deadline
)

// Names lists the indicators in the order dashboards show them.
var Names = []string{People, Births, EIDReceived, EIDApproved, EIDActivated, CardReceived, CardPrinted, CardDelivered, DossierReceived, DossierDecided, DossierOnTime}

// Nation is the unit of the whole country.
const Nation = "VN"

// Tally is a count of a commune in a month (YYYY-MM, Vietnam time).
type Tally struct {
	Commune, Month, Name string
	N                    int64
}

// Source is a service that counts what it owns, since a time.
type Source interface {
	Tallies(ctx context.Context, since time.Time) ([]Tally, error)
}

// Total is the month of a unit's rows that hold its totals over the
// months kept (the drill-down's table reads them, not every month).
const Total = ""

// Months is how many months the indicators keep.
const Months = 12

// Service keeps and reads the indicators.
type Service struct {
	db      *sqldb.DB
	units   *adminunit.Catalog
	policy  *access.Policy
	sources []Source
	now     func() time.Time

	refresh     sync.Mutex
	lastRefresh time.Time
}

// NewService returns the indicator service over the sources.
func NewService(db *sqldb.DB, units *adminunit.Catalog, policy *access.Policy, now func() time.Time, sources ...Source) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, units: units, policy: policy, sources: sources, now: now}
}

// MonthsUntil are the last n months up to t's month (Vietnam time), oldest first.
func MonthsUntil(t time.Time, n int) []string {
	t = workday.InVietnam(t)
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location())
	out := make([]string, n)
	for i := range n {
		out[n-1-i] = first.AddDate(0, -i, 0).Format("2006-01")
	}
	return out
}

// Rebuild recomputes every indicator from the sources and replaces the
// stored counts in one transaction: a dashboard sees the old counts or
// the new, never half.
func (s *Service) Rebuild(ctx context.Context) error {
	start := s.now()
	months := MonthsUntil(start, Months)
	first, _ := time.ParseInLocation("2006-01", months[0], workday.InVietnam(start).Location())
	sums := map[[3]string]int64{}
	for _, src := range s.sources {
		ts, err := src.Tallies(ctx, first)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.N == 0 || !slices.Contains(months, t.Month) {
				continue
			}
			units := []string{Nation}
			if c, ok := s.units.Commune(adminunit.Scheme2025, t.Commune); ok {
				units = append(units, c.Province, c.Code)
			}
			for _, u := range units {
				sums[[3]string{u, t.Month, t.Name}] += t.N
			}
		}
	}
	// The 12-month totals of each unit, for the drill-down's table, are
	// rows of month Total.
	for k, n := range sums {
		if k[1] != Total {
			sums[[3]string{k[0], Total, k[2]}] += n
		}
	}
	took := s.now().Sub(start)
	keys := make([][3]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [3]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]), strings.Compare(a[2], b[2]))
	})
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Write first: rebuilds, in any process, follow one another (a
		// lock on PostgreSQL; SQLite's one writer).
		if err := s.db.Dialect.LockKey(ctx, tx, "indicator rebuild"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM indicator_build`); err != nil {
			return err
		}
		// Only what changed is written: between two rebuilds five minutes
		// apart most counts are the same, and the write stays short.
		have := make(map[[3]string]int64, len(sums))
		rows, err := tx.QueryContext(ctx, `SELECT unit, month, name, n FROM indicator_count`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k [3]string
			var n int64
			if err := rows.Scan(&k[0], &k[1], &k[2], &n); err != nil {
				rows.Close()
				return err
			}
			have[k] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var gone [][3]string
		for k := range have {
			if _, ok := sums[k]; !ok {
				gone = append(gone, k)
			}
		}
		for _, k := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM indicator_count WHERE unit = $1 AND month = $2 AND name = $3`, k[0], k[1], k[2]); err != nil {
				return err
			}
		}
		// Many rows to a statement, in key order: a first national build
		// writes units × months × indicators rows.
		const per = 5000
		batch := make([][4]any, 0, per)
		insert := `INSERT INTO indicator_count (unit, month, name, n) ` + s.db.Dialect.JSONRows("$1", "text", "text", "text", "int") +
			` WHERE true ON CONFLICT (unit, month, name) DO UPDATE SET n = excluded.n`
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			js, err := json.Marshal(batch)
			if err != nil {
				return err
			}
			batch = batch[:0]
			_, err = tx.ExecContext(ctx, insert, string(js))
			return err
		}
		for _, k := range keys {
			n := sums[k]
			if old, ok := have[k]; ok && old == n {
				continue
			}
			batch = append(batch, [4]any{k[0], k[1], k[2], n})
			if len(batch) == per {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO indicator_build (id, built_at, took_ms) VALUES (1, $1, $2)`, s.now().UTC(), took.Milliseconds())
		return err
	})
}

// Board is what a dashboard shows of a unit: each indicator by month, and
// the same for each unit below it (the drill-down), as of BuiltAt.
type Board struct {
	Unit     string
	Parent   string // the unit above, "" for the nation
	Months   []string
	Counts   map[string]map[string]int64 // indicator → month → count
	Children []Child
	BuiltAt  time.Time
}

// Child is a unit below with its totals over the months.
type Child struct {
	Unit   string
	Totals map[string]int64
}

// Read returns the board of a unit ("" for the officer's own) to an
// officer whose jurisdiction covers it.
func (s *Service) Read(ctx context.Context, unit string) (Board, error) {
	a, err := access.Require(ctx, access.ReadCitizen)
	if err != nil {
		return Board{}, err
	}
	if unit == "" {
		switch a.Jurisdiction.Level {
		case actor.National:
			unit = Nation
		case actor.Province, actor.Commune:
			unit = a.Jurisdiction.Code
		default:
			return Board{}, errs.E(errs.Forbidden, "dashboards are by nation, province or commune")
		}
	}
	b := Board{Unit: unit, Months: MonthsUntil(s.now(), Months), Counts: map[string]map[string]int64{}}
	var children []string
	switch {
	case unit == Nation:
		if a.Kind != actor.System && a.Jurisdiction.Level != actor.National {
			return Board{}, errs.E(errs.Forbidden, "the national dashboard is for national officers")
		}
		for _, p := range s.units.Units(adminunit.Scheme2025, adminunit.LevelProvince) {
			children = append(children, p.Code)
		}
	case len(unit) == 2:
		p, ok := s.units.Province(adminunit.Scheme2025, unit)
		if !ok {
			return Board{}, errs.Field("unit", "%q is not a current province", unit)
		}
		if a.Kind != actor.System && a.Jurisdiction.Level != actor.National && !(a.Jurisdiction.Level == actor.Province && a.Jurisdiction.Code == p.Code) {
			return Board{}, errs.E(errs.Forbidden, "outside your jurisdiction")
		}
		b.Parent = Nation
		for _, c := range s.units.Children(adminunit.Scheme2025, p.Code) {
			children = append(children, c.Code)
		}
	default:
		c, ok := s.units.Commune(adminunit.Scheme2025, unit)
		if !ok {
			return Board{}, errs.Field("unit", "%q is not a current commune", unit)
		}
		if a.Kind != actor.System && !s.policy.Covers(a.Jurisdiction, access.Place{Scheme: adminunit.Scheme2025, Commune: c.Code}) {
			return Board{}, errs.E(errs.Forbidden, "outside your jurisdiction")
		}
		b.Parent = c.Province
	}
	if b.Parent != "" && !s.mayRead(a, b.Parent) {
		b.Parent = "" // the officer sees no further up
	}
	rows, err := s.db.QueryContext(ctx, `SELECT month, name, n FROM indicator_count WHERE unit = $1 AND month <> $2`, unit, Total)
	if err != nil {
		return Board{}, err
	}
	for rows.Next() {
		var m, n string
		var v int64
		if err := rows.Scan(&m, &n, &v); err != nil {
			rows.Close()
			return Board{}, err
		}
		if b.Counts[n] == nil {
			b.Counts[n] = map[string]int64{}
		}
		b.Counts[n][m] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Board{}, err
	}
	if len(children) > 0 {
		totals := map[string]map[string]int64{}
		q, arg := s.db.Dialect.AnyOf("unit", 1, children)
		rows, err := s.db.QueryContext(ctx, `SELECT unit, name, n FROM indicator_count WHERE `+q+` AND month = $2`, arg, Total)
		if err != nil {
			return Board{}, err
		}
		for rows.Next() {
			var u, n string
			var v int64
			if err := rows.Scan(&u, &n, &v); err != nil {
				rows.Close()
				return Board{}, err
			}
			if totals[u] == nil {
				totals[u] = map[string]int64{}
			}
			totals[u][n] = v
		}
		rows.Close()
		for _, c := range children {
			b.Children = append(b.Children, Child{Unit: c, Totals: totals[c]})
		}
	}
	var built time.Time
	err = s.db.QueryRowContext(ctx, `SELECT built_at FROM indicator_build WHERE id = 1`).Scan(&built)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Board{}, err
	}
	b.BuiltAt = built.UTC()
	return b, nil
}

// mayRead reports whether an officer may read the board of a unit above
// a commune: the nation for national officers, a province for them and
// its own officers.
func (s *Service) mayRead(a *actor.Actor, unit string) bool {
	if a.Kind == actor.System || a.Jurisdiction.Level == actor.National {
		return true
	}
	return unit != Nation && a.Jurisdiction.Level == actor.Province && a.Jurisdiction.Code == unit
}

// Staleness is how old the indicators may be: the background rebuild's
// interval.
const Staleness = 5 * time.Minute

// BuiltAt is when the indicators were last built (zero if never).
func (s *Service) BuiltAt(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := s.db.QueryRowContext(ctx, `SELECT built_at FROM indicator_build WHERE id = 1`).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return t.UTC(), err
}

// RefreshGap is the least time between two rebuilds officers ask for (in
// this process): a button pressed by many is one build.
const RefreshGap = 30 * time.Second

// Refresh rebuilds the indicators at an officer's request, unless one was
// asked for less than RefreshGap ago; requests wait for a rebuild under
// way instead of starting another.
func (s *Service) Refresh(ctx context.Context) error {
	if _, err := access.Require(ctx, access.ReadCitizen); err != nil {
		return err
	}
	s.refresh.Lock()
	defer s.refresh.Unlock()
	if !s.lastRefresh.IsZero() && s.now().Sub(s.lastRefresh) < RefreshGap {
		return nil
	}
	if err := s.Rebuild(ctx); err != nil {
		return err
	}
	s.lastRefresh = s.now()
	return nil
}

// Run rebuilds the indicators every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration, log func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Rebuild(ctx); err != nil && ctx.Err() == nil {
			log(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
