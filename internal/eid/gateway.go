package eid

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/errs"
)

// Gateway takes messages to citizens out of the platform: an SMS, e-mail
// or app-push provider's adapter. Deliver returns nil once the gateway has
// accepted m; it may see m more than once (after a crash between its
// answer and the record of it) and deduplicates by ID.
type Gateway interface {
	Deliver(ctx context.Context, id string, m Message) error
}

// HTTPGateway posts each message as JSON to URL:
//
//	{"id": "…", "channel": "sms", "to": "0912…", "subject": "", "body": "…"}
//
// with Authorization: Bearer Token when one is set. Any 2xx answer
// accepts the message; anything else is tried again later.
type HTTPGateway struct {
	URL    string
	Token  string
	Client *http.Client
}

// Deliver sends one message.
func (g HTTPGateway) Deliver(ctx context.Context, id string, m Message) error {
	body, _ := json.Marshal(map[string]string{"id": id, "channel": m.Channel, "to": m.Recipient, "subject": m.Subject, "body": m.Body})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	if g.Token != "" {
		req.Header.Set("Authorization", "Bearer "+g.Token)
	}
	c := g.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("gateway answered %s", res.Status)
	}
	return nil
}

// Message delivery: tries and the wait between them.
const (
	messageAttempts = 12
	messageClaim    = time.Minute // a claimed message is left to its worker this long
)

func messageBackoff(attempt int) time.Duration {
	return min(time.Duration(1<<min(attempt, 10))*5*time.Second, time.Hour)
}

// DeliverMessages hands the messages that are due to gw, at most limit of
// them, and reports how many the gateway accepted. Each is claimed first
// (a conditional update), so several processes on one store never send
// one message twice at once; an accepted message's body is erased.
func (s *Service) DeliverMessages(ctx context.Context, gw Gateway, limit int) (int, error) {
	now := s.clock()
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM outbox_message WHERE sent_at IS NULL AND next_at <= $1 AND attempts < $2
		ORDER BY next_at LIMIT $3`, now, messageAttempts, limit)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, id := range ids {
		ok, err := s.deliverOne(ctx, gw, id, now)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

func (s *Service) deliverOne(ctx context.Context, gw Gateway, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE outbox_message SET next_at = $1, attempts = attempts + 1
		WHERE id = $2 AND sent_at IS NULL AND next_at <= $3`, now.Add(messageClaim), id, now)
	if n, _ := rowsAffected(res, err); n != 1 {
		return false, err // claimed elsewhere
	}
	var m Message
	var sealed []byte
	var attempts int
	if err := s.db.QueryRowContext(ctx, `SELECT channel, recipient, subject, body_sealed, attempts FROM outbox_message WHERE id = $1`, id).
		Scan(&m.Channel, &m.Recipient, &m.Subject, &sealed, &attempts); err != nil {
		return false, err
	}
	body, err := s.sealer.Open(sealed, messageAAD(id))
	if err != nil {
		return false, fmt.Errorf("message %s: %w", id, err)
	}
	m.Body = string(body)
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	derr := gw.Deliver(dctx, id, m)
	cancel()
	return derr == nil, access.SecurityWrite(ctx, func(ctx context.Context) error {
		if derr == nil {
			_, err := s.db.ExecContext(ctx, `UPDATE outbox_message SET sent_at = $1, body_sealed = NULL, last_error = '' WHERE id = $2`, s.clock(), id)
			return err
		}
		msg := derr.Error()
		if len(msg) > 300 {
			msg = msg[:300]
		}
		_, err := s.db.ExecContext(ctx, `UPDATE outbox_message SET next_at = $1, last_error = $2 WHERE id = $3`,
			s.clock().Add(messageBackoff(attempts)), msg, id)
		return err
	})
}

// OutboxEntry is a message as administrators see it: its delivery, and
// its text only in a demo (ShowMessageBodies), never in production.
type OutboxEntry struct {
	ID        string     `json:"id"`
	Channel   string     `json:"channel"`
	Recipient string     `json:"recipient"`
	Subject   string     `json:"subject,omitempty"`
	Body      string     `json:"body,omitempty" doc:"Only in a demo (dancu serve --demo, no gateway); never in production"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	State     string     `json:"state" enum:"queued,sent,failed"`
}

// ShowMessageBodies lets administrators read the text of queued messages,
// for demos without a gateway; serve turns it on with --demo only.
func (s *Service) ShowMessageBodies(on bool) { s.showBodies = on }

// Messages lists the newest outbox messages to recipient, for
// administrators following a delivery ("was the code sent?").
func (s *Service) Messages(ctx context.Context, recipient string, limit int) ([]OutboxEntry, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return nil, err
	}
	recipient = strings.TrimSpace(recipient)
	if recipient == "" {
		return nil, errs.Field("recipient", "must be a phone number, an e-mail address or a personal ID number")
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, channel, recipient, subject, body_sealed, created_at, sent_at, attempts, last_error
		FROM outbox_message WHERE recipient = $1 ORDER BY id DESC LIMIT $2`, recipient, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OutboxEntry{}
	for rows.Next() {
		var e OutboxEntry
		var sealed []byte
		var sent sql.NullTime
		if err := rows.Scan(&e.ID, &e.Channel, &e.Recipient, &e.Subject, &sealed, &e.CreatedAt, &sent, &e.Attempts, &e.LastError); err != nil {
			return nil, err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		switch {
		case sent.Valid:
			t := sent.Time.UTC()
			e.SentAt, e.State = &t, "sent"
		case e.Attempts >= messageAttempts:
			e.State = "failed"
		default:
			e.State = "queued"
		}
		if s.showBodies && sealed != nil {
			b, err := s.sealer.Open(sealed, messageAAD(e.ID))
			if err != nil {
				return nil, errors.Join(errors.New("open a queued message"), err)
			}
			e.Body = string(b)
		}
		if !s.showBodies {
			e.Subject = ""
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
