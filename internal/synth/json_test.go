package synth

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/registry"
)

// TestAppendRecordMatchesJSON holds the hand-written encoder to
// encoding/json: the same bytes for thousands of generated records and for
// records with every field and awkward text, and a decode (unknown fields
// refused) that gives the record back.
func TestAppendRecordMatchesJSON(t *testing.T) {
	recs, _, _ := generate(t, Config{Count: 5000, Seed: 11, DupRate: 0.2})
	odd := "a\"b\\c<d>e&f\u2028g\u2029h\x01\x1f\t\n\r\b\f é Đặng \xff\xfe end"
	full := &registry.LegacyRecord{
		PID: "001090123456", Status: registry.Dead, StatusDate: "2020-01-02",
		Household: &registry.JoinHousehold{HouseholdID: "HH<1>", Relationship: "child"},
		Details: registry.Details{
			Name:                    registry.Name{Family: odd, Middle: "Thị", Given: "Lan"},
			OtherNames:              []string{"Bé", odd},
			BirthDate:               "1990-05-17",
			Sex:                     "male",
			BirthPlace:              &registry.Address{Country: "FRA", Detail: "Paris"},
			BirthRegistrationPlace:  &registry.Address{Scheme: "2022", Province: "01", Commune: "00004", Detail: odd, Text: "x", CurrentCommune: "00004"},
			PlaceOfOrigin:           &registry.Address{},
			Ethnicity:               &registry.Ethnicity{Code: "01", Name: "Kinh"},
			Religion:                "01",
			Nationality:             "VNM",
			BloodType:               "O+",
			OldIDNumber:             "123456789",
			PreviousCards:           []registry.PreviousCard{{Kind: "cmnd9", Number: "123456789", IssuePlace: odd}},
			Father:                  &registry.Relative{PID: "001060123456", Name: odd, OldIDNumber: "111111111", Nationality: "VNM"},
			Mother:                  &registry.Relative{Name: "Mẹ"},
			Spouse:                  &registry.Relative{},
			LegalRepresentative:     &registry.Relative{PID: "001060123457"},
			PermanentResidence:      &registry.Address{Commune: "00004"},
			TemporaryResidence:      &registry.Address{Commune: "00007"},
			TemporaryResidenceUntil: "2027-01-01",
			CurrentResidence:        &registry.Address{Province: "79"},
			TemporaryAbsence:        &registry.Absence{From: "2025-01-01", Destination: &registry.Address{Country: "JPN", Detail: odd}},
			ResidenceFileNumber:     "R-1",
			MaritalStatus:           "married",
			Phone:                   "0912345678",
			Email:                   "a@b.vn",
			Other:                   map[string]string{"z": odd, "a": "1", "<": ">"},
		},
		Basis: registry.Basis{Reason: odd, LegalBasis: "Luật Căn cước 2023", DossierRef: "D-1"},
	}
	recs = append(recs, full, &registry.LegacyRecord{}, &registry.LegacyRecord{Details: registry.Details{OtherNames: []string{}, Other: map[string]string{}}})
	for i, r := range recs {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got := appendRecord(nil, r)
		if !bytes.Equal(got, want) {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got, want)
		}
		if i < len(recs)-3 { // the generated records, which hold valid UTF-8 and no empty slices
			dec := json.NewDecoder(bytes.NewReader(got))
			dec.DisallowUnknownFields()
			var back registry.LegacyRecord
			if err := dec.Decode(&back); err != nil {
				t.Fatalf("record %d does not decode: %v", i, err)
			}
			if !reflect.DeepEqual(&back, r) {
				t.Fatalf("record %d decodes to\n%+v\nwant\n%+v", i, back, *r)
			}
		}
	}
}

func TestWriterJSONLines(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, JSONL)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, _ := generate(t, Config{Count: 50, Seed: 5})
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("%d lines for %d records", len(lines), len(recs))
	}
	for i, l := range lines {
		want, _ := json.Marshal(recs[i])
		if l != string(want) {
			t.Fatalf("line %d: %s, want %s", i, l, want)
		}
	}
	if _, err := NewWriter(&buf, "xml"); err == nil {
		t.Error("format xml accepted")
	}
}
