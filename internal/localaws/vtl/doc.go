// Package vtl renders API Gateway REST API mapping templates in Go: the subset of the Velocity
// Template Language (Apache Velocity 1.7, which API Gateway's mapping templates are based on) that
// template.yaml's templates use, with the $input, $util and $context variables of the mapping
// template reference
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html)
// and the final request and response overrides
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-override-request-response-parameters.html).
//
// Why a Go engine rather than the Java one as a helper process: the local API ("firelane api",
// and "firelane up" after it) must need nothing installed beyond Go, and a request should not wait
// on a JVM (Velocity reparses each template per evaluation; the JVM takes seconds to start). No
// maintained Go library implements Velocity, so this one is written here. Apache Velocity 1.7 on
// Java (tests/vtl/Render.java, through package velocity) stays the reference: the differential
// test renders every mapping template of template.yaml, for several parameter sets, request bodies,
// integration answers, origins and auth modes, and a corpus of templates aimed at Velocity 1.7's
// surprises, with both engines and requires the same output, overrides and failures.
//
// What it implements:
//   - text, ## and #* *# comments, references ($x, $!x, ${x}, $!{x}) with .property and
//     .method(args) chains, names with hyphens (Velocity 1.x), a null reference rendered as its
//     source text unless quiet;
//   - #set (a null value leaves the target as it was), #if / #elseif / #else, #foreach (over lists,
//     map values; $foreach.index, count, hasNext, first, last and $velocityCount; at most
//     [MaxLoops] iterations; the loop variable restored after), and the whitespace Velocity 1.7
//     swallows around them;
//   - literals: strings ('...' as is, "..." interpolated, a doubled quote for one, backslashes
//     kept), Integer, Long and Double numbers, true and false, lists, ranges [a..b] and maps;
//   - operators || && ! == != < <= > >= + - * / % and their word forms, with Velocity's rules: ==
//     compares numbers by value and other classes by their string forms, + concatenates when either
//     side is a string, integer arithmetic widens to Long and BigInteger, division by zero is
//     null, a string or number literal is false in a condition;
//   - the Java methods of String (counted in UTF-16 code units, as Java counts), List, Map and
//     numbers that templates call, and Java's string forms of values;
//   - $input.body, json, path (JSONPath $, .name, ['name'], [n] as Jayway JsonPath answers them,
//     with Jackson's number types and JSON writing), params; $util.escapeJavaScript (commons-lang's),
//     parseJson, urlEncode, urlDecode, base64Encode, base64Decode; $context; $stageVariables.
//
// What it does not: macros, #parse, #include, #evaluate, #define, #break, #stop, escaped
// references (\$x), JSONPath wildcards, deep scans, slices and filters, and Java methods beyond
// those above (a missing method yields null, as in Velocity). A template that needs them fails to
// parse or renders the reference's text, and the differential test is where to prove an addition.
package vtl
