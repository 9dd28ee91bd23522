package fastschema_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/firelane/firelane/internal/fastschema"
)

func ExampleCompile() {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	src := `{"type":"object","required":["n"],"properties":{"n":{"type":"integer","multipleOf":0.5}}}`
	if err := c.AddResource("firelane:///example.json", bytes.NewReader([]byte(src))); err != nil {
		panic(err)
	}
	v5, err := c.Compile("firelane:///example.json")
	if err != nil {
		panic(err)
	}
	fast, err := fastschema.Compile(v5)
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
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	src := `{"type":"object","unevaluatedProperties":false}`
	_ = c.AddResource("firelane:///declined.json", bytes.NewReader([]byte(src)))
	v5, _ := c.Compile("firelane:///declined.json")
	_, err := fastschema.Compile(v5)
	var de *fastschema.DeclinedError
	if errors.As(err, &de) {
		fmt.Println(de.Keyword)
	}
	// Output:
	// unevaluatedProperties
}
