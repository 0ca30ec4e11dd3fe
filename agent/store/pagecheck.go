package store

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
)

// checkPages reads the bbolt file at path directly and checks that every
// page reachable from the newest valid meta page is where it says it is and
// that every element's key and value lie inside its page. It returns a
// *corruptError if not.
//
// It exists because bbolt's tx.Check walks the tree in a goroutine of its
// own: a corrupt offset there panics (or faults) where no recover can reach,
// killing the agent on every start. After checkPages, tx.Check and the
// cursors find every offset in bounds and report what is left as errors.
//
// The layout is bbolt's file format version 2 (go.etcd.io/bbolt
// internal/common: page.go, meta.go, bucket.go), native byte order.
func checkPages(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m, ok := newestMeta(data)
	if !ok {
		return corrupt("not a bbolt file: no meta page with the right magic, version and checksum")
	}
	if m.pgid > uint64(len(data))/uint64(m.pageSize) {
		return corrupt("file is truncated: %d bytes, its pages need %d", len(data), m.pgid*uint64(m.pageSize))
	}
	c := &pageChecker{data: data, psize: uint64(m.pageSize), hw: m.pgid, seen: map[uint64]bool{}}
	if err := c.tree(m.root, 0); err != nil {
		return err
	}
	if m.freelist != noFreelist {
		return c.freelist(m.freelist)
	}
	return nil
}

// Page layout: a 16-byte header, then count 16-byte elements.
const (
	pageHeaderSize = 16
	elementSize    = 16
	bucketHeader   = 16 // a bucket's value: root pgid, sequence; an inline page follows if root is 0
	branchPage     = 0x01
	leafPage       = 0x02
	freelistPage   = 0x10
	noFreelist     = 1<<64 - 1
	bucketLeafFlag = 0x01
	maxTreeDepth   = 64
)

type meta struct {
	pageSize uint32
	root     uint64 // root bucket's page
	freelist uint64 // freelist's page, or noFreelist
	pgid     uint64 // high-water mark
	txid     uint64
}

// newestMeta returns the valid meta page with the highest txid, as bbolt
// does. Page 0's meta gives the page size, so where page 1 is; without it,
// the sizes bbolt supports are tried.
func newestMeta(data []byte) (meta, bool) {
	m0, ok0 := parseMeta(data, 0)
	var m1 meta
	var ok1 bool
	if ok0 {
		m1, ok1 = parseMeta(data, uint64(m0.pageSize))
	} else {
		for i := range 15 {
			if m1, ok1 = parseMeta(data, 1024<<i); ok1 {
				break
			}
		}
	}
	switch {
	case ok1 && (!ok0 || m1.txid > m0.txid):
		return m1, true
	case ok0:
		return m0, true
	}
	return meta{}, false
}

// parseMeta reads and validates the meta page at byte offset off.
func parseMeta(data []byte, off uint64) (meta, bool) {
	const size = pageHeaderSize + 64 // header, then magic..checksum
	if off+size > uint64(len(data)) {
		return meta{}, false
	}
	b := data[off+pageHeaderSize : off+size]
	ne := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:56])
	if ne.Uint32(b[0:]) != 0xED0CDAED || ne.Uint32(b[4:]) != 2 || ne.Uint64(b[56:]) != h.Sum64() {
		return meta{}, false
	}
	m := meta{pageSize: ne.Uint32(b[8:]), root: ne.Uint64(b[16:]), freelist: ne.Uint64(b[32:]), pgid: ne.Uint64(b[40:]), txid: ne.Uint64(b[48:])}
	if m.pageSize < 512 || m.pageSize > 1<<24 {
		return meta{}, false
	}
	return m, true
}

type pageChecker struct {
	data  []byte
	psize uint64
	hw    uint64
	seen  map[uint64]bool
}

// freelist checks the freelist page: every free page id is in range and
// not also in use.
func (c *pageChecker) freelist(id uint64) error {
	p, err := c.at(id)
	if err != nil {
		return err
	}
	ne := binary.NativeEndian
	if flags := ne.Uint16(p[8:]); flags != freelistPage {
		return corrupt("freelist page %d has type %#x", id, flags)
	}
	ids := p[pageHeaderSize:]
	count := uint64(ne.Uint16(p[10:]))
	if count == 0xFFFF { // the real count is in the first element
		count = ne.Uint64(ids)
		ids = ids[8:]
	}
	if count > uint64(len(ids))/8 {
		return corrupt("freelist page %d: %d ids do not fit", id, count)
	}
	for i := range count {
		free := ne.Uint64(ids[i*8:])
		if free < 2 || free >= c.hw || c.seen[free] {
			return corrupt("freelist page %d: page %d cannot be free (out of range, in use or listed twice)", id, free)
		}
		c.seen[free] = true
	}
	return nil
}

// tree checks the B+tree whose root is page id.
func (c *pageChecker) tree(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return corrupt("page %d: tree deeper than %d", id, maxTreeDepth)
	}
	p, err := c.at(id)
	if err != nil {
		return err
	}
	return c.page(p, fmt.Sprint("page ", id), false, depth)
}

// at returns page id with its overflow pages, marking them in use; no
// page may be used twice.
func (c *pageChecker) at(id uint64) ([]byte, error) {
	if id < 2 || id >= c.hw {
		return nil, corrupt("page id %d out of range [2, %d)", id, c.hw)
	}
	off := id * c.psize
	ne := binary.NativeEndian
	if got := ne.Uint64(c.data[off:]); got != id {
		return nil, corrupt("page %d identifies as page %d", id, got)
	}
	overflow := uint64(ne.Uint32(c.data[off+12:]))
	if id+overflow >= c.hw {
		return nil, corrupt("page %d: overflow %d runs past the last page", id, overflow)
	}
	for i := id; i <= id+overflow; i++ {
		if c.seen[i] {
			return nil, corrupt("page %d is used twice", i)
		}
		c.seen[i] = true
	}
	return c.data[off : off+(overflow+1)*c.psize], nil
}

// page checks one page (p is all of it, overflow included) and what it
// references; name says where it is for errors. An inline bucket's page,
// stored in its parent's value, must be a leaf.
func (c *pageChecker) page(p []byte, name string, inline bool, depth int) error {
	ne := binary.NativeEndian
	if len(p) < pageHeaderSize {
		return corrupt("%s: shorter than a page header", name)
	}
	flags, count := ne.Uint16(p[8:]), uint64(ne.Uint16(p[10:]))
	if flags != leafPage && (inline || flags != branchPage) {
		return corrupt("%s: unexpected page type %#x", name, flags)
	}
	if pageHeaderSize+count*elementSize > uint64(len(p)) {
		return corrupt("%s: %d elements do not fit", name, count)
	}
	for i := range count {
		e := pageHeaderSize + i*elementSize
		if flags == branchPage {
			pos, ksize, child := uint64(ne.Uint32(p[e:])), uint64(ne.Uint32(p[e+4:])), ne.Uint64(p[e+8:])
			if e+pos+ksize > uint64(len(p)) {
				return corrupt("%s: branch element %d lies outside the page", name, i)
			}
			if err := c.tree(child, depth+1); err != nil {
				return err
			}
			continue
		}
		eflags := ne.Uint32(p[e:])
		pos, ksize, vsize := uint64(ne.Uint32(p[e+4:])), uint64(ne.Uint32(p[e+8:])), uint64(ne.Uint32(p[e+12:]))
		if e+pos+ksize+vsize > uint64(len(p)) {
			return corrupt("%s: leaf element %d lies outside the page", name, i)
		}
		if eflags&bucketLeafFlag == 0 {
			continue
		}
		v := p[e+pos+ksize : e+pos+ksize+vsize]
		if len(v) < bucketHeader {
			return corrupt("%s: bucket element %d is too short", name, i)
		}
		if root := ne.Uint64(v); root != 0 {
			if err := c.tree(root, depth+1); err != nil {
				return err
			}
		} else if err := c.page(v[bucketHeader:], fmt.Sprintf("%s: inline bucket %d", name, i), true, depth+1); err != nil {
			return err
		}
	}
	return nil
}
