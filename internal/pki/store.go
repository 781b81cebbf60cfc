package pki

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"

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
	key, ok := a.Key.(*ecdsa.PrivateKey)
	if !ok {
		return errors.New("only in-memory ECDSA keys can be stored; a hardware key stays in its module")
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	id := uuid.NewString()
	if _, err := tx.ExecContext(ctx, `UPDATE pki_authority SET active = false WHERE role = $1`, role); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO pki_authority (id, role, cert, key_sealed, active, created_at) VALUES ($1, $2, $3, $4, true, $5)`,
		id, role, a.Cert.Raw, s.sealer.Seal(der, aad(id)), now)
	return err
}

func (s *Store) publishCRL(ctx context.Context, tx *sql.Tx, csca Authority, now time.Time) error {
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM pki_crl`).Scan(&n); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT serial, revoked_at, reason FROM pki_revocation ORDER BY revoked_at`)
	if err != nil {
		return err
	}
	var entries []x509.RevocationListEntry
	for rows.Next() {
		var hexSerial string
		var at time.Time
		var reason int
		if err := rows.Scan(&hexSerial, &at, &reason); err != nil {
			rows.Close()
			return err
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
	der, err := csca.CRL(now, n, entries)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO pki_crl (number, der, issued_at) VALUES ($1, $2, $3)`, n, der, now)
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
		if err := s.save(ctx, tx, "csca", csca, now); err != nil {
			return err
		}
		if err := s.save(ctx, tx, "ds", ds, now); err != nil {
			return err
		}
		return s.publishCRL(ctx, tx, csca, now)
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
	rows, err := s.db.QueryContext(ctx, `SELECT cert FROM pki_authority WHERE role = 'csca' ORDER BY created_at DESC`)
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

// CRL is the newest certificate revocation list of the CSCA.
func (s *Store) CRL(ctx context.Context) ([]byte, error) {
	var der []byte
	err := s.db.QueryRowContext(ctx, `SELECT der FROM pki_crl ORDER BY number DESC LIMIT 1`).Scan(&der)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no CRL yet: run dancu pki init")
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
// DSRotateBefore is replaced, and a CRL whose next update is within
// CRLRenewBefore is reissued. Without a CSCA (no `pki init` yet) it does
// nothing. Several processes may call it at once: the work is done in one
// transaction under a lock, and only once.
func (s *Store) Maintain(ctx context.Context, now time.Time) (Maintenance, error) {
	var m Maintenance
	csca, err := s.Active(ctx, "csca")
	if errs.Is(err, errs.Unavailable) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		m = Maintenance{}
		if err := s.db.Dialect.LockKey(ctx, tx, "pki-maintain"); err != nil {
			return err
		}
		// The row lock of the active DS serializes rotations on SQLite
		// too: the update below is the transaction's first write.
		if _, err := tx.ExecContext(ctx, `UPDATE pki_authority SET active = active WHERE role = 'ds' AND active`); err != nil {
			return err
		}
		var cert []byte
		err := tx.QueryRowContext(ctx, `SELECT cert FROM pki_authority WHERE role = 'ds' AND active`).Scan(&cert)
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
			ds, err := csca.NewDocumentSigner(now, "Document Signer "+now.Format("2006-01-02"))
			if err != nil {
				return err
			}
			if err := s.save(ctx, tx, "ds", ds, now); err != nil {
				return err
			}
			m.RotatedDS = ds.Cert
		}
		var der []byte
		if err := tx.QueryRowContext(ctx, `SELECT der FROM pki_crl ORDER BY number DESC LIMIT 1`).Scan(&der); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		renew := der == nil
		if der != nil {
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				return err
			}
			m.NextUpdate = crl.NextUpdate
			renew = !now.Add(CRLRenewBefore).Before(crl.NextUpdate)
		}
		if renew {
			if err := s.publishCRL(ctx, tx, csca, now); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT MAX(number) FROM pki_crl`).Scan(&m.CRLNumber); err != nil {
				return err
			}
			m.NextUpdate = now.Add(CRLValidity)
		}
		return nil
	})
	return m, err
}

// RevokeDS revokes a Document Signer by its serial number (hex, as `pki
// status` and the certificates show it) for reason (an RFC 5280 reason
// name), and issues a CRL listing it at once. Revoking the active one
// replaces it first, so no card is signed by a revoked key.
func (s *Store) RevokeDS(ctx context.Context, serialHex, reason, note string, now time.Time) (Maintenance, error) {
	serialHex = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(serialHex), "0x"))
	code, ok := revocationReasons[reason]
	if !ok {
		return Maintenance{}, errs.Field("reason", "must be one of unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation")
	}
	csca, err := s.Active(ctx, "csca")
	if err != nil {
		return Maintenance{}, err
	}
	var m Maintenance
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		m = Maintenance{}
		rows, err := tx.QueryContext(ctx, `SELECT id, cert, active FROM pki_authority WHERE role = 'ds'`)
		if err != nil {
			return err
		}
		var id string
		var active bool
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
				id, active = aid, act
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
		if active {
			ds, err := csca.NewDocumentSigner(now, "Document Signer "+now.Format("2006-01-02"))
			if err != nil {
				return err
			}
			if err := s.save(ctx, tx, "ds", ds, now); err != nil {
				return err
			}
			m.RotatedDS = ds.Cert
		}
		if err := s.publishCRL(ctx, tx, csca, now); err != nil {
			return err
		}
		m.NextUpdate = now.Add(CRLValidity)
		return tx.QueryRowContext(ctx, `SELECT MAX(number) FROM pki_crl`).Scan(&m.CRLNumber)
	})
	return m, err
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
