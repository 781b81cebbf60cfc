package card

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
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
