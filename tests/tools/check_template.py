#!/usr/bin/env python3
"""Checks deploy/cloudformation/lote.yaml against the state machine definitions it deploys.

cfn-lint checks the template's resources and properties; it cannot know that the definitions
named by DefinitionS3Location use exactly the substitutions the template gives them, or that a
function the definition calls runs the built-in function the local executor runs under the same
substitution. This does, and prints one line per problem (exit 1), or nothing (exit 0):

  - every ${NAME} in a definition has a DefinitionSubstitutions entry, and every entry is used;
  - the names are those of deploy/statemachines/local.substitutions.json (what `lote flow run`
    is given), so that a local run and the stack run the same definition;
  - a substitution naming a function (!GetAtt F.Arn of an AWS::Lambda::Function) runs lote's
    image with the Command [lambda, NAME], NAME the local substitution's value (lote-publish, ...);
  - ModelName is the stack's AWS::SageMaker::Model, which serves lote's image.

Usage: check_template.py TEMPLATE LOCAL_SUBSTITUTIONS
"""

import json
import os
import re
import sys

from cfnlint.decode import cfn_yaml


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    template_path, local_path = sys.argv[1], sys.argv[2]
    template = cfn_yaml.load(template_path)
    with open(local_path) as f:
        local = json.load(f)
    resources = template["Resources"]
    problems = []
    used = set()
    for name, res in resources.items():
        if res["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        props = res["Properties"]
        location = props.get("DefinitionS3Location")
        if not isinstance(location, str):
            problems.append(f"{name}: DefinitionS3Location must name a definition of deploy/")
            continue
        path = os.path.normpath(os.path.join(os.path.dirname(template_path), location))
        with open(path) as f:
            definition = f.read()
        json.loads(definition)
        wanted = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", definition))
        given = props.get("DefinitionSubstitutions", {})
        for key in sorted(wanted - set(given)):
            problems.append(f"{name}: {location} uses ${{{key}}}, which DefinitionSubstitutions "
                            "does not give")
        for key in sorted(set(given) - wanted):
            problems.append(f"{name}: DefinitionSubstitutions.{key} is not used by {location}")
        for key in sorted(wanted - set(local)):
            problems.append(f"{name}: ${{{key}}} is missing from {local_path}")
        used |= wanted
        for key, value in given.items():
            if not (isinstance(value, dict) and "Fn::GetAtt" in value):
                continue
            target, attribute = value["Fn::GetAtt"]
            kind = resources.get(target, {}).get("Type")
            if kind == "AWS::Lambda::Function":
                fprops = resources[target]["Properties"]
                command = fprops.get("ImageConfig", {}).get("Command")
                if attribute != "Arn":
                    problems.append(f"{name}: {key} must be {target}.Arn")
                if command != ["lambda", local.get(key)]:
                    problems.append(f"{name}: {key} is {target}, whose Command {command} is not "
                                    f"[lambda, {local.get(key)}] as locally")
                if fprops.get("Code", {}).get("ImageUri") != {"Ref": "LoteImageUri"}:
                    problems.append(f"{target}: must run lote's image (Code.ImageUri)")
            elif key == "ModelName":
                container = resources.get(target, {}).get("Properties", {}).get(
                    "PrimaryContainer", {})
                if kind != "AWS::SageMaker::Model" or container.get("Image") != {
                        "Ref": "LoteImageUri"}:
                    problems.append(f"{name}: ModelName must be a SageMaker model of lote's "
                                    "image")
    for key in sorted(set(local) - used):
        problems.append(f"{local_path}: {key} is used by no deployed definition")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
