package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// Household is a household: a head and members at one permanent residence.
type Household struct {
	ID        string    `json:"id"`
	Version   int64     `json:"version"`
	HeadPID   string    `json:"head_pid,omitempty"`
	Address   Address   `json:"address"`
	Members   []Member  `json:"members"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Member is one person of a household (field 23).
type Member struct {
	PID          string `json:"pid"`
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
	Status       Status `json:"status"`
}

type householdRow struct {
	id, head string
	version  int64
	address  Address
}

func loadHousehold(ctx context.Context, tx *sql.Tx, id string) (householdRow, error) {
	var h householdRow
	var addr string
	if !storable(id) {
		return h, errs.E(errs.NotFound, "no household %q", id)
	}
	err := tx.QueryRowContext(ctx, `SELECT id, version, head_pid, address FROM household WHERE id = $1`, id).Scan(&h.id, &h.version, &h.head, &addr)
	if errors.Is(err, sql.ErrNoRows) {
		return h, errs.E(errs.NotFound, "no household %q", id)
	}
	if err != nil {
		return h, fmt.Errorf("read household: %w", err)
	}
	return h, json.Unmarshal([]byte(addr), &h.address)
}

// joinHousehold puts r in an existing household as a member (not head):
// its permanent residence is the household's address (a record that also
// gives one must give the same).
func (s *Service) joinHousehold(ctx context.Context, tx *sql.Tx, r *Record, j *JoinHousehold) error {
	var f errs.Fields
	if !s.codes.HouseholdRel.Has(j.Relationship) {
		f.Add("household.relationship", "%q is not a relationship to the head: %s", j.Relationship, s.codes.HouseholdRel.Hint())
	} else if j.Relationship == "head" {
		f.Add("household.relationship", "a household has one head; changing the head is its own procedure")
	}
	if err := f.Err(); err != nil {
		return err
	}
	h, err := loadHousehold(ctx, tx, j.HouseholdID)
	if errs.Is(err, errs.NotFound) {
		return errs.Field("household.household_id", "no household %q", j.HouseholdID)
	}
	if err != nil {
		return err
	}
	if h.head == "" {
		return errs.Field("household.household_id", "household %s has no head (dissolved)", h.id)
	}
	addr := h.address
	if given := r.PermanentResidence; given != nil && !sameAddress(*given, addr) {
		return errs.Field("permanent_residence", "differs from the address of household %s (%s, %s); give that address or leave it out",
			h.id, addr.Commune, addr.Detail)
	}
	r.PermanentResidence = &addr
	r.Household = &Membership{HouseholdID: h.id, Relationship: j.Relationship}
	return nil
}

// sameAddress compares the recorded parts of two normalised addresses.
func sameAddress(a, b Address) bool {
	return a.Country == b.Country && a.Scheme == b.Scheme && a.Province == b.Province && a.Commune == b.Commune && a.Detail == b.Detail
}

// Move is a change of household: into an existing one, or into a new one
// at a new address, of which the person becomes head.
type Move struct {
	HouseholdID  string   `json:"household_id,omitempty" doc:"Existing household to join"`
	NewAddress   *Address `json:"new_household_address,omitempty" doc:"Found a new household at this address, headed by the person"`
	Relationship string   `json:"relationship,omitempty" doc:"Relationship to the new head (when joining)"`
	NewHeadPID   string   `json:"new_head_pid,omitempty" doc:"When the person heads a household that others stay in: its new head"`
	Basis
}

// MoveHousehold moves a person between households in one transaction: the
// person's record (new household, new permanent residence), and, when the
// person was head of a household others stay in, the new head's record and
// the household itself. The acting officer must cover both the old and the
// new residence.
func (s *Service) MoveHousehold(ctx context.Context, pidText string, ifMatch int64, m Move) (Citizen, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Citizen{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Citizen{}, errs.Field("pid", "%s", err)
	}
	var f errs.Fields
	if strings.TrimSpace(m.Reason) == "" {
		f.Add("reason", "is required")
	}
	switch {
	case (m.HouseholdID == "") == (m.NewAddress == nil):
		f.Add("household_id", "give either household_id or new_household_address")
	case m.NewAddress != nil:
		s.check.address(&f, "new_household_address", m.NewAddress, true)
		noNUL(&f, "new_household_address", m.NewAddress)
		if m.Relationship != "" && m.Relationship != "head" {
			f.Add("relationship", "the founder of a new household is its head")
		}
		m.Relationship = "head"
	}
	if m.NewHeadPID != "" {
		if _, err := personalid.Parse(m.NewHeadPID); err != nil {
			f.Add("new_head_pid", "%s", err)
		}
	}
	if err := f.Err(); err != nil {
		return Citizen{}, err
	}
	var out Record
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.moveIn(ctx, tx, pid, ifMatch, m, "move_household", true)
		return err
	})
	if err != nil {
		return Citizen{}, err
	}
	return s.viewWithLinks(ctx, out)
}

// handOver makes m.NewHeadPID head of the household pid leaves, or marks
// the household dissolved when nobody stays.
func (s *Service) handOver(ctx context.Context, tx *sql.Tx, householdID string, leaving personalid.Number, m Move, now time.Time) error {
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM citizen WHERE household_id = $1 AND pid <> $2 AND status = 'alive'`,
		householdID, leaving).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		_, err := tx.ExecContext(ctx, `UPDATE household SET head_pid = '', version = version + 1, updated_at = $1 WHERE id = $2`, now, householdID)
		return err
	}
	if m.NewHeadPID == "" {
		return errs.Field("new_head_pid", "%s heads household %s, where %d others stay: name its new head", leaving, householdID, others)
	}
	if m.NewHeadPID == string(leaving) {
		return errs.Field("new_head_pid", "%s is the one leaving: name another member of household %s", leaving, householdID)
	}
	head, err := loadRecord(ctx, tx, personalid.Number(m.NewHeadPID))
	if errs.Is(err, errs.NotFound) || (err == nil && (head.Household == nil || head.Household.HouseholdID != householdID)) {
		return errs.Field("new_head_pid", "%s is not a member of household %s", m.NewHeadPID, householdID)
	}
	if err != nil {
		return err
	}
	if head.Status != Alive {
		return errs.Field("new_head_pid", "%s is %s", m.NewHeadPID, head.Status)
	}
	if _, err := s.policy.RequireChange(ctx, placeOf(&head.Details)); err != nil {
		return err
	}
	next := head
	hm := *head.Household
	hm.Relationship = "head"
	next.Household = &hm
	next.Version, next.UpdatedAt = head.Version+1, now
	if err := s.updateRecord(ctx, tx, &next); err != nil {
		return err
	}
	if err := revise(ctx, tx, &next, "become_household_head", m.Basis, diff(&head, &next)); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE household SET head_pid = $1, version = version + 1, updated_at = $2 WHERE id = $3`, next.PID, now, householdID)
	return err
}

// Household returns a household with its members. Reading the members is
// reading their personal data, so each is recorded.
func (s *Service) Household(ctx context.Context, id string) (Household, error) {
	if _, err := access.Require(ctx, access.ReadCitizen); err != nil {
		return Household{}, err
	}
	if !storable(id) {
		return Household{}, errs.E(errs.NotFound, "no household %q", id)
	}
	var h Household
	var addr string
	err := s.db.QueryRowContext(ctx, `SELECT id, version, head_pid, address, created_at, updated_at FROM household WHERE id = $1`, id).
		Scan(&h.ID, &h.Version, &h.HeadPID, &addr, &h.CreatedAt, &h.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Household{}, errs.E(errs.NotFound, "no household %q", id)
	}
	if err != nil {
		return Household{}, err
	}
	json.Unmarshal([]byte(addr), &h.Address)
	s.describe(&h.Address)
	// Read the members, closing the rows, before waiting for the access
	// record (see Search).
	if h.Members, err = s.members(ctx, id); err != nil {
		return Household{}, err
	}
	now := s.clock()
	evs := make([]audit.Event, len(h.Members))
	for i, m := range h.Members {
		evs[i] = audit.NewEvent(ctx, now, "read_household", m.PID, id)
		evs[i].Purpose = "the household and its members"
	}
	if err := s.audit.Record(ctx, evs...); err != nil {
		return Household{}, err
	}
	return h, nil
}

func (s *Service) members(ctx context.Context, id string) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT pid, status, doc FROM citizen WHERE household_id = $1 ORDER BY pid`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		var m Member
		var doc string
		if err := rows.Scan(&m.PID, &m.Status, &doc); err != nil {
			return nil, err
		}
		var r Record
		json.Unmarshal([]byte(doc), &r)
		m.Name = r.Name.Full()
		if r.Household != nil {
			m.Relationship = r.Household.Relationship
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// moveIn moves a person between households inside tx (see MoveHousehold);
// checkJurisdiction is false only for a procedure whose competent authority
// the caller has checked (MoveForDossier).
func (s *Service) moveIn(ctx context.Context, tx *sql.Tx, pid personalid.Number, ifMatch int64, m Move, action string, checkJurisdiction bool) (Record, error) {
	cur, err := loadRecord(ctx, tx, pid)
	if err != nil {
		return Record{}, err
	}
	if checkJurisdiction {
		if _, err := s.policy.RequireChange(ctx, placeOf(&cur.Details)); err != nil {
			return Record{}, err
		}
	}
	if ifMatch != 0 && ifMatch != cur.Version {
		return Record{}, errs.E(errs.Precondition, "record %s is at version %d, not %d: read it again", pid, cur.Version, ifMatch)
	}
	if cur.Status != Alive {
		return Record{}, errs.E(errs.Conflict, "record %s is %s", pid, cur.Status)
	}
	now := s.clock()
	next := cur
	if m.NewAddress != nil {
		id := uuid.Must(uuid.NewV7()).String()
		addr, _ := json.Marshal(m.NewAddress)
		if _, err := tx.ExecContext(ctx, `INSERT INTO household (id, version, head_pid, commune, address, created_at, updated_at)
			VALUES ($1, 1, $2, $3, $4, $5, $5)`, id, pid, s.project(&Record{Details: Details{PermanentResidence: m.NewAddress}}).resCommune,
			string(addr), now); err != nil {
			return Record{}, err
		}
		a := *m.NewAddress
		next.PermanentResidence = &a
		next.Household = &Membership{HouseholdID: id, Relationship: "head"}
	} else {
		if cur.Household != nil && cur.Household.HouseholdID == m.HouseholdID {
			return Record{}, errs.Field("household_id", "%s is already in household %s", pid, m.HouseholdID)
		}
		next.PermanentResidence = nil // the new household's address replaces it
		if err := s.joinHousehold(ctx, tx, &next, &JoinHousehold{HouseholdID: m.HouseholdID, Relationship: m.Relationship}); err != nil {
			if e := (*errs.Error)(nil); errors.As(err, &e) && e.Kind == errs.Invalid {
				for i := range e.Fields {
					e.Fields[i].Field = strings.TrimPrefix(strings.Replace(e.Fields[i].Field, "household.household_id", "household_id", 1), "household.")
				}
			}
			return Record{}, err
		}
	}
	if checkJurisdiction {
		if _, err := s.policy.RequireChange(ctx, placeOf(&cur.Details), placeOf(&next.Details)); err != nil {
			return Record{}, err
		}
	}
	if cur.Household != nil && cur.Household.Relationship == "head" {
		if err := s.handOver(ctx, tx, cur.Household.HouseholdID, pid, m, now); err != nil {
			return Record{}, err
		}
	}
	next.Version, next.UpdatedAt = cur.Version+1, now
	if err := s.updateRecord(ctx, tx, &next); err != nil {
		return Record{}, err
	}
	if err := revise(ctx, tx, &next, action, m.Basis, diff(&cur, &next)); err != nil {
		return Record{}, err
	}
	return next, audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, string(pid), next.Household.HouseholdID))
}
