package awssim

import (
	"fmt"
	"time"
)

// IAM user credentials: console passwords (login profiles), access keys and MFA devices.

func init() {
	register("iam", map[string]opHandler{
		"GetLoginProfile":       iamGetLoginProfile,
		"CreateLoginProfile":    iamCreateLoginProfile,
		"DeleteLoginProfile":    iamDeleteLoginProfile,
		"CreateAccessKey":       iamCreateAccessKey,
		"ListAccessKeys":        iamListAccessKeys,
		"UpdateAccessKey":       iamUpdateAccessKey,
		"DeleteAccessKey":       iamDeleteAccessKey,
		"GetAccessKeyLastUsed":  iamGetAccessKeyLastUsed,
		"ListMFADevices":        iamListMFADevices,
		"ListVirtualMFADevices": iamListVirtualMFADevices,
		"DeactivateMFADevice":   iamDeactivateMFADevice,
	})
}

// Login profiles.

type xmlLoginProfile struct {
	UserName              string    `xml:"UserName"`
	CreateDate            time.Time `xml:"CreateDate"`
	PasswordResetRequired bool      `xml:"PasswordResetRequired"`
}

type loginProfileResult struct {
	LoginProfile xmlLoginProfile `xml:"LoginProfile"`
}

func noSuchLoginProfile(user string) *apiError {
	return &apiError{Status: 404, Code: "NoSuchEntity", Message: "Login Profile for User " + user + " cannot be found."}
}

func iamGetLoginProfile(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	if u.LoginProfile == nil {
		return nil, noSuchLoginProfile(u.Name)
	}
	return loginProfileResult{xmlLoginProfile{u.Name, u.LoginProfile.CreateDate, u.LoginProfile.PasswordResetRequired}}, nil
}

// iamCreateLoginProfile gives the user a console password. The simulator does not keep
// the password; it checks it against IAM's default password policy (at least 8
// characters) so that a client sees PasswordPolicyViolation as it would in AWS.
func iamCreateLoginProfile(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	password, err := q.required("Password")
	if err != nil {
		return nil, err
	}
	reset, err := q.boolParam("PasswordResetRequired")
	if err != nil {
		return nil, err
	}
	if u.LoginProfile != nil {
		return nil, entityExists("Login Profile for user " + u.Name + " already exists.")
	}
	if len(password) < 8 {
		return nil, &apiError{Status: 400, Code: "PasswordPolicyViolation", Message: "Password should have a minimum length of 8"}
	}
	u.LoginProfile = &LoginProfile{CreateDate: q.w.Now(), PasswordResetRequired: reset}
	return loginProfileResult{xmlLoginProfile{u.Name, u.LoginProfile.CreateDate, reset}}, nil
}

func iamDeleteLoginProfile(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	if u.LoginProfile == nil {
		return nil, noSuchLoginProfile(u.Name)
	}
	u.LoginProfile = nil
	return nil, nil
}

// Access keys.

type xmlAccessKeyMetadata struct {
	UserName    string    `xml:"UserName"`
	AccessKeyID string    `xml:"AccessKeyId"`
	Status      string    `xml:"Status"`
	CreateDate  time.Time `xml:"CreateDate"`
}

type createAccessKeyResult struct {
	AccessKey struct {
		UserName        string    `xml:"UserName"`
		AccessKeyID     string    `xml:"AccessKeyId"`
		Status          string    `xml:"Status"`
		SecretAccessKey string    `xml:"SecretAccessKey"`
		CreateDate      time.Time `xml:"CreateDate"`
	} `xml:"AccessKey"`
}

func iamCreateAccessKey(q *request) (any, *apiError) {
	u, err := q.userOrCaller()
	if err != nil {
		return nil, err
	}
	if len(u.AccessKeys) >= quotaAccessKeysPerUser {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", quotaAccessKeysPerUser))
	}
	k := q.account().AddAccessKey(q.w, u)
	var res createAccessKeyResult
	res.AccessKey.UserName, res.AccessKey.AccessKeyID, res.AccessKey.Status = u.Name, k.ID, k.Status
	res.AccessKey.SecretAccessKey, res.AccessKey.CreateDate = k.Secret, k.CreateDate
	return res, nil
}

type listAccessKeysResult struct {
	AccessKeyMetadata xmlList[xmlAccessKeyMetadata] `xml:"AccessKeyMetadata"`
	IsTruncated       bool                          `xml:"IsTruncated"`
	Marker            string                        `xml:"Marker,omitempty"`
}

func iamListAccessKeys(q *request) (any, *apiError) {
	u, err := q.userOrCaller()
	if err != nil {
		return nil, err
	}
	pg, next, err := iamPage(q, u.AccessKeys)
	if err != nil {
		return nil, err
	}
	res := listAccessKeysResult{IsTruncated: next != "", Marker: next}
	for _, k := range pg {
		res.AccessKeyMetadata.Member = append(res.AccessKeyMetadata.Member, xmlAccessKeyMetadata{u.Name, k.ID, k.Status, k.CreateDate})
	}
	return res, nil
}

// accessKeyParam finds the AccessKeyId among the keys of the user (UserName or caller).
func (q *request) accessKeyParam() (*User, int, *apiError) {
	id, err := q.required("AccessKeyId")
	if err != nil {
		return nil, 0, err
	}
	if len(id) < 16 || len(id) > 128 || !accessKeyPattern.MatchString(id) {
		return nil, 0, iamValidation("1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16", id)
	}
	u, err := q.userOrCaller()
	if err != nil {
		return nil, 0, err
	}
	for i, k := range u.AccessKeys {
		if k.ID == id {
			return u, i, nil
		}
	}
	return nil, 0, &apiError{Status: 404, Code: "NoSuchEntity", Message: "The Access Key with id " + id + " cannot be found."}
}

func iamUpdateAccessKey(q *request) (any, *apiError) {
	status, err := q.required("Status")
	if err != nil {
		return nil, err
	}
	if status != "Active" && status != "Inactive" {
		return nil, iamValidation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	u, i, err := q.accessKeyParam()
	if err != nil {
		return nil, err
	}
	u.AccessKeys[i].Status = status
	return nil, nil
}

func iamDeleteAccessKey(q *request) (any, *apiError) {
	u, i, err := q.accessKeyParam()
	if err != nil {
		return nil, err
	}
	u.AccessKeys = append(u.AccessKeys[:i:i], u.AccessKeys[i+1:]...)
	return nil, nil
}

type accessKeyLastUsedResult struct {
	UserName          string `xml:"UserName"`
	AccessKeyLastUsed struct {
		LastUsedDate *time.Time `xml:"LastUsedDate,omitempty"`
		ServiceName  string     `xml:"ServiceName"`
		Region       string     `xml:"Region"`
	} `xml:"AccessKeyLastUsed"`
}

// iamGetAccessKeyLastUsed reports a key of the caller's account. A key never used has no
// LastUsedDate and "N/A" for the service and region, as in AWS.
func iamGetAccessKeyLastUsed(q *request) (any, *apiError) {
	id, err := q.required("AccessKeyId")
	if err != nil {
		return nil, err
	}
	a := q.account()
	for _, name := range sortedKeys(a.Users) {
		for _, k := range a.Users[name].AccessKeys {
			if k.ID != id {
				continue
			}
			var res accessKeyLastUsedResult
			res.UserName = name
			res.AccessKeyLastUsed.LastUsedDate = optTime(k.LastUsedDate)
			res.AccessKeyLastUsed.ServiceName = orNA(k.LastUsedService)
			res.AccessKeyLastUsed.Region = orNA(k.LastUsedRegion)
			return res, nil
		}
	}
	return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "The Access Key with id " + id + " cannot be found."}
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

// MFA devices.

type xmlMFADevice struct {
	UserName     string    `xml:"UserName"`
	SerialNumber string    `xml:"SerialNumber"`
	EnableDate   time.Time `xml:"EnableDate"`
}

type listMFADevicesResult struct {
	MFADevices  xmlList[xmlMFADevice] `xml:"MFADevices"`
	IsTruncated bool                  `xml:"IsTruncated"`
	Marker      string                `xml:"Marker,omitempty"`
}

// iamListMFADevices lists the virtual and hardware devices enabled for the user.
func iamListMFADevices(q *request) (any, *apiError) {
	u, err := q.userOrCaller()
	if err != nil {
		return nil, err
	}
	pg, next, err := iamPage(q, q.account().MFAOf(u.Name))
	if err != nil {
		return nil, err
	}
	res := listMFADevicesResult{IsTruncated: next != "", Marker: next}
	for _, d := range pg {
		res.MFADevices.Member = append(res.MFADevices.Member, xmlMFADevice{u.Name, d.Serial, d.EnableDate})
	}
	return res, nil
}

type xmlVirtualMFADevice struct {
	SerialNumber string     `xml:"SerialNumber"`
	User         *xmlUser   `xml:"User,omitempty"`
	EnableDate   *time.Time `xml:"EnableDate,omitempty"`
}

type listVirtualMFADevicesResult struct {
	VirtualMFADevices xmlList[xmlVirtualMFADevice] `xml:"VirtualMFADevices"`
	IsTruncated       bool                         `xml:"IsTruncated"`
	Marker            string                       `xml:"Marker,omitempty"`
}

func iamListVirtualMFADevices(q *request) (any, *apiError) {
	a := q.account()
	status := q.param("AssignmentStatus")
	switch status {
	case "":
		status = "Any"
	case "Assigned", "Unassigned", "Any":
	default:
		return nil, iamValidation("1 validation error detected: Value '%s' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Unassigned, Any, Assigned]", status)
	}
	var devices []*MFADevice
	for _, serial := range sortedKeys(a.MFADevices) {
		d := a.MFADevices[serial]
		assigned := d.UserName != ""
		if d.Virtual && (status == "Any" || (status == "Assigned") == assigned) {
			devices = append(devices, d)
		}
	}
	pg, next, err := iamPage(q, devices)
	if err != nil {
		return nil, err
	}
	res := listVirtualMFADevicesResult{IsTruncated: next != "", Marker: next}
	for _, d := range pg {
		x := xmlVirtualMFADevice{SerialNumber: d.Serial}
		if u := a.Users[d.UserName]; u != nil {
			xu := toXMLUser(u, false)
			x.User, x.EnableDate = &xu, optTime(d.EnableDate)
		} else if d.UserName == RootMFAUser {
			// The root user's device names the root as its user, by ARN and account id.
			x.User = &xmlUser{UserID: a.ID, Arn: "arn:aws:iam::" + a.ID + ":root", CreateDate: a.JoinedAt}
			x.EnableDate = optTime(d.EnableDate)
		}
		res.VirtualMFADevices.Member = append(res.VirtualMFADevices.Member, x)
	}
	return res, nil
}

// iamDeactivateMFADevice unassigns a virtual device (it stays in the account, unassigned)
// or removes a hardware one, so that a user can be deleted.
func iamDeactivateMFADevice(q *request) (any, *apiError) {
	a := q.account()
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	serial, err := q.required("SerialNumber")
	if err != nil {
		return nil, err
	}
	d := a.MFADevices[serial]
	if d == nil || d.UserName != u.Name {
		return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "MFA Device with serial number " + serial + " does not exist."}
	}
	if d.Virtual {
		d.UserName, d.EnableDate = "", time.Time{}
	} else {
		delete(a.MFADevices, serial)
	}
	return nil, nil
}
