'use strict';
// Signs a file with @sigstore/sign through the services of a signing config and writes the
// Sigstore bundle JSON:
//   node sign.js --signing-config FILE --identity-token TOKEN --bundle OUT [--payload-type TYPE] FILE
// Without --payload-type the file is signed as a message signature; with it, the file is the
// payload of a DSSE envelope of that type.
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const { bundleBuilderFromSigningConfig } = require('@sigstore/sign');
const { bundleToJSON } = require('@sigstore/bundle');
const { SigningConfig } = require('@sigstore/protobuf-specs');
const { fail } = require('./fail');

async function main() {
  const { values, positionals } = parseArgs({
    options: {
      'signing-config': { type: 'string' },
      'identity-token': { type: 'string' },
      'payload-type': { type: 'string' },
      bundle: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (!values['signing-config'] || !values['identity-token'] || !values.bundle || positionals.length !== 1) {
    throw new Error('usage: sign.js --signing-config FILE --identity-token TOKEN --bundle OUT [--payload-type TYPE] FILE');
  }
  const signingConfig = SigningConfig.fromJSON(JSON.parse(fs.readFileSync(values['signing-config'], 'utf8')));
  const token = values['identity-token'];
  const dsse = values['payload-type'] !== undefined;
  const builder = bundleBuilderFromSigningConfig({
    signingConfig,
    identityProvider: { getToken: () => Promise.resolve(token) },
    bundleType: dsse ? 'dsseEnvelope' : 'messageSignature',
  });
  const artifact = { data: fs.readFileSync(positionals[0]) };
  if (dsse) {
    artifact.type = values['payload-type'];
  }
  const bundle = await builder.create(artifact);
  fs.writeFileSync(values.bundle, JSON.stringify(bundleToJSON(bundle)));
}

main().catch(fail);
