#!/usr/bin/env python3
"""The SAM transform of infra/template.yaml, offline, as `sam package` + CloudFormation run it.

    infra/transform.py [template] > transformed.json

AWS's own translator (the aws-sam-translator package CloudFormation's
AWS::Serverless transform runs), with what a deploy would give it: a region,
each function's CodeUri rewritten to the S3 object `sam package` uploads
(s3://<bucket>/<function>.zip), and no managed policies to look up (the
template gives every function its own role). Prints the CloudFormation
template it becomes, as JSON; scripts/check lints it and the tests read it.
"""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUCKET = "sam-packages"


class NoManagedPolicies:
    """The template names no SAM policy template or managed policy by name."""

    def load(self):
        return {}


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "infra", "template.yaml")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path, encoding="utf-8") as file:
        template = yaml_parse(file.read())
    for name, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{BUCKET}/{name}.zip"
    json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, indent=1, default=str)
    print()


if __name__ == "__main__":
    main()
