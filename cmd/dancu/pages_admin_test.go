package main

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// adminPageRows are the rows of the pages' matrix for the admin pages
// (internal/web/admin*.go): administrators only, as the API's operations.
func adminPageRows() map[string]pageRow {
	m := map[string]pageRow{}
	only := []who{admin}
	get := func(path map[string]string, query string) pageRow {
		return pageRow{allow: only, build: pagePlain(pageCall{path: path, query: query})}
	}
	m["GET /console/admin"] = get(nil, "")
	m["GET /console/admin/officers"] = get(nil, "")
	m["GET /console/admin/clients"] = get(nil, "")
	m["GET /console/admin/agencies"] = get(nil, "")
	m["GET /console/admin/pki"] = get(nil, "")
	m["GET /console/admin/audit"] = get(nil, "")
	m["GET /console/admin/officers/{username}/second-factor"] = get(map[string]string{"username": "viewer-a"}, "")
	m["GET /console/admin/subscriptions"] = pageRow{allow: only, build: func(w *world, a who) pageCall {
		return pageCall{query: "sub=" + url.QueryEscape(w.subscription)}
	}}
	m["POST /console/admin/officers"] = pageRow{allow: only, build: func(w *world, a who) pageCall {
		w.seq++
		return pageCall{form: url.Values{"username": {fmt.Sprintf("page-%d", w.seq)}, "display_name": {"Cán bộ mới"}, "role": {"viewer"},
			"level": {"commune"}, "code": {communeA}, "password": {"Pw-page-officer-2026!"}}}
	}}
	m["POST /console/admin/officers/{username}/disabled"] = pageRow{allow: only, build: pagePlain(pageCall{
		path: map[string]string{"username": "viewer-a"}, form: url.Values{"disabled": {"0"}}})}
	// The administrator resets an officer of its own making: resetting
	// viewer-a would end the session the other rows use.
	m["POST /console/admin/officers/{username}/second-factor"] = pageRow{allow: only, build: func(w *world, a who) pageCall {
		user := "viewer-a"
		if a == admin {
			w.seq++
			user = fmt.Sprintf("reset-%d", w.seq)
			w.c(admin).must(201, "POST", "/api/v1/officers", map[string]any{"username": user, "display_name": user, "role": "viewer", "password": "Pw-reset-officer-2026!",
				"jurisdiction": map[string]string{"level": "commune", "code": communeA}})
		}
		return pageCall{path: map[string]string{"username": user}, form: url.Values{"confirm": {"yes"}}}
	}}
	m["GET /console/admin/officers/{username}"] = get(map[string]string{"username": "viewer-a"}, "")
	// A change of name only: viewer-a keeps the session the other rows use.
	m["POST /console/admin/officers/{username}"] = pageRow{allow: only, build: pagePlain(pageCall{
		path: map[string]string{"username": "viewer-a"}, form: url.Values{"display_name": {"Cán bộ xem"}, "role": {"viewer"}, "level": {"commune"}, "code": {communeA}}})}
	m["POST /console/admin/officers/{username}/password"] = pageRow{allow: only, build: func(w *world, a who) pageCall {
		user := "viewer-a"
		if a == admin {
			w.seq++
			user = fmt.Sprintf("pw-%d", w.seq)
			w.c(admin).must(201, "POST", "/api/v1/officers", map[string]any{"username": user, "display_name": user, "role": "viewer", "password": "Pw-first-officer-2026!",
				"jurisdiction": map[string]string{"level": "commune", "code": communeA}})
		}
		return pageCall{path: map[string]string{"username": user}, form: url.Values{"password": {"Pw-second-officer-2026!"}, "password2": {"Pw-second-officer-2026!"}}}
	}}
	// The answer holds the secret, once: no redirect.
	m["POST /console/admin/clients"] = pageRow{allow: only, want: 201, build: func(w *world, a who) pageCall {
		w.seq++
		return pageCall{form: url.Values{"id": {fmt.Sprintf("page-rp-%d", w.seq)}, "name": {"Cổng"}, "type": {"web"}, "redirect_uris": {"https://rp.example/cb"}}}
	}}
	m["POST /console/admin/agencies"] = pageRow{allow: only, build: func(w *world, a who) pageCall {
		w.seq++
		ag := fmt.Sprintf("page-ag-%d", w.seq)
		if a == admin {
			w.c(admin).must(201, "POST", "/api/v1/oidc/clients", map[string]any{"id": ag, "name": ag, "type": "service"})
		}
		return pageCall{form: url.Values{"id": {ag}, "name": {"Sở Xây dựng"}, "kind": {"locality"}, "services": {"verify", "query"},
			"fields": {"name", "birth_date"}, "purposes": {"thống kê\nquy hoạch"}, "rate_per_second": {"20"}}}
	}}
	m["POST /console/admin/agencies/{id}/disabled"] = pageRow{allow: only, build: pagePlain(pageCall{
		path: map[string]string{"id": "sxd"}, form: url.Values{"disabled": {"0"}}})}
	// A dead letter of the ministry's subscription for every call: the
	// administrator's retry takes it out of the list.
	m["POST /console/admin/subscriptions/{id}/retry"] = pageRow{allow: only, build: func(w *world, a who) pageCall {
		w.seq++
		ev := fmt.Sprintf("matrix-dead-%d", w.seq)
		if _, err := w.db.ExecContext(context.Background(), `INSERT INTO delivery (subscription_id, event_id, subject, attempts, next_at, dead, last_error)
			VALUES ($1, $2, 'x', 8, $3, true, 'the receiver answered 500')`, w.subscription, ev, time.Now().UTC()); err != nil {
			w.t.Fatal(err)
		}
		return pageCall{path: map[string]string{"id": w.subscription}, form: url.Values{"event": {ev}}}
	}}
	m["POST /console/admin/audit/verify"] = pageRow{allow: only, want: 200, build: pagePlain(pageCall{})}
	return m
}
