package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// fixtureClock is the fixtures' clock (their now:), frozen, so that what the simulator
// stamps during a sync (the credential report's generation time, the operator key's last
// use) is the same in every run and can be pinned in a golden file.
func fixtureClock() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// syncWindow is when a `gatehouse sync` ran, by the wall clock, which is what the
// snapshot time (and so key ages) follows.
type syncWindow struct{ start, end time.Time }

// dumpProfiles renders the profile fields that issue 9 asks the goldens to pin, one line
// per IAM user and per synced account: status, console access, MFA (devices by type),
// password and last login, access keys with their dates and last use, and where the
// credential data came from (the credential report, with its time, or per-user calls).
//
// Key ages (age_days) are against the snapshot time, which is the wall clock of the run,
// so the golden cannot hold their value: the dump checks each against the key's date
// pinned beside it and the window the sync ran in, and prints age_days=checked.
func dumpProfiles(t *testing.T, path string, w syncWindow) string {
	t.Helper()
	ctx := context.Background()
	f := openC1Z(t, path)
	rs, err := f.Resources(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range rs {
		typ := r.GetId().GetResourceType()
		var fields []string
		p := resource.GetProfile(r).AsMap()
		switch typ {
		case "iam_user":
			fields = profileFields(t, p, w, "status", "console_access", "mfa_active", "mfa_devices", "password_last_used",
				"last_login", "access_keys", "access_key_ids", "credentials_source", "credential_report_generated_at", "credentials_unread", "credential_report")
		case "sso_user":
			// The title and enterprise attributes (the manager as AWS gives it, and
			// resolved to a user of the same store).
			fields = profileFields(t, p, w, "user_name", "title", "manager_id", "manager_email", "manager_name", "department", "division",
				"organization", "cost_center", "employee_number")
		case "account":
			if p["synced"] != true {
				continue
			}
			fields = profileFields(t, p, w, "credential_report_generated_at", "credential_report_error", "root_mfa_active", "root_active_access_keys")
		default:
			continue
		}
		lines = append(lines, "profile "+typ+":"+r.GetId().GetResource()+" "+strings.Join(fields, " "))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// profileFields renders the keys of p that are set, as key=value.
func profileFields(t *testing.T, p map[string]any, w syncWindow, keys ...string) []string {
	var out []string
	for _, k := range keys {
		v, ok := p[k]
		if !ok {
			continue
		}
		switch k {
		case "mfa_devices":
			var kinds []string
			for _, d := range v.([]any) {
				kinds = append(kinds, d.(map[string]any)["type"].(string))
			}
			out = append(out, k+"="+strings.Join(kinds, ","))
		case "access_keys":
			var keys []string
			for _, key := range v.([]any) {
				keys = append(keys, "{"+strings.Join(keyFields(t, key.(map[string]any), w), " ")+"}")
			}
			out = append(out, k+"="+strings.Join(keys, ","))
		case "access_key_ids", "credentials_unread":
			var s []string
			for _, x := range v.([]any) {
				s = append(s, x.(string))
			}
			out = append(out, k+"="+strings.Join(s, ","))
		default:
			out = append(out, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return out
}

func keyFields(t *testing.T, k map[string]any, w syncWindow) []string {
	var out []string
	for _, name := range []string{"slot", "access_key_id", "active", "created", "last_rotated", "last_used", "last_used_service", "last_used_region"} {
		if v, ok := k[name]; ok {
			out = append(out, fmt.Sprintf("%s=%v", name, v))
		}
	}
	if age, ok := k["age_days"]; ok {
		date, _ := k["created"].(string)
		if date == "" {
			date, _ = k["last_rotated"].(string)
		}
		created, err := time.Parse(time.RFC3339, date)
		if err != nil {
			t.Errorf("key %v has an age but no date", k)
			return out
		}
		days := func(at time.Time) float64 { return float64(int(at.Sub(created).Hours() / 24)) }
		if age != days(w.start.Truncate(time.Second)) && age != days(w.end) {
			t.Errorf("key %v: age_days %v, want %v (the days from %s to the sync, which ran %s to %s)", k, age, days(w.end), date, w.start, w.end)
		}
		out = append(out, "age_days=checked")
	}
	return out
}
