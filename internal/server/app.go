package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// App is the set of services over one store, shared by the HTTP server and
// the CLI commands.
type App struct {
	DB       *sqldb.DB
	Units    *adminunit.Catalog
	Codes    *codelist.Lists
	Policy   *access.Policy
	Audit    *audit.Recorder
	Access   *access.Service
	Registry *registry.Service
	Log      *slog.Logger
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
	a.Policy = access.NewPolicy(units)
	a.Audit = audit.NewRecorder(db, log)
	a.Access = access.NewService(db, a.Policy, time.Now)
	a.Registry = registry.NewService(db, units, a.Codes, a.Policy, a.Audit, time.Now)
	return a, nil
}

// Close stops the audit recorder after it has written what is queued, then
// closes the store.
func (a *App) Close() {
	a.Audit.Close()
	a.DB.Close()
}
