package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newAccessRequestCommand is `gatehouse access request`: ask for just-in-time access to a
// permission set on an account (found by name or id in the caller's catalog), or to any
// entitlement of the catalog by id.
func newAccessRequestCommand() *cobra.Command {
	var server, account, permissionSet, entitlement, reason string
	var dur time.Duration
	var wait, breakGlass bool
	cmd := &cobra.Command{
		Use:   "request --account ACCOUNT --permission-set NAME [--for 1h] [--reason WHY] [--wait]",
		Short: "Request just-in-time access to a permission set on an account (or --entitlement ID)",
		Long: `gatehouse access request asks for access, as the catalog of the server offers it to you.
--account takes an account's name or id and --permission-set a permission set's name;
--entitlement takes a catalog id instead (e.g. account:111111111111:ps-0123456789abcdef, or
a group membership). --for is how long (the rule's default when not given, at most its
maximum). The request id and state go to stderr and the request, as one JSON line, to
stdout. With --wait the command waits until the access is active (exit 0) or the request
ends without it: denied, cancelled, failed (exit 1).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if entitlement == "" && account == "" {
				return errors.New("say what to request: --account ACCOUNT --permission-set NAME, or --entitlement ID (gatehouse access request --help)")
			}
			if entitlement != "" && (account != "" || permissionSet != "") {
				return errors.New("give either --entitlement, or --account with --permission-set, not both")
			}
			if dur < 0 {
				return fmt.Errorf("--for must be a positive duration such as 1h or 30m, got %s", dur)
			}
			c, err := newAPIClient(server)
			if err != nil {
				return err
			}
			ctx := contextOrBackground(cmd)
			if entitlement == "" {
				if entitlement, err = c.resolveEntitlement(ctx, account, permissionSet); err != nil {
					return err
				}
			}
			body := map[string]any{"entitlement_id": entitlement, "reason": reason}
			if dur > 0 {
				body["duration"] = dur.String()
			}
			if breakGlass {
				body["break_glass"] = true
			}
			raw, err := c.do(ctx, "POST", "/api/v1/requests", body, nil)
			if err != nil {
				return err
			}
			r, err := decodeRequest(raw)
			if err != nil {
				return err
			}
			if !wait {
				printRequest(cmd, "requested", r, raw)
				return nil
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "requested "+r.describe())
			r, raw, err = c.waitForRequest(ctx, cmd.ErrOrStderr(), r, raw, time.Second)
			fmt.Fprintln(cmd.OutOrStdout(), jsonLine(raw))
			if err != nil {
				return err
			}
			if r.State != "active" {
				return fmt.Errorf("request %s ended %s without access", r.ID, r.State)
			}
			return nil
		},
	}
	serverFlag(cmd, &server)
	cmd.Flags().StringVar(&account, "account", "", "the account: its name or its 12-digit id")
	cmd.Flags().StringVar(&permissionSet, "permission-set", "", "the permission set's name, e.g. AdministratorAccess")
	cmd.Flags().StringVar(&entitlement, "entitlement", "", "a catalog entitlement id instead of --account and --permission-set")
	cmd.Flags().DurationVar(&dur, "for", 0, "how long, e.g. 1h or 30m (default: the rule's default)")
	cmd.Flags().StringVar(&reason, "reason", "", "why you need it (the approvers read it; some rules require it)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the access is active, or the request ends without it")
	cmd.Flags().BoolVar(&breakGlass, "break-glass", false, "self-approved emergency access, where a rule allows it (approvers are alerted and review it afterwards)")
	return cmd
}

// catalogItemView is what the command reads of a catalog item.
type catalogItemView struct {
	ID                string `json:"id"`
	DisplayName       string `json:"display_name"`
	ResourceType      string `json:"resource_type"`
	AccountID         string `json:"account_id"`
	AccountName       string `json:"account_name"`
	PermissionSetName string `json:"permission_set_name"`
	MaxDuration       string `json:"max_duration"`
}

// catalog reads every page of the caller's catalog (of one account when accountID is set).
func (c *apiClient) catalog(ctx context.Context, accountID string) ([]catalogItemView, error) {
	var all []catalogItemView
	token := ""
	for {
		q := url.Values{"page_size": {"1000"}}
		if accountID != "" {
			q.Set("account_id", accountID)
		}
		if token != "" {
			q.Set("page_token", token)
		}
		var page struct {
			Items []catalogItemView `json:"items"`
			Next  string            `json:"next_page_token"`
		}
		if _, err := c.do(ctx, "GET", "/api/v1/catalog?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		token = page.Next
	}
}

// isAccountID says whether s is a 12-digit AWS account id.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// resolveEntitlement finds the catalog item of a permission set on an account, each given
// by name (or the account by id), and says what there is when it finds none or several.
func (c *apiClient) resolveEntitlement(ctx context.Context, account, permissionSet string) (string, error) {
	filter := ""
	if isAccountID(account) {
		filter = account
	}
	items, err := c.catalog(ctx, filter)
	if err != nil {
		return "", err
	}
	var onAccount []catalogItemView
	accounts := map[string]bool{}
	for _, it := range items {
		if it.ResourceType != "account" && it.ResourceType != "" {
			continue
		}
		accounts[accountLabel(it)] = true
		if it.AccountID == account || strings.EqualFold(it.AccountName, account) {
			onAccount = append(onAccount, it)
		}
	}
	if len(onAccount) == 0 {
		if len(accounts) == 0 {
			return "", fmt.Errorf("your catalog on %s has no account you may request access to (ask an admin for a rule, or look at the catalog in the web UI to see why)", c.server)
		}
		return "", fmt.Errorf("no account %q in your catalog; you may request access on: %s", account, strings.Join(sortedKeys(accounts), ", "))
	}
	if permissionSet == "" {
		return "", fmt.Errorf("say which permission set with --permission-set; on %s you may request: %s", account, strings.Join(permissionSetNames(onAccount), ", "))
	}
	var found []catalogItemView
	for _, it := range onAccount {
		if strings.EqualFold(it.PermissionSetName, permissionSet) {
			found = append(found, it)
		}
	}
	switch {
	case len(found) == 0:
		return "", fmt.Errorf("no permission set %q you may request on %s; you may request: %s", permissionSet, account, strings.Join(permissionSetNames(onAccount), ", "))
	case len(found) > 1:
		var which []string
		for _, it := range found {
			which = append(which, accountLabel(it))
		}
		sort.Strings(which)
		return "", fmt.Errorf("several accounts are named %q (%s): give --account the account's id", account, strings.Join(which, ", "))
	}
	return found[0].ID, nil
}

func accountLabel(it catalogItemView) string {
	if it.AccountName == "" {
		return it.AccountID
	}
	return it.AccountName + " (" + it.AccountID + ")"
}

func permissionSetNames(items []catalogItemView) []string {
	set := map[string]bool{}
	for _, it := range items {
		set[it.PermissionSetName] = true
	}
	return sortedKeys(set)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
