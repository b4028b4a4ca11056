package awssim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigv4Auth is a parsed SigV4 Authorization header.
type sigv4Auth struct {
	accessKey     string
	date          string
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// parseAuthorization reads the SigV4 Authorization header:
// AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex
func parseAuthorization(r *http.Request) (*sigv4Auth, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, &apiError{Status: 403, Code: "MissingAuthenticationToken", Message: "Request is missing Authentication Token"}
	}
	const scheme = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, scheme) {
		return nil, &apiError{Status: 400, Code: "IncompleteSignature", Message: "Authorization header requires the AWS4-HMAC-SHA256 scheme (the simulator accepts only SigV4)."}
	}
	a := &sigv4Auth{}
	for _, part := range strings.Split(h[len(scheme):], ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return nil, &apiError{Status: 400, Code: "IncompleteSignature", Message: "Credential must have the form ACCESS_KEY/DATE/REGION/SERVICE/aws4_request, got " + v}
			}
			a.accessKey, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKey == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return nil, &apiError{Status: 400, Code: "IncompleteSignature", Message: "Authorization header must contain Credential, SignedHeaders and Signature."}
	}
	return a, nil
}

// authenticate finds the credentials of the access key and verifies the signature.
// Callers hold s.mu.
func (s *Sim) authenticate(q *request, auth *sigv4Auth) (*Principal, *apiError) {
	w := q.w
	if err := checkScopeRegion(auth.service, auth.region); err != nil {
		return nil, err
	}
	var secret, token string
	p := &Principal{AccessKey: auth.accessKey}
	if sess, ok := w.Sessions[auth.accessKey]; ok {
		secret, token = sess.SecretAccessKey, sess.SessionToken
		if q.http.Header.Get("X-Amz-Security-Token") != sess.SessionToken {
			return nil, invalidToken(q.service)
		}
		if !w.Now().Before(sess.Expiration) {
			return nil, expiredToken(q.service)
		}
		a := w.Accounts[sess.AccountID]
		role := a.Roles[sess.RoleName]
		if role == nil {
			// The role was deleted after the session was issued.
			return nil, invalidToken(q.service)
		}
		p.AccountID, p.Role, p.Session = a.ID, role, sess
		p.ARN = "arn:aws:sts::" + a.ID + ":assumed-role/" + role.Name + "/" + sess.SessionName
		p.UserID = role.ID + ":" + sess.SessionName
	} else if s.adminKey.id != "" && auth.accessKey == s.adminKey.id {
		// The administrator's key is the management account's root user: allowed
		// everything in that account, as root is.
		secret = s.adminKey.secret
		p.AccountID, p.Root = w.ManagementAccountID, true
		p.ARN, p.UserID = "arn:aws:iam::"+w.ManagementAccountID+":root", w.ManagementAccountID
	} else {
		a, u, k := w.UserByAccessKey(auth.accessKey)
		if k == nil || k.Status != "Active" {
			return nil, invalidToken(q.service)
		}
		secret = k.Secret
		p.AccountID, p.User, p.ARN, p.UserID = a.ID, u, u.ARN, u.ID
	}
	if err := verifySignature(q, auth, secret, token); err != nil {
		return nil, err
	}
	if p.User != nil {
		// Record last use the way IAM does (date, service, region), and only for a request
		// whose signature holds: whoever merely knows a key id must not be able to make an
		// unused key look used.
		_, _, k := w.UserByAccessKey(auth.accessKey)
		k.LastUsedDate, k.LastUsedService, k.LastUsedRegion = w.Now(), auth.service, auth.region
		if auth.service == "iam" || auth.service == "sts" || auth.service == "organizations" {
			k.LastUsedRegion = "us-east-1"
		}
	}
	return p, nil
}

// awsRegions are the regions of the aws partition, which is the one the simulator plays.
// A credential scope naming anything else is refused, as AWS refuses it.
var awsRegions = map[string]bool{}

func init() {
	for _, r := range strings.Fields(`us-east-1 us-east-2 us-west-1 us-west-2 af-south-1
		ap-east-1 ap-east-2 ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ap-southeast-3
		ap-southeast-4 ap-southeast-5 ap-southeast-7 ap-northeast-1 ap-northeast-2 ap-northeast-3
		ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-west-1 eu-west-2 eu-west-3
		eu-south-1 eu-south-2 eu-north-1 il-central-1 me-south-1 me-central-1 mx-central-1
		sa-east-1`) {
		awsRegions[r] = true
	}
}

// globalRegion is the one region in which the aws partition's global services (IAM and
// Organizations, whose only endpoints are in us-east-1) accept signatures.
const globalRegion = "us-east-1"

// checkScopeRegion checks the region of the credential scope as AWS does, before the
// signature: a global service (IAM, Organizations) accepts only us-east-1, a regional
// one any region of the partition (the simulator serves every region on one endpoint;
// what exists in which region, such as the Identity Center instance or a bucket, the
// services check themselves). AWS answers "Credential should be scoped to a valid
// region" with the service's signature error code.
func checkScopeRegion(service, region string) *apiError {
	switch service {
	case "iam", "organizations":
		if region == globalRegion {
			return nil
		}
	default:
		if awsRegions[region] {
			return nil
		}
		if service == "s3" {
			return &apiError{Status: 400, Code: "AuthorizationHeaderMalformed",
				Message: "The authorization header is malformed; the region '" + region + "' is wrong; expecting '" + globalRegion + "'"}
		}
	}
	return signatureMismatch(service, "Credential should be scoped to a valid region, not '"+region+"'.")
}

// verifySignature recomputes the request's signature with the SDK's own signer over
// exactly the headers the client signed, and compares.
func verifySignature(q *request, auth *sigv4Auth, secret, token string) *apiError {
	r := q.http
	amzDate := r.Header.Get("X-Amz-Date")
	signingTime, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return &apiError{Status: 400, Code: "IncompleteSignature", Message: "X-Amz-Date header is missing or not in the form 20060102T150405Z"}
	}
	if d := time.Since(signingTime); d > 15*time.Minute || d < -15*time.Minute {
		return signatureMismatch(q.service, "Signature expired: "+amzDate+" is more than 15 minutes away from the current time.")
	}

	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	bodyHash := sha256.Sum256(q.body)
	switch {
	case payloadHash == "":
		payloadHash = hex.EncodeToString(bodyHash[:])
	case payloadHash == "UNSIGNED-PAYLOAD" || strings.HasPrefix(payloadHash, "STREAMING-"):
		// Chunk signatures of streaming uploads are not verified (see docs/simulator.md).
	case payloadHash != hex.EncodeToString(bodyHash[:]):
		return &apiError{Status: 400, Code: "XAmzContentSHA256Mismatch", Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
	}

	clone, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	clone.Host = r.Host
	for _, h := range auth.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			clone.ContentLength = r.ContentLength
		default:
			for _, v := range r.Header.Values(h) {
				clone.Header.Add(h, v)
			}
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = auth.service == "s3"
	})
	creds := aws.Credentials{AccessKeyID: auth.accessKey, SecretAccessKey: secret, SessionToken: token}
	if err := signer.SignHTTP(context.Background(), creds, clone, payloadHash, auth.service, auth.region, signingTime); err != nil {
		return signatureMismatch(q.service, "could not recompute the signature: "+err.Error())
	}
	want, _ := parseAuthorization(clone)
	if want == nil || !hmac.Equal([]byte(want.signature), []byte(auth.signature)) {
		return signatureMismatch(q.service, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

func invalidToken(service string) *apiError {
	switch service {
	case "iam", "sts":
		return &apiError{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."}
	case "s3":
		return &apiError{Status: 403, Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records."}
	}
	return &apiError{Status: 403, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
}

func expiredToken(service string) *apiError {
	switch service {
	case "iam", "sts":
		return &apiError{Status: 403, Code: "ExpiredToken", Message: "The security token included in the request is expired"}
	case "s3":
		return &apiError{Status: 400, Code: "ExpiredToken", Message: "The provided token has expired."}
	}
	return &apiError{Status: 403, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"}
}

func signatureMismatch(service, msg string) *apiError {
	switch service {
	case "iam", "sts", "s3":
		return &apiError{Status: 403, Code: "SignatureDoesNotMatch", Message: msg}
	}
	return &apiError{Status: 403, Code: "InvalidSignatureException", Message: msg}
}
