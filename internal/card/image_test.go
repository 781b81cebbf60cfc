package card_test

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/pki"
)

// makeJPEG encodes a real w×h JPEG (greyscale when gray) with image/jpeg.
func makeJPEG(w, h int, gray bool) []byte {
	var img image.Image
	if gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = byte(i * 7)
		}
		img = g
	} else {
		c := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c.Set(x, y, color.RGBA{byte(x * 5), byte(y * 3), byte(x ^ y), 0xff})
			}
		}
		img = c
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// readmeJPEG is the photo of the README's example: a bare JPEG header
// ("/9j/wAALCAGAASABAREA/9k=").
var readmeJPEG = []byte{0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x01, 0x80, 0x01, 0x20, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9}

// dhtFirst rewrites a JPEG from image/jpeg (DQT, SOF0, DHT, SOS) with its
// Huffman tables before the frame header and an APP1 segment and fill
// bytes in front, as cameras write them.
func dhtFirst(j []byte) []byte {
	var segs [][]byte
	rest := j[2:]
	for rest[1] != 0xDA { // up to the scan
		n := 2 + int(binary.BigEndian.Uint16(rest[2:]))
		segs = append(segs, rest[:n])
		rest = rest[n:]
	}
	out := append([]byte{0xFF, 0xD8}, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0)
	for _, want := range []byte{0xC4, 0xDB, 0xC0} {
		for _, sg := range segs {
			if sg[1] == want {
				out = append(out, 0xFF) // a fill byte
				out = append(out, sg...)
			}
		}
	}
	return append(out, rest...)
}

func box(typ string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return append(binary.BigEndian.AppendUint32(nil, uint32(8+len(b))), append([]byte(typ), b...)...)
}

// codestream is a minimal JPEG 2000 codestream header: SOC and a SIZ
// segment for a w×h image of nc 8-bit components, one tile, offset (x0, y0).
func codestream(w, h, x0, y0 uint32, nc int) []byte {
	siz := binary.BigEndian.AppendUint16(nil, uint16(38+3*nc))
	siz = binary.BigEndian.AppendUint16(siz, 0) // Rsiz
	for _, v := range []uint32{w + x0, h + y0, x0, y0, w, h, 0, 0} {
		siz = binary.BigEndian.AppendUint32(siz, v)
	}
	siz = binary.BigEndian.AppendUint16(siz, uint16(nc))
	for range nc {
		siz = append(siz, 7, 1, 1) // 8 bits unsigned, no subsampling
	}
	return append([]byte{0xFF, 0x4F, 0xFF, 0x51}, siz...)
}

// makeJP2 is a JP2 file after ISO/IEC 15444-1 Annex I: the signature box,
// the file type box, the JP2 header box (image header and colour
// specification), and a contiguous codestream box.
func makeJP2(w, h uint32, nc int) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, h)
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint16(ihdr, uint16(nc))
	ihdr = append(ihdr, 7, 7, 0, 0) // 8 bits, wavelet compression, colourspace known, no IPR
	cs := uint32(16)                // sRGB
	if nc == 1 {
		cs = 17 // greyscale
	}
	colr := append([]byte{1, 0, 0}, binary.BigEndian.AppendUint32(nil, cs)...)
	sig := []byte{0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}
	return bytes.Join([][]byte{sig,
		box("ftyp", []byte("jp2 "), []byte{0, 0, 0, 0}, []byte("jp2 ")),
		box("jp2h", box("ihdr", ihdr), box("colr", colr)),
		box("jp2c", codestream(w, h, 0, 0, nc), []byte{0xFF, 0xD9})}, nil)
}

// TestParseImage: the size and type of a real JPEG (greyscale and colour),
// a JP2 file and a JPEG 2000 codestream are read from their headers; what
// is not such an image, or states no size, is refused.
func TestParseImage(t *testing.T) {
	for name, c := range map[string]struct {
		img  []byte
		want card.ImageInfo
	}{
		"JPEG colour":      {makeJPEG(120, 160, false), card.ImageInfo{Type: card.JPEG, Width: 120, Height: 160, Components: 3}},
		"JPEG grey":        {makeJPEG(33, 17, true), card.ImageInfo{Type: card.JPEG, Width: 33, Height: 17, Components: 1}},
		"JPEG, DHT first":  {dhtFirst(makeJPEG(70, 90, false)), card.ImageInfo{Type: card.JPEG, Width: 70, Height: 90, Components: 3}},
		"JP2":              {makeJP2(413, 531, 3), card.ImageInfo{Type: card.JPEG2000, Width: 413, Height: 531, Components: 3}},
		"JP2 grey":         {makeJP2(64, 80, 1), card.ImageInfo{Type: card.JPEG2000, Width: 64, Height: 80, Components: 1}},
		"J2K codestream":   {codestream(300, 400, 0, 0, 3), card.ImageInfo{Type: card.JPEG2000, Width: 300, Height: 400, Components: 3}},
		"J2K with offsets": {codestream(300, 400, 10, 20, 1), card.ImageInfo{Type: card.JPEG2000, Width: 300, Height: 400, Components: 1}},
		"README's header":  {readmeJPEG, card.ImageInfo{Type: card.JPEG, Width: 288, Height: 384, Components: 1}},
	} {
		got, err := card.ParseImage(c.img)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, c.want)
		}
		if c.want.Type == card.JPEG && name != "README's header" {
			// image/jpeg, an independent reader, sees the same size.
			if cfg, err := jpeg.DecodeConfig(bytes.NewReader(c.img)); err != nil || cfg.Width != c.want.Width || cfg.Height != c.want.Height {
				t.Errorf("%s: image/jpeg reads %+v, %v", name, cfg, err)
			}
		}
	}
	good := makeJPEG(8, 8, false)
	sof := bytes.Index(good, []byte{0xFF, 0xC0})
	noHeight := bytes.Clone(good)
	noHeight[sof+5], noHeight[sof+6] = 0, 0
	jp2 := makeJP2(10, 10, 3)
	for name, b := range map[string][]byte{
		"GIF":                 []byte("GIF89a\x01\x00\x01\x00"),
		"SOI only":            {0xFF, 0xD8, 0xFF, 0xE0},
		"the old stand-in":    []byte("\xff\xd8\xff\xe0 a face \xff\xd9"),
		"JPEG cut before SOF": good[:sof+4],
		"JPEG height 0 (DNL)": noHeight,
		"SOS before SOF":      {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02},
		"JP2 without jp2h":    jp2[:12+20],
		"JP2 cut in ihdr":     jp2[:12+20+8+10],
		"JP2 too wide":        makeJP2(70000, 10, 3),
		"J2K cut":             codestream(10, 10, 0, 0, 3)[:20],
		"J2K no components":   codestream(10, 10, 0, 0, 0),
		"empty":               nil,
	} {
		if info, err := card.ParseImage(b); err == nil {
			t.Errorf("%s: read as %+v", name, info)
		}
	}
}

// TestDG2ImageInfo: DG2's ISO/IEC 19794-5 image information states the
// image's real type, width and height, at the offsets the standard gives
// (record header 14 bytes, facial information 20, then type, data type,
// width, height); an image without a readable header is refused.
func TestDG2ImageInfo(t *testing.T) {
	for name, c := range map[string]struct {
		img           []byte
		typ           card.ImageType
		width, height int
	}{
		"JPEG": {makeJPEG(90, 120, false), card.JPEG, 90, 120},
		"JP2":  {makeJP2(240, 320, 3), card.JPEG2000, 240, 320},
	} {
		dg2, err := card.DG2(c.img)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rec := bytes.Index(dg2, []byte("FAC\x00010\x00"))
		if rec < 0 {
			t.Fatalf("%s: no facial record", name)
		}
		im := dg2[rec+14+20:]
		if im[0] != 1 || card.ImageType(im[1]) != c.typ || int(binary.BigEndian.Uint16(im[2:])) != c.width || int(binary.BigEndian.Uint16(im[4:])) != c.height {
			t.Errorf("%s: image information % x", name, im[:12])
		}
		img, info, err := card.ParseDG2(dg2)
		if err != nil || !bytes.Equal(img, c.img) || info.Type != c.typ || info.Width != c.width || info.Height != c.height {
			t.Errorf("%s: read back %+v, %v", name, info, err)
		}
	}
	if _, err := card.DG2([]byte("\xff\xd8\xff\xe0 a face \xff\xd9")); err == nil {
		t.Error("DG2 of an image without a frame header")
	}
	if _, err := card.DG2(append(makeJPEG(8, 8, true), make([]byte, card.MaxPhoto)...)); err == nil {
		t.Error("DG2 of an image over MaxPhoto")
	}
}

// FuzzParseImage: the header parser never panics, what it accepts has a
// size DG2 can state, and DG2 states what it read.
func FuzzParseImage(f *testing.F) {
	f.Add(makeJPEG(4, 4, true))
	f.Add(makeJP2(5, 6, 1))
	f.Add(codestream(7, 8, 1, 1, 3))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xFF, 0xC0, 0x00, 0x08, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := card.ParseImage(b)
		if err != nil {
			return
		}
		if info.Width < 1 || info.Height < 1 || info.Width > 0xFFFF || info.Height > 0xFFFF || info.Components < 1 {
			t.Fatalf("accepted %+v", info)
		}
		if len(b) > card.MaxPhoto {
			return
		}
		dg2, err := card.DG2(b)
		if err != nil {
			t.Fatalf("DG2 refused an image ParseImage read: %v", err)
		}
		_, got, err := card.ParseDG2(dg2)
		if err != nil || got.Type != info.Type || got.Width != info.Width || got.Height != info.Height {
			t.Fatalf("DG2 states %+v (%v), the header %+v", got, err, info)
		}
	})
}

// TestDG2ImageCheck: passive authentication refuses a DG2 whose record
// states another size than its image, but not one stating 0×0 (cards
// produced before DG2 stated the size).
func TestDG2ImageCheck(t *testing.T) {
	now := time.Now()
	csca, _ := pki.NewCSCA(now, "CSCA")
	ds, _ := csca.NewDocumentSigner(now, "DS")
	lines, _ := sample.Lines()
	dg2, err := card.DG2(makeJPEG(40, 50, false))
	if err != nil {
		t.Fatal(err)
	}
	rec := bytes.Index(dg2, []byte("FAC\x00010\x00"))
	wrongSize, oldCard := bytes.Clone(dg2), bytes.Clone(dg2)
	wrongSize[rec+14+20+3]++                     // width 41
	copy(oldCard[rec+14+20+1:], make([]byte, 5)) // JPEG, 0×0
	for name, c := range map[string]struct {
		dg2 []byte
		ok  bool
	}{
		"as produced":         {dg2, true},
		"another width":       {wrongSize, false},
		"a record before 0×0": {oldCard, true},
	} {
		groups := map[int][]byte{1: card.DG1(lines), 2: c.dg2}
		sod, err := card.SOD(ds, groups)
		if err != nil {
			t.Fatal(err)
		}
		checks, _ := card.PassiveAuth(sod, groups, []*x509.Certificate{csca.Cert}, now)
		if f := card.FailedCodes(checks); (len(f) == 0) != c.ok || (!c.ok && !slices.Equal(f, []string{card.CodeDG2Image})) {
			t.Errorf("%s: failed %v", name, f)
		}
	}
}
