// Package pki is our country's signing authority for chip cards, after the
// ICAO 9303-12 certificate profiles: the Country Signing CA (CSCA) and the
// Document Signers (DS) it certifies, which sign each card's security
// object. Keys are ECDSA P-256; the Signer interface stands where a
// hardware security module would.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// Country is the issuing state in certificates (C=VN, as ICAO 9303-12
// requires in both issuer and subject).
const Country = "VN"

// Validity of the certificates: the CSCA signs for its lifetime; a DS key
// signs for a short period and its certificate lives as long as the cards
// it signed (10 years) after that.
const (
	CSCAValidity      = 15 * 365 * 24 * time.Hour
	DSValidity        = 10*365*24*time.Hour + 90*24*time.Hour
	DSPrivateKeyUsage = 90 * 24 * time.Hour
)

// Signer is a private key that signs: in memory here, in a hardware
// security module in production.
type Signer interface {
	crypto.Signer
}

// Authority is a certificate with its signing key.
type Authority struct {
	Cert *x509.Certificate
	Key  Signer
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n.Add(n, big.NewInt(1))
}

// subjectKeyID is the SHA-1 of the public key bits (RFC 5280 method 1).
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	h := sha1.Sum(spki.Key.Bytes)
	return h[:], nil
}

// NewCSCA makes a Country Signing CA: self-signed, keyCertSign and cRLSign,
// a CA with path length 0 (it certifies document signers only).
func NewCSCA(now time.Time, name string) (Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Authority{}, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return Authority{}, err
	}
	subject := pkix.Name{Country: []string{Country}, Organization: []string{"Bộ Công an"}, CommonName: name}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: subject, Issuer: subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(CSCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
		SubjectKeyId: ski, AuthorityKeyId: ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return Authority{}, err
	}
	cert, err := x509.ParseCertificate(der)
	return Authority{Cert: cert, Key: key}, err
}

// NewDocumentSigner makes a Document Signer certified by the CSCA:
// digitalSignature only, not a CA, with the CSCA's key identifier as its
// authority key identifier.
func (csca Authority) NewDocumentSigner(now time.Time, name string) (Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Authority{}, err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return Authority{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Country: []string{Country}, Organization: []string{"Bộ Công an"}, CommonName: name},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(DSValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: false,
		SubjectKeyId: ski, AuthorityKeyId: csca.Cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, csca.Cert, key.Public(), csca.Key)
	if err != nil {
		return Authority{}, fmt.Errorf("certify document signer: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return Authority{Cert: cert, Key: key}, err
}

// CRL issues the CSCA's certificate revocation list.
func (csca Authority) CRL(now time.Time, number int64, revoked []x509.RevocationListEntry) ([]byte, error) {
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: now, NextUpdate: now.Add(90 * 24 * time.Hour),
		RevokedCertificateEntries: revoked}, csca.Cert, csca.Key)
}
