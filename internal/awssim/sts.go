package awssim

import (
	"fmt"
	"strings"
	"time"
)

// STS: GetCallerIdentity and AssumeRole (query protocol).

func init() {
	register("sts", map[string]opHandler{
		"GetCallerIdentity": stsGetCallerIdentity,
		"AssumeRole":        stsAssumeRole,
	})
}

type callerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func stsGetCallerIdentity(q *request) (any, *apiError) {
	return callerIdentityResult{Arn: q.caller.ARN, UserID: q.caller.UserID, Account: q.caller.AccountID}, nil
}

type assumeRoleResult struct {
	Credentials struct {
		AccessKeyID     string    `xml:"AccessKeyId"`
		SecretAccessKey string    `xml:"SecretAccessKey"`
		SessionToken    string    `xml:"SessionToken"`
		Expiration      time.Time `xml:"Expiration"`
	} `xml:"Credentials"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	PackedPolicySize int `xml:"PackedPolicySize,omitempty"`
}

// stsAssumeRole checks the role's trust policy (principal and sts:ExternalId) and, for a
// caller that the trust policy names only through its account, the caller's own
// sts:AssumeRole permission, as AWS does.
func stsAssumeRole(q *request) (any, *apiError) {
	roleARN, err := q.required("RoleArn")
	if err != nil {
		return nil, err
	}
	sessionName, err := q.required("RoleSessionName")
	if err != nil {
		return nil, err
	}
	if len(sessionName) < 2 || len(sessionName) > 64 {
		return nil, validationError("sts", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64")
	}
	duration, err := q.intParam("DurationSeconds")
	if err != nil {
		return nil, err
	}
	if duration == 0 {
		duration = 3600
	}
	externalID := q.param("ExternalId")

	denied := &apiError{Status: 403, Code: "AccessDenied",
		Message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", q.caller.ARN, roleARN)}
	accountID, roleName, ok := parseRoleARN(roleARN)
	if !ok {
		return nil, validationError("sts", "RoleArn is not a valid IAM role ARN: "+roleARN)
	}
	a := q.w.Accounts[accountID]
	if a == nil || a.Status != "ACTIVE" {
		return nil, denied
	}
	role := a.Roles[roleName]
	if role == nil || role.ARN != roleARN {
		return nil, denied
	}
	if ok, _ := q.w.trustAllows(role, q.caller, externalID); !ok {
		return nil, denied
	}
	// The caller's identity policy must allow sts:AssumeRole too, unless the trust policy
	// names the caller itself in the same account (then the trust policy alone suffices).
	if !(accountID == q.caller.AccountID && trustNamesExactly(role.AssumeRolePolicy, q.caller)) {
		if q.authorize("sts:AssumeRole", roleARN) != nil {
			return nil, denied
		}
	}
	if int32(duration) > role.MaxSessionDuration || duration < 900 {
		return nil, validationError("sts", fmt.Sprintf("The requested DurationSeconds exceeds the MaxSessionDuration set for this role (%d), or is below 900.", role.MaxSessionDuration))
	}
	if q.caller.Role != nil && duration > 3600 {
		return nil, validationError("sts", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}

	lifetime := time.Duration(duration) * time.Second
	if d := q.sim.opts.SessionDuration; d > 0 {
		lifetime = d
	}
	sess := &Session{
		AccessKeyID:     q.w.uniqueID("ASIA"),
		SecretAccessKey: q.w.hexID(40),
		SessionToken:    "FwoGZXIvYXdzE" + q.w.hexID(120),
		AccountID:       accountID,
		RoleName:        roleName,
		SessionName:     sessionName,
		Expiration:      q.w.Now().Add(lifetime),
		IssuedAt:        q.w.now().UTC().Truncate(time.Millisecond),
	}
	q.w.Sessions[sess.AccessKeyID] = sess
	role.LastUsedDate, role.LastUsedRegion = q.w.Now(), q.region

	var res assumeRoleResult
	res.Credentials.AccessKeyID = sess.AccessKeyID
	res.Credentials.SecretAccessKey = sess.SecretAccessKey
	res.Credentials.SessionToken = sess.SessionToken
	// The world's clock may not be the wall clock (fixtures start at a fixed date). Clients
	// compare Expiration with their own clock, so report it on the wall clock: the same
	// remaining lifetime, measured from now. The session itself expires on the world's clock.
	// With a ClockSkew, the client is told the credentials last that much longer than
	// the simulator will accept them.
	res.Credentials.Expiration = time.Now().UTC().Add(sess.Expiration.Sub(q.w.Now()) + q.sim.opts.ClockSkew).Truncate(time.Second)
	res.AssumedRoleUser.AssumedRoleID = role.ID + ":" + sessionName
	res.AssumedRoleUser.Arn = "arn:aws:sts::" + accountID + ":assumed-role/" + roleName + "/" + sessionName
	return res, nil
}

// parseRoleARN splits arn:aws:iam::ACCOUNT:role/path/NAME.
func parseRoleARN(arn string) (account, name string, ok bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || !strings.HasPrefix(f[5], "role/") {
		return "", "", false
	}
	res := f[5]
	return f[4], res[strings.LastIndex(res, "/")+1:], true
}

// trustNamesExactly reports whether an Allow statement of the trust policy names the
// caller's own ARN (not just its account).
func trustNamesExactly(trustPolicy string, caller *Principal) bool {
	p, err := parsePolicy(trustPolicy)
	if err != nil {
		return false
	}
	for _, st := range p.statements {
		if st.effect != "Allow" {
			continue
		}
		for _, v := range st.principal.aws {
			if v == caller.IdentityARN() {
				return true
			}
		}
	}
	return false
}
