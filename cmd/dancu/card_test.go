package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"maps"
	"slices"
	"testing"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/card/chiptest"
	"github.com/dancu-vn/dancu/internal/sqldb"
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

// TestCardChipAuthentication: through the API on both stores, production
// answers the card factory, once, with the personalisation (the chip's
// files and private keys); the chip written from it passes Active and
// Chip Authentication at /cards/verify, its clone (the same files read
// off the card, another key) is told apart with aa_signature, and so are
// an answer to another challenge and a chip read without DG15; a
// challenge of the wrong size is refused. No table and no log line of the
// server (at debug level) holds the keys.
func TestCardChipAuthentication(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			db := sqldbtest.URL(t, engine)
			if _, _, err := runCLI(t, map[string]string{"DANCU_DATA_KEY": testDataKey}, "pki", "init", "--db", db); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, db, "--log-level", "debug")
			admin := login(t, srv.URL, "admin", adminPassword)
			const pid = "001090123456"
			admin.must(201, "POST", "/api/v1/citizens", map[string]any{"pid": pid, "name": map[string]string{"family": "Nguyễn", "given": "An"},
				"birth_date": "1990-05-17", "sex": "male", "permanent_residence": map[string]string{"commune": "00004"}})
			prints := []map[string]any{{"finger": "right_index", "template": []byte("FMR right")}, {"finger": "left_index", "template": []byte("FMR left")}}
			var app struct{ ID string }
			admin.must(201, "POST", "/api/v1/cards/applications", map[string]any{"pid": pid, "kind": "first", "photo": portrait(4000), "fingerprints": prints}).json(t, &app)
			admin.must(200, "POST", "/api/v1/cards/applications/"+app.ID+"/decision", map[string]any{"approve": true})
			var c struct {
				ID              string
				Personalisation *card.Personalisation
			}
			admin.must(201, "POST", "/api/v1/cards/applications/"+app.ID+"/produce", nil).json(t, &c)
			p := c.Personalisation
			if p == nil || len(p.Keys.ActiveAuthentication) == 0 || len(p.Keys.ChipAuthentication) == 0 {
				t.Fatalf("production gave no personalisation: %+v", c)
			}
			var chip struct {
				SOD        []byte            `json:"sod"`
				COM        []byte            `json:"com"`
				DataGroups map[string][]byte `json:"data_groups"`
			}
			read := admin.must(200, "GET", "/api/v1/cards/"+c.ID+"/chip", nil)
			read.json(t, &chip)
			if !bytes.Equal(chip.SOD, p.SOD) || !bytes.Equal(chip.DataGroups["14"], p.DataGroups[14]) || !bytes.Equal(chip.DataGroups["15"], p.DataGroups[15]) {
				t.Fatalf("the chip read back differs from the personalisation: %v", slices.Sorted(maps.Keys(chip.DataGroups)))
			}
			genuine := chiptest.New(*p)
			clone, err := chiptest.Clone(genuine)
			if err != nil {
				t.Fatal(err)
			}
			type answer struct {
				Valid  bool
				Failed []string
				Checks []struct {
					Name string
					OK   bool
					Code string
				}
			}
			challenge := []byte("dancu-01")
			sign := func(ch *chiptest.Chip, challenge []byte) []byte {
				sig, err := ch.InternalAuthenticate(challenge)
				if err != nil {
					t.Fatal(err)
				}
				return sig
			}
			verify := func(groups map[string][]byte, aa map[string]any, ca map[string]any) answer {
				t.Helper()
				body := map[string]any{"sod": chip.SOD, "com": chip.COM, "data_groups": groups, "active_authentication": aa}
				if ca != nil {
					body["chip_authentication"] = ca
				}
				var a answer
				admin.must(200, "POST", "/api/v1/cards/verify", body).json(t, &a)
				return a
			}
			terminal, terminalPub, _ := chiptest.Terminal()
			token, err := genuine.ChipAuthenticate(terminalPub)
			if err != nil {
				t.Fatal(err)
			}
			a := verify(chip.DataGroups, map[string]any{"challenge": challenge, "signature": sign(genuine, challenge)}, map[string]any{"terminal_private_key": terminal, "token": token})
			if !a.Valid || len(a.Failed) != 0 || !slices.ContainsFunc(a.Checks, func(c struct {
				Name string
				OK   bool
				Code string
			}) bool {
				return c.Name == "active_authentication" && c.OK
			}) {
				t.Fatalf("the genuine chip: %+v", a)
			}
			noDG15 := maps.Clone(chip.DataGroups)
			delete(noDG15, "15")
			for name, tc := range map[string]struct {
				groups map[string][]byte
				aa     map[string]any
				want   []string
			}{
				"clone":           {chip.DataGroups, map[string]any{"challenge": challenge, "signature": sign(clone, challenge)}, []string{"aa_signature"}},
				"wrong challenge": {chip.DataGroups, map[string]any{"challenge": []byte("dancu-02"), "signature": sign(genuine, challenge)}, []string{"aa_signature"}},
				"no DG15":         {noDG15, map[string]any{"challenge": challenge, "signature": sign(genuine, challenge)}, []string{"aa_missing_dg15"}},
			} {
				if a := verify(tc.groups, tc.aa, nil); a.Valid || !slices.Equal(a.Failed, tc.want) {
					t.Errorf("%s: %+v, want failed %v", name, a, tc.want)
				}
			}
			expectProblem(t, admin.do("POST", "/api/v1/cards/verify", map[string]any{"sod": chip.SOD, "data_groups": chip.DataGroups,
				"active_authentication": map[string]any{"challenge": []byte("seven!!"), "signature": sign(genuine, challenge)}}), 422, "body.active_authentication.challenge")
			needles, err := chiptest.KeyForms(p.Keys)
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(read.Body, n) }) {
				t.Error("the chip read holds the private keys")
			}
			logs := []byte(srv.Stderr.String())
			if !bytes.Contains(logs, []byte("/api/v1/cards/applications/"+app.ID+"/produce")) {
				t.Logf("the server logged:\n%s", logs)
				t.Error("the debug log does not show the production request: the scan below proves nothing")
			}
			if slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(logs, n) }) {
				t.Error("the server's log holds the chip's private keys")
			}
			store, err := sqldb.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if found := sqldbtest.Holding(t, store, needles); len(found) != 0 {
				t.Errorf("the chip's private keys are in the database: %v", found)
			}
		})
	}
}
