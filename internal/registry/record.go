// Package registry is the population registry: citizen records with the 26
// fields of Luật Căn cước 2023 Art. 9, personal ID numbers assigned at birth
// registration, households, relations, death and disappearance, and the
// immutable revision history of every record.
package registry

import (
	"time"

	"github.com/dancu-vn/dancu/internal/personalid"
)

// Status is whether a person is alive, dead or missing (field 24).
type Status string

// The statuses.
const (
	Alive   Status = "alive"
	Dead    Status = "dead"
	Missing Status = "missing"
)

// Name is a birth name (field 1) in the order family + middle + given.
// Middle may hold several words ("Thị Ngọc") or none.
type Name struct {
	Family string `json:"family" maxLength:"100" doc:"Family name (họ), e.g. Nguyễn"`
	Middle string `json:"middle,omitempty" maxLength:"100" doc:"Middle name(s) (chữ đệm), e.g. Văn or Thị Ngọc"`
	Given  string `json:"given" maxLength:"100" doc:"Given name (tên), e.g. An"`
}

// Full returns the name as written: family, middle and given, one space apart.
func (n Name) Full() string {
	s := n.Family
	if n.Middle != "" {
		s += " " + n.Middle
	}
	return s + " " + n.Given
}

// Address is a place in Viet Nam as administrative-unit codes plus the
// street detail, or a place abroad. Codes belong to a scheme: "2025" (the
// units since 1 July 2025, the default) or "2022" (before the reform), which
// is how legacy data and places of origin are usually recorded.
type Address struct {
	Country  string `json:"country,omitempty" doc:"ISO 3166-1 alpha-3; empty or VNM for Viet Nam"`
	Scheme   string `json:"scheme,omitempty" enum:"2025,2022" doc:"Administrative-unit scheme of the codes; default 2025"`
	Province string `json:"province,omitempty" doc:"Province code; optional when commune is given"`
	Commune  string `json:"commune,omitempty" doc:"Commune (xã/phường/đặc khu) code, 5 digits"`
	Detail   string `json:"detail,omitempty" maxLength:"300" doc:"House number, street, hamlet; or the place abroad"`
	// Read-only, filled in when a record is read.
	Text           string `json:"text,omitempty" readOnly:"true" doc:"The address written out in full"`
	CurrentCommune string `json:"current_commune,omitempty" readOnly:"true" doc:"For a 2022-scheme commune: the current commune it became"`
}

// Ethnicity is an ethnic-group code with the code system it belongs to
// (field 9).
type Ethnicity struct {
	System string `json:"system,omitempty" doc:"Code system; default gso-1019-2008"`
	Code   string `json:"code" doc:"e.g. 01 Kinh"`
	Name   string `json:"name,omitempty" readOnly:"true"`
}

// PreviousCard is an ID card issued before (fields 13–14).
type PreviousCard struct {
	Kind       string `json:"kind" enum:"cmnd9,cmnd12,cccd,can_cuoc" doc:"Card type"`
	Number     string `json:"number" maxLength:"12"`
	IssueDate  string `json:"issue_date,omitempty" format:"date"`
	IssuePlace string `json:"issue_place,omitempty" maxLength:"200"`
	ValidUntil string `json:"valid_until,omitempty" format:"date"`
}

// Relative is a related person (field 15): by personal ID number when they
// are in the registry, otherwise by name and what else is known.
type Relative struct {
	PID         string `json:"pid,omitempty" doc:"Personal ID number"`
	Name        string `json:"name,omitempty" maxLength:"300"`
	OldIDNumber string `json:"old_id_number,omitempty" doc:"9-digit CMND"`
	Nationality string `json:"nationality,omitempty" doc:"ISO 3166-1 alpha-3"`
}

// Absence is a temporary-absence declaration (field 19).
type Absence struct {
	From        string   `json:"from" format:"date"`
	Until       string   `json:"until,omitempty" format:"date"`
	Destination *Address `json:"destination,omitempty"`
	Reason      string   `json:"reason,omitempty" maxLength:"500"`
}

// Details are the fields of a record that officers enter and correct. The
// field numbers are those of Art. 9; 3 (the number), 15's children, 22–23
// (household) and 24 (death) are kept outside, by their own operations.
type Details struct {
	Name                    Name              `json:"name" doc:"1. Birth name"`
	OtherNames              []string          `json:"other_names,omitempty" maxItems:"10" doc:"2. Other names"`
	BirthDate               string            `json:"birth_date" format:"date" doc:"4. Date of birth, YYYY-MM-DD"`
	Sex                     personalid.Sex    `json:"sex" enum:"male,female" doc:"5. Sex"`
	BirthPlace              *Address          `json:"birth_place,omitempty" doc:"6. Place of birth"`
	BirthRegistrationPlace  *Address          `json:"birth_registration_place,omitempty" doc:"7. Place of birth registration"`
	PlaceOfOrigin           *Address          `json:"place_of_origin,omitempty" doc:"8. Place of origin (quê quán)"`
	Ethnicity               *Ethnicity        `json:"ethnicity,omitempty" doc:"9. Ethnicity"`
	Religion                string            `json:"religion,omitempty" doc:"10. Religion code (00 none)"`
	Nationality             string            `json:"nationality,omitempty" doc:"11. Nationality, ISO 3166-1 alpha-3; default VNM"`
	BloodType               string            `json:"blood_type,omitempty" doc:"12. Blood type: A, B, AB, O, optionally with Rh + or -"`
	OldIDNumber             string            `json:"old_id_number,omitempty" doc:"13. Old 9-digit CMND number"`
	PreviousCards           []PreviousCard    `json:"previous_cards,omitempty" maxItems:"20" doc:"14. Cards issued before"`
	Father                  *Relative         `json:"father,omitempty" doc:"15. Father"`
	Mother                  *Relative         `json:"mother,omitempty" doc:"15. Mother"`
	Spouse                  *Relative         `json:"spouse,omitempty" doc:"15. Spouse"`
	LegalRepresentative     *Relative         `json:"legal_representative,omitempty" doc:"15. Legal representative"`
	PermanentResidence      *Address          `json:"permanent_residence,omitempty" doc:"16. Permanent residence"`
	TemporaryResidence      *Address          `json:"temporary_residence,omitempty" doc:"17. Temporary residence"`
	TemporaryResidenceUntil string            `json:"temporary_residence_until,omitempty" format:"date" doc:"17. End of the temporary-residence period"`
	CurrentResidence        *Address          `json:"current_residence,omitempty" doc:"18. Current place of living"`
	TemporaryAbsence        *Absence          `json:"temporary_absence,omitempty" doc:"19. Temporary-absence declaration"`
	ResidenceFileNumber     string            `json:"residence_file_number,omitempty" maxLength:"50" doc:"20. Residence file number"`
	MaritalStatus           string            `json:"marital_status,omitempty" doc:"21. single, married, divorced or widowed"`
	Phone                   string            `json:"phone,omitempty" doc:"25. Mobile number"`
	Email                   string            `json:"email,omitempty" maxLength:"254" doc:"25. E-mail"`
	Other                   map[string]string `json:"other,omitempty" doc:"26. Other information prescribed by the Government"`
}

// Membership is a person's place in a household (fields 22–23).
type Membership struct {
	HouseholdID  string `json:"household_id"`
	Relationship string `json:"relationship" doc:"Relationship to the household head"`
	HeadPID      string `json:"head_pid,omitempty" readOnly:"true"`
	HeadName     string `json:"head_name,omitempty" readOnly:"true"`
}

// Record is what the store keeps for a citizen.
type Record struct {
	PID        personalid.Number `json:"pid"`
	Version    int64             `json:"version"`
	Status     Status            `json:"status" enum:"alive,dead,missing"`
	StatusDate string            `json:"status_date,omitempty" doc:"24. Date of death or disappearance"`
	Details
	Household *Membership `json:"household,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// Citizen is a record as read: the stored record plus what is derived from
// other records (children, persons represented, household head), with
// addresses and codes written out.
type Citizen struct {
	Record
	FullName    string     `json:"full_name"`
	Children    []Relative `json:"children,omitempty" doc:"15. Children, from the children's records"`
	Represented []Relative `json:"represented,omitempty" doc:"15. Persons this person legally represents"`
}

// Change is one field of a revision: its value before and after.
type Change struct {
	Field  string `json:"field"`
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// Revision is one immutable entry of a record's history.
type Revision struct {
	Version    int64     `json:"version"`
	At         time.Time `json:"at"`
	Action     string    `json:"action"`
	ActorID    string    `json:"actor_id"`
	ActorKind  string    `json:"actor_kind"`
	ActorName  string    `json:"actor_name"`
	Reason     string    `json:"reason"`
	LegalBasis string    `json:"legal_basis,omitempty"`
	DossierRef string    `json:"dossier_ref,omitempty"`
	Changes    []Change  `json:"changes"`
}

// Basis is why a change is made: every change carries a reason, and where
// there is one, its legal basis or the dossier it comes from.
type Basis struct {
	Reason     string `json:"reason,omitempty" maxLength:"1000" doc:"Why the change is made; required for every change after registration"`
	LegalBasis string `json:"legal_basis,omitempty" maxLength:"500" doc:"Legal basis, e.g. Luật Căn cước 2023 Điều 9"`
	DossierRef string `json:"dossier_ref,omitempty" maxLength:"100" doc:"Reference of the dossier the change comes from"`
}
