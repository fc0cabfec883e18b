export interface RgwConfig {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/**
 * The Ceph RGW to test against, from DATACTL_TEST_RGW_ENDPOINT / _ACCESS_KEY / _SECRET_KEY
 * (CI starts it with ../shared/tools/ceph-rgw-up.sh and exports them); undefined when unset.
 */
export function rgwFromEnv(env: NodeJS.ProcessEnv = process.env): RgwConfig | undefined {
  const endpoint = env.DATACTL_TEST_RGW_ENDPOINT;
  const accessKeyId = env.DATACTL_TEST_RGW_ACCESS_KEY;
  const secretAccessKey = env.DATACTL_TEST_RGW_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) return undefined;
  return { endpoint, accessKeyId, secretAccessKey, region: env.DATACTL_TEST_RGW_REGION || 'us-east-1' };
}
