package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// SectorDocument is what a sector agency sent of a citizen (a social
// insurance book, a driving licence), with its source and date.
type SectorDocument struct {
	Kind       string         `json:"kind"`
	Agency     string         `json:"agency" doc:"The agency that sent it"`
	AgencyName string         `json:"agency_name"`
	ExternalID string         `json:"external_id" doc:"The sector's own number"`
	Dated      string         `json:"dated,omitempty" doc:"The date the sector gives its data"`
	Data       map[string]any `json:"data,omitempty"`
	ReceivedAt time.Time      `json:"received_at"`
}

// MyDocuments lists the sector records tied to the acting citizen, by
// kind and newest first; the read is in the citizen's own access log.
func (s *Service) MyDocuments(ctx context.Context) ([]SectorDocument, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Citizen {
		return nil, errs.E(errs.Forbidden, "a citizen's own documents are the citizen's")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.kind, r.agency, COALESCE(g.name, r.agency), r.external_id, r.dated, r.data, r.received_at
		FROM sector_record r LEFT JOIN agency g ON g.id = r.agency WHERE r.pid = $1 ORDER BY r.kind, r.dated DESC, r.id`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SectorDocument
	for rows.Next() {
		var d SectorDocument
		var data string
		if err := rows.Scan(&d.Kind, &d.Agency, &d.AgencyName, &d.ExternalID, &d.Dated, &data, &d.ReceivedAt); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(data), &d.Data)
		d.ReceivedAt = d.ReceivedAt.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ev := audit.NewEvent(ctx, s.now().UTC(), "sector_read", a.ID, "")
	ev.Purpose = "the citizen's own documents"
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
		return nil, err
	}
	return out, nil
}
