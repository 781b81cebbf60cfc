package sso

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Key rotation: a signing key signs for KeyRotation, then the next one
// takes over; the old key stays published for keyOverlap more, longer than
// any token it signed lives.
const (
	KeyRotation = 30 * 24 * time.Hour
	keyOverlap  = 48 * time.Hour
	keyReload   = time.Minute
)

type signingKey struct {
	id      string
	key     *ecdsa.PrivateKey
	created time.Time
	retire  *time.Time
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.key.PublicKey }

// keyring holds the signing keys in memory, reloaded from the database at
// most every keyReload, and makes the next key when the current one is due.
type keyring struct {
	db     *sqldb.DB
	sealer *eid.Sealer
	mu     sync.Mutex
	keys   []*signingKey // newest first, not retired
	loaded time.Time
}

func keyAAD(id string) []byte { return []byte("oidc_signing_key|" + id) }

func (r *keyring) current(ctx context.Context, now time.Time) (*signingKey, []*signingKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.loaded) > keyReload || len(r.keys) == 0 {
		if err := r.load(ctx, now); err != nil {
			return nil, nil, err
		}
	}
	if len(r.keys) == 0 || now.Sub(r.keys[0].created) >= KeyRotation {
		if err := r.rotate(ctx, now); err != nil {
			return nil, nil, err
		}
	}
	return r.keys[0], r.keys, nil
}

func (r *keyring) load(ctx context.Context, now time.Time) error {
	rows, err := r.db.QueryContext(ctx, `SELECT id, private_sealed, created_at, retire_at FROM oidc_signing_key
		WHERE retire_at IS NULL OR retire_at > $1 ORDER BY created_at DESC, id DESC`, now)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	var keys []*signingKey
	for rows.Next() {
		var k signingKey
		var sealed []byte
		var retire sql.NullTime
		if err := rows.Scan(&k.id, &sealed, &k.created, &retire); err != nil {
			return err
		}
		der, err := r.sealer.Open(sealed, keyAAD(k.id))
		if err != nil {
			return fmt.Errorf("signing key %s: cannot open it with the data key: %w", k.id, err)
		}
		if k.key, err = x509.ParseECPrivateKey(der); err != nil {
			return fmt.Errorf("signing key %s: %w", k.id, err)
		}
		if retire.Valid {
			t := retire.Time
			k.retire = &t
		}
		keys = append(keys, &k)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.keys, r.loaded = keys, now
	return nil
}

// rotate makes a new signing key and schedules the retirement of the
// current ones. Two servers rotating at once each add a key; both are
// published, so tokens from either verify.
func (r *keyring) rotate(ctx context.Context, now time.Time) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return err
	}
	id := uuid.Must(uuid.NewV7()).String()
	pub, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: id, Algorithm: string(jose.ES256), Use: "sig"})
	if err != nil {
		return err
	}
	err = r.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_signing_key SET retire_at = $1 WHERE retire_at IS NULL`, now.Add(keyOverlap)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_signing_key (id, alg, private_sealed, public_jwk, created_at) VALUES ($1, 'ES256', $2, $3, $4)`,
			id, r.sealer.Seal(der, keyAAD(id)), string(pub), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	return r.load(ctx, now)
}

// RotateKey makes a new signing key now (`dancu sso rotate-key`).
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if err := s.keys.rotate(ctx, s.clock()); err != nil {
		return "", err
	}
	return s.keys.keys[0].id, nil
}

// The op.Storage key methods.

// SigningKey returns the current signing key.
func (s *Service) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, _, err := s.keys.current(ctx, s.clock())
	return k, err
}

// SignatureAlgorithms lists the algorithms of our signatures.
func (s *Service) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

// KeySet returns every published public key.
func (s *Service) KeySet(ctx context.Context) ([]op.Key, error) {
	_, keys, err := s.keys.current(ctx, s.clock())
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}
