package sso

import (
	"context"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-vn/dancu/internal/keyring"
)

// Key rotation: a token signing key signs for KeyRotation, then the next
// one takes over; the old key stays published for keyOverlap more, longer
// than any token it signed lives.
const (
	KeyRotation = 30 * 24 * time.Hour
	keyOverlap  = 48 * time.Hour
	keyReload   = time.Minute
)

type publicKey struct{ k *keyring.Key }

func (p publicKey) ID() string                         { return p.k.ID() }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Public() }

// RotateKey makes a new signing key now (`dancu client rotate-key`).
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	return s.keys.Rotate(ctx, s.clock())
}

// SigningKey returns the current signing key.
func (s *Service) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, _, err := s.keys.Current(ctx, s.clock())
	return k, err
}

// SignatureAlgorithms lists the algorithms of our signatures.
func (s *Service) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

// KeySet returns every published public key.
func (s *Service) KeySet(ctx context.Context) ([]op.Key, error) {
	_, keys, err := s.keys.Current(ctx, s.clock())
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}
