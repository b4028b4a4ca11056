package refusal

import (
	"fmt"
	"testing"
)

// A wrapped refusal keeps its code; its status and heading are what the API and the pages
// show; anything else has no code.
func TestRefusal(t *testing.T) {
	err := fmt.Errorf("approve: %w", Errorf(Conflict, "request %s is %s", "req_1", "denied"))
	if CodeOf(err) != Conflict || err.Error() != "approve: request req_1 is denied" {
		t.Fatalf("wrapped refusal: %v %d", err, CodeOf(err))
	}
	if CodeOf(fmt.Errorf("database is locked")) != 0 {
		t.Fatal("a plain error has a code")
	}
	for _, c := range []struct {
		code    Code
		status  int
		heading string
	}{
		{Invalid, 400, "That did not work"},
		{Forbidden, 403, "Not allowed"},
		{NotFound, 404, "Not found"},
		{Conflict, 409, "Not possible now"},
		{Code(500), 400, "That did not work"},
		{Code(0), 400, "That did not work"},
	} {
		if c.code.Status() != c.status || c.code.Heading() != c.heading {
			t.Errorf("code %d: status %d heading %q", c.code, c.code.Status(), c.code.Heading())
		}
	}
}
