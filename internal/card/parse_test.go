package card_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/dancu-vn/dancu/internal/card"
)

// TestDataGroupsRoundTrip: what DG1, DG2 and DG13 write, the parsers read
// back; truncated or mistagged groups are refused.
func TestDataGroupsRoundTrip(t *testing.T) {
	lines, err := sample.Lines()
	if err != nil {
		t.Fatal(err)
	}
	dg1 := card.DG1(lines)
	got, err := card.ParseDG1(dg1)
	if err != nil || got != lines {
		t.Fatalf("DG1: %q, %v", got, err)
	}
	face := makeJPEG(30, 40, false)
	dg2, err := card.DG2(face)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := card.ParseDG2(dg2)
	if err != nil || !bytes.Equal(img, face) {
		t.Fatalf("DG2: %q, %v", img, err)
	}
	fields := []card.DG13Field{{1, "001090123456"}, {2, "Nguyễn Văn An"}, {3, "17/05/1990"}, {4, "Nam"}, {9, "Phường Ba Đình, Hà Nội"}, {12, "17/05/2030"}}
	dg13, err := card.DG13(fields)
	if err != nil {
		t.Fatal(err)
	}
	back, err := card.ParseDG13(dg13)
	if err != nil || !slices.Equal(back, fields) {
		t.Fatalf("DG13: %v, %v", back, err)
	}
	for name, bad := range map[string]func() error{
		"DG1 cut":           func() error { _, err := card.ParseDG1(dg1[:len(dg1)-1]); return err },
		"DG1 as DG13":       func() error { _, err := card.ParseDG13(dg1); return err },
		"DG13 cut":          func() error { _, err := card.ParseDG13(dg13[:len(dg13)-2]); return err },
		"DG13 as DG1":       func() error { _, err := card.ParseDG1(dg13); return err },
		"DG2 cut":           func() error { _, _, err := card.ParseDG2(dg2[:40]); return err },
		"DG13 out of order": func() error { _, err := card.ParseDG13(swapFirstTwo(t, dg13)); return err },
	} {
		if bad() == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// swapFirstTwo writes DG13 with its first two entries swapped.
func swapFirstTwo(t *testing.T, dg13 []byte) []byte {
	fields, err := card.ParseDG13(dg13)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := card.DG13(fields[:1])
	one := raw[2:] // entry 1 (a short group: tag and one length byte)
	rest, _ := card.DG13(fields[1:])
	body := append(append([]byte{}, rest[2:]...), one...)
	return append([]byte{0x6D, byte(len(body))}, body...)
}

// FuzzDataGroups: the data group parsers never panic, and what DG13 parses
// writes back to the same bytes.
func FuzzDataGroups(f *testing.F) {
	lines, _ := sample.Lines()
	f.Add(card.DG1(lines))
	dg2, _ := card.DG2(makeJPEG(2, 2, true))
	f.Add(dg2)
	dg13, _ := card.DG13([]card.DG13Field{{1, "001090123456"}, {2, "Trần Thị Bình"}})
	f.Add(dg13)
	f.Add([]byte{0x6D, 0x03, 0x30, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		card.ParseDG1(b)
		card.ParseDG2(b)
		fields, err := card.ParseDG13(b)
		if err != nil {
			return
		}
		again, err := card.DG13(fields)
		if err != nil {
			return // a PrintableString field 1 holding other characters is read but not written
		}
		back, err := card.ParseDG13(again)
		if err != nil || !slices.Equal(back, fields) {
			t.Fatalf("%x: parsed %v, rewritten %x reads %v, %v", b, fields, again, back, err)
		}
	})
}
