package fastschema_test

import (
	"errors"
	"fmt"

	"github.com/firelane/firelane/internal/fastschema"
)

func ExampleCompiler_Compile() {
	c := fastschema.NewCompiler()
	src := `{"type":"object","required":["n"],"properties":{"n":{"$ref":"#/$defs/half"}},
		"$defs":{"half":{"type":"integer","multipleOf":0.5}}}`
	if err := c.AddResource("firelane:///example.json", []byte(src)); err != nil {
		panic(err)
	}
	fast, err := c.Compile("firelane:///example.json")
	if err != nil {
		panic(err)
	}
	for _, text := range []string{`{"n":2}`, `{"n":2.0}`, `{"n":2.5}`, `{"n":"2"}`, `{"n":2.5,"n":3}`, `{"n":1`} {
		fmt.Println(text, fast.Validate([]byte(text)))
	}
	// Output:
	// {"n":2} true
	// {"n":2.0} true
	// {"n":2.5} false
	// {"n":"2"} false
	// {"n":2.5,"n":3} true
	// {"n":1 false
}

func ExampleDeclinedError() {
	c := fastschema.NewCompiler()
	src := `{"type":"object","unevaluatedProperties":false}`
	if err := c.AddResource("firelane:///declined.json", []byte(src)); err != nil {
		panic(err)
	}
	_, err := c.Compile("firelane:///declined.json")
	var de *fastschema.DeclinedError
	if errors.As(err, &de) {
		fmt.Println(de.Keyword)
	}
	// Output:
	// unevaluatedProperties
}
