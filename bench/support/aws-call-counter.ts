import type { MetadataBearer, MiddlewareStack } from "@smithy/types";

/** One HTTP request an SDK client sent: service, operation, and what it wrote or read (for request units). */
export type AwsCall = {
  service: string;
  operation: string;
  atMs: number;
  /** From sending the request to its parsed answer: moto's time plus the SDK's own. */
  durationMs: number;
  /** DynamoDB only: each item a write touched, `transactional` when it was part of TransactWriteItems. */
  writes: { key: string; bytes: number | undefined; transactional: boolean; touchesActivityIndex: boolean }[];
  /** DynamoDB only: bytes of the items a read returned. */
  readBytes: number;
};

export type RequestListener = (atMs: number, input: unknown) => void;

/**
 * Counts every request the clients it is attached to send, with an SDK middleware placed after the retry
 * middleware, so each retried attempt counts as the request AWS would bill. A second middleware at the very
 * start of the stack tells listeners the moment a given operation is called (e.g. RunTask).
 */
export class AwsCallCounter {
  private calls: AwsCall[] = [];
  private readonly requestListeners = new Set<{ key: string; listener: RequestListener }>();
  enabled = false;

  attach<I extends object, O extends MetadataBearer>(client: { middlewareStack: MiddlewareStack<I, O> }): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (this.requestListeners.size > 0) {
          const key = `${serviceOf(context.clientName)}.${operationOf(context.commandName)}`;
          const atMs = performance.now();
          for (const entry of this.requestListeners) if (entry.key === key) entry.listener(atMs, args.input);
        }
        return next(args);
      },
      { step: "initialize", priority: "high", name: "benchAwsRequestTimer" },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const sentAt = performance.now();
        const result = await next(args);
        if (this.enabled) {
          const service = serviceOf(context.clientName);
          const operation = operationOf(context.commandName);
          this.calls.push({
            service,
            operation,
            atMs: performance.now(),
            durationMs: performance.now() - sentAt,
            writes: service === "DynamoDB" ? writesOf(operation, args.input) : [],
            readBytes: service === "DynamoDB" ? readBytesOf(result.output) : 0,
          });
        }
        return result;
      },
      { step: "finalizeRequest", priority: "low", name: "benchAwsCallCounter" },
    );
  }

  /** Calls `listener` with performance.now() and the input whenever `service.operation` is called; returns the remover. */
  onRequest(service: string, operation: string, listener: RequestListener): () => void {
    const entry = { key: `${service}.${operation}`, listener };
    this.requestListeners.add(entry);
    return () => this.requestListeners.delete(entry);
  }

  /** Calls counted since the last take(). */
  get count(): number {
    return this.calls.length;
  }

  take(): AwsCall[] {
    const taken = this.calls;
    this.calls = [];
    return taken;
  }
}

function serviceOf(clientName: unknown): string {
  return String(clientName ?? "unknown").replace(/Client$/, "");
}

function operationOf(commandName: unknown): string {
  return String(commandName ?? "unknown").replace(/Command$/, "");
}

export function countByOperation(calls: readonly AwsCall[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const key = `${call.service}.${call.operation}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

type Marshalled = Record<string, unknown>;

function writesOf(operation: string, input: unknown): AwsCall["writes"] {
  const request = input as Record<string, unknown>;
  if (operation === "TransactWriteItems") {
    const actions = (request.TransactItems as Record<string, Marshalled>[] | undefined) ?? [];
    return actions.flatMap((action) => {
      const [kind, body] = Object.entries(action)[0] ?? [];
      if (kind === undefined || body === undefined || kind === "ConditionCheck") return [];
      return [writeOf(kind, body as Marshalled, true)];
    });
  }
  if (operation === "PutItem") return [writeOf("Put", request, false)];
  if (operation === "UpdateItem") return [writeOf("Update", request, false)];
  if (operation === "DeleteItem") return [writeOf("Delete", request, false)];
  return [];
}

function writeOf(kind: string, body: Marshalled, transactional: boolean): AwsCall["writes"][number] {
  const item = (kind === "Put" ? body.Item : body.Key) as Marshalled | undefined;
  const key = keyOf(item);
  const updateExpression = typeof body.UpdateExpression === "string" ? body.UpdateExpression : "";
  return {
    key,
    // A Put's size is known; an update's is looked up afterwards in the table.
    bytes: kind === "Put" && item !== undefined ? itemBytes(item) : undefined,
    transactional,
    touchesActivityIndex:
      updateExpression.includes("activityPk") || (kind === "Put" && item !== undefined && "activityPk" in item),
  };
}

export function keyOf(item: Marshalled | undefined): string {
  const pk = (item?.pk as { S?: string } | undefined)?.S ?? "?";
  const sk = (item?.sk as { S?: string } | undefined)?.S ?? "?";
  return `${pk}|${sk}`;
}

function readBytesOf(output: unknown): number {
  const answer = output as { Item?: Marshalled; Items?: Marshalled[] } | undefined;
  if (answer?.Item !== undefined) return itemBytes(answer.Item);
  if (answer?.Items !== undefined) return answer.Items.reduce((sum, item) => sum + itemBytes(item), 0);
  return 0;
}

/** DynamoDB's item size: attribute names plus values (strings by UTF-8 length, numbers about 1 byte per 2 digits). */
export function itemBytes(item: Marshalled): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + valueBytes(value);
  return total;
}

function valueBytes(value: unknown): number {
  if (value === null || typeof value !== "object") return Buffer.byteLength(JSON.stringify(value) ?? "");
  const typed = value as Record<string, unknown>;
  if (typeof typed.S === "string") return Buffer.byteLength(typed.S);
  if (typeof typed.N === "string") return Math.ceil(typed.N.replace(/[-.]/g, "").length / 2) + 1;
  if ("BOOL" in typed || "NULL" in typed) return 1;
  if (Array.isArray(typed.L)) return 3 + typed.L.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typed.M !== undefined && typeof typed.M === "object") return 3 + itemBytes(typed.M as Marshalled);
  // Not marshalled (a document-client shape): its JSON length is close enough for 1 KB / 4 KB units.
  return Buffer.byteLength(JSON.stringify(value));
}
