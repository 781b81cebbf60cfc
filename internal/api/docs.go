package api

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
)

// The API reference at /api/v1/docs is rendered here from the OpenAPI
// document, on the server and without scripts or anything from elsewhere,
// so it works offline (the viewer huma offers loads its script from a CDN).

// docOp is one operation as the reference shows it.
type docOp struct {
	ID, Method, Path, Summary, Description string
	Params                                 []docParam
	Body                                   *docSchema
	Responses                              []docResponse
}

type docParam struct{ Name, In, Type, Description string }

type docResponse struct {
	Status, Description string
	Schema              *docSchema
}

type docSchema struct {
	Name   string // the component's name, when it is one
	Fields []docField
}

type docField struct{ Name, Type, Description string }

type docTag struct {
	Name string
	Ops  []docOp
}

// openAPIDoc is the part of an OpenAPI 3.1 document the reference reads.
type openAPIDoc struct {
	Info struct {
		Title, Version, Description string
	}
	Paths      map[string]map[string]openAPIOp
	Components struct {
		Schemas map[string]jsonSchema
	}
}

type openAPIOp struct {
	OperationID string `json:"operationId"`
	Summary     string
	Description string
	Tags        []string
	Parameters  []struct {
		Name, In, Description string
		Schema                jsonSchema
	}
	RequestBody *struct {
		Content map[string]struct{ Schema jsonSchema }
	} `json:"requestBody"`
	Responses map[string]struct {
		Description string
		Content     map[string]struct{ Schema jsonSchema }
	}
}

type jsonSchema struct {
	Ref         string `json:"$ref"`
	Type        any
	Format      string
	Description string
	Items       *jsonSchema
	Properties  map[string]jsonSchema
	Required    []string
}

func (s jsonSchema) typeName() string {
	if s.Ref != "" {
		return strings.TrimPrefix(s.Ref, "#/components/schemas/")
	}
	t := ""
	switch v := s.Type.(type) {
	case string:
		t = v
	case []any:
		var parts []string
		for _, p := range v {
			if ps, ok := p.(string); ok && ps != "null" {
				parts = append(parts, ps)
			}
		}
		t = strings.Join(parts, "|")
	}
	if t == "array" && s.Items != nil {
		return s.Items.typeName() + "[]"
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return t
}

// describe is what the reference shows of a schema: a component's fields.
func (d openAPIDoc) describe(s jsonSchema) *docSchema {
	name := ""
	if s.Ref != "" {
		name = strings.TrimPrefix(s.Ref, "#/components/schemas/")
		c, ok := d.Components.Schemas[name]
		if !ok {
			return &docSchema{Name: name}
		}
		s = c
	}
	out := &docSchema{Name: name}
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Properties[n]
		t := p.typeName()
		if req[n] {
			t += ", required"
		}
		out.Fields = append(out.Fields, docField{Name: n, Type: t, Description: p.Description})
	}
	if name == "" && len(out.Fields) == 0 {
		if t := s.typeName(); t != "" {
			out.Name = t
		} else {
			return nil
		}
	}
	return out
}

// docsReference turns the OpenAPI document into the reference's tags.
func docsReference(o *huma.OpenAPI) (openAPIDoc, []docTag, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return openAPIDoc{}, nil, err
	}
	var d openAPIDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return openAPIDoc{}, nil, err
	}
	byTag := map[string][]docOp{}
	for path, methods := range d.Paths {
		for method, op := range methods {
			x := docOp{ID: op.OperationID, Method: strings.ToUpper(method), Path: path, Summary: op.Summary, Description: op.Description}
			for _, p := range op.Parameters {
				x.Params = append(x.Params, docParam{Name: p.Name, In: p.In, Type: p.Schema.typeName(), Description: p.Description})
			}
			if op.RequestBody != nil {
				for _, c := range op.RequestBody.Content {
					x.Body = d.describe(c.Schema)
					break
				}
			}
			codes := make([]string, 0, len(op.Responses))
			for code := range op.Responses {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				r := op.Responses[code]
				dr := docResponse{Status: code, Description: r.Description}
				if ct, ok := r.Content["application/json"]; ok {
					dr.Schema = d.describe(ct.Schema)
				}
				x.Responses = append(x.Responses, dr)
			}
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			byTag[tag] = append(byTag[tag], x)
		}
	}
	var tags []docTag
	for name, ops := range byTag {
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].Path != ops[j].Path {
				return ops[i].Path < ops[j].Path
			}
			return ops[i].Method < ops[j].Method
		})
		tags = append(tags, docTag{Name: name, Ops: ops})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	return d, tags, nil
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Info.Title}} {{.Info.Version}} — API reference</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#0b0c0c;background:#fff}
header,main{max-width:60rem;margin:0 auto;padding:0 1rem}
header{border-bottom:4px solid #1d70b8;padding-top:1rem}
h1{font-size:1.75rem;margin:.5rem 0}h2{font-size:1.4rem;margin-top:2rem;border-bottom:1px solid #b1b4b6}
h3{font-size:1.05rem;margin:1.5rem 0 .25rem;word-break:break-all}
code,.path{font-family:ui-monospace,monospace;font-size:.95em}
.m{display:inline-block;min-width:4.2rem;font-weight:700;color:#fff;background:#505a5f;padding:0 .4rem;border-radius:3px;text-align:center}
.GET{background:#00703c}.POST{background:#1d70b8}.PUT,.PATCH{background:#8a4b00}.DELETE{background:#d4351c}
table{border-collapse:collapse;width:100%;margin:.25rem 0 .75rem}th,td{text-align:left;border-bottom:1px solid #e5e5e5;padding:.2rem .4rem;vertical-align:top}
a{color:#1d70b8}a:focus{outline:3px solid #fd0;background:#fd0;color:#0b0c0c}
nav ul{columns:14rem;padding-left:1.2rem}.desc{white-space:pre-line;color:#383f43}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
</style></head><body>
<header><h1>{{.Info.Title}} <small>{{.Info.Version}}</small></h1>
<p>Tài liệu API — API reference. The machine-readable document: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1). {{.Info.Description}}</p></header>
<main>
<nav aria-label="Operations"><ul>{{range .Tags}}<li><a href="#tag-{{.Name}}">{{.Name}}</a> ({{len .Ops}})</li>{{end}}</ul></nav>
{{range .Tags}}<section id="tag-{{.Name}}"><h2>{{.Name}}</h2>
{{range .Ops}}<article id="{{.ID}}"><h3><span class="m {{.Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span></h3>
<p><strong>{{.Summary}}</strong> <code>{{.ID}}</code></p>{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .Params}}<table><caption class="sr">Parameters</caption><tr><th scope="col">parameter</th><th scope="col">in</th><th scope="col">type</th><th scope="col">meaning</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{with .Body}}<p>Request body{{if .Name}}: <code>{{.Name}}</code>{{end}}</p>{{if .Fields}}<table><tr><th scope="col">field</th><th scope="col">type</th><th scope="col">meaning</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}{{end}}
<table><tr><th scope="col">status</th><th scope="col">answer</th></tr>{{range .Responses}}<tr><td>{{.Status}}</td><td>{{.Description}}{{with .Schema}}{{if .Name}} — <code>{{.Name}}</code>{{end}}{{end}}</td></tr>{{end}}</table>
</article>{{end}}</section>{{end}}
</main></body></html>`))

// docsHandler serves the reference, rendered once on first use.
func docsHandler(o *huma.OpenAPI) http.HandlerFunc {
	var once sync.Once
	var page []byte
	var failed error
	return func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			d, tags, err := docsReference(o)
			if err != nil {
				failed = err
				return
			}
			var b bytes.Buffer
			failed = docsTemplate.Execute(&b, struct {
				Info struct{ Title, Version, Description string }
				Tags []docTag
			}{d.Info, tags})
			page = b.Bytes()
		})
		if failed != nil {
			writeProblem(w, http.StatusInternalServerError, "the API reference could not be rendered")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(page)
	}
}
