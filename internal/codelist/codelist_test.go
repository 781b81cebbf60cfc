package codelist

import "testing"

func TestLists(t *testing.T) {
	l := New()
	eth, ok := l.Ethnic(EthnicGSO2008)
	if !ok || len(eth.Entries()) != 54 {
		t.Fatalf("GSO 2008 ethnic list has %d entries, want 54", len(eth.Entries()))
	}
	for code, want := range map[string]string{"01": "Kinh", "06": "Hoa", "43": "Ngái", "54": "Ơ Đu"} {
		if got, _ := eth.Name(code); got != want {
			t.Errorf("ethnicity %s = %q, want %q", code, got, want)
		}
	}
	old, _ := l.Ethnic(EthnicGSO1979)
	if got, _ := old.Name("04"); got != "Hoa" {
		t.Errorf("1979 code 04 = %q, want Hoa (the systems differ)", got)
	}
	if n, ok := l.Nationality.Name("VNM"); !ok || n == "" {
		t.Error("VNM missing from nationalities")
	}
	if l.Nationality.Has("XYZ") || l.BloodType.Has("C") || l.Religion.Has("42") {
		t.Error("unknown code accepted")
	}
	if len(l.Nationality.Entries()) < 240 {
		t.Errorf("only %d nationalities", len(l.Nationality.Entries()))
	}
}
