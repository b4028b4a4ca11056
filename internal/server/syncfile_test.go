package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/c1zread"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
)

// A kept sync's .c1z downloads as a baton file of the organization at that sync, and the
// download is audited; a file that is gone says why.
func TestSyncFileDownload(t *testing.T) {
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Connections = []server.Connection{demoConnection(t)}
	srv := newServer(t, cfg)
	ctx := context.Background()
	sy, err := srv.App.Syncs.StartSync(ctx, &auth.Caller{Email: "ann@example.com", Roles: []string{"admin"}}, "aws")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !sy.Final() {
		if time.Now().After(deadline) {
			t.Fatalf("sync still %s", sy.State)
		}
		time.Sleep(100 * time.Millisecond)
		if sy, err = srv.App.Store.GetSync(ctx, sy.ID); err != nil {
			t.Fatal(err)
		}
	}
	auditor := &auth.Caller{Email: "carol@example.com", Roles: []string{"auditor"}, RemoteAddr: "127.0.0.1:5000"}
	code, body := call(t, srv.Router, auditor, "GET", "/api/v1/syncs/"+sy.ID+"/c1z", "")
	if code != 200 {
		t.Fatalf("download: %d %s", code, body)
	}
	file := filepath.Join(t.TempDir(), "down.c1z")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	contents, err := c1zread.Read(ctx, file, "account")
	if err != nil {
		t.Fatalf("the download is not a .c1z: %v", err)
	}
	names := map[string]bool{}
	for _, r := range contents.Resources {
		names[r.GetDisplayName()] = true
	}
	if !names["prod"] || !names["management"] {
		t.Fatalf("accounts in the downloaded file: %v", names)
	}
	entries, err := srv.App.Store.ListAudit(ctx, store.AuditFilter{Action: "sync.download"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "carol@example.com" || entries[0].Target != "sync:"+sy.ID || !strings.Contains(entries[0].Detail, `"connection":"aws"`) {
		t.Fatalf("audit of the download: %+v %v", entries, err)
	}

	if code, body := call(t, srv.Router, auditor, "GET", "/api/v1/syncs/nope/c1z", ""); code != 404 || !strings.Contains(body, "no sync nope") {
		t.Fatalf("unknown sync: %d %s", code, body)
	}
	if err := os.Remove(sy.C1ZPath); err != nil {
		t.Fatal(err)
	}
	if code, body := call(t, srv.Router, auditor, "GET", "/api/v1/syncs/"+sy.ID+"/c1z", ""); code != 404 || !strings.Contains(body, "is not on this replica") {
		t.Fatalf("file gone: %d %s", code, body)
	}
}
