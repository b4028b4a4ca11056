package datasource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// BaseOptions say how to find the principal Gatehouse runs as.
type BaseOptions struct {
	// Profile, Region and EndpointURL are as the AWS CLI's --profile, --region and
	// --endpoint-url; empty ones come from the standard chain (AWS_PROFILE, AWS_REGION...).
	Profile, Region, EndpointURL string
	// AccessKeyID and SecretAccessKey, when set, are used instead of the standard chain.
	AccessKeyID, SecretAccessKey string
	// MaxAttempts caps the SDK's attempts per call (its default when 0).
	MaxAttempts int
}

// BaseConfig loads the AWS configuration of the principal Gatehouse runs as.
func BaseConfig(ctx context.Context, o BaseOptions) (aws.Config, error) {
	var lo []func(*config.LoadOptions) error
	if o.Region != "" {
		lo = append(lo, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(o.Profile))
	}
	if o.EndpointURL != "" {
		lo = append(lo, config.WithBaseEndpoint(o.EndpointURL))
	}
	if o.AccessKeyID != "" {
		lo = append(lo, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, "")))
	}
	if o.MaxAttempts > 0 {
		lo = append(lo, config.WithRetryMaxAttempts(o.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		// STS and the bucket-location call answer in us-east-1 whatever the bucket's region.
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}
