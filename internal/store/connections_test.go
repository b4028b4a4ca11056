package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestConnectionsCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.GetConnection(ctx, "aws"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetConnection of nothing: %v, want ErrNotFound", err)
		}
		created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		c := store.Connection{ID: "aws", Name: "Production", Kind: "aws", Source: store.SourceConfig, Schedule: "1h",
			CreatedAt: created, UpdatedAt: created, Config: json.RawMessage(`{"role_arn":"arn:aws:iam::111111111111:role/R"}`), SealedSecrets: "gh1.abcd.xyz"}
		if err := s.UpsertConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertConnection(ctx, store.Connection{ID: "b-ui", Name: "B", Kind: "aws", Source: store.SourceUI, Schedule: "30m"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetConnection(ctx, "aws")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Production" || got.Source != "config" || got.Schedule != "1h" || !got.CreatedAt.Equal(created) ||
			string(got.Config) != string(c.Config) || got.SealedSecrets != "gh1.abcd.xyz" {
			t.Fatalf("got %+v", got)
		}
		// An update replaces everything but the creation time.
		later := created.Add(time.Hour)
		c.Name, c.Schedule, c.CreatedAt, c.UpdatedAt, c.SealedSecrets = "Prod", "2h", later, later, ""
		if err := s.UpsertConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetConnection(ctx, "aws")
		if got.Name != "Prod" || got.Schedule != "2h" || !got.CreatedAt.Equal(created) || !got.UpdatedAt.Equal(later) || got.SealedSecrets != "" {
			t.Fatalf("after update %+v", got)
		}
		list, err := s.ListConnections(ctx)
		if err != nil || len(list) != 2 || list[0].ID != "aws" || list[1].ID != "b-ui" || string(list[1].Config) != "{}" {
			t.Fatalf("list = %+v, %v", list, err)
		}
		if err := s.DeleteConnection(ctx, "b-ui"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteConnection(ctx, "b-ui"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v, want ErrNotFound", err)
		}
		list, _ = s.ListConnections(ctx)
		if len(list) != 1 {
			t.Fatalf("after delete: %+v", list)
		}
	})
}
