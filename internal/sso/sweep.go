package sso

import (
	"context"
	"fmt"
	"time"
)

// Sweep deletes what can no longer be used: authorization requests,
// access and refresh tokens, revocation marks and client-assertion IDs
// past their expiry, and single sign-on sessions a day after they ended or
// expired (with their list of relying parties). Nothing it deletes could
// still be accepted, so it changes no answer; it keeps the tables the size
// of what is live. It reports how many rows went.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	now := s.clock()
	gone := now.Add(-24 * time.Hour)
	var total int64
	for _, q := range []struct {
		sql string
		arg time.Time
	}{
		{`DELETE FROM oidc_auth_request WHERE expires_at < $1`, now},
		{`DELETE FROM oidc_access_token WHERE expires_at < $1`, now},
		{`DELETE FROM oidc_revoked_token WHERE expires_at < $1`, now},
		{`DELETE FROM oidc_refresh_token WHERE expires_at < $1`, now},
		{`DELETE FROM oidc_client_assertion WHERE expires_at < $1`, now},
		{`DELETE FROM oidc_session_client WHERE sid IN (SELECT sid FROM oidc_session WHERE expires_at < $1 OR ended_at < $1)`, gone},
		{`DELETE FROM oidc_session WHERE expires_at < $1 OR ended_at < $1`, gone},
	} {
		res, err := s.db.ExecContext(ctx, q.sql, q.arg)
		if err != nil {
			return total, fmt.Errorf("sweep the OpenID provider: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
