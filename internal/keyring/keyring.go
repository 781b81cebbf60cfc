// Package keyring keeps ES256 (or RS256) signing keys in the database, their private
// halves sealed with the data key: one key signs until the next is made,
// and every key stays published until what it signed has expired. The
// OpenID provider signs tokens with one keyring, residence confirmations
// are signed with another.
package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// reload is how often the keys are read again from the database, so that
// several servers see each other's rotations.
const reload = time.Minute

// Key is one signing key.
type Key struct {
	id      string
	alg     jose.SignatureAlgorithm
	key     crypto.Signer
	created time.Time
	retire  *time.Time
}

// SignatureAlgorithm is ES256 or RS256.
func (k *Key) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }

// Key is the private key.
func (k *Key) Key() any { return k.key }

// ID is the key ID (kid).
func (k *Key) ID() string { return k.id }

// Public is the public key (*ecdsa.PublicKey or *rsa.PublicKey).
func (k *Key) Public() crypto.PublicKey { return k.key.Public() }

// JWK is the public key as a JSON Web Key.
func (k *Key) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.key.Public(), KeyID: k.id, Algorithm: string(k.alg), Use: "sig"}
}

// Sealer seals private keys at rest (eid.Sealer does).
type Sealer interface {
	Seal(data, aad []byte) []byte
	Open(sealed, aad []byte) ([]byte, error)
}

// Ring holds the signing keys of one table in memory, reloaded from the
// database at most every minute, and makes the next key when the current
// one is due.
type Ring struct {
	db       *sqldb.DB
	sealer   Sealer
	table    string        // oidc_signing_key, doc_signing_key
	rotation time.Duration // how long a key signs
	overlap  time.Duration // how long it stays published after
	alg      jose.SignatureAlgorithm
	mu       sync.Mutex
	keys     []*Key // newest first, not retired
	loaded   time.Time
}

// New returns the keyring kept in table (which has the columns of
// oidc_signing_key).
func New(db *sqldb.DB, sealer Sealer, table string, rotation, overlap time.Duration) *Ring {
	return &Ring{db: db, sealer: sealer, table: table, rotation: rotation, overlap: overlap, alg: jose.ES256}
}

// NewRSA returns a keyring of 2048-bit RS256 keys kept in table, for
// relying parties that only verify RS256 (OpenID Connect Discovery §3
// requires an OP to offer it).
func NewRSA(db *sqldb.DB, sealer Sealer, table string, rotation, overlap time.Duration) *Ring {
	r := New(db, sealer, table, rotation, overlap)
	r.alg = jose.RS256
	return r
}

func (r *Ring) aad(id string) []byte { return []byte(r.table + "|" + id) }

// Current returns the key that signs now and every published key, newest
// first.
func (r *Ring) Current(ctx context.Context, now time.Time) (*Key, []*Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.loaded) > reload || len(r.keys) == 0 {
		if err := r.load(ctx, now); err != nil {
			return nil, nil, err
		}
	}
	if len(r.keys) == 0 || now.Sub(r.keys[0].created) >= r.rotation {
		if err := r.rotate(ctx, now); err != nil {
			return nil, nil, err
		}
	}
	return r.keys[0], r.keys, nil
}

func (r *Ring) load(ctx context.Context, now time.Time) error {
	rows, err := r.db.QueryContext(ctx, `SELECT id, private_sealed, created_at, retire_at FROM `+r.table+`
		WHERE retire_at IS NULL OR retire_at > $1 ORDER BY created_at DESC, id DESC`, now)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	defer rows.Close()
	var keys []*Key
	for rows.Next() {
		var k Key
		var sealed []byte
		var retire sql.NullTime
		if err := rows.Scan(&k.id, &sealed, &k.created, &retire); err != nil {
			return err
		}
		der, err := r.sealer.Open(sealed, r.aad(k.id))
		if err != nil {
			return fmt.Errorf("signing key %s: cannot open it with the data key: %w", k.id, err)
		}
		k.alg = r.alg
		if r.alg == jose.RS256 {
			k.key, err = x509.ParsePKCS1PrivateKey(der)
		} else {
			k.key, err = x509.ParseECPrivateKey(der)
		}
		if err != nil {
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
func (r *Ring) rotate(ctx context.Context, now time.Time) error {
	var priv crypto.Signer
	var der []byte
	if r.alg == jose.RS256 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		priv, der = k, x509.MarshalPKCS1PrivateKey(k)
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		if der, err = x509.MarshalECPrivateKey(k); err != nil {
			return err
		}
		priv = k
	}
	id := uuid.Must(uuid.NewV7()).String()
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: id, Algorithm: string(r.alg), Use: "sig"})
	if err != nil {
		return err
	}
	err = r.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE `+r.table+` SET retire_at = $1 WHERE retire_at IS NULL`, now.Add(r.overlap)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO `+r.table+` (id, alg, private_sealed, public_jwk, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, string(r.alg), r.sealer.Seal(der, r.aad(id)), string(pub), now)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate signing key: %w", err)
	}
	return r.load(ctx, now)
}

// Rotate makes a new signing key now and returns its ID.
func (r *Ring) Rotate(ctx context.Context, now time.Time) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.rotate(ctx, now); err != nil {
		return "", err
	}
	return r.keys[0].id, nil
}
