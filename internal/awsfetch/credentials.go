package awsfetch

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// IAM user credentials (passwords, MFA devices, access keys) come from the credential
// report wherever it covers them, and from per-user calls only where it cannot:
//
//   - the report is up to four hours old (IAM reuses it), so users created after it are
//     not in it. Those users are read one by one: GetLoginProfile (console password),
//     GetUser (password last used), ListMFADevices, ListAccessKeys and
//     GetAccessKeyLastUsed for each key.
//   - the report carries each access key's last use, but not the key's id. With secrets
//     sync ListAccessKeys gives the ids, and a key is matched to its report column by its
//     creation time (the report's last_rotated); only keys the report does not hold
//     (created after it, or ambiguous) cost a GetAccessKeyLastUsed.
//   - the report says whether a user has MFA, not which devices. ListVirtualMFADevices
//     lists the virtual ones in bulk; hardware tokens and FIDO keys only show in
//     ListMFADevices, per user. It is called for users the report shows with MFA and no
//     virtual device (they must have another kind); and, when GetAccountSummary counts
//     more devices in use than those explain, for users with a virtual device as well
//     (a user may hold up to eight devices of any kind), then for everyone left.

// iamCredentials is what the credential part of an account's IAM fetch starts from.
type iamCredentials struct {
	client      *iam.Client
	users       []*inventory.User
	report      []*inventory.CredentialReportRow // nil without a report
	generatedAt time.Time
	// virtual are the virtual devices assigned to IAM users; rootVirtual counts those of
	// the root user.
	virtual     []*inventory.MFADevice
	rootVirtual int
	// inUse is GetAccountSummary's MFADevicesInUse, -1 when it could not be read.
	inUse       int
	syncSecrets bool
}

// credentialsResult is what fetchCredentials adds to the account's IAM.
type credentialsResult struct {
	mfa             []*inventory.MFADevice
	keys            []*inventory.AccessKey // every user's with secrets sync, else nil
	userCredentials []*inventory.CredentialReportRow
}

// fetchCredentials completes the credential report as described above.
func fetchCredentials(ctx context.Context, in iamCredentials) (*credentialsResult, error) {
	haveReport := in.report != nil
	rows := map[string]*inventory.CredentialReportRow{}
	var root *inventory.CredentialReportRow
	for _, r := range in.report {
		if r.User == "<root_account>" {
			root = r
			continue
		}
		rows[r.User] = r
	}
	// covered: the report's row describes this very user. A user created after the
	// report, or deleted and recreated under the same name since, is not covered.
	covered := map[string]*inventory.CredentialReportRow{}
	var uncovered []*inventory.User
	for _, u := range in.users {
		if r := rows[u.Name]; r != nil && reportCovers(r, u, in.generatedAt) {
			covered[u.Name] = r
		} else if haveReport {
			uncovered = append(uncovered, u)
		}
	}

	// Access keys: every user's with secrets sync; otherwise only the uncovered users',
	// whose profile needs them.
	keyUsers := uncovered
	if in.syncSecrets {
		keyUsers = in.users
	}
	unread := newUnread()
	keysOf, err := listAccessKeys(ctx, in.client, keyUsers, unread, !in.syncSecrets)
	if err != nil {
		return nil, err
	}
	if err := keysLastUsed(ctx, in.client, keysOf, covered, in.generatedAt, unread); err != nil {
		return nil, err
	}

	// The uncovered users' console password and its last use.
	logins, err := loginsOf(ctx, in.client, uncovered, unread)
	if err != nil {
		return nil, err
	}

	mfa, err := mfaDevices(ctx, in, covered, uncovered, root, unread)
	if err != nil {
		return nil, err
	}

	out := &credentialsResult{mfa: mfa}
	if in.syncSecrets {
		out.keys = []*inventory.AccessKey{}
		for _, u := range in.users {
			out.keys = append(out.keys, keysOf[u.Name]...)
		}
		sort.Slice(out.keys, func(i, j int) bool {
			if out.keys[i].UserName != out.keys[j].UserName {
				return out.keys[i].UserName < out.keys[j].UserName
			}
			return out.keys[i].ID < out.keys[j].ID
		})
	}
	devicesOf := map[string]int{}
	for _, d := range mfa {
		devicesOf[d.UserName]++
	}
	for _, u := range uncovered {
		row := &inventory.CredentialReportRow{User: u.Name, ARN: u.ARN, CreatedAt: u.CreatedAt,
			MFAActive: devicesOf[u.Name] > 0, Unread: unread.of(u.Name)}
		if l := logins[u.Name]; l != nil {
			row.PasswordEnabled, row.PasswordLastUsed = l.enabled, l.lastUsed
		}
		// The report's two key columns, oldest key first.
		keys := append([]*inventory.AccessKey(nil), keysOf[u.Name]...)
		sort.SliceStable(keys, func(i, j int) bool { return keys[i].CreatedAt.Before(keys[j].CreatedAt) })
		for i, k := range keys[:min(2, len(keys))] {
			row.AccessKeys[i] = inventory.CredentialReportKey{Active: k.Status == string(types.StatusTypeActive), LastRotated: k.CreatedAt,
				LastUsed: k.LastUsedAt, LastUsedRegion: k.LastUsedRegion, LastUsedService: k.LastUsedService}
		}
		out.userCredentials = append(out.userCredentials, row)
	}
	return out, nil
}

// reportCovers reports whether the report's row describes the user: the user existed
// when the report was generated, and was created when the row says (not deleted and
// recreated under the same name since).
func reportCovers(r *inventory.CredentialReportRow, u *inventory.User, generatedAt time.Time) bool {
	created := u.CreatedAt.Truncate(time.Second)
	if !generatedAt.IsZero() && created.After(generatedAt) {
		return false
	}
	return r.ARN == u.ARN && (r.CreatedAt.IsZero() || r.CreatedAt.Equal(created))
}

// unreadCalls records, per user, the per-user calls IAM denied. A role whose policy was
// generated before these calls were needed may lack them; the user's credentials are
// then partly unknown, which the profile says, rather than the account failing.
type unreadCalls struct {
	mu     sync.Mutex
	byUser map[string][]string
}

func newUnread() *unreadCalls { return &unreadCalls{byUser: map[string][]string{}} }

// denied records the action when err is a denial, and reports whether it was.
func (u *unreadCalls) denied(user, action string, err error) bool {
	if !isDenied(err) {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, a := range u.byUser[user] {
		if a == action {
			return true
		}
	}
	u.byUser[user] = append(u.byUser[user], action)
	return true
}

func (u *unreadCalls) of(user string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := append([]string(nil), u.byUser[user]...)
	sort.Strings(out)
	return out
}

// listAccessKeys lists the users' access keys, by user name. With tolerateDenied (the
// keys of users newer than the report, without secrets sync) a denial is recorded in
// unread instead of failing the account.
func listAccessKeys(ctx context.Context, client *iam.Client, users []*inventory.User, unread *unreadCalls, tolerateDenied bool) (map[string][]*inventory.AccessKey, error) {
	var mu sync.Mutex
	out := map[string][]*inventory.AccessKey{}
	err := forEach(ctx, users, perUserWorkers, func(ctx context.Context, u *inventory.User) error {
		var keys []*inventory.AccessKey
		err := paginate("ListAccessKeys", func(marker *string) (*string, error) {
			page, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u.Name), MaxItems: aws.Int32(iamPageSize), Marker: marker})
			if err != nil {
				return nil, err
			}
			for _, k := range page.AccessKeyMetadata {
				keys = append(keys, &inventory.AccessKey{ID: aws.ToString(k.AccessKeyId), UserName: u.Name, UserARN: u.ARN,
					Status: string(k.Status), CreatedAt: aws.ToTime(k.CreateDate).UTC()})
			}
			return iamMarker(page.IsTruncated, page.Marker), nil
		})
		if err != nil {
			if tolerateDenied && unread.denied(u.Name, "iam:ListAccessKeys", err) {
				return nil
			}
			return wrapf(err, "ListAccessKeys for %s", u.Name)
		}
		mu.Lock()
		out[u.Name] = keys
		mu.Unlock()
		return nil
	})
	return out, err
}

// keysLastUsed fills each key's last use: from the report's column of that key when the
// report covers the user and holds the key, else with GetAccessKeyLastUsed. A key is
// matched by its creation time, which is what the report calls last_rotated (IAM keys
// cannot be rotated in place); two keys created in the same second are not told apart
// and are both asked for. Keys created after the report are never in it.
func keysLastUsed(ctx context.Context, client *iam.Client, keysOf map[string][]*inventory.AccessKey, covered map[string]*inventory.CredentialReportRow, generatedAt time.Time, unread *unreadCalls) error {
	var ask []*inventory.AccessKey
	for user, keys := range keysOf {
		row := covered[user]
		for _, k := range keys {
			if row != nil && (generatedAt.IsZero() || !k.CreatedAt.After(generatedAt)) {
				if col, ok := reportColumnOf(row, k, keys); ok {
					k.LastUsedAt, k.LastUsedService, k.LastUsedRegion = col.LastUsed, col.LastUsedService, col.LastUsedRegion
					continue
				}
			}
			ask = append(ask, k)
		}
	}
	sort.Slice(ask, func(i, j int) bool { return ask[i].ID < ask[j].ID })
	return forEach(ctx, ask, perUserWorkers, func(ctx context.Context, k *inventory.AccessKey) error {
		used, err := client.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.ID)})
		if err != nil {
			if covered[k.UserName] == nil && unread.denied(k.UserName, "iam:GetAccessKeyLastUsed", err) {
				return nil
			}
			return wrapf(err, "GetAccessKeyLastUsed for %s", k.ID)
		}
		if lu := used.AccessKeyLastUsed; lu != nil {
			k.LastUsedAt = aws.ToTime(lu.LastUsedDate).UTC()
			k.LastUsedService = reportText(aws.ToString(lu.ServiceName))
			k.LastUsedRegion = reportText(aws.ToString(lu.Region))
		}
		return nil
	})
}

// reportColumnOf finds the report's column of key k among the user's keys.
func reportColumnOf(row *inventory.CredentialReportRow, k *inventory.AccessKey, keys []*inventory.AccessKey) (inventory.CredentialReportKey, bool) {
	created := k.CreatedAt.Truncate(time.Second)
	for _, other := range keys {
		if other != k && other.CreatedAt.Truncate(time.Second).Equal(created) {
			return inventory.CredentialReportKey{}, false
		}
	}
	for _, col := range row.AccessKeys {
		if !col.LastRotated.IsZero() && col.LastRotated.Equal(created) {
			return col, true
		}
	}
	return inventory.CredentialReportKey{}, false
}

// login is a user's console password as per-user calls read it.
type login struct {
	enabled  bool
	lastUsed time.Time
}

// loginsOf reads the console password of users the report does not cover:
// GetLoginProfile says whether there is one, GetUser when it was last used (IAM keeps
// that after a password is removed, as the report does).
func loginsOf(ctx context.Context, client *iam.Client, users []*inventory.User, unread *unreadCalls) (map[string]*login, error) {
	var mu sync.Mutex
	out := map[string]*login{}
	err := forEach(ctx, users, perUserWorkers, func(ctx context.Context, u *inventory.User) error {
		l := &login{}
		// NoSuchEntity: the user has no console password, an answer and not a failure.
		_, err := client.GetLoginProfile(withAnswers(ctx, "NoSuchEntity"), &iam.GetLoginProfileInput{UserName: aws.String(u.Name)})
		switch {
		case err == nil:
			l.enabled = true
		case errorCode(err) == "NoSuchEntity":
		case unread.denied(u.Name, "iam:GetLoginProfile", err):
		default:
			return wrapf(err, "GetLoginProfile for %s", u.Name)
		}
		got, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(u.Name)})
		switch {
		case err == nil:
			if got.User != nil {
				l.lastUsed = aws.ToTime(got.User.PasswordLastUsed).UTC()
			}
		case unread.denied(u.Name, "iam:GetUser", err):
		default:
			return wrapf(err, "GetUser for %s", u.Name)
		}
		mu.Lock()
		out[u.Name] = l
		mu.Unlock()
		return nil
	})
	return out, err
}

// mfaDevices lists every MFA device assigned to the account's users: the virtual ones
// in bulk, the others with ListMFADevices for as few users as tell them all apart (see
// the top of this file). Without a report nothing says who has a device, so every user
// is asked.
func mfaDevices(ctx context.Context, in iamCredentials, covered map[string]*inventory.CredentialReportRow, uncovered []*inventory.User, root *inventory.CredentialReportRow, unread *unreadCalls) ([]*inventory.MFADevice, error) {
	var mu sync.Mutex
	out := append([]*inventory.MFADevice(nil), in.virtual...)
	seen := map[string]bool{}
	hasVirtual := map[string]bool{}
	for _, d := range in.virtual {
		seen[d.Serial] = true
		hasVirtual[d.UserName] = true
	}
	asked := map[string]bool{}
	others := 0 // devices found that are not virtual
	ask := func(users []string, tolerateDenied map[string]bool) error {
		for _, u := range users {
			asked[u] = true
		}
		return forEach(ctx, users, perUserWorkers, func(ctx context.Context, user string) error {
			err := paginate("ListMFADevices", func(marker *string) (*string, error) {
				page, err := in.client.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(user), MaxItems: aws.Int32(iamPageSize), Marker: marker})
				if err != nil {
					return nil, err
				}
				mu.Lock()
				for _, d := range page.MFADevices {
					serial := aws.ToString(d.SerialNumber)
					if seen[serial] {
						continue
					}
					seen[serial] = true
					// A virtual device assigned since the bulk listing is still virtual
					// (its serial is an ARN of the mfa type), and explains nothing else.
					virtual := strings.HasPrefix(serial, "arn:") && strings.Contains(serial, ":mfa/")
					if !virtual {
						others++
					}
					out = append(out, &inventory.MFADevice{Serial: serial, Virtual: virtual, UserName: user, EnabledAt: aws.ToTime(d.EnableDate).UTC()})
				}
				mu.Unlock()
				return iamMarker(page.IsTruncated, page.Marker), nil
			})
			if err != nil {
				if tolerateDenied[user] && unread.denied(user, "iam:ListMFADevices", err) {
					return nil
				}
				return wrapf(err, "ListMFADevices for %s", user)
			}
			return nil
		})
	}
	notAsked := func(keep func(u *inventory.User) bool) []string {
		var names []string
		for _, u := range in.users {
			if !asked[u.Name] && keep(u) {
				names = append(names, u.Name)
			}
		}
		return names
	}

	if in.report == nil {
		if err := ask(notAsked(func(*inventory.User) bool { return true }), nil); err != nil {
			return nil, err
		}
		return sortDevices(out), nil
	}
	// Users the report shows with MFA but no virtual device hold another kind; users
	// newer than the report are asked anyway.
	first := notAsked(func(u *inventory.User) bool {
		r := covered[u.Name]
		return r != nil && r.MFAActive && !hasVirtual[u.Name]
	})
	newer := map[string]bool{}
	for _, u := range uncovered {
		newer[u.Name] = true
		first = append(first, u.Name)
	}
	if err := ask(first, newer); err != nil {
		return nil, err
	}
	// Devices in use that neither the virtual list nor the calls so far explain belong
	// to users not asked yet: first those with a virtual device, then everyone else. The
	// root user's devices count too; one that is not virtual is counted as one, the
	// least it can be, so that an unknown is always asked about rather than assumed.
	rootOthers := 0
	if root != nil && root.MFAActive && in.rootVirtual == 0 {
		rootOthers = 1
	}
	unexplained := func() bool {
		return in.inUse < 0 || in.inUse > len(in.virtual)+in.rootVirtual+others+rootOthers
	}
	if unexplained() {
		if err := ask(notAsked(func(u *inventory.User) bool { return hasVirtual[u.Name] }), nil); err != nil {
			return nil, err
		}
	}
	if in.inUse >= 0 && unexplained() {
		if err := ask(notAsked(func(*inventory.User) bool { return true }), nil); err != nil {
			return nil, err
		}
	}
	return sortDevices(out), nil
}

func sortDevices(out []*inventory.MFADevice) []*inventory.MFADevice {
	sort.Slice(out, func(i, j int) bool {
		if out[i].UserName != out[j].UserName {
			return out[i].UserName < out[j].UserName
		}
		return out[i].Serial < out[j].Serial
	})
	return out
}
