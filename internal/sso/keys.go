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
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.SignatureAlgorithm() }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.Public() }

// RotateKey makes a new signing key now (`dancu client rotate-key`).
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	return s.keys.Rotate(ctx, s.clock())
}

// ring is the keyring of an algorithm: RS256 or ES256 (the default).
func (s *Service) ring(alg jose.SignatureAlgorithm) *keyring.Ring {
	if alg == jose.RS256 {
		return s.rsaKeys
	}
	return s.keys
}

// SigningKey returns the current signing key of the algorithm the token
// request's client registered (id_token_signed_response_alg).
func (s *Service) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg, _ := ctx.Value(algKey{}).(jose.SignatureAlgorithm)
	k, _, err := s.ring(alg).Current(ctx, s.clock())
	return k, err
}

// SignatureAlgorithms lists the algorithms of our signatures.
func (s *Service) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
}

// KeySet returns every published public key, RS256 and ES256.
func (s *Service) KeySet(ctx context.Context) ([]op.Key, error) {
	var out []op.Key
	for _, r := range []*keyring.Ring{s.keys, s.rsaKeys} {
		_, keys, err := r.Current(ctx, s.clock())
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			out = append(out, publicKey{k})
		}
	}
	return out, nil
}
