import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

/** A certificate and its private key, PEM. */
export interface CertPair {
  cert: string;
  key: string;
}

export interface IssueOptions {
  /** IP addresses the certificate names (subjectAltName). */
  ips?: string[];
  /** DNS names the certificate names (subjectAltName). */
  dns?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

/** A certificate authority made at test time: give `caFile` to a worker as NODE_EXTRA_CA_CERTS. */
export interface TestCa {
  /** The CA certificate, PEM. */
  cert: string;
  /** A file holding `cert`, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** A leaf certificate signed by this CA. */
  issue(opts: IssueOptions): CertPair;
}

const DAY = 86_400_000;

function newKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  // node:crypto makes the key (fast, native); forge only builds and signs the certificates.
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function certificate(
  subject: string,
  publicKey: forge.pki.PublicKey,
  validity: { notBefore: Date; notAfter: Date },
  extensions: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setExtensions(extensions);
  return cert;
}

const altNames = (opts: IssueOptions) => ({
  name: 'subjectAltName',
  altNames: [
    ...(opts.dns ?? []).map((value) => ({ type: 2, value })),
    ...(opts.ips ?? []).map((ip) => ({ type: 7, ip })),
  ],
});

const leafValidity = (opts: IssueOptions) => ({
  notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
  notAfter: opts.notAfter ?? new Date(Date.now() + 30 * DAY),
});

/** A new CA (valid from yesterday for a year), its certificate written to a temporary file. */
export function makeTestCa(name = 'Switchyard Test CA'): TestCa {
  const ca = newKeys();
  const caCert = certificate(
    name,
    ca.publicKey,
    { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 365 * DAY) },
    [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  );
  caCert.setIssuer(caCert.subject.attributes);
  caCert.sign(ca.privateKey, forge.md.sha256.create());
  const cert = forge.pki.certificateToPem(caCert);
  const caFile = join(mkdtempSync(join(tmpdir(), 'sy-ca-')), 'ca.pem');
  writeFileSync(caFile, cert);
  return {
    cert,
    caFile,
    issue(opts) {
      const leaf = newKeys();
      const c = certificate('test leaf', leaf.publicKey, leafValidity(opts), [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        altNames(opts),
      ]);
      c.setIssuer(caCert.subject.attributes);
      c.sign(ca.privateKey, forge.md.sha256.create());
      return { cert: forge.pki.certificateToPem(c), key: forge.pki.privateKeyToPem(leaf.privateKey) };
    },
  };
}

/** A self-signed leaf (no CA anyone trusts issued it). */
export function selfSignedCert(opts: IssueOptions): CertPair {
  const keys = newKeys();
  const c = certificate('self-signed', keys.publicKey, leafValidity(opts), [
    { name: 'basicConstraints', cA: false },
    { name: 'extKeyUsage', serverAuth: true },
    altNames(opts),
  ]);
  c.setIssuer(c.subject.attributes);
  c.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** An HTTPS site serving one small HTML page on every path with the given certificate. */
export interface TlsSite {
  url: string;
  hits: number;
  close(): Promise<void>;
}

export async function startTlsSite(opts: { host: string; pair: CertPair }): Promise<TlsSite> {
  const site = { hits: 0 };
  const server: Server = createServer({ cert: opts.pair.cert, key: opts.pair.key }, (_req, res) => {
    site.hits++;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>TLS page</title><p>Served over TLS.</p>');
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://${opts.host}:${port}`,
    get hits() {
      return site.hits;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
