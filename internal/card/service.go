package card

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Service runs chip cards: applications, production, the card's life, and
// passive authentication for relying parties.
type Service struct {
	db       *sqldb.DB
	registry *registry.Service
	pki      *pki.Store
	policy   *access.Policy
	signer   *keyring.Ring
	now      func() time.Time
}

// NewService returns the card service; it revokes the active card of a
// person recorded as dead. signer signs the answers of passive
// authentication (the document key ring).
func NewService(db *sqldb.DB, reg *registry.Service, store *pki.Store, policy *access.Policy, signer *keyring.Ring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: db, registry: reg, pki: store, policy: policy, signer: signer, now: now}
	reg.OnStatusChange(func(ctx context.Context, tx *sql.Tx, pid string, to registry.Status) error {
		if to != registry.Dead {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE card SET status = 'revoked' WHERE pid = $1 AND status = 'active'`, pid)
		return err
	})
	return s
}

// CardApplication is a card application.
type CardApplication struct {
	ID          string     `json:"id"`
	PID         string     `json:"pid"`
	Kind        string     `json:"kind" enum:"first,renewal,reissue"`
	Reason      string     `json:"reason,omitempty" enum:"lost,damaged,data_changed,"`
	State       string     `json:"state" enum:"submitted,approved,rejected,produced,delivered"`
	Commune     string     `json:"commune"`
	SubmittedAt time.Time  `json:"submitted_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// Card is a produced card.
type Card struct {
	ID        string `json:"id"`
	PID       string `json:"pid" doc:"The card number is the personal ID number"`
	Status    string `json:"status" enum:"active,lost,revoked,expired,superseded"`
	IssuedOn  string `json:"issued_on"`
	ExpiresOn string `json:"expires_on,omitempty" doc:"Empty for a card valid for life"`
	Commune   string `json:"commune"`
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Apply takes a card application at the counter: the officer has the photo
// and fingerprints taken (kept by the biometric system). A reissue names
// its reason; a person has at most one open application.
func (s *Service) Apply(ctx context.Context, pid, kind, reason string) (CardApplication, error) {
	officer, err := access.Require(ctx, access.WriteCitizen)
	if err != nil {
		return CardApplication{}, err
	}
	var f errs.Fields
	switch kind {
	case "first", "renewal":
		if reason != "" {
			f.Add("reason", "is only for a reissue")
		}
	case "reissue":
		if reason != "lost" && reason != "damaged" && reason != "data_changed" {
			f.Add("reason", "must be lost, damaged or data_changed")
		}
	default:
		f.Add("kind", "must be first, renewal or reissue")
	}
	if err := f.Err(); err != nil {
		return CardApplication{}, err
	}
	c, err := s.registry.Get(ctx, pid, "card application")
	if err != nil {
		return CardApplication{}, err
	}
	if c.Status != registry.Alive {
		return CardApplication{}, errs.E(errs.Conflict, "the national population database records %s as %s", pid, c.Status)
	}
	commune := ""
	if officer.Kind == actor.Officer && officer.Jurisdiction.Level == actor.Commune {
		commune = officer.Jurisdiction.Code
	} else if r := c.PermanentResidence; r != nil {
		commune = r.Commune
	}
	now := s.clock()
	app := CardApplication{ID: uuid.Must(uuid.NewV7()).String(), PID: string(c.PID), Kind: kind, Reason: reason, State: "submitted", Commune: commune, SubmittedAt: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var active int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM card WHERE pid = $1 AND status = 'active'`, app.PID).Scan(&active); err != nil {
			return err
		}
		if kind == "first" && active > 0 {
			return errs.Field("kind", "%s holds an active card: apply for a renewal or a reissue", app.PID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO card_application (id, pid, kind, reason, state, commune, submitted_at, taken_by, decided_by, note)
			VALUES ($1,$2,$3,$4,'submitted',$5,$6,$7,'','')`, app.ID, app.PID, kind, reason, commune, now, officer.ID); err != nil {
			if sqldb.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "%s has a card application in progress already", app.PID)
			}
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_apply", app.PID, kind+" "+reason))
	})
	return app, err
}

// Decide approves or rejects a submitted application.
func (s *Service) Decide(ctx context.Context, id string, approve bool, note string) (CardApplication, error) {
	officer, err := access.Require(ctx, access.WriteCitizen)
	if err != nil {
		return CardApplication{}, err
	}
	if !approve && note == "" {
		return CardApplication{}, errs.Field("note", "a rejection states its reason")
	}
	to := "rejected"
	if approve {
		to = "approved"
	}
	now := s.clock()
	var app CardApplication
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if app, err = loadApplication(ctx, tx, id); err != nil {
			return err
		}
		if _, err := s.policy.RequireIn(ctx, access.WriteCitizen, access.Place{Scheme: adminunit.Scheme2025, Commune: app.Commune}); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE card_application SET state = $1, decided_at = $2, decided_by = $3, note = $4 WHERE id = $5 AND state = 'submitted'`,
			to, now, officer.ID, note, id)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "application %s is %s", id, app.State)
		}
		app.State, app.DecidedAt, app.Note = to, &now, note
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_"+to, app.PID, id))
	})
	return app, err
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func loadApplication(ctx context.Context, tx *sql.Tx, id string) (CardApplication, error) {
	var a CardApplication
	var decided sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT id, pid, kind, reason, state, commune, submitted_at, decided_at, note FROM card_application WHERE id = $1`, id).
		Scan(&a.ID, &a.PID, &a.Kind, &a.Reason, &a.State, &a.Commune, &a.SubmittedAt, &decided, &a.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return a, errs.E(errs.NotFound, "no card application %s", id)
	}
	if decided.Valid {
		t := decided.Time.UTC()
		a.DecidedAt = &t
	}
	return a, err
}

// Produce makes the card of an approved application: the printed data and
// the chip (DG1 with the MRZ, DG13, EF.SOD signed by the active Document
// Signer); the person's previous active card is superseded.
func (s *Service) Produce(ctx context.Context, id string) (Card, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Card{}, err
	}
	ds, err := s.pki.Active(ctx, "ds")
	if err != nil {
		return Card{}, err
	}
	var app CardApplication
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		app, err = loadApplication(ctx, tx, id)
		return err
	})
	if err != nil {
		return Card{}, err
	}
	if app.State != "approved" {
		return Card{}, errs.E(errs.Conflict, "application %s is %s, not approved", id, app.State)
	}
	c, err := s.registry.Get(ctx, app.PID, "card production")
	if err != nil {
		return Card{}, err
	}
	now := s.clock()
	today := now.In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
	expires, err := Expiry(c.BirthDate, today)
	if err != nil {
		return Card{}, err
	}
	lines, err := MRZ{PID: string(c.PID), BirthDate: c.BirthDate, Sex: string(c.Sex), Expiry: expires, Surname: c.Name.Family,
		Given: joinNames(c.Name.Middle, c.Name.Given)}.Lines()
	if err != nil {
		return Card{}, err
	}
	dg1 := DG1(lines)
	dob, _ := time.Parse(time.DateOnly, c.BirthDate)
	sex := map[string]string{"male": "Nam", "female": "Nữ"}[string(c.Sex)]
	fields := []DG13Field{{1, string(c.PID)}, {2, c.Name.Full()}, {3, dob.Format("02/01/2006")}, {4, sex}, {5, "Việt Nam"}, {11, dateVN(today)}}
	if c.PermanentResidence != nil && c.PermanentResidence.Text != "" {
		fields = append(fields, DG13Field{9, c.PermanentResidence.Text})
	}
	if expires != "" {
		fields = append(fields, DG13Field{12, dateVN(expires)})
	}
	dg13, err := DG13(fields)
	if err != nil {
		return Card{}, err
	}
	sod, err := SOD(ds, map[int][]byte{1: dg1, 13: dg13})
	if err != nil {
		return Card{}, err
	}
	sum := sha256.Sum256(sod)
	card := Card{ID: uuid.Must(uuid.NewV7()).String(), PID: string(c.PID), Status: "active", IssuedOn: today, ExpiresOn: expires, Commune: app.Commune}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE card_application SET state = 'produced' WHERE id = $1 AND state = 'approved'`, id)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "application %s was produced meanwhile", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE card SET status = 'superseded' WHERE pid = $1 AND status = 'active'`, card.PID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO card (id, pid, application_id, status, issued_on, expires_on, commune, sod_sha256, sod, dg1, dg13, created_at)
			VALUES ($1,$2,$3,'active',$4,$5,$6,$7,$8,$9,$10,$11)`, card.ID, card.PID, id, today, expires, card.Commune, hex.EncodeToString(sum[:]), sod, dg1, dg13, now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_produced", card.PID, card.ID))
	})
	return card, err
}

func joinNames(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

func dateVN(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("02/01/2006")
}

// ReportLost marks a person's active card lost: it no longer passes.
func (s *Service) ReportLost(ctx context.Context, pid string) error {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return err
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE card SET status = 'lost' WHERE pid = $1 AND status = 'active'`, pid)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.NotFound, "%s has no active card", pid)
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_lost", pid, ""))
	})
}

// Chip returns what a card's chip holds (for tests and the card printer).
func (s *Service) Chip(ctx context.Context, cardID string) (sod []byte, groups map[int][]byte, err error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return nil, nil, err
	}
	var dg1, dg13 []byte
	err = s.db.QueryRowContext(ctx, `SELECT sod, dg1, dg13 FROM card WHERE id = $1`, cardID).Scan(&sod, &dg1, &dg13)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errs.E(errs.NotFound, "no card %s", cardID)
	}
	return sod, map[int][]byte{1: dg1, 13: dg13}, err
}

// PassiveAuthResult is the answer of passive authentication to a relying party.
type PassiveAuthResult struct {
	Valid      bool    `json:"valid" doc:"Every check passed and the card is active"`
	Checks     []Check `json:"checks"`
	CardStatus string  `json:"card_status,omitempty" enum:"active,lost,revoked,expired,superseded,unknown"`
	Checked    int64   `json:"iat"`
	Signature  string  `json:"signature,omitempty" doc:"This answer (without signature) as a compact JWS, ES256; keys at /.well-known/dancu-document-keys"`
}

// Verify is passive authentication for a relying party (a bank, a
// hospital): what the chip holds is checked against our CSCA, and the card
// against the registry's card status. The answer holds nothing beyond
// what the caller sent. The check is recorded as an access to the person.
func (s *Service) Verify(ctx context.Context, sod []byte, groups map[int][]byte) (PassiveAuthResult, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return PassiveAuthResult{}, errs.E(errs.Unauthenticated, "authenticate first")
	}
	cscas, err := s.pki.CSCACertificates(ctx)
	if err != nil {
		return PassiveAuthResult{}, err
	}
	now := s.clock()
	checks, _ := PassiveAuth(sod, groups, cscas, now)
	out := PassiveAuthResult{Checks: checks, CardStatus: "unknown"}
	sum := sha256.Sum256(sod)
	var pid, status, expires string
	err = s.db.QueryRowContext(ctx, `SELECT pid, status, expires_on FROM card WHERE sod_sha256 = $1`, hex.EncodeToString(sum[:])).Scan(&pid, &status, &expires)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return PassiveAuthResult{}, err
	}
	if err == nil {
		out.CardStatus = status
		if status == "active" && expires != "" && expires < now.Format(time.DateOnly) {
			out.CardStatus = "expired"
		}
		ev := audit.NewEvent(ctx, now, "card_verify", pid, fmt.Sprintf("passive authentication by %s: %s", a.Name, out.CardStatus))
		if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
			return PassiveAuthResult{}, err
		}
	}
	out.Valid = Passed(checks) && out.CardStatus == "active"
	out.Checked = now.Unix()
	if s.signer != nil {
		key, _, err := s.signer.Current(ctx, now)
		if err != nil {
			return PassiveAuthResult{}, err
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
			(&jose.SignerOptions{}).WithType("card-check+jwt"))
		if err != nil {
			return PassiveAuthResult{}, err
		}
		payload, _ := json.Marshal(out)
		obj, err := signer.Sign(payload)
		if err != nil {
			return PassiveAuthResult{}, err
		}
		if out.Signature, err = obj.CompactSerialize(); err != nil {
			return PassiveAuthResult{}, err
		}
	}
	return out, nil
}

// Batch is a production batch.
type Batch struct {
	ID      string   `json:"id"`
	Commune string   `json:"commune"`
	Cards   []Card   `json:"cards"`
	Failed  []string `json:"failed,omitempty" doc:"Applications that could not be produced, with why"`
}

// ProduceBatch produces every approved application of a commune (at most
// limit) as one batch.
func (s *Service) ProduceBatch(ctx context.Context, commune string, limit int) (Batch, error) {
	officer, err := s.policy.RequireIn(ctx, access.WriteCitizen, access.Place{Scheme: adminunit.Scheme2025, Commune: commune})
	if err != nil {
		return Batch{}, err
	}
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM card_application WHERE state = 'approved' AND commune = $1 ORDER BY submitted_at LIMIT $2`, commune, limit)
	if err != nil {
		return Batch{}, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return Batch{}, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	b := Batch{ID: uuid.Must(uuid.NewV7()).String(), Commune: commune, Cards: []Card{}}
	for _, id := range ids {
		c, err := s.Produce(ctx, id)
		if err != nil {
			b.Failed = append(b.Failed, id+": "+err.Error())
			continue
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE card SET batch_id = $1 WHERE id = $2`, b.ID, c.ID); err != nil {
			return b, err
		}
		b.Cards = append(b.Cards, c)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO card_batch (id, commune, cards, created_at, created_by) VALUES ($1, $2, $3, $4, $5)`,
		b.ID, commune, len(b.Cards), s.clock(), officer.ID)
	return b, err
}

// Deliver records that a card was handed to its holder.
func (s *Service) Deliver(ctx context.Context, cardID string) error {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return err
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var pid, app, commune string
		err := tx.QueryRowContext(ctx, `SELECT pid, application_id, commune FROM card WHERE id = $1 AND delivered_at IS NULL`, cardID).Scan(&pid, &app, &commune)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.Conflict, "card %s is unknown or delivered already", cardID)
		}
		if err != nil {
			return err
		}
		if _, err := s.policy.RequireIn(ctx, access.WriteCitizen, access.Place{Scheme: adminunit.Scheme2025, Commune: commune}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE card SET delivered_at = $1 WHERE id = $2`, now, cardID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE card_application SET state = 'delivered' WHERE id = $1`, app); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_delivered", pid, cardID))
	})
}

// UnitCounts is what a commune did with cards.
type UnitCounts struct {
	Commune   string `json:"commune"`
	Received  int    `json:"applications_received"`
	Printed   int    `json:"cards_printed"`
	Delivered int    `json:"cards_delivered"`
}

// Counts gives applications received, cards printed and cards delivered
// per commune of the officer's jurisdiction.
func (s *Service) Counts(ctx context.Context) ([]UnitCounts, error) {
	a, err := access.Require(ctx, access.ReadCitizen)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT commune, SUM(r), SUM(p), SUM(d) FROM (
		SELECT commune, 1 AS r, 0 AS p, 0 AS d FROM card_application
		UNION ALL SELECT commune, 0, 1, CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END FROM card) AS t
		GROUP BY commune ORDER BY commune`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []UnitCounts{}
	for rows.Next() {
		var u UnitCounts
		if err := rows.Scan(&u.Commune, &u.Received, &u.Printed, &u.Delivered); err != nil {
			return nil, err
		}
		if a.Kind != actor.System && !s.policy.Covers(a.Jurisdiction, access.Place{Scheme: adminunit.Scheme2025, Commune: u.Commune}) {
			continue
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
