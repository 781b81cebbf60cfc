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

// Key and certificate lifetimes, after ICAO 9303-12 §5 (a key signs for a
// short private key usage period; its certificate is valid for that period
// plus the longest validity of what it signed):
//
//   - A Document Signer key signs cards for DSPrivateKeyUsage (3 months, the
//     longest ICAO recommends); serve rotates it DSRotateBefore its end.
//   - The longest card validity it may sign for is CardValidityMax. A card
//     with an expiry lasts at most 22 years (issued just 2 years before 40,
//     valid to 60: card.Expiry). A card issued at 58 or older is valid "for
//     life", which X.509 cannot say; we count a life card as valid to the
//     holder's 121st birthday, at most 63 years from issue, and say so: a
//     verifier checks a life card's chain at the time of verification like
//     any other, and it verifies until then.
//   - So a DS certificate is valid for DSPrivateKeyUsage + CardValidityMax,
//     and carries the PrivateKeyUsagePeriod extension (2.5.29.16).
//   - The CSCA key certifies Document Signers for CSCAPrivateKeyUsage (3
//     years; ICAO: 3–5) and its certificate is valid for that plus the
//     longest DS certificate.
const (
	DSPrivateKeyUsage   = 90 * 24 * time.Hour
	DSRotateBefore      = 14 * 24 * time.Hour
	CardValidityMax     = 63*365*24*time.Hour + 16*24*time.Hour // 63 years with their leap days
	DSValidity          = DSPrivateKeyUsage + CardValidityMax
	CSCAPrivateKeyUsage = 3 * 365 * 24 * time.Hour
	CSCAValidity        = CSCAPrivateKeyUsage + DSValidity
)

// CRL lifetimes: each CRL says its next update is CRLValidity away (ICAO
// 9303-12: at least every 90 days), and serve issues the next one
// CRLRenewBefore that, so a relying party never holds an expired CRL.
const (
	CRLValidity    = 90 * 24 * time.Hour
	CRLRenewBefore = 30 * 24 * time.Hour
)

// oidPrivateKeyUsagePeriod is id-ce-privateKeyUsagePeriod (RFC 3280 §4.2.1.4,
// kept by ICAO 9303-12 for CSCA and DS certificates).
var oidPrivateKeyUsagePeriod = asn1.ObjectIdentifier{2, 5, 29, 16}

type privateKeyUsagePeriod struct {
	NotBefore time.Time `asn1:"optional,tag:0,generalized"`
	NotAfter  time.Time `asn1:"optional,tag:1,generalized"`
}

func usagePeriodExtension(from, to time.Time) (pkix.Extension, error) {
	v, err := asn1.Marshal(privateKeyUsagePeriod{NotBefore: from.UTC().Truncate(time.Second), NotAfter: to.UTC().Truncate(time.Second)})
	return pkix.Extension{Id: oidPrivateKeyUsagePeriod, Value: v}, err
}

// UsagePeriod is when the certificate's private key may sign, from its
// PrivateKeyUsagePeriod extension; ok is false when it has none.
func UsagePeriod(c *x509.Certificate) (from, to time.Time, ok bool) {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidPrivateKeyUsagePeriod) {
			var p privateKeyUsagePeriod
			if rest, err := asn1.Unmarshal(e.Value, &p); err != nil || len(rest) != 0 {
				return time.Time{}, time.Time{}, false
			}
			return p.NotBefore, p.NotAfter, true
		}
	}
	return time.Time{}, time.Time{}, false
}

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
	pkup, err := usagePeriodExtension(now, now.Add(CSCAPrivateKeyUsage))
	if err != nil {
		return Authority{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: subject, Issuer: subject,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(CSCAValidity), ExtraExtensions: []pkix.Extension{pkup},
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
	pkup, err := usagePeriodExtension(now, now.Add(DSPrivateKeyUsage))
	if err != nil {
		return Authority{}, err
	}
	notAfter := now.Add(DSValidity)
	if notAfter.After(csca.Cert.NotAfter) {
		// A DS certificate never outlives the CSCA that certifies it.
		notAfter = csca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Country: []string{Country}, Organization: []string{"Bộ Công an"}, CommonName: name},
		NotBefore:    now.Add(-time.Hour), NotAfter: notAfter, ExtraExtensions: []pkix.Extension{pkup},
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

// CRL issues the CSCA's certificate revocation list, valid CRLValidity.
func (csca Authority) CRL(now time.Time, number int64, revoked []x509.RevocationListEntry) ([]byte, error) {
	return x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: now, NextUpdate: now.Add(CRLValidity),
		RevokedCertificateEntries: revoked}, csca.Cert, csca.Key)
}

// LinkCertificate certifies next (a renewed CSCA) with csca's key, after
// ICAO 9303-12: the subject and key of next, issued by csca, valid from
// now until csca's own certificate ends, a CA with path length 0 like any
// CSCA. A relying party that trusts csca reaches next through it, and
// through next the Document Signers it certifies.
func (csca Authority) LinkCertificate(next Authority, now time.Time) (*x509.Certificate, error) {
	pkup, err := usagePeriodExtension(now, now.Add(CSCAPrivateKeyUsage))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: next.Cert.Subject,
		NotBefore: now.Add(-time.Hour), NotAfter: csca.Cert.NotAfter, ExtraExtensions: []pkix.Extension{pkup},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLen: 0, MaxPathLenZero: true,
		SubjectKeyId: next.Cert.SubjectKeyId, AuthorityKeyId: csca.Cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, csca.Cert, next.Cert.PublicKey, csca.Key)
	if err != nil {
		return nil, fmt.Errorf("link certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// oidMasterListSigning is id-icao-cscaMasterListSigningKey, the extended key
// usage of a Master List Signer (ICAO 9303-12).
var oidMasterListSigning = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 3}

// OIDCSCAMasterList is id-icao-cscaMasterList, the content type of a CSCA
// Master List.
var OIDCSCAMasterList = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}

// NewMasterListSigner makes a key certified by the CSCA for signing one
// Master List: digitalSignature with the Master List signing extended key
// usage, valid for validity.
func (csca Authority) NewMasterListSigner(now time.Time, validity time.Duration) (Authority, error) {
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
		Subject:      pkix.Name{Country: []string{Country}, Organization: []string{"Bộ Công an"}, CommonName: "Master List Signer " + now.Format("2006-01-02")},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidMasterListSigning},
		BasicConstraintsValid: true, SubjectKeyId: ski, AuthorityKeyId: csca.Cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, csca.Cert, key.Public(), csca.Key)
	if err != nil {
		return Authority{}, fmt.Errorf("certify the master list signer: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	return Authority{Cert: cert, Key: key}, err
}
