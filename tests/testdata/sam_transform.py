"""Transforms a SAM template into CloudFormation with aws-sam-translator, as `sam deploy` does.

usage: sam_transform.py TEMPLATE [PARAMETERS_JSON]

Prints the transformed template as JSON. Intrinsic functions are left as CloudFormation resolves
them at deploy time; the Go tests evaluate conditions for each parameter set.
"""
import json
import os
import sys

import yaml
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """Stands in for SAM's IAM-backed loader: the template names no AWS managed policy."""

    def load(self):
        return {}


def cfn_loader():
    loader = type("CfnLoader", (yaml.SafeLoader,), {})

    def construct(tag):
        def fn(ld, node):
            if isinstance(node, yaml.ScalarNode):
                value = ld.construct_scalar(node)
            elif isinstance(node, yaml.SequenceNode):
                value = ld.construct_sequence(node, deep=True)
            else:
                value = ld.construct_mapping(node, deep=True)
            if tag == "Ref":
                return {"Ref": value}
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
            if tag == "Condition":
                return {"Condition": value}
            return {"Fn::" + tag: value}
        return fn

    for tag in ["Ref", "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Join", "Select",
                "Split", "FindInMap", "Base64", "Cidr", "ImportValue", "GetAZs", "Condition",
                "Transform", "ToJsonString", "Length"]:
        loader.add_constructor("!" + tag, construct(tag))
    return loader


def main():
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(sys.argv[1]) as f:
        template = yaml.load(f, Loader=cfn_loader())
    params = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    values = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
              "AWS::StackName": "firelane"}
    for name, p in template.get("Parameters", {}).items():
        if "Default" in p:
            values[name] = p["Default"]
    values.update(params)
    # sam deploy uploads each function's built code first and puts its S3 location in CodeUri.
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties", {})
        if res.get("Type") == "AWS::Serverless::Function" and not str(props.get("CodeUri", "s3://")).startswith("s3://"):
            props["CodeUri"] = "s3://firelane-artifacts/" + name + ".zip"
    out = transform(template, values, NoManagedPolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main()
