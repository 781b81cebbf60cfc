package card

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
)

// At a counter the officer proves that the person present holds their
// card: the chip is one we produced, active and the person's (passive
// authentication), and it is in the reader now — it signs a challenge the
// platform chose for this officer a few minutes before (Active
// Authentication, required whenever the chip holds DG15, as every chip we
// produce does). A chip's data can be copied; its Active Authentication
// key cannot, and a recorded answer does not fit a new challenge.

// ChallengeTTL is how long a counter challenge may be answered.
const ChallengeTTL = 5 * time.Minute

// Challenge is a counter challenge for the reader to send to the chip.
type Challenge struct {
	ID        string    `json:"id"`
	Challenge []byte    `json:"challenge" doc:"8 random bytes, base64: send them to the chip (INTERNAL AUTHENTICATE)"`
	ExpiresAt time.Time `json:"expires_at"`
}

// NewChallenge gives the officer a challenge, for ChallengeTTL and one use.
func (s *Service) NewChallenge(ctx context.Context) (Challenge, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return Challenge{}, errs.E(errs.Forbidden, "counter challenges are for officers")
	}
	b := make([]byte, ChallengeSize)
	if _, err := rand.Read(b); err != nil {
		return Challenge{}, err
	}
	now := s.clock()
	c := Challenge{ID: uuid.Must(uuid.NewV7()).String(), Challenge: b, ExpiresAt: now.Add(ChallengeTTL)}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// The expired ones are of no use to anyone.
		if _, err := tx.ExecContext(ctx, `DELETE FROM card_challenge WHERE expires_at < $1`, now.Add(-time.Hour)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO card_challenge (id, officer_id, challenge, expires_at) VALUES ($1, $2, $3, $4)`,
			c.ID, a.ID, b, c.ExpiresAt)
		return err
	})
	return c, err
}

// Presence is what the counter's reader took from the card of the person
// present, with its answer to a challenge of NewChallenge.
type Presence struct {
	ChallengeID string         `json:"challenge_id"`
	SOD         []byte         `json:"sod"`
	Groups      map[int][]byte `json:"-"`
	Signature   []byte         `json:"active_authentication_signature,omitempty"`
}

// Present is what a counter check established.
type Present struct {
	CardID string   `json:"card_id"`
	Checks []string `json:"checks" doc:"The checks that passed: passive_authentication, active_authentication"`
}

// CheckPresence checks that the card of pid is in the counter's reader:
// the challenge is the officer's, unexpired and unused (it is used up
// whatever the outcome), the chip passes passive authentication against
// our CSCA, is active and is pid's card, and signs the challenge with its
// DG15 key. A failure is named at field "card" with the failed checks'
// codes.
func (s *Service) CheckPresence(ctx context.Context, pid string, p Presence) (Present, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return Present{}, errs.E(errs.Forbidden, "counter checks are for officers")
	}
	if len(p.SOD) == 0 {
		return Present{}, errs.Field("card.sod", "is required")
	}
	now := s.clock()
	var challenge []byte
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var officer string
		var expires time.Time
		var used sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT officer_id, challenge, expires_at, used_at FROM card_challenge WHERE id = $1`, p.ChallengeID).
			Scan(&officer, &challenge, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && officer != a.ID) {
			return errs.Field("card.challenge_id", "is not a challenge given to you: ask for a new one")
		}
		if err != nil {
			return err
		}
		if used.Valid {
			return errs.Field("card.challenge_id", "was used already: ask for a new one")
		}
		if !now.Before(expires) {
			return errs.Field("card.challenge_id", "has expired: ask for a new one")
		}
		res, err := tx.ExecContext(ctx, `UPDATE card_challenge SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, now, p.ChallengeID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.Field("card.challenge_id", "was used already: ask for a new one")
		}
		return nil
	})
	if err != nil {
		return Present{}, err
	}
	info, err := ParseSOD(p.SOD)
	if err != nil {
		return Present{}, errs.Field("card.sod", "is not an EF.SOD: %s", err)
	}
	opts := VerifyOptions{}
	checks := []string{"passive_authentication"}
	if slices.Contains(info.DataGroups, 15) {
		// The chip can answer: it must.
		opts.AA = &AAProof{Challenge: challenge, Signature: p.Signature}
		checks = append(checks, "active_authentication")
	}
	res, err := s.Verify(ctx, p.SOD, p.Groups, opts)
	if err != nil {
		return Present{}, err
	}
	if !res.Valid {
		return Present{}, errs.Field("card", "does not pass the counter check: %s", strings.Join(res.Failed, ", "))
	}
	sum := sha256.Sum256(p.SOD)
	var id, holder string
	if err := s.db.QueryRowContext(ctx, `SELECT id, pid FROM card WHERE sod_sha256 = $1`, hex.EncodeToString(sum[:])).Scan(&id, &holder); err != nil {
		return Present{}, err
	}
	if holder != pid {
		return Present{}, errs.Field("card", "is not this person's card")
	}
	return Present{CardID: id, Checks: checks}, nil
}
