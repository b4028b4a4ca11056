package awssim

import (
	"net/http"
)

// S3 (REST XML, path-style addressing: /BUCKET/KEY).

// s3Actions maps S3 operations to their IAM actions.
var s3Actions = map[string]string{
	"ListBuckets":   "s3:ListAllMyBuckets",
	"CreateBucket":  "s3:CreateBucket",
	"HeadBucket":    "s3:ListBucket",
	"ListObjectsV2": "s3:ListBucket",
	"GetObject":     "s3:GetObject",
	"HeadObject":    "s3:GetObject",
	"PutObject":     "s3:PutObject",
	"DeleteObject":  "s3:DeleteObject",
}

func init() {
	protocols["s3"] = &protocol{
		operation: func(q *request) (string, *apiError) {
			return "", &apiError{Status: 501, Code: "NotImplemented", Message: "S3 is not implemented yet"}
		},
		serve:    func(q *request, rw http.ResponseWriter) {},
		writeErr: func(q *request, rw http.ResponseWriter, e *apiError) { http.Error(rw, e.Code+": "+e.Message, e.Status) },
	}
}

// s3Resource is the bucket or object ARN of an S3 call.
func (q *request) s3Resource() string { return "" }
