package vnname

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"   ", ""},
		{"ba dinh", "ba dinh"},
		{"Ba Đình", "ba dinh"},
		{"BA ĐÌNH", "ba dinh"},
		{"  Ba   Đình\t", "ba dinh"},
		{"Ba\u00a0Đình", "ba dinh"},        // no-break space
		{"Ba \u0301 Đình", "ba dinh"},      // a lone mark between spaces
		{"Ba \u3000Đình\u2003", "ba dinh"}, // ideographic and em spaces
		{"Ba Đi\u0300nh", "ba dinh"},       // NFD
		{"Nguyễn Văn Đức", "nguyen van duc"},
		{"NGUYỄN THỊ ĐOAN TRANG", "nguyen thi doan trang"},
		{"Hoà", "hoa"},
		{"Hòa", "hoa"},
		{"Thuỷ", "thuy"},
		{"Thủy", "thuy"},
		{"Quỳnh", "quynh"},
		{"Ðặng", "dang"}, // eth in place of Đ
		{"Phường 05", "phuong 05"},
		{"Bà Rịa–Vũng Tàu", "ba ria–vung tau"},
		{"İstanbul", "istanbul"},
		{"\u212aelvin", "kelvin"}, // Kelvin sign decomposes to K
		{"Ωmega", "ωmega"},
		{"한국", "한국"},
		{"a\xffb", "a\ufffdb"},
		{"ĐĐ đđ", "dd dd"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// vowels lists each Vietnamese vowel letter as its ASCII base and the
// combining marks that make it, before the tone.
var vowels = []struct {
	base  string
	marks string
}{
	{"a", ""}, {"a", "\u0306"}, {"a", "\u0302"}, // a ă â
	{"e", ""}, {"e", "\u0302"}, // e ê
	{"i", ""},
	{"o", ""}, {"o", "\u0302"}, {"o", "\u031b"}, // o ô ơ
	{"u", ""}, {"u", "\u031b"}, // u ư
	{"y", ""},
}

// tones lists no tone and the five tone marks: huyền, sắc, hỏi, ngã, nặng.
var tones = []string{"", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"}

func TestFoldAllVietnameseVowels(t *testing.T) {
	n := 0
	for _, v := range vowels {
		for _, tone := range tones {
			for _, base := range []string{v.base, strings.ToUpper(v.base)} {
				nfd := norm.NFD.String(base + v.marks + tone)
				nfc := norm.NFC.String(nfd)
				if utf8.RuneCountInString(nfc) != 1 {
					t.Fatalf("%q has no precomposed form", nfd)
				}
				for _, in := range []string{nfc, nfd, base + v.marks + tone} {
					if got := Fold(in); got != v.base {
						t.Errorf("Fold(%q) = %q, want %q", in, got, v.base)
					}
					word := "x" + in + "nh"
					if got := Fold(word); got != "x"+v.base+"nh" {
						t.Errorf("Fold(%q) = %q", word, got)
					}
				}
				n++
			}
		}
	}
	if n != 12*6*2 {
		t.Errorf("checked %d letters, want 144", n)
	}
}

func TestFoldASCIIDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = Fold("nguyen van an")
	})
	if allocs != 0 {
		t.Errorf("Fold of a folded ASCII key allocated %v times", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		_ = Fold("Nguyễn Văn An")
	})
	if allocs > 1 {
		t.Errorf("Fold of a Vietnamese name allocated %v times, want at most 1", allocs)
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{
		"", " ", "Ba Đình", "Ba Đi\u0300nh", "NGUYỄN  THỊ\tÁNH", "한국", "ǅ", "ᾼ", "\u0345",
		"a\u0301\u0301", "\xff", "Ðặng", "ℂ", "İ", "ẞ", "\u1100\u1161",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if general := foldUnicode(s); general != got {
			t.Fatalf("Fold(%q) = %q, but the general path gives %q", s, got, general)
		}
		if again := Fold(got); again != got {
			t.Fatalf("Fold(%q) = %q, but Fold of that = %q", s, got, again)
		}
		if !norm.NFC.IsNormalString(got) {
			t.Fatalf("Fold(%q) = %q is not NFC", s, got)
		}
		if strings.ToLower(got) != got {
			t.Fatalf("Fold(%q) = %q has upper case", s, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q is not valid UTF-8", s, got)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Fold(%q) = %q has stray spaces", s, got)
		}
		for _, r := range got {
			if unicode.Is(unicode.Mark, r) {
				t.Fatalf("Fold(%q) = %q has the combining mark %U", s, got, r)
			}
			if r != ' ' && unicode.IsSpace(r) {
				t.Fatalf("Fold(%q) = %q has the space %U", s, got, r)
			}
		}
	})
}

var sink string

func BenchmarkFold(b *testing.B) {
	cases := []struct{ name, in string }{
		{"folded-ascii", "nguyen thi thanh huong"},
		{"ascii", "NGUYEN  Thi Thanh Huong"},
		{"nfc", "Nguyễn Thị Thanh Hương"},
		{"nfd", norm.NFD.String("Nguyễn Thị Thanh Hương")},
		{"general", "Nguyễn Thị Thanh Hương Ωμέγα"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = Fold(c.in)
			}
		})
	}
}
