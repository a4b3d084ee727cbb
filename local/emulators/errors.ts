import { CpeFailoverError } from '../../shared/errors.js';

/** No usable Java runtime (17+) for DynamoDB Local. The message says how to install one. */
export class JavaMissingError extends CpeFailoverError {}

/** An emulator did not start (jar missing, process exited, not ready in time). */
export class EmulatorStartError extends CpeFailoverError {}
