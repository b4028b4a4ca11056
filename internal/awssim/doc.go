// Package awssim is a simulated AWS that speaks the real wire protocols.
//
// One HTTP listener serves IAM and STS (AWS query protocol), Organizations, SSO Admin
// and Identity Store (AWS JSON 1.1), S3 (REST XML, path-style) and the Identity Center
// SCIM 2.0 API. The service of a request is read from its SigV4 credential scope and the
// signature is verified against the simulated credential store, so the unmodified
// aws-sdk-go-v2 clients, the AWS CLI and boto3 work against it with only the endpoint
// URL changed.
//
// The package owns the simulated state (World: accounts, IAM, the organization, the
// Identity Center instance, buckets), the enforcement of the caller's identity policies,
// per-service quotas, latency and injected faults, per-operation call counters, a
// deterministic generator of organizations (Generate) and a YAML fixture format
// (LoadFixture). Tests read and change the state directly through Sim.Do.
package awssim
