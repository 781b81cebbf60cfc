package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// target is a subscription being delivered to.
type target struct {
	id, url string
	key     []byte
}

// due is one delivery to attempt now.
type due struct {
	event, subject string
	attempts       int
}

// Deliver runs one round: new events fanned out, then the due deliveries
// attempted, up to MaxParallel subscriptions at a time, each
// subscription's in order. It waits for the round to end and returns how
// many were delivered. Run does not wait for a slow subscriber; Deliver is
// for callers that want one round done, such as tests and tools.
func (s *Service) Deliver(ctx context.Context) (int, error) {
	if err := s.fanOut(ctx); err != nil {
		return 0, err
	}
	ids, err := s.dueSubscriptions(ctx)
	if err != nil {
		return 0, err
	}
	var (
		mu        sync.Mutex
		delivered int
		first     error
		wg        sync.WaitGroup
	)
	slots := make(chan struct{}, s.parallel)
	for _, id := range ids {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			n, err := s.drain(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			delivered += n
			if first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	return delivered, first
}

// Run delivers until ctx ends: every interval it fans out new events and
// starts a worker for each subscription with due deliveries that has none
// yet, at most MaxParallel at once. A subscriber that is slow or does not
// answer holds only its own worker, so the others are not kept waiting.
// onError, if not nil, is called from several goroutines.
func (s *Service) Run(ctx context.Context, every time.Duration, onError func(error)) {
	report := func(err error) {
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
	}
	var (
		mu   sync.Mutex
		busy = map[string]bool{}
		wg   sync.WaitGroup
	)
	defer wg.Wait()
	slots := make(chan struct{}, s.parallel)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		report(s.fanOut(ctx))
		ids, err := s.dueSubscriptions(ctx)
		report(err)
	start:
		for _, id := range ids {
			mu.Lock()
			if busy[id] {
				mu.Unlock()
				continue
			}
			select {
			case slots <- struct{}{}:
			default:
				mu.Unlock()
				break start // all workers busy: the rest wait for the next tick
			}
			busy[id] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(busy, id)
					mu.Unlock()
					<-slots
				}()
				_, err := s.drain(ctx, id)
				report(err)
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dueSubscriptions lists the subscriptions with deliveries due, the one
// waiting longest first.
func (s *Service) dueSubscriptions(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.subscription_id FROM delivery d JOIN subscription s ON s.id = d.subscription_id
		WHERE d.delivered_at IS NULL AND NOT d.dead AND d.next_at <= $1 AND NOT s.disabled
		GROUP BY d.subscription_id ORDER BY MIN(d.next_at)`, s.now().UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// turn bounds how long one worker keeps its slot while deliveries keep
// coming, so that more subscriptions than MaxParallel all get their turn.
const turn = 5 * time.Second

// drain delivers one subscription's due deliveries in order until none is
// due, one fails, or its turn is over, and returns how many it delivered.
// After a failure to reach the receiver at all (no connection, no answer
// in time) it stops: the subscriber is down, and its other deliveries
// wait for the next round instead of each waiting out a timeout. A
// receiver that answers with an error status is quick to ask again, so
// the other persons' events are still tried.
func (s *Service) drain(ctx context.Context, id string) (int, error) {
	var to target
	var sealed []byte
	if err := s.db.QueryRowContext(ctx, `SELECT url, secret_sealed FROM subscription WHERE id = $1`, id).Scan(&to.url, &sealed); err != nil {
		return 0, fmt.Errorf("subscription %s: %w", id, err)
	}
	to.id = id
	key, err := s.sealer.Open(sealed, secretAAD(id))
	if err != nil {
		return 0, fmt.Errorf("subscription %s: %w", id, err)
	}
	to.key = key
	delivered := 0
	end := time.Now().Add(turn) // the wall clock: s.now may be a test's stopped one

	for time.Now().Before(end) {
		list, err := s.due(ctx, id)
		if err != nil || len(list) == 0 {
			return delivered, err
		}
		for _, d := range list {
			ok, unreachable, err := s.attempt(ctx, to, d)
			if err != nil || unreachable {
				return delivered, err
			}
			if ok {
				delivered++
			}
		}
	}
	return delivered, nil
}

// due lists a subscription's deliveries to attempt now: for each person
// only the earliest undelivered event, so that a person's events arrive
// in order. A delivery in flight (claimed, see attempt) is undelivered and
// holds back the person's later events too.
func (s *Service) due(ctx context.Context, id string) ([]due, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.event_id, d.subject, d.attempts FROM delivery d
		WHERE d.subscription_id = $1 AND d.delivered_at IS NULL AND NOT d.dead AND d.next_at <= $2
		AND NOT EXISTS (SELECT 1 FROM delivery e WHERE e.subscription_id = d.subscription_id AND e.subject = d.subject
			AND e.event_id < d.event_id AND e.delivered_at IS NULL AND NOT e.dead)
		ORDER BY d.event_id LIMIT $3`, id, s.now().UTC(), batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.event, &d.subject, &d.attempts); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// attempt claims one delivery and sends it. The claim moves next_at past
// the time a send can take, so another server (or worker) does not send
// it at the same time, and a server that dies mid-send leaves it to be
// tried again once the claim runs out. It reports whether the event was
// delivered, and whether the receiver could not be reached at all; a
// failed delivery is rescheduled with backoff, or dead after MaxAttempts.
func (s *Service) attempt(ctx context.Context, to target, d due) (delivered, unreachable bool, err error) {
	now := s.now().UTC()
	res, err := s.db.ExecContext(ctx, `UPDATE delivery SET next_at = $1 WHERE subscription_id = $2 AND event_id = $3
		AND delivered_at IS NULL AND NOT dead AND next_at <= $4`, now.Add(claimFor), to.id, d.event, now)
	if err != nil {
		return false, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, false, err // claimed elsewhere
	}
	body, err := s.cloudEvent(ctx, d.event)
	if err != nil {
		return false, false, err
	}
	sendErr := s.post(ctx, to, d.event, body, now)
	if sendErr != nil && ctx.Err() != nil {
		// Shutting down: the claim runs out and the delivery is tried again,
		// without counting an attempt the receiver had no fair chance at.
		return false, true, nil
	}
	if sendErr == nil {
		_, err = s.db.ExecContext(ctx, `UPDATE delivery SET delivered_at = $1, attempts = attempts + 1, last_error = '' WHERE subscription_id = $2 AND event_id = $3`,
			s.now().UTC(), to.id, d.event)
		return err == nil, false, err
	}
	var answered *statusError
	unreachable = !errors.As(sendErr, &answered)
	attempts := d.attempts + 1
	backoff := min(time.Duration(1<<min(attempts, 20))*time.Second, maxBackoff)
	_, err = s.db.ExecContext(ctx, `UPDATE delivery SET attempts = $1, next_at = $2, dead = $3, last_error = $4 WHERE subscription_id = $5 AND event_id = $6`,
		attempts, now.Add(backoff), attempts >= MaxAttempts, truncate(sendErr.Error(), 500), to.id, d.event)
	return false, unreachable, err
}
