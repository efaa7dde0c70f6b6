import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";

export type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  Condition?: string;
};
export type Template = { Resources: Record<string, Resource>; Outputs?: Record<string, unknown> };

export type Statement = {
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

export type PackagedStage = "ci" | "example";

export const packageDir = (stage: PackagedStage = "ci"): string =>
  stage === "ci" ? inject("stackPackageDir") : inject("examplePackageDir");
export const templatePath = (stage: PackagedStage = "ci"): string =>
  join(packageDir(stage), "cloudformation-template-update-stack.json");

export function readTemplate(stage: PackagedStage = "ci"): Template {
  return JSON.parse(readFileSync(templatePath(stage), "utf8")) as Template;
}

export function resource(template: Template, logicalId: string): Resource {
  const found = template.Resources[logicalId];
  if (found === undefined) throw new Error(`the template has no resource ${logicalId}`);
  return found;
}

export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement granted to a role: its inline policies and any AWS::IAM::RolePolicy / Policy attached to it. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const role = resource(template, roleId);
  const inline = (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? [];
  const attached = Object.values(template.Resources).filter((r) => {
    if (r.Type === "AWS::IAM::RolePolicy") return refersTo(r.Properties.RoleName, roleId);
    if (r.Type === "AWS::IAM::Policy" || r.Type === "AWS::IAM::ManagedPolicy") {
      return asList((r.Properties.Roles ?? []) as unknown[]).some((name) => refersTo(name, roleId));
    }
    return false;
  });
  return [
    ...inline.flatMap((policy) => policy.PolicyDocument.Statement),
    ...attached.flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement),
  ];
}

export function actionsOf(statements: Statement[]): string[] {
  return [...new Set(statements.flatMap((s) => asList(s.Action)))].sort();
}

export function statementsFor(statements: Statement[], action: string): Statement[] {
  return statements.filter((s) => asList(s.Action).includes(action));
}

export function refersTo(value: unknown, logicalId: string): boolean {
  if (typeof value !== "object" || value === null) return false;
  const ref = (value as { Ref?: unknown }).Ref;
  const getAtt = (value as { "Fn::GetAtt"?: unknown })["Fn::GetAtt"];
  return ref === logicalId || (Array.isArray(getAtt) && getAtt[0] === logicalId);
}

/**
 * Replaces Ref / Fn::GetAtt / Fn::Join / Fn::Sub with plausible values, so that a function's environment can
 * be fed to the code that parses it at cold start.
 */
export function resolveForTest(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveForTest);
  if (typeof value !== "object" || value === null) return value;
  const object = value as Record<string, unknown>;
  if ("Ref" in object) return `ref:${String(object.Ref)}`;
  if ("Fn::GetAtt" in object) return `arn:aws:test:::${(object["Fn::GetAtt"] as string[]).join(".")}`;
  if ("Fn::Join" in object) {
    const [separator, parts] = object["Fn::Join"] as [string, unknown[]];
    return (parts.map(resolveForTest) as string[]).join(separator);
  }
  if ("Fn::Sub" in object) return String(object["Fn::Sub"]);
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolveForTest(v)]));
}
