'use strict';
// Verifies a Sigstore bundle with sigstore's verify, its trusted root fetched over TUF:
//   node verify.js --tuf-mirror URL --tuf-root FILE --tuf-cache DIR --bundle FILE
//     (--certificate-identity-email EMAIL --certificate-oidc-issuer URL | --key PEMFILE) [FILE]
// FILE is the signed file of a message signature bundle; a DSSE bundle is verified alone. On
// success it prints the signer's identity (or key) as JSON.
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const { verify } = require('sigstore');
const { fail } = require('./fail');

async function main() {
  const { values, positionals } = parseArgs({
    options: {
      'tuf-mirror': { type: 'string' },
      'tuf-root': { type: 'string' },
      'tuf-cache': { type: 'string' },
      bundle: { type: 'string' },
      'certificate-identity-email': { type: 'string' },
      'certificate-oidc-issuer': { type: 'string' },
      key: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (!values['tuf-mirror'] || !values['tuf-root'] || !values['tuf-cache'] || !values.bundle || positionals.length > 1) {
    throw new Error('usage: verify.js --tuf-mirror URL --tuf-root FILE --tuf-cache DIR --bundle FILE (--certificate-identity-email EMAIL --certificate-oidc-issuer URL | --key PEMFILE) [FILE]');
  }
  const options = {
    tufMirrorURL: values['tuf-mirror'],
    tufRootPath: values['tuf-root'],
    tufCachePath: values['tuf-cache'],
    certificateIdentityEmail: values['certificate-identity-email'],
    certificateIssuer: values['certificate-oidc-issuer'],
  };
  if (values.key) {
    // A string, not a Buffer: sigstore-js reads a Buffer as DER and a string as PEM.
    const key = fs.readFileSync(values.key, 'utf8');
    options.keySelector = () => key;
  }
  const bundle = JSON.parse(fs.readFileSync(values.bundle, 'utf8'));
  const signer = positionals.length === 1
    ? await verify(bundle, fs.readFileSync(positionals[0]), options)
    : await verify(bundle, options);
  const out = signer.identity
    ? { subjectAlternativeName: signer.identity.subjectAlternativeName, issuer: signer.identity.extensions?.issuer }
    : { key: signer.key.export({ type: 'spki', format: 'pem' }) };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(fail);
