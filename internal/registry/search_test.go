package registry_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// pids returns the numbers of a page's items, sorted.
func pids(items []registry.Summary) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it.PID)
	}
	slices.Sort(out)
	return out
}

func sortedPIDs(cs ...registry.Citizen) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.PID)
	}
	slices.Sort(out)
	return out
}

func TestSearch(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := nationalAdmin()
		an := e.existing(t, ctx, person("Nguyễn Văn An", "1990-01-15", personalid.Male, e.p.baDinh))
		anHCM := e.existing(t, ctx, person("Nguyễn Văn An", "1985-03-03", personalid.Male, e.p.benThanh))
		anGV := e.existing(t, ctx, person("Nguyễn Văn An", "1990-07-07", personalid.Male, e.p.giangVo))
		thiAn := e.existing(t, ctx, person("Nguyễn Thị An", "1990-01-15", personalid.Female, e.p.baDinh))
		vanAnh := e.existing(t, ctx, person("Nguyễn Vân Anh", "1990-02-02", personalid.Female, e.p.baDinh))
		binh := e.existing(t, ctx, person("Nguyễn Văn Bình", "1990-01-15", personalid.Male, e.p.baDinh))
		e.existing(t, ctx, person("Lê Văn An", "1990-01-15", personalid.Male, e.p.baDinh))

		allAn := sortedPIDs(an, anHCM, anGV)
		tests := []struct {
			name string
			q    registry.Query
			want []string
		}{
			{"as written", registry.Query{Name: "Nguyễn Văn An"}, allAn},
			{"folded", registry.Query{Name: "nguyen van an"}, allAn},
			{"upper case, two spaces", registry.Query{Name: "NGUYEN  VAN AN"}, allAn},
			{"decomposed", registry.Query{Name: norm.NFD.String("Nguyễn Văn An")}, allAn},
			{"prefix", registry.Query{Name: "nguyen van an", NamePrefix: true}, sortedPIDs(an, anHCM, anGV, vanAnh)},
			{"prefix of family name", registry.Query{Name: "Nguyễn", NamePrefix: true}, sortedPIDs(an, anHCM, anGV, thiAn, vanAnh, binh)},
			{"birth year", registry.Query{Name: "nguyen van an", BirthYear: 1990}, sortedPIDs(an, anGV)},
			{"birth date", registry.Query{Name: "nguyen van an", BirthDate: "1990-01-15"}, sortedPIDs(an)},
			{"sex", registry.Query{Name: "nguyen", NamePrefix: true, Sex: personalid.Female}, sortedPIDs(thiAn, vanAnh)},
			{"province", registry.Query{Name: "nguyen van an", Province: e.p.hcm.Code}, sortedPIDs(anHCM)},
			{"province in number form", registry.Query{Name: "nguyen van an", Province: "0" + e.p.hanoi.Code}, sortedPIDs(an, anGV)},
			{"commune", registry.Query{Name: "nguyen van an", Commune: e.p.baDinh.Code}, sortedPIDs(an)},
			{"commune without a name", registry.Query{Commune: e.p.giangVo.Code}, sortedPIDs(anGV)},
			{"everything", registry.Query{Name: "Nguyễn Văn An", BirthDate: "1990-01-15", BirthYear: 1990, Sex: personalid.Male,
				Province: e.p.hanoi.Code, Commune: e.p.baDinh.Code}, sortedPIDs(an)},
			{"nobody", registry.Query{Name: "Nguyễn Văn Ân", BirthYear: 1991}, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := e.svc.Search(viewer(), tt.q)
				mustOK(t, err)
				if got := pids(page.Items); !slices.Equal(got, tt.want) {
					t.Errorf("found %v, want %v", got, tt.want)
				}
				if page.Next != "" {
					t.Errorf("a single page has next %q", page.Next)
				}
			})
		}
		page, err := e.svc.Search(viewer(), registry.Query{Name: "nguyen van an", BirthDate: "1990-01-15"})
		mustOK(t, err)
		want := registry.Summary{PID: an.PID, FullName: "Nguyễn Văn An", BirthDate: "1990-01-15", Sex: personalid.Male,
			Status: registry.Alive, PermanentResidence: e.p.baDinh.Code}
		if len(page.Items) != 1 || page.Items[0] != want {
			t.Errorf("summary = %+v, want %+v", page.Items, want)
		}
	})
}

func TestSearchRefuses(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		notJSON := base64.RawURLEncoding.EncodeToString([]byte("not json"))
		for _, tt := range []struct {
			q     registry.Query
			field string
		}{
			{registry.Query{Name: "an", Cursor: "!!!"}, "cursor"},
			{registry.Query{Name: "an", Cursor: notJSON}, "cursor"},
			{registry.Query{Name: "an", Limit: registry.MaxLimit + 1}, "limit"},
			{registry.Query{Name: "an", Limit: -1}, "limit"},
			{registry.Query{}, "name"},
			{registry.Query{Name: "  "}, "name"},
			{registry.Query{Name: "ng", NamePrefix: true}, "name"},
			{registry.Query{Name: "an", BirthDate: "15/01/1990"}, "birth_date"},
			{registry.Query{Name: "an", Sex: "m"}, "sex"},
			{registry.Query{Province: "99"}, "province"},
			{registry.Query{Commune: "99999"}, "commune"},
		} {
			_, err := e.svc.Search(viewer(), tt.q)
			wantField(t, err, tt.field)
		}
		_, err := e.svc.Search(context.Background(), registry.Query{Name: "an"})
		wantKind(t, err, errs.Unauthenticated)
		agency := actor.With(context.Background(), &actor.Actor{ID: "agency-1", Kind: actor.Agency, Name: "Ngân hàng"})
		_, err = e.svc.Search(agency, registry.Query{Name: "an"})
		wantKind(t, err, errs.Forbidden)
	})
}

func TestSearchPages(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := nationalAdmin()
		type entry struct{ key, pid string }
		var all []entry
		for i, name := range []string{"Trần Thị Mai", "Trần Thị Mai Anh", "Trần Thị Mai Chi"} {
			keys := []string{"tran thi mai", "tran thi mai anh", "tran thi mai chi"}
			for j := 0; j < 9-2*i; j++ {
				c := e.existing(t, ctx, person(name, fmt.Sprintf("19%02d-01-01", 50+j), personalid.Female, e.p.giangVo))
				all = append(all, entry{keys[i], string(c.PID)})
			}
		}
		e.existing(t, ctx, person("Trần Thị Lan", "1970-01-01", personalid.Female, e.p.giangVo))
		sort.Slice(all, func(i, j int) bool {
			if all[i].key != all[j].key {
				return all[i].key < all[j].key
			}
			return all[i].pid < all[j].pid
		})
		var want []string
		for _, x := range all {
			want = append(want, x.pid)
		}

		for _, limit := range []int{1, 4, 7, len(want), len(want) + 1} {
			t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
				before := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action = 'search_result'`)
				q := registry.Query{Name: "Trần Thị Mai", NamePrefix: true, Limit: limit, Purpose: "xác minh"}
				var got []string
				for pages := 0; ; pages++ {
					if pages > len(want)+1 {
						t.Fatal("pages do not end")
					}
					page, err := e.svc.Search(viewer(), q)
					mustOK(t, err)
					if len(page.Items) > limit {
						t.Fatalf("page of %d items, limit %d", len(page.Items), limit)
					}
					for _, it := range page.Items {
						got = append(got, string(it.PID))
					}
					if page.Next == "" {
						break
					}
					q.Cursor = page.Next
				}
				if !slices.Equal(got, want) {
					t.Errorf("pages gave\n%v\nwant\n%v", got, want)
				}
				after := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action = 'search_result'`)
				if after-before != len(want) {
					t.Errorf("%d search_result events, want one per result (%d)", after-before, len(want))
				}
			})
		}
		// A listing by commune pages too.
		var got []string
		q := registry.Query{Commune: e.p.giangVo.Code, Limit: 5}
		for {
			page, err := e.svc.Search(viewer(), q)
			mustOK(t, err)
			got = append(got, pids(page.Items)...)
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		slices.Sort(got)
		if len(got) != len(want)+1 || len(slices.Compact(got)) != len(want)+1 {
			t.Errorf("listing the commune gave %d distinct records, want %d", len(slices.Compact(got)), len(want)+1)
		}
		n := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action = 'search_result' AND purpose = 'xác minh' AND subject_pid = $1`, want[0])
		if n != 5 {
			t.Errorf("%s recorded as found %d times with the purpose, want 5", want[0], n)
		}
	})
}

func TestReadsAreRecorded(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.existing(t, nationalAdmin(), person("Phan Văn Đọc", "1980-01-01", personalid.Male, e.p.baDinh))
		ctx := viewer()
		for i := 0; i < 3; i++ {
			_, err := e.svc.Get(ctx, string(c.PID), "giải quyết hồ sơ")
			mustOK(t, err)
		}
		n := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action = 'read' AND subject_pid = $1 AND actor_id = $2 AND purpose = $3`,
			c.PID, actorOf(ctx).ID, "giải quyết hồ sơ")
		if n != 3 {
			t.Errorf("%d read events, want 3", n)
		}
		_, err := e.svc.Get(context.Background(), string(c.PID), "")
		wantKind(t, err, errs.Unauthenticated)
		_, err = e.svc.Get(ctx, "12345", "")
		wantField(t, err, "pid")
		_, err = e.svc.Get(ctx, legacyPID(t, "1980-01-01", personalid.Male), "")
		wantKind(t, err, errs.NotFound)
		if n := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action = 'read'`); n != 3 {
			t.Errorf("%d read events after refused reads, want 3", n)
		}
	})
}
