// AWS error names the code reacts to, by name only (no SDK import), so any layer may test for them.

const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
]);

/** True for the errors that mean "AWS is shedding load; try again shortly". */
export function isThrottle(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return !!name && THROTTLE_NAMES.has(name);
}

export function isConditionalFailure(e: unknown): boolean {
  return (e as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
