import type { UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import { type DynamoDBDocumentClient, PutCommand, type PutCommandInput, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { IntakeMarkers } from "../../app/intake-ports.js";
import type { IntakeMessageKind } from "../../core/intake-plan.js";
import { Keys } from "./table-keys.js";
import { isConditionalCheckFailed } from "./transactions.js";

/**
 * The claim: put the marker only if there is none, or if the one there was claimed before `staleBeforeMs` and
 * never confirmed sent (its claimer died between the claim and SendMessage). Two polls racing for the same
 * request: DynamoDB lets exactly one condition pass.
 */
export function buildClaimMarkerPut(
  table: string,
  marker: { executionRequestUrn: string; kind: IntakeMessageKind; poolId: string },
  nowMs: number,
  staleBeforeMs: number,
): PutCommandInput {
  return {
    TableName: table,
    Item: {
      ...Keys.intakeMarker(marker.executionRequestUrn, marker.kind),
      executionRequestUrn: marker.executionRequestUrn,
      messageKind: marker.kind,
      poolId: marker.poolId,
      claimedAtMs: nowMs,
    },
    ConditionExpression: "attribute_not_exists(pk) OR (attribute_not_exists(sentAtMs) AND claimedAtMs < :staleBefore)",
    ExpressionAttributeValues: { ":staleBefore": staleBeforeMs },
  };
}

export function buildMarkSentUpdate(
  table: string,
  marker: { executionRequestUrn: string; kind: IntakeMessageKind },
  nowMs: number,
): UpdateCommandInput {
  return {
    TableName: table,
    Key: Keys.intakeMarker(marker.executionRequestUrn, marker.kind),
    UpdateExpression: "SET sentAtMs = :now",
    ConditionExpression: "attribute_exists(pk)",
    ExpressionAttributeValues: { ":now": nowMs },
  };
}

export class DynamoDbIntakeMarkers implements IntakeMarkers {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(
    marker: { executionRequestUrn: string; kind: IntakeMessageKind; poolId: string },
    nowMs: number,
    staleBeforeMs: number,
  ): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand(buildClaimMarkerPut(this.table, marker, nowMs, staleBeforeMs)));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async markSent(marker: { executionRequestUrn: string; kind: IntakeMessageKind }, nowMs: number): Promise<void> {
    await this.doc.send(new UpdateCommand(buildMarkSentUpdate(this.table, marker, nowMs)));
  }
}
