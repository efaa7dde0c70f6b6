import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackSettings, secretResourceArn } from "../../functions/config/stages/stage-config.js";
import {
  actionsOf,
  asList,
  readTemplate,
  refersTo,
  resource,
  resourcesOfType,
  roleStatements,
  type Statement,
  statementsFor,
} from "./packaged-template.js";

const template = readTemplate();
const stage = loadStackSettings("ci", join(import.meta.dirname, "../../functions/config/stages"));
const clusterArn = { "Fn::GetAtt": ["Cluster", "Arn"] };
const family = resource(template, "TaskDefinition").Properties.Family as string;

/** What every function needs to launch runs: each of the three runs the pool scheduler. */
const LAUNCH_ACTIONS = [
  "dynamodb:ConditionCheckItem",
  "dynamodb:DeleteItem",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:Query",
  "dynamodb:UpdateItem",
  "ecs:ListTasks",
  "ecs:RunTask",
  "ecs:TagResource",
  "iam:PassRole",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "secretsmanager:GetSecretValue",
];

const FUNCTION_ROLES = {
  DispatchLambdaFunction: {
    role: "DispatchRole",
    actions: [
      ...LAUNCH_ACTIONS,
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
      "ecs:StopTask",
    ],
  },
  TaskStateChangeLambdaFunction: {
    role: "TaskStateChangeRole",
    actions: [...LAUNCH_ACTIONS, "ecs:DescribeTasks", "ecs:StopTask", "logs:GetLogEvents"],
  },
  ReconcileLambdaFunction: {
    role: "ReconcileRole",
    actions: [...LAUNCH_ACTIONS, "ecs:DescribeTasks", "ecs:StopTask", "logs:GetLogEvents"],
  },
} as const;

function onlyStatement(statements: Statement[], action: string): Statement {
  const found = statementsFor(statements, action);
  expect(found, `statements granting ${action}`).toHaveLength(1);
  return found[0] as Statement;
}

describe("each function has a role of its own holding only its own permissions", () => {
  it.each(Object.entries(FUNCTION_ROLES))("%s", (functionId, { role, actions }) => {
    expect(resource(template, functionId).Properties.Role).toEqual({ "Fn::GetAtt": [role, "Arn"] });
    expect(actionsOf(roleStatements(template, role))).toEqual([...actions].sort());
  });

  it("the framework's shared Lambda role is not created", () => {
    const roles = resourcesOfType(template, "AWS::IAM::Role").map(([id]) => id);
    expect(roles.sort()).toEqual([
      "DispatchRole",
      "IntakeRole",
      "ReconcileRole",
      "TaskExecutionRole",
      "TaskRole",
      "TaskStateChangeRole",
    ]);
  });

  it("every statement allows (no Deny tricks) and names no action wildcard", () => {
    for (const [id] of resourcesOfType(template, "AWS::IAM::Role")) {
      for (const statement of roleStatements(template, id)) {
        expect(statement.Effect).toBe("Allow");
        for (const action of asList(statement.Action)) expect(action, `${id}: ${action}`).not.toContain("*");
      }
    }
  });

  it('"*" is a resource only where AWS allows nothing narrower: ecr:GetAuthorizationToken and a cluster-bound ListTasks', () => {
    for (const [id] of resourcesOfType(template, "AWS::IAM::Role")) {
      for (const statement of roleStatements(template, id)) {
        if (!asList(statement.Resource).includes("*")) continue;
        const actions = asList(statement.Action);
        expect(
          actions.length === 1 && ["ecr:GetAuthorizationToken", "ecs:ListTasks"].includes(actions[0] as string),
        ).toBe(true);
        if (actions[0] === "ecs:ListTasks")
          expect(statement.Condition).toEqual({ ArnEquals: { "ecs:cluster": clusterArn } });
      }
    }
  });
});

describe.each(Object.values(FUNCTION_ROLES).map(({ role }) => role))("%s", (role) => {
  const statements = roleStatements(template, role);

  it("RunTask: this task definition family only, on this cluster", () => {
    const runTask = onlyStatement(statements, "ecs:RunTask");
    expect(runTask.Action).toBe("ecs:RunTask");
    expect(runTask.Resource).toEqual({
      "Fn::Sub": `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:task-definition/${family}:*`,
    });
    expect(runTask.Condition).toEqual({ ArnEquals: { "ecs:cluster": clusterArn } });
  });

  it("TagResource: only on tasks of this cluster, only while RunTask creates them", () => {
    const tag = onlyStatement(statements, "ecs:TagResource");
    expect(tag.Resource).toEqual({
      "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*",
    });
    expect(tag.Condition).toEqual({ StringEquals: { "ecs:CreateAction": "RunTask" } });
  });

  it("PassRole: exactly the execution and task roles, only to ECS tasks", () => {
    const passRole = onlyStatement(statements, "iam:PassRole");
    expect(passRole.Action).toBe("iam:PassRole");
    expect(passRole.Resource).toEqual([
      { "Fn::GetAtt": ["TaskExecutionRole", "Arn"] },
      { "Fn::GetAtt": ["TaskRole", "Arn"] },
    ]);
    expect(passRole.Condition).toEqual({ StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
  });

  it("GetSecretValue: the GMS token only", () => {
    const secret = onlyStatement(statements, "secretsmanager:GetSecretValue");
    expect(secret.Action).toBe("secretsmanager:GetSecretValue");
    expect(secret.Resource).toBe(stage.gms.tokenSecretArn);
  });

  it("DynamoDB: the stack's table and its indexes, nothing else", () => {
    for (const statement of statements.filter((s) => asList(s.Action).some((a) => a.startsWith("dynamodb:")))) {
      expect(asList(statement.Action).every((a) => a.startsWith("dynamodb:"))).toBe(true);
      expect(statement.Resource).toEqual([
        { "Fn::GetAtt": ["ExecutorTable", "Arn"] },
        { "Fn::Sub": "${ExecutorTable.Arn}/index/*" },
      ]);
    }
  });

  it("writes logs to its own log group only", () => {
    const logs = onlyStatement(statements, "logs:PutLogEvents");
    const functionName = {
      DispatchRole: "dispatch",
      TaskStateChangeRole: "task-state-change",
      ReconcileRole: "reconcile",
    }[role];
    expect(logs.Resource).toEqual({
      "Fn::Sub": `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/dhx-ci-${functionName}:*`,
    });
  });

  it("StopTask and DescribeTasks, where granted, are bound to this cluster's tasks", () => {
    for (const action of ["ecs:StopTask", "ecs:DescribeTasks"]) {
      for (const statement of statementsFor(statements, action)) {
        expect(statement.Action).toBe(action);
        expect(statement.Resource).toEqual({
          "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*",
        });
        expect(statement.Condition).toEqual({ ArnEquals: { "ecs:cluster": clusterArn } });
      }
    }
  });
});

describe("function-specific grants", () => {
  it("dispatch: consumes the intake queue and sends only to the dead-letter queue", () => {
    const statements = roleStatements(template, "DispatchRole");
    const consume = onlyStatement(statements, "sqs:ReceiveMessage");
    expect(consume.Resource).toEqual({ "Fn::GetAtt": ["IntakeQueue", "Arn"] });
    expect(onlyStatement(statements, "sqs:SendMessage").Resource).toEqual({
      "Fn::GetAtt": ["IntakeDeadLetterQueue", "Arn"],
    });
  });

  it("task-state-change: reads the run log group's run streams only", () => {
    const read = onlyStatement(roleStatements(template, "TaskStateChangeRole"), "logs:GetLogEvents");
    expect(read.Resource).toEqual({
      "Fn::Sub":
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${RunLogGroup}:log-stream:run/*",
    });
  });
});

describe("intake: polls GMS and sends to the intake queue, nothing more", () => {
  const statements = roleStatements(template, "IntakeRole");

  it("its function uses it, and it grants exactly these actions", () => {
    expect(resource(template, "IntakeLambdaFunction").Properties.Role).toEqual({ "Fn::GetAtt": ["IntakeRole", "Arn"] });
    expect(actionsOf(statements)).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "secretsmanager:GetSecretValue",
      "sqs:SendMessage",
    ]);
  });

  it("the GMS token, the intake queue and its own log group only", () => {
    expect(onlyStatement(statements, "secretsmanager:GetSecretValue").Resource).toBe(stage.gms.tokenSecretArn);
    expect(onlyStatement(statements, "sqs:SendMessage").Resource).toEqual({ "Fn::GetAtt": ["IntakeQueue", "Arn"] });
    expect(onlyStatement(statements, "logs:PutLogEvents").Resource).toEqual({
      "Fn::Sub":
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/dhx-ci-gms-intake:*",
    });
  });

  it("DynamoDB: the pool index, the default-pool pointer, and writes to INTAKE# markers only", () => {
    expect(onlyStatement(statements, "dynamodb:Query")).toMatchObject({
      Action: "dynamodb:Query",
      Resource: { "Fn::Sub": "${ExecutorTable.Arn}/index/byKind" },
    });
    expect(onlyStatement(statements, "dynamodb:GetItem")).toMatchObject({
      Action: "dynamodb:GetItem",
      Resource: { "Fn::GetAtt": ["ExecutorTable", "Arn"] },
      Condition: { "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["DEFAULT_POOL"] } },
    });
    const writes = onlyStatement(statements, "dynamodb:PutItem");
    expect(asList(writes.Action).sort()).toEqual(["dynamodb:PutItem", "dynamodb:UpdateItem"]);
    expect(writes.Condition).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["INTAKE#*"] } });
  });
});

describe("task roles", () => {
  it("execution role: exactly the stage's source secret ARNs, the image's repository and the run log group", () => {
    const statements = roleStatements(template, "TaskExecutionRole");
    const secretArns = [...new Set(Object.values(stage.sourceSecrets).map(secretResourceArn))].sort();
    expect(secretArns).toHaveLength(2);
    const secrets = onlyStatement(statements, "secretsmanager:GetSecretValue");
    expect(secrets.Resource).toEqual(secretArns);
    // The json-key suffix of a reference is not part of the ARN IAM matches.
    expect(asList(secrets.Resource as string[]).every((arn) => /-[A-Za-z0-9]{6}$/.test(arn))).toBe(true);
    expect(onlyStatement(statements, "ecr:BatchGetImage").Resource).toBe(
      "arn:aws:ecr:us-east-1:123456789012:repository/datahub-executor-task",
    );
    expect(onlyStatement(statements, "logs:PutLogEvents").Resource).toEqual({ "Fn::Sub": "${RunLogGroup.Arn}" });
    expect(actionsOf(statements)).toEqual([
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetAuthorizationToken",
      "ecr:GetDownloadUrlForLayer",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "secretsmanager:GetSecretValue",
    ]);
  });

  it("task role: the stage's secret prefix and RUN# items of the table, read and put only", () => {
    const statements = roleStatements(template, "TaskRole");
    expect(onlyStatement(statements, "secretsmanager:GetSecretValue").Resource).toEqual({
      "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:datahub-executor/ci/*",
    });
    const table = onlyStatement(statements, "dynamodb:GetItem");
    expect(asList(table.Action).sort()).toEqual(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]);
    expect(table.Resource).toEqual({ "Fn::GetAtt": ["ExecutorTable", "Arn"] });
    expect(table.Condition).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["RUN#*"] } });
    expect(actionsOf(statements)).toEqual([
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "secretsmanager:GetSecretValue",
    ]);
    // Beyond that, only the managed policies the stage names for its recipes' AWS sources.
    expect(resource(template, "TaskRole").Properties.ManagedPolicyArns).toEqual([
      "arn:aws:iam::123456789012:policy/dhx-ci-glue-read",
    ]);
    for (const id of ["DispatchRole", "TaskStateChangeRole", "ReconcileRole", "IntakeRole", "TaskExecutionRole"]) {
      expect(resource(template, id).Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  it("both task roles trust ECS tasks only; the task role only those of this account", () => {
    for (const id of ["TaskExecutionRole", "TaskRole"]) {
      const trust = resource(template, id).Properties.AssumeRolePolicyDocument as { Statement: unknown[] };
      expect(trust.Statement).toHaveLength(1);
      expect(trust.Statement[0]).toMatchObject({
        Effect: "Allow",
        Principal: { Service: "ecs-tasks.amazonaws.com" },
        Action: "sts:AssumeRole",
      });
    }
    const taskTrust = resource(template, "TaskRole").Properties.AssumeRolePolicyDocument as { Statement: unknown[] };
    expect(taskTrust.Statement[0]).toMatchObject({
      Condition: {
        ArnLike: { "aws:SourceArn": { "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*" } },
        StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
      },
    });
  });

  it("the task definition uses them, and no function role is passed to a task", () => {
    const taskDefinition = resource(template, "TaskDefinition").Properties;
    expect(refersTo(taskDefinition.ExecutionRoleArn, "TaskExecutionRole")).toBe(true);
    expect(refersTo(taskDefinition.TaskRoleArn, "TaskRole")).toBe(true);
  });
});
