package vtl

import (
	"fmt"
	"math/big"
	"strings"
)

// node is one piece of a parsed template.
type node interface{}

type textNode struct{ text string }

// refNode is a reference: $name, $!name, ${name}, followed by .property and .method(args) parts.
type refNode struct {
	quiet bool
	root  string
	parts []refPart
	lit   string // the source text, rendered when the value is null and the reference is not quiet
}

type refPart struct {
	name string
	call bool
	args []expr
}

type setNode struct {
	target *refNode
	value  expr
}

type ifNode struct {
	conds  []expr
	blocks [][]node
	orElse []node
}

type foreachNode struct {
	name string
	over expr
	body []node
}

// expr is an expression inside a directive or a method's arguments.
type expr interface{}

type (
	strLit struct {
		text   string
		interp []node // non-nil when a double-quoted literal holds $ or #
	}
	intLit   struct{ v any }
	floatLit struct{ v float64 }
	boolLit  struct{ v bool }
	listLit  struct{ items []expr }
	mapLit   struct{ keys, vals []expr }
	rangeLit struct{ from, to expr }
	refExpr  struct{ ref *refNode }
	notExpr  struct{ x expr }
	binExpr  struct {
		op   string
		l, r expr
	}
)

// SyntaxError reports where a template does not parse.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("template offset %d: %s", e.Offset, e.Msg) }

type parser struct {
	src string
	pos int
}

func (p *parser) fail(format string, args ...any) {
	panic(&SyntaxError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)})
}

func parse(src string) (nodes []node, err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			err = se
		}
	}()
	p := &parser{src: src}
	nodes, end := p.block(false)
	if end != "" {
		p.fail("#%s without a block", end)
	}
	return nodes, nil
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || c >= '0' && c <= '9' || c == '-' }

func (p *parser) peek(s string) bool { return strings.HasPrefix(p.src[p.pos:], s) }

// directive reports the directive that starts at p.pos ("set", "if", ...) and its length
// (#name or #{name}), or "" when none does.
func (p *parser) directive() (string, int) {
	rest := p.src[p.pos:]
	for _, name := range []string{"foreach", "elseif", "else", "end", "set", "if"} {
		if strings.HasPrefix(rest, "#{"+name+"}") {
			return name, len(name) + 3
		}
		if strings.HasPrefix(rest, "#"+name) {
			n := len(name) + 1
			// #elseif is not #else followed by "if", #end not a prefix of #endless.
			if n < len(rest) && isIdentChar(rest[n]) {
				continue
			}
			return name, n
		}
	}
	return "", 0
}

// gobble consumes spaces or tabs followed by a newline, as Velocity 1.7 does after a directive's
// closing parenthesis and after #else and #end; without the newline it consumes nothing.
func (p *parser) gobble() {
	i := p.pos
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	switch {
	case strings.HasPrefix(p.src[i:], "\r\n"):
		p.pos = i + 2
	case i < len(p.src) && (p.src[i] == '\n' || p.src[i] == '\r'):
		p.pos = i + 1
	}
}

// block parses nodes until #elseif, #else or #end (returned) or the end of the source ("").
func (p *parser) block(inner bool) ([]node, string) {
	var nodes []node
	var text strings.Builder
	// tokenStart is true while the text gathered so far began after a non-text token: Velocity
	// 1.7's #set token then swallows the spaces and tabs before it.
	tokenStart := true
	flush := func() {
		if text.Len() > 0 {
			nodes = append(nodes, textNode{text.String()})
			text.Reset()
		}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '#' && p.peek("##"):
			flush()
			i := strings.IndexAny(p.src[p.pos:], "\r\n")
			if i < 0 {
				p.pos = len(p.src)
			} else {
				p.pos += i
				if p.peek("\r\n") {
					p.pos += 2
				} else {
					p.pos++
				}
			}
			tokenStart = true
			continue
		case c == '#' && p.peek("#*"):
			flush()
			i := strings.Index(p.src[p.pos+2:], "*#")
			if i < 0 {
				p.fail("unterminated #* comment")
			}
			p.pos += i + 4
			tokenStart = true
			continue
		case c == '#':
			name, n := p.directive()
			if name == "" {
				text.WriteByte('#')
				p.pos++
				tokenStart = true
				continue
			}
			if name == "set" && tokenStart {
				s := text.String()
				if strings.Trim(s, " \t") == "" {
					text.Reset()
				}
			}
			flush()
			start := p.pos
			p.pos += n
			switch name {
			case "elseif", "else", "end":
				if !inner {
					p.pos = start
					p.fail("#%s without #if or #foreach", name)
				}
				if name != "elseif" {
					p.gobble()
				} else {
					p.pos = start
				}
				return nodes, name
			case "set":
				nodes = append(nodes, p.set())
			case "if":
				nodes = append(nodes, p.ifDirective())
			case "foreach":
				nodes = append(nodes, p.foreach())
			}
			tokenStart = true
			continue
		case c == '$':
			if r := p.reference(); r != nil {
				flush()
				nodes = append(nodes, r)
				tokenStart = true
				continue
			}
			text.WriteByte('$')
			p.pos++
			tokenStart = true
			continue
		}
		if tokenStart && c != ' ' && c != '\t' {
			tokenStart = false
		}
		text.WriteByte(c)
		p.pos++
	}
	flush()
	return nodes, ""
}

// open consumes optional whitespace and the ( that opens a directive's arguments.
func (p *parser) open() {
	p.spaces()
	if !p.peek("(") {
		p.fail("want ( after the directive")
	}
	p.pos++
}

// close consumes the ) that ends a directive's arguments and the newline after it.
func (p *parser) close() {
	p.spaces()
	if !p.peek(")") {
		p.fail("want )")
	}
	p.pos++
	p.gobble()
}

func (p *parser) set() node {
	p.open()
	p.spaces()
	r := p.reference()
	if r == nil {
		p.fail("#set wants a reference")
	}
	p.spaces()
	if !p.peek("=") {
		p.fail("#set wants =")
	}
	p.pos++
	v := p.expr()
	p.close()
	return &setNode{target: r, value: v}
}

func (p *parser) ifDirective() node {
	n := &ifNode{}
	for {
		p.open()
		n.conds = append(n.conds, p.expr())
		p.close()
		body, end := p.block(true)
		n.blocks = append(n.blocks, body)
		switch end {
		case "elseif":
			_, l := p.directive()
			p.pos += l
			continue
		case "else":
			body, end = p.block(true)
			if end != "end" {
				p.fail("#else without #end")
			}
			n.orElse = body
			return n
		case "end":
			return n
		default:
			p.fail("#if without #end")
		}
	}
}

func (p *parser) foreach() node {
	p.open()
	p.spaces()
	r := p.reference()
	if r == nil || len(r.parts) > 0 {
		p.fail("#foreach wants a variable")
	}
	p.spaces()
	if !p.peek("in") {
		p.fail("#foreach wants in")
	}
	p.pos += 2
	over := p.expr()
	p.close()
	body, end := p.block(true)
	if end != "end" {
		p.fail("#foreach without #end")
	}
	return &foreachNode{name: r.root, over: over, body: body}
}

func (p *parser) spaces() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *parser) ident() string {
	start := p.pos
	if p.pos >= len(p.src) || !isIdentStart(p.src[p.pos]) {
		return ""
	}
	for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

// reference parses a reference at p.pos, or returns nil (and consumes nothing) when the $ does not
// start one.
func (p *parser) reference() *refNode {
	start := p.pos
	i := p.pos + 1
	quiet := false
	if i < len(p.src) && p.src[i] == '!' {
		quiet = true
		i++
	}
	formal := false
	if i < len(p.src) && p.src[i] == '{' {
		formal = true
		i++
	}
	if i >= len(p.src) || !isIdentStart(p.src[i]) {
		return nil
	}
	p.pos = i
	r := &refNode{quiet: quiet, root: p.ident()}
	for p.pos+1 < len(p.src) && p.src[p.pos] == '.' && isIdentStart(p.src[p.pos+1]) {
		save := p.pos
		p.pos++
		part := refPart{name: p.ident()}
		if p.peek("(") {
			p.pos++
			part.call = true
			p.spaces()
			if !p.peek(")") {
				for {
					part.args = append(part.args, p.expr())
					p.spaces()
					if p.peek(",") {
						p.pos++
						continue
					}
					break
				}
			}
			p.spaces()
			if !p.peek(")") {
				p.pos = save
				p.fail("want ) after the arguments of %s", part.name)
			}
			p.pos++
		}
		r.parts = append(r.parts, part)
	}
	if formal {
		if !p.peek("}") {
			p.pos = start
			return nil
		}
		p.pos++
	}
	r.lit = p.src[start:p.pos]
	return r
}

// Expressions, loosest first: || and &&, equality, relations, + and -, * / %, !.
var levels = [][]string{{"||", "or"}, {"&&", "and"}, {"==", "!=", "eq", "ne"}, {"<=", ">=", "<", ">", "le", "ge", "lt", "gt"}, {"+", "-"}, {"*", "/", "%"}}

var canonical = map[string]string{"or": "||", "and": "&&", "eq": "==", "ne": "!=", "le": "<=", "ge": ">=", "lt": "<", "gt": ">"}

func (p *parser) expr() expr { return p.level(0) }

func (p *parser) level(n int) expr {
	if n == len(levels) {
		return p.unary()
	}
	l := p.level(n + 1)
	for {
		p.spaces()
		op := p.operator(levels[n])
		if op == "" {
			return l
		}
		r := p.level(n + 1)
		if c, ok := canonical[op]; ok {
			op = c
		}
		l = &binExpr{op: op, l: l, r: r}
	}
}

func (p *parser) operator(ops []string) string {
	for _, op := range ops {
		if !p.peek(op) {
			continue
		}
		end := p.pos + len(op)
		if isIdentStart(op[0]) && end < len(p.src) && isIdentChar(p.src[end]) {
			continue
		}
		// "-" before a digit is an operator only between operands; the level parser only asks for
		// an operator after an operand, so it is one here. "!" is not "!=".
		p.pos = end
		return op
	}
	return ""
}

func (p *parser) unary() expr {
	p.spaces()
	if p.peek("!") && !p.peek("!=") {
		p.pos++
		return &notExpr{p.unary()}
	}
	if p.peek("not") && p.pos+3 < len(p.src) && !isIdentChar(p.src[p.pos+3]) {
		p.pos += 3
		return &notExpr{p.unary()}
	}
	return p.primary()
}

func (p *parser) primary() expr {
	p.spaces()
	if p.pos >= len(p.src) {
		p.fail("unexpected end of the template in an expression")
	}
	c := p.src[p.pos]
	switch {
	case c == '$':
		r := p.reference()
		if r == nil {
			p.fail("want a reference after $")
		}
		return &refExpr{r}
	case c == '"' || c == '\'':
		return p.stringLit(c)
	case c == '(':
		p.pos++
		e := p.expr()
		p.spaces()
		if !p.peek(")") {
			p.fail("want )")
		}
		p.pos++
		return e
	case c == '[':
		p.pos++
		p.spaces()
		if p.peek("]") {
			p.pos++
			return &listLit{}
		}
		first := p.expr()
		p.spaces()
		if p.peek("..") {
			p.pos += 2
			to := p.expr()
			p.spaces()
			if !p.peek("]") {
				p.fail("want ] after a range")
			}
			p.pos++
			return &rangeLit{from: first, to: to}
		}
		l := &listLit{items: []expr{first}}
		for {
			p.spaces()
			if p.peek("]") {
				p.pos++
				return l
			}
			if !p.peek(",") {
				p.fail("want , or ] in a list")
			}
			p.pos++
			l.items = append(l.items, p.expr())
		}
	case c == '{':
		p.pos++
		m := &mapLit{}
		p.spaces()
		if p.peek("}") {
			p.pos++
			return m
		}
		for {
			k := p.expr()
			p.spaces()
			if !p.peek(":") {
				p.fail("want : in a map")
			}
			p.pos++
			v := p.expr()
			m.keys, m.vals = append(m.keys, k), append(m.vals, v)
			p.spaces()
			if p.peek("}") {
				p.pos++
				return m
			}
			if !p.peek(",") {
				p.fail("want , or } in a map")
			}
			p.pos++
		}
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case p.word("true"):
		return &boolLit{true}
	case p.word("false"):
		return &boolLit{false}
	}
	p.fail("unexpected %q in an expression", c)
	return nil
}

func (p *parser) word(w string) bool {
	if !p.peek(w) {
		return false
	}
	end := p.pos + len(w)
	if end < len(p.src) && isIdentChar(p.src[end]) {
		return false
	}
	p.pos = end
	return true
}

func (p *parser) number() expr {
	start := p.pos
	if p.peek("-") {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		p.fail("want a number")
	}
	// A fraction needs a digit after the point: [1..2] is a range.
	if p.pos+1 < len(p.src) && p.src[p.pos] == '.' && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9' {
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
			p.pos++
		}
		var f float64
		if _, err := fmt.Sscan(p.src[start:p.pos], &f); err != nil {
			p.fail("bad number %q", p.src[start:p.pos])
		}
		return &floatLit{f}
	}
	n, ok := new(big.Int).SetString(p.src[start:p.pos], 10)
	if !ok {
		p.fail("bad integer %q", p.src[start:p.pos])
	}
	// An integer literal is an Integer, or a Long (or BigInteger) when it does not fit.
	return &intLit{narrow(n, kInt)}
}

// stringLit parses a string literal. Velocity 1.7 keeps backslashes as they are and reads a
// doubled quote as one; a double-quoted literal holding $ or # is a template of its own.
func (p *parser) stringLit(q byte) expr {
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			p.fail("unterminated string literal")
		}
		c := p.src[p.pos]
		if c == q {
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == q {
				b.WriteByte(q)
				p.pos += 2
				continue
			}
			p.pos++
			break
		}
		if c == '\n' || c == '\r' {
			p.fail("newline in a string literal")
		}
		b.WriteByte(c)
		p.pos++
	}
	s := &strLit{text: b.String()}
	if q == '"' && strings.ContainsAny(s.text, "$#") {
		inner := &parser{src: s.text}
		nodes, end := inner.block(false)
		if end != "" {
			p.fail("#%s in a string literal", end)
		}
		s.interp = nodes
	}
	return s
}
