/** A run that cannot start: the message is one sentence, names what is wrong, and carries no secret value. */
export class SetupFailedError extends Error {
  override readonly name = "SetupFailedError" as const;
}
