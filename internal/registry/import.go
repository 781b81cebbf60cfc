package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// ImportRow is a validated record ready for a bulk write: every column of
// every table it touches, computed once, outside the transaction.
type ImportRow struct {
	PID       string
	rec       Record
	proj      projection
	doc       string
	links     [][3]string // pid, role, other
	household *importHousehold
}

type importHousehold struct {
	id, head, commune, address string
}

// PrepareImport validates a record with the rules of RegisterExisting and
// computes what the bulk writer stores. The household of an imported record
// is taken from the file as given (the legacy system's household number and
// relationship), with the record's own permanent residence; a head founds
// its household.
func (s *Service) PrepareImport(in *LegacyRecord, now time.Time) (ImportRow, error) {
	tmp := *in
	if err := s.ValidateLegacy(&tmp); err != nil {
		return ImportRow{}, err
	}
	hh := tmp.Household
	now = now.UTC().Truncate(time.Microsecond)
	r := Record{PID: personalid.Number(tmp.PID), Version: 1, Status: tmp.Status, StatusDate: tmp.StatusDate, Details: tmp.Details,
		CreatedAt: now, UpdatedAt: now}
	if hh != nil {
		r.Household = &Membership{HouseholdID: hh.HouseholdID, Relationship: hh.Relationship}
	}
	doc, err := docOf(&r)
	if err != nil {
		return ImportRow{}, err
	}
	row := ImportRow{PID: tmp.PID, rec: r, proj: s.project(&r), doc: string(doc)}
	for _, l := range linkRoles {
		if rel := l.get(&r.Details); rel != nil && rel.PID != "" {
			row.links = append(row.links, [3]string{rel.PID, l.inverse, row.PID})
		}
	}
	if hh != nil {
		addr := "{}"
		if r.PermanentResidence != nil {
			b, _ := json.Marshal(r.PermanentResidence)
			addr = string(b)
		}
		h := &importHousehold{id: hh.HouseholdID, commune: row.proj.resCommune, address: addr}
		if hh.Relationship == "head" {
			h.head = row.PID
		}
		row.household = h
	}
	return row, nil
}

// ImportBatch writes a batch of prepared rows in one transaction and
// reports, for each row, whether it was new. A row whose personal ID number
// is already registered (or was ever issued) is left alone, so importing a
// file again changes nothing and a killed import completes when re-run.
// Rows must have distinct numbers. Requires WriteCitizen nationally.
func (s *Service) ImportBatch(ctx context.Context, rows []ImportRow, source string) ([]bool, error) {
	a, err := s.policy.RequireChange(ctx) // no place: national only
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	now := s.clock()
	var fresh map[string]bool
	if s.db.Dialect == sqldb.Postgres {
		fresh, err = importPostgres(ctx, s.db, rows, a, source, now)
	} else {
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			fresh, err = importSQLite(ctx, tx, rows, a, source, now)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(rows))
	for i, r := range rows {
		out[i] = fresh[r.PID]
	}
	return out, nil
}

// execEach runs one prepared single-row statement per row. In SQLite this
// is the fastest way in: modernc's driver binds each parameter by scanning
// the argument list, so a multi-row INSERT with thousands of parameters is
// quadratic, while a prepared statement is parsed once and binds a handful.
func execEach(ctx context.Context, tx *sql.Tx, query string, n int, row func(i int) []any, each func(i int, res sql.Result) error) error {
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := 0; i < n; i++ {
		res, err := stmt.ExecContext(ctx, row(i)...)
		if err != nil {
			return err
		}
		if each != nil {
			if err := each(i, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// CitizenColumns returns the values of the citizen row, in the column order
// of the citizen table; benchmarks insert them raw as a baseline.
func (r *ImportRow) CitizenColumns() []any { return citizenArgs(r) }

// CitizenInsert is the SQL the raw baseline inserts CitizenColumns with.
const CitizenInsert = `INSERT INTO ` + citizenCols + ` VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`

func revisionArgs(r *ImportRow, a *actor.Actor, reason string, now time.Time) []any {
	return []any{r.PID, int64(1), now, "import", a.ID, string(a.Kind), a.Name, reason, "", "", "[]"}
}

func citizenArgs(r *ImportRow) []any {
	return []any{r.PID, int64(1), string(r.rec.Status), r.rec.Name.Family, r.rec.Name.Middle, r.rec.Name.Given, r.proj.nameKey,
		r.rec.BirthDate, r.proj.birthYear, string(r.rec.Sex), r.proj.resCommune, r.proj.resProvince, r.proj.household, r.doc,
		r.rec.CreatedAt, r.rec.UpdatedAt}
}

const citizenCols = `citizen (pid, version, status, family_name, middle_name, given_name, name_key, birth_date, birth_year, sex,
	res_commune, res_province, household_id, doc, created_at, updated_at)`

const revisionCols = `citizen_revision (pid, version, at, action, actor_id, actor_kind, actor_name, reason, legal_basis, dossier_ref, changes)`

func importSQLite(ctx context.Context, tx *sql.Tx, rows []ImportRow, a *actor.Actor, source string, now time.Time) (map[string]bool, error) {
	fresh := make(map[string]bool, len(rows))
	err := execEach(ctx, tx, `INSERT INTO pid_issued (pid, origin, issued_at) VALUES ($1, 'legacy', $2) ON CONFLICT DO NOTHING`, len(rows),
		func(i int) []any { return []any{rows[i].PID, now} },
		func(i int, res sql.Result) error {
			n, err := res.RowsAffected()
			if n == 1 {
				fresh[rows[i].PID] = true
			}
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("import: issue numbers: %w", err)
	}
	keep := freshRows(rows, fresh)
	if len(keep) == 0 {
		return fresh, nil
	}
	reason := "imported from " + source
	if err := execEach(ctx, tx, CitizenInsert, len(keep),
		func(i int) []any { return citizenArgs(keep[i]) }, nil); err != nil {
		return nil, fmt.Errorf("import: citizens: %w", err)
	}
	if err := execEach(ctx, tx, `INSERT INTO `+revisionCols+` VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, len(keep),
		func(i int) []any { return revisionArgs(keep[i], a, reason, now) }, nil); err != nil {
		return nil, fmt.Errorf("import: revisions: %w", err)
	}
	links, households := linksAndHouseholds(keep)
	if err := execEach(ctx, tx, `INSERT INTO citizen_link (pid, role, other_pid, created_at) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING`, len(links),
		func(i int) []any { return []any{links[i][0], links[i][1], links[i][2], now} }, nil); err != nil {
		return nil, fmt.Errorf("import: links: %w", err)
	}
	if err := execEach(ctx, tx, `INSERT INTO household (id, version, head_pid, commune, address, created_at, updated_at) VALUES ($1, 1, $2, $3, $4, $5, $5)
		ON CONFLICT (id) DO UPDATE SET head_pid = excluded.head_pid WHERE household.head_pid = '' AND excluded.head_pid <> ''`, len(households),
		func(i int) []any {
			h := households[i]
			return []any{h.id, h.head, h.commune, h.address, now}
		}, nil); err != nil {
		return nil, fmt.Errorf("import: households: %w", err)
	}
	return fresh, nil
}

// importPostgres writes a batch with COPY: the numbers into a staging
// table, from which the new ones go into pid_issued; then the citizens and
// revisions of the new ones straight into their tables, and links and
// households through staging tables (they may exist already). It runs in a
// pgx transaction on one connection, as COPY needs.
func importPostgres(ctx context.Context, db *sqldb.DB, rows []ImportRow, a *actor.Actor, source string, now time.Time) (map[string]bool, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var fresh map[string]bool
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errs.E(errs.Internal, "not a pgx connection")
		}
		return pgx.BeginFunc(ctx, c.Conn(), func(tx pgx.Tx) error {
			var err error
			fresh, err = copyBatch(ctx, tx, rows, a, source, now)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return fresh, nil
}

const pgStaging = `
CREATE TEMP TABLE IF NOT EXISTS import_pid (pid TEXT) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS import_link (pid TEXT, role TEXT, other_pid TEXT) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS import_household (id TEXT, head_pid TEXT, commune TEXT, address JSONB) ON COMMIT DELETE ROWS;`

func copyBatch(ctx context.Context, tx pgx.Tx, rows []ImportRow, a *actor.Actor, source string, now time.Time) (map[string]bool, error) {
	if _, err := tx.Exec(ctx, pgStaging); err != nil {
		return nil, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_pid"}, []string{"pid"}, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		return []any{rows[i].PID}, nil
	})); err != nil {
		return nil, fmt.Errorf("stage numbers: %w", err)
	}
	res, err := tx.Query(ctx, `INSERT INTO pid_issued (pid, origin, issued_at) SELECT pid, 'legacy', $1 FROM import_pid ON CONFLICT DO NOTHING RETURNING pid`, now)
	if err != nil {
		return nil, err
	}
	fresh := make(map[string]bool, len(rows))
	for res.Next() {
		var p string
		if err := res.Scan(&p); err != nil {
			res.Close()
			return nil, err
		}
		fresh[p] = true
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("issue numbers: %w", err)
	}
	keep := freshRows(rows, fresh)
	if len(keep) == 0 {
		return fresh, nil
	}
	reason := "imported from " + source
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"citizen"}, []string{"pid", "version", "status", "family_name", "middle_name", "given_name",
		"name_key", "birth_date", "birth_year", "sex", "res_commune", "res_province", "household_id", "doc", "created_at", "updated_at"},
		pgx.CopyFromSlice(len(keep), func(i int) ([]any, error) { return citizenArgs(keep[i]), nil })); err != nil {
		return nil, fmt.Errorf("citizens: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"citizen_revision"}, []string{"pid", "version", "at", "action", "actor_id", "actor_kind",
		"actor_name", "reason", "legal_basis", "dossier_ref", "changes"},
		pgx.CopyFromSlice(len(keep), func(i int) ([]any, error) { return revisionArgs(keep[i], a, reason, now), nil })); err != nil {
		return nil, fmt.Errorf("revisions: %w", err)
	}
	links, households := linksAndHouseholds(keep)
	if len(links) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_link"}, []string{"pid", "role", "other_pid"}, pgx.CopyFromSlice(len(links), func(i int) ([]any, error) {
			return []any{links[i][0], links[i][1], links[i][2]}, nil
		})); err != nil {
			return nil, fmt.Errorf("stage links: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO citizen_link (pid, role, other_pid, created_at) SELECT pid, role, other_pid, $1 FROM import_link ON CONFLICT DO NOTHING`, now); err != nil {
			return nil, fmt.Errorf("links: %w", err)
		}
	}
	if len(households) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_household"}, []string{"id", "head_pid", "commune", "address"}, pgx.CopyFromSlice(len(households), func(i int) ([]any, error) {
			h := households[i]
			return []any{h.id, h.head, h.commune, h.address}, nil
		})); err != nil {
			return nil, fmt.Errorf("stage households: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO household (id, version, head_pid, commune, address, created_at, updated_at)
			SELECT id, 1, head_pid, commune, address, $1, $1 FROM import_household
			ON CONFLICT (id) DO UPDATE SET head_pid = excluded.head_pid WHERE household.head_pid = '' AND excluded.head_pid <> ''`, now); err != nil {
			return nil, fmt.Errorf("households: %w", err)
		}
	}
	return fresh, nil
}

func freshRows(rows []ImportRow, fresh map[string]bool) []*ImportRow {
	keep := make([]*ImportRow, 0, len(fresh))
	for i := range rows {
		if fresh[rows[i].PID] {
			keep = append(keep, &rows[i])
		}
	}
	return keep
}

// linksAndHouseholds collects the link rows of a batch, and one household
// row per household (a head's row wins over a member's).
func linksAndHouseholds(keep []*ImportRow) ([][3]string, []*importHousehold) {
	var links [][3]string
	byID := map[string]int{}
	var households []*importHousehold
	for _, r := range keep {
		links = append(links, r.links...)
		if h := r.household; h != nil {
			if i, ok := byID[h.id]; !ok {
				byID[h.id] = len(households)
				households = append(households, h)
			} else if households[i].head == "" && h.head != "" {
				households[i] = h
			}
		}
	}
	return links, households
}

// StartBulkLoad prepares the store for a large import. Into an empty
// registry it drops the search indexes of the citizen table (recording how
// to build them), so that the load appends to the primary key only; they
// are built in one sorted pass by FinishBulkLoad, or by the next start of
// the server if the load is interrupted. A registry that already holds
// people keeps its indexes. It returns the indexes now deferred, including
// those an interrupted load left. Requires WriteCitizen nationally.
func (s *Service) StartBulkLoad(ctx context.Context) ([]string, error) {
	if _, err := s.policy.RequireChange(ctx); err != nil {
		return nil, err
	}
	deferred, err := s.db.DeferredIndexes(ctx, "citizen")
	if err != nil || len(deferred) > 0 {
		return deferred, err
	}
	var any int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM citizen LIMIT 1) AS c`).Scan(&any); err != nil {
		return nil, fmt.Errorf("bulk load: %w", err)
	}
	if any > 0 {
		return nil, nil
	}
	return s.db.DeferIndexes(ctx, "citizen")
}

// FinishBulkLoad builds every deferred index; onIndex, if not nil, hears of
// each as it is done. Requires WriteCitizen nationally.
func (s *Service) FinishBulkLoad(ctx context.Context, onIndex func(name string, took time.Duration)) error {
	if _, err := s.policy.RequireChange(ctx); err != nil {
		return err
	}
	return s.db.RestoreIndexes(ctx, onIndex)
}
