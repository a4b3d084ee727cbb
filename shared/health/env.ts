/** Environment variables of the health-check function beyond the shared ones (cdk/constructs/function.ts). */
export const HEALTH_ENV = {
  /** The SwitchoverDcToDr state machine, set only with `dr.autoSwitchover` on. */
  switchoverArn: 'SWITCHOVER_STATE_MACHINE_ARN',
} as const;
