package exchange

import (
	"bytes"
	"unicode/utf8"

	"github.com/dancu-vn/dancu/internal/registry"
)

// parseItemFast reads the common shape of a batch line,
// {"pid":"…","claims":{"name":"…","birth_date":"…","sex":"…","phone":"…"}},
// without reflection: keys exactly as written here, string values without
// escapes, valid UTF-8. It reports false for anything else (escapes, other
// spellings of the keys, nulls, numbers, duplicate keys, extra text), and
// the caller then decodes the line with encoding/json, which gives the
// standard answer and error. FuzzParseItemFast checks that whatever it
// accepts, encoding/json reads the same.
func parseItemFast(b []byte) (registry.BatchItem, bool) {
	var it registry.BatchItem
	p := &scan{b: b}
	if !p.byte('{') {
		return it, false
	}
	var seen uint8
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return it, false
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return it, false
		}
		switch string(key) {
		case "pid":
			v, ok := p.str()
			if !ok || seen&1 != 0 {
				return it, false
			}
			seen |= 1
			it.PID = string(v)
		case "claims":
			if seen&2 != 0 || !p.claims(&it.Claims) {
				return it, false
			}
			seen |= 2
		default:
			return it, false
		}
	}
	p.space()
	return it, p.i == len(p.b)
}

type scan struct {
	b []byte
	i int
}

func (p *scan) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}

// byte skips space and then c, if c is next.
func (p *scan) byte(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes or control characters, valid UTF-8.
func (p *scan) str() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	end := bytes.IndexByte(p.b[p.i:], '"')
	if end < 0 {
		return nil, false
	}
	s := p.b[p.i : p.i+end]
	for _, c := range s {
		if c == '\\' || c < 0x20 {
			return nil, false
		}
	}
	if !utf8.Valid(s) {
		return nil, false
	}
	p.i += end + 1
	return s, true
}

func (p *scan) claims(c *registry.Claims) bool {
	if !p.byte('{') {
		return false
	}
	var seen uint8
	for first := true; ; first = false {
		if p.byte('}') {
			return true
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		v, ok := p.str()
		if !ok {
			return false
		}
		var bit uint8
		switch string(key) {
		case "name":
			bit, c.Name = 1, string(v)
		case "birth_date":
			bit, c.BirthDate = 2, string(v)
		case "sex":
			bit, c.Sex = 4, string(v)
		case "phone":
			bit, c.Phone = 8, string(v)
		default:
			return false
		}
		if seen&bit != 0 {
			return false // a key twice: encoding/json takes the last, let it
		}
		seen |= bit
	}
}
