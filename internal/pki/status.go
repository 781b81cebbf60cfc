package pki

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

// AuthorityStatus is one certificate of the store, for the administrators'
// status page: its role ("csca", "ds") and whether it is the active one.
type AuthorityStatus struct {
	Role   string
	Active bool
	Cert   *x509.Certificate
}

// CRLStatus is the newest CRL of the active CSCA.
type CRLStatus struct {
	Number                 string
	ThisUpdate, NextUpdate time.Time
}

// Status lists every CSCA and Document Signer certificate, newest first,
// and the active CSCA's newest CRL (nil before pki init). It reveals no
// key. The caller checks who may see it.
func (s *Store) Status(ctx context.Context) ([]AuthorityStatus, *CRLStatus, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT role, active, cert FROM pki_authority ORDER BY role, created_at DESC`)
	if err != nil {
		return nil, nil, err
	}
	var out []AuthorityStatus
	for rows.Next() {
		var a AuthorityStatus
		var der []byte
		if err := rows.Scan(&a.Role, &a.Active, &der); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if a.Cert, err = x509.ParseCertificate(der); err != nil {
			rows.Close()
			return nil, nil, err
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, nil, err
	}
	der, err := s.CRL(ctx)
	if errs.Is(err, errs.NotFound) {
		return out, nil, nil
	}
	if err != nil {
		return out, nil, err
	}
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		return out, nil, err
	}
	c := &CRLStatus{ThisUpdate: l.ThisUpdate, NextUpdate: l.NextUpdate}
	if l.Number != nil {
		c.Number = l.Number.String()
	}
	return out, c, nil
}
