import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp.js';

/** Paths of a certificate and its key. */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** the CA the gateway trusts (`cloud.ca_file`) */
  ca: string;
  /** broker certificate for 127.0.0.1 and localhost, signed by the CA */
  server: CertFiles;
  /** broker certificate signed by the CA but for another name (cloud.example) */
  otherName: CertFiles;
  /** broker certificate for 127.0.0.1 signed by a CA the gateway does not know */
  rogue: CertFiles;
  /** the gateway's client certificate (CN gw-tls), signed by the CA */
  client: CertFiles;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A key and a certificate signed by `ca` (or self-signed when `ca` is undefined), P-256, one day. */
function issue(dir: string, name: string, subject: string, ext: string, ca?: { cert: string; key: string }): CertFiles {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext}\n`);
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  if (!ca) {
    openssl(dir, ['req', '-x509', '-new', '-key', key, '-subj', subject, '-days', '1', '-out', cert]);
  } else {
    const csr = join(dir, `${name}.csr`);
    openssl(dir, ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      extFile,
      '-out',
      cert,
    ]);
  }
  // mosquitto drops to its own user after start; the test's keys must stay readable to it.
  chmodSync(key, 0o644);
  return { cert, key };
}

/** A throwaway PKI made with the openssl command line: a CA, broker and client certificates, and a rogue CA. */
export function makeTestPki(): TestPki {
  const dir = tempDir('portier-pki-');
  chmodSync(dir, 0o755);
  const ca = issue(dir, 'ca', '/CN=Portier Test CA', '');
  const rogueCa = issue(dir, 'rogue-ca', '/CN=Someone Else CA', '');
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth';
  return {
    dir,
    ca: ca.cert,
    server: issue(dir, 'server', '/CN=localhost', serverExt, ca),
    otherName: issue(dir, 'other', '/CN=cloud.example', 'subjectAltName=DNS:cloud.example', ca),
    rogue: issue(dir, 'rogue', '/CN=localhost', serverExt, rogueCa),
    client: issue(dir, 'client', '/CN=gw-tls', 'extendedKeyUsage=clientAuth', ca),
  };
}
