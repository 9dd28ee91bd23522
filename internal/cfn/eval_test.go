package cfn

import (
	"encoding/json"
	"testing"
)

const sample = `
Parameters:
  Mode: {Type: String, Default: a}
  Size: {Type: Number, Default: 0.5}
Mappings:
  Levels:
    a: {Upper: A}
Conditions:
  IsA: !Equals [!Ref Mode, a]
  NotA: !Not [!Condition IsA]
  Both: !And [!Condition IsA, !Equals ['x', 'x']]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '${AWS::StackName}-q'
  OnlyB:
    Type: AWS::SQS::Queue
    Condition: NotA
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Size: !Ref Size
      Level: !FindInMap [Levels, !Ref Mode, Upper]
      Name: !If [IsA, !Sub ['${X}-${Queue}-${!Literal}', {X: !Ref Mode}], other]
      Gone: !If [Both, !Ref AWS::NoValue, kept]
      List: [!If [NotA, x, !Ref AWS::NoValue], y]
      Att: !GetAtt Queue.Arn
      Joined: !Join ['-', [!Select [1, !Split [',', 'p,q,r']], z]]
`

func TestEvaluator(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		params map[string]string
		want   string
		onlyB  bool
	}{
		{"defaults", nil, `{"Att":{"Fn::GetAtt":["Queue","Arn"]},"Joined":"q-z","Level":"A","List":["y"],"Name":"a-${Queue}-${Literal}","Size":"0.5"}`, false},
		{"override", map[string]string{"Mode": "b"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEvaluator(tpl, "st", tc.params)
			deployed, err := e.Deployed()
			if tc.params != nil {
				// Mode b has no mapping: FindInMap must fail rather than guess.
				if err == nil {
					t.Fatal("got no error for a missing mapping entry")
				}
				e = NewEvaluator(tpl, "st", tc.params)
				on, _ := e.Condition("NotA")
				if on != tc.onlyB {
					t.Errorf("NotA: got %v, want %v", on, tc.onlyB)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := deployed["OnlyB"]; ok != tc.onlyB {
				t.Errorf("OnlyB deployed: got %v, want %v", ok, tc.onlyB)
			}
			got, _ := json.Marshal(deployed["Fn"]["Properties"])
			if string(got) != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
			if q := Path(deployed["Queue"], "Properties", "QueueName"); q != "st-q" {
				t.Errorf("QueueName: got %v, want st-q", q)
			}
		})
	}
}

func TestEvaluatorResources(t *testing.T) {
	tpl, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvaluator(tpl, "st", nil)
	e.Resource = func(id, attr string) (string, bool) { return id + "/" + attr, true }
	v, err := e.Resolve(Path(tpl, "Resources", "Fn", "Properties", "Name"))
	if err != nil {
		t.Fatal(err)
	}
	if v != "a-Queue/-${Literal}" {
		t.Errorf("got %v, want a-Queue/-${Literal}", v)
	}
}

func TestParseJSON(t *testing.T) {
	tpl, err := Parse([]byte(`{"Resources": {"A": {"Type": "T", "Properties": {"X": {"Ref": "AWS::Region"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl.ResourcesOfType("T"); len(got) != 1 || got[0] != "A" {
		t.Fatalf("got %v", got)
	}
	v, _ := NewEvaluator(tpl, "s", nil).Resolve(Path(tpl, "Resources", "A", "Properties", "X"))
	if v != "us-east-1" {
		t.Errorf("got %v, want us-east-1", v)
	}
}

func TestRefCommaDelimitedList(t *testing.T) {
	tpl := Template{"Parameters": map[string]any{"Arns": map[string]any{"Type": "CommaDelimitedList", "Default": ""}}}
	tests := []struct {
		name, value, want string
	}{
		{"default", "", "[]"},
		{"two", "a,b", "[a b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEvaluator(tpl, "s", map[string]string{"Arns": tt.value})
			got, err := e.Resolve(map[string]any{"Fn::Join": []any{"", []any{"[", map[string]any{"Fn::Join": []any{" ", map[string]any{"Ref": "Arns"}}}, "]"}}})
			if err != nil || got != tt.want {
				t.Errorf("got %v (%v), want %s", got, err, tt.want)
			}
		})
	}
}
