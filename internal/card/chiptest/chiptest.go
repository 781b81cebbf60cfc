// Package chiptest is a software chip for tests: it holds what the card
// factory wrote into a card (its files and private keys) and answers as
// the chip would to a reader, so that Active and Chip Authentication can
// be tested without a card, and a clone (the same files, another key)
// told apart from the genuine chip.
package chiptest

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/dancu-vn/dancu/internal/card"
)

// Chip is a software chip.
type Chip struct {
	p card.Personalisation
}

// New personalises a software chip with what production gave.
func New(p card.Personalisation) *Chip {
	p.DataGroups = maps.Clone(p.DataGroups)
	return &Chip{p: p}
}

// Clone is a chip with the same files (data groups, EF.COM, EF.SOD) as
// genuine but keys of its own: what a forger who copied a chip's readable
// files can make.
func Clone(genuine *Chip) (*Chip, error) {
	keys, _, _, err := card.NewChipKeys()
	if err != nil {
		return nil, err
	}
	p := genuine.p
	p.Keys = keys
	return New(p), nil
}

// Read is what a reader reads: EF.SOD, EF.COM and the data groups.
func (c *Chip) Read() (sod, com []byte, groups map[int][]byte) {
	return c.p.SOD, c.p.COM, maps.Clone(c.p.DataGroups)
}

// InternalAuthenticate is the chip's answer to an Active Authentication
// challenge: its signature with the AA key.
func (c *Chip) InternalAuthenticate(challenge []byte) ([]byte, error) {
	if len(challenge) != card.ChallengeSize {
		return nil, fmt.Errorf("a challenge of %d bytes, want %d", len(challenge), card.ChallengeSize)
	}
	return card.SignChallenge(c.p.Keys.ActiveAuthentication, challenge)
}

// ChipAuthenticate is the chip's answer to the terminal's ephemeral
// public key (an uncompressed P-256 point): its authentication token.
func (c *Chip) ChipAuthenticate(terminalPublic []byte) ([]byte, error) {
	return card.CAToken(c.p.Keys.ChipAuthentication, terminalPublic)
}

// Terminal is a reader's side of Chip Authentication: a fresh ephemeral
// key pair, its private scalar (for the verifier) and its public point
// (for the chip).
func Terminal() (private, public []byte, err error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	return k.Bytes(), k.PublicKey().Bytes(), nil
}

// KeyForms are the forms a chip's private keys could be stored or logged
// in, for tests that they are nowhere: PKCS#8 DER and the bare scalar,
// each raw, in base64 (standard and URL), in hex, and as fmt prints a
// []byte (decimal, as a text log handler shows a struct) and quoted with
// Go escapes (as a text log handler shows a []byte).
func KeyForms(keys card.ChipKeys) ([][]byte, error) {
	var out [][]byte
	for _, der := range [][]byte{keys.ChipAuthentication, keys.ActiveAuthentication} {
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, err
		}
		ec, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("not an ECDSA key")
		}
		d := ec.D.FillBytes(make([]byte, 32))
		for _, b := range [][]byte{der, d} {
			out = append(out, b, []byte(base64.StdEncoding.EncodeToString(b)), []byte(base64.RawURLEncoding.EncodeToString(b)),
				[]byte(hex.EncodeToString(b)), []byte(strings.ToUpper(hex.EncodeToString(b))), []byte(strings.Trim(fmt.Sprint(b), "[]")), quoted(b))
		}
	}
	return out, nil
}

func quoted(b []byte) []byte {
	q := strconv.Quote(string(b))
	return []byte(q[1 : len(q)-1])
}
