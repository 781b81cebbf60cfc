// Package eid is electronic identity: citizens' accounts at assurance
// levels 1 and 2 (VNeID), from application through approval and
// activation to login, locking and revocation. The account number is the
// personal ID number. Deadlines are counted in working days.
package eid

import (
	"context"
	"database/sql"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/workday"
)

// Level is an assurance level.
type Level int

// The levels of NĐ 59/2022 and NĐ 69/2024.
const (
	Level1 Level = 1 // self-registered online: number, phone, e-mail and a face photo checked against the registry
	Level2 Level = 2 // taken in person with the card, photo and fingerprints
)

// AccountState is where an account is in its life.
type AccountState string

// Account states.
const (
	Approved AccountState = "approved" // an application was approved: waiting for activation
	Active   AccountState = "active"
	Locked   AccountState = "locked" // by the citizen or an officer (failed logins only slow down: access.Throttle)
	Revoked  AccountState = "revoked"
)

// accountMoves is the one table of account state transitions.
var accountMoves = map[AccountState][]AccountState{
	Approved: {Active, Revoked},
	Active:   {Locked, Revoked},
	Locked:   {Active, Revoked},
	Revoked:  {},
}

// CanMove reports whether an account may go from one state to another.
func CanMove(from, to AccountState) bool {
	for _, s := range accountMoves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// AppState is where an application is.
type AppState string

// Application states.
const (
	Submitted AppState = "submitted"
	Accepted  AppState = "approved"
	Rejected  AppState = "rejected"
)

// CardStatus is what the officer found of the applicant's chip card; it
// sets the level-2 deadline.
type CardStatus string

// Card statuses.
const (
	CardValid   CardStatus = "valid"
	CardExpired CardStatus = "expired"
	CardNone    CardStatus = "none"
)

// Deadline is the statutory time to decide an application, in working days.
func Deadline(level Level, card CardStatus) int {
	switch {
	case level == Level1:
		return 1
	case card == CardValid:
		return 3
	default:
		return 7
	}
}

// Account is an electronic identity account.
type Account struct {
	PID         string       `json:"pid" doc:"The account number: the personal ID number"`
	Subject     string       `json:"subject" doc:"The opaque subject identifier relying parties receive (sub)"`
	Level       Level        `json:"level" doc:"Assurance level: 1 or 2"`
	State       AccountState `json:"state" enum:"approved,active,locked,revoked"`
	Phone       string       `json:"phone"`
	Email       string       `json:"email,omitempty"`
	Guardian    string       `json:"guardian_pid,omitempty" doc:"For a child under 14 or a ward: the guardian's account"`
	StateReason string       `json:"state_reason,omitempty"`
	Version     int64        `json:"version"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	ActivatedAt *time.Time   `json:"activated_at,omitempty"`
	TOTP        bool         `json:"totp" doc:"An authenticator app is the second factor of logins"`
	// CoolingUntil: after an online recovery, no device or factor may be
	// added before then.
	CoolingUntil *time.Time `json:"cooling_until,omitempty" doc:"After an online recovery: no new device or factor before this time"`
	// RecoveryCodes are shown once, in the answer that makes them.
	RecoveryCodes []string `json:"recovery_codes,omitempty" doc:"Shown once, at activation: each gets back into the account once, together with the passcode"`
	epoch         int64
	password      string
	passcode      string
}

// Application is a request for an account or for level 2.
type Application struct {
	ID          string     `json:"id"`
	PID         string     `json:"pid"`
	Level       Level      `json:"level"`
	Channel     string     `json:"channel" enum:"self,counter"`
	State       AppState   `json:"state" enum:"submitted,approved,rejected"`
	Phone       string     `json:"phone"`
	Email       string     `json:"email,omitempty"`
	CardStatus  CardStatus `json:"card_status" enum:"valid,expired,none"`
	Commune     string     `json:"commune" doc:"The competent commune: the applicant's permanent residence"`
	SubmittedAt time.Time  `json:"submitted_at"`
	DueAt       time.Time  `json:"due_at" doc:"End of the statutory deadline (working days)"`
	Overdue     bool       `json:"overdue" doc:"Undecided after the deadline, or decided late"`
	TakenBy     string     `json:"taken_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	Reason      string     `json:"reason,omitempty" doc:"Why it was rejected"`
}

// Biometric is a portrait or a fingerprint template, kept opaque.
type Biometric struct {
	Kind     string `json:"kind" enum:"face,fingerprint"`
	Position int    `json:"position,omitempty" minimum:"0" maximum:"10" doc:"Finger position (ISO/IEC 19794-2: 1 right thumb … 10 left little); 0 for the face"`
	Format   string `json:"format" maxLength:"100" doc:"What the data is, e.g. image/jpeg or ISO/IEC 19794-2:2005"`
	Data     []byte `json:"data" maxLength:"2000000" doc:"The image or template, base64"`
}

// Sender delivers one-time codes and notices to citizens.
type Sender interface {
	Send(ctx context.Context, tx *sql.Tx, m Message) error
}

// Message is an SMS or e-mail.
type Message struct {
	Channel   string `json:"channel"` // sms or email
	Recipient string `json:"recipient"`
	Subject   string `json:"subject,omitempty"`
	Body      string `json:"body"`
}

// Service runs electronic identity.
type Service struct {
	db       *sqldb.DB
	registry *registry.Service
	policy   *access.Policy
	cal      *workday.Calendar
	sender   Sender
	sealer   *Sealer
	throttle *access.Throttle
	now      func() time.Time
	// showBodies: administrators read queued messages' text (--demo).
	showBodies bool
	// floor: the shortest time an anonymous application or activation
	// request is answered in (SetAnswerFloor).
	floor time.Duration
	// sessionHooks run after every session of an account ended.
	sessionHooks []func(ctx context.Context, pid, why string)
	// cards checks at a counter that a person's card is in the reader
	// (SetCards); without it no account is moved at a counter.
	cards CardCounter
}

// KeyThrottle keys the citizens' login throttle (access.Throttle.SetKey).
func (s *Service) KeyThrottle(secret []byte) { s.throttle.SetKey(secret) }

// SetAnswerFloor makes anonymous online applications and activation-code
// requests answer no sooner than d after their form was checked, whether
// they were accepted or refused: the time of an answer then tells nobody
// whether a person or an account exists (a refusal skips the writes an
// acceptance makes). serve sets it; tests of other things leave it 0.
func (s *Service) SetAnswerFloor(d time.Duration) { s.floor = d }

// answerNoSooner waits until the floor has passed since start.
func (s *Service) answerNoSooner(ctx context.Context, start time.Time) {
	d := s.floor - time.Since(start)
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// NewService returns the e-ID service. sender nil means the outbox.
func NewService(db *sqldb.DB, reg *registry.Service, policy *access.Policy, cal *workday.Calendar, sender Sender, sealer *Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if sender == nil {
		sender = NewOutbox(sealer, now)
	}
	s := &Service{db: db, registry: reg, policy: policy, cal: cal, sender: sender, sealer: sealer, now: now,
		throttle: access.NewThrottle(db, access.DefaultThrottle, now)}
	reg.OnStatusChange(s.onStatusChange)
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
