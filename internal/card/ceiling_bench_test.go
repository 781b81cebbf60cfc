package card_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// The ceilings card production and verification are measured against, in
// the same run: what the P-256 operations they are made of cost alone.
// Producing a card signs one SOD (and makes its chip keys); verifying it
// checks two signatures (the SOD's and the DS certificate's) and, with
// active authentication, a third.

func BenchmarkCeilingECDSASign(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h := sha256.Sum256([]byte("security object"))
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, k, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCeilingECDSAVerify(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h := sha256.Sum256([]byte("security object"))
	sig, _ := ecdsa.SignASN1(rand.Reader, k, h[:])
	for b.Loop() {
		if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkCeilingECDSAKey(b *testing.B) {
	for b.Loop() {
		if _, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCeilingECDH(b *testing.B) {
	a, _ := ecdh.P256().GenerateKey(rand.Reader)
	c, _ := ecdh.P256().GenerateKey(rand.Reader)
	for b.Loop() {
		if _, err := a.ECDH(c.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}
}
