package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Findings of two syncs: what is opened, kept, changed and closed, the history, the
// counts of each sync, the filters and paging.
func TestFindingsHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t1 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		t2 := t1.Add(6 * time.Hour)
		mk := func(control, account, resource, status string) store.Finding {
			return store.Finding{Control: control, CISv5: "v5-" + control, Title: "t " + control, Account: account,
				Resource: resource, Status: status, Reason: status + " because", Fix: "do it",
				Evidence: map[string]any{"row": map[string]any{"user": resource}}}
		}
		alice := "arn:aws:iam::111111111111:user/alice"
		bob := "arn:aws:iam::111111111111:user/bob"
		res, err := s.ApplyFindings(ctx, "aws", "sync_1", t1, []store.Finding{
			mk("1.10", "111111111111", alice, store.FindingFail),
			mk("1.10", "111111111111", bob, store.FindingPass),
			mk("1.8", "111111111111", "111111111111", store.FindingUnknown),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Opened != 3 || res.Changed != 0 || res.Gone != 0 || res.Statuses["fail"] != 1 {
			t.Fatalf("first sync: %+v", res)
		}
		// Sync 2: alice fixed (resolved), bob's user deleted (gone), 1.8 now fails, a new one.
		res, err = s.ApplyFindings(ctx, "aws", "sync_2", t2, []store.Finding{
			mk("1.10", "111111111111", alice, store.FindingPass),
			mk("1.8", "111111111111", "111111111111", store.FindingFail),
			mk("1.4", "222222222222", "222222222222", store.FindingPass),
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Opened != 1 || res.Changed != 2 || res.Gone != 1 || res.Unchanged != 0 {
			t.Fatalf("second sync: %+v", res)
		}
		// Applying sync 2 again changes nothing.
		res, err = s.ApplyFindings(ctx, "aws", "sync_2", t2, []store.Finding{
			mk("1.10", "111111111111", alice, store.FindingPass),
			mk("1.8", "111111111111", "111111111111", store.FindingFail),
			mk("1.4", "222222222222", "222222222222", store.FindingPass),
		})
		if err != nil || res.Opened+res.Changed+res.Gone != 0 || res.Unchanged != 3 {
			t.Fatalf("sync 2 again: %+v %v", res, err)
		}

		all, err := s.ListFindings(ctx, store.FindingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range all {
			got = append(got, fmt.Sprintf("%s %s %s %s since=%s sync=%s", f.Account, f.Control, f.Resource, f.Status,
				f.Since.Format("15:04"), f.SyncID))
		}
		want := []string{
			"111111111111 1.10 " + alice + " pass since=16:00 sync=sync_2",
			"111111111111 1.8 111111111111 fail since=16:00 sync=sync_2",
			"222222222222 1.4 222222222222 pass since=16:00 sync=sync_2",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if all[0].ID != store.FindingID("aws", "1.10", "111111111111", alice) || all[0].CISv5 != "v5-1.10" ||
			all[0].Evidence["row"].(map[string]any)["user"] != alice || all[0].Fix != "do it" || !all[0].EvaluatedAt.Equal(t2) {
			t.Fatalf("finding read back: %+v", all[0])
		}

		evs, err := s.ListFindingEvents(ctx, time.Time{}, time.Time{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, e := range evs {
			got = append(got, fmt.Sprintf("%s %s %s %s %q->%q", e.SyncID, e.Control, e.Account, e.Resource, e.From, e.To))
		}
		want = []string{
			`sync_1 1.10 111111111111 ` + alice + ` ""->"fail"`,
			`sync_1 1.10 111111111111 ` + bob + ` ""->"pass"`,
			`sync_1 1.8 111111111111 111111111111 ""->"unknown"`,
			`sync_2 1.10 111111111111 ` + alice + ` "fail"->"pass"`,
			`sync_2 1.10 111111111111 ` + bob + ` "pass"->""`,
			`sync_2 1.4 222222222222 222222222222 ""->"pass"`,
			`sync_2 1.8 111111111111 111111111111 "unknown"->"fail"`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// The period and account filters.
		evs, err = s.ListFindingEvents(ctx, t2, t2, []string{"222222222222"})
		if err != nil || len(evs) != 1 || evs[0].Control != "1.4" {
			t.Fatalf("events of 222222222222 at sync 2: %+v %v", evs, err)
		}

		// Filters and paging.
		fails, err := s.ListFindings(ctx, store.FindingFilter{Status: "fail"})
		if err != nil || len(fails) != 1 || fails[0].Control != "1.8" {
			t.Fatalf("fails: %+v %v", fails, err)
		}
		some, err := s.ListFindings(ctx, store.FindingFilter{Accounts: []string{"222222222222"}, Control: "1.4"})
		if err != nil || len(some) != 1 {
			t.Fatalf("accounts filter: %+v %v", some, err)
		}
		page, next, err := s.ListFindingsPage(ctx, store.FindingFilter{ConnectionID: "aws"}, store.Page{Size: 2})
		if err != nil || len(page) != 2 || next == "" {
			t.Fatalf("page 1: %d %q %v", len(page), next, err)
		}
		page, next, err = s.ListFindingsPage(ctx, store.FindingFilter{ConnectionID: "aws"}, store.Page{Size: 2, Token: next})
		if err != nil || len(page) != 1 || next != "" || page[0].Control != "1.4" {
			t.Fatalf("page 2: %+v %q %v", page, next, err)
		}

		counts, err := s.FindingCounts(ctx, time.Time{}, store.FindingFilter{Account: "111111111111"})
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, c := range counts {
			got = append(got, fmt.Sprintf("%s %s pass=%d fail=%d unknown=%d", c.SyncID, c.Control, c.Pass, c.Fail, c.Unknown))
		}
		want = []string{"sync_1 1.10 pass=1 fail=1 unknown=0", "sync_1 1.8 pass=0 fail=0 unknown=1",
			"sync_2 1.10 pass=1 fail=0 unknown=0", "sync_2 1.8 pass=0 fail=1 unknown=0"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("counts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		// Sync 3 judges the same: nothing is rewritten, yet every finding reads as judged by
		// sync 3 (its connection's latest evaluation), with its since unchanged.
		t3 := t2.Add(time.Hour)
		res, err = s.ApplyFindings(ctx, "aws", "sync_3", t3, []store.Finding{
			mk("1.10", "111111111111", alice, store.FindingPass),
			mk("1.8", "111111111111", "111111111111", store.FindingFail),
			mk("1.4", "222222222222", "222222222222", store.FindingPass),
		})
		if err != nil || res.Unchanged != 3 {
			t.Fatalf("sync 3: %+v %v", res, err)
		}
		all, err = s.ListFindings(ctx, store.FindingFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			if f.SyncID != "sync_3" || !f.EvaluatedAt.Equal(t3) || !f.Since.Equal(t2) {
				t.Errorf("after sync 3: %s %s sync %s at %s since %s", f.Control, f.Resource, f.SyncID, f.EvaluatedAt, f.Since)
			}
		}
		one, err := s.GetFinding(ctx, all[0].ID)
		if err != nil || one.SyncID != "sync_3" {
			t.Fatalf("GetFinding: %+v %v", one, err)
		}

		// A status outside pass/fail/unknown is refused.
		if _, err := s.ApplyFindings(ctx, "aws", "sync_4", t3, []store.Finding{mk("1.4", "1", "1", "ok")}); err == nil ||
			!strings.Contains(err.Error(), `status "ok"`) {
			t.Fatalf("bad status: %v", err)
		}
	})
}
