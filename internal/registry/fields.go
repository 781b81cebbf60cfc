package registry

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// QueryableFields are the fields of a record a scoped query may name (the
// JSON names of Details, and status).
func QueryableFields() []string {
	return append(detailFields(), "status")
}

// Fields reads only the named fields of a record, for an agency whose
// mandate the caller has checked; the read is recorded with the fields and
// the purpose. Requires citizen:query.
func (s *Service) Fields(ctx context.Context, pidText string, fields []string, purpose string) (map[string]any, error) {
	if _, err := access.Require(ctx, access.QueryCitizen); err != nil {
		return nil, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return nil, errs.Field("pid", "%s", err)
	}
	known := QueryableFields()
	for _, f := range fields {
		if !slices.Contains(known, f) {
			return nil, errs.Field("fields", "%q is not a field of the record", f)
		}
	}
	if !storable(purpose) {
		return nil, errs.Field("purpose", "must be UTF-8 text without NUL characters")
	}
	r, err := loadRecord(ctx, s.db, pid)
	if err != nil {
		return nil, err
	}
	for _, a := range []*Address{r.PermanentResidence, r.TemporaryResidence, r.CurrentResidence} {
		s.describe(a)
	}
	all := map[string]json.RawMessage{}
	b, _ := json.Marshal(r.Details)
	json.Unmarshal(b, &all)
	out := map[string]any{}
	for _, f := range fields {
		if f == "status" {
			out[f] = r.Status
		} else if v, ok := all[f]; ok {
			out[f] = v
		}
	}
	ev := audit.NewEvent(ctx, s.clock(), "query", string(pid), "fields "+strings.Join(fields, ","))
	ev.Purpose = purpose
	if err := s.audit.Record(ctx, ev); err != nil {
		return nil, err
	}
	return out, nil
}
