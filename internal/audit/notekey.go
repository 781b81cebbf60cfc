package audit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// noteKey is the Ed25519 key that signs the log's checkpoints. There is one
// per log, made by the first seal and never rotated: a verifier key is what
// outside copies and citizens pin, and the log's origin is its name. Like
// the keyrings' keys, its private half is sealed with the data key, so
// someone who can write the database but does not hold the data key cannot
// slip in a key of their own: a key row that does not open is not trusted.
type noteKey struct {
	origin   string
	vkey     string
	signer   note.Signer
	verifier note.Verifier
}

func noteKeyAAD(origin string) []byte { return []byte("audit_note_key|" + origin) }

// loadKey reads the log's note key. It is NotFound before the first seal,
// and Invalid when the stored key does not open with the data key or its
// two halves do not belong together.
func (c *Chain) loadKey(ctx context.Context, q sqldb.Querier) (*noteKey, error) {
	var origin, vkey string
	var sealed []byte
	err := q.QueryRowContext(ctx, `SELECT origin, vkey, skey_sealed FROM audit_note_key WHERE id = 1`).Scan(&origin, &vkey, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "the access log has no note key yet: nothing was ever sealed")
	}
	if err != nil {
		return nil, fmt.Errorf("audit note key: %w", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the access log's verifier key %q is malformed", vkey)
	}
	skey, err := c.sealer.Open(sealed, noteKeyAAD(origin))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the access log's note key does not open with the data key: it was not made by this deployment")
	}
	signer, err := note.NewSigner(string(skey))
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the access log's note key is malformed")
	}
	probe := []byte("dancu audit note key probe\n")
	sig, err := signer.Sign(probe)
	if err != nil || signer.Name() != origin || verifier.Name() != origin || signer.KeyHash() != verifier.KeyHash() || !verifier.Verify(probe, sig) {
		return nil, errs.E(errs.Invalid, "the access log's verifier key does not belong to its signing key")
	}
	return &noteKey{origin: origin, vkey: vkey, signer: signer, verifier: verifier}, nil
}

// key returns the note key, making it on first use when create is set.
// Only sealing creates it: verification must never make the key it would
// then trust.
func (c *Chain) key(ctx context.Context, create bool) (*noteKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nk != nil {
		return c.nk, nil
	}
	k, err := c.loadKey(ctx, c.db)
	if errs.Is(err, errs.NotFound) && create {
		skey, vkey, gerr := note.GenerateKey(rand.Reader, c.origin)
		if gerr != nil {
			return nil, errs.Wrap(errs.Invalid, gerr, "audit origin %q cannot name a note key (no spaces or '+')", c.origin)
		}
		// Two servers sealing for the first time at once: one key wins,
		// both then read it.
		if _, err := c.db.ExecContext(ctx, `INSERT INTO audit_note_key (id, origin, vkey, skey_sealed, created_at) VALUES (1, $1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, c.origin, vkey, c.sealer.Seal([]byte(skey), noteKeyAAD(c.origin)), c.now().UTC()); err != nil {
			return nil, fmt.Errorf("store the audit note key: %w", err)
		}
		k, err = c.loadKey(ctx, c.db)
	}
	if err != nil {
		return nil, err
	}
	c.nk = k
	return k, nil
}

// VerifierKey is the log's note verifier key, to publish (beside the
// checkpoints kept outside, on the citizen portal) so that anyone can check
// a checkpoint or an inclusion proof. NotFound before the first seal.
func (c *Chain) VerifierKey(ctx context.Context) (string, error) {
	k, err := c.key(ctx, false)
	if err != nil {
		return "", err
	}
	return k.vkey, nil
}
