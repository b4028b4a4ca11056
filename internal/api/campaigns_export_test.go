package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The evidence: each format is an attachment with its type, a file name and the SHA-256
// of exactly the body sent; a reviewer may not export.
func TestCampaignAPIExport(t *testing.T) {
	s := newJITServer(t, store.SQLite, true)
	due := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	var c apiCampaign
	if code, raw := s.call("carol", "POST", "/api/v1/campaigns", `{"name": "Export", "scope": {"accounts": ["`+s.prod+`"]}, "reviewers": {"people": ["dave@example.com"]}, "due": "`+due+`"}`, &c); code != 201 {
		t.Fatalf("create: %d %s", code, raw)
	}
	if code, raw := s.call("carol", "POST", "/api/v1/campaigns/"+c.ID+"/start", "", nil); code != 200 {
		t.Fatalf("start: %d %s", code, raw)
	}
	for format, ctype := range map[string]string{"csv": "text/csv", "json": "application/json", "html": "text/html"} {
		code, h, body := s.callHeader("carol", "GET", "/api/v1/campaigns/"+c.ID+"/export?format="+format, "", nil)
		sum := sha256.Sum256([]byte(body))
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), ctype) || h.Get("X-Content-SHA256") != hex.EncodeToString(sum[:]) ||
			!strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="`) || !strings.HasSuffix(h.Get("Content-Disposition"), "."+format+`"`) || len(body) == 0 ||
			h.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("export %s: %d %v (sha256 of the body %x)\n%.300s", format, code, h, sum, body)
		}
	}
	if d := s.problem("dave", "GET", "/api/v1/campaigns/"+c.ID+"/export?format=csv", "", 403); d != "this needs the auditor role" {
		t.Errorf("export as a reviewer: %q", d)
	}
}
