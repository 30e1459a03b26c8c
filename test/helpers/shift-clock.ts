/**
 * A vitest setup file: with SENTRY_MEMORY_TEST_CLOCK_SHIFT_DAYS set, the test process's wall clock
 * (`Date.now()`, `new Date()`) runs that many days ahead. `.ci/run` runs the agent-question and search
 * tests once a year ahead, so a test whose expectation silently depends on today's date fails on the
 * day it is written rather than weeks later. Only the tests read this variable; the product never does.
 */
const days = Number(process.env.SENTRY_MEMORY_TEST_CLOCK_SHIFT_DAYS ?? 0);
if (!Number.isFinite(days))
  throw new Error(
    `SENTRY_MEMORY_TEST_CLOCK_SHIFT_DAYS must be a number of days, got "${process.env.SENTRY_MEMORY_TEST_CLOCK_SHIFT_DAYS}"`,
  );
if (days) {
  const shiftMs = days * 86_400_000;
  const SystemDate = Date;
  class ShiftedDate extends SystemDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      if (args.length === 0) super(SystemDate.now() + shiftMs);
      else super(...(args as ConstructorParameters<DateConstructor>));
    }
    static override now(): number {
      return SystemDate.now() + shiftMs;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
