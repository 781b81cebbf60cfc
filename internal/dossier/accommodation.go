package dossier

import (
	"golang.org/x/text/unicode/norm"

	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

// MaxGuests is how many guests one accommodation notice may list (a
// hotel's or a hospital's bulk notice).
const MaxGuests = 500

// Guest is one person staying.
type Guest struct {
	PID      string `json:"pid,omitempty" doc:"Personal ID number of a Vietnamese guest"`
	Passport string `json:"passport,omitempty" maxLength:"20" doc:"Passport number of a foreign guest"`
	Name     string `json:"name,omitempty" maxLength:"200" doc:"The guest's full name; for a Vietnamese guest it must be the registry's (case and spacing aside), which is kept"`
	Arrival  string `json:"arrival" doc:"Arrival time, RFC 3339, e.g. 2026-11-23T21:30:00+07:00"`
	Until    string `json:"until" format:"date" doc:"Last day of the stay"`
	Reason   string `json:"reason,omitempty" maxLength:"300"`
}

// AccommodationForm is an accommodation notice (Luật Cư trú 2020 Art. 30):
// a household member, or a hotel's, hospital's or other lodging's
// representative, notifies the commune police of guests.
type AccommodationForm struct {
	Address *registry.Address `json:"address" doc:"The lodging: current commune code and street"`
	Lodging string            `json:"lodging" enum:"household,hotel,hospital,other" doc:"What kind of place"`
	Guests  []Guest           `json:"guests" maxItems:"500"`
}

var passportPattern = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// sameName compares names as people type them: NFC, case and spacing
// ignored, diacritics not.
func sameName(a, b string) bool {
	fold := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(norm.NFC.String(s))), " ") }
	return fold(a) == fold(b)
}

// NoticeDue is when a notice of an arrival must be given: before 23:00 of
// the arrival day, or before 08:00 the next day for an arrival after 23:00.
func NoticeDue(arrival time.Time) time.Time {
	a := arrival.In(vn)
	day := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, vn)
	if a.Hour() >= 23 {
		return day.Add(24*time.Hour + 8*time.Hour)
	}
	return day.Add(23 * time.Hour)
}

type accommodation struct{}

func (accommodation) prepare(ctx context.Context, s *Service, _ registry.Citizen, data json.RawMessage, now time.Time) (string, any, error) {
	var in AccommodationForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	var f errs.Fields
	s.place(&f, "data.address", in.Address, true)
	switch in.Lodging {
	case "household", "hotel", "hospital", "other":
	default:
		f.Add("data.lodging", "must be household, hotel, hospital or other")
	}
	if len(in.Guests) == 0 || len(in.Guests) > MaxGuests {
		f.Add("data.guests", "list 1 to %d guests", MaxGuests)
	}
	seen := map[string]int{}
	for i := range in.Guests {
		g := &in.Guests[i]
		field := fmt.Sprintf("data.guests[%d]", i)
		switch {
		case g.PID != "" && g.Passport != "":
			f.Add(field, "give a personal ID number or a passport number, not both")
		case g.PID != "":
			if _, err := personalid.Parse(g.PID); err != nil {
				f.Add(field+".pid", "%s", err)
			}
		case g.Passport != "":
			g.Passport = strings.ToUpper(strings.TrimSpace(g.Passport))
			if !passportPattern.MatchString(g.Passport) {
				f.Add(field+".passport", "must be 5 to 20 letters and digits")
			}
			if strings.TrimSpace(g.Name) == "" {
				f.Add(field+".name", "is required for a foreign guest")
			}
		default:
			f.Add(field+".pid", "give the guest's personal ID number, or a passport number")
		}
		key := g.PID + "|" + g.Passport
		if j, dup := seen[key]; dup && key != "|" {
			f.Add(field, "is the same person as guest %d", j)
		}
		seen[key] = i
		arrival, err := time.Parse(time.RFC3339, g.Arrival)
		if err != nil {
			f.Add(field+".arrival", "must be a time such as 2026-11-23T21:30:00+07:00")
		} else if arrival.After(now.Add(24 * time.Hour)) {
			f.Add(field+".arrival", "is more than a day ahead: notify when the guest arrives")
		} else if until, ok := date(&f, field+".until", g.Until, true); ok && until.Before(time.Date(arrival.In(vn).Year(), arrival.In(vn).Month(), arrival.In(vn).Day(), 0, 0, 0, 0, time.UTC)) {
			f.Add(field+".until", "is before the arrival")
		}
		if len(g.Reason) > 300 {
			f.Add(field+".reason", "must be at most 300 bytes")
		}
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	// Vietnamese guests must be in the registry, under the name the host
	// gives: the host confirms a guest they know, and learns nothing of a
	// number they do not — an unknown number and a name that differs get
	// one answer. The name kept is the registry's.
	for i := range in.Guests {
		g := &in.Guests[i]
		if g.PID == "" {
			continue
		}
		field := fmt.Sprintf("data.guests[%d].name", i)
		if strings.TrimSpace(g.Name) == "" {
			return "", nil, errs.Field(field, "is required: the guest's full name as on their ID card")
		}
		c, err := s.record(ctx, g.PID, "accommodation notice")
		if errs.Is(err, errs.NotFound) || (err == nil && !sameName(c.Name.Full(), g.Name)) {
			return "", nil, errs.Field(field, "does not match the personal ID number in the national population database")
		}
		if err != nil {
			return "", nil, err
		}
		g.Name = c.Name.Full()
	}
	return in.Address.Commune, in, nil
}

// apply records the guests; there is nothing to approve.
func (accommodation) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in AccommodationForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	late := 0
	for i, g := range in.Guests {
		arrival, _ := time.Parse(time.RFC3339, g.Arrival)
		due := NoticeDue(arrival)
		isLate := d.SubmittedAt.After(due)
		if isLate {
			late++
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO accommodation_notice (dossier_id, guest, pid, passport, name, commune, address, arrival,
			until_date, reason, due, late) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			d.ID, i, g.PID, g.Passport, g.Name, in.Address.Commune, in.Address.Detail, arrival.UTC(), g.Until, g.Reason, due.UTC(), isLate); err != nil {
			return "", err
		}
	}
	msg := fmt.Sprintf("Accommodation notice recorded: %d guest(s) at %s.", len(in.Guests), in.Address.Detail)
	if late > 0 {
		msg += fmt.Sprintf(" %d notified late (due before 23:00 of the arrival day, or 08:00 the next day for a late arrival).", late)
	}
	return msg, nil
}
