/**
 * HTTPS: the certificate chain and key from --tls-cert / --tls-key, checked before the server
 * listens, and reloaded in place on SIGHUP (tls.Server#setSecureContext: connections already open
 * keep the old certificate, new ones get the new one; nothing is dropped).
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from './config.ts';

export interface TlsFiles {
  cert: string;
  key: string;
}

/** Reads and checks the pair; a problem is a ConfigError of one line naming the file and the fix. */
export function loadTls(files: TlsFiles): Required<Pick<SecureContextOptions, 'cert' | 'key'>> {
  const read = (flag: string, file: string, what: string) => {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch (e) {
      throw new ConfigError(`--${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a PEM file holding ${what}`);
    }
    if (!text.includes('-----BEGIN ')) throw new ConfigError(`--${flag} ${file}: not a PEM file; give a PEM file holding ${what}`);
    return text;
  };
  const cert = read('tls-cert', files.cert, 'the certificate chain (the server certificate first)');
  const key = read('tls-key', files.key, 'the private key of the certificate');
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    const why = (e as Error).message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '');
    throw new ConfigError(
      /mismatch/i.test(why)
        ? `--tls-key ${files.key}: does not belong to the certificate in --tls-cert ${files.cert}; give the key the certificate was issued for`
        : `--tls-cert ${files.cert} / --tls-key ${files.key}: not a usable certificate and key (${why}); give PEM files of a certificate and its private key`,
    );
  }
  return { cert, key };
}

/** Both or neither: half a TLS setting is a mistake, not plain HTTP. */
export function tlsFilesOf(config: { tlsCert?: string; tlsKey?: string }): TlsFiles | undefined {
  if (config.tlsCert === undefined && config.tlsKey === undefined) return undefined;
  if (config.tlsCert === undefined) throw new ConfigError('--tls-key is set without --tls-cert: give both to serve HTTPS, or neither for plain HTTP');
  if (config.tlsKey === undefined) throw new ConfigError('--tls-cert is set without --tls-key: give both to serve HTTPS, or neither for plain HTTP');
  return { cert: config.tlsCert, key: config.tlsKey };
}
