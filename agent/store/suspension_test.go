package store

import (
	"strings"
	"testing"
	"time"
)

// TestSuspension: a hold survives reopening the store; nil lifts it; a
// value that is not a suspension is an error, not "not suspended".
func TestSuspension(t *testing.T) {
	s := openTest(t)
	if got, err := s.Suspension(); got != nil || err != nil {
		t.Fatalf("a new store: %+v, %v", got, err)
	}
	want := Suspension{Revision: "abc", Since: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), Reason: "incident 42", From: "def"}
	if err := s.SetSuspension(&want); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	if got, err := s.Suspension(); err != nil || got == nil || *got != want {
		t.Errorf("after reopening: %+v, %v; want %+v", got, err, want)
	}
	if err := s.SetSuspension(&Suspension{}); err == nil {
		t.Error("a suspension without a revision was stored")
	}
	if err := s.SetSuspension(nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Suspension(); got != nil || err != nil {
		t.Errorf("after lifting: %+v, %v", got, err)
	}
	if err := s.SetMeta(MetaSuspension, "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Suspension(); err == nil || !strings.Contains(err.Error(), "is not a suspension") {
		t.Errorf("an unreadable suspension: %v", err)
	}
}
