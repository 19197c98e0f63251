/**
 * An HTTPS proxy on 127.0.0.1 that connects nowhere: a client told to use it (HTTPS_PROXY)
 * asks it to CONNECT to a host such as www.googleapis.com:443, and the proxy answers the TLS
 * itself, with a certificate for that host issued by a certificate authority made for the test
 * (the child process trusts it through NODE_EXTRA_CA_CERTS), then hands the requests to a local
 * server. So a client that talks to Google's fixed addresses (the service-account token
 * endpoint, storage.googleapis.com) reaches only the local fakes; a CONNECT to any other host,
 * or a plain proxied request, is refused and recorded.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, TLSSocket } from 'node:tls';
import { scratchFolder } from './scratch-db.js';

// DER, as much of it as a certificate needs.
const length = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const integer = (bytes: Buffer) => tlv(0x02, (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [a * 40 + b];
  for (const n of rest) {
    const sevens: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      sevens.unshift((v % 128) | (sevens.length ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...sevens);
  }
  return tlv(0x06, Buffer.from(out));
};
const utcTime = (d: Date) => tlv(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`, 'ascii'));
const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));

interface Issued {
  pem: string;
  key: KeyObject;
}

/** An X.509 v3 certificate (P-256, ECDSA with SHA-256): a CA's own, or a server's for `hosts`. */
function certificate(subject: string, issuer: { cn: string; key: KeyObject } | 'self', hosts: string[] = []): Issued {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = issuer === 'self';
  const now = Date.now();
  const extensions = ca
    ? [extension('2.5.29.19', true, seq(tlv(0x01, Buffer.from([0xff])))), extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x01, 0x06])))]
    : [
        extension('2.5.29.19', true, seq()),
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))),
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
        extension('2.5.29.17', false, seq(...hosts.map((h) => tlv(0x82, Buffer.from(h, 'ascii'))))),
      ];
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    ecdsaWithSha256,
    name(ca ? subject : issuer.cn),
    seq(utcTime(new Date(now - 86_400_000)), utcTime(new Date(now + 86_400_000))),
    name(subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, ca ? privateKey : issuer.key);
  const der = seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.from([0]), signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').trimEnd()}\n-----END CERTIFICATE-----\n`;
  return { pem, key: privateKey };
}

export interface HttpsProxy {
  /** The proxy's URL (HTTPS_PROXY). */
  url: string;
  /** The test CA's certificate (NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** The hosts the clients asked for, in order (host:port). */
  connects: string[];
  /** What was refused: a CONNECT to a host not routed here, or a plain proxied request. */
  refused: string[];
  close(): Promise<void>;
}

/** A proxy answering TLS for each host in `routes` and passing its requests to the local server at the URL given. */
export async function startHttpsProxy(routes: Record<string, string>): Promise<HttpsProxy> {
  const ca = certificate('syncwright test CA', 'self');
  const leaf = certificate('syncwright test server', { cn: 'syncwright test CA', key: ca.key }, Object.keys(routes));
  const context = createSecureContext({ cert: leaf.pem + ca.pem, key: leaf.key.export({ type: 'pkcs8', format: 'pem' }) });
  const folder = scratchFolder('syncwright-ca-');
  const caFile = join(folder.dir, 'ca.pem');
  writeFileSync(caFile, ca.pem);
  const connects: string[] = [];
  const refused: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    refused.push(`${req.method} ${req.url}`);
    res.writeHead(403).end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = /^([^:]+):443$/.exec(req.url ?? '')?.[1];
    const local = target ? routes[target] : undefined;
    if (!local) {
      refused.push(`CONNECT ${req.url}`);
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    connects.push(req.url as string);
    const { port } = new URL(local);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) client.unshift(head);
    const tls = new TLSSocket(client, { isServer: true, secureContext: context });
    const upstream = connect(Number(port), '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    tls.pipe(upstream).pipe(tls);
    const end = () => {
      tls.destroy();
      upstream.destroy();
    };
    tls.on('error', end);
    upstream.on('error', end);
    client.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    caFile,
    connects,
    refused,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      folder.remove();
    },
  };
}
