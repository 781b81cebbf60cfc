package card

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Service runs chip cards: applications, production, the card's life, and
// passive authentication for relying parties.
type Service struct {
	db       *sqldb.DB
	codes    *codelist.Lists
	sealer   Sealer
	registry *registry.Service
	pki      *pki.Store
	policy   *access.Policy
	signer   *keyring.Ring
	now      func() time.Time
}

// Sealer encrypts biometric templates at rest (the data key).
type Sealer interface {
	Seal(data, aad []byte) []byte
	Open(sealed, aad []byte) ([]byte, error)
}

// NewService returns the card service; it revokes the active card of a
// person recorded as dead. sealer seals fingerprint templates; signer signs
// the answers of passive authentication (the document key ring).
func NewService(db *sqldb.DB, reg *registry.Service, store *pki.Store, policy *access.Policy, sealer Sealer, signer *keyring.Ring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: db, codes: codelist.New(), sealer: sealer, registry: reg, pki: store, policy: policy, signer: signer, now: now}
	reg.OnStatusChange(func(ctx context.Context, tx *sql.Tx, pid string, to registry.Status) error {
		if to != registry.Dead {
			return nil
		}
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM card WHERE pid = $1 AND status = 'active'`, pid).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE card SET status = 'revoked' WHERE id = $1`, id); err != nil {
			return err
		}
		return cardEvent(ctx, tx, pid, id, "revoked", s.clock())
	})
	return s
}

// EventCardStatus is the change event of a card: produced (active),
// superseded, lost, revoked, delivered.
const EventCardStatus = "vn.dancu.card.status"

func cardEvent(ctx context.Context, tx *sql.Tx, pid, cardID, status string, now time.Time) error {
	return events.Emit(ctx, tx, EventCardStatus, pid, map[string]any{"pid": pid, "card": cardID, "status": status, "at": now}, now)
}

// CardApplication is a card application.
type CardApplication struct {
	ID          string     `json:"id"`
	PID         string     `json:"pid"`
	Kind        string     `json:"kind" enum:"first,renewal,reissue"`
	Reason      string     `json:"reason,omitempty" enum:"lost,damaged,data_changed,"`
	State       string     `json:"state" enum:"submitted,approved,rejected,produced,delivered"`
	Commune     string     `json:"commune"`
	SubmittedAt time.Time  `json:"submitted_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// Card is a produced card.
type Card struct {
	ID        string   `json:"id"`
	PID       string   `json:"pid" doc:"The card number is the personal ID number"`
	Status    string   `json:"status" enum:"active,lost,revoked,expired,superseded"`
	IssuedOn  string   `json:"issued_on"`
	ExpiresOn string   `json:"expires_on,omitempty" doc:"Empty for a card valid for life"`
	Commune   string   `json:"commune"`
	Printed   *Printed `json:"printed,omitempty" doc:"What is printed on the card, for the card printer (on production only)"`
	// Personalisation is given once, by Produce; it is not stored.
	Personalisation *Personalisation `json:"personalisation,omitempty" doc:"What the card factory writes into the chip, on production only and never again: the chip's files and its private keys, which are not kept anywhere else"`
}

// Personalisation is what the card factory writes into a card's chip:
// EF.COM, EF.SOD, the data groups and the chip's private keys for Chip
// and Active Authentication. It exists once, in the answer to Produce
// (and the batch): the keys are never stored, logged or audited, and
// Chip gives the files again without them.
type Personalisation struct {
	SOD        []byte         `json:"sod" doc:"EF.SOD, base64"`
	COM        []byte         `json:"com" doc:"EF.COM, base64"`
	DataGroups map[int][]byte `json:"data_groups" doc:"The data groups by number (1, 2, 13, 14, 15), base64"`
	Keys       ChipKeys       `json:"keys" doc:"The chip's private keys, to be written into its secure memory and then destroyed"`
}

// String keeps the keys out of anything that formats a Personalisation.
func (p Personalisation) String() string { return "card.Personalisation{keys withheld}" }

// GoString keeps the keys out of %#v.
func (p Personalisation) GoString() string { return p.String() }

// Printed is what the card shows (Luật Căn cước 2023 Art. 18), in the
// card's own formats.
type Printed struct {
	Number                 string    `json:"number" doc:"Số định danh cá nhân"`
	FullName               string    `json:"full_name"`
	BirthDate              string    `json:"birth_date" doc:"dd/mm/yyyy"`
	Sex                    string    `json:"sex" enum:"Nam,Nữ"`
	Nationality            string    `json:"nationality"`
	PlaceOfOrigin          string    `json:"place_of_origin,omitempty"`
	BirthRegistrationPlace string    `json:"birth_registration_place,omitempty"`
	Residence              string    `json:"residence,omitempty" doc:"Nơi cư trú: permanent, else temporary, else current residence"`
	IssuedOn               string    `json:"issued_on" doc:"dd/mm/yyyy"`
	ExpiresOn              string    `json:"expires_on" doc:"dd/mm/yyyy, or Không thời hạn (valid for life)"`
	IssuedBy               string    `json:"issued_by"`
	Photo                  bool      `json:"photo" doc:"Whether a face image is printed (none under 6 years of age)"`
	MRZ                    [3]string `json:"mrz"`
	QR                     string    `json:"qr" doc:"The QR code's content: number|old number|name|date of birth|sex|residence|issue date"`
}

func (s *Service) printed(c registry.Citizen, today, expires string, mrz [3]string, photo bool) Printed {
	text := func(a *registry.Address) string {
		if a == nil {
			return ""
		}
		return a.Text
	}
	p := Printed{Number: string(c.PID), FullName: c.Name.Full(), BirthDate: dateVN(c.BirthDate),
		Sex: map[string]string{"male": "Nam", "female": "Nữ"}[string(c.Sex)], Nationality: "Việt Nam",
		PlaceOfOrigin: text(c.PlaceOfOrigin), BirthRegistrationPlace: text(c.BirthRegistrationPlace),
		IssuedOn: dateVN(today), ExpiresOn: "Không thời hạn", IssuedBy: "Bộ Công an", Photo: photo, MRZ: mrz}
	if n, ok := s.codes.Nationality.Name(c.Nationality); ok && c.Nationality != "" && c.Nationality != "VNM" {
		p.Nationality = n
	}
	for _, a := range []*registry.Address{c.PermanentResidence, c.TemporaryResidence, c.CurrentResidence} {
		if t := text(a); t != "" {
			p.Residence = t
			break
		}
	}
	if expires != "" {
		p.ExpiresOn = dateVN(expires)
	}
	compact := func(d string) string { return strings.ReplaceAll(d, "/", "") }
	p.QR = strings.Join([]string{p.Number, c.OldIDNumber, p.FullName, compact(p.BirthDate), p.Sex, p.Residence, compact(p.IssuedOn)}, "|")
	return p
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ict is Vietnam's time zone: card dates are local dates.
var ict = time.FixedZone("ICT", 7*3600)

// Intake is what an officer takes at the counter for a card application.
type Intake struct {
	PID          string        `json:"pid"`
	Kind         string        `json:"kind" enum:"first,renewal,reissue"`
	Reason       string        `json:"reason,omitempty" enum:"lost,damaged,data_changed," doc:"For a reissue"`
	Photo        []byte        `json:"photo,omitempty" doc:"The face image taken at the counter, JPEG or JPEG 2000 whose header states its size, at most 64 KiB (card.MaxPhoto), base64; refused under 6 years of age"`
	Fingerprints []Fingerprint `json:"fingerprints,omitempty" maxItems:"10" doc:"Fingerprint templates, at most 8 KiB each; from 6 years of age at least both index fingers, refused under 6"`
}

// Fingerprint is one finger's template as the scanner gives it.
type Fingerprint struct {
	Finger   string `json:"finger" enum:"right_thumb,right_index,right_middle,right_ring,right_little,left_thumb,left_index,left_middle,left_ring,left_little"`
	Template []byte `json:"template" doc:"ISO/IEC 19794-2 minutiae record, at most 8 KiB, base64"`
}

// Fingers are the finger names, in ISO/IEC 19794-2 position order.
var Fingers = []string{"right_thumb", "right_index", "right_middle", "right_ring", "right_little", "left_thumb", "left_index", "left_middle", "left_ring", "left_little"}

// BiometricAge is the age from which face and fingerprints are taken
// (Luật Căn cước 2023 Art. 23: none under 6). A younger child's card has
// no photo, and its chip no DG2 (and, like every card of ours, no DG3 or
// DG4): EF.COM and the SOD list DG1, DG13, DG14 and DG15 only.
const BiometricAge = 6

// checkBiometrics checks the face image and fingerprints of an application
// for a person of the given age: required from BiometricAge, refused
// below it (the law does not let them be taken).
func checkBiometrics(in Intake, age int, f *errs.Fields) {
	switch {
	case len(in.Photo) == 0 && age >= BiometricAge:
		f.Add("photo", "is required from %d years of age", BiometricAge)
	case len(in.Photo) > 0 && age < BiometricAge:
		f.Add("photo", "is not taken under %d years of age", BiometricAge)
	case len(in.Photo) > MaxPhoto:
		f.Add("photo", "is %d bytes; at most %d", len(in.Photo), MaxPhoto)
	case len(in.Photo) > 0:
		if _, err := ParseImage(in.Photo); err != nil {
			f.Add("photo", "must be a JPEG or JPEG 2000 image whose header states its size")
		}
	}
	if len(in.Fingerprints) > 0 && age < BiometricAge {
		f.Add("fingerprints", "are not taken under %d years of age", BiometricAge)
		return
	}
	seen := map[string]bool{}
	for i, fp := range in.Fingerprints {
		field := fmt.Sprintf("fingerprints[%d]", i)
		switch {
		case !slices.Contains(Fingers, fp.Finger):
			f.Add(field+".finger", "must be one of %v", Fingers)
		case seen[fp.Finger]:
			f.Add(field+".finger", "%s is given twice", fp.Finger)
		case len(fp.Template) == 0 || len(fp.Template) > MaxTemplate:
			f.Add(field+".template", "must hold 1 to %d bytes", MaxTemplate)
		}
		seen[fp.Finger] = true
	}
	if age >= BiometricAge && (!seen["right_index"] || !seen["left_index"]) {
		f.Add("fingerprints", "both index fingers are required from %d years of age", BiometricAge)
	}
}

// AgeOn is the age in whole years on day of a person born on birth (both
// YYYY-MM-DD).
func AgeOn(birth, day string) int {
	b, err1 := time.Parse(time.DateOnly, birth)
	d, err2 := time.Parse(time.DateOnly, day)
	if err1 != nil || err2 != nil {
		return 0
	}
	age := d.Year() - b.Year()
	if birthday(b, age).After(d) {
		age--
	}
	return age
}

// renewable says whether a person whose latest card has status and
// expires (YYYY-MM-DD, "" for life) may apply for a renewal today: from
// GraceYears before the card's expiry, or once it has expired.
func renewable(pid, status, expires, today string) error {
	switch {
	case status == "":
		return errs.Field("kind", "no card of %s is on record: apply for a first card", pid)
	case status == "lost" || status == "revoked":
		return errs.Field("kind", "the card of %s is %s: apply for a reissue", pid, status)
	case expires == "":
		return errs.Field("kind", "the card of %s is valid for life: a new card is a reissue", pid)
	}
	e, err := time.Parse(time.DateOnly, expires)
	if err != nil {
		return err
	}
	if from := e.AddDate(-GraceYears, 0, 0).Format(time.DateOnly); today < from {
		return errs.Field("kind", "the card of %s is valid until %s: a renewal can be applied for from %s", pid, expires, from)
	}
	return nil
}

// latestCard is a person's active card, else their newest one: its status
// and expiry ("", "" when none is on record).
func latestCard(ctx context.Context, q sqldb.Querier, pid string) (status, expires string, err error) {
	err = q.QueryRowContext(ctx, `SELECT status, expires_on FROM card WHERE pid = $1
		ORDER BY CASE WHEN status = 'active' THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT 1`, pid).Scan(&status, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return status, expires, err
}

// StatusOn is what the card register says of a person's card on day
// (YYYY-MM-DD, Viet Nam's date): active (valid that day), expired, lost,
// revoked, superseded; "" when no card of theirs is on record (cards
// issued before the register was kept are not).
func StatusOn(ctx context.Context, q sqldb.Querier, pid, day string) (string, error) {
	status, expires, err := latestCard(ctx, q, pid)
	if status == "active" && expires != "" && expires < day {
		status = "expired"
	}
	return status, err
}

// Apply takes a card application at the counter with the face image and
// fingerprints. A renewal is possible from two years before the card's
// expiry (the renewal ages of Art. 21); a reissue names its reason; a
// person has at most one open application.
func (s *Service) Apply(ctx context.Context, in Intake) (CardApplication, error) {
	officer, err := s.registry.RequireOver(ctx, access.WriteCitizen, in.PID)
	if err != nil {
		return CardApplication{}, err
	}
	kind, reason := in.Kind, in.Reason
	var f errs.Fields
	switch kind {
	case "first", "renewal":
		if reason != "" {
			f.Add("reason", "is only for a reissue")
		}
	case "reissue":
		if reason != "lost" && reason != "damaged" && reason != "data_changed" {
			f.Add("reason", "must be lost, damaged or data_changed")
		}
	default:
		f.Add("kind", "must be first, renewal or reissue")
	}
	if err := f.Err(); err != nil {
		return CardApplication{}, err
	}
	c, err := s.registry.Get(ctx, in.PID, "card application")
	if err != nil {
		return CardApplication{}, err
	}
	if c.Status != registry.Alive {
		return CardApplication{}, errs.E(errs.Conflict, "the national population database records %s as %s", in.PID, c.Status)
	}
	now := s.clock()
	today := now.In(ict).Format(time.DateOnly)
	checkBiometrics(in, AgeOn(c.BirthDate, today), &f)
	if err := f.Err(); err != nil {
		return CardApplication{}, err
	}
	commune := ""
	if officer.Kind == actor.Officer && officer.Jurisdiction.Level == actor.Commune {
		commune = officer.Jurisdiction.Code
	} else if r := c.PermanentResidence; r != nil {
		commune = r.Commune
	}
	app := CardApplication{ID: uuid.Must(uuid.NewV7()).String(), PID: string(c.PID), Kind: kind, Reason: reason, State: "submitted", Commune: commune, SubmittedAt: now}
	var prints []byte
	if len(in.Fingerprints) > 0 {
		plain, _ := json.Marshal(in.Fingerprints)
		prints = s.sealer.Seal(plain, []byte(app.ID+"/fingerprints"))
	}
	var photo []byte
	if len(in.Photo) > 0 {
		photo = in.Photo
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		status, expires, err := latestCard(ctx, tx, app.PID)
		if err != nil {
			return err
		}
		switch {
		case kind == "first" && status != "":
			return errs.Field("kind", "a card of %s is on record (%s): apply for a renewal or a reissue", app.PID, status)
		case kind == "renewal":
			if err := renewable(app.PID, status, expires, today); err != nil {
				return err
			}
		case kind == "reissue" && status == "":
			return errs.Field("kind", "no card of %s is on record: apply for a first card", app.PID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO card_application (id, pid, kind, reason, state, commune, submitted_at, taken_by, decided_by, note, photo, fingerprints)
			VALUES ($1,$2,$3,$4,'submitted',$5,$6,$7,'','',$8,$9)`, app.ID, app.PID, kind, reason, commune, now, officer.ID, photo, prints); err != nil {
			if sqldb.IsUniqueViolation(err) {
				return errs.E(errs.Conflict, "%s has a card application in progress already", app.PID)
			}
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_apply", app.PID, kind+" "+reason))
	})
	return app, err
}

// Decide approves or rejects a submitted application.
func (s *Service) Decide(ctx context.Context, id string, approve bool, note string) (CardApplication, error) {
	officer, err := access.Require(ctx, access.WriteCitizen)
	if err != nil {
		return CardApplication{}, err
	}
	if !approve && note == "" {
		return CardApplication{}, errs.Field("note", "a rejection states its reason")
	}
	to := "rejected"
	if approve {
		to = "approved"
	}
	now := s.clock()
	var app CardApplication
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if app, err = loadApplication(ctx, tx, id); err != nil {
			return err
		}
		if _, err := s.policy.RequireIn(ctx, access.WriteCitizen, access.Place{Scheme: adminunit.Scheme2025, Commune: app.Commune}); err != nil {
			return err
		}
		if _, err := s.registry.RequireOverIn(ctx, tx, access.WriteCitizen, app.PID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE card_application SET state = $1, decided_at = $2, decided_by = $3, note = $4 WHERE id = $5 AND state = 'submitted'`,
			to, now, officer.ID, note, id)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "application %s is %s", id, app.State)
		}
		app.State, app.DecidedAt, app.Note = to, &now, note
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_"+to, app.PID, id))
	})
	return app, err
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func loadApplication(ctx context.Context, tx *sql.Tx, id string) (CardApplication, error) {
	var a CardApplication
	var decided sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT id, pid, kind, reason, state, commune, submitted_at, decided_at, note FROM card_application WHERE id = $1`, id).
		Scan(&a.ID, &a.PID, &a.Kind, &a.Reason, &a.State, &a.Commune, &a.SubmittedAt, &decided, &a.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return a, errs.E(errs.NotFound, "no card application %s", id)
	}
	if decided.Valid {
		t := decided.Time.UTC()
		a.DecidedAt = &t
	}
	return a, err
}

// Produce makes the card of an approved application: the printed data and
// the chip (DG1 with the MRZ, DG2 with the face from 6 years of age, DG13,
// DG14 and DG15 with the card's own Chip and Active Authentication keys,
// EF.SOD signed by the active Document Signer; EF.COM lists them); the
// person's previous active card is superseded. The card's Personalisation
// holds the chip's private keys: they are in this answer only.
func (s *Service) Produce(ctx context.Context, id string) (Card, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Card{}, err
	}
	ds, err := s.pki.Active(ctx, "ds")
	if err != nil {
		return Card{}, err
	}
	var app CardApplication
	var photo []byte
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if app, err = loadApplication(ctx, tx, id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT photo FROM card_application WHERE id = $1`, id).Scan(&photo)
	})
	if err != nil {
		return Card{}, err
	}
	if _, err := s.registry.RequireOver(ctx, access.WriteCitizen, app.PID); err != nil {
		return Card{}, err
	}
	if app.State != "approved" {
		return Card{}, errs.E(errs.Conflict, "application %s is %s, not approved", id, app.State)
	}
	c, err := s.registry.Get(ctx, app.PID, "card production")
	if err != nil {
		return Card{}, err
	}
	now := s.clock()
	today := now.In(ict).Format(time.DateOnly)
	expires, err := Expiry(c.BirthDate, today)
	if err != nil {
		return Card{}, err
	}
	lines, err := MRZ{PID: string(c.PID), BirthDate: c.BirthDate, Sex: string(c.Sex), Expiry: expires, Surname: c.Name.Family,
		Given: joinNames(c.Name.Middle, c.Name.Given)}.Lines()
	if err != nil {
		return Card{}, err
	}
	dg1 := DG1(lines)
	// No face under 6, even from an application taken before that was
	// refused at the counter.
	var dg2 []byte
	if len(photo) > 0 && AgeOn(c.BirthDate, today) >= BiometricAge {
		if dg2, err = DG2(photo); err != nil {
			return Card{}, errs.E(errs.Conflict, "the application's face image cannot go on the chip (%v): take a new application", err)
		}
	}
	printed := s.printed(c, today, expires, lines, dg2 != nil)
	fields := []DG13Field{{1, printed.Number}, {2, printed.FullName}, {3, printed.BirthDate}, {4, printed.Sex}, {5, printed.Nationality}, {11, printed.IssuedOn}}
	if c.Ethnicity != nil && c.Ethnicity.Name != "" {
		fields = append(fields, DG13Field{6, c.Ethnicity.Name})
	}
	if name, ok := s.codes.Religion.Name(c.Religion); ok {
		fields = append(fields, DG13Field{7, name})
	}
	if printed.PlaceOfOrigin != "" {
		fields = append(fields, DG13Field{8, printed.PlaceOfOrigin})
	}
	if printed.Residence != "" {
		fields = append(fields, DG13Field{9, printed.Residence})
	}
	if expires != "" {
		fields = append(fields, DG13Field{12, printed.ExpiresOn})
	}
	if c.OldIDNumber != "" {
		fields = append(fields, DG13Field{16, c.OldIDNumber})
	}
	dg13, err := DG13(fields)
	if err != nil {
		return Card{}, err
	}
	keys, dg14, dg15, err := NewChipKeys()
	if err != nil {
		return Card{}, err
	}
	groups := map[int][]byte{1: dg1, 13: dg13, 14: dg14, 15: dg15}
	if dg2 != nil {
		groups[2] = dg2
	}
	sod, err := SOD(ds, groups)
	if err != nil {
		return Card{}, err
	}
	sum := sha256.Sum256(sod)
	card := Card{ID: uuid.Must(uuid.NewV7()).String(), PID: string(c.PID), Status: "active", IssuedOn: today, ExpiresOn: expires, Commune: app.Commune, Printed: &printed,
		Personalisation: &Personalisation{SOD: sod, COM: COM(slices.Collect(maps.Keys(groups))...), DataGroups: groups, Keys: keys}}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE card_application SET state = 'produced' WHERE id = $1 AND state = 'approved'`, id)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "application %s was produced meanwhile", id)
		}
		var previous string
		err = tx.QueryRowContext(ctx, `SELECT id FROM card WHERE pid = $1 AND status = 'active'`, card.PID).Scan(&previous)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if previous != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE card SET status = 'superseded' WHERE id = $1`, previous); err != nil {
				return err
			}
			if err := cardEvent(ctx, tx, card.PID, previous, "superseded", now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO card (id, pid, application_id, status, issued_on, expires_on, commune, sod_sha256, sod, dg1, dg2, dg13, dg14, dg15, created_at)
			VALUES ($1,$2,$3,'active',$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`, card.ID, card.PID, id, today, expires, card.Commune, hex.EncodeToString(sum[:]), sod, dg1, dg2, dg13, dg14, dg15, now); err != nil {
			return err
		}
		if err := cardEvent(ctx, tx, card.PID, card.ID, "active", now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_produced", card.PID, card.ID))
	})
	return card, err
}

func joinNames(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

func dateVN(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("02/01/2006")
}

// ReportLost marks a person's active card lost: it no longer passes.
func (s *Service) ReportLost(ctx context.Context, pid string) error {
	if _, err := s.registry.RequireOver(ctx, access.WriteCitizen, pid); err != nil {
		return err
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM card WHERE pid = $1 AND status = 'active'`, pid).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "%s has no active card", pid)
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE card SET status = 'lost' WHERE id = $1 AND status = 'active'`, id)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "the card of %s changed meanwhile", pid)
		}
		if err := cardEvent(ctx, tx, pid, id, "lost", now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_lost", pid, id))
	})
}

// Chip returns what a card's chip holds, for the card personalisation
// machine (an officer's read, recorded as an access to the holder): EF.SOD,
// EF.COM (made from the data groups the card holds) and the data groups,
// DG14 and DG15 with the public keys only (the private keys were given
// once, by Produce).
func (s *Service) Chip(ctx context.Context, cardID string) (sod, com []byte, groups map[int][]byte, err error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return nil, nil, nil, err
	}
	var pid string
	var dg1, dg2, dg13, dg14, dg15 []byte
	err = s.db.QueryRowContext(ctx, `SELECT pid, sod, dg1, dg2, dg13, dg14, dg15 FROM card WHERE id = $1`, cardID).Scan(&pid, &sod, &dg1, &dg2, &dg13, &dg14, &dg15)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil, errs.E(errs.NotFound, "no card %s", cardID)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := s.registry.RequireOver(ctx, access.WriteCitizen, pid); err != nil {
		return nil, nil, nil, err
	}
	ev := audit.NewEvent(ctx, s.clock(), "card_chip_read", pid, cardID)
	ev.Purpose = "card personalisation"
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
		return nil, nil, nil, err
	}
	groups = map[int][]byte{1: dg1, 13: dg13}
	for n, g := range map[int][]byte{2: dg2, 14: dg14, 15: dg15} {
		if len(g) > 0 {
			groups[n] = g
		}
	}
	return sod, COM(slices.Collect(maps.Keys(groups))...), groups, nil
}

// PassiveAuthResult is the answer of passive authentication to a relying party.
type PassiveAuthResult struct {
	Valid      bool                 `json:"valid" doc:"Every check passed and the card is active"`
	Failed     []string             `json:"failed" doc:"Why the answer is not valid, as stable codes: the code of each failed check, then card_status:STATUS when the card is not active (card_status:unknown when no card of ours has this SOD); empty when valid"`
	Checks     []Check              `json:"checks"`
	CardStatus string               `json:"card_status,omitempty" enum:"active,lost,revoked,expired,superseded,unknown"`
	Registry   *registry.Comparison `json:"registry,omitempty" doc:"Asked for: whether the chip's name, date of birth and sex agree with the registry now, per field (no data)"`
	Checked    int64                `json:"iat"`
	Signature  string               `json:"signature,omitempty" doc:"This answer (without signature) as a compact JWS, ES256; keys at /.well-known/dancu-document-keys"`
}

// VerifyOptions ask passive authentication for more than the chip's
// authenticity.
type VerifyOptions struct {
	// CompareRegistry compares the chip's name, date of birth and sex with
	// the registry now (a member agency with the verify service only).
	CompareRegistry bool
	// Purpose is the declared purpose of the comparison.
	Purpose string
	// COM is EF.COM as read, when the reader sent it: it must list the
	// data groups the SOD hashes.
	COM []byte
	// AA is an Active Authentication the reader did with a challenge the
	// caller chose: checked against DG15 (check active_authentication).
	AA *AAProof
	// CA is a Chip Authentication the reader did: checked against DG14
	// (check chip_authentication).
	CA *CAProof
}

// chipClaims are the name, date of birth and sex the chip states: from
// DG13 when it was sent and is authentic, else from the MRZ in DG1.
func chipClaims(groups map[int][]byte, checks []Check) (registry.Claims, bool) {
	ok := func(n int) bool {
		return len(groups[n]) > 0 && slices.ContainsFunc(checks, func(c Check) bool { return c.Name == fmt.Sprintf("dg%d", n) && c.OK })
	}
	var c registry.Claims
	if ok(13) {
		fields, err := ParseDG13(groups[13])
		if err == nil {
			for _, f := range fields {
				switch f.N {
				case 2:
					c.Name = f.Value
				case 3:
					if d, err := time.Parse("02/01/2006", f.Value); err == nil {
						c.BirthDate = d.Format(time.DateOnly)
					}
				case 4:
					c.Sex = map[string]string{"Nam": "male", "Nữ": "female"}[f.Value]
				}
			}
			return c, c != registry.Claims{}
		}
	}
	if ok(1) {
		lines, err := ParseDG1(groups[1])
		if err != nil {
			return c, false
		}
		m, err := ParseMRZ(lines)
		if err != nil {
			return c, false
		}
		return registry.Claims{Name: joinNames(m.Surname, m.Given), BirthDate: m.BirthDate, Sex: m.Sex}, true
	}
	return c, false
}

// Verify is passive authentication for a relying party (a bank, a
// hospital): what the chip holds is checked against our CSCA, and the card
// against the registry's card status; optionally the chip's data against
// the registry. The answer holds nothing beyond what the caller sent. The
// check is recorded as an access to the person.
func (s *Service) Verify(ctx context.Context, sod []byte, groups map[int][]byte, opts VerifyOptions) (PassiveAuthResult, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return PassiveAuthResult{}, errs.E(errs.Unauthenticated, "authenticate first")
	}
	if opts.CompareRegistry {
		if _, err := access.Require(ctx, access.VerifyCitizen); err != nil {
			return PassiveAuthResult{}, errs.E(errs.Forbidden, "comparing a chip with the registry is for member agencies with the verify service")
		}
	}
	cscas, err := s.pki.CSCACertificates(ctx)
	if err != nil {
		return PassiveAuthResult{}, err
	}
	now := s.clock()
	checks, signer := PassiveAuth(sod, groups, cscas, now)
	if opts.COM != nil {
		checks = append(checks, CheckCOM(opts.COM, sod))
	}
	if opts.AA != nil {
		checks = append(checks, ActiveAuth(groups, *opts.AA))
	}
	if opts.CA != nil {
		checks = append(checks, ChipAuth(groups, *opts.CA))
	}
	out := PassiveAuthResult{Checks: checks, CardStatus: "unknown"}
	sum := sha256.Sum256(sod)
	var pid, status, expires string
	var made time.Time
	err = s.db.QueryRowContext(ctx, `SELECT pid, status, expires_on, created_at FROM card WHERE sod_sha256 = $1`, hex.EncodeToString(sum[:])).
		Scan(&pid, &status, &expires, &made)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return PassiveAuthResult{}, err
	}
	known := err == nil
	if signer != nil {
		// A revoked Document Signer: what it signed before its revocation
		// (a card we produced then) stands; anything else it signed —
		// after the revocation, or a SOD we never produced — does not.
		at, ok, err := s.pki.RevokedAt(ctx, fmt.Sprintf("%x", signer.SerialNumber))
		if err != nil {
			return PassiveAuthResult{}, err
		}
		if ok {
			before := known && made.Before(at)
			detail := "the document signer was revoked on " + at.Format(time.DateOnly) + "; this card was signed before"
			if !before {
				detail = "signed by a document signer revoked on " + at.Format(time.DateOnly) + ", not before its revocation"
			}
			c := Check{Name: "revocation", OK: before, Detail: detail}
			if !before {
				c.Code = CodeDSRevoked
			}
			out.Checks = append(out.Checks, c)
		} else {
			out.Checks = append(out.Checks, Check{Name: "revocation", OK: true})
		}
		checks = out.Checks
	}
	err = nil
	if !known {
		err = sql.ErrNoRows
	}
	if err == nil {
		out.CardStatus = status
		if status == "active" && expires != "" && expires < now.In(ict).Format(time.DateOnly) {
			out.CardStatus = "expired"
		}
		ev := audit.NewEvent(ctx, now, "card_verify", pid, fmt.Sprintf("passive authentication by %s: %s", a.Name, out.CardStatus))
		if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
			return PassiveAuthResult{}, err
		}
	}
	if opts.CompareRegistry {
		if claims, ok := chipClaims(groups, checks); ok && pid != "" {
			purpose := opts.Purpose
			if purpose == "" {
				purpose = "passive authentication"
			}
			cmp, err := s.registry.Compare(ctx, pid, claims, purpose)
			if err != nil {
				return PassiveAuthResult{}, err
			}
			out.Registry = &cmp
		}
	}
	out.Valid = Passed(checks) && out.CardStatus == "active"
	out.Failed = FailedCodes(checks)
	if out.CardStatus != "active" {
		out.Failed = append(out.Failed, "card_status:"+out.CardStatus)
	}
	out.Checked = now.Unix()
	if s.signer != nil {
		key, _, err := s.signer.Current(ctx, now)
		if err != nil {
			return PassiveAuthResult{}, err
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}},
			(&jose.SignerOptions{}).WithType("card-check+jwt"))
		if err != nil {
			return PassiveAuthResult{}, err
		}
		payload, _ := json.Marshal(out)
		obj, err := signer.Sign(payload)
		if err != nil {
			return PassiveAuthResult{}, err
		}
		if out.Signature, err = obj.CompactSerialize(); err != nil {
			return PassiveAuthResult{}, err
		}
	}
	return out, nil
}

// Batch is a production batch.
type Batch struct {
	ID      string   `json:"id"`
	Commune string   `json:"commune"`
	Cards   []Card   `json:"cards"`
	Failed  []string `json:"failed,omitempty" doc:"Applications that could not be produced, with why"`
}

// ProduceBatch produces every approved application of a commune (at most
// limit) as one batch.
func (s *Service) ProduceBatch(ctx context.Context, commune string, limit int) (Batch, error) {
	officer, err := s.policy.RequireIn(ctx, access.WriteCitizen, access.Place{Scheme: adminunit.Scheme2025, Commune: commune})
	if err != nil {
		return Batch{}, err
	}
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM card_application WHERE state = 'approved' AND commune = $1 ORDER BY submitted_at LIMIT $2`, commune, limit)
	if err != nil {
		return Batch{}, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return Batch{}, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	b := Batch{ID: uuid.Must(uuid.NewV7()).String(), Commune: commune, Cards: []Card{}}
	for _, id := range ids {
		c, err := s.Produce(ctx, id)
		if err != nil {
			b.Failed = append(b.Failed, id+": "+err.Error())
			continue
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE card SET batch_id = $1 WHERE id = $2`, b.ID, c.ID); err != nil {
			return b, err
		}
		b.Cards = append(b.Cards, c)
	}
	if len(b.Cards) == 0 {
		return b, nil // nothing produced: no batch to record
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO card_batch (id, commune, cards, created_at, created_by, created_by_name) VALUES ($1, $2, $3, $4, $5, $6)`,
		b.ID, commune, len(b.Cards), s.clock(), officer.ID, officer.Name)
	return b, err
}

// Deliver records that a card was handed to its holder.
func (s *Service) Deliver(ctx context.Context, cardID string) error {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return err
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var pid, app, commune string
		var delivered sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT pid, application_id, commune, delivered_at FROM card WHERE id = $1`, cardID).Scan(&pid, &app, &commune, &delivered)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no card %s", cardID)
		}
		if err != nil {
			return err
		}
		if _, err := s.policy.RequireIn(ctx, access.WriteCitizen, access.Place{Scheme: adminunit.Scheme2025, Commune: commune}); err != nil {
			return err
		}
		if delivered.Valid {
			return errs.E(errs.Conflict, "card %s was delivered already", cardID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE card SET delivered_at = $1 WHERE id = $2`, now, cardID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE card_application SET state = 'delivered' WHERE id = $1`, app); err != nil {
			return err
		}
		if err := cardEvent(ctx, tx, pid, cardID, "delivered", now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "card_delivered", pid, cardID))
	})
}

// UnitCounts is what a commune did with cards.
type UnitCounts struct {
	Commune   string `json:"commune"`
	Received  int    `json:"applications_received"`
	Printed   int    `json:"cards_printed"`
	Delivered int    `json:"cards_delivered"`
}

// Counts gives applications received, cards printed and cards delivered
// per commune of the officer's jurisdiction.
func (s *Service) Counts(ctx context.Context) ([]UnitCounts, error) {
	a, err := access.Require(ctx, access.ReadCitizen)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT commune, SUM(r), SUM(p), SUM(d) FROM (
		SELECT commune, 1 AS r, 0 AS p, 0 AS d FROM card_application
		UNION ALL SELECT commune, 0, 1, CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END FROM card) AS t
		GROUP BY commune ORDER BY commune`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []UnitCounts{}
	for rows.Next() {
		var u UnitCounts
		if err := rows.Scan(&u.Commune, &u.Received, &u.Printed, &u.Delivered); err != nil {
			return nil, err
		}
		if a.Kind != actor.System && !s.policy.Covers(a.Jurisdiction, access.Place{Scheme: adminunit.Scheme2025, Commune: u.Commune}) {
			continue
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
