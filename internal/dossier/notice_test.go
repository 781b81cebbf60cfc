package dossier

import (
	"strings"
	"testing"
)

// A dossier's notice names its service and state in Vietnamese, then in
// English, with the officer's note.
func TestNoticeInBothLanguages(t *testing.T) {
	d := &Dossier{Code: "HS-20261203-ABC123", Service: "residence.temporary"}
	got := notice(d, InfoRequested, "thiếu hợp đồng thuê nhà")
	vi, en, ok := strings.Cut(got, "\n")
	e, _ := Entry(d.Service)
	if !ok || !strings.Contains(vi, e.NameVI) || !strings.Contains(en, e.NameEN) || !strings.Contains(vi, "HS-20261203-ABC123") ||
		!strings.Contains(vi, "thiếu hợp đồng thuê nhà") || strings.Contains(vi, "info_requested") || strings.Contains(en, "info_requested") {
		t.Errorf("notice = %q", got)
	}
	if got := notice(d, Approved, ""); strings.Contains(got, "Ghi chú") || strings.Count(got, "\n") != 1 {
		t.Errorf("a notice without a note = %q", got)
	}
}
