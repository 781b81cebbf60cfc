package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/indicator"
)

// dashboardRoutes are the dashboards' pages: the campaign's indicators of
// the officer's jurisdiction by month, drilled down nation → province →
// commune, as charts with their numbers, and as CSV.
func (s *Web) dashboardRoutes() []Page {
	c := Console
	return []Page{
		{Method: "GET", Path: c + "/dashboard", who: officers(access.ReadCitizen), h: s.dashboard},
		{Method: "GET", Path: c + "/dashboard.csv", who: officers(access.ReadCitizen), h: s.dashboardCSV},
		{Method: "POST", Path: c + "/dashboard/refresh", who: officers(access.ReadCitizen), h: s.dashboardRefresh},
	}
}

// dashboardLinks are the home page's cards of the dashboards.
func (s *Web) dashboardLinks() []homeLink {
	return []homeLink{{Href: Console + "/dashboard", Title: "dash.title", Text: "dash.card", Perm: access.ReadCitizen}}
}

// chartGroups are the charts of a dashboard: each a few indicators side
// by side per month.
var chartGroups = []struct {
	Title string
	Names []string
}{
	{"dash.group.births", []string{indicator.Births}},
	{"dash.group.eid", []string{indicator.EIDReceived, indicator.EIDApproved, indicator.EIDActivated}},
	{"dash.group.card", []string{indicator.CardReceived, indicator.CardPrinted, indicator.CardDelivered}},
	{"dash.group.dossier", []string{indicator.DossierReceived, indicator.DossierDecided, indicator.DossierOnTime}},
}

// chart is a bar chart drawn on the server: an SVG with its bars, and the
// same numbers as a table beside it.
type chart struct {
	ID, Title    string
	Names        []string
	Rows         []chartRow // per month: the values of Names
	Bars         []bar
	Ticks        []tick
	Width, Max   int64
	Height, Base int
}

type chartRow struct {
	Month  string
	Values []int64
}

type bar struct {
	X, Y, W, H int
	Series     int
	Title      string
}

type tick struct {
	X     int
	Label string
}

const chartH, chartBase, slotW = 180, 200, 56

func makeChart(v view, id, title string, names []string, months []string, counts map[string]map[string]int64) chart {
	c := chart{ID: id, Title: title, Names: names, Height: chartBase + 24, Base: chartBase, Width: int64(len(months)*slotW + 8)}
	for _, m := range months {
		r := chartRow{Month: m}
		for _, n := range names {
			x := counts[n][m]
			r.Values = append(r.Values, x)
			c.Max = max(c.Max, x)
		}
		c.Rows = append(c.Rows, r)
	}
	bw := (slotW - 8) / len(names)
	for i, r := range c.Rows {
		x0 := 4 + i*slotW
		c.Ticks = append(c.Ticks, tick{X: x0 + slotW/2 - 4, Label: r.Month[5:] + "/" + r.Month[2:4]})
		for j, val := range r.Values {
			h := 0
			if c.Max > 0 {
				h = int(val * chartH / c.Max)
			}
			if val > 0 && h < 2 {
				h = 2
			}
			c.Bars = append(c.Bars, bar{X: x0 + j*bw, Y: chartBase - h, W: bw - 2, H: h, Series: j,
				Title: fmt.Sprintf("%s %s: %d", v.T("dash."+names[j]), r.Month, val)})
		}
	}
	return c
}

type dashData struct {
	B        indicator.Board
	Name     string
	Charts   []chart
	People   int64
	OnTime   string // the on-time rate over the months
	Growth   string // e-ID applications, last month against the one before
	Children []dashChild
	Names    []string
}

type dashChild struct {
	Unit, Name string
	Totals     []int64
}

func (s *Web) dashboard(w http.ResponseWriter, r *http.Request) error {
	b, err := s.Indicators.Read(r.Context(), r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	v := s.view(r)
	d := dashData{B: b, Name: s.unitName(v, b.Unit), Names: indicator.Names[1:]}
	last := b.Months[len(b.Months)-1]
	d.People = b.Counts[indicator.People][last]
	for i, g := range chartGroups {
		d.Charts = append(d.Charts, makeChart(v, fmt.Sprintf("chart-%d", i), g.Title, g.Names, b.Months, b.Counts))
	}
	var decided, onTime int64
	for _, m := range b.Months {
		decided += b.Counts[indicator.DossierDecided][m]
		onTime += b.Counts[indicator.DossierOnTime][m]
	}
	if decided > 0 {
		d.OnTime = strconv.FormatFloat(float64(onTime)*100/float64(decided), 'f', 1, 64) + " %"
	}
	if n := len(b.Months); n >= 2 {
		prev, cur := b.Counts[indicator.EIDReceived][b.Months[n-2]], b.Counts[indicator.EIDReceived][b.Months[n-1]]
		if prev > 0 {
			d.Growth = fmt.Sprintf("%+.1f %%", float64(cur-prev)*100/float64(prev))
		}
	}
	for _, c := range b.Children {
		dc := dashChild{Unit: c.Unit, Name: s.unitName(v, c.Unit)}
		for _, n := range d.Names {
			dc.Totals = append(dc.Totals, c.Totals[n])
		}
		d.Children = append(d.Children, dc)
	}
	s.render(w, r, http.StatusOK, "dashboard", d)
	return nil
}

func (s *Web) unitName(v view, unit string) string {
	if unit == indicator.Nation {
		return v.T("jurisdiction.national")
	}
	return v.Unit(unit)
}

// dashboardCSV is the board's numbers: one row per month and indicator.
func (s *Web) dashboardCSV(w http.ResponseWriter, r *http.Request) error {
	b, err := s.Indicators.Read(r.Context(), r.URL.Query().Get("unit"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="dancu-indicators-`+b.Unit+`.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"unit", "month", "indicator", "count", "built_at"})
	for _, m := range b.Months {
		for _, n := range indicator.Names {
			if n == indicator.People && m != b.Months[len(b.Months)-1] {
				continue
			}
			cw.Write([]string{b.Unit, m, n, strconv.FormatInt(b.Counts[n][m], 10), b.BuiltAt.Format("2006-01-02T15:04:05Z")})
		}
	}
	cw.Flush()
	return cw.Error()
}

// dashboardRefresh rebuilds the indicators now (at most once a minute).
func (s *Web) dashboardRefresh(w http.ResponseWriter, r *http.Request) error {
	if err := s.Indicators.Refresh(r.Context()); err != nil {
		return err
	}
	unit := r.PostForm.Get("unit")
	http.Redirect(w, r, Console+"/dashboard?unit="+urlEscape(unit), http.StatusSeeOther)
	return nil
}
