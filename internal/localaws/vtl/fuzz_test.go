package vtl

import "testing"

// FuzzRender checks that any template and body either fail with an error or render, never panic,
// and that rendering is deterministic.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"#set($x = 1)$x", "#foreach($i in [1..3])$i#end", "#if($a == 'b')x#elseif(1 < 2)y#else z#end",
		"$input.path('$[0].id') $input.json('$') $util.escapeJavaScript($input.body)", "#set($m = {\"a\": [1, 2.5]})$m.a.get(1)",
		"${x} $!{y} #* c *# ## d", "#set($s = \"a$b\")$s.substring(0, 1).length()"} {
		f.Add(s, `[{"id":"a"}]`)
	}
	f.Fuzz(func(t *testing.T, src, body string) {
		tmpl, err := Parse(src)
		if err != nil {
			return
		}
		a, errA := tmpl.Execute(Request{Body: body})
		b, errB := tmpl.Execute(Request{Body: body})
		if (errA == nil) != (errB == nil) || a.Output != b.Output {
			t.Fatalf("two renderings differ: %q (%v) and %q (%v)", a.Output, errA, b.Output, errB)
		}
	})
}
