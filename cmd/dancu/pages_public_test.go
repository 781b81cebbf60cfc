package main

import (
	"net/url"
	"strings"
)

// publicPageRows are the rows of the pages' matrix for the public pages
// (internal/web/public.go): open to everybody, signed in or not.
func publicPageRows() map[string]pageRow {
	return map[string]pageRow{
		"GET /verify":  {allow: pageAnyone, build: pagePlain(pageCall{})},
		"POST /verify": {allow: pageAnyone, want: 200, build: pagePlain(pageCall{form: url.Values{"document": {"not.a.document"}}})},
		"GET /v/{code}": {allow: pageAnyone, build: func(w *world, a who) pageCall {
			var doc struct {
				ShortURL string `json:"short_url"`
			}
			w.c(subject).must(200, "GET", "/api/v1/dossiers/"+w.result+"/result", nil).json(w.t, &doc)
			return pageCall{path: map[string]string{"code": doc.ShortURL[strings.LastIndex(doc.ShortURL, "/")+1:]}}
		}},
		"GET /catalog": {allow: pageAnyone, build: pagePlain(pageCall{})},
	}
}
