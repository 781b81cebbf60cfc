package server

import (
	"context"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/sso"
	"github.com/dancu-vn/dancu/internal/web"
)

// EnsurePortal registers the citizen portal as a relying party of the
// platform's own OpenID provider, like any public-service portal: a web
// client whose secret is derived from the data key and whose addresses
// follow the public URL. Serve calls it at each start.
func (a *App) EnsurePortal(ctx context.Context) error {
	ctx = actor.With(ctx, actor.SystemActor("portal"))
	return a.SSO.EnsureClient(ctx, sso.NewClient{ID: web.PortalClient, Name: "Cổng thông tin công dân (dancu)", Type: "web", MinLevel: 1,
		RedirectURIs: []string{a.publicURL + web.Portal + "/callback"}, LogoutURIs: []string{a.publicURL + web.Portal + "/"},
		Scopes: []string{"profile", "pid", "phone", "email", "address", "offline_access"}}, a.portalSecret)
}
