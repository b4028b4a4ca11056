package api_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestApplicationsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.UpsertConnection(ctx, store.Connection{ID: "aws", Name: "Production organization", Kind: "aws", Source: store.SourceConfig, Schedule: "1h", Config: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		seedInventory(t, st)
		a := newTestAPI(t, st)
		code, body := a.do("auditor", "GET", "/api/v1/applications", nil)
		if code != 200 {
			t.Fatalf("%d %v", code, body)
		}
		sameJSON(t, "applications", body["items"], `[{"id":"aws","name":"Production organization","kind":"aws","connection_id":"aws","counts":{},"last_sync":null}]`)
		if code, _ := a.do("person", "GET", "/api/v1/applications", nil); code != 403 {
			t.Fatalf("a person without a role: %d", code)
		}
		if code, body := a.do("auditor", "GET", "/api/v1/applications/nope", nil); code != 404 || body["detail"] != "no application nope (GET /api/v1/applications lists them)" {
			t.Fatalf("unknown application: %d %v", code, body)
		}
	})
}
