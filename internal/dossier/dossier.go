package dossier

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/locale"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/workday"
)

// State is where a dossier is.
type State string

// Dossier states.
const (
	Submitted     State = "submitted"
	Received      State = "received"       // CT04 receipt issued; the deadline runs
	InfoRequested State = "info_requested" // CT05: the applicant must complete the file
	Approved      State = "approved"
	Refused       State = "refused" // CT06, with reasons
	Returned      State = "returned"
	Withdrawn     State = "withdrawn"
)

// moves is the one table of dossier transitions.
var moves = map[State][]State{
	Submitted:     {Received, Refused, Withdrawn},
	Received:      {InfoRequested, Approved, Refused, Withdrawn},
	InfoRequested: {Received, Refused, Withdrawn},
	Approved:      {Returned},
	Refused:       {},
	Returned:      {},
	Withdrawn:     {},
}

// CanMove reports whether a dossier may go from one state to another.
func CanMove(from, to State) bool { return slices.Contains(moves[from], to) }

// Dossier is one application to a public service.
type Dossier struct {
	ID          string          `json:"id"`
	Code        string          `json:"code" doc:"The reference on the receipt"`
	Service     string          `json:"service"`
	Applicant   string          `json:"applicant_pid"`
	Commune     string          `json:"commune" doc:"The competent commune police"`
	State       State           `json:"state" enum:"submitted,received,info_requested,approved,refused,returned,withdrawn"`
	Data        json.RawMessage `json:"data"`
	SubmittedAt time.Time       `json:"submitted_at"`
	ReceivedAt  *time.Time      `json:"received_at,omitempty"`
	DueAt       *time.Time      `json:"due_at,omitempty" doc:"End of the statutory deadline, counted in working days from receipt of a complete file"`
	Overdue     bool            `json:"overdue"`
	DecidedAt   *time.Time      `json:"decided_at,omitempty"`
	DecidedBy   string          `json:"decided_by,omitempty"`
	Reasons     string          `json:"reasons,omitempty" doc:"Refusal reasons (CT06) or the information asked for (CT05)"`
	Result      string          `json:"result,omitempty" doc:"The result document, e.g. a signed residence confirmation (JWS)"`
	Version     int64           `json:"version"`
	Steps       []Step          `json:"steps,omitempty"`
}

// Step is one step of a dossier's history.
type Step struct {
	Seq       int       `json:"seq"`
	At        time.Time `json:"at"`
	State     State     `json:"state"`
	ActorID   string    `json:"actor_id"`
	ActorKind string    `json:"actor_kind"`
	ActorName string    `json:"actor_name"`
	Note      string    `json:"note,omitempty"`
}

// procedure is what an executable service does: check the form against the
// applicant's record and name the competent commune; on approval, change
// the registry in the decision's transaction and give the result.
type procedure interface {
	prepare(ctx context.Context, s *Service, rec registry.Citizen, data json.RawMessage, now time.Time) (commune string, form any, err error)
	apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (result string, err error)
}

// Service runs dossiers.
type Service struct {
	db       *sqldb.DB
	registry *registry.Service
	units    *adminunit.Catalog
	policy   *access.Policy
	cal      *workday.Calendar
	sender   eid.Sender
	signer   *keyring.Ring
	now      func() time.Time
	procs    map[string]procedure
	checks   *access.Throttle // counts failed public document checks, when set
	// confirmer checks a citizen's passcode at a counter (SetConfirmer).
	confirmer Confirmer
}

// NewService returns the dossier service. sealer seals the document
// signing keys.
func NewService(db *sqldb.DB, reg *registry.Service, policy *access.Policy, cal *workday.Calendar, sender eid.Sender, sealer keyring.Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if sender == nil {
		sender = eid.NewOutbox(sealer, now)
	}
	s := &Service{db: db, registry: reg, units: reg.Units(), policy: policy, cal: cal, sender: sender, now: now,
		signer: keyring.New(db, sealer, "doc_signing_key", 90*24*time.Hour, ConfirmationValidity+30*24*time.Hour)}
	s.procs = map[string]procedure{
		"residence.temporary":                temporaryResidence{},
		"residence.temporary.renewal":        temporaryRenewal{},
		"residence.absence":                  temporaryAbsence{},
		"residence.temporary.deregistration": temporaryDeregistration{},
		"residence.confirmation":             confirmation{},
		"residence.accommodation":            accommodation{},
		"registry.correction":                correction{},
		"residence.permanent":                permanentResidence{},
		"residence.update":                   headChange{},
		"residence.permanent.deregistration": permanentDeregistration{},
	}
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// vn is Viet Nam's time zone (UTC+7, no daylight saving).
var vn = time.FixedZone("ICT", 7*3600)

// today is the civil date in Viet Nam.
func today(now time.Time) string { return now.In(vn).Format(time.DateOnly) }

// newCode makes a receipt reference: HS-YYYYMMDD-XXXXXX.
func newCode(now time.Time) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "HS-" + now.In(vn).Format("20060102") + "-" + string(b)
}

// deadline is the end of the statutory deadline for a file complete at t:
// whole working days, a half day rounded up to the end of the next one.
func (s *Service) deadline(e CatalogEntry, t time.Time) time.Time {
	return s.cal.Deadline(t, int(math.Ceil(e.Days))).UTC()
}

// citizen returns the acting citizen.
func citizen(ctx context.Context) (*actor.Actor, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return nil, errs.E(errs.Unauthenticated, "log in with your e-ID first")
	}
	if a.Kind != actor.Citizen {
		return nil, errs.E(errs.Forbidden, "dossiers are submitted by citizens, logged in with their e-ID")
	}
	return a, nil
}

// record reads the applicant's record as the dossier system, so that the
// read is audited.
func (s *Service) record(ctx context.Context, pid, purpose string) (registry.Citizen, error) {
	return s.registry.GetOnBehalf(ctx, pid, purpose)
}

// Prefill returns what the registry holds about the acting citizen that a
// form would ask for: the citizen never types it again.
func (s *Service) Prefill(ctx context.Context) (map[string]any, error) {
	a, err := citizen(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.record(ctx, a.ID, "prefill a public-service form for the citizen")
	if err != nil {
		return nil, err
	}
	return map[string]any{"pid": c.PID, "name": c.Name.Full(), "birth_date": c.BirthDate, "sex": c.Sex,
		"permanent_residence": c.PermanentResidence, "temporary_residence": c.TemporaryResidence,
		"temporary_residence_until": c.TemporaryResidenceUntil, "current_residence": c.CurrentResidence, "household": c.Household}, nil
}

// Submit files a dossier for the acting citizen. The form holds only what
// the registry does not; it is checked now against the applicant's record
// and the service's rules, and routed to the competent commune. With an
// idempotency key, a retry returns the first dossier.
func (s *Service) Submit(ctx context.Context, service string, data json.RawMessage, idemKey string) (Dossier, error) {
	a, err := citizen(ctx)
	if err != nil {
		return Dossier{}, err
	}
	return s.submit(ctx, a.ID, "submitted online", service, data, idemKey)
}

// submit files a dossier for applicant as the actor in ctx (the applicant,
// or an officer at a counter), its first step noted so.
func (s *Service) submit(ctx context.Context, applicant, note, service string, data json.RawMessage, idemKey string) (Dossier, error) {
	a := &actor.Actor{ID: applicant}
	e, ok := lookup(service)
	if !ok {
		return Dossier{}, errs.Field("service", "%q is not a service of the catalog", service)
	}
	proc := s.procs[service]
	if proc == nil {
		return Dossier{}, errs.Field("service", "%s (%s) is listed for reference; dancu does not run it", service, e.NameEN)
	}
	if len(idemKey) > 200 {
		return Dossier{}, errs.Field("idempotency_key", "must be at most 200 bytes")
	}
	if idemKey != "" {
		d, err := s.byKey(ctx, a.ID, idemKey)
		if err == nil {
			if d.Service != service {
				return Dossier{}, errs.Field("idempotency_key", "was used for another submission")
			}
			return d, nil
		}
		if !errs.Is(err, errs.NotFound) {
			return Dossier{}, err
		}
	}
	if len(data) == 0 {
		data = json.RawMessage(`{}`)
	}
	now := s.clock()
	rec, err := s.record(ctx, a.ID, "check a "+service+" dossier")
	if err != nil {
		return Dossier{}, err
	}
	if rec.Status != registry.Alive {
		return Dossier{}, errs.E(errs.Conflict, "the national population database does not record you as alive")
	}
	commune, form, err := proc.prepare(ctx, s, rec, data, now)
	if err != nil {
		return Dossier{}, err
	}
	body, err := json.Marshal(form)
	if err != nil {
		return Dossier{}, err
	}
	d := Dossier{ID: uuid.Must(uuid.NewV7()).String(), Code: newCode(now), Service: service, Applicant: a.ID, Commune: commune,
		State: Submitted, Data: body, SubmittedAt: now, Version: 1}
	var key any
	if idemKey != "" {
		key = idemKey
	}
	// Answered at once, by the system: a confirmation from data the
	// registry holds, and an accommodation notice, which has no approval.
	auto := service == "residence.confirmation" || service == "residence.accommodation"
	if auto {
		// Make or load the signing key now: a new key is written in its
		// own transaction, which must not wait for this one.
		if _, _, err := s.signer.Current(ctx, now); err != nil {
			return Dossier{}, err
		}
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var open string
		err := tx.QueryRowContext(ctx, `SELECT code FROM dossier WHERE applicant_pid = $1 AND service = $2 AND state IN ('submitted', 'received', 'info_requested')`,
			a.ID, service).Scan(&open)
		if err == nil {
			return errs.Field("service", "your dossier %s of this service is still open: follow it, complete it or withdraw it", open)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dossier (id, code, service, applicant_pid, commune, state, data, submitted_at, month,
			decided_by, reasons, result, version, idempotency_key) VALUES ($1,$2,$3,$4,$5,'submitted',$6,$7,$8,'','','',1,$9)`,
			d.ID, d.Code, service, a.ID, commune, string(body), now, now.In(vn).Format("2006-01"), key); err != nil {
			if sqldb.IsUniqueViolation(err) {
				return errs.Field("service", "a dossier of this service was submitted at the same moment: follow that one")
			}
			return err
		}
		if err := s.step(ctx, tx, &d, Submitted, note, now); err != nil {
			return err
		}
		if auto {
			return s.autoDecide(ctx, tx, &d, e, proc, now)
		}
		return nil
	})
	if err != nil {
		return Dossier{}, err
	}
	return d, nil
}

func (s *Service) byKey(ctx context.Context, pid, key string) (Dossier, error) {
	d, err := scanDossier(s.db.QueryRowContext(ctx, `SELECT `+dossierColumns+` FROM dossier WHERE applicant_pid = $1 AND idempotency_key = $2`, pid, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Dossier{}, errs.E(errs.NotFound, "no dossier with this key")
	}
	return s.withOverdue(d), err
}

// autoDecide receives, approves and returns a dossier the system can
// answer from the registry alone (a residence confirmation), in tx.
func (s *Service) autoDecide(ctx context.Context, tx *sql.Tx, d *Dossier, e CatalogEntry, proc procedure, now time.Time) error {
	sys := actor.With(ctx, actor.SystemActor("dossier"))
	due := s.deadline(e, now)
	d.ReceivedAt, d.DueAt = &now, &due
	if err := s.step(sys, tx, d, Received, "received automatically", now); err != nil {
		return err
	}
	result, err := proc.apply(sys, s, tx, d, now)
	if err != nil {
		return err
	}
	d.DecidedAt, d.DecidedBy, d.Result = &now, "system", result
	if err := s.step(sys, tx, d, Approved, "", now); err != nil {
		return err
	}
	if err := s.step(sys, tx, d, Returned, "result available online", now); err != nil {
		return err
	}
	return s.save(ctx, tx, d, 1)
}

// save writes a dossier's state if its version is still prev.
func (s *Service) save(ctx context.Context, tx *sql.Tx, d *Dossier, prev int64) error {
	d.Version = prev + 1
	res, err := tx.ExecContext(ctx, `UPDATE dossier SET state = $1, received_at = $2, due_at = $3, decided_at = $4, decided_by = $5,
		reasons = $6, result = $7, data = $8, version = $9 WHERE id = $10 AND version = $11`,
		d.State, d.ReceivedAt, d.DueAt, d.DecidedAt, d.DecidedBy, d.Reasons, d.Result, string(d.Data), d.Version, d.ID, prev)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.E(errs.Conflict, "dossier %s was changed meanwhile: read it again", d.Code)
	}
	return nil
}

// notice is the applicant's message of a step, in Vietnamese and English:
// the dossier's code, its service and its state by name, and the
// officer's note.
func notice(d *Dossier, to State, note string) string {
	vi, en := d.Service, d.Service
	if e, ok := Entry(d.Service); ok {
		vi, en = e.NameVI, e.NameEN
	}
	key, state := "notice.dossier", "dstate."+string(to)
	if note != "" {
		return locale.T(locale.VI, key+".note", d.Code, vi, locale.T(locale.VI, state), note) + "\n" +
			locale.T(locale.EN, key+".note", d.Code, en, locale.T(locale.EN, state), note)
	}
	return locale.T(locale.VI, key, d.Code, vi, locale.T(locale.VI, state)) + "\n" + locale.T(locale.EN, key, d.Code, en, locale.T(locale.EN, state))
}

// step records a step and its notifications: a message to the applicant
// and a dossier-status event for subscribers.
func (s *Service) step(ctx context.Context, tx *sql.Tx, d *Dossier, to State, note string, now time.Time) error {
	a, _ := actor.From(ctx)
	if a == nil {
		a = actor.SystemActor("dossier")
	}
	d.State = to
	if _, err := tx.ExecContext(ctx, `INSERT INTO dossier_step (dossier_id, seq, at, state, actor_id, actor_kind, actor_name, note)
		VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM dossier_step WHERE dossier_id = $1), $2, $3, $4, $5, $6, $7)`,
		d.ID, now, to, a.ID, string(a.Kind), a.Name, note); err != nil {
		return err
	}
	body := notice(d, to, note)
	if err := s.sender.Send(ctx, tx, eid.Message{Channel: "app", Recipient: d.Applicant, Body: body}); err != nil {
		return err
	}
	if err := events.Emit(ctx, tx, "vn.dancu.dossier.status", d.Applicant,
		map[string]any{"dossier_id": d.ID, "code": d.Code, "service": d.Service, "state": to, "commune": d.Commune, "at": now}, now); err != nil {
		return err
	}
	return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "dossier_"+string(to), d.Applicant, d.Code+" "+d.Service))
}

const dossierColumns = `id, code, service, applicant_pid, commune, state, data, submitted_at, received_at, due_at, decided_at, decided_by, reasons, result, version`

func scanDossier(row interface{ Scan(...any) error }) (Dossier, error) {
	var d Dossier
	var data string
	var received, due, decided sql.NullTime
	err := row.Scan(&d.ID, &d.Code, &d.Service, &d.Applicant, &d.Commune, &d.State, &data, &d.SubmittedAt, &received, &due, &decided,
		&d.DecidedBy, &d.Reasons, &d.Result, &d.Version)
	d.Data = json.RawMessage(data)
	d.SubmittedAt = d.SubmittedAt.UTC()
	for _, p := range []struct {
		v   sql.NullTime
		dst **time.Time
	}{{received, &d.ReceivedAt}, {due, &d.DueAt}, {decided, &d.DecidedAt}} {
		if p.v.Valid {
			t := p.v.Time.UTC()
			*p.dst = &t
		}
	}
	return d, err
}

func (s *Service) withOverdue(d Dossier) Dossier {
	if d.DueAt == nil {
		return d
	}
	end := s.clock()
	if d.DecidedAt != nil {
		end = *d.DecidedAt
	} else if d.State == Withdrawn || d.State == InfoRequested {
		return d
	}
	d.Overdue = end.After(*d.DueAt)
	return d
}

// load reads a dossier in tx and checks who may act on it: its applicant
// (asApplicant) or an officer who handles dossiers in its commune.
func (s *Service) load(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string, asApplicant bool) (Dossier, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return Dossier{}, errs.E(errs.Unauthenticated, "log in first")
	}
	if !asApplicant || a.Kind != actor.Citizen {
		if _, err := access.Require(ctx, access.HandleDossier); err != nil {
			return Dossier{}, err
		}
	}
	d, err := scanDossier(q.QueryRowContext(ctx, `SELECT `+dossierColumns+` FROM dossier WHERE id = $1 OR code = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Kind == actor.Citizen && d.Applicant != a.ID) {
		return Dossier{}, errs.E(errs.NotFound, "no dossier %s", id)
	}
	if err != nil {
		return Dossier{}, err
	}
	if a.Kind != actor.Citizen {
		if _, err := s.policy.RequireIn(ctx, access.HandleDossier, access.Place{Scheme: adminunit.Scheme2025, Commune: d.Commune}); err != nil {
			return Dossier{}, err
		}
	}
	return d, nil
}

// Get returns a dossier with its steps, to its applicant or an officer of
// its commune.
func (s *Service) Get(ctx context.Context, id string) (Dossier, error) {
	d, err := s.load(ctx, s.db, id, true)
	if err != nil {
		return Dossier{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, state, actor_id, actor_kind, actor_name, note FROM dossier_step WHERE dossier_id = $1 ORDER BY seq`, d.ID)
	if err != nil {
		return Dossier{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var st Step
		if err := rows.Scan(&st.Seq, &st.At, &st.State, &st.ActorID, &st.ActorKind, &st.ActorName, &st.Note); err != nil {
			return Dossier{}, err
		}
		st.At = st.At.UTC()
		d.Steps = append(d.Steps, st)
	}
	if err := rows.Err(); err != nil {
		return Dossier{}, err
	}
	if err := s.recordRead(ctx, "dossier_read", d); err != nil {
		return Dossier{}, err
	}
	return s.withOverdue(d), nil
}

// recordRead records a read of a dossier (it holds the applicant's form)
// under the actor in ctx, before it is answered.
func (s *Service) recordRead(ctx context.Context, action string, d Dossier) error {
	ev := audit.NewEvent(ctx, s.clock(), action, d.Applicant, d.Code)
	ev.Purpose = "dossier " + d.Service
	if a, ok := actor.From(ctx); ok && a.Kind == actor.Citizen {
		ev.Purpose = "the applicant's own dossier"
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) })
}

// move changes a dossier's state by an officer or its applicant, in one
// transaction with its step. The dossier is claimed first (its version
// raised only if nobody changed it since it was read), so that of two
// concurrent moves only one acts; then fn adjusts it, and may act on the
// registry, before it is written.
func (s *Service) move(ctx context.Context, id string, asApplicant bool, to State, note string, fn func(tx *sql.Tx, d *Dossier, now time.Time) error) (Dossier, error) {
	var out Dossier
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		d, err := s.load(ctx, tx, id, asApplicant)
		if err != nil {
			return err
		}
		if !CanMove(d.State, to) {
			return errs.E(errs.Conflict, "a dossier that is %s cannot become %s", d.State, to)
		}
		res, err := tx.ExecContext(ctx, `UPDATE dossier SET version = version + 1 WHERE id = $1 AND version = $2`, d.ID, d.Version)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "dossier %s was changed meanwhile: read it again", d.Code)
		}
		d.Version++
		now := s.clock()
		if fn != nil {
			if err := fn(tx, &d, now); err != nil {
				return err
			}
		}
		d.State = to
		if _, err := tx.ExecContext(ctx, `UPDATE dossier SET state = $1, received_at = $2, due_at = $3, decided_at = $4, decided_by = $5,
			reasons = $6, result = $7, data = $8 WHERE id = $9`,
			d.State, d.ReceivedAt, d.DueAt, d.DecidedAt, d.DecidedBy, d.Reasons, d.Result, string(d.Data), d.ID); err != nil {
			return err
		}
		if err := s.step(ctx, tx, &d, to, note, now); err != nil {
			return err
		}
		out = s.withOverdue(d)
		return nil
	})
	return out, err
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Receive accepts a complete file (the CT04 receipt): the statutory
// deadline starts.
func (s *Service) Receive(ctx context.Context, id, note string) (Dossier, error) {
	return s.move(ctx, id, false, Received, strings.TrimSpace(note), func(_ *sql.Tx, d *Dossier, now time.Time) error {
		e, _ := lookup(d.Service)
		due := s.deadline(e, now)
		d.ReceivedAt, d.DueAt = &now, &due
		return nil
	})
}

// RequestInfo asks the applicant to complete the file (CT05); the deadline
// starts again when the file is complete.
func (s *Service) RequestInfo(ctx context.Context, id, what string) (Dossier, error) {
	what = strings.TrimSpace(what)
	if what == "" {
		return Dossier{}, errs.Field("reasons", "say what information is missing")
	}
	return s.move(ctx, id, false, InfoRequested, what, func(_ *sql.Tx, d *Dossier, _ time.Time) error {
		d.Reasons = what
		return nil
	})
}

// Supplement completes a file after a request for information: the form is
// checked again and the deadline runs from now.
func (s *Service) Supplement(ctx context.Context, id string, data json.RawMessage) (Dossier, error) {
	a, err := citizen(ctx)
	if err != nil {
		return Dossier{}, err
	}
	d, err := s.load(ctx, s.db, id, true)
	if err != nil {
		return Dossier{}, err
	}
	rec, err := s.record(ctx, a.ID, "check a supplemented "+d.Service+" dossier")
	if err != nil {
		return Dossier{}, err
	}
	commune, form, err := s.procs[d.Service].prepare(ctx, s, rec, data, s.clock())
	if err != nil {
		return Dossier{}, err
	}
	if commune != d.Commune {
		return Dossier{}, errs.Field("data", "the completed form names another commune: submit a new dossier there")
	}
	body, _ := json.Marshal(form)
	return s.move(ctx, id, true, Received, "file completed", func(_ *sql.Tx, d *Dossier, now time.Time) error {
		// Only a request for information is answered so: a dossier still
		// waiting to be received is not received by its applicant.
		if d.State != InfoRequested {
			return errs.E(errs.Conflict, "only a dossier asked for more information is completed; this one is %s", d.State)
		}
		e, _ := lookup(d.Service)
		due := s.deadline(e, now)
		d.Data, d.ReceivedAt, d.DueAt, d.Reasons = body, &now, &due, ""
		return nil
	})
}

// Decide approves or refuses a received dossier. Approval runs the
// procedure: the registry changes in this transaction, its revision citing
// the dossier, and the result is returned at once. Refusal needs reasons
// (CT06). Of two concurrent decisions only one succeeds.
func (s *Service) Decide(ctx context.Context, id string, approve bool, reasons string) (Dossier, error) {
	reasons = strings.TrimSpace(reasons)
	if !approve && reasons == "" {
		return Dossier{}, errs.Field("reasons", "a refusal states its reasons")
	}
	to := Refused
	if approve {
		to = Approved
	}
	d, err := s.move(ctx, id, false, to, reasons, func(tx *sql.Tx, d *Dossier, now time.Time) error {
		a, _ := actor.From(ctx)
		d.DecidedAt, d.DecidedBy, d.Reasons = &now, a.ID, reasons
		if !approve {
			return nil
		}
		result, err := s.procs[d.Service].apply(ctx, s, tx, d, now)
		if err != nil {
			return err
		}
		d.Result = result
		return nil
	})
	if err != nil || !approve {
		return d, err
	}
	// An electronic result is returned at once.
	return s.move(ctx, d.ID, false, Returned, "result sent electronically", nil)
}

// Withdraw lets the applicant withdraw a dossier not yet decided.
func (s *Service) Withdraw(ctx context.Context, id, note string) (Dossier, error) {
	if _, err := citizen(ctx); err != nil {
		return Dossier{}, err
	}
	return s.move(ctx, id, true, Withdrawn, strings.TrimSpace(note), nil)
}

// Mine lists the acting citizen's dossiers, newest first.
func (s *Service) Mine(ctx context.Context, limit int) ([]Dossier, error) {
	a, err := citizen(ctx)
	if err != nil {
		return nil, err
	}
	return s.list(ctx, `SELECT `+dossierColumns+` FROM dossier WHERE applicant_pid = $1 ORDER BY submitted_at DESC, id DESC`, limit, nil, a.ID)
}

// Queue lists the dossiers of the officer's jurisdiction in a state (all
// open ones if state is ""), the oldest deadline first; overdueOnly keeps
// those past their deadline.
func (s *Service) Queue(ctx context.Context, state State, overdueOnly bool, limit int) ([]Dossier, error) {
	a, err := access.Require(ctx, access.HandleDossier)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + dossierColumns + ` FROM dossier WHERE state IN ('submitted', 'received', 'info_requested')`
	args := []any{}
	if state != "" {
		args = append(args, state)
		q = `SELECT ` + dossierColumns + fmt.Sprintf(` FROM dossier WHERE state = $%d`, len(args))
	}
	if overdueOnly {
		args = append(args, s.clock())
		q += fmt.Sprintf(" AND due_at < $%d", len(args))
	}
	if a.Kind != actor.System && a.Jurisdiction.Level == actor.Commune {
		args = append(args, a.Jurisdiction.Code)
		q += fmt.Sprintf(" AND commune = $%d", len(args))
	}
	q += " ORDER BY due_at, submitted_at, id"
	out, err := s.list(ctx, q, limit, func(d Dossier) bool {
		return a.Kind == actor.System || s.policy.Covers(a.Jurisdiction, access.Place{Scheme: adminunit.Scheme2025, Commune: d.Commune})
	}, args...)
	if err != nil || len(out) == 0 {
		return out, err
	}
	// The queue shows every applicant's form: one group record names them.
	subjects := make([]string, 0, len(out))
	for _, d := range out {
		subjects = append(subjects, d.Applicant)
	}
	ev := audit.NewGroupEvent(ctx, s.clock(), "dossier_queue", subjects, "")
	ev.Purpose = "handling dossiers"
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) list(ctx context.Context, q string, limit int, keep func(Dossier) bool, args ...any) ([]Dossier, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Dossier{}
	for rows.Next() && len(out) < limit {
		d, err := scanDossier(rows)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(d) {
			out = append(out, s.withOverdue(d))
		}
	}
	return out, rows.Err()
}

// Confirmer checks, for an officer at a counter, that the citizen present
// confirms: their e-ID passcode (eid.Service).
type Confirmer interface {
	ConfirmPresent(ctx context.Context, pid, passcode string) error
}

// SetConfirmer gives the service the counter's confirmation of citizens.
func (s *Service) SetConfirmer(c Confirmer) { s.confirmer = c }

// Assisted is a dossier an officer files at a counter for a citizen who is
// present and confirms it with their passcode.
type Assisted struct {
	PID            string          `json:"pid" doc:"The applicant, present at the counter"`
	Passcode       string          `json:"passcode" doc:"The applicant's e-ID passcode, typed by the applicant"`
	Service        string          `json:"service"`
	Data           json.RawMessage `json:"data,omitempty"`
	IdempotencyKey string          `json:"-"`
}

// SubmitAssisted files a dossier for a citizen present at a counter (for
// those who need help online): the officer fills the form in, the citizen
// confirms with their passcode (checked under the login throttle). The
// dossier is the citizen's — they follow it in the portal and are told of
// every step — and both are recorded: the officer as the actor of the
// first step and of the record's reads, the citizen as the applicant and
// subject. An idempotency key is the officer's own.
func (s *Service) SubmitAssisted(ctx context.Context, in Assisted) (Dossier, error) {
	officer, err := access.Require(ctx, access.HandleDossier)
	if err != nil {
		return Dossier{}, err
	}
	if _, err := personalid.Parse(in.PID); err != nil {
		return Dossier{}, errs.Field("pid", "%s", err)
	}
	if len(in.Passcode) != 6 || strings.Trim(in.Passcode, "0123456789") != "" {
		return Dossier{}, errs.Field("passcode", "must be 6 digits")
	}
	if s.confirmer == nil {
		return Dossier{}, errs.E(errs.Unavailable, "the counter's confirmation of citizens is not configured")
	}
	if err := s.confirmer.ConfirmPresent(ctx, in.PID, in.Passcode); err != nil {
		return Dossier{}, err
	}
	key := ""
	if in.IdempotencyKey != "" {
		key = "counter:" + officer.ID + ":" + in.IdempotencyKey
	}
	return s.submit(ctx, in.PID, "submitted at the counter, confirmed with the applicant's passcode", in.Service, in.Data, key)
}

// Notice is a step someone other than the applicant took on one of the
// applicant's dossiers (a receipt, a request, a decision, a consent).
type Notice struct {
	DossierID string    `json:"dossier_id"`
	Code      string    `json:"code"`
	Service   string    `json:"service"`
	Commune   string    `json:"commune"`
	At        time.Time `json:"at"`
	State     State     `json:"state"`
	ActorKind string    `json:"actor_kind"`
	Note      string    `json:"note,omitempty"`
}

// Notices lists the steps others took on the acting citizen's dossiers,
// newest first: what the notices to the phone said, without the officers'
// names.
func (s *Service) Notices(ctx context.Context, limit int) ([]Notice, error) {
	a, err := citizen(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT d.id, d.code, d.service, d.commune, st.at, st.state, st.actor_kind, st.note
		FROM dossier d JOIN dossier_step st ON st.dossier_id = d.id
		WHERE d.applicant_pid = $1 AND st.actor_id <> $1 ORDER BY st.at DESC, st.seq DESC LIMIT $2`, a.ID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		var n Notice
		if err := rows.Scan(&n.DossierID, &n.Code, &n.Service, &n.Commune, &n.At, &n.State, &n.ActorKind, &n.Note); err != nil {
			return nil, err
		}
		n.At = n.At.UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}
