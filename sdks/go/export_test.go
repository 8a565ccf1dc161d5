package hookrelay

import "time"

// SetClock lets tests check the timestamp tolerance against a delivery signed by the real worker.
func (v *Verifier) SetClock(now func() time.Time) { v.now = now }
