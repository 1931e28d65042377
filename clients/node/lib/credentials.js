// Connection security for SluiceClient: TLS channel credentials from PEM files or buffers, and
// the bearer token (from `token` or `tokenFile`) sent as "authorization: Bearer TOKEN" on every
// call. Reads files synchronously, once, when the client is built.
//
// Errors: an unreadable file, a token file without a token, or `cert` without `key` throw an
// Error naming the option, the file and the fix.
'use strict';

const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');

// A PEM given as a Buffer, as PEM text, or as the path of a file holding it.
function readPem(value, option) {
  if (value === undefined || value === null) return null;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string') throw new TypeError(`${option} must be a file path or a Buffer`);
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  try {
    return fs.readFileSync(value);
  } catch (err) {
    throw new Error(`sluice client: ${option} ${value}: cannot read the file (${err.code ?? err})`);
  }
}

// The first word of the first line that is neither empty nor a # comment: the server's token
// file ("TOKEN ROLE" lines) works as is, like sluicectl --token-file.
function readTokenFile(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`sluice client: tokenFile ${file}: cannot read the file (${err.code ?? err})`);
  }
  for (const line of text.split('\n')) {
    const word = line.trim().split(/\s+/)[0];
    if (word && !word.startsWith('#')) return word;
  }
  throw new Error(`sluice client: tokenFile ${file} holds no token; write the token on a line`);
}

// {ca, cert, key, tls} -> grpc-js ChannelCredentials. TLS is used when any of them is given.
function channelCredentials(options) {
  const ca = readPem(options.ca, 'ca');
  const cert = readPem(options.cert, 'cert');
  const key = readPem(options.key, 'key');
  if ((cert === null) !== (key === null)) {
    throw new Error('sluice client: cert and key go together: give both for a client certificate');
  }
  if (!options.tls && ca === null && cert === null) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(ca, key, cert);
}

// The bearer token, or null.
function bearerToken(options) {
  if (options.token !== undefined && options.tokenFile !== undefined) {
    throw new Error('sluice client: give token or tokenFile, not both');
  }
  if (options.token !== undefined) {
    if (typeof options.token !== 'string' || options.token === '') {
      throw new TypeError('token must be a non-empty string');
    }
    return options.token;
  }
  return options.tokenFile === undefined ? null : readTokenFile(options.tokenFile);
}

module.exports = {channelCredentials, bearerToken};
