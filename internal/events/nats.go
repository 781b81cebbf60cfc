package events

import (
	"context"
	"database/sql"
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
// window, so a retry after a crash publishes once). Its cursor is kept in
// the database.
type NATSSink struct {
	svc    *Service
	js     jetstream.JetStream
	nc     *nats.Conn
	stream string
	prefix string
}

// NewNATSSink connects to url and makes sure the stream exists.
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
	return &NATSSink{svc: s, js: js, nc: nc, stream: stream, prefix: prefix}, nil
}

// Close ends the connection.
func (n *NATSSink) Close() { n.nc.Close() }

// Publish sends the events after the sink's cursor, up to limit, and moves
// the cursor; it returns how many it published.
func (n *NATSSink) Publish(ctx context.Context, limit int) (int, error) {
	db := n.svc.db
	name := "nats:" + n.stream
	var cursor string
	err := db.QueryRowContext(ctx, `SELECT cursor FROM sink_cursor WHERE name = $1`, name).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		cursor = ""
	} else if err != nil {
		return 0, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, type FROM event_outbox WHERE id > $1 ORDER BY id LIMIT $2`, cursor, limit)
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
	for _, e := range list {
		body, err := n.svc.cloudEvent(ctx, e.id)
		if err != nil {
			return 0, err
		}
		subject := n.prefix + "." + strings.TrimPrefix(e.typ, "vn.dancu.")
		if _, err := n.js.Publish(ctx, subject, body, jetstream.WithMsgID(e.id)); err != nil {
			return 0, fmt.Errorf("publish %s: %w", e.id, err)
		}
	}
	if len(list) == 0 {
		return 0, nil
	}
	_, err = db.ExecContext(ctx, `INSERT INTO sink_cursor (name, cursor) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor`,
		name, list[len(list)-1].id)
	return len(list), err
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
