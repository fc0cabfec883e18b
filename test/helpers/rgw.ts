import { execFileSync } from 'node:child_process';

export interface RgwConfig {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The cluster's ceph.conf, for radosgw-admin (DATACTL_TEST_RGW_CEPH_CONF; CI sets it). */
  cephConf?: string;
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
  const cephConf = env.DATACTL_TEST_RGW_CEPH_CONF || undefined;
  return { endpoint, accessKeyId, secretAccessKey, region: env.DATACTL_TEST_RGW_REGION || 'us-east-1', ...(cephConf ? { cephConf } : {}) };
}

/** Run radosgw-admin against the test cluster (quotas and such, which S3 has no call for). */
export function rgwAdmin(rgw: RgwConfig, ...args: string[]): string {
  if (!rgw.cephConf) throw new Error('DATACTL_TEST_RGW_CEPH_CONF is not set');
  return execFileSync('radosgw-admin', ['-c', rgw.cephConf, ...args], { encoding: 'utf8', timeout: 60_000 });
}
