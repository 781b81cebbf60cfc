package events_test

import (
	"time"

	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// newService is the event service of the tests, whose receivers are
// httptest servers on the loopback interface: an operator's allow list.
func newService(db *sqldb.DB, sealer keyring.Sealer, ring *keyring.Ring, now func() time.Time, opts ...events.Option) *events.Service {
	return events.NewService(db, sealer, ring, now, append([]events.Option{events.AllowHosts("127.0.0.1")}, opts...)...)
}
