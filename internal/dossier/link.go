package dossier

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"strings"
)

// LinkPath is where a document's short link is served: PUBLIC_URL + LinkPath + code.
const LinkPath = "/v/"

// linkCode is a new short-link code: 100 random bits in 20 base32
// letters, short enough for a small QR code and never guessed.
func linkCode() string {
	b := make([]byte, 13)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
}

// LinkOf returns the short-link code of a dossier's signed result,
// making it on first use. The caller has read the dossier (Get checks who
// may); only a dossier with a signed result has a link.
func (s *Service) LinkOf(ctx context.Context, d Dossier) (string, error) {
	if d.Service != "residence.confirmation" || d.Result == "" {
		return "", nil
	}
	var code string
	err := s.db.QueryRowContext(ctx, `SELECT code FROM document_link WHERE dossier_id = $1`, d.ID).Scan(&code)
	if err == nil {
		return code, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO document_link (code, dossier_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		linkCode(), d.ID, s.clock()); err != nil {
		return "", err
	}
	err = s.db.QueryRowContext(ctx, `SELECT code FROM document_link WHERE dossier_id = $1`, d.ID).Scan(&code)
	return code, err
}

// VerifyLink verifies the document a short link names, for anyone who
// holds the link: as Verify, and an unknown code is answered exactly as a
// document that is not ours.
func (s *Service) VerifyLink(ctx context.Context, code string) (Verification, error) {
	code = strings.ToLower(strings.TrimSpace(code))
	if len(code) != 20 {
		return notOurs, nil
	}
	var result string
	err := s.db.QueryRowContext(ctx, `SELECT d.result FROM document_link l JOIN dossier d ON d.id = l.dossier_id WHERE l.code = $1`, code).Scan(&result)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && result == "") {
		return notOurs, nil
	}
	if err != nil {
		return Verification{}, err
	}
	return s.Verify(ctx, result)
}

// notOurs is the answer to anything that is not a document we signed.
var notOurs = Verification{Status: "invalid", Reason: "not a signed dancu document"}
