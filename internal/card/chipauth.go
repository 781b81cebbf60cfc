package card

import (
	"crypto/aes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
)

// SignChallenge is the chip's side of Active Authentication: the plain
// ECDSA signature r‖s over SHA-256 of the challenge with the AA key
// (PKCS#8 DER).
func SignChallenge(aaKey, challenge []byte) ([]byte, error) {
	k, err := x509.ParsePKCS8PrivateKey(aaKey)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an ECDSA key")
	}
	h := sha256.Sum256(challenge)
	r, s, err := ecdsa.Sign(rand.Reader, ec, h[:])
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

// verifyPlainECDSA checks a plain (r‖s) P-256 signature over SHA-256 of msg.
func verifyPlainECDSA(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	h := sha256.Sum256(msg)
	return ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

// Chip Authentication without a reader. On a real chip, CA is an ECDH
// between the chip's static key (DG14) and the terminal's ephemeral key;
// the chip proves it holds the private key by the secure messaging that
// follows under the derived keys. To check it over an API, the chip
// answers with an authentication token instead: the first 8 bytes of
// AES-CMAC under K_MAC over the terminal's ephemeral public key (the
// uncompressed point), where K_MAC is the first 16 bytes of SHA-1(K ‖
// 00000002) and K the x-coordinate of the ECDH (the 9303-11 key derivation
// for AES-128, and the token as CA version 2 computes it). The verifier
// holds the terminal's ephemeral private key, so it derives K_MAC too.
// The ephemeral key must be used once: it is the challenge.

// CAToken is the chip's side: the authentication token for the
// terminal's ephemeral public key (an uncompressed P-256 point) under the
// chip's CA private key (PKCS#8 DER).
func CAToken(caKey, terminalPublic []byte) ([]byte, error) {
	k, err := x509.ParsePKCS8PrivateKey(caKey)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an ECDSA key")
	}
	priv, err := ec.ECDH()
	if err != nil {
		return nil, err
	}
	pub, err := ecdh.P256().NewPublicKey(terminalPublic)
	if err != nil {
		return nil, fmt.Errorf("the terminal's key: %w", err)
	}
	return caTokenFrom(priv, pub, terminalPublic)
}

func caTokenFrom(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, terminalPublic []byte) ([]byte, error) {
	k, err := priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	h := sha1.Sum(append(k, 0, 0, 0, 2))
	return cmacAES(h[:16], terminalPublic)[:8], nil
}

// checkCAToken is the terminal's side: whether token is the chip's token
// for the ephemeral key (a 32-byte P-256 scalar) against the chip's key.
func checkCAToken(chipKey *ecdh.PublicKey, terminalPrivate, token []byte) (bool, error) {
	priv, err := ecdh.P256().NewPrivateKey(terminalPrivate)
	if err != nil {
		return false, fmt.Errorf("the terminal's ephemeral key: %w", err)
	}
	want, err := caTokenFrom(priv, chipKey, priv.PublicKey().Bytes())
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(want, token) == 1, nil
}

// cmacAES is AES-CMAC (RFC 4493, NIST SP 800-38B).
func cmacAES(key, msg []byte) []byte {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // the key is 16 bytes by construction
	}
	shift := func(in []byte) []byte {
		out := make([]byte, 16)
		for i := range 16 {
			out[i] = in[i] << 1
			if i < 15 {
				out[i] |= in[i+1] >> 7
			}
		}
		if in[0]&0x80 != 0 {
			out[15] ^= 0x87
		}
		return out
	}
	l := make([]byte, 16)
	b.Encrypt(l, l)
	k1 := shift(l)
	k2 := shift(k1)
	n := (len(msg) + 15) / 16
	last := make([]byte, 16)
	if n > 0 && len(msg)%16 == 0 {
		subtle.XORBytes(last, msg[(n-1)*16:], k1)
	} else {
		if n == 0 {
			n = 1
		}
		tail := msg[(n-1)*16:]
		copy(last, tail)
		last[len(tail)] = 0x80
		subtle.XORBytes(last, last, k2)
	}
	x := make([]byte, 16)
	for i := 0; i < n-1; i++ {
		subtle.XORBytes(x, x, msg[i*16:(i+1)*16])
		b.Encrypt(x, x)
	}
	subtle.XORBytes(x, x, last)
	b.Encrypt(x, x)
	return x
}

// The codes of failed checks of Active and Chip Authentication.
const (
	CodeAAMissingDG15 = "aa_missing_dg15" // an AA was sent without DG15
	CodeAADG15        = "aa_dg15_format"  // DG15 holds no ECDSA P-256 public key
	CodeAAAlgorithm   = "aa_algorithm"    // no DG14 with an ActiveAuthenticationInfo of ecdsa-plain-SHA256
	CodeAASignature   = "aa_signature"    // the signature over the challenge is not the DG15 key's: a cloned or another chip
	CodeCAMissingDG14 = "ca_missing_dg14" // a CA was sent without DG14
	CodeCADG14        = "ca_dg14_format"  // DG14 is not SecurityInfos with a Chip Authentication key
	CodeCAToken       = "ca_token"        // the token is not the DG14 key's for the terminal's ephemeral key
)

// AAProof is an Active Authentication as a reader did it: the challenge
// the verifier chose (ChallengeSize bytes) and the chip's signature.
type AAProof struct {
	Challenge []byte
	Signature []byte
}

// CAProof is a Chip Authentication as a reader did it: the terminal's
// ephemeral private key (a 32-byte P-256 scalar, used once) whose public
// key was sent to the chip, and the chip's token (CAToken).
type CAProof struct {
	TerminalKey []byte
	Token       []byte
}

// ActiveAuth checks an Active Authentication against DG15's key with the
// algorithm DG14 names. The data groups' authenticity is passive
// authentication's part (their dg14 and dg15 checks).
func ActiveAuth(groups map[int][]byte, p AAProof) Check {
	c := Check{Name: "active_authentication"}
	if len(groups[15]) == 0 {
		c.Code, c.Detail = CodeAAMissingDG15, "DG15 (the Active Authentication key) was not sent"
		return c
	}
	pub, err := ParseDG15(groups[15])
	if err != nil {
		c.Code, c.Detail = CodeAADG15, err.Error()
		return c
	}
	if len(groups[14]) == 0 {
		c.Code, c.Detail = CodeAAAlgorithm, "DG14 was not sent: it names the ECDSA signature algorithm"
		return c
	}
	info, err := ParseDG14(groups[14])
	switch {
	case err != nil:
		c.Code, c.Detail = CodeAAAlgorithm, err.Error()
		return c
	case info.AASignatureAlgorithm == nil:
		c.Code, c.Detail = CodeAAAlgorithm, errNoActiveAuthInfo.Error()
		return c
	case !info.AASignatureAlgorithm.Equal(oidECDSAPlainSHA256):
		c.Code, c.Detail = CodeAAAlgorithm, errUnsupportedAASign.Error()
		return c
	}
	if !verifyPlainECDSA(pub, p.Challenge, p.Signature) {
		c.Code, c.Detail = CodeAASignature, "the signature over the challenge does not verify with DG15's key"
		return c
	}
	return Check{Name: c.Name, OK: true}
}

// ChipAuth checks a Chip Authentication token against DG14's key.
func ChipAuth(groups map[int][]byte, p CAProof) Check {
	c := Check{Name: "chip_authentication"}
	if len(groups[14]) == 0 {
		c.Code, c.Detail = CodeCAMissingDG14, "DG14 (the Chip Authentication key) was not sent"
		return c
	}
	info, err := ParseDG14(groups[14])
	if err != nil {
		c.Code, c.Detail = CodeCADG14, err.Error()
		return c
	}
	ok, err := checkCAToken(info.ChipAuthenticationKey, p.TerminalKey, p.Token)
	if err != nil || !ok {
		c.Code, c.Detail = CodeCAToken, "the token is not the chip's for the terminal's ephemeral key"
		if err != nil {
			c.Detail = err.Error()
		}
		return c
	}
	return Check{Name: c.Name, OK: true}
}
