package vtl

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Template is a parsed template, safe for concurrent use.
type Template struct {
	nodes []node
}

// Parse parses a template.
func Parse(src string) (*Template, error) {
	nodes, err := parse(src)
	if err != nil {
		return nil, err
	}
	return &Template{nodes: nodes}, nil
}

// Object is a value with properties and methods, such as $input or $util.
type Object interface {
	// Property returns $x.name; ok is false when x has no such property.
	Property(name string) (v any, ok bool)
	// Call invokes $x.name(args); ok is false when x has no such method for these arguments, and
	// err is the exception the method threw.
	Call(name string, args []any) (v any, ok bool, err error)
	String() string
}

// MaxLoops is the most iterations a #foreach makes (API Gateway's quota for mapping templates,
// Velocity's directive.foreach.maxloops): the loop stops there.
const MaxLoops = 1000

// maxRange bounds the elements of a range literal, which Velocity builds as a whole list: a range
// past it is an error rather than gigabytes of memory.
const maxRange = 1 << 20

// ErrMethod wraps the exception a method threw, which ends the rendering as Velocity's
// MethodInvocationException does.
var ErrMethod = errors.New("method invocation failed")

type renderer struct {
	vars map[string]any
	out  *strings.Builder
}

// Render renders the template with the given variables (Go values as described at [Map]).
func (t *Template) Render(vars map[string]any) (string, error) {
	var b strings.Builder
	r := &renderer{vars: vars, out: &b}
	if err := r.nodes(t.nodes); err != nil {
		return b.String(), err
	}
	return b.String(), nil
}

func (r *renderer) nodes(ns []node) error {
	for _, n := range ns {
		if err := r.node(n); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) node(n node) error {
	switch x := n.(type) {
	case textNode:
		r.out.WriteString(x.text)
	case *refNode:
		v, err := r.ref(x)
		if err != nil {
			return err
		}
		switch {
		case v != nil:
			r.out.WriteString(toString(v))
		case !x.quiet:
			r.out.WriteString(x.lit)
		}
	case *setNode:
		v, err := r.eval(x.value)
		if err != nil {
			return err
		}
		// Velocity 1.7 leaves the target as it was when the value is null.
		if v == nil {
			return nil
		}
		return r.assign(x.target, v)
	case *ifNode:
		for i, c := range x.conds {
			ok, err := r.cond(c)
			if err != nil {
				return err
			}
			if ok {
				return r.nodes(x.blocks[i])
			}
		}
		return r.nodes(x.orElse)
	case *foreachNode:
		return r.foreach(x)
	}
	return nil
}

func (r *renderer) foreach(f *foreachNode) error {
	over, err := r.eval(f.over)
	if err != nil {
		return err
	}
	var items []any
	switch x := over.(type) {
	case *List:
		items = x.items
	case *Map:
		for _, k := range x.keys {
			items = append(items, x.vals[k])
		}
	default:
		return nil
	}
	oldVar, hadVar := r.vars[f.name]
	oldLoop, hadLoop := r.vars["foreach"]
	oldCount, hadCount := r.vars["velocityCount"]
	state := &loopState{}
	r.vars["foreach"] = state
	for i, it := range items {
		if i >= MaxLoops {
			break
		}
		state.index = i
		state.hasNext = i+1 < len(items) && i+1 < MaxLoops
		r.vars["velocityCount"] = int32(i + 1)
		if it == nil {
			delete(r.vars, f.name)
		} else {
			r.vars[f.name] = it
		}
		if err := r.nodes(f.body); err != nil {
			return err
		}
	}
	restore := func(name string, v any, had bool) {
		if had {
			r.vars[name] = v
		} else {
			delete(r.vars, name)
		}
	}
	restore(f.name, oldVar, hadVar)
	restore("foreach", oldLoop, hadLoop)
	restore("velocityCount", oldCount, hadCount)
	return nil
}

// loopState is $foreach.
type loopState struct {
	index   int
	hasNext bool
}

func (l *loopState) Property(name string) (any, bool) {
	switch name {
	case "index":
		return int32(l.index), true
	case "count":
		return int32(l.index + 1), true
	case "hasNext":
		return l.hasNext, true
	case "first":
		return l.index == 0, true
	case "last":
		return !l.hasNext, true
	}
	return nil, false
}

func (l *loopState) Call(name string, args []any) (any, bool, error) {
	if len(args) == 0 && strings.HasPrefix(name, "get") || strings.HasPrefix(name, "is") {
		n := strings.TrimPrefix(strings.TrimPrefix(name, "get"), "is")
		if n != "" {
			v, ok := l.Property(strings.ToLower(n[:1]) + n[1:])
			return v, ok, nil
		}
	}
	return nil, false, nil
}

func (l *loopState) String() string { return "org.apache.velocity.runtime.directive.ForeachScope" }

func (r *renderer) assign(target *refNode, v any) error {
	if len(target.parts) == 0 {
		r.vars[target.root] = v
		return nil
	}
	obj, ok := r.vars[target.root]
	if !ok {
		return nil
	}
	for _, p := range target.parts[:len(target.parts)-1] {
		var err error
		obj, err = r.part(obj, p)
		if err != nil {
			return err
		}
		if obj == nil {
			return nil
		}
	}
	last := target.parts[len(target.parts)-1]
	if last.call {
		return nil
	}
	if m, ok := obj.(*Map); ok {
		if _, err := m.Put(last.name, v); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrMethod, target.lit, err)
		}
	}
	return nil
}

func (r *renderer) ref(n *refNode) (any, error) {
	v, ok := r.vars[n.root]
	if !ok {
		return nil, nil
	}
	for _, p := range n.parts {
		var err error
		v, err = r.part(v, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.lit, err)
		}
		if v == nil {
			return nil, nil
		}
	}
	return v, nil
}

func (r *renderer) part(v any, p refPart) (any, error) {
	if !p.call {
		return property(v, p.name), nil
	}
	args := make([]any, len(p.args))
	for i, a := range p.args {
		x, err := r.eval(a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	out, ok, err := call(v, p.name, args)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMethod, p.name, err)
	}
	if !ok {
		return nil, nil
	}
	return out, nil
}

// property is $x.name: a map's entry, an object's property, else the getName() or isName()
// method with no arguments.
func property(v any, name string) any {
	switch x := v.(type) {
	case *Map:
		return x.Get(name)
	case Object:
		if out, ok := x.Property(name); ok {
			return out
		}
	}
	getter := "get" + strings.ToUpper(name[:1]) + name[1:]
	if out, ok, err := call(v, getter, nil); ok && err == nil {
		return out
	}
	if out, ok, err := call(v, "is"+strings.ToUpper(name[:1])+name[1:], nil); ok && err == nil {
		if _, isBool := out.(bool); isBool {
			return out
		}
	}
	return nil
}

func (r *renderer) cond(e expr) (bool, error) {
	switch x := e.(type) {
	case *refExpr:
		v, err := r.ref(x.ref)
		return truth(v), err
	case *boolLit:
		return x.v, nil
	case *notExpr, *binExpr:
		v, err := r.eval(e)
		if b, ok := v.(bool); ok {
			return b, err
		}
		return false, err
	}
	// Velocity 1.7 takes any other literal (a string, a number, a list) as false in a condition.
	return false, nil
}

func (r *renderer) eval(e expr) (any, error) {
	switch x := e.(type) {
	case *strLit:
		if x.interp == nil {
			return x.text, nil
		}
		sub := &renderer{vars: r.vars, out: &strings.Builder{}}
		if err := sub.nodes(x.interp); err != nil {
			return nil, err
		}
		return sub.out.String(), nil
	case *intLit:
		return x.v, nil
	case *floatLit:
		return x.v, nil
	case *boolLit:
		return x.v, nil
	case *refExpr:
		return r.ref(x.ref)
	case *listLit:
		l := &List{}
		for _, it := range x.items {
			v, err := r.eval(it)
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, v)
		}
		return l, nil
	case *mapLit:
		m := NewMap()
		for i := range x.keys {
			k, err := r.eval(x.keys[i])
			if err != nil {
				return nil, err
			}
			v, err := r.eval(x.vals[i])
			if err != nil {
				return nil, err
			}
			if _, err := m.Put(toString(k), v); err != nil {
				return nil, err
			}
		}
		return m, nil
	case *rangeLit:
		from, err := r.eval(x.from)
		if err != nil {
			return nil, err
		}
		to, err := r.eval(x.to)
		if err != nil {
			return nil, err
		}
		a, okA := from.(int32)
		b, okB := to.(int32)
		if !okA || !okB {
			return nil, nil
		}
		if n := int64(b) - int64(a); n > maxRange || n < -maxRange {
			return nil, fmt.Errorf("%w: range [%d..%d] has more than %d elements", ErrMethod, a, b, maxRange)
		}
		l := &List{}
		step := int32(1)
		if b < a {
			step = -1
		}
		for i := a; ; i += step {
			l.items = append(l.items, i)
			if i == b {
				break
			}
		}
		return l, nil
	case *notExpr:
		ok, err := r.cond(x.x)
		return !ok, err
	case *binExpr:
		return r.binary(x)
	}
	return nil, fmt.Errorf("unknown expression %T", e)
}

func (r *renderer) binary(x *binExpr) (any, error) {
	switch x.op {
	case "&&", "||":
		l, err := r.cond(x.l)
		if err != nil {
			return nil, err
		}
		if x.op == "&&" && !l || x.op == "||" && l {
			return l, nil
		}
		return r.cond(x.r)
	}
	l, err := r.eval(x.l)
	if err != nil {
		return nil, err
	}
	rv, err := r.eval(x.r)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "==":
		return equal(l, rv), nil
	case "!=":
		return !equal(l, rv), nil
	case "<", ">", "<=", ">=":
		c, ok := compareNumbers(l, rv)
		if !ok {
			return false, nil
		}
		switch x.op {
		case "<":
			return c < 0, nil
		case ">":
			return c > 0, nil
		case "<=":
			return c <= 0, nil
		}
		return c >= 0, nil
	case "+":
		// With a string on either side + concatenates, and a null side contributes its source
		// text, as Velocity 1.7's ASTAddNode does.
		_, ls := l.(string)
		_, rs := rv.(string)
		if ls || rs {
			return operandText(x.l, l) + operandText(x.r, rv), nil
		}
	}
	v, _ := arith(x.op, l, rv)
	return v, nil
}

func operandText(e expr, v any) string {
	if v != nil {
		return toString(v)
	}
	if re, ok := e.(*refExpr); ok {
		return re.ref.lit
	}
	return "null"
}

// intArg reads an int parameter: Java passes an Integer (not a Long) to it.
func intArg(v any) (int, bool) {
	i, ok := v.(int32)
	return int(i), ok
}

func strArg(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// call invokes the Java method name on v; ok is false when v's class has no such method for args.
func call(v any, name string, args []any) (any, bool, error) {
	switch name {
	case "toString":
		if len(args) == 0 {
			return toString(v), true, nil
		}
	case "equals":
		if len(args) == 1 {
			return javaEqualsAny(v, args[0]), true, nil
		}
	}
	switch x := v.(type) {
	case string:
		return stringMethod(x, name, args)
	case *Map:
		return mapMethod(x, name, args)
	case *List:
		if x.array {
			return nil, false, nil
		}
		return listMethod(x, name, args)
	case Object:
		return x.Call(name, args)
	case int32, int64, *big.Int, Decimal, float64:
		switch name {
		case "intValue":
			if len(args) == 0 {
				if b := bigOf(v); b != nil {
					return int32(b.Int64()), true, nil
				}
			}
		case "longValue":
			if len(args) == 0 {
				if b := bigOf(v); b != nil {
					return b.Int64(), true, nil
				}
			}
		}
	}
	return nil, false, nil
}

func stringMethod(s, name string, args []any) (any, bool, error) {
	switch len(args) {
	case 0:
		switch name {
		case "length":
			return int32(length(s)), true, nil
		case "trim":
			return trim(s), true, nil
		case "isEmpty":
			return s == "", true, nil
		case "toLowerCase":
			return toLower(s), true, nil
		case "toUpperCase":
			return toUpper(s), true, nil
		}
	case 1:
		if i, ok := intArg(args[0]); ok {
			switch name {
			case "substring":
				out, err := substring(s, i, length(s))
				return out, true, err
			case "codePointAt":
				out, err := codePointAt(s, i)
				return out, true, err
			case "charAt":
				out, err := substring(s, i, i+1)
				return out, true, err
			}
			return nil, false, nil
		}
		a, ok := strArg(args[0])
		if !ok {
			return nil, false, nil
		}
		switch name {
		case "startsWith":
			return strings.HasPrefix(s, a), true, nil
		case "endsWith":
			return strings.HasSuffix(s, a), true, nil
		case "contains":
			return strings.Contains(s, a), true, nil
		case "indexOf":
			return indexOf(s, a, 0, false), true, nil
		case "lastIndexOf":
			return indexOf(s, a, 0, true), true, nil
		case "equalsIgnoreCase":
			return strings.EqualFold(s, a), true, nil
		case "concat":
			return s + a, true, nil
		case "split":
			out, err := split(s, a)
			return out, true, err
		case "matches":
			re, err := javaRegexp("^(?:" + a + ")$")
			if err != nil {
				return nil, true, err
			}
			return re.MatchString(s), true, nil
		}
	case 2:
		if b, ok := intArg(args[0]); ok {
			if e, ok := intArg(args[1]); ok && name == "substring" {
				out, err := substring(s, b, e)
				return out, true, err
			}
			return nil, false, nil
		}
		a, ok := strArg(args[0])
		if !ok {
			return nil, false, nil
		}
		if from, ok := intArg(args[1]); ok && name == "indexOf" {
			return indexOf(s, a, from, false), true, nil
		}
		b, ok := strArg(args[1])
		if !ok {
			return nil, false, nil
		}
		switch name {
		case "replace":
			return strings.ReplaceAll(s, a, b), true, nil
		case "replaceAll", "replaceFirst":
			out, err := replaceAll(s, a, b, name == "replaceFirst")
			return out, true, err
		}
	}
	return nil, false, nil
}

func mapMethod(m *Map, name string, args []any) (any, bool, error) {
	switch len(args) {
	case 0:
		switch name {
		case "size":
			return int32(m.Len()), true, nil
		case "isEmpty":
			return m.Len() == 0, true, nil
		case "keySet":
			l := &List{}
			for _, k := range m.keys {
				l.items = append(l.items, k)
			}
			return l, true, nil
		case "values":
			l := &List{}
			for _, k := range m.keys {
				l.items = append(l.items, m.vals[k])
			}
			return l, true, nil
		}
	case 1:
		k, ok := args[0].(string)
		switch name {
		case "get":
			if !ok {
				return nil, true, nil
			}
			return m.Get(k), true, nil
		case "containsKey":
			return ok && m.Has(k), true, nil
		}
	case 2:
		if name == "put" {
			k, ok := args[0].(string)
			if !ok {
				k = toString(args[0])
			}
			old, err := m.Put(k, args[1])
			return old, true, err
		}
	}
	return nil, false, nil
}

func listMethod(l *List, name string, args []any) (any, bool, error) {
	switch len(args) {
	case 0:
		switch name {
		case "size":
			return int32(len(l.items)), true, nil
		case "count":
			if l.json {
				return int32(len(l.items)), true, nil
			}
		case "isEmpty":
			return len(l.items) == 0, true, nil
		}
	case 1:
		switch name {
		case "get":
			i, ok := intArg(args[0])
			if !ok {
				return nil, false, nil
			}
			if i < 0 || i >= len(l.items) {
				return nil, true, fmt.Errorf("IndexOutOfBoundsException: Index %d out of bounds for length %d", i, len(l.items))
			}
			return l.items[i], true, nil
		case "add":
			l.items = append(l.items, args[0])
			return true, true, nil
		case "contains":
			for _, it := range l.items {
				if javaEqualsAny(it, args[0]) {
					return true, true, nil
				}
			}
			return false, true, nil
		}
	}
	return nil, false, nil
}
