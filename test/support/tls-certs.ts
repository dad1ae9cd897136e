/**
 * Test certificates generated with the openssl CLI on first use (cached per
 * process), so nothing expires in the repository.
 *
 * - `selfSigned`: a self-signed EC certificate for IP 127.0.0.1 and DNS
 *   localhost; passing it as `ca` makes it trusted.
 * - `wrongName`: self-signed, valid only for DNS camera.example (altname mismatch on 127.0.0.1).
 * - `clientCa` + `client`: a CA and a client certificate it signed, for mutual TLS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export interface TestCerts {
  selfSigned: CertPair;
  wrongName: CertPair;
  clientCa: CertPair;
  client: CertPair;
}

const DAYS = '2';
let cached: TestCerts | undefined;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function selfSignedCert(dir: string, name: string, subject: string, san: string): CertPair {
  openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', DAYS, '-subj', subject,
      '-addext', `subjectAltName=${san}`,
    ],
    dir,
  );
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

export function testCerts(): TestCerts {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'http-test-certs-'));
  try {
    const selfSigned = selfSignedCert(dir, 'server', '/CN=127.0.0.1', 'IP:127.0.0.1,DNS:localhost');
    const wrongName = selfSignedCert(dir, 'wrong', '/CN=camera.example', 'DNS:camera.example');
    const clientCa = selfSignedCert(dir, 'clientca', '/CN=Test Client CA', 'DNS:client-ca.test');
    openssl(
      ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=node-red'],
      dir,
    );
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl(
      ['x509', '-req', '-in', 'client.csr', '-CA', 'clientca.crt', '-CAkey', 'clientca.key', '-CAcreateserial',
        '-out', 'client.crt', '-days', DAYS, '-extfile', 'client.ext'],
      dir,
    );
    const client = { cert: readFileSync(join(dir, 'client.crt'), 'utf8'), key: readFileSync(join(dir, 'client.key'), 'utf8') };
    cached = { selfSigned, wrongName, clientCa, client };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
