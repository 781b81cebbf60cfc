package synth

import (
	"fmt"
	"strconv"

	"github.com/dancu-vn/dancu/internal/personalid"
)

// Personal ID numbers are unique across the whole output without keeping
// the numbers issued: each prefix (province, century-and-sex digit, year)
// has a counter, and the counter goes through a keyed permutation of
// [0, 1,000,000) to give the 6-digit tail. Tails look random, and a
// permutation never gives the same tail twice for one prefix.

// feistel is a keyed permutation of [0, m*m): a balanced Feistel network
// on the two base-m digits of a number. Every round is invertible, so the
// whole is a bijection on exactly that range, with no cycle walking.
type feistel struct {
	m    uint64
	keys [4]uint64
}

func newFeistel(m, seed uint64) feistel {
	f := feistel{m: m}
	for i := range f.keys {
		f.keys[i] = mix64(seed + uint64(i+1)*0x9e3779b97f4a7c15)
	}
	return f
}

// permute maps k in [0, m*m) to a distinct value in the same range.
func (f *feistel) permute(k uint64) uint64 {
	l, r := k/f.m, k%f.m
	for _, key := range f.keys {
		l, r = r, (l+mix64(r^key)%f.m)%f.m
	}
	return l*f.m + r
}

// mix64 is the SplitMix64 finaliser: a fast, well-spread hash of 64 bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

const tails = 1_000_000 // numbers per prefix

// pidIssuer hands out personal ID numbers, unique for its lifetime. The
// records of the population count up from the bottom of each prefix's
// range and their duplicates down from the top, so that the population a
// seed gives is the same whatever the duplicate rate.
type pidIssuer struct {
	seed     uint64
	up, down []uint32 // by prefix slot: province (0–99) × digit G (0–9) × YY
}

func newPIDIssuer(seed uint64) *pidIssuer {
	return &pidIssuer{seed: seed, up: make([]uint32, 100*10*100), down: make([]uint32, 100*10*100)}
}

// issue returns a new number for a birth registered in province (2 digits,
// the GSO code as personal ID numbers keep it) of a person of the given
// sex born in year; dup draws from the duplicates' end of the range.
func (p *pidIssuer) issue(province string, sex personalid.Sex, year int, dup bool) (string, error) {
	prefix, err := personalid.Prefix("0"+province, sex, year)
	if err != nil {
		return "", err
	}
	prov, _ := strconv.Atoi(prefix[1:3])
	g := int(prefix[3] - '0')
	yy := int(prefix[4]-'0')*10 + int(prefix[5]-'0')
	slot := prov*1000 + g*100 + yy
	if p.up[slot]+p.down[slot] >= tails {
		return "", fmt.Errorf("synth: all %d personal ID numbers with prefix %s are used", tails, prefix)
	}
	var k uint32
	if dup {
		p.down[slot]++
		k = tails - p.down[slot]
	} else {
		k = p.up[slot]
		p.up[slot]++
	}
	f := newFeistel(1000, p.seed^uint64(slot)*0xd6e8feb86659fd93)
	tail := f.permute(uint64(k))
	var b [12]byte
	copy(b[:], prefix)
	for i := 11; i >= 6; i-- {
		b[i] = byte('0' + tail%10)
		tail /= 10
	}
	return string(b[:]), nil
}

// householdIDs numbers households "HH" + 10 digits: a counter through a
// permutation of [0, 10^10), so ids look random but never repeat.
type householdIDs struct {
	f feistel
	n uint64
}

func newHouseholdIDs(seed uint64) *householdIDs {
	return &householdIDs{f: newFeistel(100_000, seed^0x5851f42d4c957f2d)}
}

func (h *householdIDs) next() string {
	v := h.f.permute(h.n)
	h.n++
	var b [12]byte
	b[0], b[1] = 'H', 'H'
	for i := 11; i >= 2; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[:])
}
