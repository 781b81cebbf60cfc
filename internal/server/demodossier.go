package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/workday"
)

// demoDossiers are residence dossiers the demo citizens submit, so that
// the demo registrar of Ba Đình finds a work queue: a temporary residence
// in Ba Đình of the family from Hồ Chí Minh City, and a temporary absence
// of the Ba Đình father.
var demoDossiers = []struct {
	pid, name, service string
	data               func(today time.Time) any
}{
	{"079080111222", "Võ Văn Hùng", "residence.temporary", func(today time.Time) any {
		return map[string]any{"address": map[string]string{"commune": "00004", "detail": "Số 8 Phố Đội Cấn"},
			"until": today.AddDate(1, 0, 0).Format(time.DateOnly), "lawful_residence": "Hợp đồng thuê nhà số 12/2026"}
	}},
	{"001085012345", "Nguyễn Văn An", "residence.absence", func(today time.Time) any {
		return map[string]any{"from": today.Format(time.DateOnly), "until": today.AddDate(0, 3, 0).Format(time.DateOnly),
			"reason": "Đi công tác dài ngày", "destination": map[string]string{"commune": "26740", "detail": "Đường Lê Lợi 45"}}
	}},
}

// LoadDemoDossiers submits the demo dossiers as their citizens would,
// once: the idempotency key makes a restart find them again.
func (a *App) LoadDemoDossiers(ctx context.Context) error {
	today := workday.InVietnam(time.Now())
	for _, d := range demoDossiers {
		cctx := actor.With(ctx, &actor.Actor{ID: d.pid, Kind: actor.Citizen, Name: d.name})
		data, err := json.Marshal(d.data(today))
		if err != nil {
			return err
		}
		if _, err := a.Dossier.Submit(cctx, d.service, data, "demo-"+d.service); err != nil {
			return fmt.Errorf("demo dossier %s of %s: %w", d.service, d.pid, err)
		}
	}
	return nil
}
