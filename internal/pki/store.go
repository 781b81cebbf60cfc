package pki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"database/sql"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/smallstep/pkcs7"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Store keeps the CSCA and the Document Signers in the database.
type Store struct {
	db     *sqldb.DB
	sealer keyring.Sealer
}

// NewStore returns the authority store.
func NewStore(db *sqldb.DB, sealer keyring.Sealer) *Store { return &Store{db: db, sealer: sealer} }

func aad(id string) []byte { return []byte("pki_authority|" + id) }

func (s *Store) save(ctx context.Context, tx *sql.Tx, role string, a Authority, now time.Time) error {
	_, err := s.saveID(ctx, tx, role, a, now)
	return err
}

func (s *Store) saveID(ctx context.Context, tx *sql.Tx, role string, a Authority, now time.Time) (string, error) {
	key, ok := a.Key.(*ecdsa.PrivateKey)
	if !ok {
		return "", errors.New("only in-memory ECDSA keys can be stored; a hardware key stays in its module")
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	id := uuid.NewString()
	if _, err := tx.ExecContext(ctx, `UPDATE pki_authority SET active = false WHERE role = $1`, role); err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO pki_authority (id, role, cert, key_sealed, active, created_at) VALUES ($1, $2, $3, $4, true, $5)`,
		id, role, a.Cert.Raw, s.sealer.Seal(der, aad(id)), now)
	return id, err
}

// cscaEntry is one of our CSCAs, the first or a renewal.
type cscaEntry struct {
	id     string
	auth   Authority
	first  bool // made by pki init: the issuer of the CRLs from before issuers were recorded
	active bool
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// allCSCAs returns every CSCA with its key, oldest first.
func (s *Store) allCSCAs(ctx context.Context, q querier) ([]cscaEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, cert, key_sealed, active FROM pki_authority WHERE role = 'csca' ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cscaEntry
	for rows.Next() {
		var e cscaEntry
		var cert, sealed []byte
		if err := rows.Scan(&e.id, &cert, &sealed, &e.active); err != nil {
			return nil, err
		}
		if e.auth.Cert, err = x509.ParseCertificate(cert); err != nil {
			return nil, err
		}
		der, err := s.sealer.Open(sealed, aad(e.id))
		if err != nil {
			return nil, fmt.Errorf("csca key: cannot open it with the data key: %w", err)
		}
		if e.auth.Key, err = x509.ParseECPrivateKey(der); err != nil {
			return nil, err
		}
		e.first = len(out) == 0
		out = append(out, e)
	}
	return out, rows.Err()
}

func activeCSCA(all []cscaEntry) (cscaEntry, error) {
	for _, e := range all {
		if e.active {
			return e, nil
		}
	}
	return cscaEntry{}, errs.E(errs.Unavailable, "no csca yet: run dancu pki init")
}

// latestCRL is the newest CRL the CSCA issued, or nil.
func latestCRL(ctx context.Context, q querier, c cscaEntry) ([]byte, error) {
	var der []byte
	err := q.QueryRowContext(ctx, `SELECT der FROM pki_crl WHERE issuer = $1 OR (issuer = '' AND $2) ORDER BY number DESC LIMIT 1`, c.id, c.first).Scan(&der)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return der, err
}

// publishCRL issues the next CRL of the CSCA c: every revoked Document
// Signer it certified. CRL numbers are one sequence over all our CSCAs, so
// each CSCA's numbers increase too.
func (s *Store) publishCRL(ctx context.Context, tx *sql.Tx, c cscaEntry, now time.Time) error {
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM pki_crl`).Scan(&n); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.serial, r.revoked_at, r.reason, a.cert FROM pki_revocation r JOIN pki_authority a ON a.id = r.authority_id
		ORDER BY r.revoked_at`)
	if err != nil {
		return err
	}
	var entries []x509.RevocationListEntry
	for rows.Next() {
		var hexSerial string
		var at time.Time
		var reason int
		var dsDER []byte
		if err := rows.Scan(&hexSerial, &at, &reason, &dsDER); err != nil {
			rows.Close()
			return err
		}
		ds, err := x509.ParseCertificate(dsDER)
		if err != nil {
			rows.Close()
			return err
		}
		if !bytes.Equal(ds.AuthorityKeyId, c.auth.Cert.SubjectKeyId) {
			continue // on the CRL of the CSCA that certified it
		}
		sn, ok := new(big.Int).SetString(hexSerial, 16)
		if !ok {
			rows.Close()
			return fmt.Errorf("revocation of %q: not a serial number", hexSerial)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: sn, RevocationTime: at.UTC(), ReasonCode: reason})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	der, err := c.auth.CRL(now, n, entries)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO pki_crl (number, der, issued_at, issuer) VALUES ($1, $2, $3, $4)`, n, der, now, c.id)
	return err
}

// Init makes the CSCA and a first Document Signer; it refuses if a CSCA
// exists.
func (s *Store) Init(ctx context.Context, now time.Time) (Authority, Authority, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pki_authority WHERE role = 'csca'`).Scan(&n); err != nil {
		return Authority{}, Authority{}, err
	}
	if n > 0 {
		return Authority{}, Authority{}, errs.E(errs.Conflict, "a Country Signing CA exists already; rotate the document signer instead")
	}
	csca, err := NewCSCA(now, "CSCA Viet Nam")
	if err != nil {
		return Authority{}, Authority{}, err
	}
	ds, err := csca.NewDocumentSigner(now, "Document Signer "+now.Format("2006-01"))
	if err != nil {
		return Authority{}, Authority{}, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		id, err := s.saveID(ctx, tx, "csca", csca, now)
		if err != nil {
			return err
		}
		if err := s.save(ctx, tx, "ds", ds, now); err != nil {
			return err
		}
		return s.publishCRL(ctx, tx, cscaEntry{id: id, auth: csca, first: true, active: true}, now)
	})
	return csca, ds, err
}

// Active returns the active authority of a role.
func (s *Store) Active(ctx context.Context, role string) (Authority, error) {
	var id string
	var cert, sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT id, cert, key_sealed FROM pki_authority WHERE role = $1 AND active`, role).Scan(&id, &cert, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return Authority{}, errs.E(errs.Unavailable, "no %s yet: run dancu pki init", role)
	}
	if err != nil {
		return Authority{}, err
	}
	c, err := x509.ParseCertificate(cert)
	if err != nil {
		return Authority{}, err
	}
	der, err := s.sealer.Open(sealed, aad(id))
	if err != nil {
		return Authority{}, fmt.Errorf("%s key: cannot open it with the data key: %w", role, err)
	}
	k, err := x509.ParseECPrivateKey(der)
	return Authority{Cert: c, Key: k}, err
}

// RotateDS makes a new Document Signer; the old one signs no more cards,
// and its certificate stays valid for the cards it signed.
func (s *Store) RotateDS(ctx context.Context, now time.Time) (Authority, error) {
	csca, err := s.Active(ctx, "csca")
	if err != nil {
		return Authority{}, err
	}
	ds, err := csca.NewDocumentSigner(now, "Document Signer "+now.Format("2006-01-02"))
	if err != nil {
		return Authority{}, err
	}
	return ds, s.db.InTx(ctx, func(tx *sql.Tx) error { return s.save(ctx, tx, "ds", ds, now) })
}

// CSCACertificates are our CSCA certificates, for relying parties.
func (s *Store) CSCACertificates(ctx context.Context) ([]*x509.Certificate, error) {
	return s.certificates(ctx, `SELECT cert FROM pki_authority WHERE role = 'csca' ORDER BY created_at DESC`)
}

// certificates runs a query of one DER certificate column.
func (s *Store) certificates(ctx context.Context, query string) ([]*x509.Certificate, error) {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*x509.Certificate
	for rows.Next() {
		var der []byte
		if err := rows.Scan(&der); err != nil {
			return nil, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CRL is the newest certificate revocation list of the active CSCA.
func (s *Store) CRL(ctx context.Context) ([]byte, error) {
	return s.CRLOf(ctx, "")
}

// CRLOf is the newest CRL of the CSCA whose subject key identifier is
// skiHex (hex), or of the active CSCA when skiHex is empty: relying parties
// holding cards signed under an earlier CSCA fetch that CSCA's CRL.
func (s *Store) CRLOf(ctx context.Context, skiHex string) ([]byte, error) {
	all, err := s.allCSCAs(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var c cscaEntry
	for _, e := range all {
		if (skiHex == "" && e.active) || (skiHex != "" && strings.EqualFold(fmt.Sprintf("%x", e.auth.Cert.SubjectKeyId), skiHex)) {
			c = e
		}
	}
	if c.id == "" {
		return nil, errs.E(errs.NotFound, "no such CSCA: run dancu pki init")
	}
	der, err := latestCRL(ctx, s.db, c)
	if err == nil && der == nil {
		return nil, errs.E(errs.NotFound, "no CRL yet")
	}
	return der, err
}

// Revocation reasons a Document Signer may be revoked for (RFC 5280
// CRLReason).
var revocationReasons = map[string]int{
	"unspecified": 0, "keyCompromise": 1, "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5,
}

// Maintenance is what Maintain did.
type Maintenance struct {
	RotatedDS  *x509.Certificate // the new Document Signer, if the old one's usage period was ending
	CRLNumber  int64             // the new CRL's number, if one was issued
	NextUpdate time.Time         // of the newest CRL
}

// Maintain keeps the authority current at now; serve calls it regularly.
// A Document Signer whose private key usage period ends within
// DSRotateBefore is replaced, and each CSCA's CRL whose next update is
// within CRLRenewBefore is reissued (every CSCA whose certificate is still
// valid keeps issuing the CRL of the signers it certified). Without a CSCA
// (no `pki init` yet) it does nothing. Several processes may call it at
// once: the work is done in one transaction under a lock, and only once.
// NextUpdate in the answer is that of the active CSCA's CRL.
func (s *Store) Maintain(ctx context.Context, now time.Time) (Maintenance, error) {
	var m Maintenance
	var none bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		m, none = Maintenance{}, false
		if err := s.db.Dialect.LockKey(ctx, tx, "pki-maintain"); err != nil {
			return err
		}
		// The first write serializes maintenance on SQLite too.
		if _, err := tx.ExecContext(ctx, `UPDATE pki_authority SET active = active WHERE role = 'ds' AND active`); err != nil {
			return err
		}
		all, err := s.allCSCAs(ctx, tx)
		if err != nil {
			return err
		}
		csca, err := activeCSCA(all)
		if errs.Is(err, errs.Unavailable) {
			none = true
			return nil
		}
		if err != nil {
			return err
		}
		var cert []byte
		err = tx.QueryRowContext(ctx, `SELECT cert FROM pki_authority WHERE role = 'ds' AND active`).Scan(&cert)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rotate := errors.Is(err, sql.ErrNoRows)
		if !rotate {
			ds, err := x509.ParseCertificate(cert)
			if err != nil {
				return err
			}
			_, until, ok := UsagePeriod(ds)
			if !ok {
				until = ds.NotBefore.Add(DSPrivateKeyUsage) // made before the extension
			}
			rotate = !now.Add(DSRotateBefore).Before(until)
		}
		if rotate {
			ds, err := csca.auth.NewDocumentSigner(now, "Document Signer "+now.Format("2006-01-02"))
			if err != nil {
				return err
			}
			if err := s.save(ctx, tx, "ds", ds, now); err != nil {
				return err
			}
			m.RotatedDS = ds.Cert
		}
		for _, c := range all {
			if !c.auth.Cert.NotAfter.After(now) {
				continue // an expired CSCA vouches for nothing any more
			}
			der, err := latestCRL(ctx, tx, c)
			if err != nil {
				return err
			}
			renew, next := der == nil, time.Time{}
			if der != nil {
				crl, err := x509.ParseRevocationList(der)
				if err != nil {
					return err
				}
				next = crl.NextUpdate
				renew = !now.Add(CRLRenewBefore).Before(crl.NextUpdate)
			}
			if renew {
				if err := s.publishCRL(ctx, tx, c, now); err != nil {
					return err
				}
				next = now.Add(CRLValidity)
				if c.active {
					if err := tx.QueryRowContext(ctx, `SELECT MAX(number) FROM pki_crl`).Scan(&m.CRLNumber); err != nil {
						return err
					}
				}
			}
			if c.active {
				m.NextUpdate = next
			}
		}
		return nil
	})
	if none {
		return Maintenance{}, nil
	}
	return m, err
}

// RevokeDS revokes a Document Signer by its serial number (hex, as the
// certificates show it) for reason (an RFC 5280 reason name), and the CSCA
// that certified it issues a CRL listing it at once. Revoking the active
// one replaces it first, so no card is signed by a revoked key.
func (s *Store) RevokeDS(ctx context.Context, serialHex, reason, note string, now time.Time) (Maintenance, error) {
	serialHex = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(serialHex), "0x"))
	code, ok := revocationReasons[reason]
	if !ok {
		return Maintenance{}, errs.Field("reason", "must be one of unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation")
	}
	var m Maintenance
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		m = Maintenance{}
		all, err := s.allCSCAs(ctx, tx)
		if err != nil {
			return err
		}
		active, err := activeCSCA(all)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, cert, active FROM pki_authority WHERE role = 'ds'`)
		if err != nil {
			return err
		}
		var id string
		var isActive bool
		var ds *x509.Certificate
		for rows.Next() {
			var aid string
			var der []byte
			var act bool
			if err := rows.Scan(&aid, &der, &act); err != nil {
				rows.Close()
				return err
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				rows.Close()
				return err
			}
			if fmt.Sprintf("%x", c.SerialNumber) == serialHex {
				id, isActive, ds = aid, act, c
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if id == "" {
			return errs.E(errs.NotFound, "no document signer with serial %s", serialHex)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO pki_revocation (serial, authority_id, revoked_at, reason, note) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (serial) DO NOTHING`, serialHex, id, now, code, note)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.Conflict, "the document signer %s is revoked already", serialHex)
		}
		if isActive {
			next, err := active.auth.NewDocumentSigner(now, "Document Signer "+now.Format("2006-01-02"))
			if err != nil {
				return err
			}
			if err := s.save(ctx, tx, "ds", next, now); err != nil {
				return err
			}
			m.RotatedDS = next.Cert
		}
		for _, c := range all {
			if bytes.Equal(ds.AuthorityKeyId, c.auth.Cert.SubjectKeyId) {
				if err := s.publishCRL(ctx, tx, c, now); err != nil {
					return err
				}
				m.NextUpdate = now.Add(CRLValidity)
				return tx.QueryRowContext(ctx, `SELECT MAX(number) FROM pki_crl`).Scan(&m.CRLNumber)
			}
		}
		return errs.E(errs.Conflict, "the document signer %s was certified by no CSCA of ours", serialHex)
	})
	return m, err
}

// RotateCSCA renews the Country Signing CA: a new CSCA key and
// self-signed certificate, a link certificate (the new key certified by
// the old), a new Document Signer under the new CSCA, and a first CRL of
// the new CSCA. The old CSCA certifies nothing more, but its certificate
// stays valid and keeps issuing the CRL of the signers it certified, so
// every card signed before still verifies. It returns the new CSCA and
// the link certificate.
func (s *Store) RotateCSCA(ctx context.Context, now time.Time) (Authority, *x509.Certificate, error) {
	var next Authority
	var link *x509.Certificate
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.Dialect.LockKey(ctx, tx, "pki-maintain"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pki_authority SET active = active WHERE role = 'csca' AND active`); err != nil {
			return err
		}
		all, err := s.allCSCAs(ctx, tx)
		if err != nil {
			return err
		}
		old, err := activeCSCA(all)
		if err != nil {
			return err
		}
		if next, err = NewCSCA(now, old.auth.Cert.Subject.CommonName); err != nil {
			return err
		}
		if link, err = old.auth.LinkCertificate(next, now); err != nil {
			return err
		}
		id, err := s.saveID(ctx, tx, "csca", next, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pki_link (id, old_csca_id, new_csca_id, cert, created_at) VALUES ($1, $2, $3, $4, $5)`,
			uuid.NewString(), old.id, id, link.Raw, now); err != nil {
			return err
		}
		ds, err := next.NewDocumentSigner(now, "Document Signer "+now.Format("2006-01-02"))
		if err != nil {
			return err
		}
		if err := s.save(ctx, tx, "ds", ds, now); err != nil {
			return err
		}
		return s.publishCRL(ctx, tx, cscaEntry{id: id, auth: next, active: true}, now)
	})
	return next, link, err
}

// LinkCertificates are the link certificates between our CSCAs, oldest
// first.
func (s *Store) LinkCertificates(ctx context.Context) ([]*x509.Certificate, error) {
	return s.certificates(ctx, `SELECT cert FROM pki_link ORDER BY created_at`)
}

// MasterListValidity is how long a Master List's signer is certified for;
// relying parties fetch a fresh list at least that often.
const MasterListValidity = 90 * 24 * time.Hour

// MasterList is our CSCA Master List (ICAO 9303-12): a CMS SignedData of
// content type id-icao-cscaMasterList over CscaMasterList { v0, every CSCA
// certificate and link certificate of ours }, signed by a Master List
// Signer certified by the active CSCA, for relying parties that keep trust
// lists. The signer's key is made for the list and not kept.
func (s *Store) MasterList(ctx context.Context, now time.Time) ([]byte, error) {
	all, err := s.allCSCAs(ctx, s.db)
	if err != nil {
		return nil, err
	}
	active, err := activeCSCA(all)
	if err != nil {
		return nil, err
	}
	links, err := s.LinkCertificates(ctx)
	if err != nil {
		return nil, err
	}
	var list cscaMasterList
	for _, c := range all {
		list.Certs = append(list.Certs, asn1.RawValue{FullBytes: c.auth.Cert.Raw})
	}
	for _, l := range links {
		list.Certs = append(list.Certs, asn1.RawValue{FullBytes: l.Raw})
	}
	content, err := asn1.Marshal(list)
	if err != nil {
		return nil, err
	}
	signer, err := active.auth.NewMasterListSigner(now, MasterListValidity)
	if err != nil {
		return nil, err
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	sd.GetSignedData().ContentInfo.ContentType = OIDCSCAMasterList
	sd.GetSignedData().Version = 3
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(signer.Cert, signer.Key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("sign the master list: %w", err)
	}
	return sd.Finish()
}

// cscaMasterList is CscaMasterList ::= SEQUENCE { version INTEGER (v0),
// certList SET OF Certificate }.
type cscaMasterList struct {
	Version int
	Certs   []asn1.RawValue `asn1:"set"`
}

// ParseMasterList reads the certificates out of a Master List's content
// (the eContent, after the CMS signature was checked).
func ParseMasterList(content []byte) ([]*x509.Certificate, error) {
	var list cscaMasterList
	rest, err := asn1.Unmarshal(content, &list)
	if err != nil || len(rest) != 0 {
		return nil, errs.E(errs.Invalid, "not a CSCA master list")
	}
	if list.Version != 0 {
		return nil, errs.E(errs.Invalid, "CSCA master list version %d, want 0", list.Version)
	}
	var out []*x509.Certificate
	for _, raw := range list.Certs {
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return nil, errs.E(errs.Invalid, "a master list entry is not a certificate: %v", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// RevokedAt is when the Document Signer with serial (lower-case hex) was
// revoked, if it was: one indexed lookup, for each verification.
func (s *Store) RevokedAt(ctx context.Context, serial string) (time.Time, bool, error) {
	var at time.Time
	err := s.db.QueryRowContext(ctx, `SELECT revoked_at FROM pki_revocation WHERE serial = $1`, serial).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return at.UTC(), err == nil, err
}

// Revoked is when each revoked Document Signer was revoked, by serial
// number (lower-case hex).
func (s *Store) Revoked(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT serial, revoked_at FROM pki_revocation`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var sn string
		var at time.Time
		if err := rows.Scan(&sn, &at); err != nil {
			return nil, err
		}
		out[sn] = at.UTC()
	}
	return out, rows.Err()
}
