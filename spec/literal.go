package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// checkLiteral reports every part of an attribute's value that is not
// plain data, before the value is evaluated. drover evaluates nothing: a
// value is a quoted string or heredoc without templates, a number, a bool,
// null, or a list or map of those. Evaluating more is how a few hundred
// bytes of %{for} loops or [for ...] expressions become gigabytes; and
// "${" or "%{" in a command is almost always meant for the shell (written
// "$${" and "%%{"). Numbers are bounded here too (checkNumber).
//
// Expressions of JSON syntax are data already (drover decodes without an
// evaluation context, so their strings are not templates); their value is
// only checked for numbers.
func checkLiteral(expr hcl.Expression) hcl.Diagnostics {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return checkNumber(e.Val, e.SrcRange)
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if _, ok := p.(*hclsyntax.LiteralValueExpr); !ok {
				return hcl.Diagnostics{notLiteral(p, true)}
			}
		}
		return nil
	case *hclsyntax.TemplateWrapExpr:
		return hcl.Diagnostics{notLiteral(e.Wrapped, true)}
	case *hclsyntax.TupleConsExpr:
		var diags hcl.Diagnostics
		for _, x := range e.Exprs {
			diags = append(diags, checkLiteral(x)...)
		}
		return diags
	case *hclsyntax.ObjectConsExpr:
		var diags hcl.Diagnostics
		for _, item := range e.Items {
			diags = append(diags, checkLiteral(item.KeyExpr)...)
			diags = append(diags, checkLiteral(item.ValueExpr)...)
		}
		return diags
	case *hclsyntax.ObjectConsKeyExpr:
		if e.ForceNonLiteral {
			return hcl.Diagnostics{notLiteral(e, false)}
		}
		if hcl.ExprAsKeyword(e) != "" {
			return nil // a bare name: A = "x"
		}
		return checkLiteral(e.Wrapped)
	case *hclsyntax.UnaryOpExpr:
		if lit, ok := e.Val.(*hclsyntax.LiteralValueExpr); ok && e.Op == hclsyntax.OpNegate {
			return checkNumber(lit.Val, e.SrcRange) // -1: a range check says more
		}
		return hcl.Diagnostics{notLiteral(e, false)}
	case hclsyntax.Expression:
		return hcl.Diagnostics{notLiteral(e, false)}
	case nil:
		return nil
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		return nil // decoding reports it
	}
	return checkValue(v, expr.Range())
}

// notLiteral explains why an expression is not plain data. Variables and
// function calls keep HCL's own summaries (explainDecode adds the hints).
func notLiteral(e hclsyntax.Expression, inTemplate bool) *hcl.Diagnostic {
	rng := e.Range()
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &rng}
	switch e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		d.Summary, d.Detail = "Variables not allowed", "Variables may not be used here."
	case *hclsyntax.FunctionCallExpr:
		d.Summary, d.Detail = "Function calls not allowed", "Functions may not be called here."
	default:
		if inTemplate {
			d.Summary = "Template not allowed"
			d.Detail = `drover does not evaluate templates: in a quoted string or heredoc "${" starts an interpolation and "%{" a directive (%{for}, %{if}). For the shell, write "$${" for a literal "${" and "%%{" for a literal "%{".`
		} else {
			d.Summary = "Expression not allowed"
			d.Detail = "drover config files are plain data: write the value itself (a quoted string, a number, true or false, a list [...] or a map {...}). Operators, conditionals and for expressions are not evaluated."
		}
	}
	return d
}

// literalString is the value of a quoted string without templates, the
// common case, read without evaluating the template (which builds the
// string again); false for anything else, which is then decoded the usual
// way.
func literalString(expr hcl.Expression) (string, bool) {
	t, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || len(t.Parts) != 1 {
		return "", false
	}
	lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
	if !ok || lit.Val.Type() != cty.String || !lit.Val.IsKnown() || lit.Val.IsNull() {
		return "", false
	}
	return lit.Val.AsString(), true
}
