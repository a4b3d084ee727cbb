/**
 * The deployed functions' wiring of the shared Meraki request budget: built from the environment
 * as a Lambda container builds it (CPE_FAILOVER_CONFIG, TABLE_NAME), the failover/console
 * directors and the health check's directors reserve from the one item of the state table.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { API_KEY_ENV } from '../../../shared/director/secrets.js';
import { failoverDepsFromEnv } from '../../../shared/failover/runtime.js';
import { createHealthRunDepsFromEnv } from '../../../shared/health/deps.js';
import { keys } from '../../../shared/store/table.js';
import { DEFAULT_SIM_HUBS, generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { createMerakiSimulator, type MerakiSimulator } from '../../../local/simulator/meraki/server.js';
import { createTestTable, type TestTable } from '../../helpers/ddb.js';

describe('every function that calls the Dashboard reserves from the state table', () => {
  let table: TestTable;
  let sim: MerakiSimulator;
  const saved = { ...process.env };

  beforeAll(async () => {
    table = await createTestTable('budget-wiring');
    sim = await createMerakiSimulator({
      organizations: [generateOrganization({ id: 'o1', networks: 3 })],
      rateLimit: false,
    });
    process.env.CPE_FAILOVER_CONFIG = JSON.stringify({
      env: 'test',
      director: {
        kind: 'meraki',
        baseUrl: sim.baseUrl,
        secretName: 'unused (the test key is in the environment)',
        organizations: [{ id: 'o1', hubs: [...DEFAULT_SIM_HUBS] }],
      },
    });
    process.env.TABLE_NAME = table.tableName;
    process.env.TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:notices';
    process.env[API_KEY_ENV] = sim.apiKey;
  });
  afterAll(async () => {
    process.env = saved;
    await sim.close();
    await table.drop();
  });

  const budgetVersion = async (): Promise<number | undefined> => {
    const { Item } = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.budget('meraki#o1'), ConsistentRead: true }),
    );
    return Item?.version as number | undefined;
  };

  it('the failover and console functions (failoverDepsFromEnv)', async () => {
    expect(await budgetVersion()).toBeUndefined();
    const deps = failoverDepsFromEnv(process.env);
    expect(await deps.directors.DC.listCpes('o1')).not.toHaveLength(0);
    expect(await budgetVersion()).toBeGreaterThanOrEqual(1);
  });

  it('the health check (createHealthRunDepsFromEnv)', async () => {
    const before = (await budgetVersion()) ?? 0;
    const deps = createHealthRunDepsFromEnv(process.env);
    expect(await deps.directors.DC?.listCpes('o1')).not.toHaveLength(0);
    expect(await budgetVersion()).toBeGreaterThan(before);
  });
});
