package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"testing"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// portrait is a real JPEG of size bytes (at least a few hundred): a small
// colour image, padded with comment segments after SOI.
func portrait(size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 128))
	for y := range 128 {
		for x := range 96 {
			img.Set(x, y, color.RGBA{byte(x * 2), byte(y * 2), byte(x ^ y), 0xff})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 60}); err != nil {
		panic(err)
	}
	base := b.Bytes()
	pad := size - len(base)
	if pad < 0 || (pad > 0 && pad < 4) {
		panic("portrait: size too small")
	}
	out := append([]byte{}, base[:2]...)
	for pad > 0 {
		n := min(pad, 0xFFFF+2) // a segment: FF FE, a 2-byte length (itself included), the text
		if pad-n > 0 && pad-n < 4 {
			n -= 4
		}
		out = append(out, 0xFF, 0xFE, byte((n-2)>>8), byte(n-2))
		out = append(out, bytes.Repeat([]byte{'x'}, n-4)...)
		pad -= n
	}
	return append(out, base[2:]...)
}

// TestCardPhotoLimit: the largest portrait the counter accepts
// (card.MaxPhoto bytes) is produced, and the chip the personalisation
// machine gets (EF.COM, EF.SOD and the data groups) verifies as a relying
// party sends it; a byte more is refused at the counter, naming the photo.
// One limit for application, production and passive authentication.
func TestCardPhotoLimit(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			db := sqldbtest.URL(t, engine)
			if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": testDataKey}, "pki", "init", "--db", db); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, db)
			admin := login(t, srv.URL, "admin", adminPassword)
			admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": "001090123456", "name": map[string]string{"family": "Nguyễn", "middle": "Văn", "given": "An"},
				"birth_date": "1990-05-17", "sex": "male", "permanent_residence": map[string]string{"commune": "00004"}})
			prints := []map[string]any{{"finger": "right_index", "template": bytes.Repeat([]byte{1}, card.MaxTemplate)}, {"finger": "left_index", "template": bytes.Repeat([]byte{2}, card.MaxTemplate)}}
			face := portrait(card.MaxPhoto)
			if len(face) != card.MaxPhoto {
				t.Fatalf("portrait of %d bytes", len(face))
			}
			expectProblem(t, admin.do("POST", "/api/v1/cards/applications", map[string]any{"pid": "001090123456", "kind": "first", "photo": portrait(card.MaxPhoto + 1), "fingerprints": prints}), 422, "body.photo")
			var app struct{ ID string }
			admin.must(201, "POST", "/api/v1/cards/applications", map[string]any{"pid": "001090123456", "kind": "first", "photo": face, "fingerprints": prints}).json(t, &app)
			admin.must(200, "POST", "/api/v1/cards/applications/"+app.ID+"/decision", map[string]any{"approve": true})
			var c struct{ ID string }
			admin.must(201, "POST", "/api/v1/cards/applications/"+app.ID+"/produce", nil).json(t, &c)
			var chip struct {
				SOD        []byte            `json:"sod"`
				COM        []byte            `json:"com"`
				DataGroups map[string][]byte `json:"data_groups"`
			}
			admin.must(200, "GET", "/api/v1/cards/"+c.ID+"/chip", nil).json(t, &chip)
			img, info, err := card.ParseDG2(chip.DataGroups["2"])
			if err != nil || !bytes.Equal(img, face) || info.Width != 96 || info.Height != 128 || info.Type != card.JPEG {
				t.Fatalf("DG2 holds %d bytes, %+v, %v", len(img), info, err)
			}
			var v struct {
				Valid  bool
				Failed []string
			}
			admin.must(200, "POST", "/api/v1/cards/verify", map[string]any{"sod": chip.SOD, "com": chip.COM, "data_groups": chip.DataGroups}).json(t, &v)
			if !v.Valid || len(v.Failed) != 0 {
				t.Errorf("the largest portrait's chip: %+v", v)
			}
		})
	}
}

// TestCardVerifyReasons: through the API, a verification names every
// reason it is not valid: no data group (data_groups {}), no DG1, bytes
// after the SOD (no card of ours has that SOD), a changed DG2, an EF.COM
// that leaves DG2 out, and a card reported lost.
func TestCardVerifyReasons(t *testing.T) {
	db := sqldbtest.URL(t, "sqlite")
	if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": testDataKey}, "pki", "init", "--db", db); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, db)
	admin := login(t, srv.URL, "admin", adminPassword)
	const pid = "001090123456"
	admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": pid, "name": map[string]string{"family": "Nguyễn", "given": "An"},
		"birth_date": "1990-05-17", "sex": "male", "permanent_residence": map[string]string{"commune": "00004"}})
	prints := []map[string]any{{"finger": "right_index", "template": []byte("FMR right")}, {"finger": "left_index", "template": []byte("FMR left")}}
	var app struct{ ID string }
	admin.must(201, "POST", "/api/v1/cards/applications", map[string]any{"pid": pid, "kind": "first", "photo": portrait(4000), "fingerprints": prints}).json(t, &app)
	admin.must(200, "POST", "/api/v1/cards/applications/"+app.ID+"/decision", map[string]any{"approve": true})
	var c struct{ ID string }
	admin.must(201, "POST", "/api/v1/cards/applications/"+app.ID+"/produce", nil).json(t, &c)
	var chip struct {
		SOD        []byte            `json:"sod"`
		COM        []byte            `json:"com"`
		DataGroups map[string][]byte `json:"data_groups"`
	}
	admin.must(200, "GET", "/api/v1/cards/"+c.ID+"/chip", nil).json(t, &chip)
	type answer struct {
		Valid  bool
		Failed []string
		Checks []struct{ Name, Code string }
	}
	verify := func(body map[string]any) answer {
		t.Helper()
		var a answer
		admin.must(200, "POST", "/api/v1/cards/verify", body).json(t, &a)
		return a
	}
	if a := verify(map[string]any{"sod": chip.SOD, "com": chip.COM, "data_groups": chip.DataGroups}); !a.Valid || len(a.Failed) != 0 {
		t.Fatalf("the card as produced: %+v", a)
	}
	dg2 := bytes.Clone(chip.DataGroups["2"])
	dg2[len(dg2)-5] ^= 1
	for name, tc := range map[string]struct {
		body map[string]any
		want []string
	}{
		"data_groups {}": {map[string]any{"sod": chip.SOD, "data_groups": map[string][]byte{}}, []string{"no_data_groups"}},
		"no DG1":         {map[string]any{"sod": chip.SOD, "data_groups": map[string][]byte{"13": chip.DataGroups["13"]}}, []string{"dg1_missing"}},
		"trailing bytes": {map[string]any{"sod": append(bytes.Clone(chip.SOD), 0), "data_groups": chip.DataGroups}, []string{"trailing_bytes", "card_status:unknown"}},
		"a changed DG2":  {map[string]any{"sod": chip.SOD, "data_groups": map[string][]byte{"1": chip.DataGroups["1"], "2": dg2}}, []string{"dg_hash_mismatch:DG2"}},
		"EF.COM without DG2": {map[string]any{"sod": chip.SOD, "com": []byte{0x60, 0x14, 0x5f, 0x01, 0x04, '0', '1', '0', '7', 0x5f, 0x36, 0x06, '0', '4', '0', '0', '0', '0', 0x5c, 0x02, 0x61, 0x6d},
			"data_groups": chip.DataGroups}, []string{"com_mismatch"}},
	} {
		if a := verify(tc.body); a.Valid || !slices.Equal(a.Failed, tc.want) {
			t.Errorf("%s: %+v, want failed %v", name, a, tc.want)
		}
	}
	admin.must(204, "POST", "/api/v1/cards/"+pid+"/lost", nil)
	if a := verify(map[string]any{"sod": chip.SOD, "data_groups": map[string][]byte{}}); a.Valid || !slices.Equal(a.Failed, []string{"no_data_groups", "card_status:lost"}) {
		t.Errorf("a lost card without data groups: %+v", a)
	}
}
