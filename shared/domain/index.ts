/** The pure domain's public API: model, inventory, health hysteresis, election, monitor, plans. */
export * from './model.js';
export * from './health.js';
export * from './inventory.js';
export * from './election.js';
export * from './monitor.js';
export * from './plan.js';
export * from './blindness.js';
export * from './director-loss.js';
