package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/vnname"
)

// Query selects citizens. Name matches the folded full name (case,
// diacritics, NFC/NFD and spacing do not matter); with NamePrefix it
// matches names that start with it ("nguyen van" finds every Nguyễn Văn …).
// Province and Commune are codes of the current scheme and filter on the
// permanent residence.
type Query struct {
	Name       string
	NamePrefix bool
	BirthDate  string
	BirthYear  int
	Sex        personalid.Sex
	Province   string
	Commune    string
	Cursor     string
	Limit      int
	Purpose    string
}

// Summary is one search result: enough to pick the right person, not the
// whole record.
type Summary struct {
	PID                personalid.Number `json:"pid"`
	FullName           string            `json:"full_name"`
	BirthDate          string            `json:"birth_date"`
	Sex                personalid.Sex    `json:"sex"`
	Status             Status            `json:"status"`
	PermanentResidence string            `json:"permanent_residence,omitempty" doc:"Current commune code of the permanent residence"`
}

// Page is one page of results; Next continues after it, empty at the end.
type Page struct {
	Items []Summary `json:"items"`
	Next  string    `json:"next,omitempty"`
}

// MaxLimit is the largest page.
const MaxLimit = 200

// Search finds citizens, ordered by folded name and then number, a page at
// a time (keyset pagination: pages stay fast however deep). Every person in
// the results counts as accessed and is recorded.
func (s *Service) Search(ctx context.Context, q Query) (Page, error) {
	if _, err := access.Require(ctx, access.SearchCitizen); err != nil {
		return Page{}, err
	}
	var f errs.Fields
	key := vnname.Fold(q.Name)
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		f.Add("limit", "must be 1–%d", MaxLimit)
	}
	if key == "" && q.Province == "" && q.Commune == "" {
		f.Add("name", "give a name, or a province or commune to list")
	}
	if strings.ContainsRune(key, 0) {
		f.Add("name", "contains a NUL character")
	}
	if !storable(q.Purpose) {
		f.Add("purpose", "must be UTF-8 text without NUL characters")
	}
	if q.NamePrefix && len(key) < 3 {
		f.Add("name", "a prefix search needs at least 3 letters")
	}
	if q.BirthDate != "" {
		if _, err := time.Parse(time.DateOnly, q.BirthDate); err != nil {
			f.Add("birth_date", "%q is not a date in the form YYYY-MM-DD", q.BirthDate)
		}
	}
	if q.Sex != "" && !q.Sex.Valid() {
		f.Add("sex", "must be male or female")
	}
	if q.Province != "" {
		if p, ok := s.units.Province(adminunit.Scheme2025, q.Province); ok {
			q.Province = p.Code
		} else {
			f.Add("province", "%q is not a current province code", q.Province)
		}
	}
	if q.Commune != "" {
		if _, ok := s.units.Commune(adminunit.Scheme2025, q.Commune); !ok {
			f.Add("commune", "%q is not a current commune code", q.Commune)
		}
	}
	afterKey, afterPID, err := decodeCursor(q.Cursor)
	if err != nil {
		f.Add("cursor", "is not a cursor this search returned")
	}
	if err := f.Err(); err != nil {
		return Page{}, err
	}

	sqlText, args := searchSQL(q, key, afterKey, afterPID)
	// The rows must be closed before waiting for the access record: a
	// search that held its connection while waiting could leave the
	// recorder no connection to commit with.
	page, err := s.searchPage(ctx, sqlText, args, q.Limit)
	if err != nil {
		return Page{}, err
	}
	now := s.clock()
	evs := make([]audit.Event, len(page.Items))
	for i, it := range page.Items {
		evs[i] = audit.NewEvent(ctx, now, "search_result", string(it.PID), "name="+key)
		evs[i].Purpose = q.Purpose
	}
	if err := s.audit.Record(ctx, evs...); err != nil {
		return Page{}, err
	}
	return page, nil
}

// searchSQL builds the query for a search: equality or a range on the
// folded name, equality on the other filters, and the keyset condition, so
// that it is answered from the name or unit indexes, never by a table scan.
func searchSQL(q Query, key, afterKey, afterPID string) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	switch {
	case key != "" && q.NamePrefix:
		where = append(where, "name_key >= "+arg(key)+" AND name_key < "+arg(key+"\U0010FFFF"))
	case key != "":
		where = append(where, "name_key = "+arg(key))
	}
	if q.Commune != "" {
		where = append(where, "res_commune = "+arg(q.Commune))
	}
	if q.Province != "" {
		where = append(where, "res_province = "+arg(q.Province))
	}
	if q.BirthDate != "" {
		where = append(where, "birth_date = "+arg(q.BirthDate))
	}
	if q.BirthYear != 0 {
		where = append(where, "birth_year = "+arg(q.BirthYear))
	}
	if q.Sex != "" {
		where = append(where, "sex = "+arg(string(q.Sex)))
	}
	if q.Cursor != "" {
		k, p := arg(afterKey), arg(afterPID)
		where = append(where, "(name_key > "+k+" OR (name_key = "+k+" AND pid > "+p+"))")
	}
	sqlText := `SELECT pid, family_name, middle_name, given_name, birth_date, sex, status, res_commune, name_key FROM citizen WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY name_key, pid LIMIT ` + arg(q.Limit+1)
	return sqlText, args
}

// searchPage runs a search query and reads one page; its rows are closed
// when it returns.
func (s *Service) searchPage(ctx context.Context, sqlText string, args []any, limit int) (Page, error) {
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return Page{}, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	page := Page{Items: []Summary{}}
	var lastKey string
	for rows.Next() {
		var it Summary
		var n Name
		var nameKey string
		if err := rows.Scan(&it.PID, &n.Family, &n.Middle, &n.Given, &it.BirthDate, &it.Sex, &it.Status, &it.PermanentResidence, &nameKey); err != nil {
			return Page{}, err
		}
		if len(page.Items) == limit {
			prev := page.Items[len(page.Items)-1]
			page.Next = encodeCursor(lastKey, string(prev.PID))
			break
		}
		it.FullName = n.Full()
		lastKey = nameKey
		page.Items = append(page.Items, it)
	}
	return page, rows.Err()
}

func encodeCursor(key, pid string) string {
	b, _ := json.Marshal([2]string{key, pid})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (string, string, error) {
	if c == "" {
		return "", "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", err
	}
	var v [2]string
	if err := json.Unmarshal(b, &v); err != nil {
		return "", "", err
	}
	if !storable(v[0]) || !storable(v[1]) {
		return "", "", errors.New("cursor holds text that is not storable")
	}
	return v[0], v[1], nil
}
