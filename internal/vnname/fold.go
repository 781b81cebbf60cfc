// Package vnname holds the text rules for matching Vietnamese names, shared by
// the citizen-name search and the administrative-unit search.
package vnname

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold returns the matching key of a name: lower case, without diacritics,
// with đ and Đ as d, and with every run of white space turned into one space
// and none at either end. "  Nguyễn   Văn ĐỨC " folds to "nguyen van duc".
//
// Precomposed (NFC) and decomposed (NFD) spellings, and tone marks placed on
// either vowel ("Hoà", "Hòa"), fold to the same key, because all combining
// marks are stripped after canonical decomposition; the result is the same as
// normalising to NFC first. Ð and ð (the Icelandic eth, which legacy
// encodings and keyboards leave in place of Đ) also fold to d. Invalid UTF-8
// becomes U+FFFD.
//
// The result is in NFC, contains no combining mark, is unchanged by
// strings.ToLower, and Fold(Fold(s)) == Fold(s). A string that is already a
// folded ASCII key is returned as is, without allocating.
func Fold(s string) string {
	switch scan(s) {
	case foldedASCII:
		return s
	case latin:
		return foldLatin(s)
	}
	return foldUnicode(s)
}

// class is what scan learns of a string: which path folds it.
type class int

const (
	foldedASCII class = iota // already a key
	latin                    // ASCII, letters of latinFold, Vietnamese marks and spaces
	other                    // anything else: the general path
)

// scan classifies s in one pass without allocating.
func scan(s string) class {
	c := foldedASCII
	prevSpace := true // a space at the start is not folded
	for i := 0; i < len(s); {
		b := s[i]
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if latinFold(r) == 0 && !isVietMark(r) && !unicode.IsSpace(r) {
				return other
			}
			c = latin
			prevSpace = false
			continue
		}
		i++
		switch asciiClass[b] {
		case asciiOther:
			prevSpace = false
		case asciiSpace:
			if prevSpace || b != ' ' {
				c = latin
			}
			prevSpace = true
		case asciiUpper:
			c = latin
			prevSpace = false
		}
	}
	if prevSpace && len(s) > 0 {
		c = latin
	}
	return c
}

// asciiClass sorts bytes below 0x80 for the hot loops.
var asciiClass = [utf8.RuneSelf]uint8{
	'\t': asciiSpace, '\n': asciiSpace, '\v': asciiSpace, '\f': asciiSpace, '\r': asciiSpace, ' ': asciiSpace,
	'A': asciiUpper, 'B': asciiUpper, 'C': asciiUpper, 'D': asciiUpper, 'E': asciiUpper, 'F': asciiUpper,
	'G': asciiUpper, 'H': asciiUpper, 'I': asciiUpper, 'J': asciiUpper, 'K': asciiUpper, 'L': asciiUpper,
	'M': asciiUpper, 'N': asciiUpper, 'O': asciiUpper, 'P': asciiUpper, 'Q': asciiUpper, 'R': asciiUpper,
	'S': asciiUpper, 'T': asciiUpper, 'U': asciiUpper, 'V': asciiUpper, 'W': asciiUpper, 'X': asciiUpper,
	'Y': asciiUpper, 'Z': asciiUpper,
}

const (
	asciiOther = iota
	asciiSpace
	asciiUpper
)

// isVietMark reports whether r is one of the combining diacritics
// U+0300–U+036F, which include every mark Vietnamese uses.
func isVietMark(r rune) bool { return 0x300 <= r && r <= 0x36f }

// foldLatin folds a string that scan classed as latin: one rune at a time,
// through the latinFold table, with no normalisation pass.
func foldLatin(s string) string {
	var f folder
	f.b.Grow(len(s))
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			i++
			f.ascii(b)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case isVietMark(r):
		case unicode.IsSpace(r):
			f.space = f.b.Len() > 0
		default:
			f.write(latinFold(r))
		}
	}
	return f.b.String()
}

// latinTable holds latinFold's answers for U+00C0–U+024F (Latin-1 letters,
// Latin Extended-A and -B) and U+1E00–U+1EFF (Latin Extended Additional, where
// most precomposed Vietnamese letters live). It is built once from
// foldUnicode, so both paths agree by construction, and never written again.
var latinTable = buildLatinTable()

const (
	latinLo1, latinHi1 = 0x00c0, 0x024f
	latinLo2, latinHi2 = 0x1e00, 0x1eff
)

func buildLatinTable() []rune {
	t := make([]rune, (latinHi1-latinLo1+1)+(latinHi2-latinLo2+1))
	for r := rune(latinLo1); r <= latinHi2; r++ {
		if r == latinHi1+1 {
			r = latinLo2
		}
		out := foldUnicode(string(r))
		if utf8.RuneCountInString(out) == 1 {
			fr, _ := utf8.DecodeRuneInString(out)
			t[latinIndex(r)] = fr
		}
	}
	return t
}

func latinIndex(r rune) int {
	if r <= latinHi1 {
		return int(r - latinLo1)
	}
	return int(r-latinLo2) + (latinHi1 - latinLo1 + 1)
}

// latinFold returns the folded form of the single letter r, or 0 when r is
// outside the table or does not fold to one rune.
func latinFold(r rune) rune {
	if (latinLo1 <= r && r <= latinHi1) || (latinLo2 <= r && r <= latinHi2) {
		return latinTable[latinIndex(r)]
	}
	return 0
}

// folder accumulates the key; space records a pending separator, written only
// before the next kept rune so that no space ends the key.
type folder struct {
	b     strings.Builder
	space bool
}

func foldUnicode(s string) string {
	var f folder
	f.b.Grow(len(s))
	var it norm.Iter
	it.InitString(norm.NFD, s)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, size := utf8.DecodeRune(seg)
			seg = seg[size:]
			f.rune(r)
		}
	}
	out := f.b.String()
	// Stripping marks can leave sequences that NFC composes without one,
	// such as Hangul jamo.
	if !norm.NFC.IsNormalString(out) {
		out = norm.NFC.String(out)
	}
	return out
}

func (f *folder) rune(r rune) {
	if r < utf8.RuneSelf {
		f.ascii(byte(r))
		return
	}
	switch {
	case isVietMark(r):
		return
	case r == 'đ' || r == 'Đ' || r == 'ð' || r == 'Ð':
		f.write('d')
		return
	case unicode.IsSpace(r):
		f.space = f.b.Len() > 0
		return
	case unicode.Is(unicode.Mark, r):
		return
	}
	lr := unicode.ToLower(r)
	if lr != r && lr >= utf8.RuneSelf {
		// A few lower-case letters decompose where their capitals do not
		// (or the other way round); fold their parts instead.
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], lr)
		if d := norm.NFD.Properties(buf[:n]).Decomposition(); len(d) > 0 {
			for len(d) > 0 {
				dr, size := utf8.DecodeRune(d)
				d = d[size:]
				f.rune(dr)
			}
			return
		}
	}
	f.write(lr)
}

func (f *folder) ascii(c byte) {
	switch asciiClass[c] {
	case asciiSpace:
		f.space = f.b.Len() > 0
		return
	case asciiUpper:
		c += 'a' - 'A'
	}
	if f.space {
		f.b.WriteByte(' ')
		f.space = false
	}
	f.b.WriteByte(c)
}

func (f *folder) write(r rune) {
	if f.space {
		f.b.WriteByte(' ')
		f.space = false
	}
	f.b.WriteRune(r)
}
