package card

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxPhoto is the largest face image a card takes, in bytes: the one limit
// of the application (the intake's photo), of production (the image put
// into DG2) and of passive authentication (the image in the DG2 a reader
// sends); the API's request limits are derived from it.
const MaxPhoto = 64 << 10

// MaxChip is the most a chip of ours holds, all files together (EF.COM,
// EF.SOD with its certificate, the data groups): the face image and room
// for the rest. Passive authentication takes a reading of this size.
const MaxChip = MaxPhoto + 32<<10

// MaxTemplate is the largest fingerprint template an application takes.
const MaxTemplate = 8 << 10

// ImageType is the image data type of an ISO/IEC 19794-5 facial record.
type ImageType byte

// The image data types DG2 holds (ISO/IEC 19794-5:2005, image information).
const (
	JPEG     ImageType = 0
	JPEG2000 ImageType = 1
)

func (t ImageType) String() string {
	if t == JPEG2000 {
		return "JPEG 2000"
	}
	return "JPEG"
}

// ImageInfo is what DG2 states of a face image: its type, size in pixels
// and number of colour components, read from the image's own header.
type ImageInfo struct {
	Type          ImageType
	Width, Height int
	Components    int
}

// errImage is the error of every image the header parser refuses.
var errImage = errors.New("not a JPEG or JPEG 2000 image with its size in the header")

// ParseImage reads the header of a JPEG (the frame header of its first
// SOFn marker), a JP2 file (the ihdr box of its jp2h header box) or a JPEG
// 2000 codestream (its SIZ marker). It reads headers only: the image is
// not decoded. Width and height must fit ISO/IEC 19794-5's two bytes.
func ParseImage(b []byte) (ImageInfo, error) {
	var info ImageInfo
	var err error
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8}):
		info, err = parseJPEG(b[2:])
	case bytes.HasPrefix(b, jp2Signature):
		info, err = parseJP2(b[len(jp2Signature):])
	case bytes.HasPrefix(b, []byte{0xFF, 0x4F, 0xFF, 0x51}):
		info, err = parseSIZ(b[4:])
	default:
		err = errImage
	}
	if err != nil {
		return ImageInfo{}, err
	}
	if info.Width < 1 || info.Height < 1 || info.Width > 0xFFFF || info.Height > 0xFFFF || info.Components < 1 {
		return ImageInfo{}, fmt.Errorf("%w: %d×%d pixels, %d components", errImage, info.Width, info.Height, info.Components)
	}
	return info, nil
}

// parseJPEG walks the marker segments after SOI up to the first frame
// header (ITU-T T.81 §B.2).
func parseJPEG(b []byte) (ImageInfo, error) {
	for {
		if len(b) < 2 || b[0] != 0xFF {
			return ImageInfo{}, errImage
		}
		for len(b) > 1 && b[1] == 0xFF { // fill bytes
			b = b[1:]
		}
		if len(b) < 2 {
			return ImageInfo{}, errImage
		}
		m := b[1]
		b = b[2:]
		switch {
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			continue
		case m == 0xD8 || m == 0xD9 || m == 0xDA || m == 0x00: // SOI, EOI, SOS before a frame header
			return ImageInfo{}, errImage
		}
		if len(b) < 2 {
			return ImageInfo{}, errImage
		}
		n := int(binary.BigEndian.Uint16(b))
		if n < 2 || n > len(b) {
			return ImageInfo{}, errImage
		}
		seg := b[2:n]
		b = b[n:]
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC { // SOFn, not DHT, JPG, DAC
			if len(seg) < 6 {
				return ImageInfo{}, errImage
			}
			return ImageInfo{Type: JPEG, Height: int(binary.BigEndian.Uint16(seg[1:])), Width: int(binary.BigEndian.Uint16(seg[3:])), Components: int(seg[5])}, nil
		}
	}
}

// jp2Signature is the JPEG 2000 signature box (ISO/IEC 15444-1 §I.5.1).
var jp2Signature = []byte{0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}

// nextBox reads one box: its type, contents and the rest (ISO/IEC 15444-1
// §I.4: a length of 1 means an 8-byte length follows, 0 the rest of the
// file).
func nextBox(b []byte) (typ string, body, rest []byte, err error) {
	if len(b) < 8 {
		return "", nil, nil, errImage
	}
	n, head := uint64(binary.BigEndian.Uint32(b)), uint64(8)
	typ = string(b[4:8])
	switch n {
	case 0:
		n = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return "", nil, nil, errImage
		}
		n, head = binary.BigEndian.Uint64(b[8:]), 16
	}
	if n < head || n > uint64(len(b)) {
		return "", nil, nil, errImage
	}
	return typ, b[head:n], b[n:], nil
}

// parseJP2 finds the file type box, then the JP2 header box, whose first
// box is the image header box.
func parseJP2(b []byte) (ImageInfo, error) {
	typ, _, b, err := nextBox(b)
	if err != nil || typ != "ftyp" {
		return ImageInfo{}, errImage
	}
	for len(b) > 0 {
		var body []byte
		if typ, body, b, err = nextBox(b); err != nil {
			return ImageInfo{}, err
		}
		if typ != "jp2h" {
			continue
		}
		typ, ihdr, _, err := nextBox(body)
		if err != nil || typ != "ihdr" || len(ihdr) != 14 {
			return ImageInfo{}, errImage
		}
		return ImageInfo{Type: JPEG2000, Height: int(binary.BigEndian.Uint32(ihdr)), Width: int(binary.BigEndian.Uint32(ihdr[4:])),
			Components: int(binary.BigEndian.Uint16(ihdr[8:]))}, nil
	}
	return ImageInfo{}, errImage
}

// parseSIZ reads the image and tile size marker segment that follows SOC
// in a JPEG 2000 codestream (ISO/IEC 15444-1 §A.5.1).
func parseSIZ(b []byte) (ImageInfo, error) {
	if len(b) < 38 {
		return ImageInfo{}, errImage
	}
	n := int(binary.BigEndian.Uint16(b))
	if n < 38 || n > len(b) {
		return ImageInfo{}, errImage
	}
	x, y := binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:])
	x0, y0 := binary.BigEndian.Uint32(b[12:]), binary.BigEndian.Uint32(b[16:])
	if x0 >= x || y0 >= y {
		return ImageInfo{}, errImage
	}
	return ImageInfo{Type: JPEG2000, Width: int(x - x0), Height: int(y - y0), Components: int(binary.BigEndian.Uint16(b[36:]))}, nil
}
