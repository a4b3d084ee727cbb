/**
 * How the controller names itself to the directors it calls: `cpe-failover/<version> <vendor>`,
 * the form Meraki asks integrations to send (`ApplicationName/version VendorName`). The version
 * is a constant here, not read from package.json at run time (a bundled function has none); a
 * unit test fails when the two differ.
 */

/** The application name in the `User-Agent`. */
export const CONTROLLER_NAME = 'cpe-failover';

/** The controller's version: package.json's `version` (test/unit/director/http-identity.test.ts checks it). */
export const CONTROLLER_VERSION = '0.1.0';

/** The vendor when the configuration names none. */
export const DEFAULT_VENDOR = 'cpe-failover';

/** The `User-Agent` for a vendor (the MSP or team running the controller). */
export function controllerUserAgent(vendor: string = DEFAULT_VENDOR): string {
  return `${CONTROLLER_NAME}/${CONTROLLER_VERSION} ${vendor}`;
}
