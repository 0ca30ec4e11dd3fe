package launch

// spec's rules drover exec checks a spec against, and its cgroup names.
// launch must not import spec (it would initialise HCL and cty before every
// daemon start, see cmd/drover/internal/execfirst); TestSpecRulesMirrored
// keeps these equal to spec's.
const (
	minUID          = 1000      // spec.MinUID
	maxUID          = 1<<32 - 2 // spec.MaxUID
	minMaxOpenFiles = 64        // spec.MinMaxOpenFiles
	maxMaxOpenFiles = 1 << 20   // spec.MaxMaxOpenFiles
)

// memoryCgroup is spec.MemoryCgroup: "drover/{process}".
func memoryCgroup(process string) string { return "drover/" + process }
