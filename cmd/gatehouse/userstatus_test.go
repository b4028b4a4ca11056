package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// dumpUserStatus renders each Identity Center user's status as the file holds it: the
// resource status with its detail, and the profile's status, status_source and active,
// one line per user, so a golden pins what a reviewer reads about each user.
func dumpUserStatus(t *testing.T, path string) string {
	t.Helper()
	ctx := context.Background()
	f := openC1Z(t, path)
	users, err := f.Resources(ctx, "sso_user")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range users {
		p := resource.GetProfile(r).AsMap()
		line := fmt.Sprintf("status sso_user:%s user=%v %s profile=%v source=%v", r.GetId().GetResource(), p["user_name"],
			strings.TrimPrefix(r.GetStatus().GetStatus().String(), "RESOURCE_STATUS_"), p["status"], p["status_source"])
		if a, ok := p["active"]; ok {
			line += fmt.Sprintf(" active=%v", a)
		}
		if d := r.GetStatus().GetDetails(); d != "" {
			line += " detail=" + d
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
