package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseWaitsForBackground: Close stops the background work and waits
// for it to finish its last write before it closes the store.
func TestCloseWaitsForBackground(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.DB = "sqlite:" + filepath.Join(t.TempDir(), "dancu.db")
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var wrote atomic.Bool
	var lastErr atomic.Value
	a.Go(ctx, func(ctx context.Context) {
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // a last transaction, as the sealer's
		_, err := a.DB.ExecContext(context.WithoutCancel(ctx), `DELETE FROM schema_migration WHERE 1 = 0`)
		if err != nil {
			lastErr.Store(err)
		}
		wrote.Store(true)
	})
	a.Close()
	if !wrote.Load() {
		t.Fatal("Close returned before the background work ended")
	}
	if err := lastErr.Load(); err != nil {
		t.Fatalf("the background work's last write: %v", err)
	}
}
