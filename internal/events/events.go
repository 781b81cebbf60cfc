// Package events delivers change events (births, deaths, residence
// changes, dossier statuses...) from the transactional outbox to the
// agencies that subscribed to them: CloudEvents 1.0 in structured JSON over
// webhooks signed with HMAC-SHA256 (the Standard Webhooks headers), at
// least once, in order per person, with exponential backoff, a dead-letter
// list after MaxAttempts, and replay from a given event. Receivers remove
// duplicates by the event ID.
package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Types are the event types a subscription may ask for.
var Types = []string{"vn.dancu.citizen.born", "vn.dancu.citizen.status", "vn.dancu.citizen.updated", "vn.dancu.residence.changed", "vn.dancu.dossier.status",
	"vn.dancu.card.status", "vn.dancu.account.status"}

// Delivery limits.
const (
	MaxAttempts = 8
	maxBackoff  = time.Hour
	batch       = 200
	// DefaultMaxParallel is how many subscribers are delivered to at once
	// unless MaxParallel says otherwise.
	DefaultMaxParallel = 8
	// sendTimeout bounds one delivery, from dialling to the answer.
	sendTimeout = 10 * time.Second
	// claimFor is how long a claimed delivery is left to the server that
	// claimed it: longer than a send can take.
	claimFor = 3 * sendTimeout
)

// Service delivers events.
type Service struct {
	db       *sqldb.DB
	sealer   keyring.Sealer
	signer   *keyring.Ring
	client   *http.Client
	now      func() time.Time
	source   string // CloudEvents source
	allow    []string
	parallel int
	resolver resolver
}

// Option changes how a Service delivers.
type Option func(*Service)

// AllowHosts lets webhooks name these hosts although they are not public
// https endpoints: a host on the list may be reached over plain http and at
// any address, loopback and private ones included, both when subscribing
// and when delivering. Every other webhook must be https to a host that
// resolves only to public addresses. It is for tests and for a receiver on
// a closed network that the operator vouches for; an empty list (the
// default) is what a public deployment wants. Entries are host names or IP
// addresses without a port, compared without regard to case.
func AllowHosts(hosts ...string) Option {
	return func(s *Service) {
		for _, h := range hosts {
			s.allow = append(s.allow, canonicalHost(h))
		}
	}
}

// MaxParallel sets how many subscribers are delivered to at once
// (DefaultMaxParallel if n < 1). Each subscriber's deliveries go one at a
// time, so a slow one holds one of these and no more.
func MaxParallel(n int) Option {
	return func(s *Service) {
		if n >= 1 {
			s.parallel = n
		}
	}
}

// NewService returns the event delivery service. sealer keeps the HMAC
// secrets; signer (the document key ring, published at
// /.well-known/dancu-document-keys) signs every delivery as a JWS too.
func NewService(db *sqldb.DB, sealer keyring.Sealer, signer *keyring.Ring, now func() time.Time, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: db, sealer: sealer, signer: signer, now: now, source: "urn:dancu", parallel: DefaultMaxParallel, resolver: net.DefaultResolver}
	for _, o := range opts {
		o(s)
	}
	s.client = s.newClient()
	return s
}

// Subscription is an agency's webhook.
type Subscription struct {
	ID        string    `json:"id"`
	Agency    string    `json:"agency"`
	URL       string    `json:"url"`
	Types     []string  `json:"types"`
	CreatedAt time.Time `json:"created_at"`
}

func secretAAD(id string) []byte { return []byte("subscription|" + id) }

// Subscribe registers the acting agency's webhook for event types and
// returns the subscription with its HMAC secret (shown once). Events from
// now on are delivered; earlier ones by Replay. The URL must be https to a
// public host (see AllowHosts for the exception); an Invalid error names
// the field "url" and says why not.
func (s *Service) Subscribe(ctx context.Context, rawURL string, types []string) (Subscription, string, error) {
	a, err := access.Require(ctx, access.SubscribeEvents)
	if err != nil {
		return Subscription{}, "", err
	}
	var f errs.Fields
	if reason := s.checkURL(rawURL); reason != "" {
		f.Add("url", "%s", reason)
	}
	if len(types) == 0 {
		f.Add("types", "name at least one of %v", Types)
	}
	for i, t := range types {
		if !slices.Contains(Types, t) {
			f.Add(fmt.Sprintf("types[%d]", i), "%q is not one of %v", t, Types)
		}
	}
	if err := f.Err(); err != nil {
		return Subscription{}, "", err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	sub := Subscription{ID: uuid.NewString(), Agency: a.ID, URL: rawURL, Types: types, CreatedAt: now}
	key := make([]byte, 32)
	rand.Read(key)
	secret := base64.StdEncoding.EncodeToString(key)
	tb, _ := json.Marshal(types)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscription (id, agency, url, secret_sealed, types, cursor, disabled, created_at) VALUES ($1,$2,$3,$4,$5,'',false,$6)`,
			sub.ID, sub.Agency, sub.URL, s.sealer.Seal(key, secretAAD(sub.ID)), string(tb), now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "subscribe", "", sub.ID+" "+sub.URL))
	})
	return sub, "whsec_" + secret, err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// cloudEvent renders an outbox event as a CloudEvents 1.0 JSON document.
func (s *Service) cloudEvent(ctx context.Context, id string) ([]byte, error) {
	var typ, subject, data string
	var at time.Time
	if err := s.db.QueryRowContext(ctx, `SELECT type, subject, data, created_at FROM event_outbox WHERE id = $1`, id).Scan(&typ, &subject, &data, &at); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": s.source, "type": typ, "subject": subject,
		"time": at.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "data": json.RawMessage(data)})
}

// post sends one event, signed twice over "id.timestamp.body":
// webhook-signature is v1,base64(HMAC-SHA256) with the subscription's
// secret, as in Standard Webhooks; webhook-jws is a compact JWS (ES256)
// with the payload detached (RFC 7515 Appendix F), made with the published
// document keys, which the receiver can keep as evidence that we sent it.
func (s *Service) post(ctx context.Context, to target, event string, body []byte, now time.Time) error {
	ts := strconv.FormatInt(now.Unix(), 10)
	signed := slices.Concat([]byte(event+"."+ts+"."), body)
	mac := hmac.New(sha256.New, to.key)
	mac.Write(signed)
	req, err := http.NewRequestWithContext(ctx, "POST", to.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("webhook-id", event)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	if s.signer != nil {
		jws, err := s.detachedJWS(ctx, signed, now)
		if err != nil {
			return err
		}
		req.Header.Set("webhook-jws", jws)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return &statusError{res.StatusCode}
	}
	return nil
}

// statusError is a receiver's answer other than 2xx.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("the receiver answered %d", e.code) }

// DeadLetter is a delivery given up on.
type DeadLetter struct {
	EventID   string `json:"event_id"`
	Subject   string `json:"subject"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error"`
}

// DeadLetters lists a subscription's deliveries given up on (its agency's).
func (s *Service) DeadLetters(ctx context.Context, id string) ([]DeadLetter, error) {
	if err := s.own(ctx, id); err != nil {
		return nil, err
	}
	return s.deadLetters(ctx, id, 0)
}

// deadLetters reads a subscription's dead letters, oldest first, at most
// limit of them (0: all): for its agency and for the administrators.
func (s *Service) deadLetters(ctx context.Context, id string, limit int) ([]DeadLetter, error) {
	q := `SELECT event_id, subject, attempts, last_error FROM delivery WHERE subscription_id = $1 AND dead ORDER BY event_id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, q, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeadLetter{}
	for rows.Next() {
		var d DeadLetter
		if err := rows.Scan(&d.EventID, &d.Subject, &d.Attempts, &d.LastError); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Service) own(ctx context.Context, id string) error {
	a, err := access.Require(ctx, access.SubscribeEvents)
	if err != nil {
		return err
	}
	var agency string
	err = s.db.QueryRowContext(ctx, `SELECT agency FROM subscription WHERE id = $1`, id).Scan(&agency)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && agency != a.ID && a.ID != "system") {
		return errs.E(errs.NotFound, "no subscription %s", id)
	}
	return err
}

// Replay delivers again every event of the subscription's types from the
// given event on (inclusive), including dead letters.
func (s *Service) Replay(ctx context.Context, id, from string) (int, error) {
	if err := s.own(ctx, id); err != nil {
		return 0, err
	}
	now := s.now().UTC()
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var types string
		if err := tx.QueryRowContext(ctx, `SELECT types FROM subscription WHERE id = $1`, id).Scan(&types); err != nil {
			return err
		}
		var list []string
		json.Unmarshal([]byte(types), &list)
		res, err := tx.ExecContext(ctx, `UPDATE delivery SET delivered_at = NULL, dead = false, attempts = 0, next_at = $1, last_error = ''
			WHERE subscription_id = $2 AND event_id >= $3`, now, id, from)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		// Events from before the subscription: add them.
		for _, t := range list {
			res, err := tx.ExecContext(ctx, `INSERT INTO delivery (subscription_id, event_id, subject, attempts, next_at, dead, last_error)
				SELECT $1, id, subject, 0, $2, false, '' FROM event_outbox WHERE id >= $3 AND type = $4 ON CONFLICT DO NOTHING`, id, now, from, t)
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	return int(n), err
}

// detachedJWS signs payload with the current document key and returns the
// compact serialization without the payload ("header..signature").
func (s *Service) detachedJWS(ctx context.Context, payload []byte, now time.Time) (string, error) {
	key, _, err := s.signer.Current(ctx, now)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("webhook+jws"))
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.DetachedCompactSerialize()
}
