package errs

import (
	"fmt"
	"testing"
)

// A field error keeps what its reason was written from — its own format,
// or that of the error it passes on — so a page can say it in another
// language; the reason's English text is unchanged.
func TestReasonFormats(t *testing.T) {
	parse := E(Invalid, "a personal ID number has 12 digits, got %d characters", 5)
	e := Field("pid", "%s", parse)
	fe := e.Fields[0]
	if fe.Reason != "a personal ID number has 12 digits, got 5 characters" || fe.Format != parse.MsgFormat || fmt.Sprint(fe.Args) != "[5]" {
		t.Errorf("a parser's error passed on: %+v", fe)
	}
	var f Fields
	f.Add("date", "%s is in the future", "2099-01-01")
	f.Add("note", "%s", "plain text")
	f.Add("x", "%s", Wrap(Invalid, fmt.Errorf("cause"), "wrapped %d", 1))
	var m Fields
	m.Merge("data", f.Err())
	got := m.Err().(*Error).Fields
	if got[0].Field != "data.date" || got[0].Format != "%s is in the future" || got[0].Args[0] != "2099-01-01" {
		t.Errorf("merged: %+v", got[0])
	}
	if got[1].Format != "%s" || got[1].Reason != "plain text" {
		t.Errorf("a plain %%s reason: %+v", got[1])
	}
	if got[2].Format != "%s" {
		t.Errorf("an error with a hidden cause keeps %%s (its message is shown as written): %+v", got[2])
	}
}
