package notify

// AppTaskKinds are the just-in-time events of leases in applications imported from files
// (internal/jit, app_leases.go): their owner grants and revokes by hand, and imports show it.
// They are jit.Events like the others, delivered with the same webhook body (reason is what
// to do, to the owner).
var AppTaskKinds = []string{
	"app_task",           // a grant or revoke for the owner to make; reason is the exact change
	"app_task_cancelled", // a task is not needed any more (the access stays for another lease, or was released first)
	"app_task_overdue",   // a task waits past its due time: to the owner, and for a revoke the admins too
}

func init() { Kinds = append(Kinds, AppTaskKinds...) }
