package dossier

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"rsc.io/qr"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/registry"
)

// ConfirmationValidity is how long a residence confirmation (CT07) is
// valid, unless the residence data it states changes first.
const ConfirmationValidity = 365 * 24 * time.Hour

// ConfirmationType is the JWS "typ" of a residence confirmation.
const ConfirmationType = "ct07+jwt"

// Residence is one residence a confirmation states.
type Residence struct {
	Commune string `json:"commune"`
	Address string `json:"address"`
	Until   string `json:"until,omitempty"`
}

// Confirmation is the content of a residence confirmation (CT07).
type Confirmation struct {
	Type      string     `json:"typ"`
	ID        string     `json:"jti"`
	Dossier   string     `json:"dossier"`
	PID       string     `json:"pid"`
	Name      string     `json:"name"`
	BirthDate string     `json:"birth_date"`
	Sex       string     `json:"sex"`
	Permanent *Residence `json:"permanent_residence,omitempty"`
	Temporary *Residence `json:"temporary_residence,omitempty"`
	Household string     `json:"household_relationship,omitempty"`
	Issuer    string     `json:"issuer"`
	IssuedAt  int64      `json:"iat"`
	ExpiresAt int64      `json:"exp"`
}

// residences is the residence data of a record that a confirmation states.
func (s *Service) residences(r *registry.Record) (*Residence, *Residence, string) {
	describe := func(a *registry.Address, until string) *Residence {
		if a == nil || (a.Commune == "" && a.Detail == "") {
			return nil
		}
		text := a.Detail
		if c, ok := s.units.Commune(adminunit.Scheme(orDefault(a.Scheme, "2025")), a.Commune); ok {
			text = strings.TrimPrefix(strings.Join([]string{a.Detail, c.FullName()}, ", "), ", ")
		}
		return &Residence{Commune: communeOf(a), Address: text, Until: until}
	}
	rel := ""
	if r.Household != nil {
		rel = r.Household.Relationship
	}
	return describe(r.PermanentResidence, ""), describe(r.TemporaryResidence, r.TemporaryResidenceUntil), rel
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// residenceHash fingerprints the residence data a confirmation states.
func residenceHash(p, t *Residence, rel string) string {
	b, _ := json.Marshal([]any{p, t, rel})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

type confirmation struct{}

func (confirmation) prepare(_ context.Context, s *Service, rec registry.Citizen, data json.RawMessage, _ time.Time) (string, any, error) {
	var in struct {
		Purpose string `json:"purpose,omitempty"`
	}
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	if len(in.Purpose) > 200 {
		return "", nil, errs.Field("data.purpose", "must be at most 200 bytes")
	}
	for _, a := range []*registry.Address{rec.PermanentResidence, rec.TemporaryResidence, rec.CurrentResidence} {
		if c := communeOf(a); c != "" {
			return c, in, nil
		}
	}
	return "", nil, errs.Field("service", "the national population database holds no residence of yours to confirm")
}

// apply issues the signed confirmation, from the record as it is in this
// transaction.
func (confirmation) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	rec, err := s.registry.RecordTx(ctx, tx, d.Applicant, "issue residence confirmation "+d.Code)
	if err != nil {
		return "", err
	}
	perm, temp, rel := s.residences(&rec)
	issuer := "Công an " + d.Commune
	if c, ok := s.units.Commune(adminunit.Scheme2025, d.Commune); ok {
		issuer = "Công an " + c.FullName()
	}
	doc := Confirmation{Type: "CT07", ID: uuid.NewString(), Dossier: d.Code, PID: string(rec.PID), Name: rec.Name.Full(), BirthDate: rec.BirthDate,
		Sex: string(rec.Sex), Permanent: perm, Temporary: temp, Household: rel, Issuer: issuer,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(ConfirmationValidity).Unix()}
	jws, err := s.sign(ctx, now, doc)
	if err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO residence_confirmation (id, pid, dossier_id, issued_at, expires_at, residence_hash, jws) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		doc.ID, doc.PID, d.ID, now, now.Add(ConfirmationValidity), residenceHash(perm, temp, rel), jws)
	return jws, err
}

func (s *Service) sign(ctx context.Context, now time.Time, doc Confirmation) (string, error) {
	key, _, err := s.signer.Current(ctx, now)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
		(&jose.SignerOptions{}).WithType(ConfirmationType))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// DocumentKeys is the JSON Web Key Set of the keys that sign documents,
// published for anyone who verifies them offline.
func (s *Service) DocumentKeys(ctx context.Context) (jose.JSONWebKeySet, error) {
	_, keys, err := s.signer.Current(ctx, s.clock())
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	return set, nil
}

// Verification is the answer of the public verification of a document.
type Verification struct {
	Valid    bool          `json:"valid" doc:"The signature is ours, the document is unexpired and its data is still current"`
	Status   string        `json:"status" enum:"valid,invalid,expired,superseded,unknown"`
	Reason   string        `json:"reason"`
	Document *Confirmation `json:"document,omitempty" doc:"The signed content, when the signature verifies"`
}

// Verify checks a residence confirmation presented by anyone: our
// signature, its expiry, and whether the residence data it states is still
// what the registry holds ("superseded" once the person moved). No login
// is needed; the comparison with the registry is recorded as a read by the
// verification service, and nothing beyond the document is revealed.
func (s *Service) Verify(ctx context.Context, document string) (Verification, error) {
	document = strings.TrimSpace(document)
	if document == "" || len(document) > 20000 {
		return Verification{}, errs.Field("document", "give the signed document (compact JWS) as issued")
	}
	obj, err := jose.ParseSigned(document, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(obj.Signatures) != 1 {
		return Verification{Status: "invalid", Reason: "not a signed dancu document"}, nil
	}
	now := s.clock()
	_, keys, err := s.signer.Current(ctx, now)
	if err != nil {
		return Verification{}, err
	}
	var payload []byte
	for _, k := range keys {
		if k.ID() == obj.Signatures[0].Header.KeyID {
			if payload, err = obj.Verify(k.Public()); err != nil {
				payload = nil
			}
		}
	}
	if payload == nil {
		return Verification{Status: "invalid", Reason: "the signature does not verify with a published document key"}, nil
	}
	var doc Confirmation
	if err := json.Unmarshal(payload, &doc); err != nil || doc.Type != "CT07" {
		return Verification{Status: "invalid", Reason: "not a residence confirmation"}, nil
	}
	out := Verification{Document: &doc}
	var stored string
	err = s.db.QueryRowContext(ctx, `SELECT residence_hash FROM residence_confirmation WHERE id = $1`, doc.ID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		out.Status, out.Reason = "unknown", "signed by us but not in the register of issued confirmations"
		return out, nil
	}
	if err != nil {
		return Verification{}, err
	}
	if now.Unix() > doc.ExpiresAt {
		out.Status, out.Reason = "expired", fmt.Sprintf("valid until %s", time.Unix(doc.ExpiresAt, 0).In(vn).Format(time.DateOnly))
		return out, nil
	}
	sys := actor.SystemActor("document-verification")
	if a, ok := actor.From(ctx); ok {
		sys.Source = a.Source
	}
	var rec registry.Record
	err = s.db.InTx(actor.With(ctx, sys), func(tx *sql.Tx) error {
		var err error
		rec, err = s.registry.RecordTx(actor.With(ctx, sys), tx, doc.PID, "verify residence confirmation "+doc.ID)
		return err
	})
	if err != nil {
		return Verification{}, err
	}
	perm, temp, rel := s.residences(&rec)
	if residenceHash(perm, temp, rel) != stored || rec.Status != registry.Alive {
		out.Status, out.Reason = "superseded", "the residence data it states has changed since it was issued"
		return out, nil
	}
	out.Valid, out.Status, out.Reason = true, "valid", "signed by dancu, unexpired, and the residence data is current"
	return out, nil
}

// QR returns a PNG QR code of text (a verification link).
func QR(text string) ([]byte, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	return c.PNG(), nil
}

// Signer is the key ring of documents and attestations (also the exchange
// hub's signed answers), published at /.well-known/dancu-document-keys.
func (s *Service) Signer() *keyring.Ring { return s.signer }
