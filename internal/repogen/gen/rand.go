package gen

// rng is splitmix64: tiny, fast and fixed forever, so a seed gives the same
// repository with every Go release (math/rand makes no such promise for its
// derived methods).
type rng struct{ s uint64 }

// newRand returns the generator of stream i under seed.
func newRand(seed int64, i uint64) *rng {
	r := &rng{s: uint64(seed)*0x9e3779b97f4a7c15 ^ (i+1)*0xbf58476d1ce4e5b9}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return float64(r.next()>>11)/(1<<53) < p }

// perm returns a permutation of [0, n).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], i
	}
	return p
}

// token returns n characters drawn from chars.
func (r *rng) token(n int, chars string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.intn(len(chars))]
	}
	return string(b)
}
