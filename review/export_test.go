package review

// SetFullRender makes Compute render every candidate node in full, the
// reference the targeted render is checked against.
func SetFullRender(on bool) { fullRender = on }
