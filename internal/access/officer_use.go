package access

import (
	"context"
	"fmt"
	"time"
)

// OfficerUse is what the administrators' list shows of an account beyond
// Officer: whether its second factor is turned on and when one of its
// sessions or tokens was last used.
type OfficerUse struct {
	SecondFactor bool       `json:"second_factor"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"`
}

// OfficerUses returns the use of every account by officer ID, for
// administrators.
func (s *Service) OfficerUses(ctx context.Context) (map[string]OfficerUse, error) {
	if _, err := Require(ctx, ManageOfficers); err != nil {
		return nil, err
	}
	out := map[string]OfficerUse{}
	rows, err := s.db.QueryContext(ctx, `SELECT id, totp_enabled FROM officer`)
	if err != nil {
		return nil, fmt.Errorf("officer uses: %w", err)
	}
	for rows.Next() {
		var id string
		var on bool
		if err := rows.Scan(&id, &on); err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = OfficerUse{SecondFactor: on}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT officer_id, last_used_at FROM officer_token WHERE last_used_at IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("officer uses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		u := out[id]
		if u.LastUsedAt == nil || at.After(*u.LastUsedAt) {
			u.LastUsedAt = &at
			out[id] = u
		}
	}
	return out, rows.Err()
}
