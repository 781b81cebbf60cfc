package card

import (
	"bytes"
	"crypto/aes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Chip Authentication and Active Authentication (ICAO 9303-11).
//
// Every card gets two key pairs of its own, both on NIST P-256
// (secp256r1), a standardized curve 9303-11 allows and the one Go's
// standard library implements (brainpoolP256r1 would need a dependency):
//
//   - Chip Authentication: ECDH, announced in DG14 by a
//     ChipAuthenticationPublicKeyInfo (id-PK-ECDH, the public key as a
//     SubjectPublicKeyInfo with the named curve) and a
//     ChipAuthenticationInfo (id-CA-ECDH-AES-CBC-CMAC-128, version 1:
//     AES-128 session keys, the profile of new documents; 3DES is legacy).
//   - Active Authentication: ECDSA, the public key in DG15. For ECDSA
//     9303-11 requires DG14 to hold an ActiveAuthenticationInfo naming
//     the signature algorithm: ecdsa-plain-SHA256 (BSI TR-03111), so the
//     chip's answer to the 8-byte challenge is the plain signature r‖s
//     (32 bytes each) over SHA-256 of the challenge, not DER.
//
// The private keys exist only in the personalisation output of Produce.
var (
	oidPKECDH            = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}
	oidCAECDHAES128      = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 2}
	oidCAECDH3DES        = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 1}
	oidAAProtocol        = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}
	oidECDSAPlainSHA256  = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}
	tagDG14              = []byte{0x6E}
	tagDG15              = []byte{0x6F}
	errNoChipAuthKey     = errors.New("DG14: no ChipAuthenticationPublicKeyInfo with id-PK-ECDH")
	errNoActiveAuthInfo  = errors.New("DG14: no ActiveAuthenticationInfo")
	errUnsupportedAASign = errors.New("DG14: the Active Authentication signature algorithm is not ecdsa-plain-SHA256")
)

// ChallengeSize is the size of an Active Authentication challenge.
const ChallengeSize = 8

// ChipKeys are a card's private keys: the Chip Authentication (ECDH) and
// Active Authentication (ECDSA) keys, both P-256, as PKCS#8 DER.
type ChipKeys struct {
	ChipAuthentication   []byte `json:"chip_authentication_key" doc:"The Chip Authentication private key (ECDH, P-256), PKCS#8 DER, base64"`
	ActiveAuthentication []byte `json:"active_authentication_key" doc:"The Active Authentication private key (ECDSA, P-256), PKCS#8 DER, base64"`
}

// String keeps the keys out of anything that formats them (a log line);
// JSON, for the production answer, still carries them.
func (ChipKeys) String() string { return "card.ChipKeys{withheld}" }

// GoString keeps the keys out of %#v.
func (k ChipKeys) GoString() string { return k.String() }

// NewChipKeys makes a card's two key pairs and the data groups that
// publish them: DG14 (SecurityInfos) and DG15 (the AA public key).
func NewChipKeys() (keys ChipKeys, dg14, dg15 []byte, err error) {
	ca, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keys, nil, nil, err
	}
	aa, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keys, nil, nil, err
	}
	if keys.ChipAuthentication, err = x509.MarshalPKCS8PrivateKey(ca); err != nil {
		return keys, nil, nil, err
	}
	if keys.ActiveAuthentication, err = x509.MarshalPKCS8PrivateKey(aa); err != nil {
		return keys, nil, nil, err
	}
	if dg14, err = DG14(&ca.PublicKey); err != nil {
		return keys, nil, nil, err
	}
	if dg15, err = DG15(&aa.PublicKey); err != nil {
		return keys, nil, nil, err
	}
	return keys, dg14, dg15, nil
}

type chipAuthenticationInfo struct {
	Protocol asn1.ObjectIdentifier
	Version  int
}

type chipAuthenticationPublicKeyInfo struct {
	Protocol  asn1.ObjectIdentifier
	PublicKey asn1.RawValue // SubjectPublicKeyInfo
}

type activeAuthenticationInfo struct {
	Protocol           asn1.ObjectIdentifier
	Version            int
	SignatureAlgorithm asn1.ObjectIdentifier
}

// DG14 is data group 14: tag 6E holding the SecurityInfos (a DER SET) of
// Chip Authentication with caKey and of ECDSA Active Authentication.
func DG14(caKey *ecdsa.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(caKey)
	if err != nil {
		return nil, err
	}
	infos := []any{
		chipAuthenticationPublicKeyInfo{Protocol: oidPKECDH, PublicKey: asn1.RawValue{FullBytes: spki}},
		chipAuthenticationInfo{Protocol: oidCAECDHAES128, Version: 1},
		activeAuthenticationInfo{Protocol: oidAAProtocol, Version: 1, SignatureAlgorithm: oidECDSAPlainSHA256},
	}
	elems := make([][]byte, len(infos))
	for i, v := range infos {
		if elems[i], err = asn1.Marshal(v); err != nil {
			return nil, err
		}
	}
	// DER orders the elements of a SET OF by their encodings.
	slices.SortFunc(elems, bytes.Compare)
	set, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(elems, nil)})
	if err != nil {
		return nil, err
	}
	return tlv(tagDG14, set), nil
}

// DG14Info is what DG14 states.
type DG14Info struct {
	// ChipAuthenticationKey is the Chip Authentication public key.
	ChipAuthenticationKey *ecdh.PublicKey
	// ChipAuthenticationProtocol is the ChipAuthenticationInfo's protocol
	// (id-CA-ECDH-AES-CBC-CMAC-128 or id-CA-ECDH-3DES-CBC-CBC).
	ChipAuthenticationProtocol asn1.ObjectIdentifier
	// AASignatureAlgorithm is the ActiveAuthenticationInfo's signature
	// algorithm; nil when DG14 holds none.
	AASignatureAlgorithm asn1.ObjectIdentifier
}

// ParseDG14 reads DG14: tag 6E holding one SET OF SecurityInfo, nothing
// after. SecurityInfos of other protocols are skipped, as 9303-11 lets a
// reader do; each of ours must be well formed and present once: a
// ChipAuthenticationPublicKeyInfo (id-PK-ECDH, a P-256 key), a
// ChipAuthenticationInfo (id-CA-ECDH with AES-128 or 3DES, version 1) and
// at most one ActiveAuthenticationInfo (version 1).
func ParseDG14(dg14 []byte) (DG14Info, error) {
	var out DG14Info
	tag, v, rest, err := readTLV(dg14)
	if err != nil || !bytes.Equal(tag, tagDG14) || len(rest) != 0 {
		return out, errors.New("DG14: not a data group 14 (tag 6E)")
	}
	var set asn1.RawValue
	if r, err := asn1.Unmarshal(v, &set); err != nil || len(r) != 0 || set.Class != asn1.ClassUniversal || set.Tag != asn1.TagSet {
		return out, errors.New("DG14: not one SET OF SecurityInfo")
	}
	var caKeys, caInfos, aaInfos int
	for body := set.Bytes; len(body) > 0; {
		var info struct {
			Protocol asn1.ObjectIdentifier
			Rest     asn1.RawValue `asn1:"optional"`
		}
		var raw asn1.RawValue
		if body, err = asn1.Unmarshal(body, &raw); err != nil {
			return out, errors.New("DG14: a SecurityInfo is not DER")
		}
		if _, err := asn1.Unmarshal(raw.FullBytes, &info); err != nil {
			return out, errors.New("DG14: a SecurityInfo is not a SEQUENCE starting with its protocol")
		}
		switch p := info.Protocol; {
		case p.Equal(oidPKECDH):
			var k chipAuthenticationPublicKeyInfo
			if r, err := asn1.Unmarshal(raw.FullBytes, &k); err != nil || len(r) != 0 {
				return out, errors.New("DG14: a bad ChipAuthenticationPublicKeyInfo")
			}
			pub, err := x509.ParsePKIXPublicKey(k.PublicKey.FullBytes)
			ec, ok := pub.(*ecdsa.PublicKey)
			if err != nil || !ok || ec.Curve != elliptic.P256() {
				return out, errors.New("DG14: the Chip Authentication key is not a P-256 public key")
			}
			if out.ChipAuthenticationKey, err = ec.ECDH(); err != nil {
				return out, errors.New("DG14: the Chip Authentication key is not a P-256 public key")
			}
			caKeys++
		case len(p) == 11 && p[:10].Equal(asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2}):
			var c chipAuthenticationInfo
			if r, err := asn1.Unmarshal(raw.FullBytes, &c); err != nil || len(r) != 0 || c.Version != 1 || (!p.Equal(oidCAECDHAES128) && !p.Equal(oidCAECDH3DES)) {
				return out, errors.New("DG14: a ChipAuthenticationInfo we do not support (id-CA-ECDH with AES-128 or 3DES, version 1)")
			}
			out.ChipAuthenticationProtocol = p
			caInfos++
		case p.Equal(oidAAProtocol):
			var a activeAuthenticationInfo
			if r, err := asn1.Unmarshal(raw.FullBytes, &a); err != nil || len(r) != 0 || a.Version != 1 {
				return out, errors.New("DG14: a bad ActiveAuthenticationInfo")
			}
			out.AASignatureAlgorithm = a.SignatureAlgorithm
			aaInfos++
		}
	}
	switch {
	case caKeys == 0:
		return out, errNoChipAuthKey
	case caKeys > 1 || caInfos > 1 || aaInfos > 1:
		return out, errors.New("DG14: a SecurityInfo of ours is given twice (keyId is not supported)")
	case caInfos == 0:
		return out, errors.New("DG14: no ChipAuthenticationInfo")
	}
	return out, nil
}

// DG15 is data group 15: tag 6F holding the Active Authentication public
// key as a SubjectPublicKeyInfo (id-ecPublicKey, the named curve).
func DG15(aaKey *ecdsa.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(aaKey)
	if err != nil {
		return nil, err
	}
	return tlv(tagDG15, spki), nil
}

// ParseDG15 reads the Active Authentication public key out of DG15: a
// P-256 ECDSA key, nothing after it.
func ParseDG15(dg15 []byte) (*ecdsa.PublicKey, error) {
	tag, v, rest, err := readTLV(dg15)
	if err != nil || !bytes.Equal(tag, tagDG15) || len(rest) != 0 {
		return nil, errors.New("DG15: not a data group 15 (tag 6F)")
	}
	var raw asn1.RawValue
	if r, err := asn1.Unmarshal(v, &raw); err != nil || len(r) != 0 {
		return nil, errors.New("DG15: not one SubjectPublicKeyInfo")
	}
	pub, err := x509.ParsePKIXPublicKey(v)
	if err != nil {
		return nil, fmt.Errorf("DG15: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("DG15: the key is not an ECDSA P-256 key")
	}
	return ec, nil
}

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
