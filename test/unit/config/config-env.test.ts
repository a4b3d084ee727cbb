import { configFromEnv, resetConfigCache } from '../../../shared/config/load.js';
import { ConfigError } from '../../../shared/errors.js';

afterEach(() => resetConfigCache());

test('a CPE_FAILOVER_CONFIG that is not JSON is a ConfigError naming the variable, not a SyntaxError', () => {
  const error = (() => {
    try {
      configFromEnv({ CPE_FAILOVER_CONFIG: '{"env": "prod",' });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message).toMatch(/CPE_FAILOVER_CONFIG=.*expected the configuration as JSON \(/);
});

test('a missing CPE_FAILOVER_CONFIG names the variable', () => {
  expect(() => configFromEnv({})).toThrow(
    /CPE_FAILOVER_CONFIG=undefined: expected the configuration as JSON/,
  );
});
