package awsfetch

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
)

// ProfileNotFoundError is a named AWS profile (--profile or AWS_PROFILE) that is in
// neither shared file. The SDK's own words ("failed to get shared config profile, nope")
// do not say where it looked nor what to do.
type ProfileNotFoundError struct {
	// Profile is the name asked for.
	Profile string
	// FromEnv is set when the name came from AWS_PROFILE rather than --profile.
	FromEnv bool
	// ConfigFile and CredentialsFile are the files read, as the user would name them:
	// ~/.aws/... unless AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE say otherwise.
	ConfigFile, CredentialsFile string
	// Err is the SDK's error.
	Err error
}

func (e *ProfileNotFoundError) Error() string {
	from := ""
	if e.FromEnv {
		from = " (from AWS_PROFILE)"
	}
	return fmt.Sprintf("AWS profile %q%s is not in %s or %s (%s, or run \"aws configure --profile %s\")",
		e.Profile, from, e.ConfigFile, e.CredentialsFile, e.Fix(), e.Profile)
}

// Fix says which setting points at other files; the rest of the advice is in Error.
func (e *ProfileNotFoundError) Fix() string {
	if os.Getenv("AWS_CONFIG_FILE") != "" {
		return "check AWS_CONFIG_FILE"
	}
	return "set AWS_CONFIG_FILE"
}

func (e *ProfileNotFoundError) Unwrap() error { return e.Err }

// ExplainConfigError turns the SDK's error for a profile that does not exist into a
// ProfileNotFoundError; other errors of config.LoadDefaultConfig are returned as they
// are. flagProfile is the profile given on the command line ("" when none was), which
// tells a name from --profile from one from AWS_PROFILE.
func ExplainConfigError(err error, flagProfile string) error {
	var nf config.SharedConfigProfileNotExistError
	if !errors.As(err, &nf) {
		return err
	}
	e := &ProfileNotFoundError{Profile: nf.Profile, Err: err,
		ConfigFile: "~/.aws/config", CredentialsFile: "~/.aws/credentials"}
	if e.Profile == "" {
		e.Profile = flagProfile
	}
	e.FromEnv = flagProfile == "" && os.Getenv("AWS_PROFILE") != ""
	if f := os.Getenv("AWS_CONFIG_FILE"); f != "" {
		e.ConfigFile = f
	}
	if f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		e.CredentialsFile = f
	}
	return e
}

// CheckProfile says, before anything else runs, whether the named profile (or
// AWS_PROFILE's, when profile is "") is in the shared files; a profile that is not is a
// ProfileNotFoundError. Commands that only pass the profile on (the commands setup
// prints) or that run their fetch later (the connector) check it first, so that the
// mistake is named at once and in the same words everywhere.
func CheckProfile(ctx context.Context, profile string) error {
	name := profile
	if name == "" {
		name = os.Getenv("AWS_PROFILE")
	}
	if name == "" {
		return nil
	}
	// LoadSharedConfigProfile reads the default files only; the environment's are
	// what LoadDefaultConfig would read.
	_, err := config.LoadSharedConfigProfile(ctx, name, func(o *config.LoadSharedConfigOptions) {
		if f := os.Getenv("AWS_CONFIG_FILE"); f != "" {
			o.ConfigFiles = []string{f}
		}
		if f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
			o.CredentialsFiles = []string{f}
		}
	})
	var nf *ProfileNotFoundError
	if err := ExplainConfigError(err, profile); errors.As(err, &nf) {
		return err
	}
	// Anything else (a file that does not parse, a source_profile that is missing) is
	// reported by the SDK when the configuration is loaded.
	return nil
}
