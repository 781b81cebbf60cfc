// Package exchange is the data-exchange hub: the registry of member
// agencies (ministries, localities, banks, telecom operators, hospitals)
// with the services, fields and purposes of their mandates, and yes/no
// verification of a person with signed answers that carry no personal
// data, per-agency rate limits and throttling of repeated mismatches.
package exchange

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Services an agency's mandate may include, and the permission each gives.
var Services = map[string]access.Permission{
	"verify": access.VerifyCitizen,
	"query":  access.QueryCitizen,
	"events": access.SubscribeEvents,
	"enrich": access.EnrichRegistry,
}

// Kinds of member.
var Kinds = []string{"ministry", "locality", "state_enterprise", "bank", "telecom", "hospital", "other"}

// Agency is a member of the hub.
type Agency struct {
	ID           string    `json:"id" doc:"Its OpenID client ID (client credentials)"`
	Name         string    `json:"name"`
	Kind         string    `json:"kind" enum:"ministry,locality,state_enterprise,bank,telecom,hospital,other"`
	Services     []string  `json:"services" doc:"What it may call: verify"`
	Fields       []string  `json:"fields,omitempty" doc:"Fields a scoped query may read"`
	Purposes     []string  `json:"purposes" doc:"Declared purposes; every call names one"`
	NeedsConsent bool      `json:"needs_consent,omitempty" doc:"A business: reads personal data only with the citizen's consent (always for banks, telecoms and other businesses)"`
	RatePerSec   int       `json:"rate_per_second,omitempty" doc:"Verification quota (default 100)"`
	Disabled     bool      `json:"disabled,omitempty" readOnly:"true"`
	CreatedAt    time.Time `json:"created_at,omitzero" readOnly:"true"`
}

// Service runs the hub.
type Service struct {
	db       *sqldb.DB
	registry *registry.Service
	signer   *keyring.Ring
	now      func() time.Time
	limiter  limiter
	mu       sync.RWMutex
	agencies map[string]cachedAgency
	jobs     *jobs
}

// Mismatch throttling: MismatchLimit non-matching verifications of one
// number within MismatchWindow refuse further ones for MismatchWindow.
const (
	MismatchLimit  = 5
	MismatchWindow = 15 * time.Minute
)

// NewService returns the hub. signer signs the answers (the document key
// ring, published at /.well-known/dancu-document-keys).
func NewService(db *sqldb.DB, reg *registry.Service, signer *keyring.Ring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, registry: reg, signer: signer, now: now, limiter: limiter{buckets: map[string]*bucket{}}, agencies: map[string]cachedAgency{}, jobs: newJobs()}
}

var agencyID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// CreateAgency registers a member; its ID is an existing service client.
// Administrators only.
func (s *Service) CreateAgency(ctx context.Context, in Agency) (Agency, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return Agency{}, err
	}
	var f errs.Fields
	if !agencyID.MatchString(in.ID) {
		f.Add("id", "must be the agency's OpenID client ID")
	}
	if in.Name = strings.TrimSpace(in.Name); in.Name == "" {
		f.Add("name", "is required")
	}
	if !slices.Contains(Kinds, in.Kind) {
		f.Add("kind", "must be one of %s", strings.Join(Kinds, ", "))
	}
	if len(in.Services) == 0 {
		f.Add("services", "name at least one service")
	}
	for i, sv := range in.Services {
		if _, ok := Services[sv]; !ok {
			f.Add(fmt.Sprintf("services[%d]", i), "%q is not a service of the hub", sv)
		}
	}
	for i, fl := range in.Fields {
		if !slices.Contains(registry.QueryableFields(), fl) {
			f.Add(fmt.Sprintf("fields[%d]", i), "%q is not a field of the record", fl)
		}
	}
	if len(in.Purposes) == 0 {
		f.Add("purposes", "declare at least one purpose")
	}
	for i, p := range in.Purposes {
		if strings.TrimSpace(p) == "" || len(p) > 200 {
			f.Add(fmt.Sprintf("purposes[%d]", i), "must be 1 to 200 bytes")
		}
	}
	if in.RatePerSec <= 0 {
		in.RatePerSec = 100
	}
	if in.RatePerSec > 100000 {
		f.Add("rate_per_second", "must be at most 100000")
	}
	if in.Kind == "bank" || in.Kind == "telecom" || in.Kind == "other" {
		in.NeedsConsent = true // businesses
	}
	if err := f.Err(); err != nil {
		return Agency{}, err
	}
	var service string
	err := s.db.QueryRowContext(ctx, `SELECT app_type FROM oidc_client WHERE id = $1`, in.ID).Scan(&service)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && service != "service") {
		return Agency{}, errs.Field("id", "register %s first as a service client (dancu client create %s --type service)", in.ID, in.ID)
	}
	if err != nil {
		return Agency{}, err
	}
	in.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	list := func(v []string) string {
		if v == nil {
			v = []string{}
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO agency (id, name, kind, services, fields, purposes, needs_consent, rate_per_second, disabled, created_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,false,$9)`, in.ID, in.Name, in.Kind, list(in.Services), list(in.Fields), list(in.Purposes), in.NeedsConsent, in.RatePerSec, in.CreatedAt)
		if sqldb.IsUniqueViolation(err) {
			return errs.Field("id", "agency %s exists already", in.ID)
		}
		if err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, in.CreatedAt, "agency_create", "", in.ID))
	})
	return in, err
}

// agencyTTL is how long an agency read from the store is reused: every
// verification looks its agency up, and a member may make thousands a
// second. A disabled member stops within this time.
const agencyTTL = 5 * time.Second

type cachedAgency struct {
	a    Agency
	read time.Time
}

func (s *Service) agency(ctx context.Context, id string) (Agency, error) {
	now := time.Now()
	s.mu.RLock()
	c, ok := s.agencies[id]
	s.mu.RUnlock()
	if ok && now.Sub(c.read) < agencyTTL {
		return c.a, nil
	}
	a, err := s.readAgency(ctx, id)
	if err != nil {
		return a, err
	}
	s.mu.Lock()
	if len(s.agencies) > 10000 {
		s.agencies = map[string]cachedAgency{}
	}
	s.agencies[id] = cachedAgency{a: a, read: now}
	s.mu.Unlock()
	return a, nil
}

func (s *Service) readAgency(ctx context.Context, id string) (Agency, error) {
	var a Agency
	var services, fields, purposes string
	err := s.db.QueryRowContext(ctx, `SELECT id, name, kind, services, fields, purposes, needs_consent, rate_per_second, disabled, created_at FROM agency WHERE id = $1`, id).
		Scan(&a.ID, &a.Name, &a.Kind, &services, &fields, &purposes, &a.NeedsConsent, &a.RatePerSec, &a.Disabled, &a.CreatedAt)
	if err != nil {
		return a, err
	}
	json.Unmarshal([]byte(services), &a.Services)
	json.Unmarshal([]byte(fields), &a.Fields)
	json.Unmarshal([]byte(purposes), &a.Purposes)
	return a, nil
}

// Actor returns the agency behind a client ID as the acting party, with
// the permissions of its mandate; Unauthenticated if it is not a member.
func (s *Service) Actor(ctx context.Context, clientID string) (*actor.Actor, error) {
	a, err := s.agency(ctx, clientID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Disabled) {
		return nil, errs.E(errs.Unauthenticated, "client %s is not an active member of the exchange hub", clientID)
	}
	if err != nil {
		return nil, err
	}
	out := &actor.Actor{ID: a.ID, Kind: actor.Agency, Name: a.Name}
	for _, sv := range a.Services {
		out.Grants = append(out.Grants, string(Services[sv]))
	}
	return out, nil
}

// Request is a yes/no verification.
type Request struct {
	PID     string          `json:"pid" doc:"Personal ID number"`
	Claims  registry.Claims `json:"claims" doc:"What to check; at least one field"`
	Purpose string          `json:"purpose" maxLength:"200" doc:"One of the agency's declared purposes"`
}

// Answer is a signed yes/no answer: per field and overall, never any
// personal data; the request is identified by its hash.
type Answer struct {
	Transaction string                    `json:"txn"`
	Agency      string                    `json:"agency"`
	RequestHash string                    `json:"request_sha256" doc:"SHA-256 of the request as received, so the agency can prove what it asked"`
	Fields      map[string]registry.Match `json:"fields"`
	Decision    string                    `json:"decision" enum:"match,no_match"`
	IssuedAt    int64                     `json:"iat"`
	Signature   string                    `json:"signature" doc:"This answer (without signature) as a compact JWS, ES256; keys at /.well-known/dancu-document-keys"`
}

// Verify answers a yes/no verification for the acting agency.
func (s *Service) Verify(ctx context.Context, in Request) (Answer, error) {
	a, err := access.Require(ctx, access.VerifyCitizen)
	if err != nil {
		return Answer{}, err
	}
	ag, err := s.agency(ctx, a.ID)
	if err != nil {
		return Answer{}, errs.E(errs.Forbidden, "only member agencies verify")
	}
	var f errs.Fields
	if in.Claims == (registry.Claims{}) {
		f.Add("claims", "give at least one of name, birth_date, sex, phone")
	}
	if err := f.Err(); err != nil {
		return Answer{}, err
	}
	if !slices.Contains(ag.Purposes, in.Purpose) {
		return Answer{}, errs.E(errs.Forbidden, "%q is not a purpose declared for %s", in.Purpose, ag.ID)
	}
	now := s.now().UTC()
	if !s.limiter.allow(ag.ID, ag.RatePerSec, now) {
		return Answer{}, errs.E(errs.TooMany, "%s exceeds its quota of %d verifications per second", ag.ID, ag.RatePerSec)
	}
	var recent int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM verify_mismatch WHERE pid = $1 AND at > $2`, in.PID, now.Add(-MismatchWindow)).Scan(&recent); err != nil {
		return Answer{}, err
	}
	if recent >= MismatchLimit {
		return Answer{}, errs.E(errs.TooMany, "too many verifications of this number did not match recently: try again later")
	}
	cmp, err := s.registry.Compare(ctx, in.PID, in.Claims, in.Purpose)
	if err != nil {
		return Answer{}, err
	}
	req, _ := json.Marshal(in)
	sum := sha256.Sum256(req)
	ans := Answer{Transaction: uuid.Must(uuid.NewV7()).String(), Agency: ag.ID, RequestHash: hex.EncodeToString(sum[:]), Fields: cmp.Fields,
		Decision: "no_match", IssuedAt: now.Unix()}
	if cmp.Match {
		ans.Decision = "match"
	} else if err := s.takeMismatch(ctx, in.PID, ag.ID, now); err != nil {
		return Answer{}, err
	}
	if ans.Signature, err = s.sign(ctx, ans, now); err != nil {
		return Answer{}, err
	}
	return ans, nil
}

// takeMismatch records a mismatch of pid, or refuses it when the window
// holds MismatchLimit already. The record is written and the window counted
// in one transaction that holds the number's lock, so concurrent
// mismatches, from any number of processes, never answer more than the
// limit: the count read before the comparison is only a fast path.
func (s *Service) takeMismatch(ctx context.Context, pid, agency string, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.Dialect.LockKey(ctx, tx, "verify_mismatch|"+pid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO verify_mismatch (pid, agency, at) VALUES ($1, $2, $3)`, pid, agency, now); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM verify_mismatch WHERE pid = $1 AND at > $2`, pid, now.Add(-MismatchWindow)).Scan(&n); err != nil {
			return err
		}
		if n > MismatchLimit {
			return errs.E(errs.TooMany, "too many verifications of this number did not match recently: try again later")
		}
		return nil
	})
}

func (s *Service) sign(ctx context.Context, ans Answer, now time.Time) (string, error) {
	key, _, err := s.signer.Current(ctx, now)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("verification+jwt"))
	if err != nil {
		return "", err
	}
	ans.Signature = ""
	payload, _ := json.Marshal(ans)
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// limiter is a token bucket per agency, in this process.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *limiter) allow(id string, rate int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[id]
	if b == nil {
		b = &bucket{tokens: float64(rate), last: now}
		l.buckets[id] = b
	}
	b.tokens = min(float64(rate), b.tokens+now.Sub(b.last).Seconds()*float64(rate))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Agencies lists the members. Administrators only.
func (s *Service) Agencies(ctx context.Context) ([]Agency, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM agency ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Agency{}
	for _, id := range ids {
		a, err := s.readAgency(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// SetDisabled stops (or restarts) a member's access to the hub; running
// servers notice within agencyTTL. Administrators only.
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) error {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return err
	}
	now := s.now().UTC()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE agency SET disabled = $1 WHERE id = $2`, disabled, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no agency %s", id)
		}
		s.mu.Lock()
		delete(s.agencies, id)
		s.mu.Unlock()
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, map[bool]string{true: "agency_disable", false: "agency_enable"}[disabled], "", id))
	})
}
