package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/exchange"
	"github.com/dancu-vn/dancu/internal/indicator"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sso"
	"github.com/dancu-vn/dancu/internal/workday"
)

// App is the set of services over one store, shared by the HTTP server and
// the CLI commands.
type App struct {
	DB         *sqldb.DB
	Units      *adminunit.Catalog
	Codes      *codelist.Lists
	Policy     *access.Policy
	Audit      *audit.Recorder
	Access     *access.Service
	Registry   *registry.Service
	EID        *eid.Service
	SSO        *sso.Service
	Dossier    *dossier.Service
	Chain      *audit.Chain
	Exchange   *exchange.Service
	Events     *events.Service
	PKI        *pki.Store
	Cards      *card.Service
	Indicators *indicator.Service
	Calendar   *workday.Calendar
	Log        *slog.Logger

	demoPortal bool   // serve the demo relying party (--demo)
	publicURL  string // the public base URL (Config.PublicURL)
	// The citizen portal's client secret at the OpenID provider and the
	// sealer of its session cookies, both derived from the data key.
	portalSecret string
	cookieSealer *eid.Sealer

	// Witnesses keep the audit checkpoints outside the database
	// (OpenWitnesses); the sealer copies each new one to them.
	Witnesses []audit.Witness

	// The background work (Go): Close stops it and waits for it before
	// it closes the store.
	bg     sync.WaitGroup
	bgCtx  context.Context
	bgStop context.CancelFunc
}

// Go runs fn in the background with a context that ends with ctx or when
// the app is closed; Close waits for fn to return before it closes the
// store, so no background work (sealing the access log, delivering
// events) is cut off in the middle of a transaction.
func (a *App) Go(ctx context.Context, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(a.bgCtx, cancel)
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		defer stop()
		defer cancel()
		fn(ctx)
	}()
}

// Open opens the store, brings its schema up to date (refusing a schema
// newer than this binary), builds any index an interrupted bulk load
// deferred, and builds the services.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	db, err := sqldb.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "db", db.URL(), "applied", applied, "version", sqldb.LatestVersion())
	}
	if !cfg.BulkLoad {
		// A bulk load that was interrupted left search indexes to build.
		err := db.RestoreIndexes(ctx, func(name string, took time.Duration) {
			log.Info("built an index an interrupted import had deferred", "index", name, "took", took.Round(time.Millisecond))
		})
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	units, err := adminunit.Load()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load administrative units: %w", err)
	}
	a := &App{DB: db, Units: units, Codes: codelist.New(), Log: log}
	a.bgCtx, a.bgStop = context.WithCancel(context.Background())
	a.Policy = access.NewPolicy(units)
	a.Audit = audit.NewRecorder(db, log)
	a.Access = access.NewService(db, a.Policy, time.Now)
	a.Registry = registry.NewService(db, units, a.Codes, a.Policy, a.Audit, time.Now)
	return a, nil
}

// Close stops the work in the background and waits for it, in order:
// the batch jobs (marked failed: submit again), then what Go started (the
// sealer, event delivery), then the audit recorder after it has written
// what is queued; then it closes the store. The HTTP server is shut down
// before: nothing new starts.
func (a *App) Close() {
	if a.Exchange != nil {
		a.Exchange.Close()
	}
	a.bgStop()
	a.bg.Wait()
	for _, w := range a.Witnesses {
		if n, ok := w.(*audit.NATSWitness); ok {
			n.Close()
		}
	}
	a.Audit.Close()
	a.DB.Close()
}

// offlineIssuer names the OpenID provider of a command that serves
// nothing; no token is ever issued under it.
const offlineIssuer = "http://localhost"

// OpenIdentity builds the working-day calendar, the e-ID service, the
// OpenID provider and the public-service dossiers, which need the data key;
// the server calls it, commands that only touch the registry do not.
func (a *App) OpenIdentity(cfg Config) error {
	a.publicURL = cfg.PublicURL // set by serve; the other commands serve no links
	a.Calendar = workday.Vietnam()
	if cfg.HolidaysFile != "" {
		f, err := os.Open(cfg.HolidaysFile)
		if err != nil {
			return fmt.Errorf("holidays file: %w", err)
		}
		defer f.Close()
		ov, err := workday.ParseOverrides(f)
		if err != nil {
			return fmt.Errorf("holidays file %s: %w", cfg.HolidaysFile, err)
		}
		a.Calendar = a.Calendar.With(ov...)
	}
	key, err := cfg.dataKey(a.Log)
	if err != nil {
		return err
	}
	sealer, err := eid.NewSealer(key)
	if err != nil {
		return err
	}
	a.EID = eid.NewService(a.DB, a.Registry, a.Policy, a.Calendar, nil, sealer, time.Now)
	a.EID.SetAnswerFloor(AnonymousAnswerFloor)
	// The login throttle's keys are HMACs under a secret of the deployment,
	// so its table cannot be turned back into the numbers that failed.
	tk := hmac.New(sha256.New, key)
	tk.Write([]byte("dancu login throttle keys"))
	a.Access.KeyThrottle(tk.Sum(nil))
	a.EID.KeyThrottle(tk.Sum(nil))
	a.Access.SetSealer(sealer)
	// The portal's cookies are sealed under a key of their own: the
	// internet can make the portal seal at will, so it must not spend the
	// data key's nonces nor widen what a break of it opens.
	ck := hmac.New(sha256.New, key)
	ck.Write([]byte("dancu citizen portal cookies"))
	if a.cookieSealer, err = eid.NewSealer(ck.Sum(nil)); err != nil {
		return err
	}
	ps := hmac.New(sha256.New, key)
	ps.Write([]byte("dancu citizen portal client secret"))
	a.portalSecret = base64.RawURLEncoding.EncodeToString(ps.Sum(nil))
	a.Dossier = dossier.NewService(a.DB, a.Registry, a.Policy, a.Calendar, nil, sealer, time.Now)
	a.Dossier.SetConfirmer(a.EID)
	checks := access.NewThrottle(a.DB, access.ThrottleRules{Address: dossier.CheckRule}, time.Now)
	checks.SetKey(tk.Sum(nil))
	a.Dossier.LimitChecks(checks)
	a.Chain = audit.NewChain(a.DB, sealer, cfg.AuditOrigin, time.Now)
	a.Exchange = exchange.NewService(a.DB, a.Registry, a.Dossier.Signer(), time.Now)
	a.Events = events.NewService(a.DB, sealer, a.Dossier.Signer(), time.Now, events.AllowHosts(cfg.WebhookAllowHosts...))
	a.PKI = pki.NewStore(a.DB, sealer)
	a.Cards = card.NewService(a.DB, a.Registry, a.PKI, a.Policy, sealer, a.Dossier.Signer(), time.Now)
	a.EID.SetCards(a.Cards)
	a.Indicators = indicator.NewService(a.DB, a.Units, a.Policy, time.Now, a.Registry, a.EID, a.Cards, a.Dossier)
	issuer := cfg.PublicURL
	if issuer == "" {
		// Only serve issues tokens, and it always sets the public URL; the
		// other commands (dancu client) only manage clients and keys.
		issuer = offlineIssuer
	}
	a.SSO, err = sso.New(a.DB, a.EID, a.Registry, sso.Config{Issuer: issuer, DataKey: key, Insecure: !strings.HasPrefix(issuer, "https://"),
		SessionIdle: cfg.SSOSessionIdle, SessionMax: cfg.SSOSessionMax}, a.Log, time.Now)
	return err
}

// OpenWitnesses opens the outside copies of the audit checkpoints that cfg
// names: a directory, NATS JetStream, both or none.
func (a *App) OpenWitnesses(ctx context.Context, cfg Config) error {
	if cfg.AuditCheckpointDir != "" {
		w, err := audit.NewDirWitness(cfg.AuditCheckpointDir)
		if err != nil {
			return err
		}
		a.Witnesses = append(a.Witnesses, w)
	}
	if cfg.AuditNATSURL != "" {
		w, err := audit.NewNATSWitness(ctx, cfg.AuditNATSURL, "DANCU_AUDIT", "dancu.audit.checkpoint")
		if err != nil {
			return err
		}
		a.Witnesses = append(a.Witnesses, w)
	}
	return nil
}

// OpenAudit builds the verifiable access log alone, for the audit
// commands: its note key is sealed with the data key, and it needs nothing
// else.
func (a *App) OpenAudit(cfg Config) error {
	key, err := cfg.dataKey(a.Log)
	if err != nil {
		return err
	}
	sealer, err := eid.NewSealer(key)
	if err != nil {
		return err
	}
	a.Chain = audit.NewChain(a.DB, sealer, cfg.AuditOrigin, time.Now)
	return nil
}

// AnonymousAnswerFloor is how long anonymous e-ID applications and
// activation-code requests take at least, accepted or refused: longer than
// an acceptance takes on a loaded store, so both look alike.
const AnonymousAnswerFloor = 150 * time.Millisecond

// RunMessages hands queued messages to the gateway every interval until
// ctx ends.
func (a *App) RunMessages(ctx context.Context, gw eid.Gateway, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := a.EID.DeliverMessages(ctx, gw, 100); err != nil && ctx.Err() == nil {
			a.Log.Error("hand messages to the gateway", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunSealer seals the access log into its Merkle tree every interval until
// ctx ends (a signed checkpoint with every batch), copies the new
// checkpoints to the witnesses, and marks failed the batch jobs that
// stopped making progress.
func (a *App) RunSealer(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var swept time.Time
	for {
		if time.Since(swept) > 10*time.Minute {
			if err := a.Access.SweepThrottle(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("forget old login failures", "err", err)
			}
			if a.SSO != nil {
				if _, err := a.SSO.Sweep(ctx); err != nil && ctx.Err() == nil {
					a.Log.Error("sweep the OpenID provider", "err", err)
				}
			}
			if a.PKI != nil {
				// The Document Signer before its usage period ends, the CRL
				// before its next update.
				m, err := a.PKI.Maintain(ctx, time.Now())
				switch {
				case err != nil && ctx.Err() == nil:
					a.Log.Error("maintain the chip-card PKI", "err", err)
				case m.RotatedDS != nil:
					a.Log.Info("new document signer", "serial", fmt.Sprintf("%x", m.RotatedDS.SerialNumber))
				case m.CRLNumber != 0:
					a.Log.Info("new CRL", "number", m.CRLNumber, "next_update", m.NextUpdate)
				}
			}
			swept = time.Now()
		}
		n, err := a.Chain.Seal(ctx, 0)
		if err != nil && ctx.Err() == nil {
			a.Log.Error("seal the access log", "err", err)
		} else if n > 0 {
			a.Log.Debug("access log sealed", "events", n)
		}
		// A refused publication (the log does not extend what a witness
		// holds) is an alarm, not a hiccup: it says the database was
		// rewritten.
		if err := a.Chain.Publish(ctx, a.Witnesses...); err != nil && ctx.Err() == nil {
			a.Log.Error("copy the audit checkpoints outside the database", "err", err)
		}
		if n, err := a.Exchange.FailStalled(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("look for interrupted batch jobs", "err", err)
		} else if n > 0 {
			a.Log.Warn("batch verification jobs interrupted: marked failed", "jobs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
