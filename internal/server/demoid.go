package server

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sso"
)

// DemoCitizen is a demo e-ID account for the start-up banner.
type DemoCitizen struct {
	PID, Name string
	Level     eid.Level
}

// demoCitizens get active e-ID accounts: the parents of the demo families.
var demoCitizens = []struct {
	pid, phone string
	level      eid.Level
}{
	{"001085012345", "0912000001", eid.Level2},
	{"001188054321", "0912000002", eid.Level1},
	{"079080111222", "0912000003", eid.Level2},
}

// DemoPasscode is the passcode of the demo e-ID accounts.
const DemoPasscode = "240719"

// demoClients are the relying parties of the demo portal page: native
// (public, PKCE) clients whose loopback redirect URIs match any port.
var demoClients = []sso.NewClient{
	{ID: "demo-portal", Name: "Cổng dịch vụ công (demo)", Type: "native", MinLevel: 1,
		RedirectURIs: []string{"http://127.0.0.1/demo/portal/callback", "http://localhost/demo/portal/callback"},
		Scopes:       []string{"profile", "address", "phone", "email", "pid", "offline_access"}},
	{ID: "demo-bank", Name: "Ngân hàng (demo, level 2)", Type: "native", MinLevel: 2,
		RedirectURIs: []string{"http://127.0.0.1/demo/portal/callback", "http://localhost/demo/portal/callback"},
		Scopes:       []string{"profile", "pid"}},
}

var otpPattern = regexp.MustCompile(`code is (\d{6})`)

// LoadDemoIdentity takes the demo citizens through the real e-ID path
// (application, approval, activation with the code from the outbox) and
// registers the demo relying parties, unless done before. It needs
// LoadDemo and OpenIdentity first.
func (a *App) LoadDemoIdentity(ctx context.Context) ([]DemoCitizen, error) {
	ctx = actor.With(ctx, actor.SystemActor("demo"))
	var out []DemoCitizen
	for _, d := range demoCitizens {
		c, err := a.Registry.Get(ctx, d.pid, "demo set-up")
		if err != nil {
			return nil, fmt.Errorf("demo e-ID %s: %w", d.pid, err)
		}
		out = append(out, DemoCitizen{PID: d.pid, Name: c.Name.Full(), Level: d.level})
		if _, err := a.EID.Account(ctx, d.pid); err == nil {
			continue
		} else if !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		face := eid.Biometric{Kind: "face", Format: "image/jpeg", Data: []byte("demo portrait of " + d.pid)}
		var app eid.Application
		if d.level == eid.Level1 {
			app, err = a.EID.ApplySelf(ctx, eid.SelfApplication{PID: d.pid, Name: c.Name.Full(), BirthDate: c.BirthDate, Sex: string(c.Sex),
				Phone: d.phone, Email: "demo." + d.pid + "@example.vn", Face: face})
		} else {
			app, err = a.EID.ApplyAtCounter(ctx, eid.CounterApplication{PID: d.pid, Phone: d.phone, CardStatus: eid.CardValid,
				Biometrics: []eid.Biometric{face, {Kind: "fingerprint", Position: 2, Format: "ISO/IEC 19794-2:2005", Data: []byte("demo template")}}})
		}
		if err != nil {
			return nil, fmt.Errorf("demo e-ID application %s: %w", d.pid, err)
		}
		if _, err := a.EID.Decide(ctx, app.ID, true, ""); err != nil {
			return nil, fmt.Errorf("demo e-ID approval %s: %w", d.pid, err)
		}
		if err := a.EID.StartActivation(ctx, d.pid, d.phone); err != nil {
			return nil, fmt.Errorf("demo e-ID activation %s: %w", d.pid, err)
		}
		msgs, err := a.EID.Messages(ctx, d.phone, 1)
		if err != nil || len(msgs) == 0 || otpPattern.FindStringSubmatch(msgs[0].Body) == nil {
			return nil, fmt.Errorf("demo e-ID activation %s: no code in the outbox (%v)", d.pid, err)
		}
		code := otpPattern.FindStringSubmatch(msgs[0].Body)[1]
		if _, err := a.EID.Activate(ctx, eid.Activation{PID: d.pid, Code: code, Password: DemoPassword, Passcode: DemoPasscode}); err != nil {
			return nil, fmt.Errorf("demo e-ID activation %s: %w", d.pid, err)
		}
	}
	have, err := a.SSO.Clients(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range demoClients {
		if slices.ContainsFunc(have, func(h sso.Client) bool { return h.ID == c.ID }) {
			continue
		}
		if _, _, err := a.SSO.CreateClient(ctx, c); err != nil {
			return nil, fmt.Errorf("demo client %s: %w", c.ID, err)
		}
	}
	a.demoPortal = true
	return out, nil
}
