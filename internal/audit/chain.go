package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Chain makes the access log tamper-evident. Seal appends the events not
// yet chained, in order, each link being SHA-256(previous link | event),
// and signs a checkpoint of the head every CheckpointEvery links (and at
// least once per Seal that chained anything); Verify walks the chain and
// reports every event changed, deleted, reordered or left out, and every
// checkpoint that does not match.
type Chain struct {
	db   *sqldb.DB
	keys *keyring.Ring
	now  func() time.Time
}

// CheckpointEvery is how many links a signed checkpoint covers at most.
const CheckpointEvery = 1000

// genesis is the link before the first.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// NewChain returns the chain over db's access log, with checkpoints signed
// by keys.
func NewChain(db *sqldb.DB, keys *keyring.Ring, now func() time.Time) *Chain {
	if now == nil {
		now = time.Now
	}
	return &Chain{db: db, keys: keys, now: now}
}

// NewChainKeys is the keyring that signs checkpoints.
func NewChainKeys(db *sqldb.DB, sealer keyring.Sealer) *keyring.Ring {
	return keyring.New(db, sealer, "audit_signing_key", 365*24*time.Hour, 100*365*24*time.Hour)
}

const eventColumns = `id, at, actor_id, actor_kind, actor_name, action, subject_pid, purpose, detail, source`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var e Event
	err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.Kind, &e.Name, &e.Action, &e.Subject, &e.Purpose, &e.Detail, &e.Source)
	e.At = e.At.UTC()
	return e, err
}

// link is the chain's hash over prev and an event, as stored.
func link(prev string, e Event) string {
	body, _ := json.Marshal([]string{e.ID, e.At.Format(time.RFC3339Nano), e.ActorID, e.Kind, e.Name, e.Action, e.Subject, e.Purpose, e.Detail, e.Source})
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'|'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Seal chains the events not chained yet, up to limit of them, and signs a
// checkpoint of the new head. It returns how many it chained. Several
// servers may seal at once: on PostgreSQL an advisory lock takes turns, on
// SQLite the write transaction does.
func (c *Chain) Seal(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 10000
	}
	now := c.now().UTC()
	// Load or make the signing key before the transaction: a new key is
	// written in its own.
	if _, _, err := c.keys.Current(ctx, now); err != nil {
		return 0, err
	}
	n := 0
	err := c.db.InTx(ctx, func(tx *sql.Tx) error {
		n = 0
		if c.db.Dialect == sqldb.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727272)`); err != nil {
				return err
			}
		}
		seq, prev := int64(0), genesis
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM access_event e
			WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id) ORDER BY e.id LIMIT $1`, limit)
		if err != nil {
			return err
		}
		var evs []Event
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		lastCheckpoint := int64(0)
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint`).Scan(&lastCheckpoint); err != nil {
			return err
		}
		for _, e := range evs {
			seq++
			prev = link(prev, e)
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_chain (seq, event_id, hash, chained_at) VALUES ($1, $2, $3, $4)`, seq, e.ID, prev, now); err != nil {
				return err
			}
			if seq-lastCheckpoint >= CheckpointEvery {
				if err := c.checkpoint(ctx, tx, seq, prev, now); err != nil {
					return err
				}
				lastCheckpoint = seq
			}
		}
		n = len(evs)
		if n > 0 && lastCheckpoint != seq {
			return c.checkpoint(ctx, tx, seq, prev, now)
		}
		return nil
	})
	return n, err
}

// checkpointClaims is what a checkpoint signs.
type checkpointClaims struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	At   int64  `json:"iat"`
}

func (c *Chain) checkpoint(ctx context.Context, tx *sql.Tx, seq int64, hash string, now time.Time) error {
	key, _, err := c.keys.Current(ctx, now)
	if err != nil {
		return err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType("audit-checkpoint+jwt"))
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(checkpointClaims{Seq: seq, Hash: hash, At: now.Unix()})
	obj, err := signer.Sign(payload)
	if err != nil {
		return err
	}
	jws, err := obj.CompactSerialize()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_checkpoint (seq, hash, at, jws) VALUES ($1, $2, $3, $4)`, seq, hash, now, jws)
	return err
}

// Problem is one thing Verify found wrong.
type Problem struct {
	Seq     int64  `json:"seq,omitempty"`
	EventID string `json:"event_id,omitempty"`
	Kind    string `json:"kind" enum:"modified,deleted,reordered,unchained,checkpoint"`
	Detail  string `json:"detail"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Seq > 0 {
		fmt.Fprintf(&b, "seq %d: ", p.Seq)
	}
	b.WriteString(p.Kind)
	if p.EventID != "" {
		fmt.Fprintf(&b, " (event %s)", p.EventID)
	}
	b.WriteString(": " + p.Detail)
	return b.String()
}

// Report is the outcome of Verify.
type Report struct {
	Links       int64     `json:"links"`
	Checkpoints int       `json:"checkpoints"`
	Unchained   int       `json:"unchained" doc:"Events not sealed yet"`
	Problems    []Problem `json:"problems"`
}

// Verify walks the whole chain. It recomputes every link from its event
// and the link before: a changed event breaks its link; a deleted event
// leaves its link without one; two swapped events each fit the other's
// place; a rewritten tail contradicts the signed checkpoints. Events not
// chained for longer than grace are reported too.
func (c *Chain) Verify(ctx context.Context, grace time.Duration) (Report, error) {
	var r Report
	rows, err := c.db.QueryContext(ctx, `SELECT c.seq, c.event_id, c.hash, e.id, e.at, e.actor_id, e.actor_kind, e.actor_name, e.action,
		e.subject_pid, e.purpose, e.detail, e.source FROM audit_chain c LEFT JOIN access_event e ON e.id = c.event_id ORDER BY c.seq`)
	if err != nil {
		return r, err
	}
	var chain []chainEntry
	for rows.Next() {
		var en chainEntry
		var id, actorID, kind, name, action, subject, purpose, detail, source sql.NullString
		var at sql.NullTime
		if err := rows.Scan(&en.seq, &en.id, &en.hash, &id, &at, &actorID, &kind, &name, &action, &subject, &purpose, &detail, &source); err != nil {
			rows.Close()
			return r, err
		}
		if id.Valid {
			en.event = &Event{ID: id.String, At: at.Time.UTC(), ActorID: actorID.String, Kind: kind.String, Name: name.String, Action: action.String,
				Subject: subject.String, Purpose: purpose.String, Detail: detail.String, Source: source.String}
		}
		chain = append(chain, en)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.Links = int64(len(chain))
	prevOf := func(i int) string {
		if i == 0 {
			return genesis
		}
		return chain[i-1].hash
	}
	for i, en := range chain {
		if en.seq != int64(i+1) {
			r.Problems = append(r.Problems, Problem{Seq: en.seq, Kind: "deleted", Detail: fmt.Sprintf("link %d is missing from the chain", i+1)})
			break
		}
		if en.event == nil {
			r.Problems = append(r.Problems, Problem{Seq: en.seq, EventID: en.id, Kind: "deleted", Detail: "the event this link seals is gone"})
			continue
		}
		if link(prevOf(i), *en.event) == en.hash {
			continue
		}
		// Does this event fit another place of the chain? Then events were
		// moved; else it was changed.
		moved := ""
		for j := range chain {
			if j != i && link(prevOf(j), *en.event) == chain[j].hash {
				moved = fmt.Sprintf("it was sealed at seq %d", chain[j].seq)
				break
			}
		}
		if moved != "" || en.event.ID != en.id {
			if moved == "" {
				moved = "its link names another event"
			}
			r.Problems = append(r.Problems, Problem{Seq: en.seq, EventID: en.event.ID, Kind: "reordered", Detail: moved})
		} else {
			r.Problems = append(r.Problems, Problem{Seq: en.seq, EventID: en.id, Kind: "modified", Detail: "the event no longer matches its link"})
		}
	}
	// Group events: their stored subjects must hash to the digest the
	// sealed event states.
	problems, err := c.verifySubjects(ctx, chain2groups(chain))
	if err != nil {
		return r, err
	}
	r.Problems = append(r.Problems, problems...)
	// Checkpoints: signed by an audit key, and matching the chain.
	_, keys, err := c.keys.Current(ctx, c.now())
	if err != nil {
		return r, err
	}
	crows, err := c.db.QueryContext(ctx, `SELECT seq, hash, jws FROM audit_checkpoint ORDER BY seq`)
	if err != nil {
		return r, err
	}
	defer crows.Close()
	for crows.Next() {
		var seq int64
		var hash, jws string
		if err := crows.Scan(&seq, &hash, &jws); err != nil {
			return r, err
		}
		r.Checkpoints++
		var claims checkpointClaims
		if !verifyCheckpoint(jws, keys, &claims) || claims.Seq != seq || claims.Hash != hash {
			r.Problems = append(r.Problems, Problem{Seq: seq, Kind: "checkpoint", Detail: "the checkpoint's signature does not verify with an audit key"})
			continue
		}
		switch {
		case seq > r.Links:
			r.Problems = append(r.Problems, Problem{Seq: seq, Kind: "deleted", Detail: fmt.Sprintf("a signed checkpoint covers seq %d but the chain ends at %d", seq, r.Links)})
		case chain[seq-1].hash != hash:
			r.Problems = append(r.Problems, Problem{Seq: seq, Kind: "checkpoint", Detail: "the chain was rewritten: its link here differs from the signed checkpoint"})
		}
	}
	if err := crows.Err(); err != nil {
		return r, err
	}
	var unchained int
	if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event e WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)`).
		Scan(&unchained); err != nil {
		return r, err
	}
	r.Unchained = unchained
	var late int
	if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event e WHERE e.at < $1 AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)`,
		c.now().UTC().Add(-grace)).Scan(&late); err != nil {
		return r, err
	}
	if late > 0 {
		r.Problems = append(r.Problems, Problem{Kind: "unchained", Detail: fmt.Sprintf("%d events older than %s are not sealed: the sealer is not running, or they were inserted around it", late, grace)})
	}
	return r, nil
}

func verifyCheckpoint(jws string, keys []*keyring.Key, claims *checkpointClaims) bool {
	obj, err := jose.ParseSigned(jws, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(obj.Signatures) != 1 {
		return false
	}
	for _, k := range keys {
		if k.ID() != obj.Signatures[0].Header.KeyID {
			continue
		}
		payload, err := obj.Verify(k.Public())
		return err == nil && json.Unmarshal(payload, claims) == nil
	}
	return false
}

type chainEntry struct {
	seq   int64
	id    string
	hash  string
	event *Event
}

type sealedGroup struct {
	seq    int64
	digest string
	seen   bool
}

// chain2groups finds the group events among the sealed ones.
func chain2groups(chain []chainEntry) map[string]*sealedGroup {
	out := map[string]*sealedGroup{}
	for _, en := range chain {
		if en.event == nil {
			continue
		}
		if d, ok := groupDigest(*en.event); ok {
			out[en.event.ID] = &sealedGroup{seq: en.seq, digest: d}
		}
	}
	return out
}

// verifySubjects reads access_subject in order of event and number, and
// checks each sealed group event's subjects against its digest: people
// added to or removed from a group event, or subjects of no event at all,
// are reported.
func (c *Chain) verifySubjects(ctx context.Context, groups map[string]*sealedGroup) ([]Problem, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT s.event_id, s.subject_pid, e.id IS NULL FROM access_subject s
		LEFT JOIN access_event e ON e.id = s.event_id ORDER BY s.event_id, s.subject_pid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Problem
	var cur string
	var subjects []string
	var orphan bool
	flush := func() {
		if cur == "" {
			return
		}
		g, sealed := groups[cur]
		switch {
		case orphan:
			out = append(out, Problem{EventID: cur, Kind: "inserted", Detail: fmt.Sprintf("%d subjects name an event that does not exist", len(subjects))})
		case sealed:
			g.seen = true
			if SubjectsDigest(subjects) != g.digest {
				out = append(out, Problem{Seq: g.seq, EventID: cur, Kind: "modified", Detail: fmt.Sprintf("the people of this group event were changed (%d stored)", len(subjects))})
			}
		}
	}
	for rows.Next() {
		var id, pid string
		var missing bool
		if err := rows.Scan(&id, &pid, &missing); err != nil {
			return nil, err
		}
		if id != cur {
			flush()
			cur, subjects, orphan = id, subjects[:0], missing
		}
		subjects = append(subjects, pid)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flush()
	for id, g := range groups {
		if !g.seen && g.digest != SubjectsDigest(nil) {
			out = append(out, Problem{Seq: g.seq, EventID: id, Kind: "modified", Detail: "the people of this group event were removed"})
		}
	}
	slices.SortFunc(out, func(a, b Problem) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}
