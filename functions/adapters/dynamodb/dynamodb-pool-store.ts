import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { PoolStore } from "../../app/ports.js";
import { PoolNotFoundError } from "../../core/errors.js";
import { type Pool, PoolSettings } from "../../core/pool.js";
import {
  buildCreatePoolTransaction,
  buildListPoolsQuery,
  buildSetDefaultTransaction,
  buildUpdatePoolRequest,
} from "./pool-requests.js";
import { Keys } from "./table-keys.js";
import { isConditionalCheckFailed, sendTransaction, TransactionConditionFailed } from "./transactions.js";

export class PoolAlreadyExistsError extends Error {
  override readonly name = "PoolAlreadyExistsError" as const;
  constructor(readonly poolId: string) {
    super(`pool "${poolId}" already exists`);
  }
}

export class DynamoDbPoolStore implements PoolStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(poolId: string): Promise<Pool | undefined> {
    const [item, defaultId] = await Promise.all([this.getItem(Keys.pool(poolId)), this.defaultPoolId()]);
    return item === undefined ? undefined : toPool(item, defaultId);
  }

  async getDefault(): Promise<Pool | undefined> {
    const defaultId = await this.defaultPoolId();
    if (defaultId === undefined) return undefined;
    const item = await this.getItem(Keys.pool(defaultId));
    return item === undefined ? undefined : toPool(item, defaultId);
  }

  async list(): Promise<Pool[]> {
    const defaultId = await this.defaultPoolId();
    const pools: Pool[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ ...buildListPoolsQuery(this.table), ExclusiveStartKey: start }),
      );
      pools.push(...(page.Items ?? []).map((item) => toPool(item, defaultId)));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return pools.sort((a, b) => a.id.localeCompare(b.id));
  }

  async create(poolId: string, settings: PoolSettings): Promise<Pool> {
    const claimDefault = (await this.defaultPoolId()) === undefined;
    try {
      await sendTransaction(
        this.doc,
        buildCreatePoolTransaction(this.table, poolId, settings, this.now(), claimDefault),
      );
    } catch (error) {
      if (!(error instanceof TransactionConditionFailed)) throw error;
      if (error.failedAt(0)) throw new PoolAlreadyExistsError(poolId);
      // Another pool claimed the default first: create this one without the claim.
      await sendTransaction(this.doc, buildCreatePoolTransaction(this.table, poolId, settings, this.now(), false));
    }
    const pool = await this.get(poolId);
    if (pool === undefined) throw new PoolNotFoundError(poolId);
    return pool;
  }

  async update(poolId: string, settings: Partial<PoolSettings>): Promise<Pool> {
    const checked = PoolSettings.partial().parse(settings);
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand(buildUpdatePoolRequest(this.table, poolId, checked, this.now())),
      );
      return toPool(Attributes ?? {}, await this.defaultPoolId());
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new PoolNotFoundError(poolId);
      throw error;
    }
  }

  async setDefault(poolId: string): Promise<void> {
    try {
      await sendTransaction(this.doc, buildSetDefaultTransaction(this.table, poolId, this.now()));
    } catch (error) {
      if (error instanceof TransactionConditionFailed && error.failedAt(0)) throw new PoolNotFoundError(poolId);
      throw error;
    }
  }

  private async defaultPoolId(): Promise<string | undefined> {
    const item = await this.getItem(Keys.defaultPool());
    return typeof item?.poolId === "string" ? item.poolId : undefined;
  }

  private async getItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return Item;
  }
}

function toPool(item: Record<string, unknown>, defaultId: string | undefined): Pool {
  const settings = PoolSettings.parse(item);
  const id = String(item.id);
  return { id, ...settings, isDefault: id === defaultId };
}
