package events

import (
	"context"
	"net/netip"
)

// WithLookup makes the service resolve webhook hosts with lookup instead
// of the system's resolver, so that a test can make a name resolve to an
// address of its choosing.
func WithLookup(lookup func(ctx context.Context, host string) ([]netip.Addr, error)) Option {
	return func(s *Service) { s.resolver = lookupFunc(lookup) }
}

type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func (f lookupFunc) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	return f(ctx, host)
}
