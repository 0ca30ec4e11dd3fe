package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// The schema of a config file, block by block. Decoding reads each body
// with body.Content(schema) — unknown attributes and blocks, missing
// required attributes and bad labels are HCL's own errors — and converts
// each value with gohcl.DecodeExpression, so messages match HCL's usual
// ones. (gohcl.DecodeBody would derive these schemas by reflection for
// every block: a third of the decode time of a large repository.)
var (
	fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "cluster", LabelNames: []string{"name"}},
		{Type: "shard", LabelNames: []string{"name"}},
		{Type: "tenant", LabelNames: []string{"name"}},
	}}
	clusterSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "ula_prefix"}, {Name: "max_daemons_per_webroot"},
	}}
	shardSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "node", LabelNames: []string{"name"}},
	}}
	nodeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "index", Required: true}, {Name: "weight"}, {Name: "drain"}, {Name: "age_recipient"},
	}}
	tenantSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "uid", Required: true}, {Name: "shard", Required: true}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "webroot", LabelNames: []string{"name"}}},
	}
	webrootSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "server_names"}, {Name: "public_folder"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "daemon", LabelNames: []string{"name"}}},
	}
	daemonSchema = daemonSchemaOf(DaemonFields)
)

// decoder accumulates diagnostics while reading one file's blocks.
type decoder struct{ diags hcl.Diagnostics }

func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	return c
}

// value decodes an attribute into target (a pointer to string, int,
// float64, bool or []string) and returns its value range; false when the
// attribute is absent or its value is unsuitable (reported).
func (d *decoder) value(c *hcl.BodyContent, name string, target any) (span, bool) {
	attr, ok := c.Attributes[name]
	if !ok {
		return span{}, false
	}
	return d.attrValue(attr, target)
}

// attrValue decodes a present attribute (see value).
func (d *decoder) attrValue(attr *hcl.Attribute, target any) (span, bool) {
	// Plain data only: nothing is evaluated that could grow (literal.go).
	diags := checkLiteral(attr.Expr)
	if !diags.HasErrors() {
		if p, ok := target.(*string); ok {
			if s, ok := literalString(attr.Expr); ok {
				*p = s
				return spanOf(attr.Expr.Range()), true
			}
		}
		diags = gohcl.DecodeExpression(attr.Expr, nil, target)
	}
	d.diags = append(d.diags, diags...)
	return spanOf(attr.Expr.Range()), !diags.HasErrors()
}

// optional decodes an optional attribute into a new value: nil when absent.
func optional[T any](d *decoder, c *hcl.BodyContent, name string, rng *span) *T {
	var v T
	// An unsuitable value is reported; its range then marks it failed.
	*rng, _ = d.value(c, name, &v)
	if rng.missing() {
		return nil
	}
	return &v
}

func (d *decoder) file(body hcl.Body) rawFile {
	var f rawFile
	c := d.content(body, fileSchema)
	for _, b := range c.Blocks {
		switch b.Type {
		case "cluster":
			f.Clusters = append(f.Clusters, d.cluster(b))
		case "shard":
			f.Shards = append(f.Shards, d.shard(b))
		case "tenant":
			f.Tenants = append(f.Tenants, d.tenant(b))
		}
	}
	return f
}

func (d *decoder) cluster(b *hcl.Block) *rawCluster {
	r := &rawCluster{Name: b.Labels[0], NameRange: spanOf(b.LabelRanges[0]), DefRange: spanOf(b.DefRange)}
	c := d.content(b.Body, clusterSchema)
	r.ULAPrefix = optional[string](d, c, "ula_prefix", &r.ULAPrefixRange)
	r.MaxDaemonsPerWebroot = optional[int](d, c, "max_daemons_per_webroot", &r.MaxDaemonsRange)
	return r
}

func (d *decoder) shard(b *hcl.Block) *rawShard {
	r := &rawShard{Name: b.Labels[0], NameRange: spanOf(b.LabelRanges[0]), DefRange: spanOf(b.DefRange)}
	for _, nb := range d.content(b.Body, shardSchema).Blocks {
		r.Nodes = append(r.Nodes, d.node(nb))
	}
	return r
}

func (d *decoder) node(b *hcl.Block) *rawNode {
	r := &rawNode{Name: b.Labels[0], NameRange: spanOf(b.LabelRanges[0]), DefRange: spanOf(b.DefRange)}
	c := d.content(b.Body, nodeSchema)
	r.IndexRange, _ = d.value(c, "index", &r.Index)
	r.Weight = optional[float64](d, c, "weight", &r.WeightRange)
	var drainRange span
	r.Drain = optional[bool](d, c, "drain", &drainRange)
	r.AgeRecipient = optional[string](d, c, "age_recipient", &r.AgeRecipientRange)
	return r
}

func (d *decoder) tenant(b *hcl.Block) *rawTenant {
	r := &rawTenant{Name: b.Labels[0], NameRange: spanOf(b.LabelRanges[0]), DefRange: spanOf(b.DefRange)}
	c := d.content(b.Body, tenantSchema)
	r.UIDRange, _ = d.value(c, "uid", &r.UID)
	r.ShardRange, _ = d.value(c, "shard", &r.Shard)
	for _, wb := range c.Blocks {
		r.Webroots = append(r.Webroots, d.webroot(wb))
	}
	return r
}

func (d *decoder) webroot(b *hcl.Block) *rawWebroot {
	r := &rawWebroot{Name: b.Labels[0], NameRange: spanOf(b.LabelRanges[0]), DefRange: spanOf(b.DefRange)}
	c := d.content(b.Body, webrootSchema)
	r.ServerNamesRange, _ = d.value(c, "server_names", &r.ServerNames)
	r.PublicFolder = optional[string](d, c, "public_folder", &r.PublicFolderRange)
	for _, db := range c.Blocks {
		r.Daemons = append(r.Daemons, d.daemon(db))
	}
	return r
}

// daemon reads a daemon block's attributes as DaemonFields describes them.
func (d *decoder) daemon(b *hcl.Block) *rawDaemon {
	r := &rawDaemon{Name: b.Labels[0], NameRange: spanOf(b.LabelRanges[0]), DefRange: spanOf(b.DefRange)}
	c := d.content(b.Body, daemonSchema)
	if len(c.Attributes) > 0 {
		r.attrs = make([]rawAttr, 0, len(c.Attributes))
	}
	for _, f := range DaemonFields {
		attr, ok := c.Attributes[f.Name]
		if !ok {
			continue
		}
		if f.Type == TypeEnvironment {
			r.Environment = attr.Expr
			continue
		}
		// Decoded in place: a value of its own would be one more
		// allocation per attribute.
		r.attrs = append(r.attrs, rawAttr{field: f.index})
		a := &r.attrs[len(r.attrs)-1]
		switch f.Type {
		case TypeString:
			a.Range, _ = d.attrValue(attr, &a.Str)
		case TypeNumber:
			a.Range, _ = d.attrValue(attr, &a.Int)
		case TypeBool:
			a.Range, _ = d.attrValue(attr, &a.Bool)
		}
	}
	d.health(r, c.Blocks)
	return r
}
