// A DPoP client: its own ES256 key, a bound token from the provider, then requests to the
// API with proofs made by the `dpop` package. Prints one line per check; exits 1 on the
// first unexpected answer.
// Usage: node client.mjs ISSUER API_BASE
import { generateKeyPair, generateProof as DPoP } from 'dpop';

const [issuer, api] = process.argv.slice(2);
const keys = await generateKeyPair('ES256');
const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const tokenEndpoint = metadata.token_endpoint;

const tokenResponse = await fetch(tokenEndpoint, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    dpop: await DPoP(keys, tokenEndpoint, 'POST'),
  },
  body: new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: 'interop-client',
    client_secret: 'interop-secret',
    scope: 'read:orders',
  }),
});
const token = await tokenResponse.json();
let failed = false;
const expect = (name, got, want) => {
  const ok = got === want;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${got}${ok ? '' : ` (want ${want})`}`);
  if (!ok) failed = true;
};
expect('token endpoint status', tokenResponse.status, 200);
expect('token_type', token.token_type, 'DPoP');
if (tokenResponse.status !== 200) process.exit(1);

const orders = `${api}/api/orders`;
const call = (authorization, proof) =>
  fetch(orders, { headers: { authorization, ...(proof ? { dpop: proof } : {}) } });
const proof = await DPoP(keys, orders, 'GET', undefined, token.access_token);
expect('DPoP token with a proof', (await call(`DPoP ${token.access_token}`, proof)).status, 200);
expect('the same proof again', (await call(`DPoP ${token.access_token}`, proof)).status, 401);
const another = await DPoP(keys, orders, 'GET', undefined, token.access_token);
expect('a fresh proof', (await call(`DPoP ${token.access_token}`, another)).status, 200);
expect('the bound token as Bearer', (await call(`Bearer ${token.access_token}`)).status, 401);
const elsewhere = await DPoP(keys, `${api}/api/products`, 'GET', undefined, token.access_token);
expect('a proof for another URL', (await call(`DPoP ${token.access_token}`, elsewhere)).status, 401);
const stranger = await DPoP(await generateKeyPair('ES256'), orders, 'GET', undefined, token.access_token);
expect('a proof by another key', (await call(`DPoP ${token.access_token}`, stranger)).status, 401);
const noAth = await DPoP(keys, orders, 'GET');
expect('a proof without ath', (await call(`DPoP ${token.access_token}`, noAth)).status, 401);
process.exit(failed ? 1 : 0);
