package card_test

import (
	"testing"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/errs"
)

func TestCheckDigit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want byte
	}{
		{"L898902C3", '6'}, // ICAO 9303 specimen passport number
		{"740812", '2'},    // its date of birth
		{"120415", '9'},    // its expiry
		{"090123456", '2'}, // DOMAIN.md's synthetic card
		{"001090123456", '3'},
		{"<<<<<<", '0'},
	} {
		got, err := card.CheckDigit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CheckDigit(%q) = %c, %v; want %c", tt.in, got, err, tt.want)
		}
	}
	if _, err := card.CheckDigit("abc"); err == nil {
		t.Error("lower case accepted")
	}
}

var sample = card.MRZ{PID: "001090123456", BirthDate: "1990-05-17", Sex: "male", Expiry: "2030-05-17", Surname: "Nguyễn", Given: "Văn An"}

// The synthetic example of DOMAIN.md, check digits recomputed there.
var sampleLines = [3]string{
	"IDVNM0901234562001090123456<<3",
	"9005178M3005176VNM<<<<<<<<<<<6",
	"NGUYEN<<VAN<AN<<<<<<<<<<<<<<<<",
}

func TestLines(t *testing.T) {
	got, err := sample.Lines()
	if err != nil || got != sampleLines {
		t.Fatalf("Lines = %q, %v\nwant %q", got, err, sampleLines)
	}
	m := card.MRZ{PID: "079183333444", BirthDate: "1983-11-02", Sex: "female", Surname: "Đặng", Given: "Thị Ngọc Ánh"}
	got, err = m.Lines()
	if err != nil || got[2] != "DANG<<THI<NGOC<ANH<<<<<<<<<<<<" || got[1][8:15] != "<<<<<<0" {
		t.Errorf("a card for life with Đ: %q, %v", got, err)
	}
	long := card.MRZ{PID: "001090123456", BirthDate: "1990-05-17", Sex: "male", Surname: "Tôn Nữ", Given: "Thị Hoàng Phương Thảo Nguyên Anh"}
	if got, err := long.Lines(); err != nil || len(got[2]) != 30 {
		t.Errorf("a long name: %q, %v", got, err)
	}
	for _, tt := range []struct {
		m     card.MRZ
		field string
	}{
		{card.MRZ{PID: "12", BirthDate: "1990-05-17", Sex: "male", Surname: "A"}, "pid"},
		{card.MRZ{PID: "001090123456", BirthDate: "17/05/1990", Sex: "male", Surname: "A"}, "birth_date"},
		{card.MRZ{PID: "001090123456", BirthDate: "1990-05-17", Sex: "x", Surname: "A"}, "sex"},
		{card.MRZ{PID: "001090123456", BirthDate: "1990-05-17", Sex: "male", Surname: "  "}, "surname"},
	} {
		_, err := tt.m.Lines()
		e, ok := err.(*errs.Error)
		if !ok || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
			t.Errorf("%+v: %v, want a field error on %s", tt.m, err, tt.field)
		}
	}
}

func TestParseMRZ(t *testing.T) {
	m, err := card.ParseMRZ(sampleLines)
	if err != nil {
		t.Fatal(err)
	}
	want := card.MRZ{PID: "001090123456", BirthDate: "1990-05-17", Sex: "male", Expiry: "2030-05-17", Surname: "NGUYEN", Given: "VAN AN"}
	if m != want {
		t.Errorf("ParseMRZ = %+v, want %+v", m, want)
	}
	// A person born in the 2000s: the century comes from the number.
	young := card.MRZ{PID: "001203123456", BirthDate: "2003-01-09", Sex: "female", Expiry: "2028-01-09", Surname: "Lê", Given: "Na"}
	lines, _ := young.Lines()
	if got, err := card.ParseMRZ(lines); err != nil || got.BirthDate != "2003-01-09" || got.Expiry != "2028-01-09" {
		t.Errorf("2000s: %+v, %v", got, err)
	}
	// Every check digit and fixed part is checked, and named.
	for _, tt := range []struct {
		line, pos int
		c         byte
		field     string
	}{
		{0, 14, '9', "document_number"},
		{0, 29, '9', "pid"},
		{1, 6, '9', "birth_date"},
		{1, 14, '9', "expiry"},
		{1, 29, '9', "composite"},
		{0, 0, 'P', "line1"},
		{1, 7, 'X', "sex"},
		{1, 15, 'U', "nationality"},
		{0, 8, '7', "document_number"}, // a digit of the number, caught by its check digit
	} {
		l := sampleLines
		b := []byte(l[tt.line])
		b[tt.pos] = tt.c
		l[tt.line] = string(b)
		_, err := card.ParseMRZ(l)
		e, ok := err.(*errs.Error)
		if !ok || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
			t.Errorf("line %d position %d changed to %c: %v, want an error on %s", tt.line+1, tt.pos+1, tt.c, err, tt.field)
		}
	}
	short := sampleLines
	short[2] = "NGUYEN"
	if _, err := card.ParseMRZ(short); err == nil {
		t.Error("a short line was accepted")
	}
}

func TestExpiry(t *testing.T) {
	for _, tt := range []struct{ birth, issued, want string }{
		{"1990-05-17", "2020-01-01", "2030-05-17"}, // at 29: until 40
		{"1990-05-17", "2028-05-16", "2030-05-17"}, // two years and a day before 40
		{"1990-05-17", "2028-05-17", "2050-05-17"}, // exactly two years before 40: until 60
		{"1990-05-17", "2028-06-01", "2050-05-17"}, // within two years of 40
		{"1990-05-17", "2030-05-17", "2050-05-17"}, // on the 40th birthday
		{"1990-05-17", "2048-05-16", "2050-05-17"}, // just before 58
		{"1990-05-17", "2048-05-17", ""},           // at 58: for life
		{"1990-05-17", "2055-01-01", ""},           // over 60
		{"2015-03-01", "2021-03-01", "2029-03-01"}, // a child: until 14
		{"2015-03-01", "2027-06-01", "2040-03-01"}, // within two years of 14: until 25
		{"2015-03-01", "2027-02-28", "2029-03-01"}, // two years and a day before 14: until 14
		{"2015-03-01", "2027-03-01", "2040-03-01"}, // exactly two years before 14: until 25
		{"2000-01-10", "2023-01-09", "2025-01-10"}, // two years and a day before 25: until 25
		{"2000-01-10", "2023-01-10", "2040-01-10"}, // exactly two years before 25: until 40
		{"2000-01-10", "2025-01-10", "2040-01-10"}, // on the 25th birthday
		{"1970-06-01", "2028-05-31", "2030-06-01"}, // at 57: until 60
		{"1970-06-01", "2028-06-01", ""},           // at 58, two years before 60: for life
		{"2000-02-29", "2010-01-01", "2014-02-28"}, // born on 29 February
		{"2000-02-29", "2020-01-01", "2025-02-28"},
	} {
		got, err := card.Expiry(tt.birth, tt.issued)
		if err != nil || got != tt.want {
			t.Errorf("Expiry(%s, %s) = %q, %v; want %q", tt.birth, tt.issued, got, err, tt.want)
		}
	}
	if _, err := card.Expiry("2000-01-01", "1999-01-01"); err == nil {
		t.Error("a card issued before birth was accepted")
	}
}

func FuzzParseMRZ(f *testing.F) {
	f.Add(sampleLines[0], sampleLines[1], sampleLines[2])
	f.Add("IDVNM<<<<<<<<<<<<<<<<<<<<<<<<<", "<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<", "<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		m, err := card.ParseMRZ([3]string{a, b, c})
		if err != nil {
			return
		}
		// What parses is a valid card: writing it again gives the same
		// first two lines.
		got, err := m.Lines()
		if err != nil {
			t.Fatalf("parsed %+v but cannot write it: %v", m, err)
		}
		if got[0] != a || got[1] != b {
			t.Fatalf("round trip: %q %q, want %q %q", got[0], got[1], a, b)
		}
	})
}
