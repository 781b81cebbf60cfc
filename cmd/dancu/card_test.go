package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
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
