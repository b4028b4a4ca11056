package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A data source's External ID is written once: an update of every editable field keeps it.
// Reads are kept in full; latestOnly gives the last read of each key.
func TestDataSourcesStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		d := store.DataSource{ID: "ds_1", Type: "s3", Name: "HR exports", RoleARN: "arn:aws:iam::111111111111:role/R", Bucket: "b-1",
			Prefix: "hr/", Region: "eu-west-1", ExternalID: "ext-once", CreatedBy: "admin@example.com", CreatedAt: at, UpdatedAt: at}
		if err := s.CreateDataSource(ctx, d); err != nil {
			t.Fatal(err)
		}
		dup := d
		dup.ID = "ds_2"
		if err := s.CreateDataSource(ctx, dup); !errors.Is(err, store.ErrDuplicateName) {
			t.Errorf("second data source with the same name: %v, want ErrDuplicateName", err)
		}
		d.Name, d.RoleARN, d.Bucket, d.Prefix, d.Region, d.Schedule, d.ExternalID, d.UpdatedAt = "HR", "arn:aws:iam::111111111111:role/S", "b-2", "", "", "30m", "changed", at.Add(time.Hour)
		if err := s.UpdateDataSource(ctx, d); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetDataSource(ctx, "ds_1")
		if err != nil {
			t.Fatal(err)
		}
		if got.ExternalID != "ext-once" || got.Name != "HR" || got.Bucket != "b-2" || got.Schedule != "30m" || !got.CreatedAt.Equal(at) || got.LastSyncAt != nil {
			t.Errorf("after update: %+v", got)
		}
		if err := s.SetDataSourceResult(ctx, "ds_1", at.Add(2*time.Hour), "failed", "s3:ListBucket denied", `{"listed":0}`); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetDataSource(ctx, "ds_1")
		if got.LastState != "failed" || got.LastError != "s3:ListBucket denied" || got.LastSyncAt == nil || !got.LastSyncAt.Equal(at.Add(2*time.Hour)) {
			t.Errorf("after a failed sync: %+v", got)
		}
		for i, etag := range []string{"e1", "e2"} {
			if err := s.AddDataSourceObject(ctx, store.DataSourceObject{ID: "r" + etag, DataSourceID: "ds_1", Key: "users.csv", ETag: etag, Size: int64(10 + i),
				LastModified: at, ReadAt: at.Add(time.Duration(i) * time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		all, _ := s.DataSourceObjects(ctx, "ds_1", false)
		latest, err := s.DataSourceObjects(ctx, "ds_1", true)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || len(latest) != 1 || latest[0].ETag != "e2" || latest[0].Size != 11 {
			t.Errorf("reads %+v, latest %+v", all, latest)
		}
		// The page's recent reads: newest first, limited, with the total.
		if err := s.AddDataSourceObject(ctx, store.DataSourceObject{ID: "r3", DataSourceID: "ds_1", Key: "groups.csv", ETag: "g1", Size: 5,
			LastModified: at, ReadAt: at.Add(30 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		recent, total, err := s.RecentDataSourceObjects(ctx, "ds_1", 2)
		if err != nil || total != 3 || len(recent) != 2 || recent[0].ETag != "e2" || recent[1].ETag != "g1" || !recent[0].ReadAt.Equal(at.Add(time.Hour)) {
			t.Errorf("recent reads %+v, total %d, %v; want e2 then g1 of 3", recent, total, err)
		}
		if recent, total, _ := s.RecentDataSourceObjects(ctx, "ds_none", 50); len(recent) != 0 || total != 0 {
			t.Errorf("reads of an unknown source: %+v %d", recent, total)
		}
		list, _ := s.ListDataSources(ctx)
		if len(list) != 1 || list[0].ID != "ds_1" {
			t.Errorf("list = %+v", list)
		}
		if err := s.DeleteDataSource(ctx, "ds_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetDataSource(ctx, "ds_1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if err := s.DeleteDataSource(ctx, "ds_1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}
