package awssim

// advanceAssignments completes assignment operations whose delay has passed.
func (w *World) advanceAssignments() {}
