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
	"net/url"
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
)

// Service delivers events.
type Service struct {
	db     *sqldb.DB
	sealer keyring.Sealer
	signer *keyring.Ring
	client *http.Client
	now    func() time.Time
	source string // CloudEvents source
}

// NewService returns the event delivery service. sealer keeps the HMAC
// secrets; signer (the document key ring, published at
// /.well-known/dancu-document-keys) signs every delivery as a JWS too.
func NewService(db *sqldb.DB, sealer keyring.Sealer, signer *keyring.Ring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, sealer: sealer, signer: signer, now: now, source: "urn:dancu", client: &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
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
// now on are delivered; earlier ones by Replay.
func (s *Service) Subscribe(ctx context.Context, rawURL string, types []string) (Subscription, string, error) {
	a, err := access.Require(ctx, access.SubscribeEvents)
	if err != nil {
		return Subscription{}, "", err
	}
	var f errs.Fields
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		f.Add("url", "must be an https URL (http only on the loopback interface)")
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
	var cursor string
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), '') FROM event_outbox`).Scan(&cursor); err != nil {
		return Subscription{}, "", err
	}
	tb, _ := json.Marshal(types)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscription (id, agency, url, secret_sealed, types, cursor, disabled, created_at) VALUES ($1,$2,$3,$4,$5,$6,false,$7)`,
			sub.ID, sub.Agency, sub.URL, s.sealer.Seal(key, secretAAD(sub.ID)), string(tb), cursor, now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "subscribe", "", sub.ID+" "+sub.URL))
	})
	return sub, "whsec_" + secret, err
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// fanOut gives every subscription a delivery for each new event of its
// types.
func (s *Service) fanOut(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, types, cursor FROM subscription WHERE NOT disabled`)
	if err != nil {
		return err
	}
	type sub struct {
		id, cursor string
		types      []string
	}
	var subs []sub
	for rows.Next() {
		var x sub
		var types string
		if err := rows.Scan(&x.id, &types, &x.cursor); err != nil {
			rows.Close()
			return err
		}
		json.Unmarshal([]byte(types), &x.types)
		subs = append(subs, x)
	}
	rows.Close()
	now := s.now().UTC()
	for _, x := range subs {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			evs, err := tx.QueryContext(ctx, `SELECT id, type, subject FROM event_outbox WHERE id > $1 ORDER BY id LIMIT 5000`, x.cursor)
			if err != nil {
				return err
			}
			type ev struct{ id, typ, subject string }
			var list []ev
			for evs.Next() {
				var e ev
				if err := evs.Scan(&e.id, &e.typ, &e.subject); err != nil {
					evs.Close()
					return err
				}
				list = append(list, e)
			}
			evs.Close()
			if len(list) == 0 {
				return nil
			}
			for _, e := range list {
				if !slices.Contains(x.types, e.typ) {
					continue
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO delivery (subscription_id, event_id, subject, attempts, next_at, dead, last_error)
					VALUES ($1, $2, $3, 0, $4, false, '') ON CONFLICT DO NOTHING`, x.id, e.id, e.subject, now); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, `UPDATE subscription SET cursor = $1 WHERE id = $2 AND cursor = $3`, list[len(list)-1].id, x.id, x.cursor)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// due lists the deliveries to attempt now: for each person only the
// earliest undelivered event, so that a person's events arrive in order.
type due struct {
	sub, url, event, subject string
	attempts                 int
	key                      []byte
}

func (s *Service) due(ctx context.Context) ([]due, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.subscription_id, s.url, s.secret_sealed, d.event_id, d.subject, d.attempts
		FROM delivery d JOIN subscription s ON s.id = d.subscription_id
		WHERE d.delivered_at IS NULL AND NOT d.dead AND d.next_at <= $1 AND NOT s.disabled
		AND NOT EXISTS (SELECT 1 FROM delivery e WHERE e.subscription_id = d.subscription_id AND e.subject = d.subject
			AND e.event_id < d.event_id AND e.delivered_at IS NULL AND NOT e.dead)
		ORDER BY d.event_id LIMIT $2`, s.now().UTC(), batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []due
	for rows.Next() {
		var d due
		var sealed []byte
		if err := rows.Scan(&d.sub, &d.url, &sealed, &d.event, &d.subject, &d.attempts); err != nil {
			return nil, err
		}
		if d.key, err = s.sealer.Open(sealed, secretAAD(d.sub)); err != nil {
			return nil, fmt.Errorf("subscription %s: %w", d.sub, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Deliver runs one round: new events fanned out, due deliveries attempted.
// It returns how many were delivered.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	if err := s.fanOut(ctx); err != nil {
		return 0, err
	}
	list, err := s.due(ctx)
	if err != nil {
		return 0, err
	}
	delivered := 0
	for _, d := range list {
		body, err := s.cloudEvent(ctx, d.event)
		if err != nil {
			return delivered, err
		}
		now := s.now().UTC()
		sendErr := s.post(ctx, d, body, now)
		if sendErr == nil {
			delivered++
			_, err = s.db.ExecContext(ctx, `UPDATE delivery SET delivered_at = $1, attempts = attempts + 1, last_error = '' WHERE subscription_id = $2 AND event_id = $3`,
				now, d.sub, d.event)
		} else {
			attempts := d.attempts + 1
			backoff := min(time.Duration(1<<min(attempts, 20))*time.Second, maxBackoff)
			_, err = s.db.ExecContext(ctx, `UPDATE delivery SET attempts = $1, next_at = $2, dead = $3, last_error = $4 WHERE subscription_id = $5 AND event_id = $6`,
				attempts, now.Add(backoff), attempts >= MaxAttempts, truncate(sendErr.Error(), 500), d.sub, d.event)
		}
		if err != nil {
			return delivered, err
		}
	}
	return delivered, nil
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
func (s *Service) post(ctx context.Context, d due, body []byte, now time.Time) error {
	ts := strconv.FormatInt(now.Unix(), 10)
	signed := slices.Concat([]byte(d.event+"."+ts+"."), body)
	mac := hmac.New(sha256.New, d.key)
	mac.Write(signed)
	req, err := http.NewRequestWithContext(ctx, "POST", d.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("webhook-id", d.event)
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
		return fmt.Errorf("the receiver answered %d", res.StatusCode)
	}
	return nil
}

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
	rows, err := s.db.QueryContext(ctx, `SELECT event_id, subject, attempts, last_error FROM delivery WHERE subscription_id = $1 AND dead ORDER BY event_id`, id)
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

// Run delivers every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration, onError func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
