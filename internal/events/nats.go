package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSSink publishes every outbox event to a NATS JetStream stream, for
// agencies that consume a stream instead of webhooks: subject
// "<prefix>.<type>", the CloudEvents document as the message, the event ID
// as the message ID (JetStream drops a duplicate published within its
// window, so a retry after a crash publishes once). The sink is registered
// in the database (event_sink) under "nats:<stream>"; from then on the
// fan-out queues every event for it, and it publishes from that queue.
type NATSSink struct {
	svc    *Service
	js     jetstream.JetStream
	nc     *nats.Conn
	stream string
	prefix string
	name   string // in event_sink
}

// NewNATSSink connects to url, makes sure the stream exists and registers
// the sink, so that every event fanned out from now on is queued for it.
func (s *Service) NewNATSSink(ctx context.Context, url, stream, prefix string) (*NATSSink, error) {
	nc, err := nats.Connect(url, nats.Name("dancu"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{prefix + ".>"},
		Duplicates: 10 * time.Minute, MaxAge: 30 * 24 * time.Hour}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats stream %s: %w", stream, err)
	}
	name := "nats:" + stream
	if _, err := s.db.ExecContext(ctx, `INSERT INTO event_sink (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, name, s.now().UTC()); err != nil {
		nc.Close()
		return nil, err
	}
	return &NATSSink{svc: s, js: js, nc: nc, stream: stream, prefix: prefix, name: name}, nil
}

// Close ends the connection.
func (n *NATSSink) Close() { n.nc.Close() }

// Publish fans out new events and sends up to limit of the sink's queued
// ones, oldest first, taking each off the queue once JetStream has it; it
// returns how many it published. Two servers publishing at once may send
// an event twice, which JetStream drops by its message ID.
func (n *NATSSink) Publish(ctx context.Context, limit int) (int, error) {
	db := n.svc.db
	if err := n.svc.fanOut(ctx); err != nil {
		return 0, err
	}
	rows, err := db.QueryContext(ctx, `SELECT p.event_id, e.type FROM sink_pending p JOIN event_outbox e ON e.id = p.event_id
		WHERE p.sink = $1 ORDER BY p.event_id LIMIT $2`, n.name, limit)
	if err != nil {
		return 0, err
	}
	type ev struct{ id, typ string }
	var list []ev
	for rows.Next() {
		var e ev
		if err := rows.Scan(&e.id, &e.typ); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var ids []string
	for _, e := range list {
		body, err := n.svc.cloudEvent(ctx, e.id)
		if err != nil {
			return 0, err
		}
		subject := n.prefix + "." + strings.TrimPrefix(e.typ, "vn.dancu.")
		if _, err := n.js.Publish(ctx, subject, body, jetstream.WithMsgID(e.id)); err != nil {
			if len(ids) > 0 {
				err = errors.Join(err, n.done(ctx, ids))
			}
			return len(ids), fmt.Errorf("publish %s: %w", e.id, err)
		}
		ids = append(ids, e.id)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return len(ids), n.done(ctx, ids)
}

// done takes published events off the sink's queue.
func (n *NATSSink) done(ctx context.Context, ids []string) error {
	in, arg := n.svc.db.Dialect.AnyOf("event_id", 2, ids)
	_, err := n.svc.db.ExecContext(ctx, `DELETE FROM sink_pending WHERE sink = $1 AND `+in, n.name, arg)
	return err
}

// Run publishes every interval until ctx ends.
func (n *NATSSink) Run(ctx context.Context, every time.Duration, onError func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			k, err := n.Publish(ctx, 1000)
			if err != nil && ctx.Err() == nil && onError != nil {
				onError(err)
			}
			if err != nil || k == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
