package pki

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
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
	der, err := csca.CRL(now, n, nil)
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
