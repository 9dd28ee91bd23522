package vtl_test

import (
	"fmt"
	"strings"
)

// corpus returns templates that exercise the directives, literals, operators and $input, $util
// and $context members template.yaml uses, including the edges where Velocity 1.7 surprises:
// whitespace that directives swallow, #set with a null value, hyphens in names, + with a null,
// conditions on literals, Java string methods counting UTF-16 code units, JSONPath misses.
func corpus() []diffCase {
	event := `{"specversion":"1.0","id":"e-1","source":"/web/shop","type":"com.acme.web.page_view","subject":"O'Brien \"q\" \\ é 🚀","data":{"n":1.50,"big":123456789012345678901,"e":1e3,"neg":-0.0,"t":true,"z":null,"l":[1,"two",{"k":"v"}],"s":"\u0001\u001f\n/\u2028"}}`
	array := `[{"id":"a","subject":"s1"},{"id":"b","source":"/x"},{"id":"c"}]`
	headers := map[string]string{"Origin": "https://shop.example", "Content-Type": "application/json", "X-Multi": "a,b"}
	params := map[string]map[string]string{"header": headers, "path": {"id": "p-1"}, "querystring": {"q": "a b", "id": "query-id"}}
	ctx := map[string]any{
		"requestId": "req-1", "stage": "prod", "requestTime": "25/Nov/2026:09:01:01 +0000", "requestTimeEpoch": int64(1764061261123),
		"httpMethod": "POST", "resourcePath": "/direct/events",
		"identity":   map[string]any{"sourceIp": "198.51.100.7", "userAgent": "curl/8.5.0", "apiKeyId": "k1"},
		"authorizer": map[string]any{"principalId": "user-42", "claims": map[string]any{"sub": "abc", "email": "a@b.example"}},
	}
	templates := []struct{ name, body, tmpl string }{
		// Text, comments and whitespace.
		{"plain text", "", "just text, no VTL: {\"a\": [1, 2]}\n"},
		{"line comments", "", "a\n## comment\nb ## trailing\nc\n  ## indented\nd"},
		{"block comment", "", "a#* block\ncomment *#b"},
		{"set swallows its newline", "", "a\n#set($x = 1)\nb\n  #set($y = 2)  \nc$x$y"},
		{"set after a reference swallows spaces", "", "#set($a = 1)$a #set($b = 2)$b\t#set($c = 3)$c"},
		{"set mid-line", "", "x#set($a = 1)\ny #set($b = 2)   \nz"},
		{"if swallows newlines", "", "a\n#if(true)\nyes\n#end\nb\n  #if(true)  \nyes\n  #end  \nc"},
		{"else and elseif", "", "#set($a = 2)#if($a == 1)one#elseif($a == 2)\ntwo\n#else\nother\n#end|\n#if(false)\nx\n#else\ny\n#end\nz"},
		{"foreach swallows newlines", "", "x#foreach($i in [1..3])\n  $i\n#end\ny"},
		{"braced directives", "", "#{if}(true)b#{else}c#{end} #{set}($x = 1)\n$x"},
		{"spaces inside directives", "", "#set( $x = 1 )#if( $x == 1 )ok#end #foreach ( $i in [ 1 , 2 ] )$i#end"},
		// References.
		{"undefined references", "", "$nope $!nope ${nope} $!{nope} $nope.x $nope.x() $a.b. $ $$ 5$ #x # y"},
		{"hyphenated names", "", "#set($a-b = 3)$a-b $a - $b"},
		{"formal references", "", "#set($x = \"v\")${x}y $!{x}z"},
		{"set null keeps the old value", event, "#set($v = \"old\")#set($v = $input.path('$.missing'))$v #set($w = \"$!input.path('$.missing')\")<$w>"},
		{"set from a null method", "", "#set($v = 1)#set($v = $nope.size())$v"},
		// Literals.
		{"string literals", "", "#set($s = \"a\\\\b\\n\"\"q\")$s|#set($t = 'x\\\\y''z $s')$t|#set($u = \"in $s\")$u"},
		{"numbers", "", "#set($i = 42)#set($n = -7)#set($f = 1.25)$i $n $f #set($d = 0.1 + 0.2)$d"},
		{"lists and maps", "", "#set($l = [1, \"a\", true, [2]])$l $l.size() $l.get(3) #set($m = {\"k\": \"v\", \"n\": 1, \"l\": [1]})$m $m.k $m.get(\"n\") $m.keySet() $m.size()"},
		{"ranges", "", "#foreach($i in [3..1])$i#end #foreach($i in [0..-1])$i#end #foreach($i in [2..2])$i#end #set($n = 3)#foreach($i in [1..$n])$i#end"},
		{"empty list and map", "", "#set($l = [])#set($m = {})$l $m $l.isEmpty() $m.isEmpty() $l.size()"},
		// Operators.
		{"arithmetic", "", "#set($x = 7)#set($y = $x / 2)$y #set($z = $x % 3)$z #set($w = $x * 3)$w #set($u = 2147483647 + 1)$u #set($q = $x / 0)<$q> #set($r = 9223372036854775807 + 1)$r"},
		{"arithmetic with decimals", event, "#set($n = $input.path('$.data.n'))#set($m = $n + 1)$m #set($k = $n * 2)$k #set($j = $n - 0.25)$j"},
		{"concatenation", "", "#set($x = 1)#set($s = 'a' + $x + 'b')$s #set($t = $x + 'c')$t #set($u = 'p' + $nope)$u #set($v = $nope + 'q')$v #set($w = $x + 2 + 'r')$w"},
		{"equality", "", "#set($x = 1)#if(\"a\" == 1)t#else f#end #if(1 == \"1\")t#else f#end #if($nope == $nope2)t#else f#end #if($x == 1.0)t#else f#end #if($x != 2)t#end #if(\"a\" == \"a\")t#end #if([1] == [1])t#else f#end"},
		{"relations", "", "#if(1 < 2)a#end #if(2 <= 2)b#end #if(3 > 2)c#end #if(2 >= 3)d#else e#end #if(1 < \"2\")f#else g#end #if($nope > 1)h#else i#end"},
		{"word operators", "", "#set($x = 2)#if($x eq 2 and $x ne 3)a#end #if($x lt 1 or $x gt 1)b#end #if(not $nope)c#end #if($x le 2 && $x ge 2)d#end"},
		{"logic and truth", "", "#set($e = \"\")#set($z = 0)#set($f = false)#if($e)a#end #if($z)b#end #if($f)c#else d#end #if(!$f)e#end #if($nope)f#else g#end #if(\"x\")h#else i#end #if(1)j#else k#end #if(true && !false || false)l#end"},
		{"parentheses and precedence", "", "#set($x = 2 + 3 * 4)$x #set($y = (2 + 3) * 4)$y #if(($x > 1) && !($y < 1))ok#end"},
		// #foreach.
		{"foreach members", "", "#foreach($i in [1..3])$foreach.index/$foreach.count/$foreach.hasNext/$velocityCount #end"},
		{"foreach nested", "", "#foreach($a in [1,2])#foreach($b in [\"x\",\"y\"])$a$b$foreach.hasNext #end$foreach.hasNext;#end"},
		{"foreach restores its variable", "", "#set($a = \"x\")#foreach($a in [1,2])#end$a|#foreach($b in [1])#end$b"},
		{"foreach over maps, nulls and strings", "", "#foreach($x in $nope)a#end|#foreach($x in \"str\")[$x]#end|#foreach($e in {\"a\":1,\"b\":2})$e#end"},
		{"foreach stops at 1000", "", "#set($n = 0)#foreach($i in [1..1500])#set($n = $n + 1)#end$n"},
		{"foreach over a JSON array", array, "#foreach($e in $input.path('$'))$e.id:$!e.subject#if($foreach.hasNext),#end#end"},
		{"foreach builds a list", "", "#set($l = [])#foreach($i in [1..3])#set($ok = $l.add(\"m$i\"))#end$l #set($s = \"\")#foreach($m in $l)#if($s != \"\")#set($s = $s + ',')#end#set($s = $s + $m)#end$s"},
		// Java strings.
		{"string methods", "", "#set($s = \"hello\")$s.substring(1) $s.length() $s.codePointAt(0) $s.lastIndexOf(\"l\") $s.indexOf(\"z\") $s.toUpperCase() $s.contains(\"ell\") $s.replaceAll(\"l+\", \"L\") $s.replace(\"l\", \"x\") $s.isEmpty() $s.equals(\"hello\") $s.startsWith(\"he\") $s.endsWith(\"lo\") $s.indexOf(\"l\", 3) $s.concat(\"!\")"},
		{"UTF-16 code units", "", "#set($s = \"é🚀x\")$s.length() $s.codePointAt(1) $s.codePointAt(2) $s.substring(0, 2).length() $s.substring(3)"},
		{"substring out of range", "", "#set($s = \"hello\")$s.substring(1, 10)"},
		{"cut before a surrogate pair", "", "#set($s = \"ab🚀🚀\")#set($k = $s.substring(0, 3))#if($k.codePointAt(2) >= 55296 && $k.codePointAt(2) <= 56319)#set($k = $k.substring(0, 2))#end$k $k.length()"},
		{"split", "", "#set($x = \"a,b,,c,,\")#foreach($p in $x.split(\",\"))[$p]#end #foreach($p in \"\".split(\",\"))[$p]#end #foreach($p in \"a1b22c\".split(\"[0-9]+\"))[$p]#end"},
		{"trim and startsWith", " \n [1]\t", "#set($b = $input.body.trim().startsWith(\"[\"))$b [$input.body.trim()]"},
		{"replaceAll with groups and escapes", "", "#set($s = \"a-b-c\")$s.replaceAll(\"(\\w)-\", \"$1+\") $s.replaceAll(\"-\", \"\\$\") $s.replaceFirst(\"-\", \"_\")"},
		{"undo escapeJavaScript's quote", event, "$util.escapeJavaScript($input.path('$.subject')).replaceAll(\"\\\\'\", \"'\")"},
		{"methods that do not exist", "", "#set($s = \"x\")$s.nope() $!s.nope() $s.substring(\"1\") $s.length"},
		{"Integer methods", "", "#set($n = 5)$n.toString() $n.intValue() #set($s = \"$n\")$s.length()"},
		// $input.
		{"input body", `  {"a": 1}` + "\n", "$input.body|$input.body.length()|$input.getBody().length()"},
		{"input json", event, "$input.json('$') $input.json('$.data') $input.json('$.data.l[2]') $input.json('$.nope') $input.json('$.data.s')"},
		{"input path scalars", event, "$input.path('$.data.n') $input.path('$.data.big') $input.path('$.data.e') $input.path('$.data.neg') $input.path('$.data.t') $input.path('$.data.z') $input.path('$.data.s')"},
		{"input path containers", event, "$input.path('$.data.l') $input.path('$.data.l').size() $input.path('$.data.l').count() $input.path('$.data').keySet() $input.path('$.data.l').get(2).k"},
		{"input path misses", array, "[$!input.path('$[5]')] [$!input.path('$[0].nope')] [$!input.path('$.x')] [$!input.path(\"$[1]['source']\")] [$input.path('$[1].id')]"},
		{"input path index into an object", `{"o":{}}`, "[$!input.path('$[0]')]"},
		{"input path count of a body object", `{"a":1,"b":2}`, "$input.path('$').size()"},
		{"input path on an empty body", "", "$input.json('$') $input.path('$').size() [$!input.path('$.a')]"},
		{"input path on a bad body", "{nope", "$input.path('$.a')"},
		{"input path built from parts", array, "#foreach($i in [0..2])#set($at = '$[' + $i + ']')#set($p = $at + '.id')$input.path($p)#end"},
		{"input params", "", "$input.params('id') $input.params('q') $input.params('Origin') [$input.params('none')] $input.params().header.get('Origin') $input.params().path $input.params().querystring.q"},
		{"input params every kind", "", "#set($all = $input.params())#foreach($type in $all.keySet())$type:#set($ps = $all.get($type))#foreach($n in $ps.keySet())$n=$util.escapeJavaScript($ps.get($n))#if($foreach.hasNext),#end#end;#end"},
		// $util.
		{"escapeJavaScript", event, "$util.escapeJavaScript($input.path('$.subject')) $util.escapeJavaScript($input.path('$.data.s')) $util.escapeJavaScript(\"a/b\")"},
		{"escapeJavaScript of null", "", "[$util.escapeJavaScript($nope)] [$!util.escapeJavaScript($nope)]"},
		{"base64", "", "$util.base64Encode(\"é!\") $util.base64Decode(\"w6kh\") $util.base64Encode(\"\") #set($r = '{\"a\":\"🚀\"}')$util.base64Encode($r)"},
		{"url encoding", "", "$util.urlEncode(\"a b&c=d/é~*\") $util.urlDecode(\"a+b%2Fc%C3%A9\")"},
		{"parseJson", `{"errorMessage":"{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}"}`, "#set($o = $util.parseJson($input.path('$.errorMessage')))$o.key2.arr.get(0) $o.key1 $o"},
		// $context.
		{"context members", "", "$context.requestId $context.stage $context.httpMethod $context.resourcePath $context.identity.sourceIp $context.identity.userAgent $context.identity.apiKeyId $context.authorizer.principalId $context.authorizer.claims.email $context.requestTimeEpoch [$!context.identity.userArn] $context.nope"},
		{"received_at from the request time", "", "#set($months = {\"Nov\": \"11\"})#set($clf = \"$!context.requestTime\")#set($epoch = \"$!context.requestTimeEpoch\")#set($msAt = $epoch.length() - 3)$clf.substring(7, 11)-$months.get($clf.substring(3, 6))-$clf.substring(0, 2)T$clf.substring(12, 20).$epoch.substring($msAt)Z"},
		{"response overrides", "", "#set($context.responseOverride.status = 429)#set($context.responseOverride.header.Retry-After = \"1\")#set($context.responseOverride.header.Access-Control-Allow-Origin = \"*\")body"},
		{"request overrides", "", "#set($context.requestOverride.header.X-Extra = \"v\")#set($context.requestOverride.querystring.q = \"x\")#set($context.requestOverride.path.id = \"p\")ok"},
		{"an override is final", "", "#set($context.responseOverride.status = 400)#set($context.responseOverride.status = 429)"},
		{"the header map is final", "", "#set($context.responseOverride.header = {})"},
		{"status as a string", "", "#set($context.responseOverride.status = \"503\")x"},
		{"stage variables", "", "[$!stageVariables.nope]"},
		// Errors and edges.
		{"unterminated if", "", "#if(true)x"},
		{"stray end", "", "x#end"},
		{"list get out of range", "", "#set($l = [1])$l.get(3)"},
		{"deep nesting", "", strings.Repeat("#if(true)", 30) + "deep" + strings.Repeat("#end", 30)},
		{"long output", "", "#foreach($i in [1..200])$i,#end"},
		{"partition key cut", fmt.Sprintf(`{"subject":"%s","id":"x"}`, strings.Repeat("ab", 100)+strings.Repeat("🚀", 40)), "#set($key = \"$!input.path('$.subject')\")#if($key.length() > 256)#set($key = $key.substring(0, 256))#if($key.codePointAt(255) >= 55296 && $key.codePointAt(255) <= 56319)#set($key = $key.substring(0, 255))#end#end$key.length() $key"},
	}
	var out []diffCase
	for _, tc := range templates {
		out = append(out, diffCase{name: "corpus " + tc.name, template: tc.tmpl, body: tc.body, params: params, context: ctx})
	}
	return out
}
