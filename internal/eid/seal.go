package eid

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/keyring"
)

// Sealer encrypts biometric data at rest with AES-256-GCM. The associated
// data binds each blob to its application and slot, so a blob copied to
// another row does not open.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("data key: want 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// ParseKey decodes a data key given as base64 (standard or URL alphabet).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("data key: want 32 bytes, got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("data key: not base64")
}

// NewKey returns a fresh random key, base64.
func NewKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// Seal encrypts data bound to aad; the nonce leads the result.
func (s *Sealer) Seal(data, aad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(data)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, data, aad)
}

// Open decrypts what Seal made with the same aad.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed data too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], aad)
}

// Outbox is the built-in Sender: it queues messages in the outbox table
// in the caller's transaction, so a message exists exactly when the change
// that caused it committed, with the body sealed with the data key. The
// message gateway (DeliverMessages) takes them from there.
type Outbox struct {
	sealer keyring.Sealer
	now    func() time.Time
}

// NewOutbox returns the outbox sender sealing with sealer (the data key).
func NewOutbox(sealer keyring.Sealer, now func() time.Time) Outbox {
	if now == nil {
		now = time.Now
	}
	return Outbox{sealer: sealer, now: now}
}

func messageAAD(id string) []byte { return []byte("outbox_message|" + id) }

// Send queues m.
func (o Outbox) Send(ctx context.Context, tx *sql.Tx, m Message) error {
	id := uuid.Must(uuid.NewV7()).String()
	now := o.now().UTC()
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox_message (id, channel, recipient, subject, body, body_sealed, created_at, next_at)
		VALUES ($1, $2, $3, $4, '', $5, $6, $6)`,
		id, m.Channel, m.Recipient, m.Subject, o.sealer.Seal([]byte(m.Body), messageAAD(id)), now)
	return err
}
