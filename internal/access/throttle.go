package access

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// The login throttle is the one rule for password guessing, for officers
// and citizens alike. There is no lock-out: each failure counts against
// three keys, and a key that has seen too many failures refuses, for a
// time that doubles with each further failure, only attempts that fall
// under it:
//
//   - the account together with the address (a typo-tolerant few tries,
//     then 30 s, 1 min, 2 min … up to 15 min): guessing one account from
//     one place is slow, and it never touches the owner elsewhere;
//   - the address alone (many more, for addresses shared behind a carrier's
//     NAT): spraying many accounts from one place is slow;
//   - the account from addresses it has never logged in from: guessing one
//     account from many places is slow, while the owner, from an address
//     they logged in from before, is not held up by it.
//
// Every key is made from the login name as typed, whether or not such an
// account exists, so unknown and known names behave the same. A try is
// counted before the password is compared, in one locked upsert, so tries
// made together are counted one after the other and no more are compared
// than the rule allows; a correct password takes its own count back.
type ThrottleRule struct {
	Free   int           // failures within Window before the key refuses
	Base   time.Duration // the first refusal; each further failure doubles it
	Max    time.Duration // the longest refusal
	Window time.Duration // a key with no failure for this long starts again
}

// delay is how long a key refuses after n failures.
func (r ThrottleRule) delay(n int) time.Duration {
	if n < r.Free {
		return 0
	}
	d := r.Base
	for i := r.Free; i < n && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// ThrottleRules are the three rules of the login throttle.
type ThrottleRules struct {
	AccountAddress ThrottleRule
	Address        ThrottleRule
	Account        ThrottleRule // from addresses the account never logged in from
	KnownFor       time.Duration
}

// DefaultThrottle is the rule used unless a test gives another.
var DefaultThrottle = ThrottleRules{
	AccountAddress: ThrottleRule{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute, Window: 24 * time.Hour},
	Address:        ThrottleRule{Free: 50, Base: time.Minute, Max: time.Hour, Window: time.Hour},
	Account:        ThrottleRule{Free: 10, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour},
	KnownFor:       90 * 24 * time.Hour,
}

// Throttle counts login failures in the database, so that it holds across
// every process on one store.
type Throttle struct {
	db    *sqldb.DB
	rules ThrottleRules
	now   func() time.Time
	key   []byte
}

// SetKey makes the throttle's keys HMACs under secret. Set it before the
// throttle is used (at start-up): keys made before do not match after.
func (t *Throttle) SetKey(secret []byte) { t.key = secret }

// KeyThrottle keys the officers' login throttle (Throttle.SetKey).
func (s *Service) KeyThrottle(secret []byte) { s.throttle.SetKey(secret) }

// NewThrottle returns the login throttle over db.
func NewThrottle(db *sqldb.DB, rules ThrottleRules, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{db: db, rules: rules, now: now}
}

// Attempt is one counted try, returned by Begin.
type Attempt struct {
	t     *Throttle
	realm string
	name  string
	src   string
	keys  []throttleKey
	// addressOnly: made by BeginAddress.
	addressOnly bool
}

type throttleKey struct {
	key  string
	name string // the hash of realm and name, or of the address for the address key
	rule ThrottleRule
}

// hash makes a key: an HMAC under the deployment's secret when one is set
// (KeyThrottle; serve derives it from the data key), so the table cannot
// be reversed into the numbers that failed even by trying every number;
// SHA-256 otherwise (tests, tools).
func (t *Throttle) hash(parts ...string) string {
	h := sha256.New()
	if t.key != nil {
		h = hmac.New(sha256.New, t.key)
	}
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// securityWrite runs a write the platform's guarantees depend on (a failure
// count, a login record) so that it completes even when the caller has gone
// away: it is not cancelled with the request, only bounded in time.
func securityWrite(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	return fn(ctx)
}

// SecurityWrite is securityWrite for the other services' security writes.
func SecurityWrite(ctx context.Context, fn func(context.Context) error) error {
	return securityWrite(ctx, fn)
}

// Begin counts a try at logging in to name (normalised by the caller) of
// realm ("officer", "eid") from source (an address; may be empty), before
// the password is compared. It returns TooMany, with the time to wait, when
// a key refuses; the refused try is not counted. Any failure to count is
// returned: the caller must not compare the password then.
func (t *Throttle) Begin(ctx context.Context, realm, name, source string) (*Attempt, error) {
	a := &Attempt{t: t, realm: realm, name: name, src: source}
	nameKey := t.hash(realm, "name", name)
	a.keys = append(a.keys, throttleKey{t.hash(realm, "account+address", name, source), nameKey, t.rules.AccountAddress})
	if source != "" {
		a.keys = append(a.keys, throttleKey{t.hash(realm, "address", source), t.hash(realm, "address", source), t.rules.Address})
	}
	err := t.count(ctx, a, "too many failed logins", func(ctx context.Context, tx *sql.Tx, now time.Time) error {
		var seen sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT last_success FROM login_known_source WHERE key = $1`,
			t.hash(realm, "known", name, source)).Scan(&seen)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if !seen.Valid || now.Sub(seen.Time) > t.rules.KnownFor {
			a.keys = append(a.keys, throttleKey{t.hash(realm, "account", name), nameKey, t.rules.Account})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// BeginAddress counts a try of realm from source alone, for checks made
// without an account (a document's code, typed or scanned), where only the
// failures of one address are limited, by the rule Address. Settle it
// with Succeeded when the check found what it looked for: the try's count
// is taken back, and nothing else is forgiven, so interleaving good checks
// does not hide guesses. Without a source nothing is counted.
func (t *Throttle) BeginAddress(ctx context.Context, realm, source string) (*Attempt, error) {
	a := &Attempt{t: t, realm: realm, src: source, addressOnly: true}
	if source == "" {
		return a, nil
	}
	k := t.hash(realm, "address", addressKey(source))
	a.keys = []throttleKey{{k, k, t.rules.Address}}
	if err := t.count(ctx, a, "too many failed checks from this address", nil); err != nil {
		return nil, err
	}
	return a, nil
}

// count counts the try against each key of a (and those more adds, inside
// the transaction), refusing with TooMany, under what, when a key
// refuses; the refused try is not counted.
func (t *Throttle) count(ctx context.Context, a *Attempt, what string, more func(ctx context.Context, tx *sql.Tx, now time.Time) error) error {
	now := t.now().UTC()
	base := a.keys
	var wait time.Duration
	err := securityWrite(ctx, func(ctx context.Context) error {
		return t.db.InTx(ctx, func(tx *sql.Tx) error {
			wait = 0
			a.keys = base
			if more != nil {
				if err := more(ctx, tx, now); err != nil {
					return err
				}
			}
			for _, k := range a.keys {
				var failures int
				var blocked sql.NullTime
				// The upsert locks the key's row: tries made together
				// are counted one after the other.
				err := tx.QueryRowContext(ctx, `INSERT INTO login_throttle (key, name_key, failures, last_failure) VALUES ($1, $4, 1, $2)
					ON CONFLICT (key) DO UPDATE SET
						failures = CASE WHEN login_throttle.last_failure < $3 THEN 1 ELSE login_throttle.failures + 1 END,
						last_failure = excluded.last_failure
					RETURNING failures, blocked_until`, k.key, now, now.Add(-k.rule.Window), k.name).Scan(&failures, &blocked)
				if err != nil {
					return err
				}
				if blocked.Valid && blocked.Time.After(now) && failures > 1 {
					wait = max(wait, blocked.Time.Sub(now))
					continue
				}
				var until any
				if d := k.rule.delay(failures); d > 0 {
					until = now.Add(d)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET blocked_until = $1 WHERE key = $2`, until, k.key); err != nil {
					return err
				}
			}
			if wait > 0 {
				return errRefusedTry
			}
			return nil
		})
	})
	if errors.Is(err, errRefusedTry) {
		wait = wait.Round(time.Second) + time.Second
		return errs.Later(wait, errs.TooMany, "%s: try again in %s", what, wait)
	}
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// errRefusedTry rolls back the count of a refused try.
var errRefusedTry = errors.New("refused try")

// Succeeded takes back the try's count after a correct password: the
// account-and-address key starts again, the others lose this try, and the
// address becomes one the account is known to log in from.
func (a *Attempt) Succeeded(ctx context.Context) error {
	now := a.t.now().UTC()
	return securityWrite(ctx, func(ctx context.Context) error {
		return a.t.db.InTx(ctx, func(tx *sql.Tx) error {
			for i, k := range a.keys {
				if i == 0 && !a.addressOnly {
					if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE key = $1`, k.key); err != nil {
						return err
					}
					continue
				}
				var failures int
				err := tx.QueryRowContext(ctx, `UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0
					RETURNING failures`, k.key).Scan(&failures)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return err
				}
				if k.rule.delay(failures) == 0 {
					if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET blocked_until = NULL WHERE key = $1`, k.key); err != nil {
						return err
					}
				}
			}
			if a.addressOnly {
				return nil
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO login_known_source (key, last_success) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET last_success = excluded.last_success`, a.t.hash(a.realm, "known", a.name, a.src), now)
			return err
		})
	})
}

// Clear forgets the failures counted against name in realm from every
// address (not those of the addresses themselves): a new password set by an
// administrator.
func (t *Throttle) Clear(ctx context.Context, tx *sql.Tx, realm, name string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE name_key = $1`, t.hash(realm, "name", name))
	return err
}

// Sweep deletes keys whose window has passed, so the table stays the size
// of the recent failures.
func (t *Throttle) Sweep(ctx context.Context) error {
	now := t.now().UTC()
	longest := max(t.rules.AccountAddress.Window, t.rules.Address.Window, t.rules.Account.Window)
	if _, err := t.db.ExecContext(ctx, `DELETE FROM login_throttle WHERE last_failure < $1 AND (blocked_until IS NULL OR blocked_until < $2)`,
		now.Add(-longest), now); err != nil {
		return err
	}
	_, err := t.db.ExecContext(ctx, `DELETE FROM login_known_source WHERE last_success < $1`, now.Add(-t.rules.KnownFor))
	return err
}

// SweepThrottle forgets login failures whose windows have passed (the
// officers' and the citizens' alike: they share the table and the rules).
func (s *Service) SweepThrottle(ctx context.Context) error { return s.throttle.Sweep(ctx) }

// addressKey is what an address counts as: an IPv4 address itself, an
// IPv6 address by its /64 (one subscriber's prefix, which a single host
// can fill with addresses at will).
func addressKey(source string) string {
	ip := net.ParseIP(source)
	if ip == nil || ip.To4() != nil {
		return source
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
